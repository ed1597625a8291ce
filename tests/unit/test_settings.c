/*
 * Unit tests for backend/settings.c: settings_merge (the PUT /api/config
 * validator) as one table of bodies over a few starting points, the bucket
 * and URL rules, the masked public view, and the 0600 file.
 *
 * Every merge case checks the error's field and code, that the current
 * settings were not touched, and frees the result (valgrind and ASan then
 * check that a failed merge leaves nothing behind).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "settings.h"
#include "testutil.h"

#define GRANT SAMPLE_GRANT
/* The same with its last character changed: the checksum fails. */
#define GRANT_DAMAGED                                                                              \
    "12G2HT4B1UXPXcmQ9uijCcfT6vA5gct1RwRq4hZQ4YS51xKN34aihDWZjDMWZJvByTy3BzSuieCmbEKv28wo2Bty7i"   \
    "GDewEYemefDw5hAAJcUJHpYcU24DVLiyoRKyLLGnR3L11QN1sQ6Da41SM62R7AqiBqMMDWB1zmr9gX8CWUwC57zdyH"   \
    "ZGrmRBtwkv1gXrogjtkbzUovXH"
#define S3_SECRET "s3-secret-value-1234"
#define HOSTED_SECRET "hosted-secret-5678"
#define C10 "abcdefghij"
#define BUCKET63 C10 C10 C10 C10 C10 C10 "abc"
#define BUCKET64 C10 C10 C10 C10 C10 C10 "abcd"

/* ---- starting points ---------------------------------------------------- */

enum preset { P_DEFAULT, P_S3, P_STORJ, P_HOSTED, P_USERS, P_CACHE_LOGIN };

static void make_preset(enum preset p, struct settings *s)
{
    assert_int_equal(settings_init(s), 0);
    switch (p) {
    case P_DEFAULT:
        break;
    case P_CACHE_LOGIN: /* the defaults with a Docker Hub login for the cache */
        s->cache_username = xstrdup("hubuser");
        s->cache_token = xstrdup("dckr_pat_saved");
        break;
    case P_USERS: /* the defaults with registry users (users.h) */
        s->users = 2;
        break;
    case P_S3:
        s->saved = 1;
        s->mode = MODE_S3;
        s->bucket = xstrdup("registry");
        s->s3_endpoint = xstrdup("https://s3.example.com");
        s->s3_region = xstrdup("eu-west-1");
        s->s3_access_key = xstrdup("AKIAEXAMPLE");
        s->s3_secret_key = xstrdup(S3_SECRET);
        break;
    case P_STORJ:
        s->saved = 1;
        s->mode = MODE_STORJ;
        s->bucket = xstrdup("registry");
        s->access_grant = xstrdup(GRANT);
        break;
    case P_HOSTED:
        s->saved = 1;
        s->mode = MODE_STORJ_HOSTED;
        s->bucket = xstrdup("registry");
        s->access_grant = xstrdup(GRANT);
        s->s3_access_key = xstrdup("hostedaccesskey");
        s->s3_secret_key = xstrdup(HOSTED_SECRET);
        s->s3_keys_from_grant = 1;
        s->auth_service = xstrdup(SETTINGS_AUTH_SERVICE);
        break;
    }
}

/* Everything a user can set, secrets included (test side only). */
static json_t *view(const struct settings *s)
{
    json_t *v =
        json_pack("{s:s, s:i, s:s, s:s?, s:s?, s:{s:s?, s:s?, s:s?, s:s?}, s:s?, s:b, "
                  "s:b, s:b}",
                  "mode", settings_mode_name(s->mode), "port", s->port, "bind", s->bind, "bucket",
                  s->bucket, "accessGrant", s->access_grant, "s3", "endpoint", s->s3_endpoint,
                  "region", s->s3_region, "accessKey", s->s3_access_key, "secretKey",
                  s->s3_secret_key, "authService", s->auth_service, "fromGrant",
                  s->s3_keys_from_grant, "saved", s->saved, "unencryptedKeys", s->unencrypted_keys);
    assert_non_null(v);
    json_object_set_new(v, "cache",
                        json_pack("{s:b, s:i, s:s?, s:s?, s:s?, s:s}", "enabled", s->cache_enabled,
                                  "port", s->cache_port, "upstream", s->cache_upstream, "username",
                                  s->cache_username, "token", s->cache_token, "ttl", s->cache_ttl));
    return v;
}

/* 1 when every member of want is in got with the same value (objects are
 * compared member by member, recursively). */
static int json_subset(json_t *want, json_t *got, char *where, size_t len)
{
    if (json_is_object(want) && json_is_object(got)) {
        const char *k;
        json_t *w;
        json_object_foreach(want, k, w)
        {
            if (!json_subset(w, json_object_get(got, k), where, len)) {
                if (!*where)
                    snprintf(where, len, "%s", k);
                return 0;
            }
        }
        return 1;
    }
    return got && json_equal(want, got);
}

/* ---- settings_merge ----------------------------------------------------- */

struct merge_case {
    const char *name;
    enum preset preset;
    const char *body;
    const char *field; /* NULL: success expected */
    const char *code;
    const char *expect;  /* on success: members of view() that must match */
    const char *message; /* on failure: a phrase the message holds */
};

#define OK(name, preset, body, expect)                                                             \
    {                                                                                              \
        name, preset, body, NULL, NULL, expect, NULL                                               \
    }
#define BAD(name, preset, body, field, code)                                                       \
    {                                                                                              \
        name, preset, body, field, code, NULL, NULL                                                \
    }

