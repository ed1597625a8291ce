#include "spec.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "regconfig.h"

static void put_octal(char *dst, size_t width, unsigned long long v)
{
    /* width includes the terminating NUL */
    snprintf(dst, width, "%0*llo", (int)width - 1, v);
}

/* One ustar entry (header, data, padding), without the end-of-archive blocks. */
static int tar_entry(struct buf *out, const char *path, const void *data, size_t len,
                     long long mtime)
{
    char h[512];
    memset(h, 0, sizeof h);
    if (strlen(path) >= 100)
        return -1;
    memcpy(h, path, strlen(path));
    put_octal(h + 100, 8, 0600);
    put_octal(h + 108, 8, 0);
    put_octal(h + 116, 8, 0);
    put_octal(h + 124, 12, len);
    put_octal(h + 136, 12, (unsigned long long)mtime);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof h; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    h[155] = ' ';
    static const char zeros[512];
    size_t pad = (512 - len % 512) % 512;
    if (buf_append(out, h, sizeof h) || buf_append(out, data, len) || buf_append(out, zeros, pad))
        return -1;
    return 0;
}

static int tar_end(struct buf *out)
{
    static const char zeros[1024];
    return buf_append(out, zeros, sizeof zeros);
}

int spec_tar_file(struct buf *out, const char *path, const void *data, size_t len)
{
    return tar_entry(out, path, data, len, 1700000000LL) || tar_end(out) ? -1 : 0;
}

/* The registry re-reads its htpasswd when the file's modification time
 * changed: every copy gets a time later than the one before, even within
 * one second. */
static long long htpasswd_stamp(void)
{
    static _Atomic long long last;
    long long now = (long long)time(NULL), prev = last;
    for (;;) {
        long long next = now > prev ? now : prev + 1;
        if (atomic_compare_exchange_weak(&last, &prev, next))
            return next;
    }
}

int spec_tar_htpasswd(struct buf *out, const char *htpasswd)
{
    return tar_entry(out, REGCONFIG_HTPASSWD_PATH + 1, htpasswd, strlen(htpasswd),
                     htpasswd_stamp()) ||
                   tar_end(out)
               ? -1
               : 0;
}

static json_t *labels(const char *role, const struct settings *s)
{
    return json_pack("{s:s, s:s, s:s}", SPEC_LABEL_MANAGED, "true", SPEC_LABEL_ROLE, role,
                     SPEC_LABEL_MODE, settings_mode_name(s->mode));
}

static json_t *port_binding(const struct settings *s, int host_port)
{
    char port[8];
    snprintf(port, sizeof port, "%d", host_port);
    return json_pack("[{s:s, s:s}]", "HostIp", s->bind, "HostPort", port);
}

static json_t *port_bindings(const struct settings *s)
{
    return json_pack("{s:o}", "5000/tcp", port_binding(s, s->port));
}

static int cache_on(const struct settings *s)
{
    return s->cache_enabled && s->mode != MODE_STORJ_NATIVE;
}

/* A container running the registry image (serve): the registry, or the
 * Docker Hub cache, with its restart policy, host port and local volume.
 * Environment is built explicitly and holds no secret: the images' own ENV
 * still applies, ours only quiets tracing in registry 3. In storj mode it
 * joins the gateway's network namespace, where the gateway publishes its
 * port (gateway_create). */
static json_t *serve_create(const struct settings *s, const struct spec_opts *o, const char *image,
                            const char *role, const char *restart, int host_port,
                            const char *volume)
{
    json_t *host = json_pack("{s:{s:s}, s:b}", "RestartPolicy", "Name", restart, "Init", 0);
    json_t *body = json_pack("{s:s, s:[s, s], s:[s], s:o, s:o}", "Image", image, "Cmd", "serve",
                             REGCONFIG_PATH, "Env", "OTEL_TRACES_EXPORTER=none", "Labels",
                             labels(role, s), "HostConfig", host);
    if (!body)
        return NULL;
    if (s->mode == MODE_STORJ) {
        json_object_set_new(host, "NetworkMode", json_string("container:" SPEC_GATEWAY_NAME));
    } else if (o->host_network) {
        json_object_set_new(host, "NetworkMode", json_string("host"));
    } else {
        json_object_set_new(body, "ExposedPorts", json_pack("{s:{}}", "5000/tcp"));
        json_object_set_new(host, "PortBindings",
                            json_pack("{s:o}", "5000/tcp", port_binding(s, host_port)));
    }
    if (s->mode == MODE_LOCAL)
        json_object_set_new(host, "Mounts",
                            json_pack("[{s:s, s:s, s:s}]", "Type", "volume", "Source", volume,
                                      "Target", REGCONFIG_DATA_DIR));
    return body;
}

