/* support.h - helpers shared by the tests: temporary folders and files. */
#ifndef TESTS_SUPPORT_H
#define TESTS_SUPPORT_H

#include <stddef.h>

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

#endif
