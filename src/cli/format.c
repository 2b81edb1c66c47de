/* format.c - number formatting for terminal output (cli layer). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

void cli_thousands(int64_t n, char *buf)
{
	char digits[32];
	int len = snprintf(digits, sizeof digits, "%lld", (long long)n);
	int neg = digits[0] == '-';
	int nd = len - neg, k = 0;
	if (neg)
		buf[k++] = '-';
	for (int i = 0; i < nd; i++) {
		buf[k++] = digits[neg + i];
		if ((nd - i - 1) % 3 == 0 && i < nd - 1)
			buf[k++] = ',';
	}
	buf[k] = '\0';
}
