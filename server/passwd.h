/*
 * passwd: password hashes from libxcrypt: yescrypt with a fresh salt from crypt_gensalt,
 * checked with crypt_r. Both take tens of milliseconds by design: call them on a worker
 * thread (worker.h) or from a command-line tool, never on the event loop. Thread-safe.
 */
#ifndef HOTLINE_PASSWD_H
#define HOTLINE_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWD_HASH_MAX 128 /* a yescrypt hash is about 73 characters */

/* Hash password into out (PASSWD_HASH_MAX bytes). False when no salt or hash could be made. */
bool passwd_hash(const char *password, char out[PASSWD_HASH_MAX]) __attribute__((warn_unused_result));
/*
 * True when password matches hash. A NULL hash checks against a fixed hash of the same
 * cost and answers false, so an unknown login takes as long as a wrong password.
 */
bool passwd_verify(const char *password, const char *hash);

#endif
