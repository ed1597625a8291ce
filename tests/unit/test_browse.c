/*
 * Unit tests for the pure parts of backend/browse.c: repository names,
 * digests, the facts of manifest documents (image, index, not one), the
 * registry's Link header and the paging arguments of the API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "browse.h"

static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int ok;
    } cases[] = {
        {"alpine", 1}, {"team/app", 1}, {"a.b-c_d/e", 1}, {"a__b", 1}, {"x", 1},
        {"", 0},       {"/a", 0},       {"a/", 0},        {"_a", 0},   {"a_", 0},
        {"-a", 0},     {".a", 0},       {"A", 0},         {"a//b", 0}, {"a/-b", 0},
        {"a..b", 0},   {"a b", 0},      {"a:b", 0},       {"a@b", 0},  {"a%2fb", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (browse_name_valid(cases[i].name) != cases[i].ok)
            fail_msg("name '%s': expected %d", cases[i].name, cases[i].ok);
    }
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(browse_name_valid(longname));
}

static void test_digests(void **state)
{
    (void)state;
    const char *good = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    assert_true(browse_digest_valid(good));
    assert_false(browse_digest_valid("sha256:0123"));
    assert_false(browse_digest_valid(
        "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_false(browse_digest_valid(
        "sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_false(browse_digest_valid(
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"));
    assert_false(browse_digest_valid(""));
}

static json_t *facts_of(const char *text)
{
    json_t *m = json_loads(text, 0, NULL);
    assert_non_null(m);
    json_t *f = browse_manifest_facts(m);
    json_decref(m);
    return f;
}

static void test_manifest_facts(void **state)
{
    (void)state;
    json_t *f = facts_of("{\"schemaVersion\":2,\"mediaType\":\"application/"
                         "vnd.docker.distribution.manifest.v2+json\",\"config\":{\"size\":1000,"
                         "\"digest\":\"sha256:c\"},\"layers\":[{\"size\":2000},{\"size\":3000}]}");
    assert_string_equal(json_string_value(json_object_get(f, "kind")), "image");
    assert_int_equal(json_integer_value(json_object_get(f, "size")), 6000);
    assert_int_equal(json_integer_value(json_object_get(f, "layers")), 2);
    assert_string_equal(json_string_value(json_object_get(f, "config")), "sha256:c");
    json_decref(f);

    f = facts_of("{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                 "{\"digest\":\"sha256:a\",\"platform\":{\"os\":\"linux\",\"architecture\":"
                 "\"amd64\"}},{\"digest\":\"sha256:b\",\"platform\":{\"os\":\"linux\","
                 "\"architecture\":\"arm\",\"variant\":\"v7\"}},{\"digest\":\"sha256:att\","
                 "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}");
    assert_string_equal(json_string_value(json_object_get(f, "kind")), "index");
    assert_int_equal(json_array_size(json_object_get(f, "manifests")), 3);
    json_t *p = json_object_get(f, "platforms");
    assert_int_equal(json_array_size(p), 2); /* attestations are no platform */
    assert_string_equal(json_string_value(json_array_get(p, 1)), "linux/arm/v7");
    json_decref(f);

    /* crafted sizes clamp instead of overflowing */
    f = facts_of("{\"config\":{\"size\":9223372036854775807},\"layers\":[{\"size\":"
                 "9223372036854775807},{\"size\":-5}]}");
    assert_int_equal(json_integer_value(json_object_get(f, "size")), INT64_MAX);
    json_decref(f);

    f = facts_of("{\"schemaVersion\":1,\"fsLayers\":[]}");
    assert_null(f);
    assert_null(browse_manifest_facts(NULL));
}

static void test_next_page(void **state)
{
    (void)state;
    char path[64];
    assert_int_equal(
        browse_next_page("</v2/_catalog?last=b%2Fc&n=1000>; rel=\"next\"", path, sizeof path), 0);
    assert_string_equal(path, "/v2/_catalog?last=b%2Fc&n=1000");
    assert_int_equal(
        browse_next_page("</v2/a/tags/list?last=v1&n=2>; rel=\"next\"", path, sizeof path), 0);
    assert_string_equal(path, "/v2/a/tags/list?last=v1&n=2");
    static const char *const refused[] = {
        "",                                                /* the last page */
        "</v2/_catalog?last=b&n=1>; rel=\"prev\"",         /* not the next one */
        "<http://evil.example/v2/_catalog>; rel=\"next\"", /* another host */
        "</v2/_catalog?last=a b>; rel=\"next\"",           /* a space in a path */
        "</v2/_catalog?last=b&n=1; rel=\"next\"",          /* no '>' */
        "</v2/_catalog?last=0123456789012345678901234567890123456789012345678901234567890>; "
        "rel=\"next\"", /* longer than the buffer */
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        if (browse_next_page(refused[i], path, sizeof path) != -1)
            fail_msg("link '%s' taken", refused[i]);
    }
}

static void test_page_args(void **state)
{
    (void)state;
    long off = -1, lim = -1;
    struct err e = {0};
    assert_int_equal(browse_page_args(NULL, NULL, &off, &lim, &e), 0);
    assert_int_equal(off, 0);
    assert_int_equal(lim, BROWSE_MAX_REPOS);
    assert_int_equal(browse_page_args("1000", "50", &off, &lim, &e), 0);
    assert_int_equal(off, 1000);
    assert_int_equal(lim, 50);
    static const struct {
        const char *offset, *limit, *field;
    } bad[] = {
        {"-1", NULL, "offset"},  {"x", NULL, "offset"},   {"", NULL, "offset"},
        {"1e3", NULL, "offset"}, {"+5", NULL, "offset"},  {"99999999999999999999", NULL, "offset"},
        {NULL, "0", "limit"},    {NULL, "1001", "limit"}, {NULL, " 5", "limit"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&e, 0, sizeof e);
        if (browse_page_args(bad[i].offset, bad[i].limit, &off, &lim, &e) != -1)
            fail_msg("case %zu accepted", i);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.field, bad[i].field);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),          cmocka_unit_test(test_digests),
        cmocka_unit_test(test_manifest_facts), cmocka_unit_test(test_next_page),
        cmocka_unit_test(test_page_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
