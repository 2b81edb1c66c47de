/* main.c - the crmscope command: parses the command line and dispatches. */
#include <stdio.h>
#include <string.h>

#include "crmscope.h"

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "crmscope: not yet\n");
	return 2;
}
