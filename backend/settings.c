#include "settings.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grant.h"
#include "indexer.h"
#include "tlscert.h"

#define MAX_URL 512
#define MAX_KEY 256

static const char *const mode_names[] = {"local", "s3", "storj", "storj-hosted", "storj-native"};

const char *settings_mode_name(enum mode m)
{
    return (unsigned)m < sizeof mode_names / sizeof *mode_names ? mode_names[m] : "local";
}

int settings_mode_parse(const char *name, enum mode *out)
{
    for (unsigned i = 0; i < sizeof mode_names / sizeof *mode_names; i++)
        if (strcmp(name, mode_names[i]) == 0) {
            *out = (enum mode)i;
            return 0;
        }
    return -1;
}

int settings_init(struct settings *s)
{
    memset(s, 0, sizeof *s);
    s->mode = MODE_LOCAL;
    s->port = SETTINGS_DEFAULT_PORT;
    snprintf(s->bind, sizeof s->bind, "%s", SETTINGS_DEFAULT_BIND);
    s->cache_port = SETTINGS_CACHE_PORT;
    snprintf(s->cache_ttl, sizeof s->cache_ttl, "%s", SETTINGS_CACHE_TTL);
    if (random_hex(s->gw_access_key, 20) || random_hex(s->gw_secret_key, 32) ||
        random_hex(s->salt, 16))
        return -1;
    return 0;
}

void settings_free(struct settings *s)
{
    free(s->bucket);
    secret_free(&s->access_grant);
    free(s->s3_endpoint);
    free(s->s3_region);
    free(s->s3_access_key);
    secret_free(&s->s3_secret_key);
    free(s->auth_service);
    secret_free(&s->htpasswd);
    secret_free(&s->registry_password);
    free(s->tls_cert);
    secret_free(&s->tls_key);
    free(s->cache_upstream);
    free(s->cache_username);
    secret_free(&s->cache_token);
    memset(s, 0, sizeof *s);
}

int settings_copy(struct settings *dst, const struct settings *src)
{
    *dst = *src;
    dst->bucket = xstrdup(src->bucket);
    dst->access_grant = xstrdup(src->access_grant);
    dst->s3_endpoint = xstrdup(src->s3_endpoint);
    dst->s3_region = xstrdup(src->s3_region);
    dst->s3_access_key = xstrdup(src->s3_access_key);
    dst->s3_secret_key = xstrdup(src->s3_secret_key);
    dst->auth_service = xstrdup(src->auth_service);
    dst->htpasswd = xstrdup(src->htpasswd);
    dst->registry_password = xstrdup(src->registry_password);
    dst->tls_cert = xstrdup(src->tls_cert);
    dst->tls_key = xstrdup(src->tls_key);
    dst->cache_upstream = xstrdup(src->cache_upstream);
    dst->cache_username = xstrdup(src->cache_username);
    dst->cache_token = xstrdup(src->cache_token);
    if ((src->cache_upstream && !dst->cache_upstream) ||
        (src->cache_username && !dst->cache_username) || (src->cache_token && !dst->cache_token) ||
        (src->htpasswd && !dst->htpasswd) || (src->registry_password && !dst->registry_password) ||
        (src->tls_cert && !dst->tls_cert) || (src->tls_key && !dst->tls_key) ||
        (src->bucket && !dst->bucket) || (src->access_grant && !dst->access_grant) ||
        (src->s3_endpoint && !dst->s3_endpoint) || (src->s3_region && !dst->s3_region) ||
        (src->s3_access_key && !dst->s3_access_key) ||
        (src->s3_secret_key && !dst->s3_secret_key) || (src->auth_service && !dst->auth_service)) {
        settings_free(dst);
        return -1;
    }
    return 0;
}

int settings_bind_loopback(const char *bind)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, bind, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, bind, &a6) != 1)
        return 0;
    if (IN6_IS_ADDR_LOOPBACK(&a6))
        return 1;
    return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

int settings_bucket_valid(const char *name, const char **why)
{
    size_t n = strlen(name);
    const char *w = NULL;
    if (n < 3 || n > 63)
        w = "must be 3 to 63 characters long";
    for (size_t i = 0; !w && i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '.')
            w = (c >= 'A' && c <= 'Z')
                    ? "must be lowercase"
                    : "may hold only lowercase letters, digits, dots and hyphens";
        else if ((i == 0 || i == n - 1) && !alnum)
            w = "must start and end with a letter or a digit";
        else if (c == '.' && (name[i + 1] == '.' || name[i + 1] == '-' || name[i - 1] == '-'))
            w = "each dot-separated part must start and end with a letter or a digit";
    }
    struct in_addr a;
    if (!w && inet_pton(AF_INET, name, &a) == 1)
        w = "must not look like an IP address";
    if (why)
        *why = w;
    return w == NULL;
}

