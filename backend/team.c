#include "team.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regconfig.h"
#include "tpl.h"
#include "yamlgen.h"

/* Names shared by the files of a bundle. */
#define SVC_REDIS "redis"
#define SVC_GATEWAY "storj-gateway"
#define SVC_BALANCER "balancer"
#define K8S_NAME "storj-registry"
#define K8S_REDIS "storj-registry-redis"
#define K8S_GATEWAY "storj-registry-gateway"
#define K8S_SECRET "storj-registry-secrets"
#define K8S_CONFIG "storj-registry-config"
#define HELM_RELEASE "storj-registry"
/* the chart mounts the Secret named by tlsSecretName here (tls.crt, tls.key) */
#define HELM_TLS_SECRET "storj-registry-tls"
#define HELM_TLS_DIR "/etc/ssl/docker"
#define HELM_HTPASSWD_PATH "/auth/htpasswd"
/* where a Kubernetes replica finds its certificate: the desktop's paths */
#define K8S_TLS_DIR "/etc/storj-registry"
#define SECRETS_DIR "/run/secrets"
#define CONFIG_PATH "/etc/distribution/config.yml"
#define GATEWAY_PORT 7777
#define BALANCER_PORT 8080

static const char *const format_names[] = {"compose", "kubernetes", "helm"};

const char *team_format_name(enum team_format f)
{
    return format_names[f];
}

void team_opts_init(struct team_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = TEAM_COMPOSE;
    o->replicas = TEAM_DEFAULT_REPLICAS;
    o->port = TEAM_DEFAULT_PORT;
}

int team_opts_parse(json_t *body, struct team_opts *o, struct err *e)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "format") == 0) {
            const char *f = json_string_value(v);
            size_t i;
            for (i = 0; f && i < sizeof format_names / sizeof *format_names; i++)
                if (strcmp(f, format_names[i]) == 0)
                    break;
            if (!f || i == sizeof format_names / sizeof *format_names)
                return err_set(e, 400, E_INVALID_VALUE, key,
                               "format must be one of compose, kubernetes, helm");
            o->format = (enum team_format)i;
        } else if (strcmp(key, "replicas") == 0 || strcmp(key, "port") == 0) {
            int max = key[0] == 'r' ? TEAM_MAX_REPLICAS : 65535;
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
                return err_set(e, 400, E_OUT_OF_RANGE, key,
                               "%s must be a whole number from 1 to %d", key, max);
            *(key[0] == 'r' ? &o->replicas : &o->port) = (int)json_integer_value(v);
        } else if (strcmp(key, "includeSecrets") == 0) {
            if (!json_is_boolean(v))
                return err_set(e, 400, E_INVALID_TYPE, key, "includeSecrets must be true or false");
            o->include_secrets = json_is_true(v);
        } else {
            return err_set(e, 400, E_UNKNOWN_FIELD, key, "unknown field %.60s", key);
        }
    }
    return 0;
}

int team_fresh_secrets(struct team_opts *o)
{
    return random_hex(o->http_secret, 32) || random_hex(o->gw_access_key, 20) ||
                   random_hex(o->gw_secret_key, 32)
               ? -1
               : 0;
}

void team_opts_wipe(struct team_opts *o)
{
    secret_wipe(o->http_secret, sizeof o->http_secret);
    secret_wipe(o->gw_access_key, sizeof o->gw_access_key);
    secret_wipe(o->gw_secret_key, sizeof o->gw_secret_key);
}

/* ---- the bundle ------------------------------------------------------- */

/* One secret of the bundle: the file (compose), the key (Kubernetes
 * Secret), and what the user puts there when it is a placeholder. */
struct secret {
    const char *file; /* compose: secrets/<file> */
    const char *key;  /* Kubernetes Secret key */
    const char *value;
    const char *what; /* for the placeholder and the README */
    const char *how;  /* a command that makes one, or NULL */
    int public;       /* goes with the secrets, is none: always the value (the certificate) */
};

struct ctx {
    const struct settings *s;
    const struct team_opts *o;
    struct team_bundle *out;
    struct secret sec[8];
    int nsec;
    char *grant; /* the outgoing grant (storj mode), a secret */
    struct err *e;
};

/* Takes content. A file that holds a secret (or its placeholder) is 0600
 * whatever mode is asked: the tab's tar and the test harness write the
 * mode given here, and a Kubernetes or Helm file with includeSecrets holds
 * the S3 secret, the grant or the users' hashes. */
static int add_file(struct ctx *c, const char *path, int mode, int secret, char *content)
{
    if (secret)
        mode = 0600;
    if (!content)
        return err_set(c->e, 500, E_NO_MEMORY, NULL, "out of memory building %s", path);
    struct team_file *f = realloc(c->out->files, (c->out->n + 1) * sizeof *f);
    if (!f) {
        if (secret)
            secret_wipe(content, strlen(content));
        free(content);
        return err_set(c->e, 500, E_NO_MEMORY, NULL, "out of memory");
    }
    c->out->files = f;
    f[c->out->n] = (struct team_file){xstrdup(path), mode, secret, content};
    if (!f[c->out->n].path)
        return err_set(c->e, 500, E_NO_MEMORY, NULL, "out of memory");
    c->out->n++;
    return 0;
}

/* Takes the text of b (b is left empty). */
static int add_buf(struct ctx *c, const char *path, int mode, int secret, struct buf *b)
{
    if (b->overflow) {
        buf_free(b);
        return err_set(c->e, 500, E_NO_MEMORY, NULL, "out of memory building %s", path);
    }
    char *text = b->data ? b->data : strdup("");
    memset(b, 0, sizeof *b);
    return add_file(c, path, mode, secret, text);
}

/* Header comment + YAML of doc (borrowed). */
static int add_yaml(struct ctx *c, const char *path, const char *header, json_t *doc)
{
    struct buf b = {0};
    if (!doc || buf_printf(&b, "%s", header) || yamlgen_write(&b, doc, 0)) {
        buf_free(&b);
        return err_set(c->e, 500, E_NO_MEMORY, NULL, "could not write %s", path);
    }
    return add_buf(c, path, 0644, 0, &b);
}

