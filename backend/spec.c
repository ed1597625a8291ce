#include "spec.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "regconfig.h"

static void put_octal(char *dst, size_t width, unsigned long long v)
{
    /* width includes the terminating NUL */
    snprintf(dst, width, "%0*llo", (int)width - 1, v);
}

int spec_tar_file(struct buf *out, const char *path, const void *data, size_t len)
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
    put_octal(h + 136, 12, 1700000000ULL);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof h; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    h[155] = ' ';
    static const char zeros[1024];
    size_t pad = (512 - len % 512) % 512;
    if (buf_append(out, h, sizeof h) || buf_append(out, data, len) || buf_append(out, zeros, pad) ||
        buf_append(out, zeros, 1024))
        return -1;
    return 0;
}

static json_t *labels(const char *role, const struct settings *s)
{
    return json_pack("{s:s, s:s, s:s}", SPEC_LABEL_MANAGED, "true", SPEC_LABEL_ROLE, role,
                     SPEC_LABEL_MODE, settings_mode_name(s->mode));
}

static json_t *port_bindings(const struct settings *s)
{
    char port[8];
    snprintf(port, sizeof port, "%d", s->port);
    return json_pack("{s:[{s:s, s:s}]}", "5000/tcp", "HostIp", s->bind, "HostPort", port);
}

/* Environment is built explicitly and holds no secret: the images' own ENV
 * still applies, ours only quiets tracing in registry 3. */
static json_t *registry_create(const struct settings *s, const struct spec_opts *o,
                               const char *image)
{
    json_t *host = json_pack("{s:{s:s}, s:b}", "RestartPolicy", "Name", "no", "Init", 0);
    json_t *body = json_pack("{s:s, s:[s, s], s:[s], s:o, s:o}", "Image", image, "Cmd", "serve",
                             REGCONFIG_PATH, "Env", "OTEL_TRACES_EXPORTER=none", "Labels",
                             labels("registry", s), "HostConfig", host);
    if (!body)
        return NULL;
    if (s->mode == MODE_STORJ) {
        json_object_set_new(host, "NetworkMode", json_string("container:" SPEC_GATEWAY_NAME));
    } else if (o->host_network) {
        json_object_set_new(host, "NetworkMode", json_string("host"));
    } else {
        json_object_set_new(body, "ExposedPorts", json_pack("{s:{}}", "5000/tcp"));
        json_object_set_new(host, "PortBindings", port_bindings(s));
    }
    if (s->mode == MODE_LOCAL)
        json_object_set_new(host, "Mounts",
                            json_pack("[{s:s, s:s, s:s}]", "Type", "volume", "Source", SPEC_VOLUME,
                                      "Target", REGCONFIG_DATA_DIR));
    return body;
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
        json_object_set_new(body, "ExposedPorts",
                            json_pack("{s:{}, s:{}}", "5000/tcp", SPEC_GATEWAY_S3_PORT));
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

int spec_build(const struct settings *s, const struct spec_opts *o, struct spec_set *out,
               struct err *e)
{
    memset(out, 0, sizeof *out);
    json_t *config = NULL;
    char *text = NULL, *gw = NULL;
    int rc = -1;
    const char *image = s->mode == MODE_STORJ_NATIVE ? o->native_image : o->registry_image;

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
    if (!r->image || !r->create || spec_tar_file(&r->tar, REGCONFIG_PATH + 1, text, strlen(text)))
        goto nomem;
    if (compute_hash(s, out))
        goto nomem;
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
    secret_free(&gw);
    json_decref(config);
    return rc;
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
