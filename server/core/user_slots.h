/*
 * user_slots: at most `per_user` things at once per user (the searches and reports of one user
 * in the slow-read lane), among at most `users_max` users holding any.
 * Pure and bounded: a small array searched linearly (holders are few: those with a slow read
 * in flight).
 */
#ifndef HOTLINE_CORE_USER_SLOTS_H
#define HOTLINE_CORE_USER_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct UserSlots UserSlots;

/* NULL on OOM. */
UserSlots *user_slots_new(size_t users_max, int per_user);
void user_slots_free(UserSlots *us);
/* Take a slot for user; false when it holds per_user already, or users_max users hold some. */
bool user_slots_take(UserSlots *us, int64_t user) __attribute__((warn_unused_result));
/* Give back one slot user took. */
void user_slots_release(UserSlots *us, int64_t user);

#endif
