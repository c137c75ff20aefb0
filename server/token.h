/*
 * token: API tokens. A token is "hl_" + 48 hex digits from getrandom() (192 bits);
 * only its SHA-256 is stored, so a database dump reveals no usable token.
 */
#ifndef HOTLINE_TOKEN_H
#define HOTLINE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_LEN 51       /* "hl_" + 48 hex digits */
#define TOKEN_HASH_HEX 64
#define TRACK_CODE_LEN 6   /* a case's tracking code (提取码): decimal digits */

/* Make a fresh token into out (TOKEN_LEN + 1 bytes). False when the kernel gives no randomness. */
bool token_generate(char out[TOKEN_LEN + 1]) __attribute__((warn_unused_result));
/* A case's tracking code: TRACK_CODE_LEN uniform random digits from getrandom(), into out.
 * False when the kernel gives no randomness. */
bool token_track_code(char out[TRACK_CODE_LEN + 1]) __attribute__((warn_unused_result));
/* The stored form: "\\x" + hex SHA-256, as a bytea literal (out: TOKEN_HASH_HEX + 3 bytes). */
void token_hash_literal(const char *token, char out[TOKEN_HASH_HEX + 3]);
/* True when the header value is a plausible token (shape only), so junk never reaches SQL. */
bool token_well_formed(const char *token);
/* Compare two equal-length strings without an early exit. */
bool token_equal_ct(const char *a, const char *b, size_t len);

#endif