/* A URL the registry can use as an S3 endpoint: http(s)://host[:port][/path] */
int settings_url_valid(const char *u)
{
    size_t n = strlen(u);
    if (n > MAX_URL)
        return 0;
    const char *rest;
    if (strncmp(u, "https://", 8) == 0)
        rest = u + 8;
    else if (strncmp(u, "http://", 7) == 0)
        rest = u + 7;
    else
        return 0;
    if (!*rest || *rest == '/' || *rest == ':')
        return 0;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || *p == '@' || *p == 0x7f)
            return 0;
    return 1;
}

/* 1 when an http(s) URL names 127.0.0.0/8, localhost or [::1]. */
static int url_is_loopback(const char *u)
{
    const char *h = strstr(u, "://");
    if (!h)
        return 0;
    h += 3;
    if (strncmp(h, "localhost", 9) == 0 && (h[9] == ':' || h[9] == '/' || !h[9]))
        return 1;
    if (strncmp(h, "[::1]", 5) == 0 && (h[5] == ':' || h[5] == '/' || !h[5]))
        return 1;
    if (strncmp(h, "127.", 4) != 0)
        return 0;
    char host[64];
    size_t n = strcspn(h, ":/");
    if (n >= sizeof host)
        return 0;
    memcpy(host, h, n);
    host[n] = '\0';
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1;
}

