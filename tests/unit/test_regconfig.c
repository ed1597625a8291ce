/*
 * Unit tests for backend/regconfig.c and backend/spec.c: the registry's
 * configuration document and the gateway's config file per mode, the Docker
 * create bodies, the one-file tar archives put into the containers, and the
 * spec hash that says when a container no longer matches its settings.
 *
 * The secrets (access grant, S3 secret key, the gateway key pair) may be in
 * the configuration files, and nowhere in a create body, label or variable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "regconfig.h"
#include "settings.h"
#include "spec.h"
#include "testutil.h"
#include "yamltest.h"

#define GRANT SAMPLE_GRANT
#define S3_SECRET "s3-secret-value-1234"
#define GW_AK "gwaccesskey0123456789abcdef0123456789ab"
#define GW_SK "gwsecretkey0123456789abcdef0123456789abcdef0123456789abcdef01"
#define SALT "0123456789abcdef0123456789abcdef"

#define REGISTRY_IMAGE "registry:3"
#define GATEWAY_IMAGE "storjlabs/gateway:1.12.0"
#define NATIVE_IMAGE "storjlabs/storj-docker-registry:2022"

/* A complete setting for each mode, with fixed per-install values. */
static void make_settings(enum mode m, struct settings *s)
{
    assert_int_equal(settings_init(s), 0);
    s->saved = 1;
    s->mode = m;
    snprintf(s->gw_access_key, sizeof s->gw_access_key, "%s", GW_AK);
    snprintf(s->gw_secret_key, sizeof s->gw_secret_key, "%s", GW_SK);
    snprintf(s->salt, sizeof s->salt, "%s", SALT);
    switch (m) {
    case MODE_LOCAL:
        break;
    case MODE_S3:
        s->bucket = xstrdup("registry");
        s->s3_endpoint = xstrdup("https://s3.example.com");
        s->s3_region = xstrdup("eu-west-1");
        s->s3_access_key = xstrdup("AKIAEXAMPLE");
        s->s3_secret_key = xstrdup(S3_SECRET);
        break;
    case MODE_STORJ:
    case MODE_STORJ_NATIVE:
        s->bucket = xstrdup("registry");
        s->access_grant = xstrdup(GRANT);
        break;
    case MODE_STORJ_HOSTED:
        s->bucket = xstrdup("registry");
        s->access_grant = xstrdup(GRANT);
        s->s3_access_key = xstrdup("hostedaccesskey");
        s->s3_secret_key = xstrdup(S3_SECRET);
        s->s3_keys_from_grant = 1;
        break;
    }
}

/* Value at a dotted path ("storage.s3.bucket"); NULL when absent. */
static json_t *at(json_t *j, const char *path)
{
    char key[128];
    while (j && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        j = json_object_get(j, key);
        path += n + (path[n] == '.');
    }
    return j;
}

static void check_member(const char *name, json_t *root, const char *path, const char *want)
{
    json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
    assert_non_null(w);
    json_t *got = at(root, path);
    char *text = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    CHECK(got && json_equal(got, w), "%s: %s is %s, want %s", name, path, text ? text : "(absent)",
          want);
    free(text);
    json_decref(w);
}

static void check_absent(const char *name, json_t *root, const char *path)
{
    CHECK(at(root, path) == NULL, "%s: %s is present", name, path);
}

/* ---- regconfig_registry ------------------------------------------------- */

struct member {
    const char *path;
    const char *json; /* NULL: must be absent */
};

