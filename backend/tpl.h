/* Text templates compiled into the binary: the files of backend/templates/
 * (the team bundle's READMEs, haproxy.cfg and secrets-env.sh), embedded by
 * the Makefile as backend/templates/templates.h, so that a reader edits
 * them as text. One substitution fills them:
 *
 *   {{name}}              the value of name
 *   {{#name}}...{{/name}} kept when name's value is set (not NULL, not "")
 *   {{^name}}...{{/name}} kept when it is not
 *   {{>file}}             the template file, filled with the same values
 *
 * A section or include tag alone on its line takes the line's newline with
 * it, so sections can stand on lines of their own. Values are copied as
 * they are, never read for tags. Sections of one name do not nest. Pure. */
#ifndef SR_TPL_H
#define SR_TPL_H

#include <stddef.h>

#include "util.h"

struct tpl_var {
    const char *name;
    const char *value; /* NULL: not set */
};

/* The template of that file name (e.g. "readme-compose.md"), or NULL.
 * Static text. */
const char *tpl_get(const char *file);

/* Appends the template file filled with vars to out. 0, or -1: out of
 * memory or out's cap, or a template that names a value, a file or a
 * section end that does not exist (a bug the unit tests catch). */
int tpl_fill(struct buf *out, const char *file, const struct tpl_var *vars, size_t n);

/* The same for a template given as text (the unit tests). */
int tpl_fill_text(struct buf *out, const char *text, const struct tpl_var *vars, size_t n);

#endif