static int token_valid(const char *k, size_t max)
{
    size_t n = strlen(k);
    if (n == 0 || n > max)
        return 0;
    for (const char *p = k; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

static int region_valid(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > 64)
        return 0;
    for (const char *p = r; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return 0;
    return 1;
}

/* Replaces *slot with a copy of the string value of v; JSON null clears. */
static int take_string(json_t *v, char **slot, int secret, const char *field, struct err *e)
{
    if (json_is_null(v)) {
        if (secret)
            secret_free(slot);
        else {
            free(*slot);
            *slot = NULL;
        }
        return 0;
    }
    if (!json_is_string(v))
        return err_set(e, 400, E_INVALID_TYPE, field, "%s must be a string", field);
    char *copy = strdup(json_string_value(v));
    if (!copy)
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    if (secret)
        secret_free(slot);
    else
        free(*slot);
    *slot = copy;
    return 0;
}

/* An empty string means "not set" for optional text fields. */
static void empty_to_null(char **slot)
{
    if (*slot && !**slot) {
        free(*slot);
        *slot = NULL;
    }
}

static int merge_s3(json_t *s3, struct settings *out, int *s3_keys_given, struct err *e)
{
    if (json_is_null(s3)) {
        free(out->s3_endpoint);
        free(out->s3_region);
        free(out->s3_access_key);
        out->s3_endpoint = out->s3_region = out->s3_access_key = NULL;
        secret_free(&out->s3_secret_key);
        return 0;
    }
    if (!json_is_object(s3))
        return err_set(e, 400, E_INVALID_TYPE, "s3", "s3 must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(s3, key, v)
    {
        char field[64];
        snprintf(field, sizeof field, "s3.%.40s", key);
        if (strcmp(key, "endpoint") == 0) {
            if (take_string(v, &out->s3_endpoint, 0, field, e))
                return -1;
            empty_to_null(&out->s3_endpoint);
            if (out->s3_endpoint && !settings_url_valid(out->s3_endpoint))
                return err_set(e, 400, E_INVALID_VALUE, field,
                               "s3.endpoint must be an http:// or https:// URL such as "
                               "https://gateway.storjshare.io");
        } else if (strcmp(key, "region") == 0) {
            if (take_string(v, &out->s3_region, 0, field, e))
                return -1;
            empty_to_null(&out->s3_region);
            if (out->s3_region && !region_valid(out->s3_region))
                return err_set(e, 400, E_INVALID_VALUE, field,
                               "s3.region may hold only lowercase letters, digits, '-' and '_' "
                               "(for example us-east-1)");
        } else if (strcmp(key, "accessKey") == 0) {
            if (take_string(v, &out->s3_access_key, 0, field, e))
                return -1;
            empty_to_null(&out->s3_access_key);
            if (out->s3_access_key && !token_valid(out->s3_access_key, MAX_KEY))
                return err_set(e, 400, E_INVALID_VALUE, field,
                               "s3.accessKey must be 1 to %d characters without spaces", MAX_KEY);
            *s3_keys_given = 1;
        } else if (strcmp(key, "secretKey") == 0) {
            /* an empty secret means "keep the saved one", like leaving it out */
            if (json_is_string(v) && !*json_string_value(v))
                continue;
            if (take_string(v, &out->s3_secret_key, 1, field, e))
                return -1;
            if (out->s3_secret_key && !token_valid(out->s3_secret_key, MAX_KEY))
                return err_set(e, 400, E_INVALID_VALUE, field,
                               "s3.secretKey must be 1 to %d characters without spaces", MAX_KEY);
            *s3_keys_given = 1;
        } else {
            return err_set(e, 400, E_UNKNOWN_FIELD, field, "unknown field %s", field);
        }
    }
    return 0;
}

/* tls: {"certificate", "key"} (PEM; a key left out or empty keeps the
 * saved one), null clears both. */
static int merge_tls(json_t *tls, struct settings *out, struct err *e)
{
    if (json_is_null(tls)) {
        free(out->tls_cert);
        out->tls_cert = NULL;
        secret_free(&out->tls_key);
        return 0;
    }
    if (!json_is_object(tls))
        return err_set(e, 400, E_INVALID_TYPE, "tls", "tls must be an object or null");
    const char *key;
    json_t *v;
    json_object_foreach(tls, key, v)
    {
        if (strcmp(key, "certificate") == 0) {
            if (take_string(v, &out->tls_cert, 0, "tls.certificate", e))
                return -1;
            empty_to_null(&out->tls_cert);
        } else if (strcmp(key, "key") == 0) {
            if (json_is_string(v) && !*json_string_value(v))
                continue;
            if (take_string(v, &out->tls_key, 1, "tls.key", e))
                return -1;
        } else {
            char field[64];
            snprintf(field, sizeof field, "tls.%.40s", key);
            return err_set(e, 400, E_UNKNOWN_FIELD, field, "unknown field %s", field);
        }
    }
    if (!out->tls_cert && !out->tls_key)
        return 0;
    if (!out->tls_cert)
        return err_set(e, 400, E_MISSING_FIELD, "tls.certificate",
                       "tls.key needs its certificate, tls.certificate");
    if (!out->tls_key)
        return err_set(e, 400, E_MISSING_FIELD, "tls.key",
                       "tls.certificate needs its private key, tls.key");
    return tlscert_check(out->tls_cert, out->tls_key, e);
}

int settings_ttl_valid(const char *ttl)
{
    size_t n = strlen(ttl);
    if (n == 0 || n >= sizeof((struct settings *)0)->cache_ttl)
        return 0;
    if (strcmp(ttl, "0") == 0)
        return 1;
    /* h, m, s at most once each, in that order, up to 6 digits each: what
     * Go's time.ParseDuration takes without overflow (< 292 years) */
    const char *units = "hms";
    for (const char *p = ttl; *p;) {
        const char *digits = p;
        while (*p >= '0' && *p <= '9')
            p++;
        const char *u = *p ? strchr(units, *p) : NULL;
        if (p == digits || p - digits > 6 || !u)
            return 0;
        units = u + 1;
        p++;
    }
    return 1;
}

/* cache: {"enabled", "port", "upstream", "username", "token", "ttl"}
 * (a token left out or empty keeps the saved one); null turns the cache
 * off and forgets its Docker Hub login. */
static int merge_cache(json_t *c, struct settings *out, int *token_given, struct err *e)
{
    if (json_is_null(c)) {
        out->cache_enabled = 0;
        free(out->cache_username);
        out->cache_username = NULL;
        secret_free(&out->cache_token);
        return 0;
    }
    if (!json_is_object(c))
        return err_set(e, 400, E_INVALID_TYPE, "cache", "cache must be an object or null");
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v)
    {
        char field[64];
        snprintf(field, sizeof field, "cache.%.40s", key);
        if (strcmp(key, "enabled") == 0) {
            if (!json_is_boolean(v))
                return err_set(e, 400, E_INVALID_TYPE, field,
                               "cache.enabled must be true or false");
            out->cache_enabled = json_is_true(v);
        } else if (strcmp(key, "port") == 0) {
            if (!json_is_integer(v))
                return err_set(e, 400, E_INVALID_TYPE, field, "cache.port must be an integer");
            if (json_integer_value(v) < 1 || json_integer_value(v) > 65535)
                return err_set(e, 400, E_OUT_OF_RANGE, field,
                               "cache.port must be between 1 and 65535");
            out->cache_port = (int)json_integer_value(v);
        } else if (strcmp(key, "upstream") == 0) {
            if (take_string(v, &out->cache_upstream, 0, field, e))
                return -1;
            empty_to_null(&out->cache_upstream);
            if (out->cache_upstream && !settings_url_valid(out->cache_upstream))
                return err_set(e, 400, E_INVALID_VALUE, field,
                               "cache.upstream must be an http:// or https:// URL such as "
                               "%s",
                               SETTINGS_CACHE_UPSTREAM);
        } else if (strcmp(key, "username") == 0) {
            if (take_string(v, &out->cache_username, 0, field, e))
                return -1;
            empty_to_null(&out->cache_username);
            if (out->cache_username && !token_valid(out->cache_username, MAX_KEY))
                return err_set(e, 400, E_INVALID_VALUE, field,
                               "cache.username must be 1 to %d characters without spaces", MAX_KEY);
        } else if (strcmp(key, "token") == 0) {
            if (json_is_string(v) && !*json_string_value(v))
                continue; /* keep the saved token */
            if (take_string(v, &out->cache_token, 1, field, e))
                return -1;
            *token_given = 1;
            if (out->cache_token && !token_valid(out->cache_token, MAX_KEY))
                return err_set(e, 400, E_INVALID_VALUE, field,
                               "cache.token must be 1 to %d characters without spaces", MAX_KEY);
        } else if (strcmp(key, "ttl") == 0) {
            if (!json_is_string(v))
                return err_set(e, 400, E_INVALID_TYPE, field, "cache.ttl must be a string");
            if (!settings_ttl_valid(json_string_value(v)))
                return err_set(e, 400, E_INVALID_VALUE, field,
                               "cache.ttl must be a duration such as 168h (7 days), 24h or 30m, "
                               "or 0 to keep cached images until removed");
            snprintf(out->cache_ttl, sizeof out->cache_ttl, "%s", json_string_value(v));
        } else {
            return err_set(e, 400, E_UNKNOWN_FIELD, field, "unknown field %s", field);
        }
    }
    return 0;
}

/* The cache's settings that only make sense together, on the merged result. */
static int check_cache(const struct settings *s, struct err *e)
{
    if (s->cache_username && !s->cache_token)
        return err_set(e, 400, E_MISSING_FIELD, "cache.token",
                       "the Docker Hub user name needs its access token, cache.token");
    if (s->cache_token && !s->cache_username)
        return err_set(e, 400, E_MISSING_FIELD, "cache.username",
                       "the Docker Hub access token needs its user name, cache.username");
    if (!s->cache_enabled)
        return 0;
    if (s->cache_port == s->port)
        return err_set(e, 400, E_INVALID_VALUE, "cache.port",
                       "cache.port must differ from the registry's port (%d)", s->port);
    if (s->mode == MODE_STORJ_NATIVE)
        return err_set(e, 400, E_INVALID_VALUE, "cache.enabled",
                       "the Docker Hub cache cannot run in mode storj-native: the 2022 driver "
                       "has no storage root of its own for it. Turn the cache off, or choose "
                       "another mode");
    return 0;
}

static int check_required(const struct settings *s, struct err *e)
{
    if (s->mode == MODE_LOCAL)
        return 0;
    const char *mode = settings_mode_name(s->mode);
    if (!s->bucket)
        return err_set(e, 400, E_MISSING_FIELD, "bucket", "mode %s needs a bucket", mode);
    switch (s->mode) {
    case MODE_S3:
        if (!s->s3_endpoint)
            return err_set(e, 400, E_MISSING_FIELD, "s3.endpoint",
                           "mode s3 needs the S3 endpoint URL");
        if (!s->s3_access_key)
            return err_set(e, 400, E_MISSING_FIELD, "s3.accessKey", "mode s3 needs an access key");
        if (!s->s3_secret_key)
            return err_set(e, 400, E_MISSING_FIELD, "s3.secretKey", "mode s3 needs a secret key");
        break;
    case MODE_STORJ:
    case MODE_STORJ_NATIVE:
        if (!s->access_grant)
            return err_set(e, 400, E_MISSING_FIELD, "accessGrant", "mode %s needs an access grant",
                           mode);
        break;
    case MODE_STORJ_HOSTED:
        if (!s->access_grant && !s->s3_access_key)
            return err_set(e, 400, E_MISSING_FIELD, "accessGrant",
                           "mode storj-hosted needs an access grant (to register with Storj's "
                           "Auth Service) or S3 credentials from Storj");
        if (s->s3_access_key && !s->s3_secret_key && !s->access_grant)
            return err_set(e, 400, E_MISSING_FIELD, "s3.secretKey",
                           "the S3 access key needs its secret key");
        break;
    default:
        break;
    }
    return 0;
}

int settings_merge(const struct settings *cur, json_t *body, struct settings *out, struct err *e)
{
    if (settings_copy(out, cur))
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    if (!json_is_object(body))
        return err_set(e, 400, E_INVALID_BODY, NULL, "the body must be a JSON object");

    int s3_keys_given = 0, grant_given = 0, keys_changed = 0, cache_token_given = 0;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "mode") == 0) {
            if (!json_is_string(v))
                return err_set(e, 400, E_INVALID_TYPE, "mode", "mode must be a string");
            if (settings_mode_parse(json_string_value(v), &out->mode))
                return err_set(e, 400, E_INVALID_VALUE, "mode",
                               "mode must be one of local, s3, storj, storj-hosted, storj-native");
        } else if (strcmp(key, "port") == 0) {
            if (!json_is_integer(v))
                return err_set(e, 400, E_INVALID_TYPE, "port", "port must be an integer");
            json_int_t p = json_integer_value(v);
            if (p < 1 || p > 65535)
                return err_set(e, 400, E_OUT_OF_RANGE, "port", "port must be between 1 and 65535");
            out->port = (int)p;
        } else if (strcmp(key, "bind") == 0) {
            if (!json_is_string(v))
                return err_set(e, 400, E_INVALID_TYPE, "bind", "bind must be a string");
            const char *b = json_string_value(v);
            unsigned char a[16];
            if (strlen(b) >= sizeof out->bind ||
                (inet_pton(AF_INET, b, a) != 1 && inet_pton(AF_INET6, b, a) != 1))
                return err_set(e, 400, E_INVALID_VALUE, "bind",
                               "bind must be an IP address such as 127.0.0.1 (or 0.0.0.0 for "
                               "every interface)");
            snprintf(out->bind, sizeof out->bind, "%s", b);
        } else if (strcmp(key, "bucket") == 0) {
            if (take_string(v, &out->bucket, 0, "bucket", e))
                return -1;
            empty_to_null(&out->bucket);
            const char *why;
            if (out->bucket && !settings_bucket_valid(out->bucket, &why))
                return err_set(e, 400, E_INVALID_VALUE, "bucket", "the bucket name %s", why);
        } else if (strcmp(key, "accessGrant") == 0) {
            if (json_is_string(v) && !*json_string_value(v))
                continue; /* keep the saved grant */
            if (take_string(v, &out->access_grant, 1, "accessGrant", e))
                return -1;
            if (out->access_grant) {
                struct grant_error ge = {0};
                struct grant_info *gi = grant_decode(out->access_grant, &ge);
                if (!gi)
                    return err_set(e, 400, ge.code ? ge.code : E_INVALID_GRANT, "accessGrant", "%s",
                                   ge.message);
                grant_info_free(gi);
            }
            grant_given = 1;
        } else if (strcmp(key, "unencryptedKeys") == 0) {
            if (!json_is_boolean(v))
                return err_set(e, 400, E_INVALID_TYPE, "unencryptedKeys",
                               "unencryptedKeys must be true or false");
            if (out->unencrypted_keys != json_is_true(v))
                keys_changed = 1;
            out->unencrypted_keys = json_is_true(v);
        } else if (strcmp(key, "s3") == 0) {
            if (merge_s3(v, out, &s3_keys_given, e))
                return -1;
        } else if (strcmp(key, "tls") == 0) {
            if (merge_tls(v, out, e))
                return -1;
        } else if (strcmp(key, "cache") == 0) {
            if (merge_cache(v, out, &cache_token_given, e))
                return -1;
        } else if (strcmp(key, "authService") == 0) {
            if (take_string(v, &out->auth_service, 0, "authService", e))
                return -1;
            empty_to_null(&out->auth_service);
            if (out->auth_service && !settings_url_valid(out->auth_service))
                return err_set(e, 400, E_INVALID_VALUE, "authService",
                               "authService must be an http:// or https:// URL such as "
                               "https://auth.storjshare.io");
            /* the grant travels there: in clear text only to this machine */
            if (out->auth_service && strncmp(out->auth_service, "http://", 7) == 0 &&
                !url_is_loopback(out->auth_service))
                return err_set(e, 400, E_INVALID_VALUE, "authService",
                               "authService must use https:// (http:// only for a service on "
                               "127.0.0.1 or localhost): the access grant is sent to it");
        } else {
            char field[64];
            snprintf(field, sizeof field, "%.60s", key);
            return err_set(e, 400, E_UNKNOWN_FIELD, field, "unknown field %s", field);
        }
    }

    /* a saved Docker Hub token goes only to the upstream it was saved
     * for: another upstream needs it typed again */
    const char *up_was = cur->cache_upstream ? cur->cache_upstream : SETTINGS_CACHE_UPSTREAM;
    const char *up_now = out->cache_upstream ? out->cache_upstream : SETTINGS_CACHE_UPSTREAM;
    if (!cache_token_given && out->cache_token && strcmp(up_was, up_now) != 0) {
        secret_free(&out->cache_token);
        if (out->cache_username)
            return err_set(e, 400, E_MISSING_FIELD, "cache.token",
                           "the saved token goes only to the upstream it was saved for: type the "
                           "token again for %s, or clear the user name",
                           up_now);
    }
    if (s3_keys_given)
        out->s3_keys_from_grant = 0;
    /* a new grant in storj-hosted mode makes registered keys stale, and so
     * does registering the other copy of it (unencrypted keys or not) */
    if ((grant_given || keys_changed) && out->mode == MODE_STORJ_HOSTED &&
        out->s3_keys_from_grant) {
        free(out->s3_access_key);
        out->s3_access_key = NULL;
        secret_free(&out->s3_secret_key);
        out->s3_keys_from_grant = 0;
    }
    if (check_required(out, e) || check_cache(out, e))
        return -1;
    /* other machines reach a registry on another address: it must ask
     * them to log in */
    if (!settings_bind_loopback(out->bind) && out->users == 0)
        return err_set(e, 400, E_USERS_REQUIRED, "bind",
                       "listening on %s lets other machines reach the registry: add a registry "
                       "user first (Users), so that they must log in",
                       out->bind);
    out->saved = 1;
    return 0;
}

