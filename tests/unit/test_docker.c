/*
 * Unit tests for backend/docker.c against a scripted engine on a Unix
 * socket: API version negotiation with the answers of the two test engines
 * (Engine 20.10: API 1.41; Engine 28.5: API 1.51, minimum 1.24) and of
 * engines outside what the client speaks, and the error shapes the engines
 * send (recorded from both engines on 2026-12-01).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "docker.h"
#include "testutil.h"
#include "util.h"

/* ---- the scripted engine ------------------------------------------------ */

struct engine {
    int fd;
    char path[108];
    pthread_t thread;
    int status;             /* HTTP status of every answer */
    const char *body;       /* body of every answer */
    char last_request[512]; /* request line of the last request */
    int requests;
    pthread_mutex_t mu;
};

static void *serve(void *arg)
{
    struct engine *en = arg;
    for (;;) {
        int c = accept(en->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char req[8192];
        size_t n = 0;
        while (n < sizeof req - 1) {
            ssize_t r = read(c, req + n, sizeof req - 1 - n);
            if (r <= 0)
                break;
            n += (size_t)r;
            req[n] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        req[n] = '\0';
        pthread_mutex_lock(&en->mu);
        char *eol = strstr(req, "\r\n");
        if (eol)
            *eol = '\0';
        snprintf(en->last_request, sizeof en->last_request, "%.500s", req);
        en->requests++;
        char head[256];
        int hl = snprintf(head, sizeof head,
                          "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                          en->status, strlen(en->body));
        ssize_t w = write(c, head, (size_t)hl);
        w = write(c, en->body, strlen(en->body));
        (void)w;
        pthread_mutex_unlock(&en->mu);
        close(c);
    }
}

static struct engine *engine_start(void)
{
    struct engine *en = calloc(1, sizeof *en);
    assert_non_null(en);
    pthread_mutex_init(&en->mu, NULL);
    snprintf(en->path, sizeof en->path, "/tmp/sr-test-docker-%d.sock", (int)getpid());
    unlink(en->path);
    en->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(en->fd >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", en->path);
    assert_int_equal(bind(en->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(en->fd, 8), 0);
    en->status = 200;
    en->body = "{}";
    assert_int_equal(pthread_create(&en->thread, NULL, serve, en), 0);
    return en;
}

static void engine_answer(struct engine *en, int status, const char *body)
{
    pthread_mutex_lock(&en->mu);
    en->status = status;
    en->body = body;
    pthread_mutex_unlock(&en->mu);
}

static void engine_stop(struct engine *en)
{
    shutdown(en->fd, SHUT_RDWR);
    close(en->fd);
    pthread_join(en->thread, NULL);
    unlink(en->path);
    pthread_mutex_destroy(&en->mu);
    free(en);
}

/* ---- negotiation -------------------------------------------------------- */

/* GET /version answers, cut to the fields that matter (both test engines
 * send these; MinAPIVersion is 1.12 on 20.10, 1.24 on 28.5, 1.44 on 29). */
static const struct {
    const char *name, *version;
    int ok;
    const char *api, *code;
} engines[] = {
    {"Engine 20.10 (Debian 12)",
     "{\"Version\":\"20.10.24+dfsg1\",\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.12\"}", 1,
     "1.41", NULL},
    {"Engine 28.5 (Docker Desktop's)",
     "{\"Version\":\"28.5.2+dfsg4\",\"ApiVersion\":\"1.51\",\"MinAPIVersion\":\"1.24\"}", 1, "1.47",
     NULL},
    {"Engine 29 (minimum 1.44)",
     "{\"Version\":\"29.0.0\",\"ApiVersion\":\"1.52\",\"MinAPIVersion\":\"1.44\"}", 1, "1.47",
     NULL},
    {"an engine without MinAPIVersion", "{\"Version\":\"x\",\"ApiVersion\":\"1.45\"}", 1, "1.45",
     NULL},
    {"an engine older than 1.40", "{\"Version\":\"18.09\",\"ApiVersion\":\"1.39\"}", 0, NULL,
     "docker_too_old"},
    /* every call in our version would answer 400 "client version 1.47 is
     * too old": say so once, at negotiation */
    {"an engine that refuses our newest version",
     "{\"Version\":\"99.0\",\"ApiVersion\":\"1.60\",\"MinAPIVersion\":\"1.50\"}", 0, NULL,
     "docker_too_new"},
    {"an answer without a version", "{\"Version\":\"x\"}", 0, NULL, "docker_bad_version"},
};

static void test_negotiation(void **state)
{
    struct engine *en = engine_start();
    for (size_t i = 0; i < sizeof engines / sizeof *engines; i++) {
        struct docker d;
        struct err e = {0};
        assert_int_equal(docker_init(&d, en->path), 0);
        engine_answer(en, 200, engines[i].version);
        int rc = docker_negotiate(&d, &e);
        char api[16], ver[64];
        docker_versions(&d, api, sizeof api, ver, sizeof ver);
        if (engines[i].ok) {
            CHECK(rc == 0, "%s: negotiation failed: %s", engines[i].name, e.message);
            CHECK(strcmp(api, engines[i].api) == 0, "%s: API %s want %s", engines[i].name, api,
                  engines[i].api);
            /* every later call names the negotiated version */
            long status = 0;
            engine_answer(en, 200, "[]");
            CHECK(docker_call(&d, "GET", "/containers/json", NULL, NULL, 0, &status, NULL, 5, &e) ==
                          0 &&
                      status == 200,
                  "%s: call failed", engines[i].name);
            char want[64];
            snprintf(want, sizeof want, "GET /v%s/containers/json HTTP/1.1", engines[i].api);
            pthread_mutex_lock(&en->mu);
            CHECK(strcmp(en->last_request, want) == 0, "%s: request '%s' want '%s'",
                  engines[i].name, en->last_request, want);
            pthread_mutex_unlock(&en->mu);
        } else {
            CHECK(rc == -1, "%s: negotiation succeeded with API %s", engines[i].name, api);
            CHECK(ecode_name(e.code) && strcmp(ecode_name(e.code), engines[i].code) == 0,
                  "%s: code %s want %s", engines[i].name,
                  ecode_name(e.code) ? ecode_name(e.code) : "(none)", engines[i].code);
            CHECK(e.message[0] != '\0', "%s: no message", engines[i].name);
            CHECK(!docker_negotiated(&d), "%s: marked negotiated", engines[i].name);
        }
        docker_cleanup(&d);
    }
    engine_stop(en);
}

/* ---- error shapes ------------------------------------------------------- */

/* POST /images/create of a tag that is not in the registry: both engines
 * answer with an HTTP error and {"message"} before any stream, in their own
 * words. */
static const struct {
    const char *name;
    int status;
    const char *body, *words;
} pull_errors[] = {
    {"Engine 20.10, tag not found", 404,
     "{\"message\":\"manifest for localhost:5001/cap/missing:1 not found: manifest unknown: "
     "manifest unknown\"}",
     "manifest for localhost:5001/cap/missing:1 not found"},
    {"Engine 28.5, tag not found", 404,
     "{\"message\":\"failed to resolve reference \\\"localhost:5001/cap/missing:1\\\": "
     "localhost:5001/cap/missing:1: not found\"}",
     "failed to resolve reference \"localhost:5001/cap/missing:1\""},
    {"Engine 28.5, registry down", 500,
     "{\"message\":\"failed to resolve reference \\\"localhost:1/cap/missing:1\\\": failed to do "
     "request: Head \\\"https://localhost:1/v2/cap/missing/manifests/1\\\": dial tcp "
     "127.0.0.1:1: connect: connection refused\"}",
     "connection refused"},
};

/* POST /containers/{id}/start refused: a port another program holds has no
 * code in Docker's API, only words (Engine 20.10's userland proxy, Engine
 * 28.5's port mapper, a port another container publishes); anything else is
 * start_failed. */
static const struct {
    const char *name, *body, *code;
} start_errors[] = {
    {"Engine 20.10, port held by a program",
     "{\"message\":\"driver failed programming external connectivity on endpoint storj-registry "
     "(0123): Error starting userland proxy: listen tcp4 127.0.0.1:9999: bind: address already in "
     "use\"}",
     "port_in_use"},
    {"Engine 28.5, port held by a program",
     "{\"message\":\"failed to set up container networking: driver failed programming external "
     "connectivity on endpoint storj-registry (0123): failed to bind host port for "
     "127.0.0.1:9999:198.18.0.2:5000/tcp: address already in use\"}",
     "port_in_use"},
    {"a port another container publishes",
     "{\"message\":\"driver failed programming external connectivity on endpoint storj-registry "
     "(0123): Bind for 127.0.0.1:9999 failed: port is already allocated\"}",
     "port_in_use"},
    {"an entrypoint that is missing",
     "{\"message\":\"failed to create task for container: exec: \\\"registry\\\": "
     "executable file not found in $PATH\"}",
     "start_failed"},
};

static void test_start_error_codes(void **state)
{
    struct engine *en = engine_start();
    struct docker d;
    assert_int_equal(docker_init(&d, en->path), 0);
    struct err e = {0};
    engine_answer(en, 200, engines[1].version);
    assert_int_equal(docker_negotiate(&d, &e), 0);
    for (size_t i = 0; i < sizeof start_errors / sizeof *start_errors; i++) {
        memset(&e, 0, sizeof e);
        engine_answer(en, 500, start_errors[i].body);
        CHECK(docker_start(&d, "0123", &e) == -1, "%s: start succeeded", start_errors[i].name);
        const char *got = ecode_name(e.code);
        CHECK(got && strcmp(got, start_errors[i].code) == 0, "%s: code %s want %s",
              start_errors[i].name, got ? got : "(none)", start_errors[i].code);
        CHECK(ecode_hint(e.code) != NULL, "%s: no hint for %s", start_errors[i].name,
              got ? got : "(none)");
    }
    /* a stop refused in the same words is no port conflict */
    memset(&e, 0, sizeof e);
    engine_answer(en, 500, start_errors[0].body);
    CHECK(docker_stop(&d, "0123", 1, &e) == -1 && e.code == E_STOP_FAILED, "stop: code %s",
          ecode_name(e.code) ? ecode_name(e.code) : "(none)");
    docker_cleanup(&d);
    engine_stop(en);
}

static void test_pull_error_shapes(void **state)
{
    struct engine *en = engine_start();
    struct docker d;
    assert_int_equal(docker_init(&d, en->path), 0);
    struct err e = {0};
    engine_answer(en, 200, engines[1].version);
    assert_int_equal(docker_negotiate(&d, &e), 0);
    for (size_t i = 0; i < sizeof pull_errors / sizeof *pull_errors; i++) {
        memset(&e, 0, sizeof e);
        engine_answer(en, pull_errors[i].status, pull_errors[i].body);
        int rc = docker_pull(&d, "localhost:5001/cap/missing:1", NULL, NULL, &e);
        CHECK(rc == -1, "%s: pull succeeded", pull_errors[i].name);
        CHECK(ecode_name(e.code) && strcmp(ecode_name(e.code), "pull_failed") == 0, "%s: code %s",
              pull_errors[i].name, ecode_name(e.code) ? ecode_name(e.code) : "(none)");
        CHECK(strstr(e.message, pull_errors[i].words) != NULL, "%s: message '%s' lacks '%s'",
              pull_errors[i].name, e.message, pull_errors[i].words);
    }
    /* an error line inside a 200 stream (Engine 20.10's way for some
     * failures) */
    memset(&e, 0, sizeof e);
    engine_answer(en, 200,
                  "{\"status\":\"Pulling from cap/img\",\"id\":\"1\"}\r\n"
                  "{\"errorDetail\":{\"message\":\"unauthorized: authentication required\"},"
                  "\"error\":\"unauthorized: authentication required\"}\r\n");
    CHECK(docker_pull(&d, "localhost:5001/cap/img:1", NULL, NULL, &e) == -1 &&
              strstr(e.message, "authentication required"),
          "error line in a 200 stream: '%s'", e.message);
    docker_cleanup(&d);
    engine_stop(en);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiation),
        cmocka_unit_test(test_pull_error_shapes),
        cmocka_unit_test(test_start_error_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
