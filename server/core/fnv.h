/* fnv: the 64-bit FNV-1a hash of a string, for names and keys that need no secrecy. */
#ifndef HOTLINE_CORE_FNV_H
#define HOTLINE_CORE_FNV_H

#include <stdint.h>

uint64_t fnv1a64(const char *s);

#endif