static json_t *secret_fact(const char *value)
{
    return json_pack("{s:b}", "set", value != NULL);
}

json_t *settings_public_json(const struct settings *s)
{
    json_t *grant = secret_fact(s->access_grant);
    if (s->access_grant) {
        struct grant_error ge = {0};
        struct grant_info *gi = grant_decode(s->access_grant, &ge);
        if (gi) {
            json_object_set_new(grant, "satellite", json_string(grant_satellite_host(gi)));
            grant_info_free(gi);
        }
    }
    json_t *s3 = json_pack("{s:s?, s:s?, s:s?, s:o, s:b}", "endpoint", s->s3_endpoint, "region",
                           s->s3_region, "accessKey", s->s3_access_key, "secretKey",
                           secret_fact(s->s3_secret_key), "fromGrant", s->s3_keys_from_grant);
    json_t *cert = s->tls_cert ? tlscert_facts(s->tls_cert) : NULL;
    if (cert)
        json_object_set_new(cert, "set", json_true());
    json_t *tls =
        json_pack("{s:b, s:o, s:o}", "enabled", s->tls_cert && s->tls_key, "certificate",
                  cert ? cert : json_pack("{s:b}", "set", 0), "key", secret_fact(s->tls_key));
    json_t *cache = json_pack(
        "{s:b, s:i, s:s, s:s?, s:o, s:s}", "enabled", s->cache_enabled, "port", s->cache_port,
        "upstream", s->cache_upstream ? s->cache_upstream : SETTINGS_CACHE_UPSTREAM, "username",
        s->cache_username, "token", secret_fact(s->cache_token), "ttl", s->cache_ttl);
    return json_pack("{s:s, s:i, s:s, s:s?, s:o, s:o, s:s?, s:b, s:b, s:o, s:o}", "mode",
                     settings_mode_name(s->mode), "port", s->port, "bind", s->bind, "bucket",
                     s->bucket, "accessGrant", grant, "s3", s3, "authService", s->auth_service,
                     "unencryptedKeys", s->unencrypted_keys, "saved", s->saved, "tls", tls, "cache",
                     cache);
}

