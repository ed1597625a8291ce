/*
 * Unit tests for backend/util.c: the capped buffer, err_set, str_redact,
 * format_time_utc and the small string helpers. Tables of cases; a failing
 * row names itself.
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

#include "util.h"
#include "testutil.h"

/* ---- buf ---------------------------------------------------------------- */

static void test_buf_grows_and_terminates(void **state)
{
    struct buf b = {0};
    char chunk[300];
    size_t want = 0;
    for (int i = 0; i < 40; i++) {
        size_t n = (size_t)(i * 37) % sizeof chunk;
        memset(chunk, 'a' + i % 26, n);
        assert_int_equal(buf_append(&b, chunk, n), 0);
        want += n;
        assert_int_equal(b.len, want);
        assert_true(b.cap > b.len);
        assert_int_equal(b.data[b.len], '\0');
        assert_int_equal(b.overflow, 0);
    }
    /* the bytes are the ones appended, in order */
    size_t off = 0;
    for (int i = 0; i < 40; i++) {
        size_t n = (size_t)(i * 37) % sizeof chunk;
        for (size_t k = 0; k < n; k++)
            assert_int_equal(b.data[off + k], 'a' + i % 26);
        off += n;
    }
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void test_buf_empty_append_gives_string(void **state)
{
    struct buf b = {0};
    assert_int_equal(buf_append(&b, NULL, 0), 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_buf_cap(void **state)
{
    static const struct {
        const char *name;
        size_t max;
        size_t first;  /* appended first, must fit */
        size_t second; /* then this */
        int second_rc;
    } cases[] = {
        {"fills exactly", 10, 4, 6, 0},
        {"one over", 10, 4, 7, -1},
        {"first fills", 10, 10, 0, 0},
        {"first fills then one", 10, 10, 1, -1},
        {"large cap", 100000, 70000, 30000, 0},
        {"large cap over", 100000, 70000, 30001, -1},
        {"cap of one", 1, 1, 1, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct buf b = {.max = cases[i].max};
        char *src = malloc(cases[i].first + cases[i].second + 1);
        assert_non_null(src);
        memset(src, 'x', cases[i].first);
        memset(src + cases[i].first, 'y', cases[i].second);
        CHECK(buf_append(&b, src, cases[i].first) == 0, "%s: first append", cases[i].name);
        int rc = buf_append(&b, src + cases[i].first, cases[i].second);
        CHECK(rc == cases[i].second_rc, "%s: rc %d", cases[i].name, rc);
        if (rc) {
            /* refused: nothing changed but the overflow flag */
            CHECK(b.overflow == 1, "%s: overflow not set", cases[i].name);
            CHECK(b.len == cases[i].first, "%s: len %zu", cases[i].name, b.len);
            CHECK(b.data == NULL || b.data[b.len] == '\0', "%s: not terminated", cases[i].name);
            /* a later append that fits still works; the flag stays */
            size_t room = cases[i].max - b.len;
            if (room)
                CHECK(buf_append(&b, "z", 1) == 0 && b.overflow == 1, "%s: append after",
                      cases[i].name);
            buf_reset(&b);
            CHECK(b.len == 0 && b.overflow == 0, "%s: reset", cases[i].name);
        } else {
            CHECK(b.len == cases[i].first + cases[i].second && b.overflow == 0, "%s: len %zu",
                  cases[i].name, b.len);
            CHECK(b.len <= b.max, "%s: over cap", cases[i].name);
        }
        free(src);
        buf_free(&b);
    }
}

static void test_buf_printf(void **state)
{
    struct buf b = {0};
    assert_int_equal(buf_printf(&b, "%s=%d;", "port", 9999), 0);
    assert_string_equal(b.data, "port=9999;");
    /* longer than the 1 KiB stack buffer */
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, 10 + 2 + sizeof big - 1);
    assert_int_equal(b.data[10], '[');
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[b.len], '\0');
    buf_free(&b);

    struct buf c = {.max = 8};
    assert_int_equal(buf_printf(&c, "%s", "12345678"), 0);
    assert_int_equal(buf_printf(&c, "%d", 9), -1);
    assert_int_equal(c.overflow, 1);
    assert_string_equal(c.data, "12345678");
    buf_free(&c);

    struct buf d = {.max = 2000};
    assert_int_equal(buf_printf(&d, "%s", big), -1);
    assert_int_equal(d.len, 0);
    buf_free(&d);
}

/* YAML double-quoted scalars, as the gateway's config and the team export
 * write them */
/* ---- err_set ------------------------------------------------------------ */

static void test_err_set(void **state)
{
    assert_int_equal(err_set(NULL, 400, E_INTERNAL, "y", "%s", "z"), -1);

    struct err e;
    memset(&e, 0x55, sizeof e);
    assert_int_equal(err_set(&e, 400, E_INVALID_VALUE, "bucket", "bad %s %d", "name", 3), -1);
    assert_int_equal(e.status, 400);
    assert_string_equal(ecode_name(e.code), "invalid_value");
    assert_string_equal(e.field, "bucket");
    assert_string_equal(e.message, "bad name 3");

    /* no field: empty, not stale */
    assert_int_equal(err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory"), -1);
    assert_string_equal(e.field, "");
    assert_int_equal(e.status, 500);
    assert_string_equal(ecode_name(e.code), "no_memory");

    /* long field and message are cut, still terminated */
    char longf[200], longm[2000];
    memset(longf, 'f', sizeof longf - 1);
    longf[sizeof longf - 1] = '\0';
    memset(longm, 'm', sizeof longm - 1);
    longm[sizeof longm - 1] = '\0';
    err_set(&e, 400, E_INTERNAL, longf, "%s", longm);
    assert_int_equal(strlen(e.field), sizeof e.field - 1);
    assert_int_equal(strlen(e.message), sizeof e.message - 1);
    assert_int_equal(strspn(e.field, "f"), sizeof e.field - 1);
}

/* ---- str_redact --------------------------------------------------------- */

static void test_str_redact(void **state)
{
    static const struct {
        const char *name;
        const char *in;
        const char *secrets[3];
        int n;
        const char *want;
    } cases[] = {
        {"no secrets", "plain text", {NULL}, 0, "plain text"},
        {"empty input", "", {"abcd"}, 1, ""},
        {"one hit", "key=abcd1234 ok", {"abcd1234"}, 1, "key=[redacted] ok"},
        {"at start and end", "abcd-x-abcd", {"abcd"}, 1, "[redacted]-x-[redacted]"},
        {"adjacent", "abcdabcd", {"abcd"}, 1, "[redacted][redacted]"},
        {"whole input", "abcd", {"abcd"}, 1, "[redacted]"},
        {"short secret kept", "abc abc", {"abc"}, 1, "abc abc"},
        {"NULL secret skipped", "abcd", {NULL, "abcd"}, 2, "[redacted]"},
        {"longest secret wins over its prefix",
         "x=abcdefgh.",
         {"abcd", "abcdefgh"},
         2,
         "x=[redacted]."},
        {"empty secret skipped", "abcd", {"", "bcd"}, 2, "abcd"},
        {"secret longer than input", "abc", {"abcdef"}, 1, "abc"},
        {"partial at end", "xx abcde", {"abcdef"}, 1, "xx abcde"},
        {"two secrets",
         "grant=GGGG key=SSSS",
         {"GGGG", "SSSS"},
         2,
         "grant=[redacted] key=[redacted]"},
        {"overlap in text", "aaaaa", {"aaaa"}, 1, "[redacted]a"},
        {"case matters", "ABCD", {"abcd"}, 1, "ABCD"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct buf out = {0};
        int rc = str_redact(&out, cases[i].in, strlen(cases[i].in), cases[i].secrets, cases[i].n);
        CHECK(rc == 0, "%s: rc %d", cases[i].name, rc);
        CHECK(out.data != NULL, "%s: no data", cases[i].name);
        CHECK(strcmp(out.data, cases[i].want) == 0, "%s: got \"%s\" want \"%s\"", cases[i].name,
              out.data, cases[i].want);
        CHECK(out.len == strlen(cases[i].want), "%s: len", cases[i].name);
        buf_free(&out);
    }
}

static void test_str_redact_bytes(void **state)
{
    /* len, not NUL, ends the input; a secret after an embedded NUL is found */
    static const char in[] = "a\0secret!";
    const char *secrets[] = {"secret"};
    struct buf out = {0};
    assert_int_equal(str_redact(&out, in, sizeof in - 1, secrets, 1), 0);
    assert_int_equal(out.len, 2 + 10 + 1);
    assert_memory_equal(out.data, "a\0[redacted]!", out.len);
    buf_free(&out);

    /* only the first len bytes are read */
    assert_int_equal(str_redact(&out, "secretsecret", 8, secrets, 1), 0);
    assert_string_equal(out.data, "[redacted]se");
    buf_free(&out);
}

static void test_str_redact_cap(void **state)
{
    const char *secrets[] = {"abcd"};
    /* the replacement is longer than the secret: the cap can bite */
    struct buf out = {.max = 12};
    assert_int_equal(str_redact(&out, "abcdabcd", 8, secrets, 1), -1);
    assert_int_equal(out.overflow, 1);
    assert_true(out.len <= 12);
    buf_free(&out);

    struct buf ok = {.max = 20};
    assert_int_equal(str_redact(&ok, "abcdabcd", 8, secrets, 1), 0);
    assert_string_equal(ok.data, "[redacted][redacted]");
    buf_free(&ok);
}

/* ---- time and strings --------------------------------------------------- */

static void test_format_time_utc(void **state)
{
    static const struct {
        long long t;
        const char *want;
    } cases[] = {
        {0, "1970-01-01T00:00:00Z"},
        {1, "1970-01-01T00:00:01Z"},
        {-1, "1969-12-31T23:59:59Z"},
        {951782400, "2000-02-29T00:00:00Z"},
        {1700000000, "2023-11-14T22:13:20Z"},
        {1798761599, "2026-12-31T23:59:59Z"},
        {2147483647, "2038-01-19T03:14:07Z"},
        {2147483648LL, "2038-01-19T03:14:08Z"},
        {4102444800LL, "2100-01-01T00:00:00Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[32];
        memset(out, 'X', sizeof out);
        format_time_utc(cases[i].t, out, sizeof out);
        CHECK(strcmp(out, cases[i].want) == 0, "%lld: got %s want %s", cases[i].t, out,
              cases[i].want);
    }
    /* the documented minimum size is enough */
    char small[21];
    format_time_utc(1700000000, small, sizeof small);
    assert_string_equal(small, "2023-11-14T22:13:20Z");
}

static void test_string_helpers(void **state)
{
    assert_null(xstrdup(NULL));
    char *d = xstrdup("abc");
    assert_string_equal(d, "abc");
    free(d);

    assert_true(str_eq(NULL, NULL));
    assert_false(str_eq(NULL, ""));
    assert_false(str_eq("", NULL));
    assert_true(str_eq("", ""));
    assert_true(str_eq("ab", "ab"));
    assert_false(str_eq("ab", "abc"));

    char *s = xstrdup("secret");
    secret_free(&s);
    assert_null(s);
    secret_free(&s); /* NULL is fine */

    char h1[65], h2[65];
    assert_int_equal(random_hex(h1, 32), 0);
    assert_int_equal(random_hex(h2, 32), 0);
    assert_int_equal(strlen(h1), 64);
    assert_int_equal(strspn(h1, "0123456789abcdef"), 64);
    assert_string_not_equal(h1, h2);
    char big[200];
    assert_int_equal(random_hex(big, 65), -1);
    char none[1];
    assert_int_equal(random_hex(none, 0), 0);
    assert_string_equal(none, "");
}

/* ---- str_utf8_clean ----------------------------------------------------- */

/* Issue 9.1: a message cut inside a character (by the 512-byte buffer or a
 * %.Ns precision) must still encode as JSON; before the fix jansson refused
 * it and the request got no answer at all. */
static void test_err_set_cuts_on_characters(void **state)
{
    char key[2 + 40 * 2 + 1] = "a";
    for (int i = 0; i < 40; i++)
        strcat(key, "\xc3\xa9"); /* é */
    struct err e;
    /* the API's "unknown field %.60s": 60 bytes end inside an é */
    err_set(&e, 400, E_UNKNOWN_FIELD, key, "unknown field %.60s", key);
    json_t *j = json_string(e.message);
    CHECK(j != NULL, "precision cut: %s", e.message);
    json_decref(j);
    j = json_string(e.field);
    CHECK(j != NULL, "field cut at 64 bytes: %s", e.field);
    json_decref(j);
    /* the buffer's own cut: 600 bytes of é into 512 */
    char big[601];
    for (int i = 0; i < 300; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2);
    big[600] = '\0';
    err_set(&e, 400, E_INTERNAL, NULL, "%s", big);
    j = json_string(e.message);
    CHECK(j != NULL, "buffer cut");
    json_decref(j);
    CHECK(strlen(e.message) == 510, "cut whole characters only: %zu", strlen(e.message));

    static const struct {
        const char *in, *want;
    } rows[] = {
        {"", ""},
        {"abc", "abc"},
        {"a\xc3", "a"},
        {"a\xc3\xa9", "a\xc3\xa9"},
        {"a\xe2\x82", "a"},
        {"a\xe2\x82\xac", "a\xe2\x82\xac"},
        {"\xf0\x9f\x98", ""},
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
        {"a\x80", "a\x80"}, /* a stray continuation byte is str_utf8_clean's job */
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char t[16];
        snprintf(t, sizeof t, "%s", rows[i].in);
        str_utf8_cut(t);
        CHECK(strcmp(t, rows[i].want) == 0, "row %zu", i);
    }
}

static void test_utf8_clean(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"plain ascii", 11, "plain ascii"},
        {"caf\xc3\xa9", 5, "caf\xc3\xa9"},             /* valid 2-byte */
        {"\xe2\x82\xac euro", 8, "\xe2\x82\xac euro"}, /* valid 3-byte */
        {"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"},   /* valid 4-byte */
        {"bad \xff byte", 10, "bad ? byte"},           /* never valid */
        {"cut \xc3", 5, "cut ?"},                      /* truncated at the end */
        {"\xc0\xaf", 2, "??"},                         /* overlong */
        {"\xed\xa0\x80", 3, "???"},                    /* surrogate */
        {"\xf5\x80\x80\x80", 4, "????"},               /* above U+10FFFF */
        {"\x80lone", 5, "?lone"},                      /* continuation alone */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[32];
        memcpy(buf, cases[i].in, cases[i].len);
        buf[cases[i].len] = '\0';
        str_utf8_clean(buf, cases[i].len);
        assert_string_equal(buf, cases[i].want);
        json_t *j = json_stringn(buf, cases[i].len);
        assert_non_null(j); /* jansson takes it as UTF-8 */
        json_decref(j);
    }
}

/* The error table: every code has a unique API name in lower snake case,
 * and every hint is a sentence. */
static void test_error_table(void **state)
{
    assert_null(ecode_name(E_NONE));
    assert_null(ecode_name(E__COUNT));
    assert_null(ecode_hint(E_NONE));
    for (int c = E_NONE + 1; c < E__COUNT; c++) {
        const char *n = ecode_name((enum ecode)c);
        CHECK(n && *n, "code %d has no name", c);
        if (!n)
            continue;
        CHECK(strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(n), "name '%s'", n);
        for (int d = E_NONE + 1; d < c; d++)
            CHECK(strcmp(n, ecode_name((enum ecode)d)) != 0, "'%s' named twice", n);
        const char *h = ecode_hint((enum ecode)c);
        CHECK(!h || (h[0] >= 'A' && h[0] <= 'Z' && h[strlen(h) - 1] == '.'),
              "hint of %s is not a sentence: %s", n, h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_buf_grows_and_terminates),
        cmocka_unit_test(test_buf_empty_append_gives_string),
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_buf_printf),
        cmocka_unit_test(test_err_set),
        cmocka_unit_test(test_str_redact),
        cmocka_unit_test(test_str_redact_bytes),
        cmocka_unit_test(test_str_redact_cap),
        cmocka_unit_test(test_format_time_utc),
        cmocka_unit_test(test_utf8_clean),
        cmocka_unit_test(test_err_set_cuts_on_characters),
        cmocka_unit_test(test_string_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
