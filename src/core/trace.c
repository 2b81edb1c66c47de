/* trace.c - phase timings for benchmarks (core layer). */
#include "core/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
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
	static long last_flt;
	if (on < 0)
		on = getenv("CRMSCOPE_TRACE") != NULL;
	if (!on)
		return;
	double t = mono_s();
	if (first == 0)
		first = last = t;
	/* the pages first touched since the last mark: on a VM, a fresh page
	 * can cost more than the work done in it */
	struct rusage ru;
	long flt = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : 0;
	fprintf(stderr, "trace %7.3f %7.3f %7ld %s\n", t - first, t - last, flt - last_flt, what);
	last = t;
	last_flt = flt;
}
