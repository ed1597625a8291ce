/*
 * Unit tests for backend/team.c: the team deployment exported from the
 * settings. Every shareable mode (s3, storj, storj-hosted) in every format
 * (compose, kubernetes, helm), with and without includeSecrets: without, no
 * secret of the settings or of the export appears in any file (placeholders
 * instead); with, they appear only in the files marked secret (and the
 * Kubernetes/Helm files that carry them). The YAML writer, the shape of the
 * compose bundle (replicas, balancer, Redis, gateway, secrets), the users'
 * htpasswd hook, the option parser and the refusals.
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

#include "errors.h"
#include "settings.h"
#include "team.h"
#include "testutil.h"

#define GRANT SAMPLE_GRANT
#define S3_AK "AKIATEAMEXAMPLE77"
#define S3_SK "s3-secret-value-team-1234"
#define INSTALL_GW_AK "installgwaccess0123456789abcdef012345678"
#define INSTALL_GW_SK "installgwsecret0123456789abcdef0123456789abcdef0123456789abcde"
#define HTTP_SECRET "httpsecretfresh0123456789abcdef0123456789abcdef0123456789abcdef"
#define FRESH_GW_AK "freshgwaccess0123456789abcdef0123456789"
#define FRESH_GW_SK "freshgwsecret0123456789abcdef0123456789abcdef0123456789abcdef01"
#define HTPASSWD "alice:$2y$05$abcdefghijklmnopqrstuuQ0123456789ABCDEFGHIJKLMNOPQRSTU\n"

static void make_settings(enum mode m, struct settings *s)
{
    assert_int_equal(settings_init(s), 0);
    s->saved = 1;
    s->mode = m;
    snprintf(s->gw_access_key, sizeof s->gw_access_key, "%s", INSTALL_GW_AK);
    snprintf(s->gw_secret_key, sizeof s->gw_secret_key, "%s", INSTALL_GW_SK);
    s->bucket = xstrdup("team-bucket");
    switch (m) {
    case MODE_S3:
        s->s3_endpoint = xstrdup("https://s3.example.com");
        s->s3_region = xstrdup("eu-west-1");
        s->s3_access_key = xstrdup(S3_AK);
        s->s3_secret_key = xstrdup(S3_SK);
        break;
    case MODE_STORJ:
    case MODE_STORJ_NATIVE:
        s->access_grant = xstrdup(GRANT);
        break;
    case MODE_STORJ_HOSTED:
        s->access_grant = xstrdup(GRANT);
        s->s3_access_key = xstrdup(S3_AK);
        s->s3_secret_key = xstrdup(S3_SK);
        s->s3_keys_from_grant = 1;
        break;
    case MODE_LOCAL:
        break;
    }
}

static void make_opts(struct team_opts *o, enum team_format f, int secrets, const char *htpasswd)
{
    team_opts_init(o);
    o->format = f;
    o->include_secrets = secrets;
    o->htpasswd = htpasswd;
    snprintf(o->http_secret, sizeof o->http_secret, "%s", HTTP_SECRET);
    snprintf(o->gw_access_key, sizeof o->gw_access_key, "%s", FRESH_GW_AK);
    snprintf(o->gw_secret_key, sizeof o->gw_secret_key, "%s", FRESH_GW_SK);
}

static const struct team_file *file(const struct team_bundle *b, const char *path)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->files[i].path, path) == 0)
            return &b->files[i];
    return NULL;
}

static const char *content(const struct team_bundle *b, const char *path)
{
    const struct team_file *f = file(b, path);
    if (!f)
        fail_msg("no file %s in the bundle", path);
    return f->content;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_opts_parse(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *field; /* NULL: accepted */
    } rows[] = {
        {"{}", NULL},
        {"{\"format\":\"kubernetes\",\"replicas\":16,\"includeSecrets\":true,\"port\":443}", NULL},
        {"{\"format\":\"helm\",\"replicas\":1}", NULL},
        {"{\"format\":\"swarm\"}", "format"},
        {"{\"format\":3}", "format"},
        {"{\"replicas\":0}", "replicas"},
        {"{\"replicas\":17}", "replicas"},
        {"{\"replicas\":2.5}", "replicas"},
        {"{\"replicas\":\"2\"}", "replicas"},
        {"{\"port\":0}", "port"},
        {"{\"port\":65536}", "port"},
        {"{\"includeSecrets\":1}", "includeSecrets"},
        {"{\"includeSecrets\":null}", "includeSecrets"},
        {"{\"htpasswd\":\"x\"}", "htpasswd"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        json_t *body = json_loads(rows[i].body, 0, NULL);
        assert_non_null(body);
        struct team_opts o;
        struct err e = {0};
        team_opts_init(&o);
        int rc = team_opts_parse(body, &o, &e);
        json_decref(body);
        if (!rows[i].field) {
            CHECK(rc == 0, "%s: refused (%s)", rows[i].body, e.message);
            continue;
        }
        CHECK(rc == -1 && e.status == 400, "%s: accepted", rows[i].body);
        CHECK(strcmp(e.field, rows[i].field) == 0, "%s: field %s, want %s", rows[i].body, e.field,
              rows[i].field);
    }
    struct team_opts o;
    team_opts_init(&o);
    json_t *body = json_loads(
        "{\"format\":\"kubernetes\",\"replicas\":5,\"includeSecrets\":true,\"port\":8443}", 0,
        NULL);
    assert_int_equal(team_opts_parse(body, &o, NULL), 0);
    json_decref(body);
    assert_int_equal(o.format, TEAM_KUBERNETES);
    assert_int_equal(o.replicas, 5);
    assert_int_equal(o.port, 8443);
    assert_true(o.include_secrets);
    team_opts_init(&o);
    assert_int_equal(o.format, TEAM_COMPOSE);
    assert_int_equal(o.replicas, TEAM_DEFAULT_REPLICAS);
    assert_int_equal(o.port, TEAM_DEFAULT_PORT);
    assert_false(o.include_secrets);
}

