#include "yamltest.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* YAML 1.1's implicit types (yaml.org/type), as PyYAML's resolver writes
 * them, widened by `y`/`n` (YAML 1.1 booleans that yaml.v2 reads too) and
 * YAML 1.2's `0o7` and `1e3`. */
static const struct {
    const char *type;
    const char *re;
} types[] = {
    {"null", "^(~|null|Null|NULL|)$"},
    {"bool", "^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|"
             "OFF)$"},
    {"int",
     "^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?0o[0-7]+"
     "|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$"},
    {"float",
     "^([-+]?([0-9][0-9_]*)?\\.[0-9._]*([eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
     "|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$"},
    {"timestamp", "^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
                  "(([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\\.[0-9]*)?"
                  "([ \t]*(Z|[-+][0-9][0-9]?(:[0-9][0-9])?))?)?$"},
    {"merge", "^<<$"},
    {"value", "^=$"},
};

static json_t *plain(const char *s)
{
    static regex_t re[sizeof types / sizeof *types];
    static int compiled;
    if (!compiled) {
        for (size_t i = 0; i < sizeof types / sizeof *types; i++)
            if (regcomp(&re[i], types[i].re, REG_EXTENDED | REG_NOSUB))
                abort();
        compiled = 1;
    }
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        if (regexec(&re[i], s, 0, NULL, 0))
            continue;
        const char *t = types[i].type;
        if (strcmp(t, "null") == 0)
            return json_null();
        if (strcmp(t, "bool") == 0)
            return json_boolean(strchr("yYtT", s[0]) || (s[1] == 'n' || s[1] == 'N'));
        if (strcmp(t, "int") == 0 &&
            strspn(s + (s[0] == '-'), "0123456789") == strlen(s) - (s[0] == '-') &&
            (s[s[0] == '-'] != '0' || !s[1 + (s[0] == '-')]) && strlen(s) < 18)
            return json_integer(strtoll(s, NULL, 10));
        if (strcmp(t, "float") == 0 && strspn(s, "0123456789.-+eE") == strlen(s) &&
            strchr(s, '.') && s[0] != '.')
            return json_real(strtod(s, NULL));
        return json_pack("{s:s, s:s}", "yaml-type", t, "text", s);
    }
    return json_string(s);
}

/* One node starting at ev (already parsed); the rest from p. */
static json_t *node(yaml_parser_t *p, yaml_event_t *ev, char *why, size_t n)
{
    json_t *v = NULL;
    yaml_event_t e;
    if (ev->type == YAML_ALIAS_EVENT || (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.anchor) ||
        (ev->type == YAML_MAPPING_START_EVENT && ev->data.mapping_start.anchor) ||
        (ev->type == YAML_SEQUENCE_START_EVENT && ev->data.sequence_start.anchor)) {
        snprintf(why, n, "an anchor or alias at line %zu", ev->start_mark.line + 1);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        const char *s = (const char *)ev->data.scalar.value;
        if (ev->data.scalar.tag) {
            snprintf(why, n, "a tag %s at line %zu", ev->data.scalar.tag, ev->start_mark.line + 1);
            return NULL;
        }
        if (strlen(s) != ev->data.scalar.length) {
            snprintf(why, n, "a NUL in a scalar at line %zu", ev->start_mark.line + 1);
            return NULL;
        }
        return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain(s) : json_string(s);
    }
    case YAML_SEQUENCE_START_EVENT:
        v = json_array();
        for (;;) {
            if (!yaml_parser_parse(p, &e)) {
                snprintf(why, n, "%s at line %zu", p->problem, p->problem_mark.line + 1);
                json_decref(v);
                return NULL;
            }
            if (e.type == YAML_SEQUENCE_END_EVENT) {
                yaml_event_delete(&e);
                return v;
            }
            json_t *item = node(p, &e, why, n);
            yaml_event_delete(&e);
            if (!item) {
                json_decref(v);
                return NULL;
            }
            json_array_append_new(v, item);
        }
    case YAML_MAPPING_START_EVENT:
        v = json_object();
        for (;;) {
            if (!yaml_parser_parse(p, &e)) {
                snprintf(why, n, "%s at line %zu", p->problem, p->problem_mark.line + 1);
                json_decref(v);
                return NULL;
            }
            if (e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                return v;
            }
            json_t *k = node(p, &e, why, n);
            size_t line = e.start_mark.line + 1;
            yaml_event_delete(&e);
            if (!k || !json_is_string(k)) {
                if (k)
                    snprintf(why, n, "a key that is no string at line %zu", line);
                json_decref(k);
                json_decref(v);
                return NULL;
            }
            if (json_object_get(v, json_string_value(k))) {
                snprintf(why, n, "key %.60s twice at line %zu", json_string_value(k), line);
                json_decref(k);
                json_decref(v);
                return NULL;
            }
            if (!yaml_parser_parse(p, &e)) {
                snprintf(why, n, "%s at line %zu", p->problem, p->problem_mark.line + 1);
                json_decref(k);
                json_decref(v);
                return NULL;
            }
            json_t *val = node(p, &e, why, n);
            yaml_event_delete(&e);
            if (!val) {
                json_decref(k);
                json_decref(v);
                return NULL;
            }
            json_object_set_new(v, json_string_value(k), val);
            json_decref(k);
        }
    default:
        snprintf(why, n, "unexpected event %d", ev->type);
        return NULL;
    }
}

json_t *yamltest_load(const char *text, char *why, size_t why_len)
{
    yaml_parser_t p;
    yaml_event_t e;
    json_t *docs = json_array();
    int done = 0;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    while (!done) {
        if (!yaml_parser_parse(&p, &e)) {
            snprintf(why, why_len, "%s at line %zu", p.problem, p.problem_mark.line + 1);
            goto fail;
        }
        switch (e.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            break;
        default: {
            json_t *d = node(&p, &e, why, why_len);
            if (!d) {
                yaml_event_delete(&e);
                goto fail;
            }
            json_array_append_new(docs, d);
        }
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&p);
    return docs;
fail:
    yaml_parser_delete(&p);
    json_decref(docs);
    return NULL;
}

int yamltest_same(const char *a, const char *b, char *why, size_t why_len)
{
    json_t *da = yamltest_load(a, why, why_len);
    if (!da)
        return 0;
    json_t *db = yamltest_load(b, why, why_len);
    int same = db && json_equal(da, db);
    if (db && !same) {
        char *ta = json_dumps(da, JSON_COMPACT | JSON_SORT_KEYS);
        char *tb = json_dumps(db, JSON_COMPACT | JSON_SORT_KEYS);
        size_t i = 0;
        while (ta && tb && ta[i] && ta[i] == tb[i])
            i++;
        size_t from = i > 60 ? i - 60 : 0;
        snprintf(why, why_len, "documents differ: ...%.120s\n  vs ...%.120s", ta ? ta + from : "",
                 tb ? tb + from : "");
        free(ta);
        free(tb);
    }
    json_decref(da);
    json_decref(db);
    return same;
}
