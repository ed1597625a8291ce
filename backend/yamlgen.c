#include "yamlgen.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

int yamlgen_plain_typed(const char *s)
{
    /* YAML 1.1 booleans and nulls (yaml.v2 reads y and n too), 1.2's
     * infinities, the merge and value keys */
    static const char *const words[] = {"y",     "n",     "yes",  "no", "on",   "off",
                                        "true",  "false", "null", "~",  ".inf", "-.inf",
                                        "+.inf", ".nan",  "<<",   "=",  "nan",  "inf"};
    if (!s[0])
        return 1;
    /* numbers, dates and sexagesimals start with a digit, or a sign or a
     * dot before a digit: quote them all rather than follow each reader's
     * grammar (1_000, 0o7, 1:20, 2001-12-14, .5, 5s); YAML 1.1's float
     * grammar also takes ".", "-.", ".e+1" and "1..2" */
    const char *p = s + (s[0] == '+' || s[0] == '-');
    if (p[0] >= '0' && p[0] <= '9')
        return 1;
    if (p[0] == '.' && (!p[1] || (p[1] >= '0' && p[1] <= '9') || strchr(".eE", p[1])))
        return 1;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcasecmp(s, words[i]) == 0)
            return 1;
    return 0;
}

static int out_handler(void *data, unsigned char *bytes, size_t n)
{
    return buf_append(data, bytes, n) == 0;
}

static int scalar(yaml_emitter_t *em, const char *s, int quote)
{
    yaml_event_t ev;
    yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
    int plain_ok = 1;
    if (quote || yamlgen_plain_typed(s)) {
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        plain_ok = 0;
    } else if (strchr(s, '\n')) {
        /* libyaml keeps the final newline right (|, |- or |+) and falls
         * back to double quotes when a block cannot hold the text */
        style = YAML_LITERAL_SCALAR_STYLE;
    }
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), plain_ok,
                                      1, style))
        return -1;
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int node(yaml_emitter_t *em, json_t *v, int flags)
{
    yaml_event_t ev;
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return -1;
        json_object_foreach(v, key, val)
        {
            if (scalar(em, key, 0) || node(em, val, flags))
                return -1;
        }
        return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev) ? 0 : -1;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *val;
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return -1;
        json_array_foreach(v, i, val)
        {
            if (node(em, val, flags))
                return -1;
        }
        return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev) ? 0 : -1;
    }
    case JSON_STRING:
        return scalar(em, json_string_value(v), flags & YAMLGEN_QUOTE_VALUES);
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        break;
    case JSON_TRUE:
        snprintf(num, sizeof num, "true");
        break;
    case JSON_FALSE:
        snprintf(num, sizeof num, "false");
        break;
    case JSON_NULL:
        snprintf(num, sizeof num, "null");
        break;
    }
    return yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)num, (int)strlen(num), 1, 0,
                                        YAML_PLAIN_SCALAR_STYLE) &&
                   yaml_emitter_emit(em, &ev)
               ? 0
               : -1;
}

int yamlgen_write(struct buf *out, json_t *v, int flags)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    size_t start = out->len;
    int rc = -1;
    if (!v || !yaml_emitter_initialize(&em))
        return -1;
    yaml_emitter_set_output(&em, out_handler, out);
    yaml_emitter_set_indent(&em, 2);
    yaml_emitter_set_width(&em, -1);
    yaml_emitter_set_unicode(&em, 1);
    if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
        !yaml_emitter_emit(&em, &ev))
        goto out;
    size_t n = flags & YAMLGEN_DOCUMENTS ? json_array_size(v) : 1;
    for (size_t i = 0; i < n; i++) {
        if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
            !yaml_emitter_emit(&em, &ev) ||
            node(&em, flags & YAMLGEN_DOCUMENTS ? json_array_get(v, i) : v, flags) ||
            !yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&em, &ev))
            goto out;
    }
    if (yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
        yaml_emitter_flush(&em))
        rc = 0;
out:
    /* the emitter's buffer held what it wrote, secrets included */
    if (em.buffer.start)
        secret_wipe(em.buffer.start, (size_t)(em.buffer.end - em.buffer.start));
    yaml_emitter_delete(&em);
    if (rc && out->data) {
        secret_wipe(out->data + start, out->len - start);
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}
