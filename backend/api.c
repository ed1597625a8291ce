#include "api.h"

#include "indexer.h"
#include "retention.h"
#include "browse.h"
#include "team.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct route_def {
    const char *path;
    const char *method;
    enum api_route route;
};

static const struct route_def routes[] = {
    {"/api/health", "GET", ROUTE_HEALTH},
    {"/api/status", "GET", ROUTE_STATUS},
    {"/api/config", "GET", ROUTE_CONFIG},
    {"/api/config", "PUT", ROUTE_CONFIG},
    {"/api/registry/start", "POST", ROUTE_START},
    {"/api/registry/stop", "POST", ROUTE_STOP},
    {"/api/registry/restart", "POST", ROUTE_RESTART},
    {"/api/registry", "DELETE", ROUTE_REGISTRY},
    {"/api/registry/logs", "GET", ROUTE_LOGS},
    {"/api/grant/inspect", "POST", ROUTE_GRANT_INSPECT},
    {"/api/registry/gc", "POST", ROUTE_GC},
    {"/api/repositories", "GET", ROUTE_REPOSITORIES},
    {"/api/index/refresh", "POST", ROUTE_INDEX_REFRESH},
    {"/api/storage/check", "POST", ROUTE_STORAGE_CHECK},
    {"/api/users", "GET", ROUTE_USERS},
    {"/api/users", "POST", ROUTE_USERS},
    {"/api/team/export", "POST", ROUTE_TEAM_EXPORT},
    {"/api/retention", "GET", ROUTE_RETENTION},
    {"/api/retention", "PUT", ROUTE_RETENTION},
    {"/api/retention/preview", "POST", ROUTE_RETENTION_PREVIEW},
    {"/api/retention/apply", "POST", ROUTE_RETENTION_APPLY},
};

#define USERS_PREFIX "/api/users/"
#define PASSWORD_SUFFIX "/password"

/* Splits /api/users/{name}[/password]: 0 with the name copied out and
 * *password set, -1 for another shape. */
static int split_user_path(const char *path, char *name, size_t nlen, int *password)
{
    if (strncmp(path, USERS_PREFIX, strlen(USERS_PREFIX)) != 0)
        return -1;
    const char *rest = path + strlen(USERS_PREFIX);
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    *password = slash != NULL;
    if (n == 0 || n >= nlen || (slash && strcmp(slash, PASSWORD_SUFFIX) != 0))
        return -1;
    snprintf(name, nlen, "%.*s", (int)n, rest);
    return 0;
}

#define IMAGE_PREFIX "/api/repositories/"
#define IMAGE_INFIX "/manifests/"

/* Splits /api/repositories/{name}/manifests/{digest}; names may hold '/'.
 * 0 with name and digest copied out, -1 when the path has another shape. */
static int split_image_path(const char *path, char *name, size_t nlen, char *digest, size_t dlen)
{
    if (strncmp(path, IMAGE_PREFIX, strlen(IMAGE_PREFIX)) != 0)
        return -1;
    const char *rest = path + strlen(IMAGE_PREFIX);
    const char *mid = NULL;
    for (const char *p = strstr(rest, IMAGE_INFIX); p; p = strstr(p + 1, IMAGE_INFIX))
        mid = p;
    if (!mid || mid == rest || (size_t)(mid - rest) >= nlen ||
        strlen(mid + strlen(IMAGE_INFIX)) >= dlen || !mid[strlen(IMAGE_INFIX)])
        return -1;
    snprintf(name, nlen, "%.*s", (int)(mid - rest), rest);
    snprintf(digest, dlen, "%s", mid + strlen(IMAGE_INFIX));
    size_t dl = strlen(digest);
    if (dl && digest[dl - 1] == '/') /* the same resource with a trailing slash */
        digest[dl - 1] = '\0';
    return 0;
}