int settings_unencrypted_applies(const struct settings *s)
{
    return s->unencrypted_keys && (s->mode == MODE_STORJ || s->mode == MODE_STORJ_HOSTED);
}

int settings_outgoing_grant(const struct settings *s, char **out, struct err *e)
{
    *out = NULL;
    if (!s->access_grant)
        return 0;
    if (!settings_unencrypted_applies(s)) {
        *out = strdup(s->access_grant);
        return *out ? 0 : err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    }
    struct grant_error ge = {0};
    *out = grant_derive_unencrypted(s->access_grant, &ge);
    if (!*out)
        return err_set(e, ge.code == E_NO_MEMORY ? 500 : 400, ge.code ? ge.code : E_INVALID_GRANT,
                       "accessGrant", "%s", ge.message);
    return 0;
}

int settings_secrets(const struct settings *s, char *out[SETTINGS_SECRETS])
{
    const char *src[SETTINGS_SECRETS] = {s->access_grant,
                                         NULL,
                                         s->s3_secret_key,
                                         s->gw_access_key[0] ? s->gw_access_key : NULL,
                                         s->gw_secret_key[0] ? s->gw_secret_key : NULL,
                                         s->tls_key,
                                         s->registry_password,
                                         s->cache_token,
                                         NULL};
    memset(out, 0, SETTINGS_SECRETS * sizeof *out);
    /* a grant that cannot be derived goes nowhere, so it has no copy to hide */
    struct err e;
    if (settings_unencrypted_applies(s) && settings_outgoing_grant(s, &out[1], &e) &&
        e.code == E_NO_MEMORY)
        return -1;
    /* the token the registry's notifications carry: the registry logs its
     * endpoints' headers at start */
    char url[160], token[80];
    indexer_events(url, sizeof url, token, sizeof token);
    if (token[0] && !(out[8] = strdup(token))) {
        settings_secrets_free(out);
        return -1;
    }
    secret_wipe(token, sizeof token);
    for (int i = 0; i < SETTINGS_SECRETS; i++) {
        if (i == 1 || i == 8 || !src[i])
            continue;
        out[i] = strdup(src[i]);
        if (!out[i]) {
            settings_secrets_free(out);
            return -1;
        }
    }
    return 0;
}

