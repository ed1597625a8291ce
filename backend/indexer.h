/* Keeps the index (regindex.h) equal to the registry: a thread that reads
 * the registry whole (reconciliation) when the registry comes up, on
 * Refresh, every few minutes (writers the backend does not hear: team
 * replicas, other desktops on the bucket) and when events may have been
 * lost; the registry's notifications (events.h), stored as they come, with
 * the repository they name read again soon after. Paced below the
 * storage's request limit. One per process (indexer_start). */
#ifndef SR_INDEXER_H
#define SR_INDEXER_H

#include <jansson.h>

#include "util.h"

/* How to reach the registry now: filled by the access callback, which
 * answers 0 when the registry runs and may be read, -1 otherwise. */
struct indexer_access {
    char base[128]; /* "http://127.0.0.1:9999" */
    char user[96], password[96], pin[80];
};

struct indexer_opts {
    const char *state_dir;
    /* the address the registry reaches the backend at (the registry in the
     * host network: 127.0.0.1; published on a bridge: the bridge's gateway)
     * and the port to prefer (0: the one used before, else any) */
    const char *events_ip;
    int events_port;
    double rate;   /* registry requests a second while reading (0: 50) */
    long period_s; /* a reconciliation at least this often (0: 300) */
    int (*access)(void *ctx, struct indexer_access *a);
    void *access_ctx;
};

/* Opens the index (a broken one is set aside and rebuilt) and starts the
 * listener and the thread. 0, or -1 with e (the backend runs without an
 * index then: browsing reads the registry). */
int indexer_start(const struct indexer_opts *o, struct err *e);
void indexer_stop(void);

/* The ctx the access callback gets from now on (NULL until set: the
 * registry counts as not running). */
void indexer_set_access_ctx(void *ctx);

/* 1 when an index is open. */
int indexer_ready(void);

/* The URL and token the registry's configuration names (notifications),
 * or "" when there is no listener. */
void indexer_events(char *url, size_t url_len, char *token, size_t token_len);

/* "index": {"state", "repositories", "tags", "reconciledAt", "progress",
 * "problem", "events"} as JSON text (new string), or NULL. */
char *indexer_status_text(void);

/* A reconciliation soon (Refresh). */
void indexer_refresh(void);

/* The backend deleted an image itself. */
void indexer_forget(const char *repo, const char *digest);

/* GET /api/repositories from the index (rix_repositories), with "index"
 * {"state", "reconciledAt"}. NULL with e (409 when there is no index). */
json_t *indexer_repositories(const char *q, const char *sort, const char *order, const char *offset,
                             const char *limit, struct err *e);

/* Makes the clean-up's readings through io take the index's push and
 * pull times (rix_annotate) for every repository they read. */
struct scan_io;
void indexer_io(struct scan_io *io);

/* The clean-up rules' input from the index (rix_plan_input) for the
 * repositories a rule of rules matches, as of the last whole reading
 * (as_of, RFC 3339 UTC); NULL when there is no index or it was never read
 * whole (then the registry is read). */
json_t *indexer_plan_input(json_t *rules, char *as_of, size_t len);

#endif