static const struct merge_case merge_cases[] = {
    /* nothing to change */
    OK("empty body", P_DEFAULT, "{}",
       "{\"mode\":\"local\",\"port\":9999,\"bind\":\"127.0.0.1\",\"bucket\":null,"
       "\"saved\":true}"),
    OK("empty body keeps s3", P_S3, "{}",
       "{\"mode\":\"s3\",\"s3\":{\"secretKey\":\"" S3_SECRET "\"}}"),
    BAD("body is an array", P_DEFAULT, "[]", "", "invalid_body"),
    BAD("body is null", P_DEFAULT, "null", "", "invalid_body"),
    BAD("body is a string", P_DEFAULT, "\"local\"", "", "invalid_body"),

    /* mode */
    OK("mode local", P_S3, "{\"mode\":\"local\"}",
       "{\"mode\":\"local\",\"bucket\":\"registry\",\"s3\":{\"endpoint\":"
       "\"https://s3.example.com\"}}"),
    BAD("mode uppercase", P_DEFAULT, "{\"mode\":\"LOCAL\"}", "mode", "invalid_value"),
    BAD("mode unknown", P_DEFAULT, "{\"mode\":\"minio\"}", "mode", "invalid_value"),
    BAD("mode empty", P_DEFAULT, "{\"mode\":\"\"}", "mode", "invalid_value"),
    BAD("mode underscore", P_DEFAULT, "{\"mode\":\"storj_native\"}", "mode", "invalid_value"),
    BAD("mode padded", P_DEFAULT, "{\"mode\":\" local\"}", "mode", "invalid_value"),
    BAD("mode number", P_DEFAULT, "{\"mode\":1}", "mode", "invalid_type"),
    BAD("mode null", P_DEFAULT, "{\"mode\":null}", "mode", "invalid_type"),
    BAD("mode bool", P_DEFAULT, "{\"mode\":true}", "mode", "invalid_type"),
    BAD("mode array", P_DEFAULT, "{\"mode\":[\"local\"]}", "mode", "invalid_type"),

    /* port */
    OK("port 1", P_DEFAULT, "{\"port\":1}", "{\"port\":1}"),
    OK("port 5000", P_DEFAULT, "{\"port\":5000}", "{\"port\":5000}"),
    OK("port 65535", P_DEFAULT, "{\"port\":65535}", "{\"port\":65535}"),
    BAD("port 0", P_DEFAULT, "{\"port\":0}", "port", "out_of_range"),
    BAD("port -1", P_DEFAULT, "{\"port\":-1}", "port", "out_of_range"),
    BAD("port 65536", P_DEFAULT, "{\"port\":65536}", "port", "out_of_range"),
    BAD("port 2^32+80", P_DEFAULT, "{\"port\":4294967376}", "port", "out_of_range"),
    BAD("port huge", P_DEFAULT, "{\"port\":9223372036854775807}", "port", "out_of_range"),
    BAD("port float", P_DEFAULT, "{\"port\":5000.0}", "port", "invalid_type"),
    BAD("port fraction", P_DEFAULT, "{\"port\":5000.5}", "port", "invalid_type"),
    BAD("port exponent", P_DEFAULT, "{\"port\":5e3}", "port", "invalid_type"),
    BAD("port string", P_DEFAULT, "{\"port\":\"5000\"}", "port", "invalid_type"),
    BAD("port bool", P_DEFAULT, "{\"port\":true}", "port", "invalid_type"),
    BAD("port null", P_DEFAULT, "{\"port\":null}", "port", "invalid_type"),
    BAD("port object", P_DEFAULT, "{\"port\":{}}", "port", "invalid_type"),

    /* bind */
    OK("bind loopback", P_DEFAULT, "{\"bind\":\"127.0.0.1\"}", "{\"bind\":\"127.0.0.1\"}"),
    OK("bind any", P_USERS, "{\"bind\":\"0.0.0.0\"}", "{\"bind\":\"0.0.0.0\"}"),
    OK("bind LAN", P_USERS, "{\"bind\":\"198.51.100.20\"}", "{\"bind\":\"198.51.100.20\"}"),
    OK("bind IPv6 loopback", P_DEFAULT, "{\"bind\":\"::1\"}", "{\"bind\":\"::1\"}"),
    OK("bind IPv6 any", P_USERS, "{\"bind\":\"::\"}", "{\"bind\":\"::\"}"),
    OK("bind IPv6 global", P_USERS, "{\"bind\":\"2001:db8::42\"}", "{\"bind\":\"2001:db8::42\"}"),
    OK("bind loopback net", P_DEFAULT, "{\"bind\":\"127.0.0.2\"}", "{\"bind\":\"127.0.0.2\"}"),
    /* other machines may reach it: only with registry users */
    BAD("bind any without users", P_DEFAULT, "{\"bind\":\"0.0.0.0\"}", "bind", "users_required"),
    BAD("bind LAN without users", P_DEFAULT, "{\"bind\":\"198.51.100.20\"}", "bind",
        "users_required"),
    BAD("bind IPv6 any without users", P_DEFAULT, "{\"bind\":\"::\"}", "bind", "users_required"),
    BAD("bind mapped LAN without users", P_DEFAULT, "{\"bind\":\"::ffff:198.51.100.20\"}", "bind",
        "users_required"),
    OK("bind IPv4-mapped", P_DEFAULT, "{\"bind\":\"::ffff:127.0.0.1\"}",
       "{\"bind\":\"::ffff:127.0.0.1\"}"),
    BAD("bind hostname", P_DEFAULT, "{\"bind\":\"localhost\"}", "bind", "invalid_value"),
    BAD("bind domain", P_DEFAULT, "{\"bind\":\"registry.example.com\"}", "bind", "invalid_value"),
    BAD("bind empty", P_DEFAULT, "{\"bind\":\"\"}", "bind", "invalid_value"),
    BAD("bind with port", P_DEFAULT, "{\"bind\":\"127.0.0.1:9999\"}", "bind", "invalid_value"),
    BAD("bind bracketed", P_DEFAULT, "{\"bind\":\"[::1]\"}", "bind", "invalid_value"),
    BAD("bind octet 256", P_DEFAULT, "{\"bind\":\"256.0.0.1\"}", "bind", "invalid_value"),
    BAD("bind short IPv4", P_DEFAULT, "{\"bind\":\"127.1\"}", "bind", "invalid_value"),
    BAD("bind padded", P_DEFAULT, "{\"bind\":\" 127.0.0.1\"}", "bind", "invalid_value"),
    BAD("bind zone", P_DEFAULT, "{\"bind\":\"fe80::1%eth0\"}", "bind", "invalid_value"),
    BAD("bind too long", P_DEFAULT, "{\"bind\":\"" C10 C10 C10 C10 C10 C10 C10 "\"}", "bind",
        "invalid_value"),
    BAD("bind number", P_DEFAULT, "{\"bind\":2130706433}", "bind", "invalid_type"),
    BAD("bind null", P_DEFAULT, "{\"bind\":null}", "bind", "invalid_type"),

    /* bucket */
    OK("bucket simple", P_DEFAULT, "{\"bucket\":\"registry\"}", "{\"bucket\":\"registry\"}"),
    OK("bucket 3 chars", P_DEFAULT, "{\"bucket\":\"abc\"}", "{\"bucket\":\"abc\"}"),
    OK("bucket 63 chars", P_DEFAULT, "{\"bucket\":\"" BUCKET63 "\"}",
       "{\"bucket\":\"" BUCKET63 "\"}"),
    OK("bucket digits dots hyphens", P_DEFAULT, "{\"bucket\":\"0my-registry.v2\"}",
       "{\"bucket\":\"0my-registry.v2\"}"),
    OK("bucket double hyphen", P_DEFAULT, "{\"bucket\":\"a--b\"}", "{\"bucket\":\"a--b\"}"),
    OK("bucket dotted digits", P_DEFAULT, "{\"bucket\":\"1.2.3\"}", "{\"bucket\":\"1.2.3\"}"),
    OK("bucket null clears", P_S3, "{\"bucket\":null,\"mode\":\"local\"}", "{\"bucket\":null}"),
    OK("bucket empty clears", P_S3, "{\"bucket\":\"\",\"mode\":\"local\"}", "{\"bucket\":null}"),
    BAD("bucket 2 chars", P_DEFAULT, "{\"bucket\":\"ab\"}", "bucket", "invalid_value"),
    BAD("bucket 64 chars", P_DEFAULT, "{\"bucket\":\"" BUCKET64 "\"}", "bucket", "invalid_value"),
    BAD("bucket uppercase", P_DEFAULT, "{\"bucket\":\"Registry\"}", "bucket", "invalid_value"),
    BAD("bucket all caps", P_DEFAULT, "{\"bucket\":\"ABC\"}", "bucket", "invalid_value"),
    BAD("bucket underscore", P_DEFAULT, "{\"bucket\":\"my_bucket\"}", "bucket", "invalid_value"),
    BAD("bucket space", P_DEFAULT, "{\"bucket\":\"my bucket\"}", "bucket", "invalid_value"),
    BAD("bucket slash", P_DEFAULT, "{\"bucket\":\"my/bucket\"}", "bucket", "invalid_value"),
    BAD("bucket non-ASCII", P_DEFAULT, "{\"bucket\":\"caf\xc3\xa9s\"}", "bucket", "invalid_value"),
    BAD("bucket leading hyphen", P_DEFAULT, "{\"bucket\":\"-abc\"}", "bucket", "invalid_value"),
    BAD("bucket trailing hyphen", P_DEFAULT, "{\"bucket\":\"abc-\"}", "bucket", "invalid_value"),
    BAD("bucket leading dot", P_DEFAULT, "{\"bucket\":\".abc\"}", "bucket", "invalid_value"),
    BAD("bucket trailing dot", P_DEFAULT, "{\"bucket\":\"abc.\"}", "bucket", "invalid_value"),
    BAD("bucket double dot", P_DEFAULT, "{\"bucket\":\"a..b\"}", "bucket", "invalid_value"),
    BAD("bucket dot hyphen", P_DEFAULT, "{\"bucket\":\"a.-b\"}", "bucket", "invalid_value"),
    BAD("bucket hyphen dot", P_DEFAULT, "{\"bucket\":\"a-.b\"}", "bucket", "invalid_value"),
    BAD("bucket IPv4", P_DEFAULT, "{\"bucket\":\"203.0.113.1\"}", "bucket", "invalid_value"),
    BAD("bucket number", P_DEFAULT, "{\"bucket\":123}", "bucket", "invalid_type"),
    BAD("bucket bool", P_DEFAULT, "{\"bucket\":false}", "bucket", "invalid_type"),

    /* s3 */
    OK("s3 all fields", P_DEFAULT,
       "{\"s3\":{\"endpoint\":\"http://minio:9000\",\"region\":\"us-west-2\",\"accessKey\":"
       "\"AK\",\"secretKey\":\"SK12\"}}",
       "{\"s3\":{\"endpoint\":\"http://minio:9000\",\"region\":\"us-west-2\",\"accessKey\":"
       "\"AK\",\"secretKey\":\"SK12\"},\"mode\":\"local\"}"),
    OK("s3 empty object", P_S3, "{\"s3\":{}}",
       "{\"s3\":{\"endpoint\":\"https://s3.example.com\",\"secretKey\":\"" S3_SECRET "\"}}"),
    OK("s3 null clears", P_S3, "{\"s3\":null,\"mode\":\"local\"}",
       "{\"s3\":{\"endpoint\":null,\"region\":null,\"accessKey\":null,\"secretKey\":null}}"),
    BAD("s3 null in s3 mode", P_S3, "{\"s3\":null}", "s3.endpoint", "missing_field"),
    BAD("s3 string", P_DEFAULT, "{\"s3\":\"https://s3.example.com\"}", "s3", "invalid_type"),
    BAD("s3 array", P_DEFAULT, "{\"s3\":[]}", "s3", "invalid_type"),
    BAD("s3 unknown member", P_DEFAULT, "{\"s3\":{\"foo\":1}}", "s3.foo", "unknown_field"),
    BAD("s3 wrong case member", P_DEFAULT, "{\"s3\":{\"Endpoint\":\"https://x\"}}", "s3.Endpoint",
        "unknown_field"),
    BAD("s3 bucket inside", P_DEFAULT, "{\"s3\":{\"bucket\":\"abc\"}}", "s3.bucket",
        "unknown_field"),
    /* s3.endpoint */
    OK("endpoint https", P_DEFAULT, "{\"s3\":{\"endpoint\":\"https://gateway.storjshare.io\"}}",
       "{\"s3\":{\"endpoint\":\"https://gateway.storjshare.io\"}}"),
    OK("endpoint http with port", P_DEFAULT, "{\"s3\":{\"endpoint\":\"http://127.0.0.1:9000\"}}",
       "{\"s3\":{\"endpoint\":\"http://127.0.0.1:9000\"}}"),
    OK("endpoint with path", P_DEFAULT, "{\"s3\":{\"endpoint\":\"https://s3.example.com/a\"}}",
       "{\"s3\":{\"endpoint\":\"https://s3.example.com/a\"}}"),
    OK("endpoint IPv6", P_DEFAULT, "{\"s3\":{\"endpoint\":\"http://[::1]:7480\"}}",
       "{\"s3\":{\"endpoint\":\"http://[::1]:7480\"}}"),
    OK("endpoint empty clears", P_S3, "{\"s3\":{\"endpoint\":\"\"},\"mode\":\"local\"}",
       "{\"s3\":{\"endpoint\":null}}"),
    OK("endpoint null clears", P_S3, "{\"s3\":{\"endpoint\":null},\"mode\":\"local\"}",
       "{\"s3\":{\"endpoint\":null}}"),
    BAD("endpoint no scheme", P_DEFAULT, "{\"s3\":{\"endpoint\":\"s3.example.com\"}}",
        "s3.endpoint", "invalid_value"),
    BAD("endpoint ftp", P_DEFAULT, "{\"s3\":{\"endpoint\":\"ftp://s3.example.com\"}}",
        "s3.endpoint", "invalid_value"),
    BAD("endpoint s3 scheme", P_DEFAULT, "{\"s3\":{\"endpoint\":\"s3://bucket\"}}", "s3.endpoint",
        "invalid_value"),
    BAD("endpoint uppercase scheme", P_DEFAULT, "{\"s3\":{\"endpoint\":\"HTTPS://x.com\"}}",
        "s3.endpoint", "invalid_value"),
    BAD("endpoint scheme only", P_DEFAULT, "{\"s3\":{\"endpoint\":\"https://\"}}", "s3.endpoint",
        "invalid_value"),
    BAD("endpoint no host", P_DEFAULT, "{\"s3\":{\"endpoint\":\"http:///path\"}}", "s3.endpoint",
        "invalid_value"),
    BAD("endpoint port only", P_DEFAULT, "{\"s3\":{\"endpoint\":\"http://:9000\"}}", "s3.endpoint",
        "invalid_value"),
    BAD("endpoint space", P_DEFAULT, "{\"s3\":{\"endpoint\":\"https://s3.exa mple.com\"}}",
        "s3.endpoint", "invalid_value"),
    BAD("endpoint trailing space", P_DEFAULT, "{\"s3\":{\"endpoint\":\"https://s3.com \"}}",
        "s3.endpoint", "invalid_value"),
    BAD("endpoint quote", P_DEFAULT, "{\"s3\":{\"endpoint\":\"https://s3.com/\\\"x\"}}",
        "s3.endpoint", "invalid_value"),
    BAD("endpoint backslash", P_DEFAULT, "{\"s3\":{\"endpoint\":\"https://s3.com\\\\x\"}}",
        "s3.endpoint", "invalid_value"),
    BAD("endpoint userinfo", P_DEFAULT,
        "{\"s3\":{\"endpoint\":\"https://user:pass@s3.example.com\"}}", "s3.endpoint",
        "invalid_value"),
    BAD("endpoint newline", P_DEFAULT, "{\"s3\":{\"endpoint\":\"https://s3.com\\nx: y\"}}",
        "s3.endpoint", "invalid_value"),
    BAD("endpoint tab", P_DEFAULT, "{\"s3\":{\"endpoint\":\"https://s3.com\\t\"}}", "s3.endpoint",
        "invalid_value"),
    BAD("endpoint DEL", P_DEFAULT, "{\"s3\":{\"endpoint\":\"https://s3.com\\u007f\"}}",
        "s3.endpoint", "invalid_value"),
    BAD("endpoint javascript", P_DEFAULT, "{\"s3\":{\"endpoint\":\"javascript:alert(1)\"}}",
        "s3.endpoint", "invalid_value"),
    BAD("endpoint number", P_DEFAULT, "{\"s3\":{\"endpoint\":443}}", "s3.endpoint", "invalid_type"),
    /* s3.region */
    OK("region", P_DEFAULT, "{\"s3\":{\"region\":\"eu-central-1\"}}",
       "{\"s3\":{\"region\":\"eu-central-1\"}}"),
    OK("region underscore", P_DEFAULT, "{\"s3\":{\"region\":\"my_region\"}}",
       "{\"s3\":{\"region\":\"my_region\"}}"),
    OK("region empty clears", P_S3, "{\"s3\":{\"region\":\"\"}}", "{\"s3\":{\"region\":null}}"),
    OK("region null clears", P_S3, "{\"s3\":{\"region\":null}}", "{\"s3\":{\"region\":null}}"),
    BAD("region uppercase", P_DEFAULT, "{\"s3\":{\"region\":\"US-EAST-1\"}}", "s3.region",
        "invalid_value"),
    BAD("region space", P_DEFAULT, "{\"s3\":{\"region\":\"us east\"}}", "s3.region",
        "invalid_value"),
    BAD("region dot", P_DEFAULT, "{\"s3\":{\"region\":\"us.east\"}}", "s3.region", "invalid_value"),
    BAD("region quote", P_DEFAULT, "{\"s3\":{\"region\":\"a\\\"b\"}}", "s3.region",
        "invalid_value"),
    BAD("region bool", P_DEFAULT, "{\"s3\":{\"region\":true}}", "s3.region", "invalid_type"),
    /* s3.accessKey */
    OK("access key", P_DEFAULT, "{\"s3\":{\"accessKey\":\"jw7yzbh4mxhxzmkeqqcwqmhvvwna\"}}",
       "{\"s3\":{\"accessKey\":\"jw7yzbh4mxhxzmkeqqcwqmhvvwna\"}}"),
    OK("access key punctuation", P_DEFAULT, "{\"s3\":{\"accessKey\":\"a/b+c=d\"}}",
       "{\"s3\":{\"accessKey\":\"a/b+c=d\"}}"),
    OK("access key empty clears", P_DEFAULT, "{\"s3\":{\"accessKey\":\"\"}}",
       "{\"s3\":{\"accessKey\":null}}"),
    BAD("access key space", P_DEFAULT, "{\"s3\":{\"accessKey\":\"AK IA\"}}", "s3.accessKey",
        "invalid_value"),
    BAD("access key leading space", P_DEFAULT, "{\"s3\":{\"accessKey\":\" AKIA\"}}", "s3.accessKey",
        "invalid_value"),
    BAD("access key non-ASCII", P_DEFAULT, "{\"s3\":{\"accessKey\":\"\xc3\xa9t\xc3\xa9\"}}",
        "s3.accessKey", "invalid_value"),
    BAD("access key number", P_DEFAULT, "{\"s3\":{\"accessKey\":12345}}", "s3.accessKey",
        "invalid_type"),
    /* s3.secretKey */
    OK("secret key", P_DEFAULT, "{\"s3\":{\"secretKey\":\"abc/DEF+123=\"}}",
       "{\"s3\":{\"secretKey\":\"abc/DEF+123=\"}}"),
    OK("secret key replaced", P_S3, "{\"s3\":{\"secretKey\":\"new-secret\"}}",
       "{\"s3\":{\"secretKey\":\"new-secret\"}}"),
    OK("secret key empty keeps", P_S3, "{\"s3\":{\"secretKey\":\"\"}}",
       "{\"s3\":{\"secretKey\":\"" S3_SECRET "\"}}"),
    OK("secret key left out keeps", P_S3, "{\"s3\":{\"accessKey\":\"OTHER\"}}",
       "{\"s3\":{\"accessKey\":\"OTHER\",\"secretKey\":\"" S3_SECRET "\"}}"),
    OK("secret key null clears", P_S3, "{\"s3\":{\"secretKey\":null},\"mode\":\"local\"}",
       "{\"s3\":{\"secretKey\":null}}"),
    BAD("secret key null in s3 mode", P_S3, "{\"s3\":{\"secretKey\":null}}", "s3.secretKey",
        "missing_field"),
    BAD("secret key space", P_DEFAULT, "{\"s3\":{\"secretKey\":\"a b\"}}", "s3.secretKey",
        "invalid_value"),
    BAD("secret key newline", P_DEFAULT, "{\"s3\":{\"secretKey\":\"ab\\ncd\"}}", "s3.secretKey",
        "invalid_value"),
    BAD("secret key number", P_DEFAULT, "{\"s3\":{\"secretKey\":1}}", "s3.secretKey",
        "invalid_type"),
    BAD("secret key object", P_DEFAULT, "{\"s3\":{\"secretKey\":{\"set\":true}}}", "s3.secretKey",
        "invalid_type"),

    /* authService */
    OK("auth service", P_DEFAULT, "{\"authService\":\"https://auth.storjshare.io\"}",
       "{\"authService\":\"https://auth.storjshare.io\"}"),
    OK("auth service local", P_DEFAULT, "{\"authService\":\"http://127.0.0.1:8888\"}",
       "{\"authService\":\"http://127.0.0.1:8888\"}"),
    OK("auth service null clears", P_HOSTED, "{\"authService\":null}", "{\"authService\":null}"),
    OK("auth service empty clears", P_HOSTED, "{\"authService\":\"\"}", "{\"authService\":null}"),
    BAD("auth service no scheme", P_DEFAULT, "{\"authService\":\"auth.storjshare.io\"}",
        "authService", "invalid_value"),
    BAD("auth service userinfo", P_DEFAULT, "{\"authService\":\"https://a@auth.storjshare.io\"}",
        "authService", "invalid_value"),
    BAD("auth service number", P_DEFAULT, "{\"authService\":1}", "authService", "invalid_type"),
    OK("auth service localhost", P_DEFAULT, "{\"authService\":\"http://localhost:8888/\"}",
       "{\"authService\":\"http://localhost:8888/\"}"),
    BAD("auth service plain http elsewhere", P_DEFAULT,
        "{\"authService\":\"http://auth.example.com\"}", "authService", "invalid_value"),
    BAD("auth service http to a lookalike host", P_DEFAULT,
        "{\"authService\":\"http://127.0.0.1.example.com\"}", "authService", "invalid_value"),
    BAD("auth service http to localhost lookalike", P_DEFAULT,
        "{\"authService\":\"http://localhostx.example\"}", "authService", "invalid_value"),

    /* accessGrant */
    OK("grant", P_DEFAULT, "{\"accessGrant\":\"" GRANT "\"}", "{\"accessGrant\":\"" GRANT "\"}"),
    OK("grant empty keeps", P_STORJ, "{\"accessGrant\":\"\"}", "{\"accessGrant\":\"" GRANT "\"}"),
    OK("grant null clears", P_STORJ, "{\"accessGrant\":null,\"mode\":\"local\"}",
       "{\"accessGrant\":null}"),
    OK("grant with surrounding space", P_DEFAULT, "{\"accessGrant\":\" " GRANT "\\n\"}", NULL),
    BAD("grant damaged", P_DEFAULT, "{\"accessGrant\":\"" GRANT_DAMAGED "\"}", "accessGrant",
        "bad_checksum"),
    BAD("grant not base58", P_DEFAULT, "{\"accessGrant\":\"0OIl\"}", "accessGrant", "not_base58"),
    BAD("grant too short", P_DEFAULT, "{\"accessGrant\":\"abc\"}", "accessGrant", "truncated"),
    BAD("grant with inner space", P_DEFAULT, "{\"accessGrant\":\"12G2 HT4B\"}", "accessGrant",
        "whitespace"),
    BAD("grant only spaces", P_DEFAULT, "{\"accessGrant\":\"   \"}", "accessGrant", "empty"),
    BAD("grant replaced by a bad one", P_STORJ, "{\"accessGrant\":\"notagrant\"}", "accessGrant",
        "bad_checksum"),
    BAD("grant number", P_DEFAULT, "{\"accessGrant\":1}", "accessGrant", "invalid_type"),
    BAD("grant object", P_DEFAULT, "{\"accessGrant\":{\"set\":true}}", "accessGrant",
        "invalid_type"),

    /* unencryptedKeys */
    OK("unencryptedKeys on", P_STORJ, "{\"unencryptedKeys\":true}", "{\"unencryptedKeys\":true}"),
    OK("unencryptedKeys off", P_STORJ, "{\"unencryptedKeys\":false}",
       "{\"unencryptedKeys\":false}"),
    OK("unencryptedKeys kept in another mode", P_DEFAULT, "{\"unencryptedKeys\":true}",
       "{\"unencryptedKeys\":true,\"mode\":\"local\"}"),
    OK("unencryptedKeys makes registered keys stale", P_HOSTED, "{\"unencryptedKeys\":true}",
       "{\"unencryptedKeys\":true,\"s3\":{\"accessKey\":null,\"secretKey\":null},"
       "\"fromGrant\":false}"),
    OK("unencryptedKeys unchanged keeps registered keys", P_HOSTED, "{\"unencryptedKeys\":false}",
       "{\"s3\":{\"accessKey\":\"hostedaccesskey\"},\"fromGrant\":true}"),
    BAD("unencryptedKeys string", P_STORJ, "{\"unencryptedKeys\":\"true\"}", "unencryptedKeys",
        "invalid_type"),
    BAD("unencryptedKeys number", P_STORJ, "{\"unencryptedKeys\":1}", "unencryptedKeys",
        "invalid_type"),
    BAD("unencryptedKeys null", P_STORJ, "{\"unencryptedKeys\":null}", "unencryptedKeys",
        "invalid_type"),

    /* unknown members */
    BAD("unknown top level", P_DEFAULT, "{\"foo\":1}", "foo", "unknown_field"),
    BAD("unknown with good ones", P_DEFAULT, "{\"port\":5000,\"registryImage\":\"x\"}",
        "registryImage", "unknown_field"),
    BAD("wrong case top level", P_DEFAULT, "{\"Mode\":\"local\"}", "Mode", "unknown_field"),
    BAD("grant wrong case", P_DEFAULT, "{\"accessgrant\":\"" GRANT "\"}", "accessgrant",
        "unknown_field"),
    BAD("internal field", P_DEFAULT, "{\"gwSecretKey\":\"x\"}", "gwSecretKey", "unknown_field"),
    BAD("saved is not settable", P_DEFAULT, "{\"saved\":true}", "saved", "unknown_field"),
    BAD("flat s3 field", P_DEFAULT, "{\"s3Endpoint\":\"https://x.com\"}", "s3Endpoint",
        "unknown_field"),

    /* what each mode needs, checked on the merged result */
    OK("local needs nothing", P_DEFAULT, "{\"mode\":\"local\"}", "{\"mode\":\"local\"}"),
    BAD("s3 needs a bucket", P_DEFAULT, "{\"mode\":\"s3\"}", "bucket", "missing_field"),
    BAD("s3 needs an endpoint", P_DEFAULT, "{\"mode\":\"s3\",\"bucket\":\"abc\"}", "s3.endpoint",
        "missing_field"),
    BAD("s3 needs an access key", P_DEFAULT,
        "{\"mode\":\"s3\",\"bucket\":\"abc\",\"s3\":{\"endpoint\":\"https://s3.com\"}}",
        "s3.accessKey", "missing_field"),
    BAD("s3 needs a secret key", P_DEFAULT,
        "{\"mode\":\"s3\",\"bucket\":\"abc\",\"s3\":{\"endpoint\":\"https://s3.com\","
        "\"accessKey\":\"AK\"}}",
        "s3.secretKey", "missing_field"),
    OK("s3 complete", P_DEFAULT,
       "{\"mode\":\"s3\",\"bucket\":\"abc\",\"s3\":{\"endpoint\":\"https://s3.com\","
       "\"accessKey\":\"AK\",\"secretKey\":\"SK12\"}}",
       "{\"mode\":\"s3\",\"bucket\":\"abc\",\"s3\":{\"region\":null}}"),
    OK("s3 bucket change", P_S3, "{\"bucket\":\"other\"}", "{\"bucket\":\"other\"}"),
    BAD("s3 bucket cleared", P_S3, "{\"bucket\":null}", "bucket", "missing_field"),
    BAD("s3 endpoint cleared", P_S3, "{\"s3\":{\"endpoint\":\"\"}}", "s3.endpoint",
        "missing_field"),
    BAD("s3 access key cleared", P_S3, "{\"s3\":{\"accessKey\":null}}", "s3.accessKey",
        "missing_field"),
    BAD("s3 grant is not enough", P_STORJ, "{\"mode\":\"s3\"}", "s3.endpoint", "missing_field"),
    BAD("storj needs a bucket", P_DEFAULT, "{\"mode\":\"storj\"}", "bucket", "missing_field"),
    BAD("storj needs a grant", P_DEFAULT, "{\"mode\":\"storj\",\"bucket\":\"abc\"}", "accessGrant",
        "missing_field"),
    BAD("storj keys are not a grant", P_S3, "{\"mode\":\"storj\"}", "accessGrant", "missing_field"),
    OK("storj complete", P_DEFAULT,
       "{\"mode\":\"storj\",\"bucket\":\"abc\",\"accessGrant\":\"" GRANT "\"}",
       "{\"mode\":\"storj\",\"bucket\":\"abc\"}"),
    BAD("storj grant cleared", P_STORJ, "{\"accessGrant\":null}", "accessGrant", "missing_field"),
    BAD("storj bucket cleared", P_STORJ, "{\"bucket\":\"\"}", "bucket", "missing_field"),
    BAD("storj-native needs a bucket", P_DEFAULT, "{\"mode\":\"storj-native\"}", "bucket",
        "missing_field"),
    BAD("storj-native needs a grant", P_DEFAULT, "{\"mode\":\"storj-native\",\"bucket\":\"abc\"}",
        "accessGrant", "missing_field"),
    OK("storj-native complete", P_STORJ, "{\"mode\":\"storj-native\"}",
       "{\"mode\":\"storj-native\"}"),
    BAD("storj-hosted needs a bucket", P_DEFAULT, "{\"mode\":\"storj-hosted\"}", "bucket",
        "missing_field"),
    BAD("storj-hosted needs a grant or keys", P_DEFAULT,
        "{\"mode\":\"storj-hosted\",\"bucket\":\"abc\"}", "accessGrant", "missing_field"),
    /* an access key without its secret names the secret, not the grant */
    BAD("storj-hosted access key alone", P_DEFAULT,
        "{\"mode\":\"storj-hosted\",\"bucket\":\"abc\",\"s3\":{\"accessKey\":\"AK\"}}",
        "s3.secretKey", "missing_field"),
    BAD("storj-hosted secret key alone", P_DEFAULT,
        "{\"mode\":\"storj-hosted\",\"bucket\":\"abc\",\"s3\":{\"secretKey\":\"SK12\"}}",
        "accessGrant", "missing_field"),
    OK("storj-hosted with a grant", P_DEFAULT,
       "{\"mode\":\"storj-hosted\",\"bucket\":\"abc\",\"accessGrant\":\"" GRANT "\"}",
       "{\"mode\":\"storj-hosted\",\"s3\":{\"accessKey\":null}}"),
    OK("storj-hosted with keys", P_DEFAULT,
       "{\"mode\":\"storj-hosted\",\"bucket\":\"abc\",\"s3\":{\"accessKey\":\"AK\","
       "\"secretKey\":\"SK12\"}}",
       "{\"mode\":\"storj-hosted\",\"accessGrant\":null,\"s3\":{\"endpoint\":null}}"),
    OK("storj-hosted from storj", P_STORJ, "{\"mode\":\"storj-hosted\"}",
       "{\"mode\":\"storj-hosted\"}"),

    /* storj-hosted: keys registered from a grant go stale with a new grant */
    OK("hosted new grant drops registered keys", P_HOSTED, "{\"accessGrant\":\"" GRANT "\"}",
       "{\"s3\":{\"accessKey\":null,\"secretKey\":null},\"fromGrant\":false}"),
    OK("hosted new grant with own keys", P_HOSTED,
       "{\"accessGrant\":\"" GRANT "\",\"s3\":{\"accessKey\":\"MINE\",\"secretKey\":\"MINE1\"}}",
       "{\"s3\":{\"accessKey\":\"MINE\",\"secretKey\":\"MINE1\"},\"fromGrant\":false}"),
    OK("hosted own access key", P_HOSTED, "{\"s3\":{\"accessKey\":\"MINE\"}}",
       "{\"s3\":{\"accessKey\":\"MINE\",\"secretKey\":\"" HOSTED_SECRET "\"},"
       "\"fromGrant\":false}"),
    OK("hosted other change keeps keys", P_HOSTED, "{\"bucket\":\"other\"}",
       "{\"s3\":{\"accessKey\":\"hostedaccesskey\",\"secretKey\":\"" HOSTED_SECRET "\"},"
       "\"fromGrant\":true}"),
    OK("hosted empty grant keeps keys", P_HOSTED, "{\"accessGrant\":\"\"}",
       "{\"accessGrant\":\"" GRANT "\",\"s3\":{\"accessKey\":\"hostedaccesskey\"},"
       "\"fromGrant\":true}"),
    /* clearing the grant also drops the keys that were registered from it */
    BAD("hosted grant cleared", P_HOSTED, "{\"accessGrant\":null}", "accessGrant", "missing_field"),
    OK("hosted grant cleared, own keys", P_HOSTED,
       "{\"accessGrant\":null,\"s3\":{\"accessKey\":\"MINE\",\"secretKey\":\"MINE1\"}}",
       "{\"accessGrant\":null,\"s3\":{\"accessKey\":\"MINE\"},\"fromGrant\":false}"),
    /* the Docker Hub cache */
    OK("cache defaults", P_DEFAULT, "{}",
       "{\"cache\":{\"enabled\":false,\"port\":9998,\"upstream\":null,\"ttl\":\"168h\"}}"),
    OK("cache on", P_DEFAULT, "{\"cache\":{\"enabled\":true}}",
       "{\"cache\":{\"enabled\":true,\"port\":9998}}"),
    OK("cache everything", P_S3,
       "{\"cache\":{\"enabled\":true,\"port\":5998,\"upstream\":\"https://mirror.example.com\","
       "\"username\":\"hubuser\",\"token\":\"dckr_pat_secret\",\"ttl\":\"1h30m\"}}",
       "{\"cache\":{\"enabled\":true,\"port\":5998,\"upstream\":\"https://mirror.example.com\","
       "\"username\":\"hubuser\",\"token\":\"dckr_pat_secret\",\"ttl\":\"1h30m\"}}"),
    OK("cache ttl 0 never expires", P_DEFAULT, "{\"cache\":{\"ttl\":\"0\"}}",
       "{\"cache\":{\"ttl\":\"0\"}}"),
    OK("cache upstream empty is the default", P_DEFAULT, "{\"cache\":{\"upstream\":\"\"}}",
       "{\"cache\":{\"upstream\":null}}"),
    OK("cache null turns off", P_DEFAULT, "{\"cache\":null}", "{\"cache\":{\"enabled\":false}}"),
    BAD("cache port as the registry's", P_DEFAULT, "{\"cache\":{\"enabled\":true,\"port\":9999}}",
        "cache.port", "invalid_value"),
    BAD("registry port moved onto the cache's", P_DEFAULT,
        "{\"port\":9998,\"cache\":{\"enabled\":true}}", "cache.port", "invalid_value"),
    OK("cache off may share the port", P_DEFAULT, "{\"cache\":{\"port\":9999}}",
       "{\"cache\":{\"port\":9999}}"),
    BAD("cache port 0", P_DEFAULT, "{\"cache\":{\"port\":0}}", "cache.port", "out_of_range"),
    BAD("cache port 65536", P_DEFAULT, "{\"cache\":{\"port\":65536}}", "cache.port",
        "out_of_range"),
    BAD("cache port string", P_DEFAULT, "{\"cache\":{\"port\":\"9998\"}}", "cache.port",
        "invalid_type"),
    BAD("cache enabled string", P_DEFAULT, "{\"cache\":{\"enabled\":\"yes\"}}", "cache.enabled",
        "invalid_type"),
    BAD("cache not an object", P_DEFAULT, "{\"cache\":true}", "cache", "invalid_type"),
    BAD("cache unknown field", P_DEFAULT, "{\"cache\":{\"remote\":\"x\"}}", "cache.remote",
        "unknown_field"),
    BAD("cache upstream ftp", P_DEFAULT, "{\"cache\":{\"upstream\":\"ftp://hub.example.com\"}}",
        "cache.upstream", "invalid_value"),
    BAD("cache upstream bare host", P_DEFAULT, "{\"cache\":{\"upstream\":\"docker.io\"}}",
        "cache.upstream", "invalid_value"),
    BAD("cache ttl days", P_DEFAULT, "{\"cache\":{\"ttl\":\"7d\"}}", "cache.ttl", "invalid_value"),
    BAD("cache ttl empty", P_DEFAULT, "{\"cache\":{\"ttl\":\"\"}}", "cache.ttl", "invalid_value"),
    BAD("cache ttl no unit", P_DEFAULT, "{\"cache\":{\"ttl\":\"168\"}}", "cache.ttl",
        "invalid_value"),
    BAD("cache ttl negative", P_DEFAULT, "{\"cache\":{\"ttl\":\"-1h\"}}", "cache.ttl",
        "invalid_value"),
    BAD("cache ttl overflowing", P_DEFAULT, "{\"cache\":{\"ttl\":\"99999999999999999999h\"}}",
        "cache.ttl", "invalid_value"),
    BAD("cache ttl unit twice", P_DEFAULT, "{\"cache\":{\"ttl\":\"999999h999999h999999h\"}}",
        "cache.ttl", "invalid_value"),
    BAD("cache ttl units out of order", P_DEFAULT, "{\"cache\":{\"ttl\":\"30m1h\"}}", "cache.ttl",
        "invalid_value"),
    OK("cache ttl largest", P_DEFAULT, "{\"cache\":{\"ttl\":\"999999h999999m999999s\"}}",
       "{\"cache\":{\"ttl\":\"999999h999999m999999s\"}}"),
    BAD("cache ttl number", P_DEFAULT, "{\"cache\":{\"ttl\":168}}", "cache.ttl", "invalid_type"),
    BAD("cache token without user", P_DEFAULT, "{\"cache\":{\"token\":\"dckr_pat_x\"}}",
        "cache.username", "missing_field"),
    BAD("cache user without token", P_DEFAULT, "{\"cache\":{\"username\":\"hubuser\"}}",
        "cache.token", "missing_field"),
    BAD("cache token with a space", P_DEFAULT, "{\"cache\":{\"username\":\"u\",\"token\":\"a b\"}}",
        "cache.token", "invalid_value"),
    /* a saved token goes only to the upstream it was saved for */
    OK("cache token kept with the upstream", P_CACHE_LOGIN,
       "{\"cache\":{\"enabled\":true,\"token\":\"\",\"ttl\":\"1h\"}}",
       "{\"cache\":{\"token\":\"dckr_pat_saved\",\"username\":\"hubuser\"}}"),
    OK("cache upstream unchanged keeps the token", P_CACHE_LOGIN,
       "{\"cache\":{\"upstream\":\"https://registry-1.docker.io\"}}",
       "{\"cache\":{\"token\":\"dckr_pat_saved\"}}"),
    BAD("cache upstream changed without the token", P_CACHE_LOGIN,
        "{\"cache\":{\"upstream\":\"https://mirror.example.com\",\"token\":\"\"}}", "cache.token",
        "missing_field"),
    OK("cache upstream changed with the token", P_CACHE_LOGIN,
       "{\"cache\":{\"upstream\":\"https://mirror.example.com\",\"token\":\"dckr_pat_new\"}}",
       "{\"cache\":{\"token\":\"dckr_pat_new\"}}"),
    OK("cache upstream changed, login dropped", P_CACHE_LOGIN,
       "{\"cache\":{\"upstream\":\"https://mirror.example.com\",\"username\":null}}",
       "{\"cache\":{\"token\":null,\"username\":null}}"),
    BAD("cache in storj-native", P_STORJ,
        "{\"mode\":\"storj-native\",\"cache\":{\"enabled\":true}}", "cache.enabled",
        "invalid_value"),
};

