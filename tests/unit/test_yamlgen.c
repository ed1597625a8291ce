/*
 * Unit tests for backend/yamlgen.c: JSON to YAML through libyaml's emitter.
 * The layout of each kind of value, the strings a YAML 1.1 reader would
 * take for something else (quoted), and every row read back by libyaml's
 * parser (tests/unit/support/yamltest) to the JSON it came from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "testutil.h"
#include "yamlgen.h"
#include "yamltest.h"

/* Writes j, checks the text (when want is not NULL) and that it reads back
 * as j (documents: flags has YAMLGEN_DOCUMENTS). */
static void round_trip(size_t row, json_t *j, int flags, const char *want)
{
    struct buf b = {0};
    CHECK(yamlgen_write(&b, j, flags) == 0, "row %zu: failed", row);
    if (want)
        CHECK(b.data && strcmp(b.data, want) == 0, "row %zu:\n%s\nwant:\n%s", row,
              b.data ? b.data : "(null)", want);
    char why[256] = "";
    json_t *back = yamltest_load(b.data, why, sizeof why);
    CHECK(back, "row %zu: does not parse: %s\n%s", row, why, b.data);
    json_t *docs = flags & YAMLGEN_DOCUMENTS ? json_incref(j) : json_pack("[O]", j);
    CHECK(json_equal(back, docs), "row %zu: reads back as something else:\n%s", row, b.data);
    json_decref(docs);
    json_decref(back);
    buf_free(&b);
}

static void test_layout(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *yaml;
    } rows[] = {
        {"{\"a\":1,\"b\":true,\"c\":null,\"d\":\"plain\",\"e\":-2}",
         "a: 1\nb: true\nc: null\nd: plain\ne: -2\n"},
        /* what YAML 1.1 would read as something else is double-quoted */
        {"{\"x\":[\"yes\",\"No\",\"on\",\"true\",\"null\",\"\",\"3.0\",\"5000/tcp\",\"~\",\"y\","
         "\"0x1\",\"1:20\",\".5\",\"-1\",\"<<\",\"=\",\".inf\",\"2001-12-14\"]}",
         "x:\n- \"yes\"\n- \"No\"\n- \"on\"\n- \"true\"\n- \"null\"\n- \"\"\n- \"3.0\"\n"
         "- \"5000/tcp\"\n- \"~\"\n- \"y\"\n- \"0x1\"\n- \"1:20\"\n- \".5\"\n- \"-1\"\n- \"<<\"\n"
         "- \"=\"\n- \".inf\"\n- \"2001-12-14\"\n"},
        /* the syntax is libyaml's: it quotes what a plain scalar cannot hold */
        {"{\"s\":\"a: b\",\"t\":\"#x\",\"u\":\"q\\\"uote\\\\\",\"v\":\"tab\\there\",\"w\":\"*a\","
         "\"x\":\"&a\",\"yy\":\"!a\",\"z\":\"-v\",\"q\":\"%a\",\"r\":\"@a\",\"p\":\"a #b\"}",
         "s: 'a: b'\nt: '#x'\nu: q\"uote\\\nv: \"tab\\there\"\nw: '*a'\nx: '&a'\nyy: '!a'\nz: -v\n"
         "q: '%a'\nr: '@a'\np: 'a #b'\n"},
        {"{\"e\":{},\"f\":[],\"g\":{\"h\":{\"i\":[1,2]}}}",
         "e: {}\nf: []\ng:\n  h:\n    i:\n    - 1\n    - 2\n"},
        /* objects in lists start on the dash line */
        {"[{\"name\":\"a\",\"env\":[{\"k\":\"v\"}]},{\"name\":\"b\"}]",
         "- name: a\n  env:\n  - k: v\n- name: b\n"},
        {"{\"text\":\"line one\\n\\n  indented\\n\",\"cut\":\"a\\nb\",\"keep\":\"a\\n\\n\"}",
         "text: |\n  line one\n\n    indented\ncut: |-\n  a\n  b\nkeep: |+\n  a\n\n...\n"},
        /* a newline beside a control character: double-quoted, escaped */
        {"{\"c\":\"a\\u0001b\\nc\",\"d\":\"esc\\u001b[0m\"}",
         "c: \"a\\x01b\\nc\"\nd: \"esc\\e[0m\"\n"},
        {"{\"we-ird key\":1,\"app.kubernetes.io/name\":2,\"yes\":3}",
         "we-ird key: 1\napp.kubernetes.io/name: 2\n\"yes\": 3\n"},
        {"{\"u\":\"caf\\u00e9 \\u2603\"}", "u: caf\xc3\xa9 \xe2\x98\x83\n"},
        {"{\"long\":\"" /* no folding at 80 columns */
         "aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd eeeeeeeeee ffffffffff gggggggggg hhhhhhhhhh"
         "\"}",
         "long: aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd eeeeeeeeee ffffffffff gggggggggg "
         "hhhhhhhhhh\n"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        json_error_t je;
        json_t *j = json_loads(rows[i].json, JSON_PRESERVE_ORDER, &je);
        CHECK(j, "row %zu: %s", i, je.text);
        round_trip(i, j, 0, rows[i].yaml);
        json_decref(j);
    }
}

static void test_documents_and_quoting(void **state)
{
    (void)state;
    json_t *docs = json_pack("[{s:s}, {s:[s]}]", "a", "b", "c", "d");
    round_trip(0, docs, YAMLGEN_DOCUMENTS, "a: b\n---\nc:\n- d\n");
    json_decref(docs);
    json_t *q = json_pack("{s:s, s:b, s:i}", "k", "plain", "t", 1, "m", 7);
    round_trip(1, q, YAMLGEN_QUOTE_VALUES, "k: \"plain\"\nt: true\nm: 7\n");
    json_decref(q);
    /* text that is no UTF-8 is refused (jansson never makes one; built
     * here with json_stringn_nocheck) and nothing is left in the buffer */
    json_t *bad = json_object();
    json_object_set_new(bad, "k", json_stringn_nocheck("a\xff", 2));
    struct buf b = {0};
    buf_printf(&b, "# head\n");
    assert_int_equal(yamlgen_write(&b, bad, 0), -1);
    assert_string_equal(b.data, "# head\n");
    buf_free(&b);
    json_decref(bad);
}

static void test_plain_typed(void **state)
{
    (void)state;
    static const char *const typed[] = {
        "",           "yes",  "NO",  "On",  "off", "Y",  "n",     "TRUE", "Null", "~",  "0",
        "007",        "0x1F", "0o7", "1e3", "1.5", ".5", "-.inf", ".NaN", "+1",   "-1", "1:20",
        "2001-12-14", "<<",   "=",   "5s",  ".",   "-.", ".e+1",  "..",   "+5"};
    static const char *const plain[] = {"a",          "plain", "yesno",  "onion", "nullable",
                                        "x1",         "-v",    "--save", "/etc",  "a b",
                                        "registry:3", "-",     "-a",     ".a",    "a."};
    for (size_t i = 0; i < sizeof typed / sizeof *typed; i++)
        CHECK(yamlgen_plain_typed(typed[i]), "%s: not typed", typed[i]);
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
        CHECK(!yamlgen_plain_typed(plain[i]), "%s: typed", plain[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_documents_and_quoting),
        cmocka_unit_test(test_plain_typed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