static void test_refusals(void **state)
{
    (void)state;
    struct team_opts o;
    struct team_bundle b;
    struct err e;
    make_opts(&o, TEAM_COMPOSE, 0, NULL);

    struct settings s;
    make_settings(MODE_LOCAL, &s);
    memset(&e, 0, sizeof e);
    assert_int_equal(team_export(&s, &o, &b, &e), -1);
    assert_int_equal(e.status, 409);
    assert_string_equal(ecode_name(e.code), "not_applicable");
    assert_non_null(strstr(e.message, "pick a bucket mode"));
    assert_int_equal(b.n, 0);
    team_bundle_free(&b);
    settings_free(&s);

    make_settings(MODE_STORJ_NATIVE, &s);
    memset(&e, 0, sizeof e);
    assert_int_equal(team_export(&s, &o, &b, &e), -1);
    assert_int_equal(e.status, 409);
    assert_non_null(strstr(e.message, "Storj (recommended)"));
    team_bundle_free(&b);
    settings_free(&s);

    /* never saved */
    make_settings(MODE_S3, &s);
    s.saved = 0;
    memset(&e, 0, sizeof e);
    assert_int_equal(team_export(&s, &o, &b, &e), -1);
    assert_int_equal(e.status, 409);
    team_bundle_free(&b);
    settings_free(&s);

    /* incomplete for the mode */
    make_settings(MODE_S3, &s);
    secret_free(&s.s3_secret_key);
    memset(&e, 0, sizeof e);
    assert_int_equal(team_export(&s, &o, &b, &e), -1);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.field, "s3.secretKey");
    team_bundle_free(&b);
    settings_free(&s);

    make_settings(MODE_STORJ, &s);
    secret_free(&s.access_grant);
    memset(&e, 0, sizeof e);
    assert_int_equal(team_export(&s, &o, &b, &e), -1);
    assert_string_equal(e.field, "accessGrant");
    team_bundle_free(&b);
    settings_free(&s);

    make_settings(MODE_S3, &s);
    o.replicas = TEAM_MAX_REPLICAS + 1;
    memset(&e, 0, sizeof e);
    assert_int_equal(team_export(&s, &o, &b, &e), -1);
    assert_string_equal(e.field, "replicas");
    team_bundle_free(&b);
    settings_free(&s);
}

