/* import.h - from a file to validated records (ingest layer).
 * ing_import reads CSV or JSON Lines, maps columns onto an entity's canonical
 * fields, parses types, validates each row, folds order lines into orders,
 * quarantines rejects with their line and reason, and hands every good
 * record to a sink (the store's writer, or the dataset builder). It keeps
 * the accounting: read = stored + updated + duplicates + rejected. */
#ifndef INGEST_IMPORT_H
#define INGEST_IMPORT_H

#include <stdint.h>

#include "core/entity.h"
#include "crmscope.h"
#include "ingest/reader.h"

enum ing_format { ING_FMT_AUTO = 0, ING_FMT_CSV, ING_FMT_JSONL };

/* The records ing_import hands to a sink in one call: up to ING_BATCH of
 * them, in file order. Handing them over in batches lets each layer do its
 * per-call work (checks of its plan, dispatch, the state it re-derives)
 * once per batch instead of once per record: the read path of a large file
 * is a few hundred instructions a record, and those calls were a good part
 * of them. A record whose texts would not outlive the reader's next row
 * (JSON Lines, a CSV field unescaped into the reader's scratch, a made-up
 * id) ends its batch. */
#define ING_BATCH 64

struct ing_batch {
	const struct ent_record *rec; /* n records in file order, borrowed for the call */
	size_t n;                     /* 1 .. ING_BATCH */
	int outcome[ING_BATCH];       /* put: enum ing_outcome of each record taken */
	size_t taken;                 /* put: the records it took, rec[0..taken): n,
	                                 or on failure those before the one that failed */
	int64_t stubs;                /* put: stub customers the records taken made */
};

/* Where records go. put takes the records of batch b in order and says
 * what became of each (b->outcome, b->taken, b->stubs); it returns a status.
 * In the records ing_import makes, the i of each FT_ID and FT_REF value
 * that is set holds strmap_number of its text (-1: not such a number), so
 * that a sink keeping ids by number does not parse them again.
 *
 * The rest is optional (NULL when not offered). fork, join and drop let
 * ing_import read the rows of one file on several threads: fork makes a
 * part, a sink of its own for one more thread (*part, taken by put in place
 * of ctx), sharing nothing with ctx; join merges a part into ctx after every
 * thread ended, parts in the order of the file, frees it and tells the stubs
 * the part made (a part's put need not report them); drop frees a part
 * unmerged, after a failure. flush is called on ctx at the end of every
 * import that succeeded, before the joins: it hands over what put held back
 * and tells the stubs that put did not report. */
struct ing_sink {
	void *ctx;
	int (*put)(void *ctx, struct ing_batch *b, struct crm_err *err);
	int (*fork)(void *ctx, void **part, struct crm_err *err);
	int (*join)(void *ctx, void *part, int64_t *stubs, struct crm_err *err);
	void (*drop)(void *part);
	int (*flush)(void *ctx, int64_t *stubs, struct crm_err *err);
};

/* The bit of field f of an entity in ing_opts.fields and ds_builder_keep. */
#define ING_FIELD(f) ((uint32_t)1 << (f))

enum ing_outcome {
	ING_INSERTED = 0,   /* same values as enum st_outcome */
	ING_UPDATED,
	ING_DUPLICATE,
	ING_DUP_IN_FILE,
	ING_UNKNOWN_REF
};

struct ing_opts {
	int entity;                 /* enum crm_entity */
	int format;                 /* enum ing_format; AUTO: .jsonl/.ndjson are JSON Lines */
	struct ing_csv_opts csv;    /* delimiter */
	int no_header;              /* CSV without a header line: map by --map f=#N */
	const char *date_format;    /* strptime-style, NULL: ISO 8601 */
	char decimal;               /* decimal separator of numbers: '.' (default) or ',' */
	const char *currency;       /* currency of orders and spend without one, NULL none */
	const char *const *maps;    /* "field=column" or "field=#N", n_maps of them */
	size_t n_maps;
	int strict;                 /* unknown customers are rejected, not stubbed */
	const char *cancel_prefix;  /* line-level: order ids that are cancellations ("C") */
	int lines;                  /* 1: fold rows sharing an order id into one order
	                               even without a unit_price column */
	const char *rejects_path;   /* rejected rows go there as CSV, created at the
	                               first reject (NULL: counted only) */
	uint32_t fields;            /* the fields the sink needs (ING_FIELD bits; the
	                               customer reference is always read); 0: all.
	                               Others that are not required are neither
	                               parsed nor checked; required ones are checked
	                               as always; an id not needed is not made up */
	int threads;                /* rows of a CSV file on this many threads when
	                               it can be split (see ing_import); 0: one per
	                               core for a file of ING_PAR_MIN_BYTES or more */
	int no_occurrences;         /* an entity keyed by occurrence (web events):
	                               the sink needs no occurrence numbers (seq 0:
	                               rows stay in file order, which is the order
	                               the numbers would give), so the file may be
	                               split across threads */
};

