/*
 * Unit tests for backend/readiness.c (the registry verdict on a grant, per
 * mode, in the tab's words) and for where the unencryptedKeys setting takes
 * the derived grant: the gateway's config in storj mode, nowhere in
 * storj-native, and the container spec hash that marks a pending restart.
 * Grants come from the test encoder (support/grant_encoder.c).
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

#include "grant.h"
#include "readiness.h"
#include "regconfig.h"
#include "settings.h"
#include "spec.h"
#include "support/grant_encoder.h"
#include "testutil.h"
#include "util.h"

#define NOW ((time_t)1700000000)
#define US1_ADDR "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S@us1.storj.io:7777"

static const unsigned char key[32] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4,
                                      3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8};

enum kind { K_CONSOLE, K_NULL_KEYS, K_READ_ONLY, K_EXPIRED, K_TTL, K_PREFIX, K_TWO_BUCKETS };

/* A grant text of the given kind; the caller frees it. */
static char *make_grant(enum kind k)
{
    static const char reg[] = "registry", other[] = "other";
    struct tenc_path paths[2] = {{reg, NULL}, {other, NULL}};
    struct tenc_caveat cav = {.paths = paths, .npaths = 1};
    struct tenc_entry entry = {"registry", "", NULL, key, 32, 2};
    struct tenc_grant g = {
        .satellite = US1_ADDR,
        .caveats = &cav,
        .ncaveats = 1,
        .entries = &entry,
        .nentries = 1,
        .path_cipher = 2,
    };
    switch (k) {
    case K_CONSOLE:
        break;
    case K_NULL_KEYS:
        g.path_cipher = 1;
        entry.path_cipher = 1;
        break;
    case K_READ_ONLY:
        cav.disallow_writes = cav.disallow_deletes = true;
        break;
    case K_EXPIRED:
        cav.not_after = (struct tenc_time){true, NOW - 86400, 0};
        break;
    case K_TTL:
        cav.max_ttl = (struct tenc_time){true, 7 * 86400, 0};
        break;
    case K_PREFIX:
        paths[0].prefix = "\x01\x02\x03";
        break;
    case K_TWO_BUCKETS:
        cav.npaths = 2;
        break;
    }
    char *text = tenc_grant(&g);
    assert_non_null(text);
    return text;
}

static json_t *verdict(enum kind k, enum mode mode, const char *bucket, int unenc, json_t **rep)
{
    char *text = make_grant(k);
    struct grant_error err;
    struct grant_info *gi = grant_decode(text, &err);
    if (!gi)
        fail_msg("decode: %s", err.message);
    json_t *r = grant_report(gi, bucket, NOW);
    grant_info_free(gi);
    free(text);
    json_t *v = readiness_verdict(r, mode, bucket, unenc);
    assert_non_null(v);
    if (rep)
        *rep = r;
    else
        json_decref(r);
    return v;
}