static void check_merge(const struct merge_case *c)
{
    struct settings cur, out;
    struct err e;
    memset(&e, 0, sizeof e);
    make_preset(c->preset, &cur);
    json_error_t je;
    json_t *body = json_loads(c->body, JSON_DECODE_ANY, &je);
    CHECK(body != NULL, "%s: test body does not parse: %s", c->name, je.text);
    json_t *before = view(&cur);

    int rc = settings_merge(&cur, body, &out, &e);

    if (c->field) {
        CHECK(rc == -1, "%s: merge succeeded", c->name);
        CHECK(e.status == 400, "%s: status %d", c->name, e.status);
        CHECK(ecode_name(e.code) && strcmp(ecode_name(e.code), c->code) == 0, "%s: code %s want %s",
              c->name, ecode_name(e.code) ? ecode_name(e.code) : "(null)", c->code);
        CHECK(strcmp(e.field, c->field) == 0, "%s: field \"%s\" want \"%s\"", c->name, e.field,
              c->field);
        CHECK(e.message[0], "%s: no message", c->name);
        /* no secret in the message */
        CHECK(!strstr(e.message, GRANT) && !strstr(e.message, S3_SECRET) &&
                  !strstr(e.message, HOSTED_SECRET),
              "%s: message holds a secret", c->name);
    } else {
        CHECK(rc == 0, "%s: merge failed: %s (%s)", c->name, e.message, e.field);
        json_t *got = view(&out);
        if (c->expect) {
            json_t *want = json_loads(c->expect, 0, &je);
            CHECK(want != NULL, "%s: test expectation does not parse", c->name);
            char where[64] = "";
            int same = json_subset(want, got, where, sizeof where);
            char *text = json_dumps(got, JSON_COMPACT);
            CHECK(same, "%s: member %s differs in %s", c->name, where, text);
            free(text);
            json_decref(want);
        }
        CHECK(out.saved == 1, "%s: not marked saved", c->name);
        /* the per-install values come along untouched */
        CHECK(strcmp(out.gw_access_key, cur.gw_access_key) == 0 &&
                  strcmp(out.gw_secret_key, cur.gw_secret_key) == 0 &&
                  strcmp(out.salt, cur.salt) == 0,
              "%s: per-install keys changed", c->name);
        json_decref(got);
    }
    /* the current settings are never changed */
    json_t *after = view(&cur);
    CHECK(json_equal(before, after), "%s: merge changed the current settings", c->name);
    json_decref(before);
    json_decref(after);
    json_decref(body);
    settings_free(&out);
    settings_free(&cur);
}