static const char *allowed_for(const char *path)
{
    if (strcmp(path, "/api/config") == 0 || strcmp(path, "/api/retention") == 0)
        return "GET, PUT";
    if (strcmp(path, "/api/users") == 0)
        return "GET, POST";
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (strcmp(routes[i].path, path) == 0)
            return routes[i].method;
    return NULL;
}

/* The clean-up rules' plan from the index alone (indexer_plan_input): at
 * once, as of its last whole reading ("asOf"); apply reads the registry
 * anyway. rules: the body's, or the saved ones. */
static json_t *index_preview(struct manager *m, json_t *body, struct err *e)
{
    json_t *saved = body ? NULL : manager_retention_rules(m);
    json_t *rules = retention_parse(body ? body : saved, e), *plan = NULL;
    json_decref(saved);
    if (!rules)
        return NULL;
    char as_of[32];
    json_t *repos = indexer_plan_input(rules, as_of, sizeof as_of);
    if (!repos)
        err_set(e, 409, E_NOT_APPLICABLE, "source",
                "the index has not read the registry whole yet: preview with source=registry, "
                "or wait until the status says the index is ready");
    else if (!(plan = retention_plan(rules, repos, (long long)time(NULL))))
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    else
        json_object_set_new(plan, "asOf", json_string(as_of));
    json_decref(repos);
    json_decref(rules);
    return plan;
}

/* the status text with "index" (indexer.h) added, when there is one */
static char *with_index(char *status)
{
    char *ix = status ? indexer_status_text() : NULL;
    size_t n = status ? strlen(status) : 0;
    if (!ix || n < 2 || status[n - 1] != '}')
        goto out;
    char *joined = malloc(n + strlen(ix) + 16);
    if (joined) {
        snprintf(joined, n + strlen(ix) + 16, "%.*s,\"index\":%s}", (int)(n - 1), status, ix);
        free(status);
        status = joined;
    }
out:
    free(ix);
    return status;
}

