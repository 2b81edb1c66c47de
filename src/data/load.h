/* load.h - wiring ingest to its sinks (data layer).
 * Importing a file into the store, and reading files straight into a
 * dataset without a database, go through the same ing_import so that a file
 * means the same thing either way. */
#ifndef DATA_LOAD_H
#define DATA_LOAD_H

#include "crmscope.h"
#include "ingest/import.h"

struct ds_import_opts {
	struct ing_opts ing;     /* reading, mapping, validation */
	int upsert;              /* replace records whose key is stored */
	size_t batch_rows;       /* rows per transaction (0: the store's default) */
};

/* Imports path into the database at db_path (created if missing). The
 * summary is filled even when an error stops the import part way. */
int ds_import(const char *db_path, const char *path, const struct ds_import_opts *o,
	      struct ing_summary *sum, struct crm_err *err);

/* The default rejects file of an import: next to the database, named after
 * the input ("DIR/orders.csv.rejects.csv"; "stdin.rejects.csv"). */
void ds_default_rejects_path(const char *db_path, const char *input, char *out,
			     size_t cap);

/* One input file and how to read it, for ds_load_files. */
struct ds_file {
	const char *path;
	struct ing_opts ing;     /* ing.entity says what the file holds; ing.fields
	                            what of it to read (0: all), ing.threads on how
	                            many threads */
};

/* Reads the files straight into a new dataset (no database); sums[i] gets
 * file i's summary. *out is the caller's (crm_dataset_free).
 *
 * The columns of an entity are the fields its files read (ing.fields); when
 * any file names its fields, an entity that no file feeds has no columns
 * but the customers' customer_id (docs/IMPORT.md, "Reading files straight
 * into a report"). A large CSV file is read on one thread per core (see
 * ing_import); the dataset is the same as on one. */
int ds_load_files(const struct ds_file *files, size_t n_files,
		  struct ing_summary *sums, struct crm_dataset **out,
		  struct crm_err *err);

#endif
