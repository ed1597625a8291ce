/*
 * libFuzzer target for every YAML file the backend writes (backend/yamlgen.c
 * through libyaml's emitter): hostile strings (quotes, newlines, ": ", "#",
 * Unicode line breaks, YAML keywords yes/no/on/null/~, leading *&!%@, ...)
 * made from the input.
 *
 * 1. A document of those strings as keys, values and list items, written
 *    by yamlgen_write, must parse back (libyaml's parser, scalars typed as
 *    YAML 1.1 reads them: tests/unit/support/yamltest.c) to exactly that
 *    document, once plain and once with YAMLGEN_QUOTE_VALUES.
 * 2. Settings holding them (bucket, S3 endpoint, region and keys, the
 *    access grant, the TLS certificate and key, the users' htpasswd) go
 *    through the team export with the secrets included, in one of the
 *    shareable modes and formats (by the input's last byte), and in storj
 *    mode through the gateway's config.yaml: every YAML file parses, and
 *    each value is found where the file puts it.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regconfig.h"
#include "settings.h"
#include "team.h"
#include "yamlgen.h"
#include "yamltest.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

#define NSTR 10

/* Splits the input at 0xff bytes into up to NSTR strings, each valid UTF-8
 * without NUL (what a JSON string from the API can hold); an invalid one
 * becomes "x". */
static int split(const uint8_t *data, size_t size, char *out[NSTR])
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size && n < NSTR; i++) {
        if (i < size && data[i] != 0xff)
            continue;
        size_t len = i - start;
        char *s = malloc(len + 1);
        check(s != NULL);
        memcpy(s, data + start, len);
        s[len] = '\0';
        json_t *probe = json_stringn(s, len);
        if (!probe || strlen(s) != len) {
            free(s);
            s = strdup("x");
        }
        json_decref(probe);
        out[n++] = s;
        start = i + 1;
    }
    while (n < NSTR)
        out[n++] = strdup("");
    return n;
}

static json_t *load_one(const char *text)
{
    char why[256];
    json_t *docs = yamltest_load(text, why, sizeof why);
    if (!docs) {
        fprintf(stderr, "does not parse: %s\n%s\n", why, text);
        abort();
    }
    return docs;
}

static void round_trip(json_t *doc, int flags)
{
    struct buf b = {0};
    check(yamlgen_write(&b, doc, flags) == 0);
    json_t *back = load_one(b.data);
    json_t *want = json_pack("[O]", doc);
    if (!json_equal(back, want)) {
        fprintf(stderr, "reads back as something else:\n%s\n", b.data);
        abort();
    }
    json_decref(want);
    json_decref(back);
    buf_free(&b);
}

static const char *str_at(json_t *v, const char *const *path)
{
    for (; *path; path++)
        v = json_is_array(v) ? json_array_get(v, (size_t)atoi(*path)) : json_object_get(v, *path);
    return json_string_value(v);
}

/* path: keys (or array indexes as digits), NULL-terminated */
#define EXPECT(doc, want, ...)                                                                     \
    do {                                                                                           \
        const char *const p_[] = {__VA_ARGS__, NULL};                                              \
        const char *got_ = str_at(doc, p_);                                                        \
        if (!got_ || strcmp(got_, want) != 0) {                                                    \
            fprintf(stderr, "%s: want [%s], got [%s]\n", #__VA_ARGS__, want,                       \
                    got_ ? got_ : "(none)");                                                       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char *content(const struct team_bundle *b, const char *path)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->files[i].path, path) == 0)
            return b->files[i].content;
    return NULL;
}

/* The distribution configuration inside a file: bucket and region. */
static void check_config(json_t *cfg, const struct settings *s, int storj)
{
    EXPECT(cfg, s->bucket, "storage", "s3", "bucket");
    if (!storj) {
        EXPECT(cfg, s->s3_region, "storage", "s3", "region");
        EXPECT(cfg, s->s3_endpoint, "storage", "s3", "regionendpoint");
    }
}