/* "code:severity code:severity ..." of a verdict, for table comparison */
static void summary(json_t *v, char *out, size_t len)
{
    size_t i, used = 0;
    json_t *f;
    out[0] = '\0';
    json_array_foreach(json_object_get(v, "findings"), i, f)
    {
        int n = snprintf(out + used, len - used, "%s%s:%s", i ? " " : "",
                         json_string_value(json_object_get(f, "code")),
                         json_string_value(json_object_get(f, "severity")));
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

static void test_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum kind kind;
        enum mode mode;
        const char *bucket;
        int unenc;
        int ready;
        const char *want;
    } rows[] = {
        /* an ordinary console grant (encrypted keys) in each mode */
        {"console storj", K_CONSOLE, MODE_STORJ, "registry", 0, 1, "path_encryption:warning"},
        {"console hosted", K_CONSOLE, MODE_STORJ_HOSTED, "registry", 0, 0, "path_encryption:error"},
        {"console native", K_CONSOLE, MODE_STORJ_NATIVE, "registry", 0, 1,
         "native_not_affected:info"},
        {"console local", K_CONSOLE, MODE_LOCAL, "registry", 0, 1, "grant_not_used:info"},
        {"console s3", K_CONSOLE, MODE_S3, NULL, 0, 1, "grant_not_used:info"},
        /* the one-click fix */
        {"unencrypted storj", K_CONSOLE, MODE_STORJ, "registry", 1, 1,
         "unencrypted_keys:info existing_objects_hidden:warning"},
        {"unencrypted hosted", K_CONSOLE, MODE_STORJ_HOSTED, "registry", 1, 1,
         "unencrypted_keys:info existing_objects_hidden:warning"},
        {"unencrypted ignored in native", K_CONSOLE, MODE_STORJ_NATIVE, "registry", 1, 1,
         "native_not_affected:info"},
        {"already unencrypted", K_NULL_KEYS, MODE_STORJ, "registry", 1, 1,
         "keys_already_unencrypted:info"},
        {"null keys hosted", K_NULL_KEYS, MODE_STORJ_HOSTED, "registry", 0, 1, ""},
        {"null keys native", K_NULL_KEYS, MODE_STORJ_NATIVE, "registry", 0, 1, ""},
        /* what no mode can fix */
        {"read only", K_READ_ONLY, MODE_STORJ, "registry", 1, 0,
         "cannot_write:error cannot_delete:error unencrypted_keys:info "
         "existing_objects_hidden:warning"},
        {"expired", K_EXPIRED, MODE_STORJ_NATIVE, "registry", 0, 0,
         "expired:error native_not_affected:info"},
        {"ttl", K_TTL, MODE_STORJ_HOSTED, "registry", 1, 0,
         "objects_expire:error unencrypted_keys:info existing_objects_hidden:warning"},
        {"prefix", K_PREFIX, MODE_STORJ, "registry", 1, 0,
         "prefix_restricted:error unencrypted_keys:info existing_objects_hidden:warning"},
        {"other bucket", K_CONSOLE, MODE_STORJ, "elsewhere", 1, 0,
         "bucket_not_allowed:error unencrypted_keys:info existing_objects_hidden:warning"},
        {"no bucket", K_NULL_KEYS, MODE_STORJ, NULL, 0, 0, "no_bucket:error"},
        {"no bucket, two named", K_TWO_BUCKETS, MODE_STORJ_NATIVE, "", 0, 0,
         "no_bucket:error native_not_affected:info"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        json_t *v = verdict(rows[i].kind, rows[i].mode, rows[i].bucket, rows[i].unenc, NULL);
        char got[512];
        summary(v, got, sizeof got);
        CHECK(strcmp(got, rows[i].want) == 0, "%s: findings '%s', want '%s'", rows[i].name, got,
              rows[i].want);
        CHECK(json_is_true(json_object_get(v, "ready")) == rows[i].ready, "%s: ready",
              rows[i].name);
        CHECK(strcmp(json_string_value(json_object_get(v, "mode")),
                     settings_mode_name(rows[i].mode)) == 0,
              "%s: mode", rows[i].name);
        /* plain words: modes by their labels, never by API ids, and no
         * finding sends the user to the mode already chosen */
        size_t k;
        json_t *f;
        json_array_foreach(json_object_get(v, "findings"), k, f)
        {
            const char *texts[2] = {json_string_value(json_object_get(f, "message")),
                                    json_string_value(json_object_get(f, "fix"))};
            for (int t = 0; t < 2; t++) {
                if (!texts[t])
                    continue;
                CHECK(!strstr(texts[t], "storj mode") && !strstr(texts[t], "storj-hosted") &&
                          !strstr(texts[t], "storj-native") && !strstr(texts[t], "(own gateway)"),
                      "%s: '%s' names a mode by its id", rows[i].name, texts[t]);
            }
            const char *action = json_string_value(json_object_get(f, "action"));
            CHECK(!action || strcmp(action, "unencrypted-keys") == 0, "%s: action", rows[i].name);
        }
        json_decref(v);
    }
}

static const char *finding(json_t *v, const char *code, const char *member)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(v, "findings"), i,
                       f) if (strcmp(json_string_value(json_object_get(f, "code")), code) ==
                              0) return json_string_value(json_object_get(f, member));
    return NULL;
}

