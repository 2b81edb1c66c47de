/* test_cli.c - the crmscope command end to end (src/cli/main.c): exit
 * statuses, stdin, --strict, the printed summary, stats, customers output. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "support.h"

static char dir[256];
static void setup(void) { tmpdir_make(dir, sizeof dir); }
static void teardown(void) { tmpdir_remove(dir); }

static const char *bin(void)
{
	const char *b = getenv("CRMSCOPE_BIN");
	return b ? b : "build/crmscope";
}

/* Runs a shell command line with the binary as $B; returns the exit status
 * and the output (stdout and stderr) in *out (caller frees). */
static int run(char **out, const char *fmt, ...)
{
	char cmd[8192], line[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "cd %s && B=%s%s; %s 2>&1", dir, bin()[0] == '/' ? "" : "$OLDPWD/",
		 bin(), line);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t k;
	while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0)
		n += k;
	buf[n] = '\0';
	int st = pclose(p);
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TestSuite(cli, .init = setup, .fini = teardown);

Test(cli, usage_errors_exit_2)
{
	char *o;
	cr_assert_eq(run(&o, "$B"), 2);
	free(o);
	cr_assert_eq(run(&o, "$B frobnicate"), 2);
	cr_assert(strstr(o, "unknown command") != NULL);
	free(o);
	cr_assert_eq(run(&o, "$B import db.db planets x.csv"), 2);
	cr_assert(strstr(o, "unknown entity 'planets'") != NULL, "%s", o);
	free(o);
	cr_assert_eq(run(&o, "$B help"), 0);
	cr_assert(strstr(o, "import DB ENTITY FILE") != NULL);
	free(o);
}

Test(cli, import_from_stdin_prints_the_accounting)
{
	char *o;
	int rc = run(&o, "printf 'order_id,customer_id,ordered_at,amount\\n1,a,2024-01-01,10\\n2,b,2024-13-01,5\\n'"
			 " | $B import crm.db orders -");
	cr_assert_eq(rc, 0, "%s", o);
	cr_assert(strstr(o, "import orders from stdin (CSV, delimiter ',')") != NULL, "%s", o);
	cr_assert(strstr(o, "  read                    2\n") != NULL, "%s", o);
	cr_assert(strstr(o, "  stored                  1\n") != NULL, "%s", o);
	cr_assert(strstr(o, "    bad_date                          1\n") != NULL, "%s", o);
	cr_assert(strstr(o, "rejects written to crm.db") == NULL);
	cr_assert(strstr(o, "rejects written to stdin.rejects.csv") != NULL, "%s", o);
	cr_assert(strstr(o, "read = stored + updated + duplicates + rejected: holds") != NULL);
	free(o);
	/* --strict: a reject is a non-zero exit */
	rc = run(&o, "printf 'order_id,customer_id,ordered_at,amount\\n3,a,2024-01-01,x\\n' | $B import crm.db orders - --strict");
	cr_assert_eq(rc, 3, "%s", o);
	free(o);
	rc = run(&o, "$B stats crm.db");
	cr_assert_eq(rc, 0, "%s", o);
	cr_assert(strstr(o, "  orders                    1  2024-01-01  2024-01-01") != NULL, "%s", o);
	cr_assert(strstr(o, "  rows rejected so far: 2\n") != NULL, "%s", o);
	free(o);
}

Test(cli, customers_as_csv_and_json)
{
	char *o;
	int rc = run(&o, "printf 'order_id,customer_id,ordered_at,amount\\n1,a,2024-01-01,10\\n2,a,2024-01-08,5.5\\n3,b,2024-01-03,7\\n'"
			 " > o.csv && $B customers o.csv --as-of 2024-01-15 --unit week");
	cr_assert_eq(rc, 0, "%s", o);
	/* a: first 01-01, repeat 01-08: x 1, t_x 1 week, T 14 days = 2 weeks */
	cr_assert_str_eq(o, "customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue\n"
			    "a,1,1.00,2.00,5.50,2024-01-01,2024-01-08,2,15.50\n"
			    "b,0,0.00,1.71,0.00,2024-01-03,2024-01-03,1,7.00\n");
	free(o);
	rc = run(&o, "$B customers o.csv --as-of 2024-01-15 --format json --out c.json && head -c 1 c.json");
	cr_assert_eq(rc, 0, "%s", o);
	cr_assert_str_eq(o, "[");
	free(o);
	rc = run(&o, "$B customers missing.csv");
	cr_assert_eq(rc, 1);
	cr_assert(strstr(o, "missing.csv") != NULL, "%s", o);
	free(o);
}

/* --out writes over a file that is there and cuts it to what was written:
 * a shorter table leaves nothing of a longer one, a longer one grows it,
 * and a command that fails leaves only what it wrote. */
Test(cli, out_replaces_what_was_there)
{
	char *o;
	const char *want = "customer_id,x,t_x,T,mean_repeat,first_purchase,last_purchase,orders,net_revenue\n"
			   "a,0,0,0,0.00,2024-01-01,2024-01-01,1,10.00\n";
	int rc = run(&o, "printf 'order_id,customer_id,ordered_at,amount\\n1,a,2024-01-01,10\\n' > o.csv"
			 " && head -c 100000 /dev/zero | tr '\\0' x > c.csv"
			 " && $B customers o.csv --as-of 2024-01-01 --out c.csv && cat c.csv");
	cr_assert_eq(rc, 0, "%s", o);
	cr_assert_str_eq(o, want);
	free(o);
	/* longer than what was there */
	rc = run(&o, "printf 'ab' > c.csv && $B customers o.csv --as-of 2024-01-01 --out c.csv"
		     " && cat c.csv");
	cr_assert_eq(rc, 0, "%s", o);
	cr_assert_str_eq(o, want);
	free(o);
	/* options refused (a calibration end after the as-of date) before the
	 * file is opened: it is left as it was */
	rc = run(&o, "printf 'old text' > c.csv && $B customers o.csv --as-of 2024-01-01"
		     " --calibration-end 2024-02-01 --out c.csv 2>&1; cat c.csv");
	cr_assert(strstr(o, "calibration end") != NULL, "%s", o);
	cr_assert(strstr(o, "\nold text") != NULL, "%s", o);
	free(o);
	/* not a regular file: written as a stream; a write that fails is
	 * told, with the file */
	rc = run(&o, "$B customers o.csv --as-of 2024-01-01 --out /dev/null");
	cr_assert_eq(rc, 0, "%s", o);
	free(o);
	rc = run(&o, "$B customers o.csv --as-of 2024-01-01 --out /dev/full 2>&1");
	cr_assert_neq(rc, 0, "%s", o);
	cr_assert(strstr(o, "/dev/full") != NULL, "%s", o);
	free(o);
}

Test(cli, demo_writes_every_entity)
{
	char *o;
	int rc = run(&o, "$B demo --customers 200 --seed 7 --out d && ls d");
	cr_assert_eq(rc, 0, "%s", o);
	const char *files[] = { "customers.csv", "orders.csv", "interactions.csv", "tickets.csv",
				"leads.csv", "spend.csv", "feedback.csv", "web_events.csv", "truth.json" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		cr_assert(strstr(o, files[i]) != NULL, "%s missing: %s", files[i], o);
	free(o);
	run(&o, "rm -rf d");
	free(o);
}
