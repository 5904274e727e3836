/* SPDX-License-Identifier: GPL-2.0 OR MPL-1.1 */
/*
 * What the C benchmark and its peers share: a monotonic clock, and the
 * figure lines internal/bench reads from them,
 *
 *   figure<TAB>NAME<TAB>UNIT<TAB>SAMPLE SAMPLE ...
 *
 * each sample one call of the measurement.
 */
#ifndef BENCH_FIGURES_H
#define BENCH_FIGURES_H

#include <stdio.h>
#include <time.h>

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Prints @f(@arg) measured @repeats times as the figure @name in @unit. */
static inline void figure(const char *name, const char *unit, double (*f)(int), int arg, int repeats)
{
	int r;

	printf("figure\t%s\t%s\t", name, unit);
	for (r = 0; r < repeats; r++)
		printf("%s%.3f", r ? " " : "", f(arg));
	printf("\n");
	fflush(stdout);
}

#endif