/* Every mode x format x secrets: exports, and leaks nothing unasked. */
static void test_secrets_only_when_asked(void **state)
{
    (void)state;
    static const enum mode modes[] = {MODE_S3, MODE_STORJ, MODE_STORJ_HOSTED};
    static const enum team_format formats[] = {TEAM_COMPOSE, TEAM_KUBERNETES, TEAM_HELM};
    for (size_t mi = 0; mi < 3; mi++)
        for (size_t fi = 0; fi < 3; fi++)
            for (int sec = 0; sec <= 1; sec++)
                for (int users = 0; users <= 1; users++) {
                    struct settings s;
                    struct team_opts o;
                    struct team_bundle b;
                    struct err e = {0};
                    make_settings(modes[mi], &s);
                    make_opts(&o, formats[fi], sec, users ? HTPASSWD : NULL);
                    const char *row_mode = settings_mode_name(modes[mi]);
                    const char *row_fmt = team_format_name(formats[fi]);
                    CHECK(team_export(&s, &o, &b, &e) == 0, "%s/%s/%d: %s", row_mode, row_fmt, sec,
                          e.message);
                    CHECK(b.n >= 2, "%s/%s: %zu files", row_mode, row_fmt, b.n);
                    CHECK(file(&b, "README.md"), "%s/%s: no README.md", row_mode, row_fmt);
                    /* what must never be in a file, asked or not: the
                     * installation's own gateway keys */
                    const char *never[] = {INSTALL_GW_AK, INSTALL_GW_SK};
                    /* what may be only when asked */
                    const char *secret[] = {S3_SK,
                                            S3_AK,
                                            GRANT,
                                            HTTP_SECRET,
                                            FRESH_GW_AK,
                                            FRESH_GW_SK,
                                            "$2y$05$abcdefghij"};
                    int seen[7] = {0};
                    for (size_t i = 0; i < b.n; i++) {
                        const struct team_file *f = &b.files[i];
                        for (size_t k = 0; k < 2; k++)
                            CHECK(!strstr(f->content, never[k]),
                                  "%s/%s: the installation's gateway key in %s", row_mode, row_fmt,
                                  f->path);
                        for (size_t k = 0; k < 7; k++) {
                            if (!strstr(f->content, secret[k]))
                                continue;
                            seen[k] = 1;
                            CHECK(sec, "%s/%s: secret %zu in %s without includeSecrets", row_mode,
                                  row_fmt, k, f->path);
                            CHECK(f->secret, "%s/%s: secret %zu in %s, not marked secret", row_mode,
                                  row_fmt, k, f->path);
                        }
                        if (!sec && f->secret && strncmp(f->path, "secrets/", 8) == 0)
                            CHECK(strncmp(f->content, TEAM_PLACEHOLDER, 10) == 0,
                                  "%s/%s: %s holds no placeholder", row_mode, row_fmt, f->path);
                        if (strncmp(f->path, "secrets/", 8) == 0)
                            CHECK(f->secret && f->mode == 0600, "%s: %s mode %o", row_mode, f->path,
                                  (unsigned)f->mode);
                        /* a file that holds a secret is readable by its owner
                         * only, on disk and in the tab's tar (which takes
                         * the mode from the API's answer) */
                        if (f->secret)
                            CHECK(f->mode == 0600, "%s/%s/%d: %s holds a secret, mode %o", row_mode,
                                  row_fmt, sec, f->path, (unsigned)f->mode);
                    }
                    json_t *j = team_bundle_json(&b, &o);
                    CHECK(j, "%s/%s: no JSON", row_mode, row_fmt);
                    size_t ji;
                    json_t *jf;
                    json_array_foreach(json_object_get(j, "files"), ji, jf)
                    {
                        const char *jm = json_string_value(json_object_get(jf, "mode"));
                        if (json_is_true(json_object_get(jf, "secret")))
                            CHECK(jm && strcmp(jm, "0600") == 0, "%s/%s/%d: %s is %s in the JSON",
                                  row_mode, row_fmt, sec,
                                  json_string_value(json_object_get(jf, "path")), jm);
                    }
                    json_decref(j);
                    if (sec) {
                        int storj = modes[mi] == MODE_STORJ;
                        /* the storage credentials travel, and the shared http secret */
                        CHECK(seen[3], "%s/%s: the http secret is missing", row_mode, row_fmt);
                        if (storj)
                            CHECK(seen[2] && seen[4] && seen[5],
                                  "%s/%s: the grant or the fresh gateway keys are missing",
                                  row_mode, row_fmt);
                        else
                            CHECK(seen[0] && seen[1] && !seen[2],
                                  "%s/%s: S3 keys missing, or the grant exported", row_mode,
                                  row_fmt);
                        CHECK(seen[6] == users, "%s/%s: htpasswd %d, users %d", row_mode, row_fmt,
                              seen[6], users);
                    }
                    team_bundle_free(&b);
                    settings_free(&s);
                }
}