int api_route(const char *method, const char *path, enum api_route *route, const char **allow)
{
    size_t n = strlen(path);
    char clean[128];
    /* a trailing slash names the same resource */
    if (n > 1 && n < sizeof clean && path[n - 1] == '/') {
        memcpy(clean, path, n - 1);
        clean[n - 1] = '\0';
        path = clean;
    }
    char name[256], digest[128];
    if (split_image_path(path, name, sizeof name, digest, sizeof digest) == 0) {
        if (strcmp(method, "DELETE") == 0 || strcmp(method, "GET") == 0) {
            *route = ROUTE_IMAGE;
            return 0;
        }
        if (allow)
            *allow = "GET, DELETE";
        return 405;
    }
    char user[128];
    int pw = 0;
    if (split_user_path(path, user, sizeof user, &pw) == 0) {
        if (strcmp(method, pw ? "PUT" : "DELETE") == 0) {
            *route = pw ? ROUTE_USER_PASSWORD : ROUTE_USER;
            return 0;
        }
        if (allow)
            *allow = pw ? "PUT" : "DELETE";
        return 405;
    }
    int known = 0;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        if (strcmp(routes[i].path, path) != 0)
            continue;
        known = 1;
        if (strcmp(routes[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
            *route = routes[i].route;
            return 0;
        }
    }
    if (!known)
        return 404;
    if (allow)
        *allow = allowed_for(path);
    return 405;
}

json_t *api_error_body(const struct err *e)
{
    json_t *inner = json_pack("{s:s, s:s}", "code", e->code ? ecode_name(e->code) : "error",
                              "message", e->message[0] ? e->message : "the request failed");
    if (e->field[0])
        json_object_set_new(inner, "field", json_string(e->field));
    return json_pack("{s:o}", "error", inner);
}

static void fail(struct api_response *res, const struct err *e)
{
    res->status = e->status ? e->status : 500;
    res->body = api_error_body(e);
}

/* A success with its body; a body that could not be built (memory) is a
 * 500, never an empty 2xx that the tab would take for an answer. */
static void ok(struct api_response *res, int status, json_t *body)
{
    if (!body) {
        struct err e;
        err_set(&e, 500, E_NO_MEMORY, NULL, "the backend ran out of memory building the answer");
        res->status = 500;
        res->body = api_error_body(&e);
        return;
    }
    res->status = status;
    res->body = body;
}

/* Parses the body as one JSON object; an empty body is an empty object when
 * allow_empty. */
static json_t *parse_body(const struct api_request *req, int allow_empty, struct err *e)
{
    if (!req->body || req->body_len == 0) {
        if (allow_empty)
            return json_object();
        err_set(e, 400, E_INVALID_JSON, NULL, "the request needs a JSON object body");
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        /* je.text quotes the input near the fault, which may be a secret */
        err_set(e, 400, E_INVALID_JSON, NULL, "the body is not valid JSON (at character %d)",
                je.position);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        err_set(e, 400, E_INVALID_JSON, NULL, "the body must be a JSON object");
        return NULL;
    }
    return j;
}

static int parse_tail(const char *v, int *out, struct err *e)
{
    if (!v) {
        *out = 200;
        return 0;
    }
    char *end;
    long t = strtol(v, &end, 10);
    if (!*v || *end || t < 1 || t > MANAGER_MAX_LOG_TAIL)
        return err_set(e, 400, E_OUT_OF_RANGE, "tail", "tail must be a number from 1 to %d",
                       MANAGER_MAX_LOG_TAIL);
    *out = (int)t;
    return 0;
}

static void submit(struct manager *m, enum manager_job job, int purge, struct api_response *res)
{
    struct err e = {0};
    if (manager_submit(m, job, purge, &e))
        fail(res, &e);
    else
        ok(res, 202, manager_status(m));
}

static void grant_inspect(struct manager *m, const struct api_request *req,
                          struct api_response *res)
{
    struct err e = {0};
    json_t *body = parse_body(req, 0, &e);
    json_t *r = NULL;
    if (!body)
        goto out;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "unencryptedKeys") == 0) {
            if (!json_is_boolean(v)) {
                err_set(&e, 400, E_INVALID_TYPE, key, "unencryptedKeys must be true or false");
                goto out;
            }
            continue;
        }
        if (strcmp(key, "accessGrant") != 0 && strcmp(key, "bucket") != 0 &&
            strcmp(key, "mode") != 0) {
            err_set(&e, 400, E_UNKNOWN_FIELD, key, "unknown field %.60s", key);
            goto out;
        }
        if (!json_is_string(v)) {
            err_set(&e, 400, E_INVALID_TYPE, key, "%s must be a string", key);
            goto out;
        }
    }
    const char *grant = json_string_value(json_object_get(body, "accessGrant"));
    const char *bucket = json_string_value(json_object_get(body, "bucket"));
    const char *mode = json_string_value(json_object_get(body, "mode"));
    json_t *unenc = json_object_get(body, "unencryptedKeys");
    r = manager_inspect_grant(m, grant && *grant ? grant : NULL, bucket,
                              mode && *mode ? mode : NULL, unenc ? json_is_true(unenc) : -1, &e);
out:
    json_decref(body);
    if (r)
        ok(res, 200, r);
    else
        fail(res, &e);
}

/* POST /api/users {"name","password"?} and PUT /api/users/{name}/password
 * {"password"?}: a password left out or null is generated (and answered
 * once). The answer never holds a password otherwise. */