void settings_secrets_free(char *out[SETTINGS_SECRETS])
{
    for (int i = 0; i < SETTINGS_SECRETS; i++)
        secret_free(&out[i]);
}

/* ---- the file ---------------------------------------------------------- */

static int file_string(json_t *root, const char *key, char **slot)
{
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    free(*slot);
    *slot = strdup(json_string_value(v));
    return *slot ? 0 : -1;
}

static int file_fixed(json_t *root, const char *key, char *dst, size_t len)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) >= len)
        return -1;
    snprintf(dst, len, "%s", json_string_value(v));
    return 0;
}

int settings_load(const char *path, struct settings *s, struct err *e)
{
    json_error_t je;
    json_t *root = NULL;
    int rc = -1;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return err_set(e, 500, E_STATE_UNREADABLE, NULL, "cannot read %s: %s", path,
                       strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && st.st_size > SETTINGS_MAX_FILE) {
        fclose(f);
        return err_set(e, 500, E_STATE_CORRUPT, NULL, "%s is larger than %d bytes", path,
                       SETTINGS_MAX_FILE);
    }
    root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!json_is_object(root)) {
        err_set(e, 500, E_STATE_CORRUPT, NULL, "%s is not valid JSON (line %d)", path, je.line);
        goto out;
    }
    json_t *mode = json_object_get(root, "mode");
    json_t *port = json_object_get(root, "port");
    if (!json_is_string(mode) || settings_mode_parse(json_string_value(mode), &s->mode) ||
        !json_is_integer(port) || json_integer_value(port) < 1 ||
        json_integer_value(port) > 65535 || file_fixed(root, "bind", s->bind, sizeof s->bind) ||
        file_fixed(root, "gwAccessKey", s->gw_access_key, sizeof s->gw_access_key) ||
        file_fixed(root, "gwSecretKey", s->gw_secret_key, sizeof s->gw_secret_key) ||
        file_fixed(root, "salt", s->salt, sizeof s->salt) ||
        file_string(root, "bucket", &s->bucket) ||
        file_string(root, "accessGrant", &s->access_grant) ||
        file_string(root, "s3Endpoint", &s->s3_endpoint) ||
        file_string(root, "s3Region", &s->s3_region) ||
        file_string(root, "s3AccessKey", &s->s3_access_key) ||
        file_string(root, "s3SecretKey", &s->s3_secret_key) ||
        file_string(root, "authService", &s->auth_service) ||
        file_string(root, "tlsCertificate", &s->tls_cert) ||
        file_string(root, "tlsKey", &s->tls_key) ||
        file_string(root, "cacheUpstream", &s->cache_upstream) ||
        file_string(root, "cacheUsername", &s->cache_username) ||
        file_string(root, "cacheToken", &s->cache_token)) {
        err_set(e, 500, E_STATE_CORRUPT, NULL, "%s has a missing or mistyped field", path);
        goto out;
    }
    s->port = (int)json_integer_value(port);
    s->s3_keys_from_grant = json_is_true(json_object_get(root, "s3KeysFromGrant"));
    s->desired_running = json_is_true(json_object_get(root, "desiredRunning"));
    s->unencrypted_keys = json_is_true(json_object_get(root, "unencryptedKeys"));
    s->saved = json_is_true(json_object_get(root, "saved"));
    s->cache_enabled = json_is_true(json_object_get(root, "cacheEnabled"));
    json_t *cport = json_object_get(root, "cachePort");
    if (json_is_integer(cport) && json_integer_value(cport) >= 1 &&
        json_integer_value(cport) <= 65535)
        s->cache_port = (int)json_integer_value(cport);
    json_t *ttl = json_object_get(root, "cacheTtl");
    if (json_is_string(ttl) && settings_ttl_valid(json_string_value(ttl)))
        snprintf(s->cache_ttl, sizeof s->cache_ttl, "%s", json_string_value(ttl));
    json_t *users = json_object_get(root, "users");
    s->users = json_is_integer(users) && json_integer_value(users) > 0 &&
                       json_integer_value(users) < 100000
                   ? (int)json_integer_value(users)
                   : 0;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* A save that failed, in words a user can act on: the folder, what is
 * wrong with it, and that nothing changed. Returns -1. */