static void test_compose_shape(void **state)
{
    (void)state;
    struct settings s;
    struct team_opts o;
    struct team_bundle b;
    struct err e = {0};

    make_settings(MODE_S3, &s);
    make_opts(&o, TEAM_COMPOSE, 0, NULL);
    o.replicas = 3;
    o.port = 5500;
    assert_int_equal(team_export(&s, &o, &b, &e), 0);
    const char *c = content(&b, "compose.yaml");
    assert_non_null(strstr(c, "\n  registry-1:\n"));
    assert_non_null(strstr(c, "\n  registry-3:\n"));
    assert_null(strstr(c, "registry-4:"));
    assert_int_equal(count(c, "    image: registry:3\n"), 3);
    assert_non_null(strstr(c, "\n  redis:\n"));
    assert_non_null(strstr(c, "    - allkeys-lru\n"));
    assert_non_null(strstr(c, "\n  balancer:\n    image: haproxy:2.8\n"));
    /* loopback by default without users; the port as asked */
    assert_non_null(strstr(c, "    - ${REGISTRY_BIND:-127.0.0.1}:${REGISTRY_PORT:-5500}:8080\n"));
    assert_null(strstr(c, "storj-gateway"));
    assert_non_null(strstr(c, "    - REGISTRY_STORAGE_S3_SECRETKEY=s3-secret-key\n"));
    assert_non_null(strstr(c, "\nsecrets:\n  http-secret:\n    file: ./secrets/http-secret\n"));
    assert_int_equal(count(c, "REGISTRY_STORAGE_MAINTENANCE_READONLY"), 3);
    const char *h = content(&b, "haproxy.cfg");
    assert_int_equal(count(h, "\n    server registry-"), 3);
    assert_non_null(strstr(h, "X-Forwarded-Proto"));
    assert_non_null(strstr(h, "X-Forwarded-Host"));
    assert_non_null(strstr(h, "option httpchk GET /"));
    const char *cfg = content(&b, "config.yml");
    assert_non_null(strstr(cfg, "    blobdescriptor: redis\n"));
    assert_non_null(strstr(cfg, "\nredis:\n  addrs:\n  - redis:6379\n"));
    assert_non_null(strstr(cfg, "    regionendpoint: https://s3.example.com\n"));
    assert_non_null(strstr(cfg, "    forcepathstyle: true\n"));
    assert_null(strstr(cfg, "accesskey"));
    assert_null(strstr(cfg, "secretkey"));
    assert_null(strstr(cfg, "\nauth:"));
    assert_null(strstr(cfg, "secret:")); /* http.secret comes from the environment */
    const struct team_file *sh = file(&b, "secrets-env.sh");
    assert_non_null(sh);
    assert_int_equal(sh->mode, 0755);
    assert_non_null(strstr(sh->content, TEAM_PLACEHOLDER "*)"));
    const char *r = content(&b, "README.md");
    assert_non_null(strstr(r, "REGISTRY_READONLY=true docker compose up -d"));
    assert_non_null(strstr(r, "garbage-collect --delete-untagged"));
    assert_non_null(strstr(r, "insecure-registries"));
    assert_non_null(strstr(r, "`secrets/s3-secret-key`") || strstr(r, "| `s3-secret-key` |"));
    assert_int_equal(b.n, 8);
    team_bundle_free(&b);
    settings_free(&s);

    /* storj: the gateway joins, with the grant and the shared key pair */
    make_settings(MODE_STORJ, &s);
    make_opts(&o, TEAM_COMPOSE, 0, NULL);
    assert_int_equal(team_export(&s, &o, &b, &e), 0);
    c = content(&b, "compose.yaml");
    assert_non_null(strstr(c, "\n  storj-gateway:\n    image: storjlabs/gateway:1.11.0\n"));
    assert_non_null(strstr(c, "    - STORJ_ACCESS=storj-access-grant\n"));
    assert_non_null(strstr(c, "    - REGISTRY_STORAGE_S3_ACCESSKEY=gateway-access-key\n"));
    assert_non_null(strstr(c, "    - --s3.upload-part-copy.enable\n"));
    cfg = content(&b, "config.yml");
    assert_non_null(strstr(cfg, "    regionendpoint: http://storj-gateway:7777\n"));
    assert_non_null(strstr(cfg, "    secure: false\n"));
    assert_non_null(file(&b, "secrets/storj-access-grant"));
    assert_non_null(file(&b, "secrets/gateway-secret-key"));
    assert_null(file(&b, "secrets/s3-secret-key"));
    team_bundle_free(&b);
    settings_free(&s);

    /* users: htpasswd as a secret, auth on, the balancer on every address */
    make_settings(MODE_STORJ_HOSTED, &s);
    make_opts(&o, TEAM_COMPOSE, 0, HTPASSWD);
    assert_int_equal(team_export(&s, &o, &b, &e), 0);
    c = content(&b, "compose.yaml");
    assert_non_null(strstr(c, "${REGISTRY_BIND:-0.0.0.0}"));
    assert_non_null(strstr(c, "    - htpasswd\n"));
    cfg = content(&b, "config.yml");
    assert_non_null(strstr(cfg, "\nauth:\n  htpasswd:\n    realm: Storj Registry\n    path: "
                                "/run/secrets/htpasswd\n"));
    assert_non_null(strstr(cfg, "regionendpoint: https://gateway.storjshare.io\n"));
    assert_true(file(&b, "secrets/htpasswd")->secret);
    team_bundle_free(&b);
    settings_free(&s);
}

