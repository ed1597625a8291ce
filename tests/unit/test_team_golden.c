/*
 * The team bundle and the gateway's config.yaml against the files the
 * hand-written YAML writer produced before libyaml took over
 * (tests/unit/golden/): every file not written as YAML (READMEs, haproxy.cfg,
 * secrets-env.sh, the secret files) byte for byte; every YAML file byte for
 * byte or, where libyaml lays it out or quotes it differently, parsed by
 * libyaml's parser to the same document (scalars typed as YAML 1.1 reads
 * them, so `"yes"` and `yes` differ).
 *
 * GOLDEN_WRITE=1 ./tests/unit/test_team_golden rewrites the golden files
 * from the current code (after a deliberate change of the bundle).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "regconfig.h"
#include "settings.h"
#include "team.h"
#include "testutil.h"
#include "yamltest.h"

#define GOLDEN "tests/unit/golden/team"
#define S3_AK "AKIATEAMEXAMPLE77"
#define S3_SK "s3-secret-value-team-1234"
#define HTPASSWD "alice:$2y$05$abcdefghijklmnopqrstuuQ0123456789ABCDEFGHIJKLMNOPQRSTU\n"
#define TLS_CERT "-----BEGIN CERTIFICATE-----\nMIIteamcertificate\n-----END CERTIFICATE-----\n"
#define TLS_KEY "-----BEGIN PRIVATE KEY-----\nMIIteamtlskeysecret\n-----END PRIVATE KEY-----\n"

static int writing;

static void make_settings(enum mode m, int full, struct settings *s)
{
    assert_int_equal(settings_init(s), 0);
    s->saved = 1;
    s->mode = m;
    snprintf(s->gw_access_key, sizeof s->gw_access_key, "%s",
             "installgwaccess0123456789abcdef012345678");
    snprintf(s->gw_secret_key, sizeof s->gw_secret_key, "%s",
             "installgwsecret0123456789abcdef0123456789abcdef0123456789abcde");
    s->bucket = xstrdup("team-bucket");
    if (m == MODE_S3) {
        s->s3_endpoint = xstrdup("https://s3.example.com");
        s->s3_region = xstrdup("eu-west-1");
    }
    if (m != MODE_STORJ) {
        s->s3_access_key = xstrdup(S3_AK);
        s->s3_secret_key = xstrdup(S3_SK);
    }
    if (m != MODE_S3)
        s->access_grant = xstrdup(SAMPLE_GRANT);
    s->s3_keys_from_grant = m == MODE_STORJ_HOSTED;
    if (full) {
        s->users = 1;
        s->tls_cert = xstrdup(TLS_CERT);
        s->tls_key = xstrdup(TLS_KEY);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    return b.data ? b.data : strdup("");
}

static void mkdirs(const char *path)
{
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
}

static int is_yaml(const char *path)
{
    size_t n = strlen(path);
    return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

/* A string under a key ending in .yml or .yaml (the ConfigMap's
 * config.yml) is a YAML document itself: replaced by what it parses to. */
static void load_inner(json_t *v)
{
    const char *key;
    json_t *val;
    size_t i;
    if (json_is_array(v))
        json_array_foreach(v, i, val) load_inner(val);
    if (!json_is_object(v))
        return;
    json_object_foreach(v, key, val)
    {
        if (json_is_string(val) && is_yaml(key)) {
            char why[256];
            json_t *inner = yamltest_load(json_string_value(val), why, sizeof why);
            if (inner)
                json_object_set_new(v, key, inner);
        } else {
            load_inner(val);
        }
    }
}

static int same_documents(const char *a, const char *b, char *why, size_t why_len)
{
    json_t *da = yamltest_load(a, why, why_len);
    json_t *db = da ? yamltest_load(b, why, why_len) : NULL;
    int same = 0;
    if (db) {
        load_inner(da);
        load_inner(db);
        same = json_equal(da, db);
        if (!same)
            snprintf(why, why_len, "the documents differ");
    }
    json_decref(da);
    json_decref(db);
    return same;
}

/* One file against its golden copy; returns 1 when it matches. */
static int check_file(const char *dir, const char *path, const char *text)
{
    char gp[512];
    snprintf(gp, sizeof gp, "%s/%s/%s", GOLDEN, dir, path);
    if (writing) {
        mkdirs(gp);
        FILE *f = fopen(gp, "wb");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        return 1;
    }
    char *want = slurp(gp);
    if (!want) {
        print_error("%s/%s: no golden file\n", dir, path);
        return 0;
    }
    int ok = strcmp(want, text) == 0;
    if (getenv("GOLDEN_SHOW") && !ok) {
        char np[600];
        snprintf(np, sizeof np, "%s.now", gp);
        FILE *f = fopen(np, "wb");
        fputs(text, f);
        fclose(f);
    }
    if (!ok && is_yaml(path)) {
        char why[256] = "";
        ok = same_documents(want, text, why, sizeof why);
        if (!ok)
            print_error("%s/%s: not the same document: %s\n--- now:\n%s\n", dir, path, why, text);
    } else if (!ok) {
        print_error("%s/%s differs from the golden file\n--- now:\n%s\n", dir, path, text);
    }
    free(want);
    return ok;
}

static void test_bundles(void **state)
{
    (void)state;
    static const enum mode modes[] = {MODE_S3, MODE_STORJ, MODE_STORJ_HOSTED};
    static const enum team_format formats[] = {TEAM_COMPOSE, TEAM_KUBERNETES, TEAM_HELM};
    int bad = 0, files = 0;
    for (size_t mi = 0; mi < 3; mi++)
        for (size_t fi = 0; fi < 3; fi++)
            for (int full = 0; full <= 1; full++) {
                struct settings s;
                struct team_opts o;
                struct team_bundle b;
                struct err e = {0};
                make_settings(modes[mi], full, &s);
                team_opts_init(&o);
                o.format = formats[fi];
                if (full) {
                    o.include_secrets = 1;
                    o.htpasswd = HTPASSWD;
                    o.replicas = 3;
                    o.port = 5500;
                }
                snprintf(o.http_secret, sizeof o.http_secret, "%s",
                         "httpsecretfresh0123456789abcdef0123456789abcdef0123456789abcdef");
                snprintf(o.gw_access_key, sizeof o.gw_access_key, "%s",
                         "freshgwaccess0123456789abcdef0123456789");
                snprintf(o.gw_secret_key, sizeof o.gw_secret_key, "%s",
                         "freshgwsecret0123456789abcdef0123456789abcdef0123456789abcdef01");
                char dir[64];
                snprintf(dir, sizeof dir, "%s-%s-%s", settings_mode_name(modes[mi]),
                         team_format_name(formats[fi]), full ? "full" : "plain");
                CHECK(team_export(&s, &o, &b, &e) == 0, "%s: %s", dir, e.message);
                for (size_t i = 0; i < b.n; i++, files++)
                    bad += !check_file(dir, b.files[i].path, b.files[i].content);
                team_bundle_free(&b);
                if (modes[mi] == MODE_STORJ && fi == 0) {
                    char *gw = regconfig_gateway(&s);
                    assert_non_null(gw);
                    bad += !check_file(dir, "gateway-config.yaml", gw);
                    secret_free(&gw);
                }
                settings_free(&s);
            }
    if (!writing)
        print_message("%d files checked against %s\n", files, GOLDEN);
    assert_int_equal(bad, 0);
}

int main(void)
{
    writing = getenv("GOLDEN_WRITE") != NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