static void test_words(void **state)
{
    (void)state;
    json_t *v = verdict(K_CONSOLE, MODE_STORJ, "registry", 0, NULL);
    const char *m = finding(v, "path_encryption", "message");
    assert_non_null(m);
    assert_non_null(strstr(m, "\"Storj (recommended)\""));
    assert_non_null(strstr(finding(v, "path_encryption", "fix"), "repository names"));
    assert_string_equal(finding(v, "path_encryption", "action"), "unencrypted-keys");
    json_decref(v);

    v = verdict(K_CONSOLE, MODE_STORJ_HOSTED, "registry", 0, NULL);
    assert_non_null(strstr(finding(v, "path_encryption", "message"), "\"Storj hosted gateway\""));
    assert_non_null(strstr(finding(v, "path_encryption", "message"), "501"));
    json_decref(v);

    v = verdict(K_CONSOLE, MODE_STORJ, "registry", 1, NULL);
    assert_non_null(strstr(finding(v, "existing_objects_hidden", "message"), "\"registry\""));
    json_decref(v);

    v = verdict(K_CONSOLE, MODE_STORJ_NATIVE, "registry", 1, NULL);
    m = finding(v, "native_not_affected", "message");
    assert_non_null(strstr(m, "\"Storj native driver (2022)\""));
    assert_non_null(strstr(m, "uplink"));
    assert_non_null(strstr(m, "ignored"));
    json_decref(v);

    /* the single bucket is suggested, in the fix and for the form */
    json_t *r;
    v = verdict(K_CONSOLE, MODE_STORJ, NULL, 0, &r);
    assert_non_null(strstr(finding(v, "no_bucket", "fix"), "\"registry\""));
    assert_string_equal(readiness_suggested_bucket(r), "registry");
    json_t *w = readiness_warnings(v);
    /* errors and warnings, not infos */
    assert_int_equal(json_array_size(w), 2);
    json_decref(w);
    json_decref(r);
    json_decref(v);
    v = verdict(K_TWO_BUCKETS, MODE_STORJ, "registry", 0, &r);
    assert_null(readiness_suggested_bucket(r));
    json_decref(r);
    json_decref(v);

    v = verdict(K_TTL, MODE_STORJ, "registry", 0, NULL);
    assert_non_null(strstr(finding(v, "objects_expire", "message"), "7 days"));
    json_decref(v);

    assert_string_equal(readiness_mode_label(MODE_STORJ), "Storj (recommended)");
    assert_string_equal(readiness_mode_label(MODE_STORJ_HOSTED), "Storj hosted gateway");
    assert_string_equal(readiness_mode_label(MODE_STORJ_NATIVE), "Storj native driver (2022)");
}

/* Where the setting sends the derived grant. */
static void test_outgoing_grant(void **state)
{
    (void)state;
    char *console = make_grant(K_CONSOLE);
    struct grant_error ge;
    char *derived = grant_derive_unencrypted(console, &ge);
    assert_non_null(derived);
    static const struct {
        enum mode mode;
        int unenc;
        int want_derived;
    } rows[] = {
        {MODE_STORJ, 0, 0},        {MODE_STORJ, 1, 1},        {MODE_STORJ_HOSTED, 0, 0},
        {MODE_STORJ_HOSTED, 1, 1}, {MODE_STORJ_NATIVE, 1, 0}, {MODE_STORJ_NATIVE, 0, 0},
    };
    struct spec_opts o = {"registry:test", "gateway:test", "native:test", 1};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        struct settings s;
        struct err e;
        assert_int_equal(settings_init(&s), 0);
        s.mode = rows[i].mode;
        s.bucket = xstrdup("registry");
        s.access_grant = xstrdup(console);
        s.unencrypted_keys = rows[i].unenc;
        if (s.mode == MODE_STORJ_HOSTED) {
            s.s3_access_key = xstrdup("ak");
            s.s3_secret_key = xstrdup("secretkey");
        }
        char *out = NULL;
        assert_int_equal(settings_outgoing_grant(&s, &out, &e), 0);
        CHECK(strcmp(out, rows[i].want_derived ? derived : console) == 0, "row %zu: grant", i);
        secret_free(&out);

        /* the spec hash follows the setting only where it applies */
        struct spec_set a, b;
        assert_int_equal(spec_build(&s, &o, &a, &e), 0);
        s.unencrypted_keys = !s.unencrypted_keys;
        assert_int_equal(spec_build(&s, &o, &b, &e), 0);
        int differs = strcmp(a.hash, b.hash) != 0;
        CHECK(differs == (rows[i].mode == MODE_STORJ), "row %zu: hash %s", i,
              differs ? "changed" : "unchanged");
        spec_free(&a);
        spec_free(&b);
        s.unencrypted_keys = rows[i].unenc;

        if (s.mode == MODE_STORJ) {
            char *gw = regconfig_gateway(&s);
            assert_non_null(gw);
            CHECK(strstr(gw, rows[i].unenc ? derived : console) != NULL, "row %zu: gateway", i);
            if (rows[i].unenc)
                CHECK(strstr(gw, console) == NULL, "row %zu: original in gateway config", i);
            secret_free(&gw);
        }
        if (s.mode == MODE_STORJ_NATIVE) {
            json_t *cfg = regconfig_registry(&s, 1);
            const char *g = json_string_value(json_object_get(
                json_object_get(json_object_get(cfg, "storage"), "storj"), "accessgrant"));
            CHECK(g && strcmp(g, console) == 0, "row %zu: native gets the grant as pasted", i);
            json_decref(cfg);
        }
        settings_free(&s);
    }
    free(derived);
    free(console);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_outgoing_grant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
