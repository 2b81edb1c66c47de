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
	static double last_cpu;
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
	long flt = 0;
	double cpu = 0;   /* user and system time of every thread */
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		flt = ru.ru_minflt;
		cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
	}
	fprintf(stderr, "trace %7.3f %7.3f %7.3f %7ld %s\n", t - first, t - last, cpu - last_cpu,
		flt - last_flt, what);
	last = t;
	last_flt = flt;
	last_cpu = cpu;
}