static json_t *registry_create(const struct settings *s, const struct spec_opts *o,
                               const char *image)
{
    return serve_create(s, o, image, "registry", "no", s->port, SPEC_VOLUME);
}

/* The Docker Hub cache: the registry image in proxy mode (regconfig.h).
 * distribution asks the upstream once as it starts and exits when it
 * cannot: Docker starts it again (with its growing back-off) until the
 * network or Docker Hub is back; a stop from the tab or outside stays. */
static json_t *cache_create(const struct settings *s, const struct spec_opts *o)
{
    return serve_create(s, o, o->registry_image, "cache", "on-failure", s->cache_port,
                        SPEC_CACHE_VOLUME);
}

static json_t *gateway_create(const struct settings *s, const struct spec_opts *o)
{
    json_t *host = json_pack("{s:{s:s}}", "RestartPolicy", "Name", "no");
    json_t *body = json_pack(
        "{s:s, s:[s, s, s], s:[], s:o, s:o}", "Image", o->gateway_image, "Cmd", "run",
        /* the image's ENV sets 0.0.0.0:7777, which beats the config file; a
         * flag beats both. Published, the S3 port must take connections
         * from Docker's proxy on the container's bridge address; it needs
         * the per-installation keys. */
        "--server.address", o->host_network ? REGCONFIG_GATEWAY_ADDR : SPEC_GATEWAY_PUBLISHED_ADDR,
        "Env", "Labels", labels("gateway", s), "HostConfig", host);
    if (!body)
        return NULL;
    if (o->host_network) {
        json_object_set_new(host, "NetworkMode", json_string("host"));
    } else {
        /* the registry joins this namespace, so its port is published here;
         * the gateway's S3 port too, on loopback and a port Docker picks,
         * for the backend's storage check (spec.h) */
        json_t *ports = port_bindings(s);
        json_object_set_new(ports, SPEC_GATEWAY_S3_PORT,
                            json_pack("[{s:s, s:s}]", "HostIp", "127.0.0.1", "HostPort", ""));
        json_t *exposed = json_pack("{s:{}, s:{}}", "5000/tcp", SPEC_GATEWAY_S3_PORT);
        if (cache_on(s)) {
            /* the cache joins this namespace too, on its inner port */
            char inner[16];
            snprintf(inner, sizeof inner, "%d/tcp", SPEC_CACHE_INNER_PORT);
            json_object_set_new(ports, inner, port_binding(s, s->cache_port));
            json_object_set_new(exposed, inner, json_object());
        }
        json_object_set_new(body, "ExposedPorts", exposed);
        json_object_set_new(host, "PortBindings", ports);
    }
    return body;
}

static int hash_update_json(EVP_MD_CTX *ctx, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return -1;
    int rc = EVP_DigestUpdate(ctx, text, strlen(text)) == 1 ? 0 : -1;
    free(text);
    return rc;
}

static int compute_hash(const struct settings *s, struct spec_set *set)
{
    unsigned char md[32];
    unsigned mdlen = 0;
    int rc = -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, s->salt, strlen(s->salt)) != 1)
        goto out;
    for (int i = 0; i < set->count; i++)
        if (hash_update_json(ctx, set->c[i].create) ||
            EVP_DigestUpdate(ctx, set->c[i].tar.data, set->c[i].tar.len) != 1)
            goto out;
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
        goto out;
    for (unsigned i = 0; i < 32; i++)
        snprintf(set->hash + 2 * i, 3, "%02x", md[i]);
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* The registry's configuration and, with TLS, its certificate and key
 * (entries without the end of the archive). */
static int registry_files(struct buf *tar, const struct settings *s, const char *config)
{
    if (tar_entry(tar, REGCONFIG_PATH + 1, config, strlen(config), 1700000000LL))
        return -1;
    if (!s->tls_cert || !s->tls_key)
        return 0;
    return tar_entry(tar, REGCONFIG_TLS_CERT_PATH + 1, s->tls_cert, strlen(s->tls_cert),
                     1700000000LL) ||
                   tar_entry(tar, REGCONFIG_TLS_KEY_PATH + 1, s->tls_key, strlen(s->tls_key),
                             1700000000LL)
               ? -1
               : 0;
}

int spec_build(const struct settings *s, const struct spec_opts *o, struct spec_set *out,
               struct err *e)
{
    memset(out, 0, sizeof *out);
    json_t *config = NULL, *cconfig = NULL;
    char *text = NULL, *ctext = NULL, *gw = NULL;
    int rc = -1;
    const char *image = s->mode == MODE_STORJ_NATIVE ? o->native_image : o->registry_image;