static void users_change(struct manager *m, const struct api_request *req, enum api_route route,
                         struct api_response *res)
{
    struct err e = {0};
    json_t *body = NULL, *r = NULL;
    char name[128] = "";
    int pw_path = 0;
    if (route != ROUTE_USERS) {
        /* a trailing slash names the same resource */
        char path[256];
        snprintf(path, sizeof path, "%s", req->path);
        size_t n = strlen(path);
        if (n > 1 && path[n - 1] == '/')
            path[n - 1] = '\0';
        split_user_path(path, name, sizeof name, &pw_path);
    }
    if (route == ROUTE_USER) {
        r = manager_users_change(m, USERS_OP_REMOVE, name, NULL, &e);
        goto out;
    }
    if (!(body = parse_body(req, route == ROUTE_USER_PASSWORD, &e)))
        goto out;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        int is_name = strcmp(key, "name") == 0 && route == ROUTE_USERS;
        if (!is_name && strcmp(key, "password") != 0) {
            err_set(&e, 400, E_UNKNOWN_FIELD, key, "unknown field %.60s", key);
            goto out;
        }
        if (!json_is_string(v) && !(json_is_null(v) && !is_name)) {
            err_set(&e, 400, E_INVALID_TYPE, key, "%s must be a string", key);
            goto out;
        }
    }
    if (route == ROUTE_USERS) {
        const char *n = json_string_value(json_object_get(body, "name"));
        if (!n) {
            err_set(&e, 400, E_MISSING_FIELD, "name", "a user needs a name");
            goto out;
        }
        snprintf(name, sizeof name, "%.127s", n);
        if (strlen(n) >= sizeof name) {
            err_set(&e, 400, E_INVALID_VALUE, "name",
                    "the user name must be 1 to 64 characters long");
            goto out;
        }
    }
    r = manager_users_change(m, route == ROUTE_USERS ? USERS_OP_ADD : USERS_OP_PASSWORD, name,
                             json_string_value(json_object_get(body, "password")), &e);
out:
    json_decref(body); /* jansson does not wipe: the body's strings are freed as they are */
    if (r)
        ok(res, route == ROUTE_USERS ? 201 : 200, r);
    else
        fail(res, &e);
}

/* "Run this for my team" (team.h): the saved settings as a deployment. */
static void team_export_route(struct manager *m, const struct api_request *req,
                              struct api_response *res)
{
    struct err e = {0};
    struct team_opts o;
    struct settings s = {0};
    struct team_bundle bundle = {0};
    json_t *out = NULL;
    int have_settings = 0;
    char *htpasswd = NULL;
    team_opts_init(&o);
    json_t *body = parse_body(req, 1, &e);
    if (!body || team_opts_parse(body, &o, &e))
        goto out;
    if (o.include_secrets && team_fresh_secrets(&o)) {
        err_set(&e, 500, E_INTERNAL, NULL, "the kernel gave no random numbers");
        goto out;
    }
    if (manager_settings_copy(m, &s)) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto out;
    }
    have_settings = 1;
    /* the registry users (hashes only) go along; none: a registry without logins */
    htpasswd = manager_users_htpasswd(m);
    o.htpasswd = htpasswd;
    if (team_export(&s, &o, &bundle, &e))
        goto out;
    out = team_bundle_json(&bundle, &o);
    if (!out)
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
out:
    json_decref(body);
    team_bundle_free(&bundle);
    team_opts_wipe(&o);
    free(htpasswd);
    if (have_settings)
        settings_free(&s);
    if (out)
        ok(res, 200, out);
    else
        fail(res, &e);
}

