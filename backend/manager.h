/* The registry's lifecycle: settings, the containers they call for, and
 * what Docker says about them. Long work runs on a worker thread; a monitor
 * thread follows Docker so that status answers come from memory. */
#ifndef SR_MANAGER_H
#define SR_MANAGER_H

#include <jansson.h>

#include "spec.h"
#include "util.h"

#define MANAGER_MAX_LOG_TAIL 2000
#define MANAGER_HEALTH_TIMEOUT_S 90

struct manager_opts {
    const char *state_dir;
    const char *docker_socket;
    struct spec_opts spec;
    int monitor_interval_ms; /* how often Docker is looked at when idle */
};

enum manager_job {
    JOB_NONE,
    JOB_START,
    JOB_STOP,
    JOB_RESTART,
    JOB_REMOVE,
    JOB_GC,
    JOB_CHECK,
    JOB_RETENTION, /* apply the clean-up rules: delete what they say, then clean up */
};

struct manager;

/* Loads the settings, starts the threads. NULL with e filled on failure. */
struct manager *manager_new(const struct manager_opts *o, struct err *e);
/* Stops the threads (waits for a running job step) and frees everything. */
void manager_free(struct manager *m);

/* The status object of GET /api/status. New reference. */
json_t *manager_status(struct manager *m);
/* The same as compact JSON text, cached between changes so that polling
 * costs a copy. Caller frees; NULL when out of memory. */
char *manager_status_text(struct manager *m);
/* The settings as GET /api/config shows them. New reference. */
json_t *manager_settings(struct manager *m);
/* Validates, (for storj-hosted) registers the grant, saves. Returns the new
 * public settings (with "warnings"), or NULL with e filled; on failure the
 * saved settings are unchanged. */
json_t *manager_put_settings(struct manager *m, json_t *body, struct err *e);
/* Queues a job; returns 0 (accepted) or -1 (e: 503 when Docker is
 * unreachable, 409 when not possible now). purge: with JOB_REMOVE, also
 * delete the local data volume. */
int manager_submit(struct manager *m, enum manager_job job, int purge, struct err *e);
/* Queues the storage check (s3check.h) of the saved settings, through the
 * path the registry uses; create_bucket: create a missing bucket. 0, or -1
 * with e (409 not_applicable in local and storj-native modes, 409 busy
 * while another job runs, 503 without Docker). The result lands in the
 * status as lastCheck. */
int manager_check(struct manager *m, int create_bucket, struct err *e);
/* {"lines":[{"container","stream","text"}]}, secrets redacted. */
json_t *manager_logs(struct manager *m, int tail, struct err *e);
/* What the running registry holds (browse.h), or with cache what the
 * Docker Hub cache holds; NULL with e (409 when it is not running). */
json_t *manager_repositories(struct manager *m, int cache, const char *offset, const char *limit,
                             struct err *e);
/* One image of the running registry by digest, each platform's layers
 * and labels (browse_image); NULL with e (409 when it is not running). */
json_t *manager_image(struct manager *m, const char *name, const char *digest, struct err *e);
/* Deletes an image by digest from the running registry. 0 or -1. */
int manager_delete_image(struct manager *m, const char *name, const char *digest, struct err *e);

/* Registry users (users.h). */
enum manager_users_op { USERS_OP_ADD, USERS_OP_REMOVE, USERS_OP_PASSWORD };
/* {"users":[{"name"}],"count","authEnabled" (the saved settings ask for
 * logins),"authRunning" (the running registry does; null when none runs),
 * "bind","loopback","port"}. New reference. */
json_t *manager_users(struct manager *m);
/* Adds a user, removes one or sets its password (password NULL: a
 * generated one, returned once as "password" in the answer, never kept).
 * Saves the htpasswd, puts it into the registry container when there is
 * one. {"name","applied":"live"|"restart"|"next-start","count"[,"password"]},
 * or NULL with e (400 naming "name" or "password", 404, 409). */
json_t *manager_users_change(struct manager *m, enum manager_users_op op, const char *name,
                             const char *password, struct err *e);
/* The clean-up rules (retention.h) with "lastRun" (the last application:
 * {at, ok, images, tags, message}, or null) and "nextRun" (the next
 * scheduled one, RFC 3339 UTC, or null). New reference. */
json_t *manager_retention(struct manager *m);
/* The saved clean-up rules alone (retention_parse's form, without what
 * manager_retention adds). New reference. */
json_t *manager_retention_rules(struct manager *m);
/* Validates and saves new rules; the answer is manager_retention's, or NULL
 * with e (400 naming the field; 507/500 when the file cannot be written;
 * nothing changed then). */
json_t *manager_put_retention(struct manager *m, json_t *body, struct err *e);
/* What the rules (body's, or the saved ones when body is NULL) would delete
 * now: retention_plan over what the running registry holds. Slow (reads
 * every repository). NULL with e (409 when the registry is not running). */
json_t *manager_retention_preview(struct manager *m, json_t *body, struct err *e);

/* Report of the given grant, or of the saved one when grant is NULL, checked
 * against bucket (or the saved bucket when NULL) for a registry in mode (the
 * saved mode when NULL) with unencrypted (-1: the saved setting): grant.h's
 * report plus "registry" and "suggestedBucket" (readiness.h). */
json_t *manager_inspect_grant(struct manager *m, const char *grant, const char *bucket,
                              const char *mode, int unencrypted, struct err *e);

/* A copy of the saved settings, for exports (team.h). Holds the secrets:
 * free with settings_free, never log or return it. 0 or -1 (memory). */
int manager_settings_copy(struct manager *m, struct settings *out);
/* The registry users' htpasswd lines ("name:bcrypt hash"), without the
 * backend's own credential, for a team deployment; NULL when there is no
 * user (or no memory). Caller frees. */
char *manager_users_htpasswd(struct manager *m);

/* indexer.h's access callback (ctx: the manager): the registry's base URL
 * and the backend's login when it runs and no job holds it; -1 otherwise. */
struct indexer_access;
int manager_registry_access(void *ctx, struct indexer_access *a);

#endif