    if (!settings_bind_loopback(s->bind) && s->users == 0) {
        err_set(e, 400, E_USERS_REQUIRED, "bind",
                "the registry would listen on %s without any user: add a registry user (Users) "
                "or listen on 127.0.0.1",
                s->bind);
        goto out;
    }
    config = regconfig_registry(s, o->host_network);
    if (!config) {
        err_set(e, 400, E_INCOMPLETE_SETTINGS, NULL,
                "the settings are incomplete for mode %s: open Settings and save them",
                settings_mode_name(s->mode));
        goto out;
    }
    text = json_dumps(config, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text)
        goto nomem;

    if (s->mode == MODE_STORJ) {
        gw = regconfig_gateway(s);
        struct spec_container *g = &out->c[out->count++];
        g->role = "gateway";
        g->name = SPEC_GATEWAY_NAME;
        g->image = strdup(o->gateway_image);
        g->create = gateway_create(s, o);
        if (!gw || !g->image || !g->create ||
            spec_tar_file(&g->tar, REGCONFIG_GATEWAY_PATH + 1, gw, strlen(gw)))
            goto nomem;
    }
    struct spec_container *r = &out->c[out->count++];
    r->role = "registry";
    r->name = SPEC_REGISTRY_NAME;
    r->image = strdup(image);
    r->create = registry_create(s, o, image);
    if (!r->image || !r->create || registry_files(&r->tar, s, text) || tar_end(&r->tar))
        goto nomem;
    if (cache_on(s)) {
        struct spec_container *c = &out->c[out->count++];
        c->role = "cache";
        c->name = SPEC_CACHE_NAME;
        c->image = strdup(o->registry_image);
        c->create = cache_create(s, o);
        cconfig = regconfig_cache(s, o->host_network);
        ctext = cconfig ? json_dumps(cconfig, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        if (!c->image || !c->create || !ctext || registry_files(&c->tar, s, ctext) ||
            tar_end(&c->tar))
            goto nomem;
    }
    if (compute_hash(s, out))
        goto nomem;
    /* the users go in the same upload, after the hash: a new password is
     * no reason to recreate the registry (it re-reads the file); the cache
     * asks for the same logins */
    for (int i = 0; s->htpasswd && i < out->count; i++) {
        struct spec_container *c = &out->c[i];
        if (strcmp(c->role, "gateway") == 0)
            continue;
        buf_free(&c->tar);
        if (registry_files(&c->tar, s, c == r ? text : ctext) ||
            tar_entry(&c->tar, REGCONFIG_HTPASSWD_PATH + 1, s->htpasswd, strlen(s->htpasswd),
                      htpasswd_stamp()) ||
            tar_end(&c->tar))
            goto nomem;
    }
    for (int i = 0; i < out->count; i++)
        json_object_set_new(json_object_get(out->c[i].create, "Labels"), SPEC_LABEL_HASH,
                            json_string(out->hash));
    rc = 0;
    goto out;
nomem:
    err_set(e, 500, E_NO_MEMORY, NULL, "could not build the container specification");
out:
    if (text) {
        memset(text, 0, strlen(text));
        free(text);
    }
    if (ctext) {
        memset(ctext, 0, strlen(ctext));
        free(ctext);
    }
    secret_free(&gw);
    json_decref(config);
    json_decref(cconfig);
    return rc;
}

struct spec_container *spec_find(struct spec_set *set, const char *role)
{
    for (int i = 0; i < set->count; i++)
        if (strcmp(set->c[i].role, role) == 0)
            return &set->c[i];
    return NULL;
}

void spec_free(struct spec_set *set)
{
    for (int i = 0; i < set->count; i++) {
        free(set->c[i].image);
        json_decref(set->c[i].create);
        if (set->c[i].tar.data)
            secret_wipe(set->c[i].tar.data, set->c[i].tar.len);
        buf_free(&set->c[i].tar);
    }
    memset(set, 0, sizeof *set);
}

/* The gc container: the registry's own spec, running garbage-collect once.
 * untagged: also delete manifests no tag names, which only distribution 3
 * does safely: 2.x deletes the platform manifests of a tagged multi-arch
 * index with them, and their layers. */
json_t *spec_gc_container(json_t *registry_create, int untagged)
{
    json_t *c = json_deep_copy(registry_create);
    if (!c)
        return NULL;
    json_object_set_new(
        c, "Cmd",
        untagged ? json_pack("[s, s, s]", "garbage-collect", "--delete-untagged", REGCONFIG_PATH)
                 : json_pack("[s, s]", "garbage-collect", REGCONFIG_PATH));
    json_object_del(c, "ExposedPorts");
    json_object_del(json_object_get(c, "HostConfig"), "PortBindings");
    json_object_set_new(json_object_get(c, "Labels"), SPEC_LABEL_ROLE, json_string("gc"));
    return c;
}

/* ---- reading back what a container holds ------------------------------- */

static int tar_octal(const char *p, size_t n, unsigned long long *out)
{
    unsigned long long v = 0;
    size_t i = 0;
    while (i < n && p[i] == ' ')
        i++;
    if (i == n || p[i] < '0' || p[i] > '7')
        return -1; /* empty, or GNU's base-256 (never this small) */
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v > (ULLONG_MAX >> 3))
            return -1;
        v = v * 8 + (unsigned)(p[i] - '0');
    }
    for (; i < n; i++)
        if (p[i] != ' ' && p[i] != '\0')
            return -1;
    *out = v;
    return 0;
}

