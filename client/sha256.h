/*
 * sha256: FIPS 180-4 SHA-256, for the import command's idempotency keys.
 */
#ifndef HOTLINE_CLIENT_SHA256_H
#define HOTLINE_CLIENT_SHA256_H

#include <stddef.h>

/* The SHA-256 of data as 64 lower-case hex digits and a NUL in hex. */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
