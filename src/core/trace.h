/* trace.h - phase timings for benchmarks (core layer).
 * With CRMSCOPE_TRACE set in the environment, crm_trace("what") writes
 * "trace <seconds since the first mark> <seconds since the last> <CPU
 * seconds of every thread since the last> <page faults since the last>
 * what" to
 * standard error; without it, it does nothing but test a flag. For finding
 * where a command's time goes (bench/), never for tests. */
#ifndef CORE_TRACE_H
#define CORE_TRACE_H

void crm_trace(const char *what);

#endif