static const char *strip_root(const char *p)
{
    for (;;) {
        if (p[0] == '/')
            p++;
        else if (p[0] == '.' && p[1] == '/')
            p += 2;
        else
            return p;
    }
}

int spec_tar_find(const void *tar, size_t tar_len, const char *name, const char **data, size_t *len)
{
    const unsigned char *t = tar;
    size_t off = 0;
    if (!t)
        return -1;
    while (off + 512 <= tar_len) {
        const unsigned char *h = t + off;
        unsigned long long chk, size;
        unsigned sum = 0;
        int zero = 1;
        for (int i = 0; i < 512; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : h[i];
            zero = zero && h[i] == 0;
        }
        if (zero) /* the end of the archive */
            return -1;
        if (tar_octal((const char *)h + 148, 8, &chk) || chk != sum ||
            tar_octal((const char *)h + 124, 12, &size) || size > tar_len - off - 512)
            return -1;
        char type = (char)h[156];
        if (type == '0' || type == '\0' || type == '7') {
            char path[100 + 1 + 155 + 1];
            /* POSIX ustar: prefix "/" name, each NUL-terminated or full
             * (GNU's "ustar  " keeps other fields there) */
            if (memcmp(h + 257, "ustar\0", 6) == 0 && h[345])
                snprintf(path, sizeof path, "%.155s/%.100s", (const char *)h + 345,
                         (const char *)h);
            else
                snprintf(path, sizeof path, "%.100s", (const char *)h);
            if (!name || strcmp(strip_root(path), strip_root(name)) == 0) {
                *data = (const char *)h + 512;
                *len = (size_t)size;
                return 0;
            }
        }
        size_t padded = ((size_t)size + 511) / 512 * 512;
        if (padded > tar_len - off - 512)
            return -1;
        off += 512 + padded;
    }
    return -1;
}

const char *spec_config_path(const struct spec_container *sc)
{
    return strcmp(sc->role, "gateway") == 0 ? REGCONFIG_GATEWAY_PATH : REGCONFIG_PATH;
}

enum spec_config spec_config_compare(const struct spec_container *sc, const void *found,
                                     size_t found_len)
{
    const char *own, *got;
    size_t own_len, got_len;
    if (spec_tar_find(sc->tar.data, sc->tar.len, spec_config_path(sc), &own, &own_len) || !found ||
        spec_tar_find(found, found_len, NULL, &got, &got_len))
        return SPEC_CONFIG_OTHER;
    if (got_len == own_len && memcmp(got, own, own_len) == 0)
        return SPEC_CONFIG_OWN;
    /* the registry's configuration is JSON (regconfig.h) */
    json_t *j = json_loadb(got, got_len, 0, NULL);
    json_t *ro = json_object_get(
        json_object_get(json_object_get(json_object_get(j, "storage"), "maintenance"), "readonly"),
        "enabled");
    enum spec_config r = json_is_true(ro) ? SPEC_CONFIG_READONLY : SPEC_CONFIG_OTHER;
    json_decref(j);
    return r;
}

int spec_gc_kind(json_t *inspect)
{
    json_t *config = json_object_get(inspect, "Config");
    json_t *labels = json_object_get(config, "Labels");
    const char *managed = json_string_value(json_object_get(labels, SPEC_LABEL_MANAGED));
    const char *role = json_string_value(json_object_get(labels, SPEC_LABEL_ROLE));
    const char *cmd = json_string_value(json_array_get(json_object_get(config, "Cmd"), 0));
    if (!managed || strcmp(managed, "true") != 0)
        return 0;
    return role && strcmp(role, "gc") == 0 && cmd && strcmp(cmd, "garbage-collect") == 0 ? 2 : 1;
}
