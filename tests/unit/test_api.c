/*
 * Unit tests for backend/api.c without a manager: the routing table
 * (api_route), the error body, and api_handle on every path that answers
 * before reaching the manager (404, 405, bad bodies, bad query arguments).
 * api_handle gets m == NULL, so a case that wrongly reached the manager
 * would crash here rather than pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api.h"
#include "testutil.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define IMAGE_PATH "/api/repositories/library/alpine/manifests/" DIGEST

/* ---- api_route ---------------------------------------------------------- */

static void test_route_table(void **state)
{
    static const struct {
        const char *method;
        const char *path;
        int rc;
        enum api_route route; /* when rc == 0 */
        const char *allow;    /* when rc == 405 */
    } cases[] = {
        {"GET", "/api/health", 0, ROUTE_HEALTH, NULL},
        {"HEAD", "/api/health", 0, ROUTE_HEALTH, NULL},
        {"POST", "/api/health", 405, 0, "GET"},
        {"PUT", "/api/health", 405, 0, "GET"},
        {"GET", "/api/status", 0, ROUTE_STATUS, NULL},
        {"HEAD", "/api/status", 0, ROUTE_STATUS, NULL},
        {"DELETE", "/api/status", 405, 0, "GET"},
        {"GET", "/api/config", 0, ROUTE_CONFIG, NULL},
        {"HEAD", "/api/config", 0, ROUTE_CONFIG, NULL},
        {"PUT", "/api/config", 0, ROUTE_CONFIG, NULL},
        {"POST", "/api/config", 405, 0, "GET, PUT"},
        {"PATCH", "/api/config", 405, 0, "GET, PUT"},
        {"DELETE", "/api/config", 405, 0, "GET, PUT"},
        {"OPTIONS", "/api/config", 405, 0, "GET, PUT"},
        {"POST", "/api/registry/start", 0, ROUTE_START, NULL},
        {"GET", "/api/registry/start", 405, 0, "POST"},
        {"HEAD", "/api/registry/start", 405, 0, "POST"},
        {"PUT", "/api/registry/start", 405, 0, "POST"},
        {"POST", "/api/registry/stop", 0, ROUTE_STOP, NULL},
        {"GET", "/api/registry/stop", 405, 0, "POST"},
        {"POST", "/api/registry/restart", 0, ROUTE_RESTART, NULL},
        {"DELETE", "/api/registry/restart", 405, 0, "POST"},
        {"DELETE", "/api/registry", 0, ROUTE_REGISTRY, NULL},
        {"GET", "/api/registry", 405, 0, "DELETE"},
        {"HEAD", "/api/registry", 405, 0, "DELETE"},
        {"POST", "/api/registry", 405, 0, "DELETE"},
        {"GET", "/api/registry/logs", 0, ROUTE_LOGS, NULL},
        {"HEAD", "/api/registry/logs", 0, ROUTE_LOGS, NULL},
        {"POST", "/api/registry/logs", 405, 0, "GET"},
        {"POST", "/api/grant/inspect", 0, ROUTE_GRANT_INSPECT, NULL},
        {"GET", "/api/grant/inspect", 405, 0, "POST"},
        {"PUT", "/api/grant/inspect", 405, 0, "POST"},
        {"POST", "/api/registry/gc", 0, ROUTE_GC, NULL},
        {"GET", "/api/registry/gc", 405, 0, "POST"},
        {"GET", "/api/repositories", 0, ROUTE_REPOSITORIES, NULL},
        {"HEAD", "/api/repositories", 0, ROUTE_REPOSITORIES, NULL},
        {"GET", "/api/repositories/", 0, ROUTE_REPOSITORIES, NULL},
        {"DELETE", "/api/repositories", 405, 0, "GET"},
        /* one image: /api/repositories/{name}/manifests/{digest}, names may hold '/' */
        {"DELETE", IMAGE_PATH, 0, ROUTE_IMAGE, NULL},
        {"DELETE", "/api/repositories/alpine/manifests/x", 0, ROUTE_IMAGE, NULL},
        {"DELETE", "/api/repositories/a/manifests/b/manifests/c", 0, ROUTE_IMAGE, NULL},
        {"GET", IMAGE_PATH, 0, ROUTE_IMAGE, NULL},
        {"HEAD", IMAGE_PATH, 405, 0, "GET, DELETE"},
        {"POST", IMAGE_PATH, 405, 0, "GET, DELETE"},
        {"DELETE", "/api/repositories/alpine/manifests/", 404, 0, NULL},
        {"DELETE", "/api/repositories/alpine/manifests", 404, 0, NULL},
        {"DELETE", "/api/repositories//manifests/x", 404, 0, NULL},
        {"DELETE", "/api/repositories/manifests/x", 404, 0, NULL},
        {"DELETE", "/api/repositories/alpine", 404, 0, NULL},
        {"DELETE", "/api/repositories/alpine/tags/latest", 404, 0, NULL},
        /* methods are case-sensitive */
        {"get", "/api/health", 405, 0, "GET"},
        {"put", "/api/config", 405, 0, "GET, PUT"},
        /* a trailing slash names the same resource */
        {"GET", "/api/health/", 0, ROUTE_HEALTH, NULL},
        {"PUT", "/api/config/", 0, ROUTE_CONFIG, NULL},
        {"POST", "/api/config/", 405, 0, "GET, PUT"},
        {"POST", "/api/registry/start/", 0, ROUTE_START, NULL},
        {"DELETE", "/api/registry/", 0, ROUTE_REGISTRY, NULL},
        {"GET", "/api/registry/logs/", 0, ROUTE_LOGS, NULL},
        {"POST", "/api/grant/inspect/", 0, ROUTE_GRANT_INSPECT, NULL},
        /* unknown paths */
        {"GET", "", 404, 0, NULL},
        {"GET", "/", 404, 0, NULL},
        {"GET", "/api", 404, 0, NULL},
        {"GET", "/api/", 404, 0, NULL},
        {"GET", "/api/nope", 404, 0, NULL},
        {"GET", "/api/healthz", 404, 0, NULL},
        {"GET", "/api/health//", 404, 0, NULL},
        {"GET", "/api//health", 404, 0, NULL},
        {"GET", "/API/health", 404, 0, NULL},
        {"GET", "/api/health?x=1", 404, 0, NULL},
        {"POST", "/api/registry/start/now", 404, 0, NULL},
        {"DELETE", "/api/registry/data", 404, 0, NULL},
        {"POST", "/api/grant", 404, 0, NULL},
        {"GET", "health", 404, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        enum api_route route = (enum api_route) - 1;
        const char *allow = NULL;
        int rc = api_route(cases[i].method, cases[i].path, &route, &allow);
        CHECK(rc == cases[i].rc, "%s %s: rc %d want %d", cases[i].method, cases[i].path, rc,
              cases[i].rc);
        if (rc == 0)
            CHECK(route == cases[i].route, "%s %s: route %d want %d", cases[i].method,
                  cases[i].path, (int)route, (int)cases[i].route);
        if (rc == 405)
            CHECK(allow && strcmp(allow, cases[i].allow) == 0, "%s %s: allow \"%s\" want \"%s\"",
                  cases[i].method, cases[i].path, allow ? allow : "(null)", cases[i].allow);
        /* allow may be NULL */
        CHECK(api_route(cases[i].method, cases[i].path, &route, NULL) == cases[i].rc,
              "%s %s: without allow", cases[i].method, cases[i].path);
    }
}

static void test_route_long_paths(void **state)
{
    enum api_route route;
    const char *allow = NULL;
    char path[4096];
    /* longer than the trailing-slash buffer: not a crash, just unknown */
    memset(path, 'a', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 2] = '/';
    path[sizeof path - 1] = '\0';
    assert_int_equal(api_route("GET", path, &route, &allow), 404);
    /* a known path padded with slashes is not that path */
    snprintf(path, sizeof path, "/api/health%0200d/", 0);
    assert_int_equal(api_route("GET", path, &route, &allow), 404);
}

/* ---- api_error_body ----------------------------------------------------- */

static void test_error_body(void **state)
{
    static const struct {
        const char *name;
        struct err e;
        const char *want;
    } cases[] = {
        {"with field",
         {400, E_INVALID_VALUE, "bucket", "the bucket name must be lowercase"},
         "{\"error\":{\"code\":\"invalid_value\",\"message\":\"the bucket name must be "
         "lowercase\",\"field\":\"bucket\"}}"},
        {"without field",
         {404, E_NOT_FOUND, "", "no such API path"},
         "{\"error\":{\"code\":\"not_found\",\"message\":\"no such API path\"}}"},
        {"no code",
         {500, E_NONE, "", "boom"},
         "{\"error\":{\"code\":\"error\",\"message\":\"boom\"}}"},
        {"no message",
         {500, E_INTERNAL, "", ""},
         "{\"error\":{\"code\":\"internal\",\"message\":\"the request failed\"}}"},
        {"nested field",
         {400, E_UNKNOWN_FIELD, "s3.foo", "unknown field s3.foo"},
         "{\"error\":{\"code\":\"unknown_field\",\"message\":\"unknown field s3.foo\","
         "\"field\":\"s3.foo\"}}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *got = api_error_body(&cases[i].e);
        json_error_t je;
        json_t *want = json_loads(cases[i].want, 0, &je);
        assert_non_null(want);
        CHECK(got && json_equal(got, want), "%s: body differs", cases[i].name);
        json_decref(got);
        json_decref(want);
    }
}

/* ---- api_handle without a manager --------------------------------------- */

struct args {
    const char *keys[4];
    const char *values[4];
};

static const char *arg_lookup(void *ctx, const char *key)
{
    const struct args *a = ctx;
    for (int i = 0; i < 4 && a->keys[i]; i++)
        if (strcmp(a->keys[i], key) == 0)
            return a->values[i];
    return NULL;
}

struct handle_case {
    const char *name;
    const char *method;
    const char *path;
    const char *body; /* NULL: no body */
    long body_len;    /* -1: strlen(body) */
    const char *arg_key, *arg_value;
    int status;
    const char *code;
    const char *field; /* NULL: no field in the body */
    const char *allow; /* for 405 */
};

static void check_handle(const struct handle_case *c)
{
    struct args a = {{c->arg_key}, {c->arg_value}};
    struct api_request req = {
        .method = c->method,
        .path = c->path,
        .body = c->body,
        .body_len = c->body ? (c->body_len < 0 ? strlen(c->body) : (size_t)c->body_len) : 0,
        .arg = arg_lookup,
        .arg_ctx = &a,
    };
    struct api_response res;
    memset(&res, 0, sizeof res);
    res.allow = "stale";
    api_handle(NULL, &req, &res);
    CHECK(res.status == c->status, "%s: status %d want %d", c->name, res.status, c->status);
    CHECK(json_is_object(res.body), "%s: body is not an object", c->name);
    CHECK(json_object_size(res.body) == 1, "%s: body has other members", c->name);
    json_t *error = json_object_get(res.body, "error");
    CHECK(json_is_object(error), "%s: no error object", c->name);
    const char *code = json_string_value(json_object_get(error, "code"));
    const char *message = json_string_value(json_object_get(error, "message"));
    json_t *field = json_object_get(error, "field");
    CHECK(code && strcmp(code, c->code) == 0, "%s: code %s want %s", c->name,
          code ? code : "(none)", c->code);
    CHECK(message && *message, "%s: no message", c->name);
    if (c->field)
        CHECK(json_is_string(field) && strcmp(json_string_value(field), c->field) == 0,
              "%s: field %s want %s", c->name,
              json_is_string(field) ? json_string_value(field) : "(none)", c->field);
    else
        CHECK(field == NULL, "%s: unexpected field %s", c->name,
              json_is_string(field) ? json_string_value(field) : "?");
    if (c->status == 405)
        CHECK(res.allow && strcmp(res.allow, c->allow) == 0, "%s: allow %s want %s", c->name,
              res.allow ? res.allow : "(null)", c->allow);
    else
        CHECK(res.allow == NULL, "%s: allow set to %s", c->name, res.allow);
    json_decref(res.body);
}

static void test_handle_without_manager(void **state)
{
    static const char long_key_body[] =
        "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaa\":\"x\"}";
    static const struct handle_case cases[] = {
        {"unknown path", "GET", "/api/nope", NULL, -1, NULL, NULL, 404, "not_found", NULL, NULL},
        {"unknown path with body", "PUT", "/api/nope", "{}", -1, NULL, NULL, 404, "not_found", NULL,
         NULL},
        {"root", "GET", "/", NULL, -1, NULL, NULL, 404, "not_found", NULL, NULL},
        {"POST health", "POST", "/api/health", NULL, -1, NULL, NULL, 405, "method_not_allowed",
         NULL, "GET"},
        {"DELETE config", "DELETE", "/api/config", NULL, -1, NULL, NULL, 405, "method_not_allowed",
         NULL, "GET, PUT"},
        {"GET start", "GET", "/api/registry/start", NULL, -1, NULL, NULL, 405, "method_not_allowed",
         NULL, "POST"},
        {"POST registry", "POST", "/api/registry", NULL, -1, NULL, NULL, 405, "method_not_allowed",
         NULL, "DELETE"},
        {"GET inspect", "GET", "/api/grant/inspect", NULL, -1, NULL, NULL, 405,
         "method_not_allowed", NULL, "POST"},
        /* PUT /api/config: the body must be one JSON object */
        {"config no body", "PUT", "/api/config", NULL, -1, NULL, NULL, 400, "invalid_json", NULL,
         NULL},
        {"config empty body", "PUT", "/api/config", "", -1, NULL, NULL, 400, "invalid_json", NULL,
         NULL},
        {"config broken", "PUT", "/api/config", "{", -1, NULL, NULL, 400, "invalid_json", NULL,
         NULL},
        {"config not JSON", "PUT", "/api/config", "mode=local", -1, NULL, NULL, 400, "invalid_json",
         NULL, NULL},
        {"config array", "PUT", "/api/config", "[]", -1, NULL, NULL, 400, "invalid_json", NULL,
         NULL},
        {"config string", "PUT", "/api/config", "\"x\"", -1, NULL, NULL, 400, "invalid_json", NULL,
         NULL},
        {"config null", "PUT", "/api/config", "null", -1, NULL, NULL, 400, "invalid_json", NULL,
         NULL},
        {"config number", "PUT", "/api/config", "42", -1, NULL, NULL, 400, "invalid_json", NULL,
         NULL},
        {"config duplicate key", "PUT", "/api/config", "{\"port\":1,\"port\":2}", -1, NULL, NULL,
         400, "invalid_json", NULL, NULL},
        {"config trailing garbage", "PUT", "/api/config", "{} {}", -1, NULL, NULL, 400,
         "invalid_json", NULL, NULL},
        {"config cut by length", "PUT", "/api/config", "{\"mode\":\"local\"}", 8, NULL, NULL, 400,
         "invalid_json", NULL, NULL},
        {"config embedded NUL", "PUT", "/api/config", "{\"a\":\"\0\"}", 9, NULL, NULL, 400,
         "invalid_json", NULL, NULL},
        {"config bad UTF-8", "PUT", "/api/config", "{\"bucket\":\"\xff\"}", -1, NULL, NULL, 400,
         "invalid_json", NULL, NULL},
        {"config trailing slash", "PUT", "/api/config/", "[", -1, NULL, NULL, 400, "invalid_json",
         NULL, NULL},
        /* start/stop/restart: a body may be left out, but if sent it is JSON */
        {"start not JSON", "POST", "/api/registry/start", "go", -1, NULL, NULL, 400, "invalid_json",
         NULL, NULL},
        {"start array", "POST", "/api/registry/start", "[]", -1, NULL, NULL, 400, "invalid_json",
         NULL, NULL},
        {"stop broken", "POST", "/api/registry/stop", "{\"", -1, NULL, NULL, 400, "invalid_json",
         NULL, NULL},
        {"restart string", "POST", "/api/registry/restart", "\"now\"", -1, NULL, NULL, 400,
         "invalid_json", NULL, NULL},
        /* DELETE /api/registry?purge= */
        {"purge maybe", "DELETE", "/api/registry", NULL, -1, "purge", "maybe", 400, "invalid_value",
         "purge", NULL},
        {"purge empty", "DELETE", "/api/registry", NULL, -1, "purge", "", 400, "invalid_value",
         "purge", NULL},
        {"purge TRUE", "DELETE", "/api/registry", NULL, -1, "purge", "TRUE", 400, "invalid_value",
         "purge", NULL},
        {"purge yes", "DELETE", "/api/registry", NULL, -1, "purge", "yes", 400, "invalid_value",
         "purge", NULL},
        /* GET /api/registry/logs?tail= */
        {"tail zero", "GET", "/api/registry/logs", NULL, -1, "tail", "0", 400, "out_of_range",
         "tail", NULL},
        {"tail negative", "GET", "/api/registry/logs", NULL, -1, "tail", "-5", 400, "out_of_range",
         "tail", NULL},
        {"tail over max", "GET", "/api/registry/logs", NULL, -1, "tail", "2001", 400,
         "out_of_range", "tail", NULL},
        {"tail huge", "GET", "/api/registry/logs", NULL, -1, "tail", "99999999999999999999999", 400,
         "out_of_range", "tail", NULL},
        {"tail word", "GET", "/api/registry/logs", NULL, -1, "tail", "all", 400, "out_of_range",
         "tail", NULL},
        {"tail empty", "GET", "/api/registry/logs", NULL, -1, "tail", "", 400, "out_of_range",
         "tail", NULL},
        {"tail suffix", "GET", "/api/registry/logs", NULL, -1, "tail", "10x", 400, "out_of_range",
         "tail", NULL},
        {"tail float", "GET", "/api/registry/logs", NULL, -1, "tail", "1.5", 400, "out_of_range",
         "tail", NULL},
        {"tail HEAD", "HEAD", "/api/registry/logs", NULL, -1, "tail", "0", 400, "out_of_range",
         "tail", NULL},
        /* POST /api/registry/gc: like start, a body is optional but JSON */
        {"gc not JSON", "POST", "/api/registry/gc", "now", -1, NULL, NULL, 400, "invalid_json",
         NULL, NULL},
        /* DELETE /api/repositories/{name}/manifests/{digest}: both checked first */
        {"image uppercase name", "DELETE", "/api/repositories/Alpine/manifests/" DIGEST, NULL, -1,
         NULL, NULL, 400, "invalid_value", "name", NULL},
        {"image name with a space", "DELETE", "/api/repositories/a b/manifests/" DIGEST, NULL, -1,
         NULL, NULL, 400, "invalid_value", "name", NULL},
        {"image name ends with a slash", "DELETE", "/api/repositories/alpine//manifests/" DIGEST,
         NULL, -1, NULL, NULL, 400, "invalid_value", "name", NULL},
        {"image name with ..", "DELETE", "/api/repositories/../manifests/" DIGEST, NULL, -1, NULL,
         NULL, 400, "invalid_value", "name", NULL},
        {"image tag instead of digest", "DELETE", "/api/repositories/alpine/manifests/latest", NULL,
         -1, NULL, NULL, 400, "invalid_value", "digest", NULL},
        {"image short digest", "DELETE", "/api/repositories/alpine/manifests/sha256:0123", NULL, -1,
         NULL, NULL, 400, "invalid_value", "digest", NULL},
        {"image uppercase digest", "DELETE",
         "/api/repositories/alpine/manifests/"
         "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
         NULL, -1, NULL, NULL, 400, "invalid_value", "digest", NULL},
        {"image sha512 digest", "DELETE",
         "/api/repositories/alpine/manifests/"
         "sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         NULL, -1, NULL, NULL, 400, "invalid_value", "digest", NULL},
        {"image name holding /manifests/", "DELETE",
         "/api/repositories/alpine/manifests/x/manifests/y", NULL, -1, NULL, NULL, 400,
         "invalid_value", "digest", NULL},
        /* the route matches without the trailing slash; the handler, which splits the path
         * as sent, finds no image in it (it read uninitialised names before) */
        {"image trailing slash after manifests", "DELETE",
         "/api/repositories/alpine/manifests/x/manifests/", NULL, -1, NULL, NULL, 400,
         "invalid_value", "name", NULL},
        {"PUT image", "PUT", IMAGE_PATH, NULL, -1, NULL, NULL, 405, "method_not_allowed", NULL,
         "GET, DELETE"},
        {"GET image uppercase name", "GET", "/api/repositories/Alpine/manifests/" DIGEST, NULL, -1,
         NULL, NULL, 400, "invalid_value", "name", NULL},
        {"GET image tag instead of digest", "GET", "/api/repositories/alpine/manifests/latest",
         NULL, -1, NULL, NULL, 400, "invalid_value", "digest", NULL},
        /* POST /api/grant/inspect */
        {"inspect no body", "POST", "/api/grant/inspect", NULL, -1, NULL, NULL, 400, "invalid_json",
         NULL, NULL},
        {"inspect empty", "POST", "/api/grant/inspect", "", -1, NULL, NULL, 400, "invalid_json",
         NULL, NULL},
        {"inspect broken", "POST", "/api/grant/inspect", "{\"accessGrant\":", -1, NULL, NULL, 400,
         "invalid_json", NULL, NULL},
        {"inspect array", "POST", "/api/grant/inspect", "[\"1abc\"]", -1, NULL, NULL, 400,
         "invalid_json", NULL, NULL},
        {"inspect unknown field", "POST", "/api/grant/inspect", "{\"grant\":\"x\"}", -1, NULL, NULL,
         400, "unknown_field", "grant", NULL},
        {"inspect unknown after good", "POST", "/api/grant/inspect",
         "{\"accessGrant\":\"x\",\"satellite\":\"y\"}", -1, NULL, NULL, 400, "unknown_field",
         "satellite", NULL},
        {"inspect grant number", "POST", "/api/grant/inspect", "{\"accessGrant\":1}", -1, NULL,
         NULL, 400, "invalid_type", "accessGrant", NULL},
        {"inspect grant null", "POST", "/api/grant/inspect", "{\"accessGrant\":null}", -1, NULL,
         NULL, 400, "invalid_type", "accessGrant", NULL},
        {"inspect bucket object", "POST", "/api/grant/inspect", "{\"bucket\":{}}", -1, NULL, NULL,
         400, "invalid_type", "bucket", NULL},
        {"inspect bucket bool", "POST", "/api/grant/inspect",
         "{\"accessGrant\":\"x\",\"bucket\":true}", -1, NULL, NULL, 400, "invalid_type", "bucket",
         NULL},
        {"inspect long key", "POST", "/api/grant/inspect", long_key_body, -1, NULL, NULL, 400,
         "unknown_field",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 63: cut */
         NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_handle(&cases[i]);
}

static void test_handle_health(void **state)
{
    /* the one route that needs no manager */
    const char *methods[] = {"GET", "HEAD"};
    for (int i = 0; i < 2; i++) {
        struct api_request req = {.method = methods[i], .path = "/api/health"};
        struct api_response res = {0};
        api_handle(NULL, &req, &res);
        assert_int_equal(res.status, 200);
        assert_null(res.allow);
        assert_true(json_is_true(json_object_get(res.body, "ok")));
        assert_string_equal(json_string_value(json_object_get(res.body, "version")), SR_VERSION);
        json_decref(res.body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_table),   cmocka_unit_test(test_route_long_paths),
        cmocka_unit_test(test_error_body),    cmocka_unit_test(test_handle_without_manager),
        cmocka_unit_test(test_handle_health),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
