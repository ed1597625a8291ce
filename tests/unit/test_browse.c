/*
 * Unit tests for the pure parts of backend/browse.c: repository names,
 * digests and the facts of manifest documents (image, index, not one).
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
        {"alpine", 1},         {"team/app", 1},   {"a.b-c_d/e", 1},   {"a__b", 1},
        {"x", 1},              {"", 0},           {"/a", 0},          {"a/", 0},
        {"_a", 0},             {"a_", 0},         {"-a", 0},          {".a", 0},
        {"A", 0},              {"a//b", 0},       {"a/-b", 0},        {"a..b", 0},
        {"a b", 0},            {"a:b", 0},        {"a@b", 0},         {"a%2fb", 0},
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_digests),
        cmocka_unit_test(test_manifest_facts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
