/* Reading repositories whole, for the clean-up rules: every tag (the
 * registry's Link pagination, no cap), the digest each points at, the
 * children of every index reached (nested too), each image's creation time
 * and size. A repository is either read whole or marked incomplete with the
 * reason; nothing in between (a clean-up must never decide on half the
 * truth).
 *
 * The registry is reached through a struct scan_io, so that the same code
 * runs against the real registry (scan_io_http) and against models and
 * fuzzers in the tests. A request that fails in a way that may pass (no
 * answer, HTTP 5xx, 429) is tried SCAN_TRIES times with a growing pause;
 * a 404 means "not there". */
#ifndef SR_SCAN_H
#define SR_SCAN_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

/* tries of one request that fails in a way that may pass */
#define SCAN_TRIES 4
/* tags of one repository, catalog entries: past this the repository (the
 * catalog) counts as not read whole */
#define SCAN_MAX_TAGS 200000
#define SCAN_MAX_REPOS 100000
/* an index of an index of ... this deep at most; deeper counts as unread */
#define SCAN_MAX_DEPTH 4
/* readers of one repository's tags at a time (the most scan_repo starts) */
#define SCAN_THREADS 8
/* one answer (a tag page, a manifest, a config) */
#define SCAN_MAX_RESPONSE (4 * 1024 * 1024)

/* One answer of the registry. body is owned by the reply: free with
 * buf_free (scan does). */
struct scan_reply {
    long status; /* HTTP status; 0 when nothing answered */
    struct buf body;
    char digest[80]; /* Docker-Content-Digest, "" when absent */
    char link[768];  /* Link, "" when absent */
    /* the answer names a next page (a Link with rel="next"), also one too
     * long for link: a page that cannot be followed is a reading not whole */
    int next;
};

/* How scan reaches the registry. call sends method ("GET", "HEAD",
 * "DELETE") for path ("/v2/...") from reader `worker` (0 ..
 * SCAN_THREADS-1; calls with different workers may run at the same time,
 * calls with the same one never do) and fills r. 0 when an answer came (any
 * status), -1 when none did (r->status 0). cancelled (may be NULL) says
 * whether to give up (a stop, a shutdown); pause (may be NULL) sleeps ms
 * between tries (tests make it free). */
struct scan_io {
    int (*call)(void *ctx, int worker, const char *method, const char *path, struct scan_reply *r);
    int (*cancelled)(void *ctx);
    void (*pause)(void *ctx, long ms);
    void *ctx;
    int threads; /* readers to use, 1 .. SCAN_THREADS (0: SCAN_THREADS) */
    /* the readers of a scan_repo are workers worker_base .. worker_base +
     * threads - 1 (several readings at once each take their own; the sum
     * stays within SCAN_THREADS) */
    int worker_base;
    /* optional: how far a reading is, told as it goes (from any reader,
     * never with a lock of scan's held): repository repo, number repo_at
     * (from 0) of repos, tags_done of its tags_total read. cleanup_read
     * sets repo_at and repos. */
    void (*progress)(void *pctx, const char *repo, size_t repo_at, size_t repos, size_t tags_done,
                     size_t tags_total);
    void *pctx;
    size_t repo_at, repos;
    /* optional: adds to a repository read (scan_repo's answer) what else
     * is known of its tags (the index's push and pull times); the clean-up
     * calls it on every repository it reads */
    void (*annotate)(void *actx, json_t *repo);
    void *actx;
};

/* The real registry at base ("http://127.0.0.1:9999") with an optional
 * login (NULL members: none); one kept-alive connection per reader. Fill
 * with scan_io_http_init, release with scan_io_http_free. */
struct scan_http;
struct scan_io_login {
    const char *user, *password, *tls_pin;
};
int scan_io_http_init(struct scan_io *io, const char *base, const struct scan_io_login *login,
                      int (*cancelled)(void *), void *cancel_ctx);
void scan_io_http_free(struct scan_io *io);
/* Paces the requests of io (scan_io_http) to at most per_s a second across
 * all its readers (0: no pacing): a reading that runs in the background
 * stays below the storage's request limit. */
void scan_io_http_pace(struct scan_io *io, double per_s);

/* A second place for the facts of a digest, asked when the process's cache
 * has none (the index, so that a reading after a restart costs one HEAD
 * per tag): get answers a new reference to facts as scan_repo's
 * "manifests" hold them, or NULL. NULL get: none. */
void scan_facts_source(json_t *(*get)(void *ctx, const char *digest), void *ctx);

/* Every repository name of the catalog, following its pages. New array, or
 * NULL with e (the catalog could not be read whole: a clean-up then does
 * nothing). */
json_t *scan_catalog(struct scan_io *io, struct err *e);

/* Everything the clean-up rules need of repository name:
 *   {"name",
 *    "complete": true | false,
 *    "problem": "3 of 1204 tags could not be read: ..." (when not complete),
 *    "tags": [{"tag", "digest", "created" (RFC 3339 UTC to the second, or
 *              null when unknown or no real moment; for an index the time
 *              of the first manifest it names, in order, whose platform is
 *              not "unknown" (attestations) and that has one), "size"
 *              (bytes, config + layers; for an index its platforms' blobs,
 *              each once)}],
 *    "children": {digest: [digest, ...]}  (every index reached from a tag,
 *              nested ones too: the manifests it names),
 *    "manifests": {digest: {"kind": "image"|"index"|"other", "mediaType"?,
 *              "created", "blobs": {digest: size} (an index: its
 *              platforms' blobs), "children": [digest], "platform"?
 *              ("linux/amd64", an image whose config names one),
 *              "platforms"? ([{digest, platform}], an index)}}
 *              (only when complete)}
 * A tag deleted while it was read is left out; a repository whose every
 * tag is gone has "tags": []. New reference, NULL only when out of memory.
 * Facts of a digest are cached in the process (a digest never changes
 * meaning), so that reading again costs a tags list and one HEAD per tag. */
json_t *scan_repo(struct scan_io *io, const char *name);

/* Deletes the manifest digest of repository name (and with it every tag on
 * it), tried like a read. 0 (also a 404 after a try that failed: the
 * failed try deleted it); -1 with e: 404 (not there), 409
 * E_DELETE_DISABLED (the registry refuses deletes), 502/503 otherwise. */
int scan_delete(struct scan_io *io, const char *name, const char *digest, struct err *e);

/* Forgets the cached facts (tests; memory). */
void scan_cache_clear(void);

#endif
