/* The HTTP API of DESIGN.md as a function from a request to a status and a
 * JSON body: routing, argument checks, and calls into the manager. Knows no
 * sockets (http.c does). */
#ifndef SR_API_H
#define SR_API_H

#include <jansson.h>
#include <stddef.h>

#include "manager.h"
#include "util.h"

#define API_MAX_BODY (64 * 1024)
/* bodies up to this size are read and dropped before a 413 */
#define API_DISCARD_MAX (1024 * 1024)

enum api_route {
    ROUTE_HEALTH,
    ROUTE_STATUS,
    ROUTE_CONFIG,
    ROUTE_START,
    ROUTE_STOP,
    ROUTE_RESTART,
    ROUTE_REGISTRY,
    ROUTE_LOGS,
    ROUTE_GRANT_INSPECT,
    ROUTE_GC,
    ROUTE_REPOSITORIES,
    ROUTE_INDEX_REFRESH, /* POST /api/index/refresh */
    ROUTE_IMAGE,         /* /api/repositories/{name}/manifests/{digest} */
    ROUTE_STORAGE_CHECK,
    ROUTE_USERS,         /* /api/users */
    ROUTE_USER,          /* /api/users/{name} */
    ROUTE_USER_PASSWORD, /* /api/users/{name}/password */
    ROUTE_TEAM_EXPORT,
    ROUTE_RETENTION,         /* GET, PUT /api/retention */
    ROUTE_RETENTION_PREVIEW, /* POST /api/retention/preview */
    ROUTE_RETENTION_APPLY,   /* POST /api/retention/apply */
};

/* Matches method and path (without the query). Returns 0 with *route set,
 * 404 for an unknown path, 405 for a known path and another method (allow
 * then lists the methods it takes, e.g. "GET, PUT"). Pure. */
int api_route(const char *method, const char *path, enum api_route *route, const char **allow);

/* Looks up a query argument; NULL when absent. */
typedef const char *(*api_arg_fn)(void *ctx, const char *key);

struct api_request {
    const char *method;
    const char *path;
    const char *body; /* may be NULL */
    size_t body_len;
    api_arg_fn arg;
    void *arg_ctx;
};

struct api_response {
    int status;
    json_t *body;      /* owned; always an object, unless raw is set */
    char *raw;         /* owned; a JSON text sent as it is (cached answers) */
    const char *allow; /* for 405 */
};

/* {"error":{"code","message","field"?}} as a new reference. */
json_t *api_error_body(const struct err *e);

/* Handles one request. m may be NULL only in unit tests of the routing and
 * validation paths that fail before reaching it. */
void api_handle(struct manager *m, const struct api_request *req, struct api_response *res);

#endif
