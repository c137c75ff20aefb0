/* user_slots: see user_slots.h. An entry with no slot taken is free for any user. */
#include "core/user_slots.h"

#include <stdlib.h>

typedef struct Holder {
	int64_t user;
	int taken;
} Holder;

struct UserSlots {
	Holder *holders;
	size_t n;
	int per_user;
};

UserSlots *
user_slots_new(size_t users_max, int per_user)
{
	UserSlots *us = calloc(1, sizeof(*us));

	if (!us || !(us->holders = calloc(users_max, sizeof(Holder)))) {
		free(us);
		return NULL;
	}
	us->n = users_max;
	us->per_user = per_user;
	return us;
}

void
user_slots_free(UserSlots *us)
{
	if (us)
		free(us->holders);
	free(us);
}

bool
user_slots_take(UserSlots *us, int64_t user)
{
	Holder *free_one = NULL;

	for (size_t i = 0; i < us->n; i++) {
		Holder *h = &us->holders[i];

		if (h->taken > 0 && h->user == user) {
			if (h->taken >= us->per_user)
				return false;
			h->taken++;
			return true;
		}
		if (h->taken == 0 && !free_one)
			free_one = h;
	}
	if (!free_one)
		return false;
	*free_one = (Holder){user, 1};
	return true;
}

void
user_slots_release(UserSlots *us, int64_t user)
{
	for (size_t i = 0; i < us->n; i++) {
		if (us->holders[i].taken > 0 && us->holders[i].user == user) {
			us->holders[i].taken--;
			return;
		}
	}
}
