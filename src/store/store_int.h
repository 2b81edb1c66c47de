/* store_int.h - what the store's own files share beyond store.h (store
 * layer): the SQLite connection behind a handle, for merge.c. No module
 * outside src/store includes this. */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <sqlite3.h>

#include "crmscope.h"
#include "store/store.h"

/* The connection of s and its path (for messages), both borrowed from s.
 * for_write: s must be open for writing with no writer on it (CRM_EINVAL
 * otherwise), so that the caller may run its own transaction. */
int st_db_conn(struct st_db *s, int for_write, sqlite3 **db, const char **path,
	       struct crm_err *err);

#endif