static void test_kubernetes_and_helm_shape(void **state)
{
    (void)state;
    struct settings s;
    struct team_opts o;
    struct team_bundle b;
    struct err e = {0};

    make_settings(MODE_STORJ, &s);
    make_opts(&o, TEAM_KUBERNETES, 0, NULL);
    o.replicas = 4;
    assert_int_equal(team_export(&s, &o, &b, &e), 0);
    const char *k = content(&b, "registry.yaml");
    assert_int_equal(count(k, "\n---\n"), 5);
    assert_non_null(strstr(k, "\nkind: Secret\n"));
    assert_non_null(strstr(k, "\nkind: ConfigMap\n"));
    assert_int_equal(count(k, "\nkind: Deployment\n"), 2);
    assert_int_equal(count(k, "\nkind: Service\n"), 2);
    assert_non_null(strstr(k, "\nspec:\n  replicas: 4\n"));
    /* the ConfigMap carries config.yml as a literal block */
    assert_non_null(strstr(k, "  config.yml: |\n    version: \"0.1\"\n"));
    assert_non_null(strstr(k, "        regionendpoint: http://127.0.0.1:7777\n"));
    assert_non_null(strstr(k, "      - name: storj-gateway\n"));
    assert_non_null(strstr(k, "  storjAccessGrant: '" TEAM_PLACEHOLDER ": "));
    assert_non_null(strstr(k, "              key: httpSecret\n"));
    assert_non_null(strstr(k, "        - allkeys-lru\n"));
    assert_non_null(strstr(content(&b, "README.md"), "**untested on a cluster**"));
    team_bundle_free(&b);
    settings_free(&s);

    make_settings(MODE_S3, &s);
    make_opts(&o, TEAM_HELM, 0, NULL);
    o.replicas = 3;
    assert_int_equal(team_export(&s, &o, &b, &e), 0);
    const char *v = content(&b, "values.yaml");
    assert_non_null(strstr(v, "\nreplicaCount: 3\n"));
    assert_non_null(strstr(v, "\nstorage: s3\n"));
    assert_non_null(strstr(v, "\n  haSharedSecret: '" TEAM_PLACEHOLDER ": "));
    assert_non_null(strstr(v, "\n  regionEndpoint: https://s3.example.com\n"));
    assert_non_null(strstr(v, "\n  secure: true\n"));
    assert_non_null(strstr(v, "\nconfigData:\n  version: \"0.1\"\n"));
    assert_non_null(strstr(v, "      forcepathstyle: true\n"));
    assert_non_null(strstr(v, "    - storj-registry-redis:6379\n"));
    assert_null(strstr(v, "htpasswd"));
    assert_non_null(file(&b, "redis.yaml"));
    assert_null(file(&b, "storj-gateway.yaml"));
    team_bundle_free(&b);
    settings_free(&s);

    make_settings(MODE_STORJ, &s);
    make_opts(&o, TEAM_HELM, 1, HTPASSWD);
    assert_int_equal(team_export(&s, &o, &b, &e), 0);
    v = content(&b, "values.yaml");
    assert_non_null(strstr(v, "\n  haSharedSecret: " HTTP_SECRET "\n"));
    assert_non_null(strstr(v, "\n  regionEndpoint: http://storj-registry-gateway:7777\n"));
    assert_non_null(strstr(v, "\n  htpasswd: |\n    alice:"));
    assert_non_null(strstr(content(&b, "storj-gateway.yaml"), GRANT));
    assert_true(file(&b, "storj-gateway.yaml")->secret);
    json_t *j = team_bundle_json(&b, &o);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "format")), "helm");
    assert_true(json_is_true(json_object_get(j, "includeSecrets")));
    assert_int_equal(json_array_size(json_object_get(j, "files")), b.n);
    /* values.yaml, with the secrets in it: owner only */
    json_t *f0 = json_array_get(json_object_get(j, "files"), 0);
    assert_string_equal(json_string_value(json_object_get(f0, "path")), "values.yaml");
    assert_string_equal(json_string_value(json_object_get(f0, "mode")), "0600");
    json_decref(j);
    team_bundle_free(&b);
    settings_free(&s);
}