/* The value a file or a Secret key holds: the real one when asked for,
 * else a placeholder that says what goes there. New string. */
static char *secret_text(const struct ctx *c, const struct secret *sc)
{
    char *t = NULL;
    if ((c->o->include_secrets || sc->public) && sc->value)
        return xstrdup(sc->value);
    if (asprintf(&t, TEAM_PLACEHOLDER ": %s", sc->what) < 0)
        return NULL;
    return t;
}

static void add_secret(struct ctx *c, const char *file, const char *key, const char *value,
                       const char *what, const char *how)
{
    c->sec[c->nsec++] = (struct secret){file, key, value, what, how, 0};
}

/* Who reads a secret in a compose bundle or which Secret holds it. */
enum secret_user { FOR_REGISTRY, FOR_GATEWAY, FOR_BALANCER };

static enum secret_user secret_user(const struct secret *sc)
{
    if (strcmp(sc->file, "storj-access-grant") == 0 || strncmp(sc->file, "gateway-", 8) == 0)
        return FOR_GATEWAY;
    if (strncmp(sc->file, "tls.", 4) == 0)
        return FOR_BALANCER; /* compose; on Kubernetes the registries serve TLS */
    return FOR_REGISTRY;
}

static const struct secret *find_secret(const struct ctx *c, const char *file)
{
    for (int i = 0; i < c->nsec; i++)
        if (strcmp(c->sec[i].file, file) == 0)
            return &c->sec[i];
    return NULL;
}

static int storj(const struct ctx *c)
{
    return c->s->mode == MODE_STORJ;
}

/* The desktop's registry serves HTTPS with the user's certificate, so the
 * team's must too (compose: at the balancer). */
static int tls(const struct ctx *c)
{
    return c->s->tls_cert && c->s->tls_key;
}

static const char *endpoint_of(const struct settings *s)
{
    return s->s3_endpoint ? s->s3_endpoint : SETTINGS_HOSTED_ENDPOINT;
}

/* The registries' shared configuration: the desktop's (regconfig.h) with
 * the S3 keys taken out (they come from the secrets), the blob descriptor
 * cache in Redis, the gateway at gateway_url in storj mode, htpasswd at
 * htpasswd_path when there are users, and http.tls from tls_dir (tls.crt,
 * tls.key) when the settings have a certificate. Each path is one the
 * bundle provides; NULL: none (compose: TLS is the balancer's). The
 * desktop's own paths for htpasswd and TLS never stay: nothing in a
 * bundle puts files there unless it is given as tls_dir. */
static json_t *registry_config(const struct ctx *c, const char *redis_addr, const char *gateway_url,
                               const char *htpasswd_path, const char *tls_dir)
{
    json_t *cfg = regconfig_registry(c->s, 0);
    if (!cfg)
        return NULL;
    json_object_del(cfg, "auth");
    /* no backend listens for a team's replicas */
    json_object_del(cfg, "notifications");
    json_object_del(json_object_get(cfg, "http"), "tls");
    if (tls_dir && tls(c)) {
        char crt[96], key[96];
        snprintf(crt, sizeof crt, "%s/tls.crt", tls_dir);
        snprintf(key, sizeof key, "%s/tls.key", tls_dir);
        json_object_set_new(json_object_get(cfg, "http"), "tls",
                            json_pack("{s:s, s:s}", "certificate", crt, "key", key));
    }
    json_t *storage = json_object_get(cfg, "storage");
    json_t *s3 = json_object_get(storage, "s3");
    json_object_del(s3, "accesskey");
    json_object_del(s3, "secretkey");
    if (storj(c)) {
        json_object_set_new(s3, "regionendpoint", json_string(gateway_url));
        json_object_set_new(s3, "secure", json_false());
    }
    /* one cache for every replica, so a blob one of them saw is known to
     * all (distribution: "deploying.md", load balancing) */
    json_object_set_new(storage, "cache", json_pack("{s:s}", "blobdescriptor", "redis"));
    json_object_set_new(cfg, "redis",
                        json_pack("{s:[s], s:i, s:s, s:s, s:s, s:i}", "addrs", redis_addr, "db", 0,
                                  "dialtimeout", "5s", "readtimeout", "2s", "writetimeout", "2s",
                                  "poolsize", 16));
    if (htpasswd_path)
        json_object_set_new(cfg, "auth",
                            json_pack("{s:{s:s, s:s}}", "htpasswd", "realm", "Storj Registry",
                                      "path", htpasswd_path));
    return cfg;
}

static int add_config_yml(struct ctx *c, const char *path, json_t *cfg)
{
    int rc = add_yaml(c, path,
                      "# The registries' shared configuration (distribution v3), written by Storj "
                      "Registry.\n# No secret here: the S3 keys and http.secret reach each "
                      "registry from the secret\n# files, as REGISTRY_STORAGE_S3_ACCESSKEY, "
                      "..._SECRETKEY and REGISTRY_HTTP_SECRET.\n",
                      cfg);
    return rc;
}

/* ---- compose ----------------------------------------------------------- */

/* The bundle's text files from backend/templates/ (tpl.h), filled with
 * what the settings and options say. NULL on memory. */
static char *from_template(const struct ctx *c, const char *file);

