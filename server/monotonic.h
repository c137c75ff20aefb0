/* monotonic: the shell's one clock for deadlines and rates (never the wall clock). */
#ifndef HOTLINE_MONOTONIC_H
#define HOTLINE_MONOTONIC_H

/* Seconds since an arbitrary start, from CLOCK_MONOTONIC. */
double monotonic_seconds(void);

#endif
