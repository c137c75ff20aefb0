/*
 * aho: an Aho-Corasick multi-pattern matcher over UTF-8 text, with ASCII case folding.
 *
 * The automaton steps on Unicode code points decoded from the UTF-8 bytes (a Chinese
 * character is one step, not three). 'A'..'Z' fold to 'a'..'z'; nothing else folds. A
 * byte that does not start a valid, shortest-form UTF-8 sequence (a stray continuation
 * byte, a truncated sequence, an overlong form, a surrogate) is one symbol of its own,
 * in patterns and text alike. So for patterns that are valid UTF-8 (the router only
 * builds such) a pattern is found exactly when its bytes, ASCII-folded, occur in the
 * ASCII-folded text: UTF-8 is self-synchronising, so such an occurrence always starts
 * on a character boundary. With aho_builder_ascii_words, a pattern made only of ASCII
 * letters and digits (an ASCII word, up to 255 bytes: "KTV", "5A") is found only where
 * the text has no ASCII letter or digit right before or right after it ("5A级景区" holds
 * "5A", "f35a454a8f" does not).
 *
 * Life cycle:
 *   AhoBuilder *b = aho_builder_new();
 *   aho_builder_add(b, "停水", strlen("停水"), &id);   // ids are 0, 1, 2 ... per distinct pattern
 *   Aho *a = aho_builder_finish(b);                    // b is consumed
 *   uint64_t seen[aho_seen_words(a)] = {0};            // one bit per pattern id
 *   aho_scan(a, text, len, seen);                      // sets the bit of every pattern found
 *   aho_free(a);
 *
 * An Aho is immutable once built: any number of threads may scan it at once, each with
 * its own `seen` set. Memory: 24 bytes per trie node (one node per distinct prefix, in
 * characters), plus 32 bytes per child of the few wide nodes (hashed).
 */
#ifndef HOTLINE_CORE_AHO_H
#define HOTLINE_CORE_AHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct AhoBuilder AhoBuilder;
typedef struct Aho Aho;

/* A new empty builder, or NULL when out of memory. Free it with aho_builder_finish
 * (which builds) or aho_builder_free (which does not). */
AhoBuilder *aho_builder_new(void);

/* From now on, patterns that are ASCII words match only as whole ASCII words (see the
 * top of this file); off by default. */
void aho_builder_ascii_words(AhoBuilder *b, bool on);

/* Add one pattern of len bytes (no terminating NUL needed). Patterns equal after ASCII
 * folding share one id: *id receives the existing id then. New ids are dense, starting
 * at 0, in the order of first addition. Returns false, leaving the builder as it was,
 * for an empty pattern or when out of memory. */
bool aho_builder_add(AhoBuilder *b, const char *pattern, size_t len, uint32_t *id)
	__attribute__((warn_unused_result));

/* Build the automaton. Always frees b (also on failure). Returns NULL when out of
 * memory. The caller owns the result and frees it with aho_free. A builder without any
 * pattern gives a valid automaton that finds nothing. */
Aho *aho_builder_finish(AhoBuilder *b);

/* Discard a builder without building. NULL is allowed. */
void aho_builder_free(AhoBuilder *b);

/* Free an automaton. NULL is allowed. */
void aho_free(Aho *a);

/* Number of distinct patterns (ids are 0 .. count-1). */
uint32_t aho_pattern_count(const Aho *a);

/* Number of uint64_t words a `seen` set needs: ceil(count / 64), at least 1. */
size_t aho_seen_words(const Aho *a);

/* Scan len bytes of text (no NUL needed; NUL bytes are ordinary bytes). For every
 * pattern occurring in it, set bit id of seen (seen[id / 64] bit id % 64). Bits already
 * set stay set, so several texts can be scanned into one set; a match never spans two
 * calls. Returns the number of bits that this call newly set (distinct new patterns). */
size_t aho_scan(const Aho *a, const char *text, size_t len, uint64_t *seen);

/* True when pattern id is in seen. */
static inline bool
aho_seen_test(const uint64_t *seen, uint32_t id)
{
	return (seen[id >> 6] >> (id & 63)) & 1u;
}

#endif