static void test_registry_config_per_mode(void **state)
{
    static const struct {
        const char *name;
        enum mode mode;
        int host_network;
        const char *bind;
        int port;
        struct member m[24];
    } cases[] = {
        {"local",
         MODE_LOCAL,
         0,
         NULL,
         0,
         {{"version", "\"0.1\""},
          {"storage.filesystem.rootdirectory", "\"/var/lib/registry\""},
          {"storage.delete.enabled", "true"},
          {"storage.s3", NULL},
          {"storage.storj", NULL},
          {"storage.redirect", NULL},
          {"http.addr", "\":5000\""},
          {"health.storagedriver.enabled", "true"},
          {"storage.maintenance.uploadpurging.enabled", "true"}}},
        {"local host network", MODE_LOCAL, 1, NULL, 0, {{"http.addr", "\"127.0.0.1:9999\""}}},
        {"local host network IPv6", MODE_LOCAL, 1, "::1", 5001, {{"http.addr", "\"[::1]:5001\""}}},
        {"local host network any", MODE_LOCAL, 1, "0.0.0.0", 1, {{"http.addr", "\"0.0.0.0:1\""}}},
        {"local published ignores bind", MODE_LOCAL, 0, "::1", 5001, {{"http.addr", "\":5000\""}}},
        {"s3",
         MODE_S3,
         0,
         NULL,
         0,
         {{"storage.s3.regionendpoint", "\"https://s3.example.com\""},
          {"storage.s3.region", "\"eu-west-1\""},
          {"storage.s3.bucket", "\"registry\""},
          {"storage.s3.accesskey", "\"AKIAEXAMPLE\""},
          {"storage.s3.secretkey", "\"" S3_SECRET "\""},
          {"storage.s3.forcepathstyle", "true"},
          {"storage.s3.secure", "true"},
          {"storage.s3.v4auth", "true"},
          {"storage.s3.chunksize", "67108864"},
          {"storage.s3.multipartcopythresholdsize", "5368709120"},
          {"storage.s3.rootdirectory", "\"/\""},
          {"storage.redirect.disable", "true"},
          {"storage.delete.enabled", "true"},
          {"storage.filesystem", NULL},
          {"storage.storj", NULL},
          {"http.addr", "\":5000\""},
          {"health.storagedriver.enabled", "true"}}},
        {"s3 host network", MODE_S3, 1, "127.0.0.1", 8443, {{"http.addr", "\"127.0.0.1:8443\""}}},
        {"storj",
         MODE_STORJ,
         0,
         NULL,
         0,
         {{"storage.s3.regionendpoint", "\"http://127.0.0.1:7777\""},
          {"storage.s3.region", "\"us-east-1\""},
          {"storage.s3.bucket", "\"registry\""},
          {"storage.s3.accesskey", "\"" GW_AK "\""},
          {"storage.s3.secretkey", "\"" GW_SK "\""},
          {"storage.s3.forcepathstyle", "true"},
          {"storage.s3.secure", "false"},
          {"storage.s3.v4auth", "true"},
          {"storage.s3.chunksize", "67108864"},
          {"storage.s3.multipartcopythresholdsize", "5368709120"},
          {"storage.redirect.disable", "true"},
          {"storage.delete.enabled", "true"},
          {"storage.storj", NULL},
          {"http.addr", "\":5000\""}}},
        {"storj host network",
         MODE_STORJ,
         1,
         "127.0.0.1",
         9999,
         {{"http.addr", "\"127.0.0.1:9999\""},
          {"storage.s3.regionendpoint", "\"http://127.0.0.1:7777\""}}},
        {"storj-hosted",
         MODE_STORJ_HOSTED,
         0,
         NULL,
         0,
         {{"storage.s3.regionendpoint", "\"https://gateway.storjshare.io\""},
          {"storage.s3.region", "\"us-east-1\""},
          {"storage.s3.bucket", "\"registry\""},
          {"storage.s3.accesskey", "\"hostedaccesskey\""},
          {"storage.s3.secretkey", "\"" S3_SECRET "\""},
          {"storage.s3.forcepathstyle", "true"},
          {"storage.s3.secure", "true"},
          {"storage.s3.v4auth", "true"},
          {"storage.s3.chunksize", "67108864"},
          {"storage.s3.multipartcopythresholdsize", "5368709120"},
          {"storage.redirect.disable", "true"},
          {"storage.delete.enabled", "true"},
          {"http.addr", "\":5000\""}}},
        {"storj-native",
         MODE_STORJ_NATIVE,
         0,
         NULL,
         0,
         {{"storage.storj", "{\"accessgrant\":\"" GRANT "\",\"bucket\":\"registry\"}"},
          {"storage.s3", NULL},
          {"storage.redirect", NULL},
          {"storage.filesystem", NULL},
          {"storage.delete.enabled", "true"},
          {"health.storagedriver.enabled", "false"},
          {"http.addr", "\":5000\""}}},
        {"storj-native host network IPv6",
         MODE_STORJ_NATIVE,
         1,
         "2001:db8::1",
         443,
         {{"http.addr", "\"[2001:db8::1]:443\""}}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct settings s;
        make_settings(cases[i].mode, &s);
        if (cases[i].bind)
            snprintf(s.bind, sizeof s.bind, "%s", cases[i].bind);
        if (cases[i].port)
            s.port = cases[i].port;
        json_t *c = regconfig_registry(&s, cases[i].host_network);
        CHECK(c != NULL, "%s: no config", cases[i].name);
        for (int k = 0; k < 24 && cases[i].m[k].path; k++) {
            if (cases[i].m[k].json)
                check_member(cases[i].name, c, cases[i].m[k].path, cases[i].m[k].json);
            else
                check_absent(cases[i].name, c, cases[i].m[k].path);
        }
        /* one storage driver exactly */
        int drivers =
            !!at(c, "storage.filesystem") + !!at(c, "storage.s3") + !!at(c, "storage.storj");
        CHECK(drivers == 1, "%s: %d storage drivers", cases[i].name, drivers);
        json_decref(c);
        settings_free(&s);
    }
}

static void test_registry_config_variants(void **state)
{
    /* an http endpoint is not secure; a region left out is the default */
    struct settings s;
    make_settings(MODE_S3, &s);
    free(s.s3_endpoint);
    s.s3_endpoint = xstrdup("http://minio:9000");
    free(s.s3_region);
    s.s3_region = NULL;
    json_t *c = regconfig_registry(&s, 0);
    assert_non_null(c);
    check_member("s3 http", c, "storage.s3.secure", "false");
    check_member("s3 http", c, "storage.s3.regionendpoint", "\"http://minio:9000\"");
    check_member("s3 http", c, "storage.s3.region", "\"us-east-1\"");
    json_decref(c);
    settings_free(&s);

    /* storj-hosted with its own endpoint and region */
    make_settings(MODE_STORJ_HOSTED, &s);
    s.s3_endpoint = xstrdup("https://gateway.eu1.storjshare.io");
    s.s3_region = xstrdup("eu1");
    c = regconfig_registry(&s, 0);
    assert_non_null(c);
    check_member("hosted endpoint", c, "storage.s3.regionendpoint",
                 "\"https://gateway.eu1.storjshare.io\"");
    check_member("hosted endpoint", c, "storage.s3.region", "\"eu1\"");
    json_decref(c);
    settings_free(&s);

    /* storj ignores any S3 settings left from another mode */
    make_settings(MODE_STORJ, &s);
    s.s3_endpoint = xstrdup("https://s3.example.com");
    s.s3_region = xstrdup("eu-west-1");
    s.s3_access_key = xstrdup("AKIAEXAMPLE");
    s.s3_secret_key = xstrdup(S3_SECRET);
    c = regconfig_registry(&s, 0);
    assert_non_null(c);
    check_member("storj leftovers", c, "storage.s3.regionendpoint", "\"http://127.0.0.1:7777\"");
    check_member("storj leftovers", c, "storage.s3.region", "\"us-east-1\"");
    check_member("storj leftovers", c, "storage.s3.accesskey", "\"" GW_AK "\"");
    /* and the grant stays with the gateway */
    char *text = json_dumps(c, 0);
    assert_null(strstr(text, GRANT));
    assert_null(strstr(text, S3_SECRET));
    free(text);
    json_decref(c);
    settings_free(&s);
}

static void test_registry_config_incomplete(void **state)
{
    static const struct {
        const char *name;
        enum mode mode;
        int clear; /* which field to clear */
    } cases[] = {
        {"s3 without bucket", MODE_S3, 0},
        {"s3 without access key", MODE_S3, 1},
        {"s3 without secret key", MODE_S3, 2},
        {"storj without bucket", MODE_STORJ, 0},
        {"storj without grant (the gateway needs it)", MODE_STORJ, 3},
        {"storj-hosted without bucket", MODE_STORJ_HOSTED, 0},
        {"storj-hosted without access key", MODE_STORJ_HOSTED, 1},
        {"storj-hosted without secret key (grant not registered yet)", MODE_STORJ_HOSTED, 2},
        {"storj-native without bucket", MODE_STORJ_NATIVE, 0},
        {"storj-native without grant", MODE_STORJ_NATIVE, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (int host = 0; host <= 1; host++) {
            struct settings s;
            make_settings(cases[i].mode, &s);
            switch (cases[i].clear) {
            case 0:
                free(s.bucket);
                s.bucket = NULL;
                break;
            case 1:
                free(s.s3_access_key);
                s.s3_access_key = NULL;
                break;
            case 2:
                secret_free(&s.s3_secret_key);
                break;
            default:
                secret_free(&s.access_grant);
                break;
            }
            json_t *c = regconfig_registry(&s, host);
            CHECK(c == NULL, "%s: a config was made", cases[i].name);
            settings_free(&s);
        }
    }
}

/* ---- regconfig_gateway -------------------------------------------------- */

static void test_gateway_config(void **state)
{
    struct settings s;
    make_settings(MODE_STORJ, &s);
    char *text = regconfig_gateway(&s);
    assert_non_null(text);
    /* a comment line, then one key per line */
    assert_int_equal(text[0], '#');
    const char *body = strchr(text, '\n');
    assert_non_null(body);
    assert_string_equal(body + 1, "access: \"" GRANT "\"\n"
                                  "minio.access-key: \"" GW_AK "\"\n"
                                  "minio.secret-key: \"" GW_SK "\"\n"
                                  "server.address: \"127.0.0.1:7777\"\n"
                                  "s3.upload-part-copy.enable: true\n");
    secret_free(&text);
    settings_free(&s);
}

static void test_gateway_quoting(void **state)
{
    static const struct {
        const char *name;
        const char *grant;
        const char *want; /* the access line (libyaml escapes what needs it), NULL: refused */
    } cases[] = {
        {"plain", "abc", "access: \"abc\"\n"},
        {"quote", "a\"b", "access: \"a\\\"b\"\n"},
        {"backslash", "a\\b", "access: \"a\\\\b\"\n"},
        {"both", "\\\"", "access: \"\\\\\\\"\"\n"},
        {"YAML syntax", "a: b # c", "access: \"a: b # c\"\n"},
        {"UTF-8", "caf\xc3\xa9", "access: \"caf\xc3\xa9\"\n"},
        {"newline", "abc\nserver.address: 0.0.0.0:7777",
         "access: \"abc\\nserver.address: 0.0.0.0:7777\"\n"},
        {"carriage return", "abc\r", "access: \"abc\\r\"\n"},
        {"tab", "a\tb", "access: \"a\\tb\"\n"}, /* escaped, as YAML reads it back */
        {"escape", "a\x1b[0m", "access: \"a\\e[0m\"\n"},
        {"unit separator", "a\x1f", "access: \"a\\x1F\"\n"},
        {"DEL", "a\x7f", "access: \"a\\x7F\"\n"},
        {"first byte", "\x01", "access: \"\\x01\"\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct settings s;
        make_settings(MODE_STORJ, &s);
        secret_free(&s.access_grant);
        s.access_grant = xstrdup(cases[i].grant);
        char *text = regconfig_gateway(&s);
        if (cases[i].want) {
            CHECK(text != NULL, "%s: refused", cases[i].name);
            const char *line = strchr(text, '\n') + 1;
            CHECK(strncmp(line, cases[i].want, strlen(cases[i].want)) == 0,
                  "%s: access line is %.40s", cases[i].name, line);
        } else {
            CHECK(text == NULL, "%s: accepted", cases[i].name);
        }
        secret_free(&text);
        settings_free(&s);
    }

    /* libyaml escapes control characters in the other values too: the
     * file reads back as the values, with nothing added */
    struct settings s;
    make_settings(MODE_STORJ, &s);
    s.gw_secret_key[3] = '\n';
    char *text = regconfig_gateway(&s);
    char why[256];
    json_t *docs = text ? yamltest_load(text, why, sizeof why) : NULL;
    assert_non_null(docs);
    json_t *doc = json_array_get(docs, 0);
    assert_string_equal(json_string_value(json_object_get(doc, "minio.secret-key")),
                        s.gw_secret_key);
    assert_int_equal(json_object_size(doc), 5);
    json_decref(docs);
    secret_free(&text);
    settings_free(&s);

    /* no grant, no file */
    make_settings(MODE_STORJ, &s);
    secret_free(&s.access_grant);
    assert_null(regconfig_gateway(&s));
    settings_free(&s);
}

/* ---- spec_tar_file ------------------------------------------------------ */

static unsigned long long octal(const char *p, size_t n)
{
    unsigned long long v = 0;
    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
        v = v * 8 + (unsigned)(p[i] - '0');
    return v;
}

/* Checks a one-file ustar archive byte by byte; returns the data. */
static const unsigned char *check_tar(const char *name, const struct buf *b, const char *path,
                                      size_t len)
{
    size_t padded = (len + 511) / 512 * 512;
    CHECK(b->len == 512 + padded + 1024, "%s: archive is %zu bytes, want %zu", name, b->len,
          512 + padded + 1024);
    const unsigned char *h = (const unsigned char *)b->data;
    CHECK(strncmp((const char *)h, path, 100) == 0, "%s: name %.100s", name, (const char *)h);
    CHECK(memcmp(h + 100, "0000600", 8) == 0, "%s: mode %.8s", name, (const char *)h + 100);
    CHECK(memcmp(h + 108, "0000000", 8) == 0 && memcmp(h + 116, "0000000", 8) == 0, "%s: uid/gid",
          name);
    CHECK(h[135] == '\0' && octal((const char *)h + 124, 11) == len, "%s: size field %.12s", name,
          (const char *)h + 124);
    CHECK(octal((const char *)h + 136, 11) > 0, "%s: no mtime", name);
    CHECK(h[156] == '0', "%s: type %c", name, h[156]);
    CHECK(memcmp(h + 257,
                 "ustar\0"
                 "00",
                 8) == 0,
          "%s: magic", name);
    /* checksum: the header's bytes with the checksum field read as spaces */
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    CHECK(octal((const char *)h + 148, 8) == sum, "%s: checksum %.8s, want %o", name,
          (const char *)h + 148, sum);
    CHECK(h[154] == '\0' && h[155] == ' ', "%s: checksum terminator", name);
    for (size_t i = 512 + len; i < b->len; i++)
        CHECK(h[i] == 0, "%s: byte %zu of padding/end is %d", name, i, h[i]);
    return h + 512;
}

static void test_tar_sizes(void **state)
{
    static const size_t sizes[] = {0, 1, 5, 511, 512, 513, 1023, 1024, 1025, 5000, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        unsigned char *data = malloc(sizes[i] + 1);
        assert_non_null(data);
        for (size_t k = 0; k < sizes[i]; k++)
            data[k] = (unsigned char)(k * 31 + 7);
        struct buf b = {0};
        assert_int_equal(spec_tar_file(&b, "etc/storj-registry/config.yml", data, sizes[i]), 0);
        char name[32];
        snprintf(name, sizeof name, "size %zu", sizes[i]);
        const unsigned char *got = check_tar(name, &b, "etc/storj-registry/config.yml", sizes[i]);
        CHECK(sizes[i] == 0 || memcmp(got, data, sizes[i]) == 0, "%s: data differs", name);
        buf_free(&b);
        free(data);
    }
}

static void test_tar_paths(void **state)
{
    char path[128];
    struct buf b = {0};
    /* 99 characters fit the name field */
    memset(path, 'p', 99);
    path[99] = '\0';
    assert_int_equal(spec_tar_file(&b, path, "x", 1), 0);
    check_tar("99-character name", &b, path, 1);
    buf_free(&b);
    /* 100 do not: refused, nothing written */
    memset(path, 'p', 100);
    path[100] = '\0';
    assert_int_equal(buf_append(&b, "keep", 4), 0);
    assert_int_equal(spec_tar_file(&b, path, "x", 1), -1);
    assert_int_equal(b.len, 4);
    buf_free(&b);
    /* a cap on the buffer is honoured */
    struct buf small = {.max = 1024};
    assert_int_equal(spec_tar_file(&small, "a", "x", 1), -1);
    assert_int_equal(small.overflow, 1);
    buf_free(&small);
}

/* The archive as tar(1) reads it. */
static void test_tar_with_tar_tool(void **state)
{
    if (access("/usr/bin/tar", X_OK) != 0 && access("/bin/tar", X_OK) != 0) {
        skip();
    }
    static const char content[] = "{\n  \"version\": \"0.1\"\n}\n";
    struct buf b = {0};
    assert_int_equal(
        spec_tar_file(&b, "etc/storj-registry/config.yml", content, sizeof content - 1), 0);
    char file[] = "/tmp/sr-spec-tar-XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);

    char cmd[256], out[1024];
    snprintf(cmd, sizeof cmd, "tar -tvf %s 2>&1", file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    CHECK(strncmp(out, "-rw------- ", 11) == 0, "tar -tv: %s", out);
    CHECK(strstr(out, " 0/0 ") || strstr(out, " root/root "), "tar -tv owner: %s", out);
    char size[32];
    snprintf(size, sizeof size, " %zu ", sizeof content - 1);
    CHECK(strstr(out, size) && strstr(out, "etc/storj-registry/config.yml\n"), "tar -tv: %s", out);
    CHECK(strchr(out, '\n') == out + n - 1, "tar lists more than one file: %s", out);

    snprintf(cmd, sizeof cmd, "tar -xOf %s etc/storj-registry/config.yml 2>&1", file);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_string_equal(out, content);
    unlink(file);
    buf_free(&b);
}

/* ---- spec_build --------------------------------------------------------- */

static const struct spec_opts opts_publish = {REGISTRY_IMAGE, GATEWAY_IMAGE, NATIVE_IMAGE, 0};
static const struct spec_opts opts_host = {REGISTRY_IMAGE, GATEWAY_IMAGE, NATIVE_IMAGE, 1};

/* What the archive of a container holds: its one file's name and data. */
static char *tar_content(const struct spec_container *c, char *name, size_t name_len)
{
    const char *h = c->tar.data;
    assert_true(c->tar.len >= 512 + 1024);
    snprintf(name, name_len, "%.100s", h);
    size_t len = (size_t)octal(h + 124, 11);
    assert_true(512 + len <= c->tar.len);
    char *data = malloc(len + 1);
    assert_non_null(data);
    memcpy(data, h + 512, len);
    data[len] = '\0';
    return data;
}

static void check_no_secret_in(const char *name, json_t *j, const struct settings *s)
{
    char *text = json_dumps(j, JSON_COMPACT);
    const char *secrets[] = {s->access_grant, s->s3_secret_key, s->gw_secret_key, s->gw_access_key,
                             s->cache_token};
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++)
        if (secrets[i] && strlen(secrets[i]) >= 4)
            CHECK(!strstr(text, secrets[i]), "%s: secret %zu in %s", name, i, text);
    free(text);
}

static void test_spec_per_mode(void **state)
{
    static const struct {
        const char *name;
        enum mode mode;
        int host;
        const char *bind;
        int count;
        struct {
            const char *role, *name, *image, *cmd;
            const char *network;  /* NetworkMode, NULL: none */
            const char *bindings; /* PortBindings JSON, NULL: none */
            int mount;            /* the data volume */
            const char *tar_path;
        } c[2];
    } cases[] = {
        {"local",
         MODE_LOCAL,
         0,
         NULL,
         1,
         {{"registry", "storj-registry", REGISTRY_IMAGE,
           "[\"serve\",\"/etc/storj-registry/config.yml\"]", NULL,
           "{\"5000/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"9999\"}]}", 1,
           "etc/storj-registry/config.yml"}}},
        {"local host network",
         MODE_LOCAL,
         1,
         NULL,
         1,
         {{"registry", "storj-registry", REGISTRY_IMAGE,
           "[\"serve\",\"/etc/storj-registry/config.yml\"]", "host", NULL, 1,
           "etc/storj-registry/config.yml"}}},
        {"s3 on every interface",
         MODE_S3,
         0,
         "0.0.0.0",
         1,
         {{"registry", "storj-registry", REGISTRY_IMAGE,
           "[\"serve\",\"/etc/storj-registry/config.yml\"]", NULL,
           "{\"5000/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"9999\"}]}", 0,
           "etc/storj-registry/config.yml"}}},
        {"s3 IPv6",
         MODE_S3,
         0,
         "::1",
         1,
         {{"registry", "storj-registry", REGISTRY_IMAGE,
           "[\"serve\",\"/etc/storj-registry/config.yml\"]", NULL,
           "{\"5000/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"9999\"}]}", 0,
           "etc/storj-registry/config.yml"}}},
        {"s3 host network",
         MODE_S3,
         1,
         NULL,
         1,
         {{"registry", "storj-registry", REGISTRY_IMAGE,
           "[\"serve\",\"/etc/storj-registry/config.yml\"]", "host", NULL, 0,
           "etc/storj-registry/config.yml"}}},
        {"storj",
         MODE_STORJ,
         0,
         NULL,
         2,
         {{"gateway", "storj-registry-gateway", GATEWAY_IMAGE,
           "[\"run\",\"--server.address\",\"0.0.0.0:7777\"]", NULL,
           "{\"5000/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"9999\"}],"
           "\"7777/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}",
           0, "root/.local/share/storj/gateway/config.yaml"},
          {"registry", "storj-registry", REGISTRY_IMAGE,
           "[\"serve\",\"/etc/storj-registry/config.yml\"]", "container:storj-registry-gateway",
           NULL, 0, "etc/storj-registry/config.yml"}}},
        {"storj host network",
         MODE_STORJ,
         1,
         NULL,
         2,
         {{"gateway", "storj-registry-gateway", GATEWAY_IMAGE,
           "[\"run\",\"--server.address\",\"127.0.0.1:7777\"]", "host", NULL, 0,
           "root/.local/share/storj/gateway/config.yaml"},
          {"registry", "storj-registry", REGISTRY_IMAGE,
           "[\"serve\",\"/etc/storj-registry/config.yml\"]", "container:storj-registry-gateway",
           NULL, 0, "etc/storj-registry/config.yml"}}},
        {"storj-hosted",
         MODE_STORJ_HOSTED,
         0,
         NULL,
         1,
         {{"registry", "storj-registry", REGISTRY_IMAGE,
           "[\"serve\",\"/etc/storj-registry/config.yml\"]", NULL,
           "{\"5000/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"9999\"}]}", 0,
           "etc/storj-registry/config.yml"}}},
        {"storj-native",
         MODE_STORJ_NATIVE,
         0,
         NULL,
         1,
         {{"registry", "storj-registry", NATIVE_IMAGE,
           "[\"serve\",\"/etc/storj-registry/config.yml\"]", NULL,
           "{\"5000/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"9999\"}]}", 0,
           "etc/storj-registry/config.yml"}}},
        {"storj-native host network",
         MODE_STORJ_NATIVE,
         1,
         NULL,
         1,
         {{"registry", "storj-registry", NATIVE_IMAGE,
           "[\"serve\",\"/etc/storj-registry/config.yml\"]", "host", NULL, 0,
           "etc/storj-registry/config.yml"}}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *cn = cases[i].name;
        struct settings s;
        make_settings(cases[i].mode, &s);
        if (cases[i].bind)
            snprintf(s.bind, sizeof s.bind, "%s", cases[i].bind);
        s.users = !settings_bind_loopback(s.bind); /* required off loopback */
        struct spec_set set;
        struct err e = {0};
        int rc = spec_build(&s, cases[i].host ? &opts_host : &opts_publish, &set, &e);
        CHECK(rc == 0, "%s: %s", cn, e.message);
        CHECK(set.count == cases[i].count, "%s: %d containers", cn, set.count);
        CHECK(strlen(set.hash) == 64 && strspn(set.hash, "0123456789abcdef") == 64, "%s: hash %s",
              cn, set.hash);
        for (int k = 0; k < set.count; k++) {
            const struct spec_container *c = &set.c[k];
            json_t *create = c->create;
            json_t *host = json_object_get(create, "HostConfig");
            CHECK(strcmp(c->role, cases[i].c[k].role) == 0, "%s[%d]: role %s", cn, k, c->role);
            CHECK(strcmp(c->name, cases[i].c[k].name) == 0, "%s[%d]: name %s", cn, k, c->name);
            CHECK(strcmp(c->image, cases[i].c[k].image) == 0, "%s[%d]: image %s", cn, k, c->image);
            CHECK(str_eq(json_string_value(json_object_get(create, "Image")), cases[i].c[k].image),
                  "%s[%d]: create Image", cn, k);
            check_member(cn, create, "Cmd", cases[i].c[k].cmd);
            /* labels: managed, role, mode and the spec hash, nothing more */
            json_t *labels = json_object_get(create, "Labels");
            CHECK(json_object_size(labels) == 4, "%s[%d]: %zu labels", cn, k,
                  json_object_size(labels));
            CHECK(str_eq(json_string_value(json_object_get(labels, SPEC_LABEL_MANAGED)), "true"),
                  "%s[%d]: managed label", cn, k);
            CHECK(str_eq(json_string_value(json_object_get(labels, SPEC_LABEL_ROLE)),
                         cases[i].c[k].role),
                  "%s[%d]: role label", cn, k);
            CHECK(str_eq(json_string_value(json_object_get(labels, SPEC_LABEL_MODE)),
                         settings_mode_name(cases[i].mode)),
                  "%s[%d]: mode label", cn, k);
            CHECK(str_eq(json_string_value(json_object_get(labels, SPEC_LABEL_HASH)), set.hash),
                  "%s[%d]: hash label", cn, k);
            /* network */
            json_t *nm = json_object_get(host, "NetworkMode");
            CHECK(cases[i].c[k].network ? str_eq(json_string_value(nm), cases[i].c[k].network)
                                        : nm == NULL,
                  "%s[%d]: NetworkMode %s", cn, k, nm ? json_string_value(nm) : "(none)");
            if (cases[i].c[k].bindings) {
                check_member(cn, host, "PortBindings", cases[i].c[k].bindings);
                json_t *exposed = json_object_get(create, "ExposedPorts");
                /* the gateway's S3 port is published too, for the storage check */
                int gw = strcmp(c->role, "gateway") == 0;
                CHECK(json_object_size(exposed) == (size_t)(gw ? 2 : 1) &&
                          json_object_get(exposed, "5000/tcp") &&
                          (!gw || json_object_get(exposed, "7777/tcp")),
                      "%s[%d]: ExposedPorts", cn, k);
            } else {
                check_absent(cn, host, "PortBindings");
                check_absent(cn, create, "ExposedPorts");
            }
            /* the data volume, in local mode only */
            json_t *mounts = json_object_get(host, "Mounts");
            if (cases[i].c[k].mount)
                check_member(cn, host, "Mounts",
                             "[{\"Type\":\"volume\",\"Source\":\"storj-registry-data\","
                             "\"Target\":\"/var/lib/registry\"}]");
            else
                CHECK(mounts == NULL, "%s[%d]: Mounts present", cn, k);
            check_absent(cn, host, "Binds");
            /* no secret in the body, the environment or a label */
            check_no_secret_in(cn, create, &s);
            json_t *env = json_object_get(create, "Env");
            CHECK(json_is_array(env), "%s[%d]: Env is not a list", cn, k);
            /* the archive holds the config file */
            char tname[128];
            char *data = tar_content(c, tname, sizeof tname);
            CHECK(strcmp(tname, cases[i].c[k].tar_path) == 0, "%s[%d]: archive holds %s", cn, k,
                  tname);
            check_tar(cn, &c->tar, cases[i].c[k].tar_path, strlen(data));
            if (strcmp(c->role, "registry") == 0) {
                json_t *want = regconfig_registry(&s, cases[i].host);
                json_t *got = json_loads(data, 0, NULL);
                CHECK(got && json_equal(got, want), "%s: registry config in the archive", cn);
                json_decref(got);
                json_decref(want);
            } else {
                char *want = regconfig_gateway(&s);
                CHECK(want && strcmp(data, want) == 0, "%s: gateway config in the archive", cn);
                secret_free(&want);
            }
            memset(data, 0, strlen(data));
            free(data);
        }
        spec_free(&set);
        assert_int_equal(set.count, 0);
        settings_free(&s);
    }
}

static void test_spec_env(void **state)
{
    /* the registry's variables are ours and fixed; the gateway gets none */
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    make_settings(MODE_STORJ, &s);
    assert_int_equal(spec_build(&s, &opts_publish, &set, &e), 0);
    check_member("gateway env", set.c[0].create, "Env", "[]");
    check_member("registry env", set.c[1].create, "Env", "[\"OTEL_TRACES_EXPORTER=none\"]");
    check_member("restart policy", set.c[1].create, "HostConfig.RestartPolicy",
                 "{\"Name\":\"no\"}");
    spec_free(&set);
    settings_free(&s);
}

static void test_spec_incomplete(void **state)
{
    static const struct {
        const char *name;
        enum mode mode;
    } cases[] = {
        {"s3", MODE_S3},
        {"storj-hosted", MODE_STORJ_HOSTED},
        {"storj-native", MODE_STORJ_NATIVE},
        {"storj", MODE_STORJ},
        {"storj without grant", MODE_STORJ},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct settings s;
        make_settings(cases[i].mode, &s);
        if (strstr(cases[i].name, "grant")) {
            secret_free(&s.access_grant);
        } else {
            free(s.bucket);
            s.bucket = NULL;
        }
        struct spec_set set;
        struct err e = {0};
        CHECK(spec_build(&s, &opts_publish, &set, &e) == -1, "%s: built", cases[i].name);
        CHECK(ecode_name(e.code) && strcmp(ecode_name(e.code), "incomplete_settings") == 0 &&
                  e.status == 400,
              "%s: code %s", cases[i].name, ecode_name(e.code) ? ecode_name(e.code) : "(null)");
        CHECK(set.count == 0, "%s: %d containers", cases[i].name, set.count);
        spec_free(&set);
        settings_free(&s);
    }
}

/* ---- the spec hash ------------------------------------------------------ */

static void build_hash(const struct settings *s, const struct spec_opts *o, char hash[65])
{
    struct spec_set set;
    struct err e = {0};
    CHECK(spec_build(s, o, &set, &e) == 0, "build: %s", e.message);
    memcpy(hash, set.hash, 65);
    spec_free(&set);
}

static void replace(char **slot, const char *value)
{
    secret_free(slot);
    *slot = xstrdup(value);
}

enum change {
    CH_PORT,
    CH_BIND,
    CH_BUCKET,
    CH_GRANT,
    CH_ENDPOINT,
    CH_REGION,
    CH_ACCESS_KEY,
    CH_SECRET_KEY,
    CH_GW_ACCESS_KEY,
    CH_GW_SECRET_KEY,
    CH_SALT,
    CH_MODE,
    CH_HOST_NETWORK,
    CH_REGISTRY_IMAGE,
    CH_GATEWAY_IMAGE,
    CH_NATIVE_IMAGE,
};

static void apply(enum change ch, struct settings *s, struct spec_opts *o)
{
    switch (ch) {
    case CH_PORT:
        s->port = 5001;
        break;
    case CH_BIND:
        snprintf(s->bind, sizeof s->bind, "0.0.0.0");
        s->users = 1; /* required off loopback */
        break;
    case CH_BUCKET:
        replace(&s->bucket, "other-bucket");
        break;
    case CH_GRANT:
        /* another string: the gateway or native config changes */
        replace(&s->access_grant, GRANT "x");
        break;
    case CH_ENDPOINT:
        replace(&s->s3_endpoint, "https://s3.other.example.com");
        break;
    case CH_REGION:
        replace(&s->s3_region, "ap-south-1");
        break;
    case CH_ACCESS_KEY:
        replace(&s->s3_access_key, "OTHERKEY");
        break;
    case CH_SECRET_KEY:
        replace(&s->s3_secret_key, "other-secret");
        break;
    case CH_GW_ACCESS_KEY:
        s->gw_access_key[0] = s->gw_access_key[0] == 'z' ? 'y' : 'z';
        break;
    case CH_GW_SECRET_KEY:
        s->gw_secret_key[5] = s->gw_secret_key[5] == 'z' ? 'y' : 'z';
        break;
    case CH_SALT:
        s->salt[0] = s->salt[0] == 'f' ? 'e' : 'f';
        break;
    case CH_MODE:
        /* to a mode the same settings also satisfy */
        s->mode = s->mode == MODE_STORJ          ? MODE_STORJ_NATIVE
                  : s->mode == MODE_STORJ_NATIVE ? MODE_STORJ
                                                 : MODE_LOCAL;
        break;
    case CH_HOST_NETWORK:
        o->host_network = !o->host_network;
        break;
    case CH_REGISTRY_IMAGE:
        o->registry_image = "registry:3.0.1";
        break;
    case CH_GATEWAY_IMAGE:
        o->gateway_image = "storjlabs/gateway:1.13.0";
        break;
    case CH_NATIVE_IMAGE:
        o->native_image = "storjlabs/storj-docker-registry:2023";
        break;
    }
}

static void test_spec_hash(void **state)
{
    static const struct {
        enum mode mode;
        const enum change changes[16];
        int nchanges;
    } cases[] = {
        {MODE_LOCAL, {CH_PORT, CH_BIND, CH_SALT, CH_HOST_NETWORK, CH_REGISTRY_IMAGE}, 5},
        {MODE_S3,
         {CH_PORT, CH_BIND, CH_BUCKET, CH_ENDPOINT, CH_REGION, CH_ACCESS_KEY, CH_SECRET_KEY,
          CH_SALT, CH_MODE, CH_HOST_NETWORK, CH_REGISTRY_IMAGE},
         11},
        {MODE_STORJ,
         {CH_PORT, CH_BIND, CH_BUCKET, CH_GRANT, CH_GW_ACCESS_KEY, CH_GW_SECRET_KEY, CH_SALT,
          CH_MODE, CH_HOST_NETWORK, CH_REGISTRY_IMAGE, CH_GATEWAY_IMAGE},
         11},
        {MODE_STORJ_HOSTED,
         {CH_PORT, CH_BIND, CH_BUCKET, CH_ENDPOINT, CH_REGION, CH_ACCESS_KEY, CH_SECRET_KEY,
          CH_SALT, CH_MODE, CH_HOST_NETWORK, CH_REGISTRY_IMAGE},
         11},
        {MODE_STORJ_NATIVE,
         {CH_PORT, CH_BIND, CH_BUCKET, CH_GRANT, CH_SALT, CH_MODE, CH_HOST_NETWORK,
          CH_NATIVE_IMAGE},
         8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *mode = settings_mode_name(cases[i].mode);
        struct settings base, again;
        make_settings(cases[i].mode, &base);
        make_settings(cases[i].mode, &again);
        char h0[65], h1[65];
        build_hash(&base, &opts_publish, h0);
        /* stable: the same input gives the same hash, every time */
        build_hash(&base, &opts_publish, h1);
        CHECK(strcmp(h0, h1) == 0, "%s: hash not stable", mode);
        build_hash(&again, &opts_publish, h1);
        CHECK(strcmp(h0, h1) == 0, "%s: equal settings, different hash", mode);
        settings_free(&again);

        for (int k = 0; k < cases[i].nchanges; k++) {
            struct settings s;
            struct spec_opts o = opts_publish;
            assert_int_equal(settings_copy(&s, &base), 0);
            apply(cases[i].changes[k], &s, &o);
            char h2[65];
            build_hash(&s, &o, h2);
            CHECK(strcmp(h0, h2) != 0, "%s: change %d leaves the hash", mode,
                  (int)cases[i].changes[k]);
            settings_free(&s);
        }
        settings_free(&base);
    }

    /* different installations (salts) never share a hash */
    struct settings a, b;
    assert_int_equal(settings_init(&a), 0);
    assert_int_equal(settings_init(&b), 0);
    char ha[65], hb[65];
    build_hash(&a, &opts_publish, ha);
    build_hash(&b, &opts_publish, hb);
    assert_string_not_equal(ha, hb);
    settings_free(&a);
    settings_free(&b);
}

static void test_spec_hash_ignores_unused(void **state)
{
    /* settings a mode does not use leave its containers as they are */
    static const struct {
        enum mode mode;
        enum change change;
    } cases[] = {
        {MODE_LOCAL, CH_BUCKET},
        {MODE_LOCAL, CH_GRANT},
        {MODE_LOCAL, CH_SECRET_KEY},
        {MODE_LOCAL, CH_GATEWAY_IMAGE},
        {MODE_LOCAL, CH_NATIVE_IMAGE},
        {MODE_S3, CH_GRANT},
        {MODE_S3, CH_GW_SECRET_KEY},
        {MODE_STORJ, CH_SECRET_KEY},
        {MODE_STORJ, CH_ENDPOINT},
        {MODE_STORJ, CH_NATIVE_IMAGE},
        {MODE_STORJ_NATIVE, CH_REGISTRY_IMAGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct settings base, s;
        make_settings(cases[i].mode, &base);
        assert_int_equal(settings_copy(&s, &base), 0);
        struct spec_opts o = opts_publish;
        apply(cases[i].change, &s, &o);
        char h0[65], h1[65];
        build_hash(&base, &opts_publish, h0);
        build_hash(&s, &o, h1);
        CHECK(strcmp(h0, h1) == 0, "%s: unused change %d moves the hash",
              settings_mode_name(cases[i].mode), (int)cases[i].change);
        settings_free(&s);
        settings_free(&base);
    }
}

/* The clean-up container: the registry's spec with the garbage-collect
 * command, no published port, its own role; the registry's spec unchanged. */
static void test_spec_gc_container(void **state)
{
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    make_settings(MODE_LOCAL, &s);
    assert_int_equal(spec_build(&s, &opts_publish, &set, &e), 0);
    json_t *reg = set.c[set.count - 1].create;
    char *before = json_dumps(reg, JSON_SORT_KEYS);
    for (int untagged = 0; untagged <= 1; untagged++) {
        json_t *gc = spec_gc_container(reg, untagged);
        assert_non_null(gc);
        check_member("gc command", gc, "Cmd",
                     untagged ? "[\"garbage-collect\",\"--delete-untagged\",\"" REGCONFIG_PATH "\"]"
                              : "[\"garbage-collect\",\"" REGCONFIG_PATH "\"]");
        assert_null(json_object_get(gc, "ExposedPorts"));
        assert_null(json_object_get(json_object_get(gc, "HostConfig"), "PortBindings"));
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(gc, "Labels"), SPEC_LABEL_ROLE)),
            "gc");
        /* the same image, mounts and env as the registry */
        assert_true(json_equal(json_object_get(gc, "Image"), json_object_get(reg, "Image")));
        assert_true(json_equal(json_object_get(gc, "Env"), json_object_get(reg, "Env")));
        assert_true(json_equal(json_object_get(json_object_get(gc, "HostConfig"), "Mounts"),
                               json_object_get(json_object_get(reg, "HostConfig"), "Mounts")));
        json_decref(gc);
    }
    char *after = json_dumps(reg, JSON_SORT_KEYS);
    assert_string_equal(before, after);
    free(before);
    free(after);
    spec_free(&set);
    settings_free(&s);
}

/* During a clean-up the registry runs read-only: the flag is never saved
 * and only the clean-up sets it. */
static void test_registry_readonly(void **state)
{
    static const enum mode modes[] = {MODE_LOCAL, MODE_S3, MODE_STORJ, MODE_STORJ_HOSTED};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        struct settings s;
        make_settings(modes[i], &s);
        json_t *c = regconfig_registry(&s, 0);
        assert_non_null(c);
        assert_null(json_object_get(json_object_get(json_object_get(c, "storage"), "maintenance"),
                                    "readonly"));
        json_decref(c);
        s.maintenance_readonly = 1;
        c = regconfig_registry(&s, 0);
        check_member("read-only", c, "storage.maintenance.readonly", "{\"enabled\":true}");
        check_member("upload purging stays", c, "storage.maintenance.uploadpurging.enabled",
                     "true");
        json_decref(c);
        settings_free(&s);
    }
}

/* ---- reading back what a container holds (spec_tar_find, spec_config_compare) */

/* One raw tar entry, as other writers make them: POSIX ustar ("ustar\0")
 * with an optional prefix, or GNU ("ustar  "); type as given. */
static void raw_entry(struct buf *b, const char *prefix, const char *name, char type,
                      const char *data, size_t len, int gnu)
{
    char h[512] = {0};
    snprintf(h, 100, "%s", name);
    snprintf(h + 100, 8, "%07o", 0644);
    snprintf(h + 108, 8, "%07o", 0);
    snprintf(h + 116, 8, "%07o", 0);
    snprintf(h + 124, 12, "%011o", (unsigned)len);
    snprintf(h + 136, 12, "%011o", 1700000000);
    h[156] = type;
    memcpy(h + 257,
           gnu ? "ustar  "
               : "ustar\0"
                 "00",
           8);
    if (prefix)
        snprintf(h + 345, 155, "%s", prefix);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    static const char zeros[512];
    assert_int_equal(buf_append(b, h, 512), 0);
    assert_int_equal(buf_append(b, data, len), 0);
    assert_int_equal(buf_append(b, zeros, (512 - len % 512) % 512), 0);
}

static void raw_end(struct buf *b)
{
    static const char zeros[1024];
    assert_int_equal(buf_append(b, zeros, sizeof zeros), 0);
}

/* finds name (or the first file) in b: the data as a string, or NULL */
static char *found(const struct buf *b, const char *name)
{
    const char *d;
    size_t n;
    if (spec_tar_find(b->data, b->len, name, &d, &n))
        return NULL;
    char *out = malloc(n + 1);
    assert_non_null(out);
    memcpy(out, d, n);
    out[n] = '\0';
    return out;
}

static void expect_found(const char *what, const struct buf *b, const char *name, const char *want)
{
    char *got = found(b, name);
    if (!want)
        CHECK(!got, "%s: found \"%s\", want none", what, got);
    else
        CHECK(got && strcmp(got, want) == 0, "%s: found \"%s\", want \"%s\"", what,
              got ? got : "(none)", want);
    free(got);
}

static void test_tar_find(void **state)
{
    struct buf b = {0};
    /* ours, by its path written any way, or as the first file */
    assert_int_equal(spec_tar_file(&b, "etc/storj-registry/config.yml", "ours", 4), 0);
    expect_found("ours by path", &b, "etc/storj-registry/config.yml", "ours");
    expect_found("ours by absolute path", &b, REGCONFIG_PATH, "ours");
    expect_found("ours by ./path", &b, "./etc/storj-registry/config.yml", "ours");
    expect_found("ours first", &b, NULL, "ours");
    expect_found("another name", &b, "etc/storj-registry/htpasswd", NULL);
    buf_free(&b);

    /* what an engine answers: pax header, a directory, then the file under
     * its base name; 600 bytes spans two blocks */
    char big[601];
    memset(big, 'x', 600);
    big[600] = '\0';
    raw_entry(&b, NULL, "PaxHeaders/config.yml", 'x', "30 mtime=1700000000.123456789\n", 30, 0);
    raw_entry(&b, NULL, "etc/", '5', "", 0, 0);
    raw_entry(&b, NULL, "config.yml", '0', big, 600, 0);
    raw_entry(&b, NULL, "second", '0', "2nd", 3, 0);
    raw_end(&b);
    expect_found("engine's answer, first file", &b, NULL, big);
    expect_found("the entry after a two-block file", &b, "second", "2nd");
    expect_found("a directory is no file", &b, "etc", NULL);
    buf_free(&b);

    /* a long path in ustar's prefix; GNU headers have no prefix; old tar's
     * type NUL is a file */
    raw_entry(&b, "etc/storj-registry", "config.yml", '0', "prefixed", 8, 0);
    raw_entry(&b, NULL, "gnu.yml", '0', "gnu", 3, 1);
    raw_entry(&b, NULL, "old.yml", '\0', "old", 3, 0);
    raw_end(&b);
    expect_found("prefix and name", &b, REGCONFIG_PATH, "prefixed");
    expect_found("GNU header", &b, "gnu.yml", "gnu");
    expect_found("type NUL", &b, "old.yml", "old");
    buf_free(&b);

    /* malformed: nothing is found, nothing read past the end */
    raw_entry(&b, NULL, "config.yml", '0', "data", 4, 0);
    raw_end(&b);
    b.data[148] ^= 1; /* checksum */
    expect_found("bad checksum", &b, NULL, NULL);
    b.data[148] ^= 1;
    expect_found("intact again", &b, NULL, "data");
    size_t whole = b.len;
    b.len = 511;
    expect_found("shorter than a header", &b, NULL, NULL);
    b.len = whole;
    memcpy(b.data + 124, "77777777777", 11); /* a size past the end */
    expect_found("size past the end", &b, NULL, NULL);
    memcpy(b.data + 124, "0000000000x", 11);
    expect_found("size not octal", &b, NULL, NULL);
    buf_free(&b);
    raw_end(&b);
    expect_found("only the end blocks", &b, NULL, NULL);
    buf_free(&b);
    const char *d;
    size_t n;
    assert_int_equal(spec_tar_find(NULL, 0, NULL, &d, &n), -1);
}

/* an archive tar(1) writes in pax format, as Go's archive/tar may */
static void test_tar_find_tar_tool(void **state)
{
    if (access("/usr/bin/tar", X_OK) != 0 && access("/bin/tar", X_OK) != 0) {
        skip();
    }
    char dir[] = "/tmp/sr-spec-find-XXXXXX", cmd[512];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "cd %s && printf '{\"version\":\"0.1\"}' >config.yml && "
             "tar --format=pax -cf a.tar config.yml 2>&1",
             dir);
    assert_int_equal(system(cmd), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/a.tar", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    struct buf b = {0};
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(buf_append(&b, chunk, k), 0);
    fclose(f);
    expect_found("tar --format=pax", &b, NULL, "{\"version\":\"0.1\"}");
    buf_free(&b);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* A one-file archive named as an engine names it (the base name). */
static void engine_archive(struct buf *b, const char *data, size_t len)
{
    memset(b, 0, sizeof *b);
    raw_entry(b, NULL, "config.yml", '0', data, len, 0);
    raw_end(b);
}

/* the config a container of set puts in */
static char *own_config(struct spec_container *c)
{
    char *got = found(&c->tar, spec_config_path(c));
    assert_non_null(got);
    return got;
}

static void test_config_compare(void **state)
{
    static const enum mode modes[] = {MODE_LOCAL, MODE_S3, MODE_STORJ, MODE_STORJ_HOSTED};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        struct settings s;
        struct spec_set set, ro, other;
        struct err e = {0};
        struct buf b;
        const char *mode = settings_mode_name(modes[i]);
        make_settings(modes[i], &s);
        assert_int_equal(spec_build(&s, &opts_publish, &set, &e), 0);
        s.maintenance_readonly = 1; /* what the clean-up puts in (gc.c) */
        assert_int_equal(spec_build(&s, &opts_publish, &ro, &e), 0);
        s.maintenance_readonly = 0;
        s.port = 5555; /* in the host network the config names the port */
        assert_int_equal(spec_build(&s, &opts_host, &other, &e), 0);
        struct spec_container *r = spec_find(&set, "registry");
        assert_string_equal(spec_config_path(r), REGCONFIG_PATH);

        char *own = own_config(r);
        engine_archive(&b, own, strlen(own));
        CHECK(spec_config_compare(r, b.data, b.len) == SPEC_CONFIG_OWN, "%s: own config", mode);
        buf_free(&b);
        CHECK(spec_config_compare(r, r->tar.data, r->tar.len) == SPEC_CONFIG_OWN,
              "%s: its own archive", mode);

        char *rotext = own_config(spec_find(&ro, "registry"));
        engine_archive(&b, rotext, strlen(rotext));
        CHECK(spec_config_compare(r, b.data, b.len) == SPEC_CONFIG_READONLY,
              "%s: the clean-up's read-only config", mode);
        buf_free(&b);

        char *othertext = own_config(spec_find(&other, "registry"));
        engine_archive(&b, othertext, strlen(othertext));
        CHECK(spec_config_compare(r, b.data, b.len) == SPEC_CONFIG_OTHER,
              "%s: another listener's config", mode);
        buf_free(&b);

        /* one byte more is another file */
        own[strlen(own) - 1] = ' ';
        engine_archive(&b, own, strlen(own));
        CHECK(spec_config_compare(r, b.data, b.len) == SPEC_CONFIG_OTHER, "%s: changed", mode);
        buf_free(&b);
        engine_archive(&b, "", 0);
        CHECK(spec_config_compare(r, b.data, b.len) == SPEC_CONFIG_OTHER, "%s: empty", mode);
        buf_free(&b);
        engine_archive(&b, "{\"storage\":{\"maintenance\":{\"readonly\":{\"enabled\":false}}}}",
                       58);
        CHECK(spec_config_compare(r, b.data, b.len) == SPEC_CONFIG_OTHER,
              "%s: read-only off is not the clean-up's", mode);
        buf_free(&b);
        CHECK(spec_config_compare(r, NULL, 0) == SPEC_CONFIG_OTHER, "%s: no file", mode);
        CHECK(spec_config_compare(r, "garbage", 7) == SPEC_CONFIG_OTHER, "%s: no archive", mode);

        if (modes[i] == MODE_STORJ) {
            struct spec_container *g = spec_find(&set, "gateway");
            assert_string_equal(spec_config_path(g), REGCONFIG_GATEWAY_PATH);
            CHECK(spec_config_compare(g, g->tar.data, g->tar.len) == SPEC_CONFIG_OWN,
                  "gateway: its own");
            CHECK(spec_config_compare(g, r->tar.data, r->tar.len) == SPEC_CONFIG_OTHER,
                  "gateway: the registry's");
        }
        free(own);
        free(rotext);
        free(othertext);
        spec_free(&set);
        spec_free(&ro);
        spec_free(&other);
        settings_free(&s);
    }

    /* with users and TLS the archive holds more files: the config decides */
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    struct buf b;
    make_settings(MODE_LOCAL, &s);
    s.htpasswd = xstrdup("alice:$2y$05$abcdefghijklmnopqrstuv\n");
    s.tls_cert = xstrdup("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    s.tls_key = xstrdup("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    assert_int_equal(spec_build(&s, &opts_publish, &set, &e), 0);
    struct spec_container *r = spec_find(&set, "registry");
    expect_found("the key in a registry's archive", &r->tar, REGCONFIG_TLS_KEY_PATH, s.tls_key);
    expect_found("the users in a registry's archive", &r->tar, REGCONFIG_HTPASSWD_PATH, s.htpasswd);
    char *own = own_config(r);
    engine_archive(&b, own, strlen(own));
    CHECK(spec_config_compare(r, b.data, b.len) == SPEC_CONFIG_OWN, "users and TLS: own config");
    buf_free(&b);
    free(own);
    spec_free(&set);
    settings_free(&s);
}

/* A container left by an interrupted clean-up is known by its labels and
 * command (inspect's Config holds them as the create body does). */
static void test_spec_gc_kind(void **state)
{
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    make_settings(MODE_LOCAL, &s);
    assert_int_equal(spec_build(&s, &opts_publish, &set, &e), 0);
    json_t *reg = spec_find(&set, "registry")->create;
    for (int untagged = 0; untagged <= 1; untagged++) {
        json_t *gc = spec_gc_container(reg, untagged);
        json_t *inspect = json_pack("{s:s, s:o}", "Id", "abc", "Config", gc);
        assert_int_equal(spec_gc_kind(inspect), 2);
        /* the version probe (gc.c) runs by the same name */
        json_object_set_new(gc, "Cmd", json_pack("[s]", "--version"));
        assert_int_equal(spec_gc_kind(inspect), 1);
        /* not ours: another's container by that name */
        json_object_set_new(json_object_get(gc, "Labels"), SPEC_LABEL_MANAGED,
                            json_string("false"));
        assert_int_equal(spec_gc_kind(inspect), 0);
        json_object_del(gc, "Labels");
        assert_int_equal(spec_gc_kind(inspect), 0);
        json_decref(inspect);
    }
    json_t *inspect = json_pack("{s:O}", "Config", reg);
    assert_int_equal(spec_gc_kind(inspect), 1); /* ours, but no clean-up */
    json_decref(inspect);
    assert_int_equal(spec_gc_kind(NULL), 0);
    spec_free(&set);
    settings_free(&s);
}

/* ---- the Docker Hub cache ------------------------------------------------ */

#define HUB_TOKEN "dckr_pat_CacheTokenNeverInABody"

static void test_cache_config(void **state)
{
    static const struct {
        const char *name;
        enum mode mode;
        int host;
        const char *addr, *root; /* root NULL: filesystem */
    } cases[] = {
        {"local", MODE_LOCAL, 0, ":5000", NULL},
        {"local host network", MODE_LOCAL, 1, "127.0.0.1:9998", NULL},
        {"s3", MODE_S3, 0, ":5000", "/docker-hub-cache"},
        {"storj (in the gateway's namespace)", MODE_STORJ, 0, ":5001", "/docker-hub-cache"},
        {"storj host network", MODE_STORJ, 1, "127.0.0.1:9998", "/docker-hub-cache"},
        {"storj-hosted", MODE_STORJ_HOSTED, 0, ":5000", "/docker-hub-cache"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct settings s;
        make_settings(cases[i].mode, &s);
        s.cache_enabled = 1;
        s.maintenance_readonly = 1; /* a clean-up of the registry leaves the cache alone */
        json_t *c = regconfig_cache(&s, cases[i].host);
        assert_non_null(c);
        const char *n = cases[i].name;
        char addr[64];
        snprintf(addr, sizeof addr, "\"%s\"", cases[i].addr);
        check_member(n, c, "http.addr", addr);
        check_member(n, c, "proxy",
                     "{\"remoteurl\":\"https://registry-1.docker.io\",\"ttl\":\"168h\"}");
        check_member(n, c, "log.fields.service", "\"cache\"");
        /* a pull that breaks off leaves an upload behind: purged as the registry's are */
        check_member(n, c, "storage.maintenance.uploadpurging.enabled", "true");
        check_absent(n, c, "storage.maintenance.readonly");
        check_member(n, c, "storage.delete.enabled", "true"); /* the ttl deletes */
        if (cases[i].root) {
            char root[64];
            snprintf(root, sizeof root, "\"%s\"", cases[i].root);
            check_member(n, c, "storage.s3.rootdirectory", root);
            check_member(n, c, "storage.s3.bucket", "\"registry\"");
        } else {
            check_member(n, c, "storage.filesystem.rootdirectory", "\"/var/lib/registry\"");
        }
        /* the push registry keeps the bucket's root */
        json_t *r = regconfig_registry(&s, cases[i].host);
        if (cases[i].root)
            check_member(n, r, "storage.s3.rootdirectory", "\"/\"");
        check_absent(n, r, "proxy");
        json_decref(r);
        json_decref(c);
        settings_free(&s);
    }

    /* with registry users: the cache asks for them only off loopback (Docker
     * logs in to a mirror with its Docker Hub login, not ours) */
    for (int off = 0; off < 2; off++) {
        struct settings u;
        make_settings(MODE_LOCAL, &u);
        u.cache_enabled = 1;
        u.users = 1;
        if (off)
            snprintf(u.bind, sizeof u.bind, "0.0.0.0");
        json_t *uc = regconfig_cache(&u, 0), *ur = regconfig_registry(&u, 0);
        if (off)
            check_member("users off loopback", uc, "auth.htpasswd.path",
                         "\"/etc/storj-registry/htpasswd\"");
        else
            check_absent("users on loopback", uc, "auth");
        check_member("the registry asks", ur, "auth.htpasswd.path",
                     "\"/etc/storj-registry/htpasswd\"");
        json_decref(uc);
        json_decref(ur);
        settings_free(&u);
    }

    /* a Docker Hub login, another upstream, a ttl that never expires */
    struct settings s;
    make_settings(MODE_S3, &s);
    s.cache_enabled = 1;
    s.cache_upstream = xstrdup("http://198.18.1.7:5000");
    s.cache_username = xstrdup("hubuser");
    s.cache_token = xstrdup(HUB_TOKEN);
    snprintf(s.cache_ttl, sizeof s.cache_ttl, "0");
    json_t *c = regconfig_cache(&s, 0);
    check_member("login", c, "proxy",
                 "{\"remoteurl\":\"http://198.18.1.7:5000\",\"ttl\":\"0\",\"username\":"
                 "\"hubuser\",\"password\":\"" HUB_TOKEN "\"}");
    json_decref(c);
    settings_free(&s);
}

static void test_cache_spec(void **state)
{
    static const struct {
        const char *name;
        enum mode mode;
        int host;
        int count;
        const char *network;  /* the cache's NetworkMode, NULL: none */
        const char *bindings; /* the cache's PortBindings, NULL: none */
        int volume;
    } cases[] = {
        {"local", MODE_LOCAL, 0, 2, NULL,
         "{\"5000/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"9998\"}]}", 1},
        {"local host network", MODE_LOCAL, 1, 2, "\"host\"", NULL, 1},
        {"s3", MODE_S3, 0, 2, NULL,
         "{\"5000/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"9998\"}]}", 0},
        {"storj", MODE_STORJ, 0, 3, "\"container:storj-registry-gateway\"", NULL, 0},
        {"storj host network", MODE_STORJ, 1, 3, "\"container:storj-registry-gateway\"", NULL, 0},
        {"storj-hosted", MODE_STORJ_HOSTED, 0, 2, NULL,
         "{\"5000/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"9998\"}]}", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *n = cases[i].name;
        struct settings s;
        struct spec_set off, on;
        struct err e = {0};
        make_settings(cases[i].mode, &s);
        s.cache_username = xstrdup("hubuser");
        s.cache_token = xstrdup(HUB_TOKEN);
        const struct spec_opts *o = cases[i].host ? &opts_host : &opts_publish;
        assert_int_equal(spec_build(&s, o, &off, &e), 0);
        CHECK(off.count == cases[i].count - 1 && !spec_find(&off, "cache"), "%s: cache when off",
              n);
        s.cache_enabled = 1;
        assert_int_equal(spec_build(&s, o, &on, &e), 0);
        CHECK(on.count == cases[i].count, "%s: %d containers", n, on.count);
        CHECK(strcmp(off.hash, on.hash) != 0, "%s: the hash ignores the cache", n);
        struct spec_container *c = spec_find(&on, "cache");
        assert_non_null(c);
        CHECK(c == &on.c[on.count - 1] &&
                  strcmp(on.c[0].role, cases[i].mode == MODE_STORJ ? "gateway" : "registry") == 0,
              "%s: order", n);
        assert_string_equal(c->name, "storj-registry-cache");
        assert_string_equal(c->image, REGISTRY_IMAGE);
        check_member(n, c->create, "Image", "\"" REGISTRY_IMAGE "\"");
        check_member(n, c->create, "Env", "[\"OTEL_TRACES_EXPORTER=none\"]");
        json_t *labels = json_object_get(c->create, "Labels");
        CHECK(strcmp(json_string_value(json_object_get(labels, SPEC_LABEL_ROLE)), "cache") == 0,
              "%s: role label", n);
        CHECK(strcmp(json_string_value(json_object_get(labels, SPEC_LABEL_HASH)), on.hash) == 0,
              "%s: hash label", n);
        json_t *host = json_object_get(c->create, "HostConfig");
        if (cases[i].network)
            check_member(n, host, "NetworkMode", cases[i].network);
        else
            check_absent(n, host, "NetworkMode");
        if (cases[i].bindings)
            check_member(n, host, "PortBindings", cases[i].bindings);
        else
            check_absent(n, host, "PortBindings");
        if (cases[i].volume)
            check_member(n, host, "Mounts",
                         "[{\"Type\":\"volume\",\"Source\":\"storj-registry-cache\","
                         "\"Target\":\"/var/lib/registry\"}]");
        else
            check_absent(n, host, "Mounts");
        /* in storj mode (publish) the gateway publishes the cache's port too */
        if (cases[i].mode == MODE_STORJ && !cases[i].host)
            check_member(n, on.c[0].create, "HostConfig.PortBindings.5001/tcp",
                         "[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"9998\"}]");
        if (cases[i].mode == MODE_STORJ)
            check_absent(n, off.c[0].create, "HostConfig.PortBindings.5001/tcp");
        /* the token is in the cache's configuration file, nowhere else */
        for (int k = 0; k < on.count; k++) {
            check_no_secret_in(n, on.c[k].create, &s);
            char name[128];
            char *data = tar_content(&on.c[k], name, sizeof name);
            CHECK((strstr(data, HUB_TOKEN) != NULL) == (&on.c[k] == c), "%s: token in %s's files",
                  n, on.c[k].role);
            free(data);
        }
        spec_free(&off);
        spec_free(&on);
        settings_free(&s);
    }

    /* storj-native has no cache, even when a file says on */
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    make_settings(MODE_STORJ_NATIVE, &s);
    s.cache_enabled = 1;
    assert_int_equal(spec_build(&s, &opts_publish, &set, &e), 0);
    CHECK(set.count == 1 && !spec_find(&set, "cache"), "native: a cache");
    spec_free(&set);
    settings_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_config_per_mode),
        cmocka_unit_test(test_registry_config_variants),
        cmocka_unit_test(test_registry_config_incomplete),
        cmocka_unit_test(test_gateway_config),
        cmocka_unit_test(test_gateway_quoting),
        cmocka_unit_test(test_tar_sizes),
        cmocka_unit_test(test_tar_paths),
        cmocka_unit_test(test_tar_with_tar_tool),
        cmocka_unit_test(test_spec_per_mode),
        cmocka_unit_test(test_spec_env),
        cmocka_unit_test(test_registry_readonly),
        cmocka_unit_test(test_spec_gc_container),
        cmocka_unit_test(test_tar_find),
        cmocka_unit_test(test_tar_find_tar_tool),
        cmocka_unit_test(test_config_compare),
        cmocka_unit_test(test_spec_gc_kind),
        cmocka_unit_test(test_spec_incomplete),
        cmocka_unit_test(test_spec_hash),
        cmocka_unit_test(test_spec_hash_ignores_unused),
        cmocka_unit_test(test_cache_config),
        cmocka_unit_test(test_cache_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