/* The size below which a file is read on one thread when opts.threads is 0. */
#define ING_PAR_MIN_BYTES ((size_t)1 << 22)

/* Reject reasons: a code per kind of fault, fixed so that reports and tests
 * can count them. */
enum ing_reason {
	R_SYNTAX = 0,       /* malformed CSV record or JSON line */
	R_FIELD_COUNT,      /* CSV record with more or fewer fields than the header */
	R_MISSING,          /* a required field is empty */
	R_BAD_UTF8,         /* text is not valid UTF-8 */
	R_BAD_DATE,         /* a time or date does not parse */
	R_BAD_NUMBER,       /* an amount, count or score does not parse or overflows */
	R_OUT_OF_RANGE,     /* a score off its scale, a negative duration */
	R_BAD_VALUE,        /* a value not in its list (status, kind) */
	R_TIME_ORDER,       /* response or resolution before opening, conversion before creation */
	R_UNKNOWN_CUSTOMER, /* --strict and the customer does not exist */
	R_DUP_IN_FILE,      /* the same key earlier in the same import */
	R_NO_CUSTOMER,      /* line-level: an order line without a customer (anonymous sale) */
	R_NEGATIVE_PRICE,   /* line-level: a unit price below zero (an accounting adjustment) */
	R_ORDER_CONFLICT,   /* line-level: a line whose customer differs from its order's */
	R_N
};

/* The reason code's name ("bad_date"...). */
const char *ing_reason_name(int r);

struct ing_summary {
	char source[256];           /* the input's name */
	int format;                 /* what was read */
	char delim;                 /* CSV: the delimiter used (' ' for runs of spaces) */
	int64_t read;               /* records read (lines for line-level files) */
	int64_t stored, updated, duplicates, rejected; /* in records, or lines */
	int64_t stubs;              /* stub customers created */
	int64_t reasons[R_N];       /* rejected, by reason */
	char mapping[1024];         /* "field<-column, ..." and ignored columns */
	int line_level;             /* 1: order lines folded into orders */
	int64_t orders_made;        /* line-level: orders formed */
	int64_t orders_stored;      /* line-level: of those, newly stored */
	int64_t cancel_lines;       /* line-level: lines of cancellation invoices */
	int64_t negative_qty_lines; /* line-level: lines with quantity < 0 outside cancellations */
	int64_t zero_price_lines;   /* line-level: lines with unit price 0, kept at amount 0 */
	int64_t synthetic_ids;      /* records given an id made from their content */
	int threads;                /* threads that read the rows (1, or opts.threads) */
	char rejects_path[512];     /* where rejects were written ("" none) */
};

/* Imports path ("-" for standard input) into sink. Rejected rows never stop
 * the import; a file that cannot be read, an unmappable header or a failing
 * sink does (returned as an error, with the summary so far).
 *
 * A CSV file is read on several threads (opts.threads) when the sink can
 * fork, the file is a regular file (not standard input), its rows are not
 * order lines to fold, and no ids or occurrence numbers are made up (they
 * count in file order): it is cut at line ends into one part per thread,
 * each read with the row loop of the one-thread path into a part of the
 * sink. A part that a quoted field of the part before it runs into (a line
 * end inside quotes where the file was cut) is read again from where that
 * field's record ended; rejects get the file's line numbers. The result,
 * the summary, an error and the rejects file (rows in line order) are
 * those of one thread. */
int ing_import(const char *path, const struct ing_opts *opts,
	       const struct ing_sink *sink, struct ing_summary *sum,
	       struct crm_err *err);

#endif