/* ["/bin/sh", "/secrets-env.sh", VAR=FILE..., "--"] for a container. */
static json_t *entry_prefix(const struct ctx *c, int gateway)
{
    json_t *a = json_pack("[s, s]", "/bin/sh", "/secrets-env.sh");
    if (!gateway) {
        json_array_append_new(a, json_string("REGISTRY_HTTP_SECRET=http-secret"));
        if (storj(c)) {
            json_array_append_new(a,
                                  json_string("REGISTRY_STORAGE_S3_ACCESSKEY=gateway-access-key"));
            json_array_append_new(a,
                                  json_string("REGISTRY_STORAGE_S3_SECRETKEY=gateway-secret-key"));
        } else {
            json_array_append_new(a, json_string("REGISTRY_STORAGE_S3_ACCESSKEY=s3-access-key"));
            json_array_append_new(a, json_string("REGISTRY_STORAGE_S3_SECRETKEY=s3-secret-key"));
        }
        if (c->o->htpasswd)
            json_array_append_new(a, json_string("htpasswd"));
    } else {
        json_array_append_new(a, json_string("STORJ_ACCESS=storj-access-grant"));
        json_array_append_new(a, json_string("STORJ_MINIO_ACCESS_KEY=gateway-access-key"));
        json_array_append_new(a, json_string("STORJ_MINIO_SECRET_KEY=gateway-secret-key"));
    }
    json_array_append_new(a, json_string("--"));
    return a;
}

/* The compose secrets a service reads: the registries share the gateway's
 * key pair, not its grant. */
static json_t *secret_names(const struct ctx *c, enum secret_user who)
{
    json_t *a = json_array();
    for (int i = 0; i < c->nsec; i++) {
        enum secret_user u = secret_user(&c->sec[i]);
        int gw_key = strncmp(c->sec[i].file, "gateway-", 8) == 0;
        if (u == who || (who == FOR_REGISTRY && gw_key))
            json_array_append_new(a, json_string(c->sec[i].file));
    }
    return a;
}

static json_t *compose_doc(const struct ctx *c)
{
    json_t *services = json_object(), *secrets = json_object(), *deps = json_array();
    json_t *doc = json_pack("{s:o, s:o}", "services", services, "secrets", secrets);
    if (!doc)
        return NULL;
    for (int i = 1; i <= c->o->replicas; i++) {
        char name[32];
        snprintf(name, sizeof name, "registry-%d", i);
        json_t *entry = entry_prefix(c, 0);
        json_array_append_new(entry, json_string("/entrypoint.sh"));
        json_t *dep = json_pack("[s]", SVC_REDIS);
        if (storj(c))
            json_array_append_new(dep, json_string(SVC_GATEWAY));
        json_object_set_new(
            services, name,
            json_pack("{s:s, s:s, s:o, s:[s], s:{s:s, s:s}, s:[s, s], s:o, s:o}", "image",
                      TEAM_REGISTRY_IMAGE, "restart", "unless-stopped", "entrypoint", entry,
                      "command", CONFIG_PATH, "environment", "OTEL_TRACES_EXPORTER", "none",
                      /* README.md, clean-up: every replica read-only at once */
                      "REGISTRY_STORAGE_MAINTENANCE_READONLY",
                      "{\"enabled\": ${REGISTRY_READONLY:-false}}", "volumes",
                      "./config.yml:" CONFIG_PATH ":ro", "./secrets-env.sh:/secrets-env.sh:ro",
                      "secrets", secret_names(c, FOR_REGISTRY), "depends_on", dep));
        json_array_append_new(deps, json_string(name));
    }
    json_object_set_new(
        services, SVC_REDIS,
        json_pack("{s:s, s:s, s:[s, s, s, s, s, s, s, s, s]}", "image", TEAM_REDIS_IMAGE, "restart",
                  "unless-stopped", "command", "redis-server", "--maxmemory", "256mb",
                  /* distribution: the cache must evict with allkeys-lru */
                  "--maxmemory-policy", "allkeys-lru", "--save", "", "--appendonly", "no"));
    if (storj(c)) {
        json_t *entry = entry_prefix(c, 1);
        char addr[32];
        snprintf(addr, sizeof addr, "0.0.0.0:%d", GATEWAY_PORT);
        json_array_append_new(entry, json_string("/entrypoint"));
        json_object_set_new(services, SVC_GATEWAY,
                            json_pack("{s:s, s:s, s:o, s:[s, s, s, s], s:[s], s:o}", "image",
                                      TEAM_GATEWAY_IMAGE, "restart", "unless-stopped", "entrypoint",
                                      entry, "command", "run", "--server.address", addr,
                                      "--s3.upload-part-copy.enable", "volumes",
                                      "./secrets-env.sh:/secrets-env.sh:ro", "secrets",
                                      secret_names(c, FOR_GATEWAY)));
    }
    char ports[96];
    snprintf(ports, sizeof ports, "${REGISTRY_BIND:-%s}:${REGISTRY_PORT:-%d}:%d",
             c->o->htpasswd ? "0.0.0.0" : "127.0.0.1", c->o->port, BALANCER_PORT);
    json_t *balancer =
        json_pack("{s:s, s:s, s:[s], s:[s], s:o}", "image", TEAM_HAPROXY_IMAGE, "restart",
                  "unless-stopped", "ports", ports, "volumes",
                  "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro", "depends_on", deps);
    if (balancer && tls(c)) {
        /* HTTPS at the balancer with the tab's certificate; the key file is
         * the user's, 0600, so haproxy starts as root to read it and then
         * runs as haproxy (global user/group in haproxy.cfg) */
        json_object_set_new(balancer, "user", json_string("0:0"));
        json_object_set_new(balancer, "entrypoint",
                            json_pack("[s, s, s, s, s, s]", "/bin/sh", "/secrets-env.sh", "tls.crt",
                                      "tls.key", "--", "docker-entrypoint.sh"));
        json_object_set_new(
            balancer, "command",
            json_pack("[s, s, s]", "haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"));
        json_array_append_new(json_object_get(balancer, "volumes"),
                              json_string("./secrets-env.sh:/secrets-env.sh:ro"));
        json_object_set_new(balancer, "secrets", secret_names(c, FOR_BALANCER));
    }
    json_object_set_new(services, SVC_BALANCER, balancer);
    for (int i = 0; i < c->nsec; i++) {
        char file[96];
        snprintf(file, sizeof file, "./secrets/%s", c->sec[i].file);
        json_object_set_new(secrets, c->sec[i].file, json_pack("{s:s}", "file", file));
    }
    return doc;
}

