/* The containers the settings call for: Docker create bodies, the files put
 * into them before start, and a hash that says when a running container no
 * longer matches. Pure. */
#ifndef SR_SPEC_H
#define SR_SPEC_H

#include <jansson.h>

#include "settings.h"
#include "util.h"

#define SPEC_LABEL_PREFIX "io.storj.registry"
#define SPEC_LABEL_MANAGED SPEC_LABEL_PREFIX ".managed"
#define SPEC_LABEL_ROLE SPEC_LABEL_PREFIX ".role"
#define SPEC_LABEL_HASH SPEC_LABEL_PREFIX ".spec"
#define SPEC_LABEL_MODE SPEC_LABEL_PREFIX ".mode"
#define SPEC_REGISTRY_NAME "storj-registry"
#define SPEC_GATEWAY_NAME "storj-registry-gateway"
#define SPEC_VOLUME "storj-registry-data"
/* The Docker Hub cache (settings.h): a registry in proxy mode. Its storage
 * root is never the push registry's: in local mode a volume of its own, in
 * the S3 modes the prefix SPEC_CACHE_PREFIX in the same bucket (the push
 * registry keeps docker/ at the bucket's root). */
#define SPEC_CACHE_NAME "storj-registry-cache"
#define SPEC_CACHE_VOLUME "storj-registry-cache"
#define SPEC_CACHE_PREFIX "docker-hub-cache"
/* Where the cache listens inside the gateway's network namespace (storj
 * mode, publish): the registry has 5000 there. */
#define SPEC_CACHE_INNER_PORT 5001
/* The self-hosted gateway's S3 port: published (publish mode) on 127.0.0.1
 * with a port Docker picks, read back from inspect, so the backend can
 * check the storage through the gateway; in host mode it is
 * REGCONFIG_GATEWAY_ADDR itself. */
#define SPEC_GATEWAY_S3_PORT "7777/tcp"
#define SPEC_GATEWAY_PUBLISHED_ADDR "0.0.0.0:7777"

struct spec_opts {
    const char *registry_image;
    const char *gateway_image;
    const char *native_image;
    int host_network;
};

/* One container to create. */
struct spec_container {
    const char *role; /* "registry", "gateway" or "cache" */
    const char *name;
    char *image;
    json_t *create; /* body of POST /containers/create */
    struct buf tar; /* archive to PUT at / before start (holds secrets; the
                     * registry's also its htpasswd, settings.htpasswd) */
};

#define SPEC_MAX 3
struct spec_set {
    int count; /* the gateway first (storj), the registry, the cache last */
    struct spec_container c[SPEC_MAX];
    char hash[65]; /* sha256 over salt and everything above, as a label */
};

/* Builds the containers for s. Returns 0, or -1 with e filled. out is
 * initialised by this call; free it with spec_free in every case. */
int spec_build(const struct settings *s, const struct spec_opts *o, struct spec_set *out,
               struct err *e);
void spec_free(struct spec_set *set);
/* The container of the set with that role, or NULL. */
struct spec_container *spec_find(struct spec_set *set, const char *role);

/* A one-file ustar archive (mode 0600, uid 0) appended to out. 0 or -1. */
int spec_tar_file(struct buf *out, const char *path, const void *data, size_t len);

/* The registry's htpasswd (users.h) as a one-file archive for
 * REGCONFIG_HTPASSWD_PATH, its modification time later than any made
 * before by this process, so that a running registry 3 reads it again. */
int spec_tar_htpasswd(struct buf *out, const char *htpasswd);

/* The content of a regular file in a tar archive: the entry whose path is
 * name (a leading "/" or "./" ignored on both sides), or with name NULL the
 * first regular file (what GET /containers/{id}/archive answers for one
 * file, named by its base name). pax and GNU long-name headers and other
 * entry types are skipped. 0 with *data pointing into tar and *len; -1 when
 * there is no such file or the archive is malformed (checksum, sizes). */
int spec_tar_find(const void *tar, size_t tar_len, const char *name, const char **data,
                  size_t *len);

/* Where a container of the set keeps its configuration file. */
const char *spec_config_path(const struct spec_container *sc);

enum spec_config {
    SPEC_CONFIG_OWN,     /* byte for byte what sc puts in */
    SPEC_CONFIG_OTHER,   /* missing, unreadable or different */
    SPEC_CONFIG_READONLY /* different, with storage.maintenance.readonly on:
                          * what a clean-up puts in for its time (gc.c) */
};
/* How the configuration in a container (found: the tar Docker answered
 * for spec_config_path, or NULL) compares with the one sc puts in. */
enum spec_config spec_config_compare(const struct spec_container *sc, const void *found,
                                     size_t found_len);

/* The create body of the garbage-collection container: the registry's own
 * (registry_create, from spec_build), running `garbage-collect` once with
 * no port published and the role label "gc". untagged: also delete
 * manifests no tag names (safe on distribution 3 only). New reference, or
 * NULL when out of memory. */
json_t *spec_gc_container(json_t *registry_create, int untagged);

/* What a container (its inspect answer, or its create body under "Config")
 * is to the clean-up: 2 a garbage-collect container of ours
 * (spec_gc_container), 1 another one-shot container of ours by that name
 * (the version probe), 0 not ours. */
int spec_gc_kind(json_t *inspect);

#endif
