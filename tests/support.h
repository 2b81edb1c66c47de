/* support.h - helpers shared by the tests: temporary folders and files. */
#ifndef TESTS_SUPPORT_H
#define TESTS_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/entity.h"
#include "data/builder.h"

/* Makes a fresh temporary folder; returns its path (static storage per call
 * slot: copy it). */
void tmpdir_make(char *out, size_t cap);

/* Removes a folder and what is in it (one level deep). */
void tmpdir_remove(const char *dir);

/* Writes text to dir/name and returns the path in out. */
void write_file(const char *dir, const char *name, const char *text, char *out, size_t cap);

/* Reads a whole file into a malloc'd NUL-terminated string (caller frees). */
char *read_file(const char *path, size_t *len);

/* Counts the lines of a file. */
size_t count_lines(const char *path);

/* The timestamp of an ISO 8601 text (the test fails if it does not parse). */
int64_t ts(const char *iso);

/* A zeroed record of entity, from source line `line`. */
struct ent_record rec(int entity, long line);

/* Sets field f of r to text s (borrowed) or to the number v. */
void set_s(struct ent_record *r, int f, const char *s);
void set_i(struct ent_record *r, int f, int64_t v);

/* Adds an order (amount as decimal text, status NULL for none) to b. */
void add_order(struct ds_builder *b, const char *id, const char *cust,
	       const char *at, const char *amount, const char *status);

/* Asserts that two datasets hold the same rows in the same order, column by
 * column (kinds, values, dictionaries through the cell text). */
void assert_same_dataset(const struct crm_dataset *a, const struct crm_dataset *b);

/* SQL on the database at path through a connection of its own: one
 * integer, one text value ("(null)" for NULL, copied to out), or a
 * statement that changes it. The test fails on any SQLite error. */
int64_t sql_int(const char *path, const char *sql);
void sql_text(const char *path, const char *sql, char *out, size_t cap);
void sql_exec(const char *path, const char *sql);

#endif
