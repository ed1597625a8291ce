#include "regconfig.h"

#include <stdio.h>
#include <string.h>

#include "indexer.h"
#include "spec.h"
#include "util.h"
#include "yamlgen.h"

/* Storj stores objects in 64 MiB segments: parts of exactly that size map one
 * part to one segment (storj.md §4.1-4.2). */
#define STORJ_CHUNK 67108864
/* Above this size the S3 driver copies with UploadPartCopy, which Storj's
 * hosted gateway refuses (501); at the 64-bit maximum the registry always uses
 * CopyObject, a server-side copy on Storj (storj.md §4.3). */
#define COPY_THRESHOLD 5368709120LL

static void listen_addr(const struct settings *s, int host_network, char *out, size_t len)
{
    if (!host_network)
        snprintf(out, len, ":5000");
    else if (strchr(s->bind, ':'))
        snprintf(out, len, "[%s]:%d", s->bind, s->port);
    else
        snprintf(out, len, "%s:%d", s->bind, s->port);
}

static json_t *s3_driver(const struct settings *s)
{
    const char *endpoint, *region, *ak, *sk;
    if (s->mode == MODE_STORJ) {
        endpoint = "http://" REGCONFIG_GATEWAY_ADDR;
        region = SETTINGS_DEFAULT_REGION;
        ak = s->gw_access_key;
        sk = s->gw_secret_key;
    } else {
        endpoint = s->s3_endpoint ? s->s3_endpoint : SETTINGS_HOSTED_ENDPOINT;
        region = s->s3_region ? s->s3_region : SETTINGS_DEFAULT_REGION;
        ak = s->s3_access_key;
        sk = s->s3_secret_key;
    }
    if (!ak || !sk || !s->bucket || (s->mode == MODE_STORJ && !s->access_grant))
        return NULL;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:i, s:s}",
                     "accesskey", ak, "secretkey", sk, "region", region, "regionendpoint", endpoint,
                     "bucket", s->bucket,
                     /* v3 defaults to virtual-host addressing, which needs DNS per bucket;
                      * every endpoint we talk to takes path style (storj.md §3.4) */
                     "forcepathstyle", 1, "secure", strncmp(endpoint, "https://", 8) == 0, "v4auth",
                     1, "chunksize", (json_int_t)STORJ_CHUNK, "multipartcopythresholdsize",
                     (json_int_t)COPY_THRESHOLD, "multipartcopychunksize", (json_int_t)STORJ_CHUNK,
                     "multipartcopymaxconcurrency", 4,
                     /* the bucket root, so keys are docker/registry/v2/... like the 2022
                      * extension wrote them */
                     "rootdirectory", "/");
}

json_t *regconfig_registry(const struct settings *s, int host_network)
{
    char addr[96];
    listen_addr(s, host_network, addr, sizeof addr);
    json_t *storage = NULL, *driver = NULL;

    switch (s->mode) {
    case MODE_LOCAL:
        storage = json_pack("{s:{s:s}}", "filesystem", "rootdirectory", REGCONFIG_DATA_DIR);
        break;
    case MODE_S3:
    case MODE_STORJ:
    case MODE_STORJ_HOSTED:
        driver = s3_driver(s);
        if (!driver)
            return NULL;
        storage = json_pack("{s:o}", "s3", driver);
        /* Docker must not be sent to presigned S3 URLs it may not reach (the
         * self-hosted gateway is only on the container's loopback), and
         * uploads through Storj are cheaper when the registry streams. */
        json_object_set_new(storage, "redirect", json_pack("{s:b}", "disable", 1));
        break;
    case MODE_STORJ_NATIVE:
        if (!s->access_grant || !s->bucket)
            return NULL;
        /* the 2022 driver reads exactly these two keys (seed.md §2.2) */
        storage = json_pack("{s:{s:s, s:s}}", "storj", "accessgrant", s->access_grant, "bucket",
                            s->bucket);
        break;
    }
    if (!storage)
        return NULL;
    /* tags are overwritten and images deleted from the tab */
    json_object_set_new(storage, "delete", json_pack("{s:b}", "enabled", 1));
    json_object_set_new(storage, "cache", json_pack("{s:s}", "blobdescriptor", "inmemory"));
    /* abandoned uploads are cleaned weekly; each run lists _uploads, which
     * costs requests on Storj, so not more often */
    json_object_set_new(storage, "maintenance",
                        json_pack("{s:{s:b, s:s, s:s, s:b}}", "uploadpurging", "enabled", 1, "age",
                                  "168h", "interval", "24h", "dryrun", 0));
    /* during a clean-up: pulls keep working, pushes are refused at once */
    if (s->maintenance_readonly)
        json_object_set_new(json_object_get(storage, "maintenance"), "readonly",
                            json_pack("{s:b}", "enabled", 1));

    /* the storage health check makes /v2/ answer 503 while the storage is
     * away, which status shows as unhealthy: three failed looks 10 s apart
     * (one small request each), so S3 going away shows within ~30 s */
    json_t *config =
        json_pack("{s:s, s:{s:s, s:s, s:{s:s}}, s:o, s:{s:s, s:{s:[s]}}, s:{s:{s:b, "
                  "s:s, s:i}}}",
                  "version", "0.1", "log", "level", "info", "formatter", "text", "fields",
                  "service", "registry", "storage", storage, "http", "addr", addr, "headers",
                  "X-Content-Type-Options", "nosniff", "health", "storagedriver", "enabled",
                  s->mode != MODE_STORJ_NATIVE, "interval", "10s", "threshold", 3);
    /* with users, every request logs in; the backend's own probes use its
     * internal credential, which the same file holds (users.h) */
    /* the registry serves HTTPS with the user's certificate (tlscert.h) */
    if (config && s->tls_cert && s->tls_key &&
        json_object_set_new(json_object_get(config, "http"), "tls",
                            json_pack("{s:s, s:s}", "certificate", REGCONFIG_TLS_CERT_PATH, "key",
                                      REGCONFIG_TLS_KEY_PATH))) {
        json_decref(config);
        return NULL;
    }
    /* the registry tells the backend's index what it does (indexer.h);
     * manifests only: blob events would flood it and say nothing the
     * index keeps */
    char url[160], token[80], bearer[96];
    indexer_events(url, sizeof url, token, sizeof token);
    snprintf(bearer, sizeof bearer, "Bearer %s", token);
    if (config && url[0] &&
        json_object_set_new(config, "notifications",
                            json_pack("{s:[{s:s, s:s, s:{s:[s]}, s:s, s:i, s:s, s:[s, s, s, s]}]}",
                                      "endpoints", "name", "storj-registry-index", "url", url,
                                      "headers", "Authorization", bearer, "timeout", "5s",
                                      "threshold", 3, "backoff", "2s", "ignoredmediatypes",
                                      "application/octet-stream",
                                      "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                      "application/vnd.oci.image.layer.v1.tar+gzip",
                                      "application/vnd.docker.container.image.v1+json"))) {
        secret_wipe(bearer, sizeof bearer);
        json_decref(config);
        return NULL;
    }
    secret_wipe(bearer, sizeof bearer);
    secret_wipe(token, sizeof token);
    if (config && s->users > 0 &&
        json_object_set_new(config, "auth",
                            json_pack("{s:{s:s, s:s}}", "htpasswd", "realm", REGCONFIG_REALM,
                                      "path", REGCONFIG_HTPASSWD_PATH))) {
        json_decref(config);
        return NULL;
    }
    return config;
}