/* ---- Kubernetes -------------------------------------------------------- */

static json_t *meta(const char *name, const char *app)
{
    return json_pack("{s:s, s:{s:s, s:s}}", "name", name, "labels", "app.kubernetes.io/name", app,
                     "app.kubernetes.io/part-of", K8S_NAME);
}

static json_t *env_secret(const char *var, const char *secret, const char *key)
{
    return json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", var, "valueFrom", "secretKeyRef", "name",
                     secret, "key", key);
}

/* A Secret (stringData) of the bundle's secrets, those of gateway (1) or
 * of the registry (0), or all (-1). */
static json_t *k8s_secret(const struct ctx *c, const char *name, int which)
{
    json_t *data = json_object();
    for (int i = 0; i < c->nsec; i++) {
        const struct secret *sc = &c->sec[i];
        int gw = secret_user(sc) == FOR_GATEWAY;
        if (which >= 0 && gw != which)
            continue;
        char *t = secret_text(c, sc);
        json_object_set_new(data, sc->key, t ? json_string(t) : NULL);
        if (t)
            secret_wipe(t, strlen(t));
        free(t);
    }
    return json_pack("{s:s, s:s, s:o, s:s, s:o}", "apiVersion", "v1", "kind", "Secret", "metadata",
                     meta(name, K8S_NAME), "type", "Opaque", "stringData", data);
}

static json_t *gateway_container(const char *listen, const char *secret)
{
    return json_pack("{s:s, s:s, s:[s, s, s, s], s:[o, o, o], s:[{s:i}]}", "name", "storj-gateway",
                     "image", TEAM_GATEWAY_IMAGE, "args", "run", "--server.address", listen,
                     "--s3.upload-part-copy.enable", "env",
                     env_secret("STORJ_ACCESS", secret, "storjAccessGrant"),
                     env_secret("STORJ_MINIO_ACCESS_KEY", secret, "gatewayAccessKey"),
                     env_secret("STORJ_MINIO_SECRET_KEY", secret, "gatewaySecretKey"), "ports",
                     "containerPort", GATEWAY_PORT);
}

static json_t *redis_docs(const char *name, int port)
{
    json_t *sel = json_pack("{s:s}", "app.kubernetes.io/name", name);
    json_t *dep = json_pack(
        "{s:s, s:s, s:o, s:{s:i, s:o, s:{s:{s:O}, s:{s:[{s:s, s:s, s:[s, s, s, s, s, s, s, s], "
        "s:[{s:i}]}]}}}}",
        "apiVersion", "apps/v1", "kind", "Deployment", "metadata", meta(name, name), "spec",
        "replicas", 1, "selector", json_pack("{s:O}", "matchLabels", sel), "template", "metadata",
        "labels", sel, "spec", "containers", "name", "redis", "image", TEAM_REDIS_IMAGE, "args",
        "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru", "--save", "", "--appendonly",
        "no", "ports", "containerPort", port);
    json_t *svc = json_pack("{s:s, s:s, s:o, s:{s:O, s:[{s:s, s:i, s:i}]}}", "apiVersion", "v1",
                            "kind", "Service", "metadata", meta(name, name), "spec", "selector",
                            sel, "ports", "name", "redis", "port", port, "targetPort", port);
    json_decref(sel);
    return json_pack("[o, o]", dep, svc);
}

