/* What the registry holds, read through its own HTTP API (/v2/): the
 * repositories, their tags, what each tag points at and how big it is; and
 * deleting an image by digest. Knows the distribution API, not Docker's. */
#ifndef SR_BROWSE_H
#define SR_BROWSE_H

#include <jansson.h>

#include "util.h"

#define BROWSE_MAX_REPOS 500
#define BROWSE_MAX_TAGS 200
#define BROWSE_MAX_RESPONSE (4 * 1024 * 1024)
/* past this many seconds the listing stops and says it is truncated */
#define BROWSE_DEADLINE_S 20

/* The facts of one manifest document (pure): "kind" ("image" or "index"),
 * "mediaType", "size" (config + layers, compressed; 0 for an index),
 * "layers" (count), "config" digest, and for an index "manifests" [digest]
 * with "platforms" ["linux/amd64", ...]. New reference, or NULL when the
 * document is no manifest. */
json_t *browse_manifest_facts(json_t *manifest);

/* Repositories, tags, digests and sizes of the registry at base (e.g.
 * "http://127.0.0.1:9999"): {"repositories":[{"name","tags":[{"tag","digest",
 * "mediaType","kind","size","layers","platforms"}],"size"}],"totalSize",
 * "truncated"}; sizes count each blob once. New reference or NULL with e. */
json_t *browse_repositories(const char *base, struct err *e);

/* 1 when name is a repository name the registry accepts (lowercase
 * components of [a-z0-9._-] separated by '/'), digest "sha256:" + 64 hex. */
int browse_name_valid(const char *name);
int browse_digest_valid(const char *digest);

/* Deletes the manifest (and every tag that points at it). 0 or -1. */
int browse_delete(const char *base, const char *name, const char *digest, struct err *e);

#endif