/* ---- TLS and users: every file the registries' configuration names is in
 * the bundle, where the configuration says ---- */

#define TLS_CERT "-----BEGIN CERTIFICATE-----\nMIIteamcertificate\n-----END CERTIFICATE-----\n"
#define TLS_KEY "-----BEGIN PRIVATE KEY-----\nMIIteamtlskeysecret\n-----END PRIVATE KEY-----\n"

/* The text of text after the first occurrence of from up to the first
 * occurrence of to after it (to starts with a newline, which is kept), or
 * to the end. New string. */
static char *section(const char *text, const char *from, const char *to)
{
    const char *a = strstr(text, from);
    if (!a)
        fail_msg("no %s", from);
    a += strlen(from);
    const char *z = to ? strstr(a, to) : NULL;
    return strndup(a, z ? (size_t)(z - a) + 1 : strlen(a));
}

/* Calls want(path, cls) for every absolute path a distribution
 * configuration (YAML text) names as http.tls.certificate, http.tls.key
 * or auth.htpasswd.path; the number of them. */
static int config_paths(const char *cfg, void (*want)(const char *path, void *cls), void *cls)
{
    int n = 0;
    for (const char *l = cfg; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        while (*l == ' ')
            l++;
        static const char *const keys[] = {"certificate: ", "key: ", "path: "};
        for (size_t k = 0; k < 3; k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(l, keys[k], kl) != 0)
                continue;
            const char *v = l + kl;
            v += *v == '"';
            if (*v != '/')
                continue;
            char path[256];
            size_t len = strcspn(v, "\"\n");
            snprintf(path, sizeof path, "%.*s", (int)len, v);
            want(path, cls);
            n++;
        }
    }
    return n;
}

struct provided {
    const struct team_bundle *b;
    const char *what; /* the row, for messages */
    const char *text; /* where the paths must be provided */
};

/* compose: /run/secrets/NAME among the registry's secrets, or config.yml */
static void compose_provides(const char *path, void *cls)
{
    const struct provided *p = cls;
    char item[300];
    CHECK(strncmp(path, "/run/secrets/", 13) == 0, "%s: config.yml names %s", p->what, path);
    snprintf(item, sizeof item, "\n    - %s\n", path + 13);
    CHECK(strstr(p->text, item), "%s: %s is no secret of registry-1", p->what, path);
    snprintf(item, sizeof item, "secrets/%s", path + 13);
    CHECK(file(p->b, item), "%s: no %s in the bundle", p->what, item);
}

