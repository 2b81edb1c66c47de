/* format.c - number formatting for terminal output (cli layer). */
#include "cli/cli.h"

#include "core/money.h"

void cli_thousands(int64_t n, char *buf)
{
	int_format_grouped(n, buf);
}