json_t *regconfig_cache(const struct settings *s, int host_network)
{
    json_t *config = regconfig_registry(s, host_network);
    if (!config)
        return NULL;
    char addr[96];
    if (host_network && strchr(s->bind, ':'))
        snprintf(addr, sizeof addr, "[%s]:%d", s->bind, s->cache_port);
    else if (host_network)
        snprintf(addr, sizeof addr, "%s:%d", s->bind, s->cache_port);
    else
        snprintf(addr, sizeof addr, ":%d", s->mode == MODE_STORJ ? SPEC_CACHE_INNER_PORT : 5000);
    json_t *http = json_object_get(config, "http");
    json_t *storage = json_object_get(config, "storage");
    json_t *maint = json_object_get(storage, "maintenance");
    json_t *s3 = json_object_get(storage, "s3");
    json_t *proxy = json_pack("{s:s, s:s}", "remoteurl",
                              s->cache_upstream ? s->cache_upstream : SETTINGS_CACHE_UPSTREAM,
                              "ttl", s->cache_ttl);
    int bad = !http || !maint || !proxy || json_object_set_new(http, "addr", json_string(addr)) ||
              json_object_set_new(json_object_get(json_object_get(config, "log"), "fields"),
                                  "service", json_string("cache")) ||
              (s3 && json_object_set_new(s3, "rootdirectory", json_string("/" SPEC_CACHE_PREFIX)));
    json_object_del(maint, "readonly");
    /* Docker logs in to a mirror with its Docker Hub login, never with
     * ours: on loopback (only this machine reaches it) the cache asks for
     * none, so that registry-mirrors works with registry users too. Off
     * loopback it asks for the registry's logins (pull by name after
     * docker login HOST:PORT). */
    if (settings_bind_loopback(s->bind))
        json_object_del(config, "auth");
    if (!bad && s->cache_username && s->cache_token)
        bad = json_object_set_new(proxy, "username", json_string(s->cache_username)) ||
              json_object_set_new(proxy, "password", json_string(s->cache_token));
    if (bad) {
        json_decref(proxy);
        json_decref(config);
        return NULL;
    }
    if (json_object_set_new(config, "proxy", proxy)) {
        json_decref(config);
        return NULL;
    }
    return config;
}

/* A string of v wiped before v is freed: the values hold secrets. */
static void wipe_strings(json_t *v)
{
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val)
    {
        if (json_is_string(val))
            secret_wipe((char *)json_string_value(val), json_string_length(val));
    }
}

char *regconfig_gateway(const struct settings *s)
{
    struct buf b = {0};
    struct err e;
    char *grant = NULL;
    /* with unencryptedKeys, the copy of the grant whose object keys are not
     * encrypted, so that the gateway serves every listing the registry
     * makes from the satellite (storj.md 4.4a) */
    if (settings_outgoing_grant(s, &grant, &e) || !grant)
        return NULL;
    /* every value double-quoted: our values are base58, hex and host:port,
     * quoted anyway so that no value can be read as anything else */
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:b}", "access", grant, "minio.access-key",
                            s->gw_access_key, "minio.secret-key", s->gw_secret_key,
                            /* only the registry, in the same network namespace, may talk
                             * to it */
                            "server.address", REGCONFIG_GATEWAY_ADDR,
                            /* a blob pushed in several PATCH requests is resumed with
                             * UploadPartCopy (storj.md §4.3) */
                            "s3.upload-part-copy.enable", 1);
    secret_free(&grant);
    if (!doc ||
        buf_printf(&b, "# written by storj-registryd; the access grant stays in this file, "
                       "never in the environment\n") ||
        yamlgen_write(&b, doc, YAMLGEN_QUOTE_VALUES)) {
        if (b.data)
            secret_wipe(b.data, b.len);
        buf_free(&b);
        b.data = NULL;
    }
    if (doc)
        wipe_strings(doc);
    json_decref(doc);
    return b.data;
}
