/* fuzz_fields.c - libFuzzer target for the field parsers of outside input:
 * money and decimals (src/core/money.c) and dates (src/core/tstamp.c).
 * Checks: no crash or UB; a parsed amount prints and parses back to itself;
 * a parsed time formats and parses back to itself. */
#include <stdint.h>
#include <string.h>

#include "core/money.h"
#include "core/tstamp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static const char *const formats[] = {
	"%Y%m%d", "%d/%m/%Y %H:%M", "%b %e %Y %I:%M %p", "%F %T%z", "%y-%m-%d %H:%M:%S.%f",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int64_t v, w, t, u;
	char buf[64];
	const char *why;
	if (money_parse(s, size, '.', &v) == 0) {
		size_t n = money_format_exact(v, buf);
		CHECK(money_parse(buf, n, '.', &w) == 0 && w == v);
	}
	money_parse(s, size, ',', &v);
	int_parse(s, size, &v);
	if (ts_parse_iso(s, size, &t, &why) == 0) {
		size_t n = ts_format(t, 0, buf);
		CHECK(ts_parse_iso(buf, n, &u, &why) == 0 && u == t);
	}
	for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++)
		ts_parse_fmt(formats[k], s, size, &t, &why);
	/* the input as a format of its own, applied to itself */
	if (size < 64) {
		memcpy(buf, s, size);
		buf[size] = '\0';
		if (strlen(buf) == size && ts_check_fmt(buf) == 0)
			ts_parse_fmt(buf, s, size, &t, &why);
	}
	return 0;
}