/* One mode and one format (pick % 9), so that each run is cheap. */
static void export_all(struct settings *s, char *str[NSTR], unsigned pick)
{
    static const enum mode modes[] = {MODE_S3, MODE_STORJ, MODE_STORJ_HOSTED};
    for (size_t mi = pick % 3; mi == pick % 3; mi++) {
        s->mode = modes[mi];
        int storj = s->mode == MODE_STORJ;
        for (int f = (int)(pick / 3 % 3); f == (int)(pick / 3 % 3); f++) {
            struct team_opts o;
            struct team_bundle b;
            struct err e;
            team_opts_init(&o);
            o.format = (enum team_format)f;
            o.include_secrets = 1;
            o.htpasswd = str[8];
            snprintf(o.http_secret, sizeof o.http_secret, "%s", "h");
            snprintf(o.gw_access_key, sizeof o.gw_access_key, "%s", "a");
            snprintf(o.gw_secret_key, sizeof o.gw_secret_key, "%s", "s");
            if (team_export(s, &o, &b, &e)) {
                /* only a grant the outgoing copy cannot be made of */
                check(storj && strcmp(e.field, "accessGrant") == 0);
                team_bundle_free(&b);
                continue;
            }
            for (size_t i = 0; i < b.n; i++) {
                size_t n = strlen(b.files[i].path);
                if (n > 4 && (strcmp(b.files[i].path + n - 4, ".yml") == 0 ||
                              strcmp(b.files[i].path + n - 5, ".yaml") == 0))
                    json_decref(load_one(b.files[i].content));
            }
            if (f == TEAM_COMPOSE) {
                json_t *d = load_one(content(&b, "config.yml"));
                check_config(json_array_get(d, 0), s, storj);
                json_decref(d);
            } else if (f == TEAM_KUBERNETES) {
                json_t *d = load_one(content(&b, "registry.yaml"));
                json_t *sec = json_array_get(d, 0);
                if (storj) {
                    EXPECT(sec, s->access_grant, "stringData", "storjAccessGrant");
                } else {
                    EXPECT(sec, s->s3_access_key, "stringData", "s3AccessKey");
                    EXPECT(sec, s->s3_secret_key, "stringData", "s3SecretKey");
                }
                EXPECT(sec, str[8], "stringData", "htpasswd");
                EXPECT(sec, s->tls_cert, "stringData", "tlsCertificate");
                EXPECT(sec, s->tls_key, "stringData", "tlsKey");
                const char *const cp[] = {"data", "config.yml", NULL};
                json_t *cfg = load_one(str_at(json_array_get(d, 1), cp));
                check_config(json_array_get(cfg, 0), s, storj);
                json_decref(cfg);
                json_decref(d);
            } else {
                json_t *d = load_one(content(&b, "values.yaml"));
                json_t *v = json_array_get(d, 0);
                EXPECT(v, s->bucket, "s3", "bucket");
                if (!storj) {
                    EXPECT(v, s->s3_region, "s3", "region");
                    EXPECT(v, s->s3_endpoint, "s3", "regionEndpoint");
                    EXPECT(v, s->s3_access_key, "secrets", "s3", "accessKey");
                    EXPECT(v, s->s3_secret_key, "secrets", "s3", "secretKey");
                }
                EXPECT(v, str[8], "secrets", "htpasswd");
                check_config(json_object_get(v, "configData"), s, storj);
                json_decref(d);
                d = load_one(content(&b, "tls-secret.yaml"));
                EXPECT(json_array_get(d, 0), s->tls_cert, "stringData", "tls.crt");
                EXPECT(json_array_get(d, 0), s->tls_key, "stringData", "tls.key");
                json_decref(d);
                if (storj) {
                    d = load_one(content(&b, "storj-gateway.yaml"));
                    EXPECT(json_array_get(d, 0), s->access_grant, "stringData", "storjAccessGrant");
                    json_decref(d);
                }
            }
            team_bundle_free(&b);
        }
        if (storj) {
            char *gw = regconfig_gateway(s);
            check(gw != NULL);
            json_t *d = load_one(gw);
            json_t *g = json_array_get(d, 0);
            EXPECT(g, s->access_grant, "access");
            EXPECT(g, s->gw_access_key, "minio.access-key");
            EXPECT(g, s->gw_secret_key, "minio.secret-key");
            check(json_object_size(g) == 5);
            json_decref(d);
            free(gw);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *str[NSTR];
    split(data, size, str);

    /* 1. the strings as keys, values and items */
    json_t *doc = json_object();
    json_t *list = json_array();
    for (int i = 0; i < NSTR; i++) {
        json_object_set_new(doc, str[i], json_string(str[(i + 1) % NSTR]));
        json_array_append_new(list, json_string(str[i]));
    }
    json_object_set_new(doc, "list", list);
    json_object_set_new(doc, "nested", json_pack("{s:[{s:s}]}", str[0], str[1], str[2]));
    round_trip(doc, 0);
    round_trip(doc, YAMLGEN_QUOTE_VALUES);
    json_decref(doc);

    /* 2. the strings as settings, through every generated file */
    struct settings s;
    check(settings_init(&s) == 0);
    s.saved = 1;
    s.bucket = strdup(str[0][0] ? str[0] : "b");
    s.s3_endpoint = strdup(str[1]);
    s.s3_region = strdup(str[2]);
    s.s3_access_key = strdup(str[3]);
    s.s3_secret_key = strdup(str[4]);
    s.access_grant = strdup(str[5]);
    s.tls_cert = strdup(str[6]);
    s.tls_key = strdup(str[7]);
    s.users = 1;
    snprintf(s.gw_access_key, sizeof s.gw_access_key, "%.40s", str[9]);
    snprintf(s.gw_secret_key, sizeof s.gw_secret_key, "%s", "gwsecret");
    /* a cut may split a UTF-8 character */
    json_t *probe = json_string(s.gw_access_key);
    if (!probe)
        snprintf(s.gw_access_key, sizeof s.gw_access_key, "%s", "gwaccess");
    json_decref(probe);
    export_all(&s, str, size ? data[size - 1] : 0);
    settings_free(&s);
    for (int i = 0; i < NSTR; i++)
        free(str[i]);
    return 0;
}
