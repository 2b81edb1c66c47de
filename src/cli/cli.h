/* cli.h - what the commands of the crmscope command share (cli layer).
 * main.c dispatches to one function per command (cmd_NAME in main.c or in
 * its own file cmd_NAME.c); each returns the exit status: 0 ok, 1 error,
 * 2 usage, 3 rows rejected under --strict. Only this layer prints to the
 * terminal and decides how to exit. */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "crmscope.h"
#include "ingest/import.h"

#define EXIT_USAGE 2
#define EXIT_REJECTS 3

extern const char usage_text[];

/* Prints "crmscope: msg" (if msg) and the usage to stderr; EXIT_USAGE. */
int usage(const char *msg);
/* Prints err's message to stderr; returns 1. */
int fail(const struct crm_err *err);

#define MAX_MAPS 64

/* The reading options of import (also taken by commands that read files). */
struct read_args {
	struct ing_opts ing;
	const char *maps[MAX_MAPS];
	const char *rejects;
	int upsert;
	size_t batch;
};

void read_args_init(struct read_args *a);
/* Consumes a reading option at argv[*i]; 1 if it was one, 0 if not, -1 on
 * a bad value (message printed). */
int read_option(struct read_args *a, int argc, char **argv, int *i);
/* Reads the reading options and the positional arguments (at most max) of
 * command cmd into *a and pos. Returns 0, or the exit status of a usage
 * error (its message printed). */
int gather_args(struct read_args *a, int argc, char **argv, const char *cmd,
		const char **pos, int max, int *n);

/* 1 if path is an SQLite database (by its header). */
int is_sqlite(const char *path);
/* Parses a date or time option value; a date alone means the whole of that
 * day (its last second). 0, or -1 with the message printed. */
int parse_date_arg(const char *opt, const char *v, int64_t *t);
/* Loads a dataset from a database, or from order files (reading only the
 * fields the purchase summary needs). */
int load_dataset(const char **inputs, int n, const struct read_args *a,
		 struct crm_dataset **ds, struct crm_err *err);

/* The files a command reads at most. */
#define MAX_INPUTS 64

/* Reads files[0..n) (n <= MAX_INPUTS) straight into a new dataset
 * (ds_load_files: *ds is the caller's, crm_dataset_free) and warns on stderr
 * of each file's rejected rows. */
struct ds_file;
int load_files(const struct ds_file *files, int n, struct crm_dataset **ds,
	       struct crm_err *err);

/* Where a command writes: path opened for writing (created, or an
 * existing file written over from its start, not truncated first), or
 * stdout when path is NULL. When it cannot be opened, *out is stdout, err
 * names the file and the reason, and the result is CRM_EIO; else CRM_OK. */
int open_output(const char *path, FILE **out, struct crm_err *err);
/* The end of a command that wrote to out (from open_output): cuts a regular
 * file to what was written (nothing of what was there before is left,
 * whether the command failed or not) and closes it unless it is stdout, a
 * failure turning status 0 into 1 (err set: the file and the reason);
 * a failed write's error gets the file's name. Prints err when the status
 * is not 0. Returns the status. */
int close_output(FILE *out, const char *path, int status, struct crm_err *err);

/* Commands in files of their own. */
int cmd_quality(int argc, char **argv);
int cmd_dedupe(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
