/* trace.c - phase timings for benchmarks (core layer). */
#include "core/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double mono_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void crm_trace(const char *what)
{
	static int on = -1;
	static double first, last;
	if (on < 0)
		on = getenv("CRMSCOPE_TRACE") != NULL;
	if (!on)
		return;
	double t = mono_s();
	if (first == 0)
		first = last = t;
	fprintf(stderr, "trace %7.3f %7.3f %s\n", t - first, t - last, what);
	last = t;
}
