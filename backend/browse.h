/* What the registry holds, read through its own HTTP API (/v2/): the
 * repositories, their tags, what each tag points at and how big it is; and
 * deleting an image by digest. Knows the distribution API, not Docker's.
 *
 * A listing follows the registry's pagination (n/last, the Link header) for
 * the catalog and for each repository's tags, reads up to
 * BROWSE_CONCURRENCY repositories at a time, keeps the facts of manifests
 * by digest (a digest never changes meaning) in a bounded cache, and stops
 * at a monotonic deadline, answering what it read. */
#ifndef SR_BROWSE_H
#define SR_BROWSE_H

#include <jansson.h>

#include "util.h"

/* repositories in one answer (the default and the largest "limit") */
#define BROWSE_MAX_REPOS 1000
/* repository names read from the catalog, in pages of BROWSE_PAGE */
#define BROWSE_MAX_CATALOG 100000
#define BROWSE_PAGE 1000
/* tags read per repository (past it the answer says truncated) */
#define BROWSE_MAX_TAGS 1000
/* one registry answer (a catalog page, a tag list, a manifest) */
#define BROWSE_MAX_RESPONSE (4 * 1024 * 1024)
/* requests in flight to the registry during a listing (the default, and
 * the most browse_set_concurrency takes) */
#define BROWSE_CONCURRENCY 32
#define BROWSE_MAX_CONCURRENCY 256
/* manifest facts kept by digest, about 0.5 KiB each */
#define BROWSE_CACHE_MAX 4096
/* past this many seconds the listing stops and says it is truncated */
#define BROWSE_DEADLINE_S 20

/* How the backend reaches its registry: HTTP basic auth (a registry with
 * users asks for it, users.h) and, for a registry with its own TLS
 * certificate, that certificate's key pin (tlscert.h). Any may be NULL. */
struct browse_login {
    const char *user, *password;
    const char *tls_pin;
};

/* The facts of one manifest document (pure): "kind" ("image" or "index"),
 * "mediaType", "size" (config + layers, compressed; 0 for an index),
 * "layers" (count), "config" digest, and for an index "manifests" [digest]
 * with "platforms" ["linux/amd64", ...]. New reference, or NULL when the
 * document is no manifest. */
json_t *browse_manifest_facts(json_t *manifest);

/* The path of the next page named by a Link header value (pure):
 * `</v2/_catalog?last=a&n=2>; rel="next"` gives "/v2/_catalog?last=a&n=2".
 * Only a relative /v2/ path is taken (never another host). 0, or -1 when
 * there is no next page. */
int browse_next_page(const char *link, char *path, size_t len);

/* Parses the paging arguments of GET /api/repositories (either may be NULL:
 * offset 0, limit BROWSE_MAX_REPOS). 0, or -1 with a 400 naming the field. */
int browse_page_args(const char *offset, const char *limit, long *off, long *lim, struct err *e);

/* Repositories off .. off+lim-1 (catalog order) of the registry at base
 * (e.g. "http://127.0.0.1:9999"): {"repositories":[{"name","tags":[{"tag",
 * "digest","mediaType","kind","size","layers","platforms"}],"size"}],
 * "totalSize" (the page's blobs, each once), "total" (repositories in the
 * catalog), "offset", "nextOffset" (null at the end), "truncated" (more
 * than this page: see nextOffset)}. New reference or NULL with e. */
json_t *browse_repositories_page(const char *base, const struct browse_login *login, long off,
                                 long lim, struct err *e);

/* browse_page_args, then browse_repositories_page: the query arguments
 * offset and limit (either may be NULL) as the API takes them. */
json_t *browse_repositories(const char *base, const struct browse_login *login, const char *offset,
                            const char *limit, struct err *e);

/* Sets how many requests a listing has in flight (benchmarks, tests). */
void browse_set_concurrency(int n);

/* Forgets the cached manifest facts (tests; memory). */
void browse_cache_clear(void);

/* 1 when name is a repository name the registry accepts (lowercase
 * components of [a-z0-9._-] separated by '/'), digest "sha256:" + 64 hex. */
int browse_name_valid(const char *name);
int browse_digest_valid(const char *digest);

/* What the registry's answer (HTTP status) to a manifest DELETE means
 * (pure): 0 (202), or -1 with e: 404 (not there), 409 E_DELETE_DISABLED
 * (405: the registry refuses deletes), 502 otherwise. */
int browse_delete_answer(long status, const char *name, const char *digest, struct err *e);

/* What GET /api/repositories/{name}/manifests/{digest} reads at most:
 * platforms of an index, layers of each, and the answer as JSON text (past
 * it, labels and then platforms are left out and "truncated" is true). */
#define BROWSE_IMAGE_MAX_PLATFORMS 64
#define BROWSE_IMAGE_MAX_LAYERS 512
#define BROWSE_IMAGE_MAX_ANSWER (256 * 1024)

/* One platform of an image (pure), from its manifest and its config blob
 * (config may be NULL: not readable): {"platform" (hint, the platform
 * an index names it with; else the config's os/architecture[/variant]; else
 * "unknown"), "digest",
 * "mediaType", "size" (config + layers), "created" (the config's, or null),
 * "layers":[{"digest","size","mediaType"}] (at most
 * BROWSE_IMAGE_MAX_LAYERS, then "layersTruncated" true), "labels" (the
 * config's config.Labels, string values only)}. New reference, or NULL when
 * manifest is no image manifest. */
json_t *browse_platform_entry(json_t *manifest, json_t *config, const char *digest,
                              const char *hint);

/* One image of the registry at base: {"name","digest","mediaType",
 * "platforms":[browse_platform_entry...],"truncated"}: one platform for an
 * image manifest, one per child for an index (attestations, platform
 * unknown/unknown, left out; children not pushed too). NULL with e: 400
 * naming name or digest, 404 when the registry has no such image, 502/503
 * when it cannot be read. */
json_t *browse_image(const char *base, const struct browse_login *login, const char *name,
                     const char *digest, struct err *e);

/* Deletes the manifest (and every tag that points at it). 0 or -1. */
int browse_delete(const char *base, const struct browse_login *login, const char *name,
                  const char *digest, struct err *e);

#endif
