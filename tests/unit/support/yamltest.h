/*
 * yamltest: YAML text to JSON with libyaml's parser, for the tests and the
 * fuzzer that check what the backend writes. Scalars are typed as a YAML
 * 1.1 reader types them (yaml.v2, which distribution and Kubernetes use,
 * and PyYAML): a plain `yes`, `on`, `~`, `0x1`, `1:20`, `2001-12-14`
 * is no string; a quoted or block scalar always is. Written apart from
 * backend/yaml.c's own choice of quoting, so that one checks the other.
 */
#ifndef YAMLTEST_H
#define YAMLTEST_H

#include <jansson.h>
#include <stddef.h>

/* Every document of text as an array (one element per document). Plain
 * scalars: null, true/false, integers and reals as JSON; other typed plain
 * scalars (hex, octal, sexagesimal, timestamps, `<<`, `=`) as
 * {"yaml-type": "int"|"float"|"timestamp"|"merge"|"value", "text": ...}.
 * NULL with the parser's problem in why when the text is no YAML (or uses
 * anchors, aliases or tags, which the backend never writes). New reference. */
json_t *yamltest_load(const char *text, char *why, size_t why_len);

/* 1 when a and b parse to the same documents; else 0 with the reason. */
int yamltest_same(const char *a, const char *b, char *why, size_t why_len);

#endif