void api_handle(struct manager *m, const struct api_request *req, struct api_response *res)
{
    enum api_route route;
    struct err e = {0};
    json_t *body = NULL;
    res->allow = NULL;
    res->raw = NULL;
    int rc = api_route(req->method, req->path, &route, &res->allow);
    if (rc == 404) {
        err_set(&e, 404, E_NOT_FOUND, NULL, "no such API path");
        fail(res, &e);
        return;
    }
    if (rc == 405) {
        err_set(&e, 405, E_METHOD_NOT_ALLOWED, NULL, "%s is not allowed here; use %s", req->method,
                res->allow ? res->allow : "another method");
        fail(res, &e);
        return;
    }

    switch (route) {
    case ROUTE_HEALTH:
        ok(res, 200, json_pack("{s:b, s:s}", "ok", 1, "version", SR_VERSION));
        return;
    case ROUTE_STATUS:
        res->status = 200;
        if ((res->raw = with_index(manager_status_text(m))))
            return;
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        break;
    case ROUTE_CONFIG:
        if (strcmp(req->method, "PUT") != 0) {
            ok(res, 200, manager_settings(m));
            return;
        }
        if (!(body = parse_body(req, 0, &e)))
            break;
        json_t *saved = manager_put_settings(m, body, &e);
        json_decref(body);
        if (saved) {
            ok(res, 200, saved);
            return;
        }
        break;
    case ROUTE_START:
    case ROUTE_STOP:
    case ROUTE_RESTART:
        /* a body is allowed (Desktop may send {}), but must be JSON */
        if (!(body = parse_body(req, 1, &e)))
            break;
        json_decref(body);
        submit(m,
               route == ROUTE_START  ? JOB_START
               : route == ROUTE_STOP ? JOB_STOP
                                     : JOB_RESTART,
               0, res);
        return;
    case ROUTE_REGISTRY: {
        const char *purge = req->arg ? req->arg(req->arg_ctx, "purge") : NULL;
        if (purge && strcmp(purge, "true") != 0 && strcmp(purge, "false") != 0 &&
            strcmp(purge, "1") != 0 && strcmp(purge, "0") != 0) {
            err_set(&e, 400, E_INVALID_VALUE, "purge", "purge must be true or false");
            break;
        }
        submit(m, JOB_REMOVE, purge && (strcmp(purge, "true") == 0 || strcmp(purge, "1") == 0),
               res);
        return;
    }
    case ROUTE_LOGS: {
        int tail = 200;
        if (parse_tail(req->arg ? req->arg(req->arg_ctx, "tail") : NULL, &tail, &e))
            break;
        json_t *logs = manager_logs(m, tail, &e);
        if (logs) {
            ok(res, 200, logs);
            return;
        }
        break;
    }
    case ROUTE_GRANT_INSPECT:
        grant_inspect(m, req, res);
        return;
    case ROUTE_GC:
        if (!(body = parse_body(req, 1, &e)))
            break;
        json_decref(body);
        submit(m, JOB_GC, 0, res);
        return;
    case ROUTE_STORAGE_CHECK: {
        if (!(body = parse_body(req, 1, &e)))
            break;
        const char *key;
        json_t *v;
        int bad = 0;
        json_object_foreach(body, key, v)
        {
            if (strcmp(key, "createBucket") != 0) {
                err_set(&e, 400, E_UNKNOWN_FIELD, key, "unknown field %.60s", key);
                bad = 1;
                break;
            }
            if (!json_is_boolean(v)) {
                err_set(&e, 400, E_INVALID_TYPE, key, "createBucket must be true or false");
                bad = 1;
                break;
            }
        }
        int create = json_is_true(json_object_get(body, "createBucket"));
        json_decref(body);
        if (bad || manager_check(m, create, &e))
            break;
        ok(res, 202, manager_status(m));
        return;
    }
    case ROUTE_TEAM_EXPORT:
        team_export_route(m, req, res);
        return;
    case ROUTE_RETENTION: {
        if (strcmp(req->method, "PUT") != 0) {
            ok(res, 200, manager_retention(m));
            return;
        }
        if (!(body = parse_body(req, 0, &e)))
            break;
        json_t *rules = manager_put_retention(m, body, &e);
        json_decref(body);
        if (rules) {
            ok(res, 200, rules);
            return;
        }
        break;
    }
    case ROUTE_RETENTION_PREVIEW: {
        /* rules in the body (not yet saved), or the saved ones */
        if (!(body = parse_body(req, 1, &e)))
            break;
        const char *src = req->arg ? req->arg(req->arg_ctx, "source") : NULL;
        if (src && strcmp(src, "index") != 0 && strcmp(src, "registry") != 0) {
            json_decref(body);
            err_set(&e, 400, E_INVALID_VALUE, "source", "source must be index or registry");
            break;
        }
        json_t *plan = src && strcmp(src, "index") == 0
                           ? index_preview(m, json_object_size(body) ? body : NULL, &e)
                           : manager_retention_preview(m, json_object_size(body) ? body : NULL, &e);
        json_decref(body);
        if (plan) {
            ok(res, 200, plan);
            return;
        }
        break;
    }
    case ROUTE_RETENTION_APPLY:
        if (!(body = parse_body(req, 1, &e)))
            break;
        json_decref(body);
        submit(m, JOB_RETENTION, 0, res);
        return;
    case ROUTE_INDEX_REFRESH:
        if (!(body = parse_body(req, 1, &e)))
            break;
        json_decref(body);
        if (!indexer_ready()) {
            err_set(&e, 409, E_NOT_APPLICABLE, NULL,
                    "the index is not open (Logs say why): browsing reads the registry");
            break;
        }
        indexer_refresh();
        ok(res, 202, json_pack("{s:b}", "refreshing", 1));
        return;
    case ROUTE_REPOSITORIES: {
        const char *which = req->arg ? req->arg(req->arg_ctx, "registry") : NULL;
        if (which && strcmp(which, "cache") != 0 && strcmp(which, "push") != 0) {
            err_set(&e, 400, E_INVALID_VALUE, "registry", "registry must be push or cache");
            break;
        }
        const char *src = req->arg ? req->arg(req->arg_ctx, "source") : NULL;
        const char *q = req->arg ? req->arg(req->arg_ctx, "q") : NULL;
        const char *sort = req->arg ? req->arg(req->arg_ctx, "sort") : NULL;
        const char *order = req->arg ? req->arg(req->arg_ctx, "order") : NULL;
        if (src && strcmp(src, "index") != 0 && strcmp(src, "registry") != 0) {
            err_set(&e, 400, E_INVALID_VALUE, "source", "source must be index or registry");
            break;
        }
        /* the index answers when asked for it, or for what only it can do
         * (search, sorting); the Docker Hub cache is not indexed */
        if ((!which || strcmp(which, "cache") != 0) &&
            ((src && strcmp(src, "index") == 0) || (!src && (q || sort || order)))) {
            json_t *repos = indexer_repositories(q, sort, order, req->arg(req->arg_ctx, "offset"),
                                                 req->arg(req->arg_ctx, "limit"), &e);
            if (repos) {
                ok(res, 200, repos);
                return;
            }
            break;
        }
        json_t *repos = manager_repositories(m, which && strcmp(which, "cache") == 0,
                                             req->arg ? req->arg(req->arg_ctx, "offset") : NULL,
                                             req->arg ? req->arg(req->arg_ctx, "limit") : NULL, &e);
        if (repos) {
            ok(res, 200, repos);
            return;
        }
        break;
    }
    case ROUTE_IMAGE: {
        /* empty when the split fails: a path that matched only without its trailing slash */
        char name[256] = "", digest[128] = "";
        split_image_path(req->path, name, sizeof name, digest, sizeof digest);
        if (!browse_name_valid(name)) {
            err_set(&e, 400, E_INVALID_VALUE, "name", "not a repository name");
            break;
        }
        if (!browse_digest_valid(digest)) {
            err_set(&e, 400, E_INVALID_VALUE, "digest",
                    "the digest must be sha256:<64 hex digits>");
            break;
        }
        if (strcmp(req->method, "GET") == 0) {
            json_t *img = manager_image(m, name, digest, &e);
            if (!img)
                break;
            ok(res, 200, img);
            return;
        }
        if (manager_delete_image(m, name, digest, &e))
            break;
        ok(res, 200, json_pack("{s:b, s:s, s:s}", "deleted", 1, "name", name, "digest", digest));
        return;
    }
    case ROUTE_USERS:
        if (strcmp(req->method, "POST") != 0) {
            ok(res, 200, manager_users(m));
            return;
        }
        users_change(m, req, route, res);
        return;
    case ROUTE_USER:
    case ROUTE_USER_PASSWORD:
        users_change(m, req, route, res);
        return;
    }
    fail(res, &e);
}
