#include "tpl.h"

#include <string.h>

#include "templates/templates.h"

/* includes deeper than this are a loop */
#define TPL_MAX_DEPTH 4

const char *tpl_get(const char *file)
{
    for (size_t i = 0; i < sizeof tpl_files / sizeof *tpl_files; i++)
        if (strcmp(tpl_files[i].name, file) == 0)
            return tpl_files[i].text;
    return NULL;
}

static const struct tpl_var *find(const struct tpl_var *vars, size_t n, const char *name,
                                  size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
            return &vars[i];
    return NULL;
}

/* 1 when the tag from a to z (z: just after "}}") is alone on its line of
 * text (which starts at start). */
static int standalone(const char *start, const char *a, const char *z)
{
    return (a == start || a[-1] == '\n') && *z == '\n';
}

static int fill(struct buf *out, const char *start, const char *end, const struct tpl_var *vars,
                size_t n, int depth)
{
    const char *p = start;
    while (p < end) {
        const char *a = strstr(p, "{{");
        if (!a || a >= end)
            return buf_append(out, p, (size_t)(end - p));
        if (buf_append(out, p, (size_t)(a - p)))
            return -1;
        const char *close = strstr(a + 2, "}}");
        if (!close || close >= end)
            return -1;
        char kind = a[2];
        const char *name = a + 2 + (strchr("#^/>", kind) ? 1 : 0);
        size_t len = (size_t)(close - name);
        const char *z = close + 2;
        if (kind == '/')
            return -1; /* an end without its start */
        if (kind == '>') {
            char file[64];
            if (len >= sizeof file || depth >= TPL_MAX_DEPTH)
                return -1;
            memcpy(file, name, len);
            file[len] = '\0';
            const char *t = tpl_get(file);
            if (!t || fill(out, t, t + strlen(t), vars, n, depth + 1))
                return -1;
            p = standalone(start, a, z) ? z + 1 : z;
            continue;
        }
        const struct tpl_var *v = find(vars, n, name, len);
        if (!v)
            return -1;
        if (kind != '#' && kind != '^') {
            if (v->value && buf_append(out, v->value, strlen(v->value)))
                return -1;
            p = z;
            continue;
        }
        /* a section: its body up to {{/name}} */
        char endtag[72];
        if (len > 64)
            return -1;
        memcpy(endtag, "{{/", 3);
        memcpy(endtag + 3, name, len);
        memcpy(endtag + 3 + len, "}}", 3);
        const char *body = standalone(start, a, z) ? z + 1 : z;
        const char *stop = strstr(body, endtag);
        if (!stop || stop >= end)
            return -1;
        const char *after = stop + strlen(endtag);
        int set = v->value && v->value[0];
        if ((kind == '#') == set && fill(out, body, stop, vars, n, depth))
            return -1;
        p = after < end && standalone(start, stop, after) ? after + 1 : after;
    }
    return 0;
}

int tpl_fill_text(struct buf *out, const char *text, const struct tpl_var *vars, size_t n)
{
    return fill(out, text, text + strlen(text), vars, n, 0);
}

int tpl_fill(struct buf *out, const char *file, const struct tpl_var *vars, size_t n)
{
    const char *t = tpl_get(file);
    return t ? tpl_fill_text(out, t, vars, n) : -1;
}
