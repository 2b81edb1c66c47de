/* args.c - what the commands share: usage and error printing, the reading
 * options of import, dates on the command line, loading a dataset, the
 * output file (cli layer). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/money.h"
#include "core/tstamp.h"
#include "data/load.h"

int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "crmscope: %s\n", msg);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

int fail(const struct crm_err *err)
{
	fprintf(stderr, "crmscope: %s\n", err->msg[0] ? err->msg : crm_status_str(err->code));
	return 1;
}

const char usage_text[] =
	"usage: crmscope COMMAND [ARGS]\n"
	"\n"
	"  import DB ENTITY FILE...   import CSV or JSON Lines files ('-' = stdin) into DB\n"
	"        ENTITY: customers orders interactions tickets leads spend feedback web_events\n"
	"        --delim C|tab|ws  --no-header  --map FIELD=COLUMN|FIELD=#N  --date-format FMT\n"
	"        --decimal-comma  --currency CODE  --format csv|jsonl  --lines  --cancel-prefix P\n"
	"        --strict  --upsert  --rejects PATH  --batch N\n"
	"  customers DB|FILE...       per-customer purchase summary (files are read as orders)\n"
	"        --as-of DATE  --calibration-end DATE  --unit day|week  --format csv|json  --out PATH\n"
	"        (and the reading options of import for files)\n"
	"  report DB|FILE...          every metric family (METRICS.md): text, JSON or CSV\n"
	"        files: their entity from the name (orders*.csv, customers*.csv ...) or ENTITY=PATH\n"
	"        --as-of DATE  --period START..END  --by country|city|gender|age|tier|acq_channel|channel\n"
	"        --groups N (largest groups of --by, the rest as 'other'; 20)  --only FAMILY,...\n"
	"        --format text|json|csv  --out PATH (csv: a folder)  --timings\n"
	"        --with-summary (csv: also the per-customer summary of customers)\n"
	"        --window DAYS  --no-second-days N  --new-days N  --growing-days N  --at-risk-factor X\n"
	"        --at-risk-days N  --spend-bands N  --sla-hours H  --cost-per-minute M\n"
	"        --cost-per-ticket M  --session-minutes N  --bounce matomo|ga4|posthog\n"
	"        --cohort classic|unbounded  --activity-window DAYS  --lexicon-dir DIR  --language L\n"
	"  overview DB|FILE...        load the dataset and say what it holds (files are read as orders)\n"
	"  stats DB                   counts, date ranges, currencies, rejects so far\n"
	"  dedupe DB                  find duplicate customers (new ones against all since the last run)\n"
	"        --threshold P (0.9)  --review FILE  --review-threshold P (0.5)  --apply  --full\n"
	"        --country CC  --block-cap N (50)  --window N (5)  --threads N   |   --list   |   --undo MERGE_ID\n"
	"  quality DB                 data quality: rejects, missing fields, out-of-range values,\n"
	"        outliers, duplicates pending, a 0-100 score per entity\n"
	"        --as-of DATE  --format text|json  --out PATH\n"
	"  demo [--customers N] [--seed S] [--out DIR]   write a synthetic business's CSVs\n"
	"  help                       this text\n";

/* ------------------------------------------------------ reading options */
void read_args_init(struct read_args *a)
{
	memset(a, 0, sizeof *a);
	a->ing.decimal = '.';
	a->ing.maps = a->maps;
}

/* Consumes a reading option at argv[*i]; 1 if it was one, 0 if not, -1 on
 * a bad value (message printed). */
int read_option(struct read_args *a, int argc, char **argv, int *i)
{
	const char *o = argv[*i];
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
#define NEED_VALUE() do { if (!v) { fprintf(stderr, "crmscope: %s needs a value\n", o); return -1; } (*i)++; } while (0)
	if (strcmp(o, "--delim") == 0) {
		NEED_VALUE();
		if (strcmp(v, "ws") == 0) {
			a->ing.csv.mode = ING_DELIM_WS;
		} else if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0) {
			a->ing.csv.mode = ING_DELIM_CHAR;
			a->ing.csv.delim = '\t';
		} else if (strlen(v) == 1 && v[0] != '"' && v[0] != '\n') {
			a->ing.csv.mode = ING_DELIM_CHAR;
			a->ing.csv.delim = v[0];
		} else {
			fprintf(stderr, "crmscope: --delim %s: give one character, tab or ws\n", v);
			return -1;
		}
	} else if (strcmp(o, "--no-header") == 0) {
		a->ing.no_header = 1;
	} else if (strcmp(o, "--map") == 0) {
		NEED_VALUE();
		if (a->ing.n_maps == MAX_MAPS) {
			fprintf(stderr, "crmscope: at most %d --map options\n", MAX_MAPS);
			return -1;
		}
		a->maps[a->ing.n_maps++] = v;
	} else if (strcmp(o, "--date-format") == 0) {
		NEED_VALUE();
		a->ing.date_format = v;
	} else if (strcmp(o, "--decimal-comma") == 0) {
		a->ing.decimal = ',';
	} else if (strcmp(o, "--currency") == 0) {
		NEED_VALUE();
		a->ing.currency = v;
	} else if (strcmp(o, "--format") == 0 && v && (strcmp(v, "csv") == 0 || strcmp(v, "jsonl") == 0)) {
		NEED_VALUE();
		a->ing.format = strcmp(v, "csv") == 0 ? ING_FMT_CSV : ING_FMT_JSONL;
	} else if (strcmp(o, "--lines") == 0) {
		a->ing.lines = 1;
	} else if (strcmp(o, "--cancel-prefix") == 0) {
		NEED_VALUE();
		a->ing.cancel_prefix = v;
	} else if (strcmp(o, "--strict") == 0) {
		a->ing.strict = 1;
	} else if (strcmp(o, "--upsert") == 0) {
		a->upsert = 1;
	} else if (strcmp(o, "--rejects") == 0) {
		NEED_VALUE();
		a->rejects = v;
	} else if (strcmp(o, "--batch") == 0) {
		NEED_VALUE();
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || n < 1) {
			fprintf(stderr, "crmscope: --batch %s: give a positive number of rows\n", v);
			return -1;
		}
		a->batch = (size_t)n;
	} else {
		return 0;
	}
