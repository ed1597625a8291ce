/* A Docker Engine API client over the engine's Unix socket, with libcurl.
 * Knows containers, images, volumes and streams; knows nothing about the
 * registry. Thread-safe: every call uses its own curl handle. */
#ifndef SR_DOCKER_H
#define SR_DOCKER_H

#include <jansson.h>
#include <pthread.h>

#include "dstream.h"
#include "util.h"

#define DOCKER_MAX_RESPONSE (4 * 1024 * 1024)
#define DOCKER_MAX_LOGS (2 * 1024 * 1024)
/* Newest API version this client was written against; older engines are
 * spoken to in their own version, down to DOCKER_MIN_API. */
#define DOCKER_MAX_API_MAJOR 1
#define DOCKER_MAX_API_MINOR 47
#define DOCKER_MIN_API_MINOR 40

struct docker {
    char *socket;
    pthread_mutex_t mu;
    int negotiated;
    char api[16];           /* "1.41" */
    char version[64];       /* engine version, e.g. "20.10.24+dfsg1" */
    volatile int cancelled; /* set once: every transfer stops */
};

/* Makes every running and later call fail at once (shutdown). */
void docker_cancel(struct docker *d);

int docker_init(struct docker *d, const char *socket_path);
void docker_cleanup(struct docker *d);

/* GET /version: picks min(engine's ApiVersion, ours), refusing engines older
 * than 1.40 (docker_too_old) and engines whose MinAPIVersion is above ours
 * (docker_too_new). 0 or -1 (e->status 503 when the engine does not answer). */
int docker_negotiate(struct docker *d, struct err *e);
/* Forgets the negotiated version: the engine may come back upgraded. */
void docker_forget(struct docker *d);
/* 1 once a version was negotiated. */
int docker_negotiated(struct docker *d);
/* Copies the negotiated versions out (empty strings before negotiation). */
void docker_versions(struct docker *d, char *api, size_t api_len, char *ver, size_t ver_len);

/* One API call. path starts with '/' and is prefixed with the negotiated
 * version. body may be NULL. *status gets the HTTP status; out (may be NULL)
 * the body, capped. Returns 0 when the engine answered (any status), -1 when
 * it could not be reached (e: 503 docker_unreachable). */
int docker_call(struct docker *d, const char *method, const char *path, const char *ctype,
                const void *body, size_t len, long *status, struct buf *out, long timeout_s,
                struct err *e);

/* 1 present, 0 absent, -1 error. */
int docker_image_present(struct docker *d, const char *image, struct err *e);

/* Progress callback for pulls: called with the decoded progress after each
 * chunk of the stream; a non-zero answer cancels the pull. */
typedef int (*docker_pull_fn)(void *ctx, const struct pullprog *p);
/* Pulls image; an error line in the 200 stream is a failure. 0 or -1
 * (e->code "cancelled" when the callback asked for it). */
int docker_pull(struct docker *d, const char *image, docker_pull_fn fn, void *ctx, struct err *e);

/* Creates a container; writes its id (64 hex + NUL) to id. 0 or -1
 * (e->code "conflict" when the name is taken, "no_such_image"). */
int docker_create(struct docker *d, const char *name, json_t *spec, char id[72], struct err *e);
/* Extracts a tar archive at / in the container (before start). */
int docker_put_archive(struct docker *d, const char *id, const void *tar, size_t len,
                       struct err *e);
int docker_start(struct docker *d, const char *id, struct err *e);
int docker_stop(struct docker *d, const char *id, int timeout_s, struct err *e);
/* Removes the container (forced); a missing one is success. */
int docker_remove(struct docker *d, const char *id, struct err *e);
/* GET /containers/{id}/json as a new reference, or NULL (e->code "not_found"). */
json_t *docker_inspect(struct docker *d, const char *id, struct err *e);
/* Containers (all states) carrying label (key=value). New reference or NULL. */
json_t *docker_list(struct docker *d, const char *label, struct err *e);
/* The last `tail` lines of the container's logs, one callback per line. An
 * answer past DOCKER_MAX_LOGS ends there: the lines read so far are given
 * and *truncated (when not NULL) is set. */
int docker_logs(struct docker *d, const char *id, int tail, int tty, demux_line_fn fn, void *ctx,
                int *truncated, struct err *e);
/* Waits up to timeout_s for the container to exit; *exit_code gets its
 * status. 0 or -1. */
int docker_wait(struct docker *d, const char *id, long timeout_s, int *exit_code, struct err *e);
/* Removes a named volume; a missing one is success. */
int docker_volume_remove(struct docker *d, const char *name, struct err *e);

#endif
