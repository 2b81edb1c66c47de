/* cli.h - small helpers of the crmscope command (cli layer). */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdint.h>

/* Writes n with thousands separators ("1,234,567") into buf (32 bytes). */
void cli_thousands(int64_t n, char *buf);

#endif
