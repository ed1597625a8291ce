/*
 * Unit tests for backend/tpl.c: the substitution that fills the text
 * templates of backend/templates/ (values, sections, inverted sections,
 * tags alone on their line, includes) and the template mistakes it
 * refuses. That the team bundle's texts come out as before is
 * test_team_golden's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "tpl.h"

static const struct tpl_var vars[] = {
    {"name", "world"}, {"on", "1"}, {"off", NULL}, {"empty", ""}, {"tricky", "{{name}}"},
};
#define NVARS (sizeof vars / sizeof *vars)

static void test_fill(void **state)
{
    (void)state;
    static const struct {
        const char *tpl;
        const char *want; /* NULL: refused */
    } rows[] = {
        {"hello {{name}}!\n", "hello world!\n"},
        {"no tags", "no tags"},
        {"", ""},
        {"{{off}}|{{empty}}|", "||"},
        /* values are never read for tags */
        {"{{tricky}}", "{{name}}"},
        {"a{{#on}} b{{/on}}{{#off}} c{{/off}}{{^off}} d{{/off}}{{^on}} "
         "e{{/on}}{{#empty}}f{{/empty}}",
         "a b d"},
        /* a section tag alone on its line takes the newline with it */
        {"one\n{{#on}}\ntwo\n{{/on}}\nthree\n", "one\ntwo\nthree\n"},
        {"one\n{{#off}}\ntwo\n{{/off}}\nthree\n", "one\nthree\n"},
        {"{{#on}}\nfirst\n{{/on}}\n", "first\n"},
        /* nested sections of other names */
        {"{{#on}}<{{^off}}x{{/off}}>{{/on}}", "<x>"},
        /* braces that are no tag */
        {"{a: {b: c}} }} {", "{a: {b: c}} }} {"},
        /* an include fills the file with the same values */
        {"[{{>readme-cleanup.md}}]", NULL /* checked below */},
        {"{{nope}}", NULL},
        {"{{#nope}}x{{/nope}}", NULL},
        {"{{#on}}x", NULL},
        {"x{{/on}}", NULL},
        {"{{name", NULL},
        {"{{>no-such-file.md}}", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        if (strstr(rows[i].tpl, "{{>readme"))
            continue;
        struct buf b = {0};
        int rc = tpl_fill_text(&b, rows[i].tpl, vars, NVARS);
        if (rows[i].want) {
            CHECK(rc == 0, "row %zu: refused", i);
            CHECK(strcmp(b.data ? b.data : "", rows[i].want) == 0, "row %zu: [%s], want [%s]", i,
                  b.data ? b.data : "", rows[i].want);
        } else {
            CHECK(rc == -1, "row %zu: accepted: [%s]", i, b.data ? b.data : "");
        }
        buf_free(&b);
    }
}

static void test_include_and_files(void **state)
{
    (void)state;
    struct buf b = {0};
    assert_int_equal(tpl_fill_text(&b, "[{{>readme-cleanup.md}}]", vars, NVARS), 0);
    const char *note = tpl_get("readme-cleanup.md");
    assert_non_null(note);
    assert_int_equal(b.len, strlen(note) + 2);
    assert_memory_equal(b.data + 1, note, strlen(note));
    buf_free(&b);
    /* alone on its line, the include takes the newline after it */
    assert_int_equal(tpl_fill_text(&b, "{{>readme-cleanup.md}}\nnext", vars, NVARS), 0);
    assert_int_equal(b.len, strlen(note) + 4);
    buf_free(&b);
    static const char *const files[] = {
        "haproxy.cfg",    "secrets-env.sh", "readme-compose.md", "readme-kubernetes.md",
        "readme-helm.md", "readme-head.md", "readme-secrets.md", "readme-cleanup.md"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        CHECK(tpl_get(files[i]) != NULL, "%s is not compiled in", files[i]);
    assert_null(tpl_get("templates.h"));
    assert_int_equal(tpl_fill(&b, "no-such-file", vars, NVARS), -1);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_include_and_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