static void test_merge_table(void **state)
{
    for (size_t i = 0; i < sizeof merge_cases / sizeof *merge_cases; i++)
        check_merge(&merge_cases[i]);
}

/* Lengths at and over each limit, built at run time. */
static void test_merge_lengths(void **state)
{
    static const struct {
        const char *name;
        const char *pack; /* json_pack format taking one string */
        const char *prefix;
        size_t len; /* total length of the string */
        const char *field;
    } cases[] = {
        {"endpoint 512", "{s:{s:s}}", "https://", 512, NULL},
        {"endpoint 513", "{s:{s:s}}", "https://", 513, "s3.endpoint"},
        {"access key 256", "{s:{s:s}}", "", 256, NULL},
        {"access key 257", "{s:{s:s}}", "", 257, "s3.accessKey"},
        {"secret key 256", "{s:{s:s}}", "", 256, NULL},
        {"secret key 257", "{s:{s:s}}", "", 257, "s3.secretKey"},
        {"region 64", "{s:{s:s}}", "", 64, NULL},
        {"region 65", "{s:{s:s}}", "", 65, "s3.region"},
        {"auth service 512", "{s:s}", "https://", 512, NULL},
        {"auth service 513", "{s:s}", "https://", 513, "authService"},
    };
    static const char *const keys[][2] = {
        {"s3", "endpoint"},    {"s3", "endpoint"},    {"s3", "accessKey"}, {"s3", "accessKey"},
        {"s3", "secretKey"},   {"s3", "secretKey"},   {"s3", "region"},    {"s3", "region"},
        {"authService", NULL}, {"authService", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *value = malloc(cases[i].len + 1);
        assert_non_null(value);
        size_t pl = strlen(cases[i].prefix);
        memcpy(value, cases[i].prefix, pl);
        memset(value + pl, 'a', cases[i].len - pl);
        value[cases[i].len] = '\0';
        json_t *body = keys[i][1] ? json_pack(cases[i].pack, keys[i][0], keys[i][1], value)
                                  : json_pack(cases[i].pack, keys[i][0], value);
        assert_non_null(body);
        struct settings cur, out;
        struct err e = {0};
        make_preset(P_DEFAULT, &cur);
        int rc = settings_merge(&cur, body, &out, &e);
        if (cases[i].field) {
            CHECK(rc == -1 && strcmp(e.field, cases[i].field) == 0 &&
                      strcmp(ecode_name(e.code), "invalid_value") == 0,
                  "%s: rc %d field %s", cases[i].name, rc, e.field);
        } else {
            CHECK(rc == 0, "%s: %s", cases[i].name, e.message);
        }
        settings_free(&out);
        settings_free(&cur);
        json_decref(body);
        free(value);
    }
}

static void test_merge_long_unknown_field(void **state)
{
    char key[300];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    for (int nested = 0; nested <= 1; nested++) {
        json_t *body = nested ? json_pack("{s:{s:i}}", "s3", key, 1) : json_pack("{s:i}", key, 1);
        struct settings cur, out;
        struct err e = {0};
        make_preset(P_DEFAULT, &cur);
        assert_int_equal(settings_merge(&cur, body, &out, &e), -1);
        assert_string_equal(ecode_name(e.code), "unknown_field");
        assert_true(strlen(e.field) < sizeof e.field);
        assert_true(strncmp(e.field, nested ? "s3.kkk" : "kkkk", nested ? 6 : 4) == 0);
        settings_free(&out);
        settings_free(&cur);
        json_decref(body);
    }
}

/* Merging a merged result again with the same body changes nothing. */
static void test_merge_is_repeatable(void **state)
{
    static const char body_text[] =
        "{\"mode\":\"s3\",\"port\":5001,\"bind\":\"::1\",\"bucket\":\"abc\",\"s3\":{\"endpoint\":"
        "\"https://s3.com\",\"region\":\"r1\",\"accessKey\":\"AK\",\"secretKey\":\"SK12\"}}";
    json_t *body = json_loads(body_text, 0, NULL);
    struct settings cur, once, twice;
    struct err e = {0};
    make_preset(P_DEFAULT, &cur);
    assert_int_equal(settings_merge(&cur, body, &once, &e), 0);
    assert_int_equal(settings_merge(&once, body, &twice, &e), 0);
    json_t *a = view(&once), *b = view(&twice);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    settings_free(&twice);
    settings_free(&once);
    settings_free(&cur);
    json_decref(body);
}

/* ---- the rules on their own ------------------------------------------- */

static void test_bucket_valid(void **state)
{
    static const struct {
        const char *name;
        int ok;
        const char *why; /* a phrase of the reason */
    } cases[] = {
        {"abc", 1, NULL},
        {BUCKET63, 1, NULL},
        {"my-registry", 1, NULL},
        {"my.registry", 1, NULL},
        {"0ab", 1, NULL},
        {"ab0", 1, NULL},
        {"a-b.c-d", 1, NULL},
        {"1.2.3", 1, NULL},
        {"1.2.3.4.5", 1, NULL},
        {"", 0, "3 to 63"},
        {"a", 0, "3 to 63"},
        {"ab", 0, "3 to 63"},
        {BUCKET64, 0, "3 to 63"},
        {"Abc", 0, "lowercase"},
        {"abC", 0, "lowercase"},
        {"a_b", 0, "only lowercase letters"},
        {"a b", 0, "only lowercase letters"},
        {"a+b", 0, "only lowercase letters"},
        {"-ab", 0, "start and end"},
        {"ab-", 0, "start and end"},
        {".ab", 0, "start and end"},
        {"ab.", 0, "start and end"},
        {"a..b", 0, "dot-separated"},
        {"a.-b", 0, "dot-separated"},
        {"a-.b", 0, "dot-separated"},
        {"198.51.100.1", 0, "IP address"},
        {"127.0.0.1", 0, "IP address"},
        {"255.255.255.255", 0, "IP address"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *why = "unset";
        int ok = settings_bucket_valid(cases[i].name, &why);
        CHECK(ok == cases[i].ok, "bucket \"%s\": %d", cases[i].name, ok);
        if (ok)
            CHECK(why == NULL, "bucket \"%s\": reason given", cases[i].name);
        else
            CHECK(why && strstr(why, cases[i].why), "bucket \"%s\": reason \"%s\"", cases[i].name,
                  why ? why : "(null)");
        /* why may be NULL */
        CHECK(settings_bucket_valid(cases[i].name, NULL) == cases[i].ok, "bucket \"%s\"",
              cases[i].name);
    }
}

static void test_url_valid(void **state)
{
    static const struct {
        const char *url;
        int ok;
    } cases[] = {
        {"https://gateway.storjshare.io", 1},
        {"http://127.0.0.1:7777", 1},
        {"http://minio:9000/", 1},
        {"https://s3.example.com/prefix/path", 1},
        {"http://[::1]:9000", 1},
        {"https://x", 1},
        {"", 0},
        {"https://", 0},
        {"http://", 0},
        {"http:/x", 0},
        {"http//x", 0},
        {"https:///x", 0},
        {"https://:443", 0},
        {"ftp://x", 0},
        {"file:///etc/passwd", 0},
        {"Https://x", 0},
        {" https://x", 0},
        {"https://x y", 0},
        {"https://x\"", 0},
        {"https://x\\", 0},
        {"https://u@x", 0},
        {"https://x\r", 0},
        {"https://x\x7f", 0},
        {"https://x\x01", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK(settings_url_valid(cases[i].url) == cases[i].ok, "url \"%s\"", cases[i].url);
}

static void test_mode_names(void **state)
{
    static const struct {
        const char *name;
        enum mode mode;
    } cases[] = {
        {"local", MODE_LOCAL},
        {"s3", MODE_S3},
        {"storj", MODE_STORJ},
        {"storj-hosted", MODE_STORJ_HOSTED},
        {"storj-native", MODE_STORJ_NATIVE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        enum mode m = MODE_LOCAL;
        assert_int_equal(settings_mode_parse(cases[i].name, &m), 0);
        assert_int_equal(m, cases[i].mode);
        assert_string_equal(settings_mode_name(cases[i].mode), cases[i].name);
    }
    static const char *const bad[] = {"", "Local", "storj-", "storjhosted", "s3 ", "native"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        enum mode m = MODE_S3;
        CHECK(settings_mode_parse(bad[i], &m) == -1, "mode \"%s\" parsed", bad[i]);
        CHECK(m == MODE_S3, "mode \"%s\" changed the output", bad[i]);
    }
    assert_string_equal(settings_mode_name((enum mode)42), "local");
}

static void test_init_and_copy(void **state)
{
    struct settings a, b, c;
    assert_int_equal(settings_init(&a), 0);
    assert_int_equal(settings_init(&b), 0);
    assert_int_equal(a.mode, MODE_LOCAL);
    assert_int_equal(a.port, SETTINGS_DEFAULT_PORT);
    assert_string_equal(a.bind, SETTINGS_DEFAULT_BIND);
    assert_int_equal(a.saved, 0);
    assert_null(a.bucket);
    assert_null(a.access_grant);
    assert_int_equal(strlen(a.gw_access_key), 40);
    assert_int_equal(strlen(a.gw_secret_key), 64);
    assert_int_equal(strlen(a.salt), 32);
    /* per installation: two inits differ */
    assert_string_not_equal(a.gw_access_key, b.gw_access_key);
    assert_string_not_equal(a.gw_secret_key, b.gw_secret_key);
    assert_string_not_equal(a.salt, b.salt);
    settings_free(&b);

    make_preset(P_HOSTED, &b);
    assert_int_equal(settings_copy(&c, &b), 0);
    json_t *vb = view(&b), *vc = view(&c);
    assert_true(json_equal(vb, vc));
    /* a deep copy */
    assert_ptr_not_equal(b.access_grant, c.access_grant);
    assert_ptr_not_equal(b.s3_secret_key, c.s3_secret_key);
    json_decref(vb);
    json_decref(vc);
    settings_free(&c);
    settings_free(&b);
    settings_free(&a);
}

/* ---- the public view ---------------------------------------------------- */

static void check_no_secret(const char *name, json_t *j, const struct settings *s)
{
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    const char *secrets[] = {s->access_grant,  s->s3_secret_key, s->gw_access_key,
                             s->gw_secret_key, s->salt,          s->cache_token};
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++)
        if (secrets[i] && *secrets[i])
            CHECK(!strstr(text, secrets[i]), "%s: secret %zu shown in %s", name, i, text);
    /* nor a recognisable piece of the grant */
    if (s->access_grant && strlen(s->access_grant) > 40)
        for (size_t off = 0; off + 16 <= strlen(s->access_grant); off += 8) {
            char piece[17];
            memcpy(piece, s->access_grant + off, 16);
            piece[16] = '\0';
            CHECK(!strstr(text, piece), "%s: part of the grant shown", name);
        }
    free(text);
}

/* no certificate: the registry speaks plain HTTP (tlscert.h) */
#define TLS_OFF                                                                                    \
    "\"tls\":{\"enabled\":false,\"certificate\":{\"set\":false},\"key\":{\"set\":false}},"         \
    "\"cache\":{\"enabled\":false,\"port\":9998,\"upstream\":\"https://registry-1.docker.io\","    \
    "\"username\":null,\"token\":{\"set\":false},\"ttl\":\"168h\"}"

static void test_public_json(void **state)
{
    static const struct {
        const char *name;
        enum preset preset;
        const char *want;
    } cases[] = {
        {"defaults", P_DEFAULT,
         "{\"mode\":\"local\",\"port\":9999,\"bind\":\"127.0.0.1\",\"bucket\":null,"
         "\"accessGrant\":{\"set\":false},\"s3\":{\"endpoint\":null,\"region\":null,"
         "\"accessKey\":null,\"secretKey\":{\"set\":false},\"fromGrant\":false},"
         "\"authService\":null,\"unencryptedKeys\":false,\"saved\":false," TLS_OFF "}"},
        {"s3", P_S3,
         "{\"mode\":\"s3\",\"port\":9999,\"bind\":\"127.0.0.1\",\"bucket\":\"registry\","
         "\"accessGrant\":{\"set\":false},\"s3\":{\"endpoint\":\"https://s3.example.com\","
         "\"region\":\"eu-west-1\",\"accessKey\":\"AKIAEXAMPLE\",\"secretKey\":{\"set\":true},"
         "\"fromGrant\":false},\"authService\":null,\"unencryptedKeys\":false,\"saved\":"
         "true," TLS_OFF "}"},
        {"storj", P_STORJ,
         "{\"mode\":\"storj\",\"port\":9999,\"bind\":\"127.0.0.1\",\"bucket\":\"registry\","
         "\"accessGrant\":{\"set\":true,\"satellite\":\"eu1.storj.io:7777\"},\"s3\":{"
         "\"endpoint\":null,\"region\":null,\"accessKey\":null,\"secretKey\":{\"set\":false},"
         "\"fromGrant\":false},\"authService\":null,\"unencryptedKeys\":false,\"saved\":"
         "true," TLS_OFF "}"},
        {"storj-hosted", P_HOSTED,
         "{\"mode\":\"storj-hosted\",\"port\":9999,\"bind\":\"127.0.0.1\",\"bucket\":"
         "\"registry\",\"accessGrant\":{\"set\":true,\"satellite\":\"eu1.storj.io:7777\"},"
         "\"s3\":{\"endpoint\":null,\"region\":null,\"accessKey\":\"hostedaccesskey\","
         "\"secretKey\":{\"set\":true},\"fromGrant\":true},\"authService\":"
         "\"https://auth.storjshare.io\",\"unencryptedKeys\":false,\"saved\":true," TLS_OFF "}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct settings s;
        make_preset(cases[i].preset, &s);
        json_t *got = settings_public_json(&s);
        json_t *want = json_loads(cases[i].want, 0, NULL);
        assert_non_null(want);
        char *text = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        CHECK(json_equal(got, want), "%s: %s", cases[i].name, text);
        free(text);
        check_no_secret(cases[i].name, got, &s);
        json_decref(got);
        json_decref(want);
        settings_free(&s);
    }

    /* the cache's Docker Hub token is only "set" */
    struct settings s;
    make_preset(P_S3, &s);
    s.cache_enabled = 1;
    s.cache_username = xstrdup("hubuser");
    s.cache_token = xstrdup("dckr_pat_NeverShownAnywhere");
    json_t *all = settings_public_json(&s);
    json_t *cache = json_object_get(all, "cache");
    json_t *cwant = json_loads("{\"enabled\":true,\"port\":9998,\"upstream\":"
                               "\"https://registry-1.docker.io\",\"username\":\"hubuser\","
                               "\"token\":{\"set\":true},\"ttl\":\"168h\"}",
                               0, NULL);
    assert_true(json_equal(cache, cwant));
    check_no_secret("cache token", all, &s);
    json_decref(all);
    json_decref(cwant);
    /* and one of the secrets every log redacts */
    char *secrets[SETTINGS_SECRETS];
    assert_int_equal(settings_secrets(&s, secrets), 0);
    int listed = 0;
    for (int i = 0; i < SETTINGS_SECRETS; i++)
        listed |= secrets[i] && strcmp(secrets[i], s.cache_token) == 0;
    assert_true(listed);
    settings_secrets_free(secrets);
    settings_free(&s);

    /* a stored grant that no longer decodes is still only "set" */
    make_preset(P_STORJ, &s);
    secret_free(&s.access_grant);
    s.access_grant = xstrdup("not-a-grant-but-secret");
    json_t *got = settings_public_json(&s);
    json_t *want = json_loads("{\"set\":true}", 0, NULL);
    assert_true(json_equal(json_object_get(got, "accessGrant"), want));
    check_no_secret("undecodable grant", got, &s);
    json_decref(got);
    json_decref(want);
    settings_free(&s);
}

/* ---- the file ----------------------------------------------------------- */

struct tmpdir {
    char dir[64];
    char path[128];
};

static void tmpdir_make(struct tmpdir *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/sr-settings-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/settings.json", t->dir);
}

/* Number of entries in the folder besides . and .. */
static int tmpdir_entries(const struct tmpdir *t, char *first, size_t len)
{
    DIR *d = opendir(t->dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            if (n == 0 && first)
                snprintf(first, len, "%s", de->d_name);
            n++;
        }
    closedir(d);
    return n;
}

static void tmpdir_remove(struct tmpdir *t)
{
    DIR *d = opendir(t->dir);
    assert_non_null(d);
    struct dirent *de;
    char p[512];
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", t->dir, de->d_name);
            if (unlink(p))
                rmdir(p);
        }
    closedir(d);
    assert_int_equal(rmdir(t->dir), 0);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void assert_same_settings(const struct settings *a, const struct settings *b)
{
    json_t *va = view(a), *vb = view(b);
    char *ta = json_dumps(va, JSON_SORT_KEYS), *tb = json_dumps(vb, JSON_SORT_KEYS);
    CHECK(json_equal(va, vb), "differ:\n%s\n%s", ta, tb);
    free(ta);
    free(tb);
    json_decref(va);
    json_decref(vb);
    assert_string_equal(a->gw_access_key, b->gw_access_key);
    assert_string_equal(a->gw_secret_key, b->gw_secret_key);
    assert_string_equal(a->salt, b->salt);
    assert_int_equal(a->desired_running, b->desired_running);
}

static void test_save_load_round_trip(void **state)
{
    enum preset presets[] = {P_DEFAULT, P_S3, P_STORJ, P_HOSTED};
    struct tmpdir t;
    tmpdir_make(&t);
    mode_t old = umask(0); /* the file is 0600 whatever the umask */
    for (size_t i = 0; i < sizeof presets / sizeof *presets; i++) {
        struct settings s, back;
        struct err e = {0};
        make_preset(presets[i], &s);
        s.port = 5000 + (int)i;
        snprintf(s.bind, sizeof s.bind, "%s", i % 2 ? "::1" : "0.0.0.0");
        s.desired_running = (int)(i % 2);
        s.unencrypted_keys = (int)(i % 2);
        /* the cache's settings too, with and without its login */
        s.cache_enabled = (int)(i % 2);
        s.cache_port = 6000 + (int)i;
        snprintf(s.cache_ttl, sizeof s.cache_ttl, "%s", i % 2 ? "0" : "24h");
        if (i >= 2) {
            s.cache_upstream = xstrdup("http://127.0.0.1:5000");
            s.cache_username = xstrdup("hubuser");
            s.cache_token = xstrdup("dckr_pat_roundtrip");
        }
        assert_int_equal(settings_save(t.path, &s, &e), 0);

        struct stat st;
        assert_int_equal(stat(t.path, &st), 0);
        CHECK((st.st_mode & 07777) == 0600, "preset %zu: mode %o", i,
              (unsigned)(st.st_mode & 07777));
        char name[256];
        CHECK(tmpdir_entries(&t, name, sizeof name) == 1, "preset %zu: files left beside", i);
        assert_string_equal(name, "settings.json");

        assert_int_equal(settings_init(&back), 0);
        assert_int_equal(settings_load(t.path, &back, &e), 0);
        assert_same_settings(&s, &back);
        settings_free(&back);
        settings_free(&s);
    }
    umask(old);
    tmpdir_remove(&t);
}

static void test_save_replaces_loose_file(void **state)
{
    struct tmpdir t;
    tmpdir_make(&t);
    write_file(t.path, "{\"old\":true}", 0644);
    struct settings s;
    struct err e = {0};
    make_preset(P_S3, &s);
    assert_int_equal(settings_save(t.path, &s, &e), 0);
    struct stat st;
    assert_int_equal(stat(t.path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(tmpdir_entries(&t, NULL, 0), 1);
    /* the file is JSON with a format number */
    json_t *root = json_load_file(t.path, 0, NULL);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "format")), 1);
    json_decref(root);
    settings_free(&s);
    tmpdir_remove(&t);
}

static void test_save_errors(void **state)
{
    struct settings s;
    struct err e = {0};
    make_preset(P_DEFAULT, &s);
    /* no such folder */
    assert_int_equal(settings_save("/nonexistent-sr-dir/settings.json", &s, &e), -1);
    assert_string_equal(ecode_name(e.code), "state_unwritable");

    /* the target is a folder: the rename fails and the temp file goes */
    struct tmpdir t;
    tmpdir_make(&t);
    assert_int_equal(mkdir(t.path, 0700), 0);
    char inside[256];
    snprintf(inside, sizeof inside, "%s/x", t.path);
    write_file(inside, "x", 0600);
    memset(&e, 0, sizeof e);
    assert_int_equal(settings_save(t.path, &s, &e), -1);
    assert_string_equal(ecode_name(e.code), "state_unwritable");
    assert_int_equal(tmpdir_entries(&t, NULL, 0), 1);
    assert_int_equal(unlink(inside), 0);
    settings_free(&s);
    tmpdir_remove(&t);
}

static void test_load_missing_file(void **state)
{
    struct settings s;
    struct err e = {0};
    assert_int_equal(settings_init(&s), 0);
    assert_int_equal(settings_load("/nonexistent-sr-dir/settings.json", &s, &e), 0);
    assert_int_equal(s.saved, 0);
    assert_int_equal(s.mode, MODE_LOCAL);
    assert_int_equal(s.port, SETTINGS_DEFAULT_PORT);
    settings_free(&s);
}

#define KEYS_OK "\"gwAccessKey\":\"ak\",\"gwSecretKey\":\"sk\",\"salt\":\"salt\""

static void test_load_files(void **state)
{
    static const struct {
        const char *name;
        const char *text;
        int ok;
    } cases[] = {
        {"minimal", "{\"mode\":\"local\",\"port\":9999,\"bind\":\"127.0.0.1\"," KEYS_OK "}", 1},
        {"nulls",
         "{\"mode\":\"s3\",\"port\":1,\"bind\":\"::1\"," KEYS_OK
         ",\"bucket\":null,\"accessGrant\":null,\"s3Endpoint\":null}",
         1},
        {"extra members",
         "{\"mode\":\"local\",\"port\":9999,\"bind\":\"127.0.0.1\"," KEYS_OK ",\"future\":[1,2]}",
         1},
        {"empty", "", 0},
        {"not JSON", "mode=local", 0},
        {"array", "[]", 0},
        {"string", "\"local\"", 0},
        {"truncated", "{\"mode\":\"local\",\"port\":99", 0},
        {"no mode", "{\"port\":9999,\"bind\":\"127.0.0.1\"," KEYS_OK "}", 0},
        {"unknown mode", "{\"mode\":\"ftp\",\"port\":9999,\"bind\":\"127.0.0.1\"," KEYS_OK "}", 0},
        {"mode number", "{\"mode\":1,\"port\":9999,\"bind\":\"127.0.0.1\"," KEYS_OK "}", 0},
        {"no port", "{\"mode\":\"local\",\"bind\":\"127.0.0.1\"," KEYS_OK "}", 0},
        {"port 0", "{\"mode\":\"local\",\"port\":0,\"bind\":\"127.0.0.1\"," KEYS_OK "}", 0},
        {"port 65536", "{\"mode\":\"local\",\"port\":65536,\"bind\":\"127.0.0.1\"," KEYS_OK "}", 0},
        {"port string", "{\"mode\":\"local\",\"port\":\"9999\",\"bind\":\"127.0.0.1\"," KEYS_OK "}",
         0},
        {"no bind", "{\"mode\":\"local\",\"port\":9999," KEYS_OK "}", 0},
        {"bind too long",
         "{\"mode\":\"local\",\"port\":9999,\"bind\":\"" C10 C10 C10 C10 C10 C10 "abcd\"," KEYS_OK
         "}",
         0},
        {"no salt",
         "{\"mode\":\"local\",\"port\":9999,\"bind\":\"127.0.0.1\",\"gwAccessKey\":\"ak\","
         "\"gwSecretKey\":\"sk\"}",
         0},
        {"access key too long",
         "{\"mode\":\"local\",\"port\":9999,\"bind\":\"127.0.0.1\",\"gwAccessKey\":\"" C10 C10 C10
             C10 "x\",\"gwSecretKey\":\"sk\",\"salt\":\"s\"}",
         0},
        {"bucket number",
         "{\"mode\":\"local\",\"port\":9999,\"bind\":\"127.0.0.1\"," KEYS_OK ",\"bucket\":5}", 0},
        {"grant bool",
         "{\"mode\":\"local\",\"port\":9999,\"bind\":\"127.0.0.1\"," KEYS_OK
         ",\"accessGrant\":true}",
         0},
        {"secret object",
         "{\"mode\":\"local\",\"port\":9999,\"bind\":\"127.0.0.1\"," KEYS_OK ",\"s3SecretKey\":{}}",
         0},
        {"duplicate member",
         "{\"mode\":\"local\",\"mode\":\"s3\",\"port\":9999,\"bind\":\"127.0.0.1\"," KEYS_OK "}",
         0},
    };
    struct tmpdir t;
    tmpdir_make(&t);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_file(t.path, cases[i].text, 0600);
        struct settings s;
        struct err e = {0};
        assert_int_equal(settings_init(&s), 0);
        int rc = settings_load(t.path, &s, &e);
        if (cases[i].ok) {
            CHECK(rc == 0, "%s: %s", cases[i].name, e.message);
            CHECK(strcmp(s.salt, "salt") == 0 && strcmp(s.gw_access_key, "ak") == 0,
                  "%s: keys not loaded", cases[i].name);
        } else {
            CHECK(rc == -1, "%s: loaded", cases[i].name);
            CHECK(ecode_name(e.code) && strcmp(ecode_name(e.code), "state_corrupt") == 0,
                  "%s: code %s", cases[i].name, ecode_name(e.code) ? ecode_name(e.code) : "(null)");
            CHECK(e.status == 500, "%s: status %d", cases[i].name, e.status);
        }
        settings_free(&s);
    }

    /* a saved file cut in half is refused */
    struct settings s;
    struct err e = {0};
    make_preset(P_HOSTED, &s);
    assert_int_equal(settings_save(t.path, &s, &e), 0);
    struct stat st;
    assert_int_equal(stat(t.path, &st), 0);
    assert_int_equal(truncate(t.path, st.st_size / 2), 0);
    settings_free(&s);
    assert_int_equal(settings_init(&s), 0);
    assert_int_equal(settings_load(t.path, &s, &e), -1);
    assert_string_equal(ecode_name(e.code), "state_corrupt");
    settings_free(&s);
    tmpdir_remove(&t);
}

/* The one list of secrets: every secret field, and the grant's outgoing
 * copy when unencryptedKeys applies. */
static void test_secrets_list(void **state)
{
    char *out[SETTINGS_SECRETS];
    struct settings s;

    make_preset(P_STORJ, &s);
    assert_int_equal(settings_secrets(&s, out), 0);
    assert_string_equal(out[0], GRANT);
    assert_null(out[1]); /* the grant goes out as it is */
    assert_null(out[2]);
    assert_string_equal(out[3], s.gw_access_key);
    assert_string_equal(out[4], s.gw_secret_key);
    settings_secrets_free(out);
    for (int i = 0; i < SETTINGS_SECRETS; i++)
        assert_null(out[i]);

    s.unencrypted_keys = 1;
    char *outgoing = NULL;
    struct err e = {0};
    assert_int_equal(settings_outgoing_grant(&s, &outgoing, &e), 0);
    assert_int_equal(settings_secrets(&s, out), 0);
    assert_string_equal(out[0], GRANT);
    assert_non_null(out[1]);
    assert_string_equal(out[1], outgoing);
    assert_string_not_equal(out[1], GRANT);
    settings_secrets_free(out);
    secret_free(&outgoing);
    settings_free(&s);

    make_preset(P_S3, &s);
    assert_int_equal(settings_secrets(&s, out), 0);
    assert_null(out[0]);
    assert_string_equal(out[2], S3_SECRET);
    settings_secrets_free(out);
    settings_free(&s);

    make_preset(P_HOSTED, &s);
    assert_int_equal(settings_secrets(&s, out), 0);
    assert_string_equal(out[0], GRANT);
    assert_string_equal(out[2], HOSTED_SECRET);
    settings_secrets_free(out);
    settings_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_table),
        cmocka_unit_test(test_merge_lengths),
        cmocka_unit_test(test_merge_long_unknown_field),
        cmocka_unit_test(test_merge_is_repeatable),
        cmocka_unit_test(test_bucket_valid),
        cmocka_unit_test(test_url_valid),
        cmocka_unit_test(test_mode_names),
        cmocka_unit_test(test_init_and_copy),
        cmocka_unit_test(test_secrets_list),
        cmocka_unit_test(test_public_json),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_save_replaces_loose_file),
        cmocka_unit_test(test_save_errors),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_load_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