#undef NEED_VALUE
	return 1;
}

/* Reads the reading options and the positional arguments (at most max) of
 * command cmd into *a and pos. Returns 0, or the exit status of a usage
 * error (its message printed). */
int gather_args(struct read_args *a, int argc, char **argv, const char *cmd,
		       const char **pos, int max, int *n)
{
	read_args_init(a);
	*n = 0;
	for (int i = 0; i < argc; i++) {
		int r = read_option(a, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "crmscope: %s: unknown option %s\n", cmd, argv[i]);
			return usage(NULL);
		}
		if (*n == max) {
			fprintf(stderr, "crmscope: %s: at most %d arguments\n", cmd, max);
			return usage(NULL);
		}
		pos[(*n)++] = argv[i];
	}
	return 0;
}

/* ---------------------------------------------------------------- import */


/* 1 if path is an SQLite database (by its header). */
int is_sqlite(const char *path)
{
	char head[16] = { 0 };
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(head, 1, sizeof head, f);
	fclose(f);
	return n == 16 && memcmp(head, "SQLite format 3", 16) == 0;
}

/* A date given alone means the whole of that day: its last second. */
int parse_date_arg(const char *opt, const char *v, int64_t *t)
{
	const char *why;
	if (ts_parse_iso(v, strlen(v), t, &why) != 0) {
		fprintf(stderr, "crmscope: %s %s: %s\n", opt, v, why);
		return -1;
	}
	if (strlen(v) == 10)
		*t += SECS_PER_DAY - 1;
	return 0;
}

/* Loads a dataset from a database or from order files. */
int load_dataset(const char **inputs, int n, const struct read_args *a,
			struct crm_dataset **ds, struct crm_err *err)
{
	if (n == 1 && is_sqlite(inputs[0]))
		return crm_dataset_load_db(inputs[0], ds, err);
	struct ds_file files[MAX_INPUTS];
	if (n < 1 || n > MAX_INPUTS)
		return crm_err_set(err, CRM_EINVAL, "give 1 to %d files", MAX_INPUTS);
	memset(files, 0, sizeof files);
	for (int i = 0; i < n; i++) {
		files[i].path = inputs[i];
		files[i].ing = a->ing;
		files[i].ing.entity = CRM_ORDERS;
		files[i].ing.rejects_path = NULL;
		/* the summary reads these alone (docs/IMPORT.md) */
		files[i].ing.fields = ING_FIELD(CRM_O_CUSTOMER_ID) | ING_FIELD(CRM_O_ORDERED_AT) |
				      ING_FIELD(CRM_O_AMOUNT) | ING_FIELD(CRM_O_STATUS);
	}
	return load_files(files, n, ds, err);
}

int load_files(const struct ds_file *files, int n, struct crm_dataset **ds,
	       struct crm_err *err)
{
	struct ing_summary sums[MAX_INPUTS];
	int rc = ds_load_files(files, (size_t)n, sums, ds, err);
	for (int i = 0; rc == CRM_OK && i < n; i++) {
		if (sums[i].rejected) {
			char b[32];
			int_format_grouped(sums[i].rejected, b);
			fprintf(stderr, "crmscope: %s: %s rows rejected (import them to see why)\n",
				sums[i].source, b);
		}
	}
	return rc;
}

/* ---------------------------------------------------------------- output */

/* An existing file is written over, not truncated first, and cut to its
 * new length at the end (close_output): truncating frees the file's pages
 * and blocks, the writes then allocate them again, and ext4 starts writing
 * a file truncated to nothing out at its close. Writing a 84 MB table over
 * its last run took 0.01 s, against 0.04-0.06 s truncated first
 * (bench/RESULTS.md, session 9). */
int open_output(const char *path, FILE **out, struct crm_err *err)
{
	*out = stdout;
	if (!path)
		return CRM_OK;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		crm_err_set(err, CRM_EIO, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CRM_EIO;
	}
	*out = f;
	return CRM_OK;
}

int close_output(FILE *out, const char *path, int status, struct crm_err *err)
{
	struct stat st;
	int bad = 0;
	if (out != stdout) {
		/* what the command wrote, and nothing of what was there before,
		 * failed or not */
		off_t end;
		bad = fflush(out) != 0 || (end = ftello(out)) < 0 ||
		      (fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > end &&
		       ftruncate(fileno(out), end) != 0);
		bad |= fclose(out) != 0;
	}
	if (bad && status == 0) {
		crm_err_set(err, CRM_EIO, "%s: %s", path, strerror(errno));
		status = 1;
	} else if (status && err->code == CRM_EIO && path && !strstr(err->msg, path)) {
		/* a write that failed, told by a writer that knows no path */
		char msg[sizeof err->msg];
		snprintf(msg, sizeof msg, "%s", err->msg);
		crm_err_set(err, CRM_EIO, "%s: %s", path, msg);
	}
	if (status)
		fail(err);
	return status;
}