/* kubernetes: a volumeMount at the directory, a volume item of the name */
static void k8s_provides(const char *path, void *cls)
{
    const struct provided *p = cls;
    const char *slash = strrchr(path, '/');
    char mount[300], item[300];
    snprintf(mount, sizeof mount, "mountPath: %.*s\n", (int)(slash - path), path);
    snprintf(item, sizeof item, "path: %s\n", slash + 1);
    CHECK(strstr(p->text, mount), "%s: the ConfigMap names %s, nothing is mounted at its directory",
          p->what, path);
    CHECK(strstr(p->text, item), "%s: the ConfigMap names %s, no volume item %s", p->what, path,
          slash + 1);
}

/* helm (twuni/docker-registry): what the chart mounts, when asked for */
static void helm_provides(const char *path, void *cls)
{
    const struct provided *p = cls;
    if (strcmp(path, "/auth/htpasswd") == 0) {
        CHECK(strstr(p->text, "\n  htpasswd: "), "%s: %s without secrets.htpasswd", p->what, path);
        return;
    }
    CHECK(strcmp(path, "/etc/ssl/docker/tls.crt") == 0 ||
              strcmp(path, "/etc/ssl/docker/tls.key") == 0,
          "%s: configData names %s, which the chart does not provide", p->what, path);
    CHECK(strstr(p->text, "\ntlsSecretName: storj-registry-tls\n"), "%s: %s without tlsSecretName",
          p->what, path);
    const char *t = content(p->b, "tls-secret.yaml");
    CHECK(strstr(t, "\nkind: Secret\n") && strstr(t, "\n  name: storj-registry-tls\n") &&
              strstr(t, "\n  tls.crt: |\n") && strstr(t, "\n  tls.key: "),
          "%s: tls-secret.yaml is not the Secret storj-registry-tls with tls.crt and tls.key",
          p->what);
}

