/* test_args.c - what the commands share (src/cli/args.c): the output file
 * of a command, opened and closed with the error that names the file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/err.h"
#include "support.h"

static char dir[256];
static void setup(void) { tmpdir_make(dir, sizeof dir); }
static void teardown(void) { tmpdir_remove(dir); }

Test(args, output_defaults_to_stdout)
{
	struct crm_err err;
	FILE *out = NULL;
	crm_err_clear(&err);
	cr_assert_eq(open_output(NULL, &out, &err), CRM_OK);
	cr_assert_eq(out, stdout);
	cr_assert_eq(close_output(out, NULL, 0, &err), 0);
	/* a failed command keeps its status (and says why on stderr) */
	crm_err_set(&err, CRM_EINVAL, "test: a failure before the output");
	cr_assert_eq(close_output(out, NULL, 1, &err), 1);
}

Test(args, output_to_a_file, .init = setup, .fini = teardown)
{
	char path[512];
	struct crm_err err;
	FILE *out = NULL;
	crm_err_clear(&err);
	snprintf(path, sizeof path, "%s/out.txt", dir);
	cr_assert_eq(open_output(path, &out, &err), CRM_OK, "%s", err.msg);
	cr_assert(out != NULL && out != stdout);
	fputs("customer_id\nC1\n", out);
	cr_assert_eq(close_output(out, path, 0, &err), 0);
	size_t len;
	char *text = read_file(path, &len);
	cr_assert_str_eq(text, "customer_id\nC1\n");
	free(text);
}

Test(args, output_that_cannot_be_opened, .init = setup, .fini = teardown)
{
	char path[512], want[600];
	struct crm_err err;
	FILE *out = NULL;
	crm_err_clear(&err);
	snprintf(path, sizeof path, "%s/no such folder/out.txt", dir);
	cr_assert_eq(open_output(path, &out, &err), CRM_EIO);
	cr_assert_eq(out, stdout);
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	cr_assert_str_eq(err.msg, want);
	cr_assert_eq(close_output(out, path, 1, &err), 1);
}

Test(args, output_that_cannot_be_written)
{
	/* /dev/full takes the open and fails the write of the buffered bytes,
	 * which shows at the close: status 0 becomes 1, with the reason */
	struct crm_err err;
	FILE *out = NULL;
	crm_err_clear(&err);
	cr_assert_eq(open_output("/dev/full", &out, &err), CRM_OK, "%s", err.msg);
	fputs("x\n", out);
	cr_assert_eq(close_output(out, "/dev/full", 0, &err), 1);
	cr_assert_eq(err.code, CRM_EIO);
	cr_assert_str_eq(err.msg, "/dev/full: No space left on device");
}