int settings_save(const char *path, const struct settings *s, struct err *e)
{
    int rc = -1;
    char *text = NULL;
    json_t *root = json_pack(
        "{s:i, s:s, s:i, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:b, s:s, s:s, s:s, "
        "s:b, s:b, s:b, s:i}",
        "format", 1, "mode", settings_mode_name(s->mode), "port", s->port, "bind", s->bind,
        "bucket", s->bucket, "accessGrant", s->access_grant, "s3Endpoint", s->s3_endpoint,
        "s3Region", s->s3_region, "s3AccessKey", s->s3_access_key, "s3SecretKey", s->s3_secret_key,
        "authService", s->auth_service, "s3KeysFromGrant", s->s3_keys_from_grant, "gwAccessKey",
        s->gw_access_key, "gwSecretKey", s->gw_secret_key, "salt", s->salt, "desiredRunning",
        s->desired_running, "saved", s->saved, "unencryptedKeys", s->unencrypted_keys, "users",
        s->users);
    if (root && s->tls_cert && s->tls_key &&
        (json_object_set_new(root, "tlsCertificate", json_string(s->tls_cert)) ||
         json_object_set_new(root, "tlsKey", json_string(s->tls_key)))) {
        json_decref(root);
        root = NULL;
    }
    if (root && (json_object_set_new(root, "cacheEnabled", json_boolean(s->cache_enabled)) ||
                 json_object_set_new(root, "cachePort", json_integer(s->cache_port)) ||
                 json_object_set_new(root, "cacheTtl", json_string(s->cache_ttl)) ||
                 (s->cache_upstream &&
                  json_object_set_new(root, "cacheUpstream", json_string(s->cache_upstream))) ||
                 (s->cache_username &&
                  json_object_set_new(root, "cacheUsername", json_string(s->cache_username))) ||
                 (s->cache_token &&
                  json_object_set_new(root, "cacheToken", json_string(s->cache_token))))) {
        json_decref(root);
        root = NULL;
    }
    if (!root || !(text = json_dumps(root, JSON_INDENT(2))))
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    else
        rc = file_write_atomic(path, text, strlen(text), "settings", e);
    if (text)
        secret_wipe(text, strlen(text));
    free(text);
    json_decref(root);
    return rc;
}

int settings_remove_temps(const char *path)
{
    char dir[4096], name[4096];
    int removed = 0;
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return 0;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char prefix[512];
    if (snprintf(prefix, sizeof prefix, "%s.tmp.", base) >= (int)sizeof prefix)
        return 0;
    char *d = dirname(dir);
    DIR *dh = opendir(d);
    if (!dh)
        return 0;
    struct dirent *ent;
    while ((ent = readdir(dh))) {
        if (strncmp(ent->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (snprintf(name, sizeof name, "%s/%s", d, ent->d_name) < (int)sizeof name &&
            unlink(name) == 0)
            removed++;
    }
    closedir(dh);
    return removed;
}