static void test_config_paths_provided(void **state)
{
    (void)state;
    static const enum mode modes[] = {MODE_S3, MODE_STORJ};
    static const enum team_format formats[] = {TEAM_COMPOSE, TEAM_KUBERNETES, TEAM_HELM};
    for (size_t mi = 0; mi < 2; mi++)
        for (size_t fi = 0; fi < 3; fi++)
            for (int tls = 0; tls <= 1; tls++)
                for (int users = 0; users <= 1; users++)
                    for (int sec = 0; sec <= 1; sec++) {
                        struct settings s;
                        struct team_opts o;
                        struct team_bundle b;
                        struct err e = {0};
                        make_settings(modes[mi], &s);
                        /* the desktop's own configuration has both (regconfig.h) */
                        s.users = users;
                        if (tls) {
                            s.tls_cert = xstrdup(TLS_CERT);
                            s.tls_key = xstrdup(TLS_KEY);
                        }
                        make_opts(&o, formats[fi], sec, users ? HTPASSWD : NULL);
                        char what[96];
                        snprintf(what, sizeof what, "%s/%s tls %d users %d secrets %d",
                                 settings_mode_name(modes[mi]), team_format_name(formats[fi]), tls,
                                 users, sec);
                        CHECK(team_export(&s, &o, &b, &e) == 0, "%s: %s", what, e.message);
                        /* the key is a secret like the others; the certificate is not */
                        for (size_t i = 0; i < b.n; i++) {
                            const struct team_file *f = &b.files[i];
                            if (strstr(f->content, "MIIteamtlskeysecret"))
                                CHECK(sec && f->secret && f->mode == 0600, "%s: the key in %s",
                                      what, f->path);
                        }
                        int n = 0;
                        if (formats[fi] == TEAM_COMPOSE) {
                            const char *c = content(&b, "compose.yaml");
                            char *reg = section(c, "\n  registry-1:\n", "\n  registry-2:\n");
                            struct provided p = {&b, what, reg};
                            n = config_paths(content(&b, "config.yml"), compose_provides, &p);
                            CHECK(n == users, "%s: config.yml names %d files", what, n);
                            free(reg);
                            /* TLS at the balancer, with the tab's certificate and key */
                            const char *h = content(&b, "haproxy.cfg");
                            char *bal = section(c, "\n  balancer:\n", "\nsecrets:\n");
                            if (tls) {
                                CHECK(strstr(h, "\n    bind :8080 ssl crt /run/secrets/tls.crt\n"),
                                      "%s: haproxy binds without TLS", what);
                                CHECK(strstr(bal, "\n    - tls.crt\n") &&
                                          strstr(bal, "\n    - tls.key\n"),
                                      "%s: the balancer lacks the certificate or key", what);
                                CHECK(strstr(c, "\n  tls.key:\n    file: ./secrets/tls.key\n"),
                                      "%s: no secret tls.key", what);
                                const struct team_file *cf = file(&b, "secrets/tls.crt");
                                const struct team_file *kf = file(&b, "secrets/tls.key");
                                CHECK(cf && strcmp(cf->content, TLS_CERT) == 0 && !cf->secret,
                                      "%s: secrets/tls.crt", what);
                                CHECK(kf && kf->secret && kf->mode == 0600 &&
                                          (sec ? strcmp(kf->content, TLS_KEY) == 0
                                               : strncmp(kf->content, TEAM_PLACEHOLDER, 10) == 0),
                                      "%s: secrets/tls.key", what);
                            } else {
                                CHECK(!strstr(h, " ssl ") && !strstr(bal, "tls.") &&
                                          !file(&b, "secrets/tls.key"),
                                      "%s: TLS without a certificate", what);
                            }
                            free(bal);
                        } else if (formats[fi] == TEAM_KUBERNETES) {
                            const char *k = content(&b, "registry.yaml");
                            char *cfg = section(k, "  config.yml: |\n", "\n---\n");
                            char *dep = section(k, "\nkind: Deployment\n", "\n---\n");
                            struct provided p = {&b, what, dep};
                            n = config_paths(cfg, k8s_provides, &p);
                            CHECK(n == users + 2 * tls, "%s: the ConfigMap names %d files", what,
                                  n);
                            if (tls) {
                                CHECK(strstr(k, "\n  tlsCertificate: |\n") &&
                                          strstr(k, "\n  tlsKey: ") &&
                                          strstr(dep, "- key: tlsCertificate\n") &&
                                          strstr(dep, "- key: tlsKey\n"),
                                      "%s: the certificate or key is not in the Secret", what);
                                CHECK(count(dep, "scheme: HTTPS\n") == 2,
                                      "%s: the probes do not speak HTTPS", what);
                            } else {
                                CHECK(!strstr(dep, "HTTPS"), "%s: HTTPS probes", what);
                            }
                            free(cfg);
                            free(dep);
                        } else {
                            const char *v = content(&b, "values.yaml");
                            char *cfg = section(v, "\nconfigData:\n", "\nservice:\n");
                            struct provided p = {&b, what, v};
                            n = config_paths(cfg, helm_provides, &p);
                            CHECK(n == users + 2 * tls, "%s: configData names %d files", what, n);
                            CHECK(!tls == !file(&b, "tls-secret.yaml"), "%s: tls-secret.yaml",
                                  what);
                            free(cfg);
                        }
                        team_bundle_free(&b);
                        settings_free(&s);
                    }
}

static void test_fresh_secrets(void **state)
{
    (void)state;
    struct team_opts a, b;
    team_opts_init(&a);
    team_opts_init(&b);
    assert_int_equal(team_fresh_secrets(&a), 0);
    assert_int_equal(team_fresh_secrets(&b), 0);
    assert_int_equal(strlen(a.http_secret), 64);
    assert_int_equal(strlen(a.gw_access_key), 40);
    assert_int_equal(strlen(a.gw_secret_key), 64);
    assert_string_not_equal(a.http_secret, b.http_secret);
    team_opts_wipe(&a);
    assert_int_equal(a.http_secret[0], 0);
    team_opts_wipe(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opts_parse),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_secrets_only_when_asked),
        cmocka_unit_test(test_compose_shape),
        cmocka_unit_test(test_kubernetes_and_helm_shape),
        cmocka_unit_test(test_config_paths_provided),
        cmocka_unit_test(test_fresh_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