static json_t *k8s_docs(const struct ctx *c, char **config_text)
{
    char gw_url[64];
    snprintf(gw_url, sizeof gw_url, "http://127.0.0.1:%d", GATEWAY_PORT);
    json_t *cfg =
        registry_config(c, K8S_REDIS ":6379", gw_url,
                        c->o->htpasswd ? "/etc/distribution/auth/htpasswd" : NULL, K8S_TLS_DIR);
    struct buf b = {0};
    if (!cfg || yamlgen_write(&b, cfg, 0)) {
        json_decref(cfg);
        buf_free(&b);
        return NULL;
    }
    json_decref(cfg);
    *config_text = b.data;
    json_t *sel = json_pack("{s:s}", "app.kubernetes.io/name", K8S_NAME);
    json_t *env = json_pack("[{s:s, s:s}, o, o, o]", "name", "OTEL_TRACES_EXPORTER", "value",
                            "none", env_secret("REGISTRY_HTTP_SECRET", K8S_SECRET, "httpSecret"),
                            env_secret("REGISTRY_STORAGE_S3_ACCESSKEY", K8S_SECRET,
                                       storj(c) ? "gatewayAccessKey" : "s3AccessKey"),
                            env_secret("REGISTRY_STORAGE_S3_SECRETKEY", K8S_SECRET,
                                       storj(c) ? "gatewaySecretKey" : "s3SecretKey"));
    json_t *mounts = json_pack("[{s:s, s:s, s:b}]", "name", "config", "mountPath",
                               "/etc/distribution", "readOnly", 1);
    json_t *vols =
        json_pack("[{s:s, s:{s:s, s:[{s:s, s:s}]}}]", "name", "config", "configMap", "name",
                  K8S_CONFIG, "items", "key", "config.yml", "path", "config.yml");
    if (c->o->htpasswd) {
        json_array_append_new(mounts, json_pack("{s:s, s:s, s:b}", "name", "htpasswd", "mountPath",
                                                "/etc/distribution/auth", "readOnly", 1));
        json_array_append_new(vols, json_pack("{s:s, s:{s:s, s:[{s:s, s:s}]}}", "name", "htpasswd",
                                              "secret", "secretName", K8S_SECRET, "items", "key",
                                              "htpasswd", "path", "htpasswd"));
    }
    if (tls(c)) {
        /* where config.yml's http.tls names them; the key readable by root
         * only in the pod (defaultMode 0400) */
        json_array_append_new(mounts, json_pack("{s:s, s:s, s:b}", "name", "tls", "mountPath",
                                                K8S_TLS_DIR, "readOnly", 1));
        json_array_append_new(vols,
                              json_pack("{s:s, s:{s:s, s:i, s:[{s:s, s:s}, {s:s, s:s}]}}", "name",
                                        "tls", "secret", "secretName", K8S_SECRET, "defaultMode",
                                        0400, "items", "key", "tlsCertificate", "path", "tls.crt",
                                        "key", "tlsKey", "path", "tls.key"));
    }
    json_t *probe =
        json_pack("{s:{s:s, s:i}, s:i}", "httpGet", "path", "/", "port", 5000, "periodSeconds", 10);
    if (probe && tls(c))
        json_object_set_new(json_object_get(probe, "httpGet"), "scheme", json_string("HTTPS"));
    json_t *containers =
        json_pack("[{s:s, s:s, s:[s, s, s], s:o, s:[{s:i}], s:o, s:O, s:o}]", "name", "registry",
                  "image", TEAM_REGISTRY_IMAGE, "command", "registry", "serve", CONFIG_PATH, "env",
                  env, "ports", "containerPort", 5000, "volumeMounts", mounts, "readinessProbe",
                  probe, "livenessProbe", probe);
    if (storj(c)) {
        /* a gateway next to each registry, on the pod's loopback: the
         * grant is used where the registry runs, end-to-end encrypted */
        char listen[32];
        snprintf(listen, sizeof listen, "127.0.0.1:%d", GATEWAY_PORT);
        json_array_append_new(containers, gateway_container(listen, K8S_SECRET));
    }
    json_t *dep =
        json_pack("{s:s, s:s, s:o, s:{s:i, s:{s:O}, s:{s:{s:O}, s:{s:o, s:o}}}}", "apiVersion",
                  "apps/v1", "kind", "Deployment", "metadata", meta(K8S_NAME, K8S_NAME), "spec",
                  "replicas", c->o->replicas, "selector", "matchLabels", sel, "template",
                  "metadata", "labels", sel, "spec", "containers", containers, "volumes", vols);
    json_t *svc = json_pack("{s:s, s:s, s:o, s:{s:s, s:O, s:[{s:s, s:i, s:i}]}}", "apiVersion",
                            "v1", "kind", "Service", "metadata", meta(K8S_NAME, K8S_NAME), "spec",
                            "type", "ClusterIP", "selector", sel, "ports", "name", "registry",
                            "port", c->o->port, "targetPort", 5000);
    json_t *cm =
        json_pack("{s:s, s:s, s:o, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
                  meta(K8S_CONFIG, K8S_NAME), "data", "config.yml", *config_text);
    json_decref(sel);
    json_t *docs = json_pack("[o, o, o, o]", k8s_secret(c, K8S_SECRET, -1), cm, dep, svc);
    json_t *redis = redis_docs(K8S_REDIS, 6379);
    if (docs && redis)
        json_array_extend(docs, redis);
    json_decref(redis);
    return docs;
}

/* Several documents in one file, "---" between them. */
static int add_docs(struct ctx *c, const char *path, const char *header, json_t *docs)
{
    struct buf b = {0};
    if (!docs || buf_printf(&b, "%s", header) || yamlgen_write(&b, docs, YAMLGEN_DOCUMENTS)) {
        if (b.data)
            secret_wipe(b.data, b.len);
        buf_free(&b);
        return err_set(c->e, 500, E_NO_MEMORY, NULL, "could not write %s", path);
    }
    return add_buf(c, path, c->o->include_secrets ? 0600 : 0644, c->o->include_secrets, &b);
}

/* ---- Helm (twuni/docker-registry) -------------------------------------- */

static json_t *helm_values(const struct ctx *c)
{
    char gw_url[64];
    snprintf(gw_url, sizeof gw_url, "http://%s:%d", K8S_GATEWAY, GATEWAY_PORT);
    /* what the chart mounts: secrets.htpasswd at /auth/htpasswd, the Secret
     * named by tlsSecretName in /etc/ssl/docker (it sets both in the
     * environment too) */
    json_t *cfg = registry_config(c, K8S_REDIS ":6379", gw_url,
                                  c->o->htpasswd ? HELM_HTPASSWD_PATH : NULL, HELM_TLS_DIR);
    if (!cfg)
        return NULL;
    json_t *s3cfg = json_object_get(json_object_get(cfg, "storage"), "s3");
    const char *endpoint = json_string_value(json_object_get(s3cfg, "regionendpoint"));
    const char *region = json_string_value(json_object_get(s3cfg, "region"));
    char *ak = NULL, *sk = NULL, *hs = NULL, *ht = NULL;
    ak = secret_text(c, find_secret(c, storj(c) ? "gateway-access-key" : "s3-access-key"));
    sk = secret_text(c, find_secret(c, storj(c) ? "gateway-secret-key" : "s3-secret-key"));
    hs = secret_text(c, find_secret(c, "http-secret"));
    const struct secret *hp = find_secret(c, "htpasswd");
    ht = hp ? secret_text(c, hp) : xstrdup("");
    json_t *v = NULL;
    if (ak && sk && hs && ht)
        v = json_pack("{s:i, s:{s:s, s:s}, s:s, s:{s:s, s:s, s:s, s:s, s:b}, "
                      "s:{s:s, s:s, s:{s:s, s:s}}, s:o}",
                      "replicaCount", c->o->replicas, "image", "repository", "registry", "tag",
                      TEAM_HELM_REGISTRY_TAG, "storage", "s3", "s3", "region", region,
                      "regionEndpoint", endpoint, "bucket", c->s->bucket, "rootdirectory", "/",
                      "secure", strncmp(endpoint, "https://", 8) == 0, "secrets", "haSharedSecret",
                      hs, "htpasswd", ht, "s3", "accessKey", ak, "secretKey", sk, "configData",
                      cfg);
    else
        json_decref(cfg);
    char *all[] = {ak, sk, hs, ht};
    for (int i = 0; i < 4; i++) {
        if (all[i])
            secret_wipe(all[i], strlen(all[i]));
        free(all[i]);
    }
    if (v && !c->o->htpasswd)
        json_object_del(json_object_get(v, "secrets"), "htpasswd");
    if (v)
        json_object_set_new(v, "service",
                            json_pack("{s:s, s:s, s:i}", "name", "registry", "type", "ClusterIP",
                                      "port", c->o->port));
    if (v && tls(c))
        json_object_set_new(v, "tlsSecretName", json_string(HELM_TLS_SECRET));
    return v;
}

