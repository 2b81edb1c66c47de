/* render.h - the report document as a jansson tree (report layer), for
 * callers that embed it (the golden test, the coming HTML report) rather
 * than print it; rp_render_json (doc.h) prints this tree. */
#ifndef REPORT_RENDER_H
#define REPORT_RENDER_H

#include <jansson.h>

#include "report/doc.h"

/* The JSON of docs/report.schema.json for d: a new reference (the caller
 * json_decref's it), or NULL with err set (d failed, or out of memory). */
json_t *rp_doc_json(const struct rp_doc *d, struct crm_err *err);

/* Cuts text to valid UTF-8 as a jansson string, bytes that are not UTF-8
 * replaced by U+FFFD: a new reference, NULL when out of memory. */
json_t *rp_json_text(const char *s);

#endif
