/* sha256: FIPS 180-4 SHA-256, for token hashes and idempotency request hashes. */
#ifndef HOTLINE_CORE_SHA256_H
#define HOTLINE_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32

/* Hash len bytes of data into out (32 bytes). */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);
/* Hash into lower-case hex, out must hold 65 bytes (NUL-terminated). */
void sha256_hex(const void *data, size_t len, char out[2 * SHA256_DIGEST_LEN + 1]);

#endif