/* The Secret the chart mounts for TLS (tlsSecretName): the certificate and
 * its key, or the key's placeholder. */
static json_t *helm_tls_docs(const struct ctx *c)
{
    char *crt = secret_text(c, find_secret(c, "tls.crt"));
    char *key = secret_text(c, find_secret(c, "tls.key"));
    json_t *docs = NULL;
    if (crt && key)
        docs = json_pack("[{s:s, s:s, s:o, s:s, s:{s:s, s:s}}]", "apiVersion", "v1", "kind",
                         "Secret", "metadata", meta(HELM_TLS_SECRET, K8S_NAME), "type",
                         "kubernetes.io/tls", "stringData", "tls.crt", crt, "tls.key", key);
    if (key)
        secret_wipe(key, strlen(key));
    free(crt);
    free(key);
    return docs;
}

static json_t *helm_gateway_docs(const struct ctx *c)
{
    char listen[32];
    snprintf(listen, sizeof listen, "0.0.0.0:%d", GATEWAY_PORT);
    json_t *sel = json_pack("{s:s}", "app.kubernetes.io/name", K8S_GATEWAY);
    json_t *dep =
        json_pack("{s:s, s:s, s:o, s:{s:i, s:{s:O}, s:{s:{s:O}, s:{s:[o]}}}}", "apiVersion",
                  "apps/v1", "kind", "Deployment", "metadata", meta(K8S_GATEWAY, K8S_GATEWAY),
                  "spec", "replicas", 1, "selector", "matchLabels", sel, "template", "metadata",
                  "labels", sel, "spec", "containers", gateway_container(listen, K8S_GATEWAY));
    json_t *svc =
        json_pack("{s:s, s:s, s:o, s:{s:O, s:[{s:s, s:i, s:i}]}}", "apiVersion", "v1", "kind",
                  "Service", "metadata", meta(K8S_GATEWAY, K8S_GATEWAY), "spec", "selector", sel,
                  "ports", "name", "s3", "port", GATEWAY_PORT, "targetPort", GATEWAY_PORT);
    json_decref(sel);
    return json_pack("[o, o, o]", k8s_secret(c, K8S_GATEWAY, 1), dep, svc);
}

/* ---- README and the other texts (backend/templates/) ------------------ */

/* The secrets table's rows of the README: "| name | what: `how` |" */
static int secret_rows(struct buf *b, const struct ctx *c)
{
    int bad = 0;
    for (int i = 0; i < c->nsec && !bad; i++) {
        const struct secret *sc = &c->sec[i];
        if (sc->public)
            continue;
        bad |= buf_printf(b, "| `%s` | %s%s%s%s |\n",
                          c->o->format == TEAM_COMPOSE ? sc->file : sc->key, sc->what,
                          sc->how ? ": `" : "", sc->how ? sc->how : "", sc->how ? "`" : "");
    }
    return bad;
}

/* The commands that fill the compose bundle's secrets/ (placeholders). */
static int secret_commands(struct buf *b, const struct ctx *c)
{
    int bad = 0;
    for (int i = 0; i < c->nsec && !bad; i++)
        bad |= c->sec[i].public ? 0
               : c->sec[i].how  ? buf_printf(b, "%s\n", c->sec[i].how)
               : strcmp(c->sec[i].file, "htpasswd") == 0
                   ? buf_printf(b, "htpasswd -Bbn NAME PASSWORD >> secrets/htpasswd\n")
                   : buf_printf(b, " printf '%%s\\n' 'PASTE-THE-VALUE' > secrets/%s\n",
                                c->sec[i].file);
    return bad;
}

/* Where the README says the secrets go. */
static const char *secrets_where(const struct ctx *c)
{
    if (c->o->format == TEAM_COMPOSE)
        return "the files in `secrets/`";
    if (c->o->format == TEAM_KUBERNETES)
        return "`stringData` of the Secret in `registry.yaml`";
    return storj(c) ? (tls(c) ? "`secrets` in `values.yaml`; `stringData` in "
                                "`storj-gateway.yaml`; `tls.key` in `tls-secret.yaml`"
                              : "`secrets` in `values.yaml`; `stringData` in "
                                "`storj-gateway.yaml`")
                    : (tls(c) ? "`secrets` in `values.yaml`; `tls.key` in `tls-secret.yaml`"
                              : "`secrets` in `values.yaml`");
}

