/* Every YAML file the backend writes (the team bundle, the Storj gateway's
 * config.yaml) goes through libyaml's emitter: quoting, escaping, block
 * scalars and document markers are the library's. Pure. */
#ifndef SR_YAMLGEN_H
#define SR_YAMLGEN_H

#include <jansson.h>

#include "util.h"

/* v is an array of documents, each written as one ("---" between them). */
#define YAMLGEN_DOCUMENTS 1
/* Every string in a value (not a key) double-quoted, whatever it holds. */
#define YAMLGEN_QUOTE_VALUES 2

/* v (borrowed) as block-style YAML appended to out: two-space indentation,
 * no line folding, UTF-8 as it is, empty objects and arrays as {} and [],
 * strings with a newline as literal blocks, and a string that a YAML 1.1
 * reader would take for something else (`yes`, `on`, `~`, `0x1`, `1.0`,
 * `5s`, ``) double-quoted. Comments are the caller's, written around.
 * 0, or -1 (out of memory, out's cap, a string that is no UTF-8). */
int yamlgen_write(struct buf *out, json_t *v, int flags);

/* 1 when the plain scalar s could be read by a YAML 1.1 or 1.2 reader as
 * anything but the string s (a boolean, null, a number, a date, a merge
 * key): libyaml's emitter decides what the syntax allows, the typing of
 * plain scalars is left to the application (yaml_scalar_event's
 * plain_implicit). Errs on the side of quoting. Exposed for the tests. */
int yamlgen_plain_typed(const char *s);

#endif
