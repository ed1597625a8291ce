/* The index of what the registry holds: one SQLite file in the state
 * folder (WAL), so that browsing, search, pull statistics and sizes answer
 * from it at once instead of from the registry's API on Storj.
 *
 * It is a cache of the registry, never its truth: it is filled by reading
 * the registry whole (rix_put_repo, with what scan_repo read) and nudged by
 * the registry's notifications (rix_event), which are hints: they arrive
 * late, unordered, or not at all. What the registry says wins.
 *
 * Times are Unix seconds (0: unknown). Writes are serialised on one
 * connection, reads run on another (WAL: a reader never waits for a
 * writer). Each write is committed before the call returns. */
#ifndef SR_REGINDEX_H
#define SR_REGINDEX_H

#include <jansson.h>

#include "util.h"

/* the schema this code writes (PRAGMA user_version) */
#define RIX_VERSION 1

struct rix;

/* Opens (creates) the index at path. A file that is not a database, fails
 * its check, or was written by a newer version is set aside as
 * path.broken-<time> (and its -wal, -shm) and an empty index is made; then
 * *why says why (the status shows it), else *why is "". NULL with e when
 * no index can be made at all. */
struct rix *rix_open(const char *path, char *why, size_t why_len, struct err *e);
void rix_close(struct rix *x);

/* What one complete reading of repository name (scan_repo's answer, with
 * its "manifests") makes true, read from started (Unix seconds) on: its
 * tags and their images become exactly what was read, except a tag an
 * event moved after started (the event is newer than the reading). A tag
 * whose digest did not change keeps its push time and pusher. A reading
 * that is not complete only adds what it read. A repository with no tags
 * is removed. 0, or -1 with e. */
int rix_put_repo(struct rix *x, json_t *scan, long long started, struct err *e);

/* Removes every repository not named in names (a catalog read whole). */
int rix_keep_only(struct rix *x, json_t *names, struct err *e);

/* One notification of the registry (an element of its envelope's
 * "events"), applied: a manifest pushed with a tag moves the tag (when it
 * is newer than what the index has), a manifest GET counts a pull of that
 * image in that repository (not a HEAD, not a blob, not own_agent's or
 * own_actor's reads), a delete removes the tags of that digest, or the tag,
 * or the repository. *look (may be NULL) is set to 1 when the repository
 * should be read again (facts the event does not carry). 0 (also for an
 * event it ignores), -1 with e when it could not be stored. */
int rix_event(struct rix *x, json_t *event, const char *own_actor, int *look, struct err *e);

/* The tag and image rows of one repository gone (the backend deleted the
 * image digest itself). */
int rix_forget_image(struct rix *x, const char *repo, const char *digest, struct err *e);

/* A page of repositories:
 * {"repositories": [{"name", "size", "tagCount", "pushed", "lastPulled",
 *    "pulls", "tags": [{"tag", "digest", "kind", "mediaType", "size",
 *    "created", "pushed", "pushedBy", "lastPulled", "pulls",
 *    "platforms": [{"platform", "digest", "size"}]}]}],
 *  "total", "totalKnown": true, "offset", "nextOffset", "totalSize"}
 * q (may be NULL or ""): repositories whose name holds q, or that have a tag
 * holding q (then only those tags); sort: "name", "pushed", "pulled",
 * "size"; desc: newest / biggest first. Times RFC 3339 UTC or null. */
json_t *rix_repositories(struct rix *x, const char *q, const char *sort, int desc, long offset,
                         long limit, struct err *e);

/* The facts of digest as scan_repo's "manifests" hold them, or NULL. */
json_t *rix_facts(struct rix *x, const char *digest);

/* Repositories and tags the index holds. */
int rix_counts(struct rix *x, long long *repos, long long *tags);

/* Adds to each tag of repo (scan_repo's answer) what the index knows of
 * it on that image, as retention_plan takes it: "pushed", "seen",
 * "lastPulled", "pullsSince" (RFC 3339 UTC or null; all null when the
 * index knows the tag on another image or not at all). 0, or -1 when a
 * part could not be read (those stay null: unknown). */
int rix_annotate(struct rix *x, json_t *repo);

/* retention_plan's input from the index alone: every repository for which
 * wanted says 1, with its tags (digest, created, size, and the times of
 * rix_annotate) and the children of every index they reach; "complete" is
 * false (with "problem") for a repository the last reading did not read
 * whole, or with an image whose facts the index lacks. New array, or NULL. */
json_t *rix_plan_input(struct rix *x, int (*wanted)(void *ctx, const char *name), void *ctx);

/* Notes that the registry's events arrive (the first time: from now on
 * pulls are counted: "pullsSince"). */
int rix_note_events(struct rix *x, long long now);

/* Gives back the page caches and the kept statements of both connections
 * (idle). */
void rix_release(struct rix *x);

/* meta values (reconciledAt...) */
int rix_meta_set(struct rix *x, const char *key, const char *value);
int rix_meta_get(struct rix *x, const char *key, char *out, size_t len);

#endif