static char *from_template(const struct ctx *c, const char *file)
{
    static const char *const titles[] = {"Storj Registry for a team: Docker Compose",
                                         "Storj Registry for a team: Kubernetes",
                                         "Storj Registry for a team: Helm (twuni/docker-registry)"};
    struct buf rows = {0}, cmds = {0}, servers = {0}, out = {0};
    char replicas[16], port[16], balancer_port[16], replica_list[TEAM_MAX_REPLICAS * 16] = "";
    snprintf(replicas, sizeof replicas, "%d", c->o->replicas);
    snprintf(port, sizeof port, "%d", c->o->port);
    snprintf(balancer_port, sizeof balancer_port, "%d", BALANCER_PORT);
    int bad = secret_rows(&rows, c) || secret_commands(&cmds, c);
    for (int i = 1; i <= c->o->replicas && !bad; i++) {
        snprintf(replica_list + strlen(replica_list), sizeof replica_list - strlen(replica_list),
                 " registry-%d", i);
        bad = buf_printf(&servers, "%s    server registry-%d registry-%d:5000", i > 1 ? "\n" : "",
                         i, i);
    }
    const char *yes = "1";
    const struct tpl_var vars[] = {
        {"title", titles[c->o->format]},
        {"version", SR_VERSION},
        {"mode", settings_mode_name(c->s->mode)},
        {"bucket", c->s->bucket},
        {"endpoint", endpoint_of(c->s)},
        {"storj", storj(c) ? yes : NULL},
        {"tls", tls(c) ? yes : NULL},
        {"users", c->o->htpasswd ? yes : NULL},
        {"included", c->o->include_secrets ? yes : NULL},
        {"compose", c->o->format == TEAM_COMPOSE ? yes : NULL},
        {"unencrypted", c->s->unencrypted_keys && storj(c) ? yes : NULL},
        {"where", secrets_where(c)},
        {"secret_rows", rows.data},
        {"secret_commands", cmds.data},
        {"servers", servers.data},
        {"replica_list", replica_list},
        {"replicas", replicas},
        {"port", port},
        {"balancer_port", balancer_port},
        {"bind", c->o->htpasswd ? "0.0.0.0" : "127.0.0.1"},
        {"placeholder", TEAM_PLACEHOLDER},
        {"secrets_dir", SECRETS_DIR},
        {"config_path", CONFIG_PATH},
        {"registry_image", TEAM_REGISTRY_IMAGE},
        {"gateway_image", TEAM_GATEWAY_IMAGE},
        {"redis_image", TEAM_REDIS_IMAGE},
        {"haproxy_image", TEAM_HAPROXY_IMAGE},
        {"helm_tag", TEAM_HELM_REGISTRY_TAG},
        {"helm_release", HELM_RELEASE},
        {"helm_tls_secret", HELM_TLS_SECRET},
        {"helm_tls_dir", HELM_TLS_DIR},
        {"k8s_name", K8S_NAME},
        {"k8s_secret", K8S_SECRET},
        {"k8s_config", K8S_CONFIG},
        {"k8s_redis", K8S_REDIS},
        {"k8s_gateway", K8S_GATEWAY},
        {"k8s_tls_dir", K8S_TLS_DIR},
    };
    bad = bad || rows.overflow || cmds.overflow ||
          tpl_fill(&out, file, vars, sizeof vars / sizeof *vars);
    buf_free(&rows);
    buf_free(&cmds);
    buf_free(&servers);
    if (bad) {
        buf_free(&out);
        return NULL;
    }
    return out.data ? out.data : strdup("");
}

/* ---- export ------------------------------------------------------------ */

static int collect_secrets(struct ctx *c)
{
    const struct settings *s = c->s;
    const struct team_opts *o = c->o;
    add_secret(c, "http-secret", "httpSecret", o->http_secret,
               "a long random string, the same for every replica (http.secret)",
               "openssl rand -hex 32 > secrets/http-secret");
    if (storj(c)) {
        struct err ge;
        if (o->include_secrets && settings_outgoing_grant(s, &c->grant, &ge))
            return err_set(c->e, 400, E_INVALID_VALUE, "accessGrant", "%s", ge.message);
        add_secret(c, "storj-access-grant", "storjAccessGrant", c->grant,
                   "your Storj access grant (the one saved in the tab)", NULL);
        add_secret(c, "gateway-access-key", "gatewayAccessKey", o->gw_access_key,
                   "an S3 access key the gateway and the registries share (any 20+ letters "
                   "and digits)",
                   "openssl rand -hex 20 > secrets/gateway-access-key");
        add_secret(c, "gateway-secret-key", "gatewaySecretKey", o->gw_secret_key,
                   "the S3 secret key the gateway and the registries share",
                   "openssl rand -hex 32 > secrets/gateway-secret-key");
    } else {
        add_secret(c, "s3-access-key", "s3AccessKey", s->s3_access_key,
                   s->mode == MODE_STORJ_HOSTED ? "the access key of Storj's hosted gateway "
                                                  "(the one the tab holds)"
                                                : "the bucket's S3 access key",
                   NULL);
        add_secret(c, "s3-secret-key", "s3SecretKey", s->s3_secret_key,
                   s->mode == MODE_STORJ_HOSTED ? "its secret key" : "the bucket's S3 secret key",
                   NULL);
    }
    if (o->htpasswd)
        add_secret(c, "htpasswd", "htpasswd", o->htpasswd,
                   "the registry users, bcrypt (`htpasswd -Bbn NAME PASSWORD >> "
                   "secrets/htpasswd`, from apache2-utils)",
                   NULL);
    if (tls(c)) {
        /* the certificate is no secret: always the tab's */
        add_secret(c, "tls.crt", "tlsCertificate", s->tls_cert,
                   "the registry's TLS certificate (PEM)", NULL);
        c->sec[c->nsec - 1].public = 1;
        add_secret(c, "tls.key", "tlsKey", s->tls_key,
                   "the private key of the TLS certificate (PEM, without a passphrase)",
                   "cp KEY.pem secrets/tls.key");
    }
    return 0;
}

static int export_compose(struct ctx *c)
{
    char gw_url[64];
    snprintf(gw_url, sizeof gw_url, "http://%s:%d", SVC_GATEWAY, GATEWAY_PORT);
    json_t *cfg = registry_config(c, SVC_REDIS ":6379", gw_url,
                                  c->o->htpasswd ? SECRETS_DIR "/htpasswd" : NULL, NULL);
    json_t *doc = cfg ? compose_doc(c) : NULL;
    int rc = add_yaml(c, "compose.yaml",
                      "# Storj Registry for a team, written by Storj Registry: see README.md.\n"
                      "# No secret here; they are files in secrets/.\n",
                      doc) ||
             add_config_yml(c, "config.yml", cfg) ||
             add_file(c, "haproxy.cfg", 0644, 0, from_template(c, "haproxy.cfg")) ||
             add_file(c, "secrets-env.sh", 0755, 0, from_template(c, "secrets-env.sh"));
    json_decref(cfg);
    json_decref(doc);
    for (int i = 0; !rc && i < c->nsec; i++) {
        char path[96], *t = secret_text(c, &c->sec[i]), *line = NULL;
        snprintf(path, sizeof path, "secrets/%s", c->sec[i].file);
        if (t && asprintf(&line, "%s%s", t, t[0] && t[strlen(t) - 1] == '\n' ? "" : "\n") < 0)
            line = NULL;
        if (t)
            secret_wipe(t, strlen(t));
        free(t);
        rc = add_file(c, path, c->sec[i].public ? 0644 : 0600, !c->sec[i].public, line);
    }
    return rc || add_file(c, "README.md", 0644, 0, from_template(c, "readme-compose.md"));
}

