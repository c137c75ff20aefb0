/*
 * loadgen_schedule: how many of an open-loop run's requests are due (bench/loadgen.c).
 *
 * Request n (0-based) is due at t0 + n / rate, so by `now` the first
 * floor((now - t0) * rate) + 1 are due, at most total; none before t0. A pure function so
 * that tests/unit/test_loadgen_schedule.c can check it: loadgen starts its clock 0.2 s after
 * opening its connections, and the count before t0 once wrapped around to "all of them",
 * which sent the first ~0.2 s worth of requests at full speed and scored them as answered
 * before they were due (a negative p50 in an 8 s run).
 */
#ifndef HOTLINE_BENCH_LOADGEN_SCHEDULE_H
#define HOTLINE_BENCH_LOADGEN_SCHEDULE_H

#include <math.h>
#include <stdint.h>

static inline uint64_t
schedule_due(double now, double t0, double rate, uint64_t total)
{
	double due;

	if (now < t0)
		return 0;
	due = floor((now - t0) * rate) + 1;
	return due >= (double)total ? total : (uint64_t)due;
}

#endif
