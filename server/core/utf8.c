/* utf8: strict UTF-8, following the well-formed byte table of RFC 3629 (see utf8.h). */
#include "core/utf8.h"

#include <string.h>

static bool is_continuation(uint8_t b);
static size_t utf8_sequence(const uint8_t *p, size_t avail);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
utf8_validate(const char *s, size_t len, size_t *nchars)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t count = 0;

	while (len > 0) {
		size_t n = utf8_sequence(p, len);

		if (n == 0 || p[0] == 0x00)
			return false;
		p += n;
		len -= n;
		count++;
	}
	if (nchars)
		*nchars = count;
	return true;
}

size_t
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	static const uint8_t lead_bits[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
	const uint8_t *p = (const uint8_t *)s;
	size_t n = utf8_sequence(p, len);
	uint32_t v;

	if (n == 0)
		return 0;
	v = p[0] & lead_bits[n];
	for (size_t i = 1; i < n; i++)
		v = v << 6 | (p[i] & 0x3F);
	*cp = v;
	return n;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	char tmp[4];
	char *o = out ? out : tmp;

	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t
utf8_prefix(const char *s, size_t max)
{
	size_t n = strnlen(s, max), start = n;

	if (n < max || n == 0)
		return n;
	/* Step back over continuation bytes to the lead byte of the last character. */
	while (start > 0 && ((unsigned char)s[start - 1] & 0xC0) == 0x80)
		start--;
	if (start == 0)
		return 0;
	start--;
	unsigned char lead = (unsigned char)s[start];
	size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;

	return n - start >= need ? n : start;
}

/*
 *********************************
 * Helpers
 *********************************
 */

static bool
is_continuation(uint8_t b)
{
	return (b & 0xC0) == 0x80;
}

/*
 * Length of the well-formed sequence starting at p, or 0 when it is not one.
 * The second byte's range depends on the lead byte: that is where overlong forms
 * (E0, F0), surrogates (ED) and code points above U+10FFFF (F4) are refused.
 */
static size_t
utf8_sequence(const uint8_t *p, size_t avail)
{
	uint8_t lead = p[0];
	uint8_t lo = 0x80, hi = 0xBF;
	size_t n;

	if (lead < 0x80)
		return 1;
	if (lead >= 0xC2 && lead <= 0xDF)
		n = 2;
	else if (lead >= 0xE0 && lead <= 0xEF)
		n = 3;
	else if (lead >= 0xF0 && lead <= 0xF4)
		n = 4;
	else
		return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */

	if (lead == 0xE0)
		lo = 0xA0;
	else if (lead == 0xED)
		hi = 0x9F;
	else if (lead == 0xF0)
		lo = 0x90;
	else if (lead == 0xF4)
		hi = 0x8F;

	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) {
		if (!is_continuation(p[i]))
			return 0;
	}
	return n;
}
