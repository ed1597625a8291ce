/* "Run this for my team": the saved settings as a deployment other machines
 * run on the same bucket (a compose bundle, Kubernetes manifests, or values
 * for the twuni/docker-registry Helm chart). Pure: settings and options in,
 * a list of files out; team_fresh_secrets is the one function that reads
 * the kernel's random numbers. */
#ifndef SR_TEAM_H
#define SR_TEAM_H

#include <jansson.h>
#include <stddef.h>

#include "settings.h"
#include "util.h"

#define TEAM_DEFAULT_REPLICAS 2
#define TEAM_MAX_REPLICAS 16
#define TEAM_DEFAULT_PORT 5000

/* The public images the bundle names (a bundle runs on other machines, so
 * never the images this backend was told to use for tests or mirrors). */
#define TEAM_REGISTRY_IMAGE "registry:3"
#define TEAM_GATEWAY_IMAGE "storjlabs/gateway:1.11.0"
#define TEAM_REDIS_IMAGE "redis:7"
#define TEAM_HAPROXY_IMAGE "haproxy:2.8"
#define TEAM_HELM_REGISTRY_TAG "3.0.0"

/* Every placeholder starts with this, so that the bundle's entrypoint can
 * refuse to start a container whose secret file still holds one. */
#define TEAM_PLACEHOLDER "REPLACE-ME"

enum team_format { TEAM_COMPOSE, TEAM_KUBERNETES, TEAM_HELM };

struct team_opts {
    enum team_format format;
    int replicas;        /* 1..TEAM_MAX_REPLICAS */
    int port;            /* where the balancer (compose) or Service (k8s) answers */
    int include_secrets; /* the user asked for the real secrets in the files */
    /* Fresh per export (team_fresh_secrets), used only with include_secrets:
     * the registries' shared http.secret and, in storj mode, the key pair
     * between the registries and the gateway. Never the installation's own. */
    char http_secret[65];
    char gw_access_key[41];
    char gw_secret_key[65];
    /* The registry users' htpasswd (bcrypt "name:hash" lines), or NULL when
     * there are no users. Hook for backend/users.c: the API passes the
     * users' lines here once users exist, never the line of the backend's
     * own internal credential (a team registry has no use for it).
     * Borrowed. */
    const char *htpasswd;
};

struct team_file {
    char *path;    /* relative, '/'-separated */
    int mode;      /* 0644, 0600 (secrets), 0755 (scripts) */
    int secret;    /* 1: holds a secret or its placeholder */
    char *content; /* NUL-terminated text */
};

struct team_bundle {
    struct team_file *files;
    size_t n;
};

/* Defaults: compose, 2 replicas, port 5000, no secrets, no users. */
void team_opts_init(struct team_opts *o);

/* Reads a POST /api/team/export body ({format?, replicas?, includeSecrets?,
 * port?}) into o (initialised by the caller with team_opts_init). 0, or -1
 * with a 400 in e naming the field (unknown fields too). Pure. */
int team_opts_parse(json_t *body, struct team_opts *o, struct err *e);

/* Fills the per-export secrets of o from the kernel. 0 or -1. */
int team_fresh_secrets(struct team_opts *o);

/* Wipes the secrets o holds. */
void team_opts_wipe(struct team_opts *o);

/* The deployment for s with o, into out (zeroed by this call; free with
 * team_bundle_free even on error). 0, or -1 with e: 409 not_applicable for
 * modes a team cannot share (local, storj-native) and for settings never
 * saved, 400 naming a field the mode still needs, 500 on memory. Without
 * include_secrets no secret of s or o appears in any file (placeholders
 * starting with TEAM_PLACEHOLDER instead). Pure. */
int team_export(const struct settings *s, const struct team_opts *o, struct team_bundle *out,
                struct err *e);

/* Frees the files (secret ones wiped first). */
void team_bundle_free(struct team_bundle *b);

/* The answer of the API: {"format","replicas","includeSecrets","files":
 * [{"path","mode" (octal text),"secret","content"}]}. New reference. */
json_t *team_bundle_json(const struct team_bundle *b, const struct team_opts *o);

const char *team_format_name(enum team_format f);

#endif