static int export_k8s(struct ctx *c)
{
    char *config_text = NULL;
    json_t *docs = k8s_docs(c, &config_text);
    free(config_text);
    int rc = add_docs(c, "registry.yaml",
                      "# Storj Registry for a team on Kubernetes, written by Storj Registry: see "
                      "README.md.\n# Untested on a cluster: read before you apply.\n",
                      docs);
    json_decref(docs);
    return rc || add_file(c, "README.md", 0644, 0, from_template(c, "readme-kubernetes.md"));
}

static int export_helm(struct ctx *c)
{
    json_t *v = helm_values(c);
    struct buf b = {0};
    int rc;
    if (!v ||
        buf_printf(&b, "# Values for the twuni/docker-registry chart, written by Storj "
                       "Registry: see README.md.\n# Untested on a cluster.\n") ||
        yamlgen_write(&b, v, 0)) {
        if (b.data)
            secret_wipe(b.data, b.len);
        buf_free(&b);
        json_decref(v);
        return err_set(c->e, 500, E_NO_MEMORY, NULL, "could not write values.yaml");
    }
    json_decref(v);
    rc = add_buf(c, "values.yaml", 0600, 1, &b);
    json_t *redis = rc ? NULL : redis_docs(K8S_REDIS, 6379);
    rc = rc || add_docs(c, "redis.yaml",
                        "# Redis for the registries' blob descriptor cache (the chart has "
                        "none).\n",
                        redis);
    json_decref(redis);
    if (!rc && tls(c)) {
        json_t *t = helm_tls_docs(c);
        rc = add_docs(c, "tls-secret.yaml",
                      "# The certificate and key the chart's registries serve HTTPS with "
                      "(tlsSecretName).\n",
                      t);
        json_decref(t);
    }
    if (!rc && storj(c)) {
        json_t *gw = helm_gateway_docs(c);
        rc = add_docs(c, "storj-gateway.yaml",
                      "# The Storj gateway the chart's registries use (S3 on port 7777).\n", gw);
        json_decref(gw);
    }
    return rc || add_file(c, "README.md", 0644, 0, from_template(c, "readme-helm.md"));
}

int team_export(const struct settings *s, const struct team_opts *o, struct team_bundle *out,
                struct err *e)
{
    memset(out, 0, sizeof *out);
    struct ctx c = {.s = s, .o = o, .out = out, .e = e};
    if (!s->saved)
        return err_set(e, 409, E_NOT_APPLICABLE, NULL,
                       "nothing to share yet: choose a storage mode with a bucket in Settings "
                       "and save");
    if (s->mode == MODE_LOCAL)
        return err_set(e, 409, E_NOT_APPLICABLE, "mode",
                       "a local volume cannot be shared by a team: pick a bucket mode (Storj, "
                       "Storj hosted gateway or S3) in Settings, save, and export again");
    if (s->mode == MODE_STORJ_NATIVE)
        return err_set(e, 409, E_NOT_APPLICABLE, "mode",
                       "the 2022 native driver is kept for one desktop's old buckets; for a "
                       "team, switch to Storj (recommended) with the same grant and bucket, "
                       "save, and export again");
    if (o->replicas < 1 || o->replicas > TEAM_MAX_REPLICAS)
        return err_set(e, 400, E_OUT_OF_RANGE, "replicas", "replicas must be from 1 to %d",
                       TEAM_MAX_REPLICAS);
    if (!s->bucket)
        return err_set(e, 400, E_MISSING_FIELD, "bucket", "save a bucket first");
    json_t *probe = regconfig_registry(s, 0);
    if (!probe)
        return err_set(e, 400, E_MISSING_FIELD,
                       s->mode == MODE_STORJ ? "accessGrant" : "s3.secretKey",
                       "the saved settings are incomplete for this mode: complete them in "
                       "Settings and save");
    json_decref(probe);
    int rc = collect_secrets(&c);
    if (!rc)
        rc = o->format == TEAM_COMPOSE      ? export_compose(&c)
             : o->format == TEAM_KUBERNETES ? export_k8s(&c)
                                            : export_helm(&c);
    secret_free(&c.grant);
    return rc ? -1 : 0;
}

void team_bundle_free(struct team_bundle *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->files[i].secret && b->files[i].content)
            secret_wipe(b->files[i].content, strlen(b->files[i].content));
        free(b->files[i].path);
        free(b->files[i].content);
    }
    free(b->files);
    memset(b, 0, sizeof *b);
}

json_t *team_bundle_json(const struct team_bundle *b, const struct team_opts *o)
{
    json_t *files = json_array();
    for (size_t i = 0; files && i < b->n; i++) {
        char mode[8];
        snprintf(mode, sizeof mode, "%04o", (unsigned)b->files[i].mode);
        json_t *f = json_pack("{s:s, s:s, s:b, s:s}", "path", b->files[i].path, "mode", mode,
                              "secret", b->files[i].secret, "content", b->files[i].content);
        if (!f || json_array_append_new(files, f)) {
            json_decref(files);
            return NULL;
        }
    }
    if (!files)
        return NULL;
    return json_pack("{s:s, s:i, s:i, s:b, s:o}", "format", team_format_name(o->format), "replicas",
                     o->replicas, "port", o->port, "includeSecrets", o->include_secrets, "files",
                     files);
}
