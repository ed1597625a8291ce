/*
 * Unit tests for backend/httpc.c, the one libcurl helper, against a real
 * HTTP/1.1 peer on 127.0.0.1 and on a Unix socket (support/miniserver.c):
 * statuses and bodies, methods and request bodies, basic auth, the capped
 * answer, a streaming sink, the time limit and the monotonic deadline,
 * cancellation from the progress callback while nothing arrives, keep-alive
 * on a reused client, header lines, and the simple status call. And
 * backend/docker.c, which speaks to the engine through it over a Unix
 * socket: the version negotiated, an answer over the cap, a pull stream
 * read as it arrives and stopped by docker_cancel while nothing arrives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <curl/curl.h>

#include "docker.h"
#include "errors.h"
#include "httpc.h"
#include "miniserver.h"

static int handler(struct mini_server *s, const struct mini_req *r, int fd)
{
    char body[8192];
    if (strncmp(r->path, "/status/", 8) == 0) {
        int st = atoi(r->path + 8);
        return mini_respond(fd, st, "X-Test: yes\r\n", "hello", 5);
    }
    if (strcmp(r->path, "/echo") == 0) {
        int n = snprintf(body, sizeof body, "%s %zu %.*s|%s", r->method, r->body_len,
                         (int)(r->body_len < sizeof r->body ? r->body_len : sizeof r->body),
                         r->body, r->authorization);
        return mini_respond(fd, 200, NULL, body, (size_t)n);
    }
    if (strcmp(r->path, "/big") == 0) {
        memset(body, 'x', sizeof body);
        return mini_respond(fd, 200, NULL, body, sizeof body);
    }
    if (strcmp(r->path, "/stall") == 0) {
        /* headers and half of the body, then nothing until the client goes */
        const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc";
        mini_write(fd, h, strlen(h));
        mini_wait_close(s, fd, 10000);
        return -1;
    }
    if (strcmp(r->path, "/slow") == 0) {
        mini_wait_close(s, fd, 3000);
        return -1;
    }
    return mini_respond(fd, 404, NULL, "", 0);
}

static struct mini_server srv;

static int setup(void **state)
{
    (void)state;
    return mini_start(&srv, NULL, handler, NULL);
}

static int teardown(void **state)
{
    (void)state;
    mini_stop(&srv);
    return 0;
}

static void url_of(char *out, size_t len, const char *path)
{
    snprintf(out, len, "%s%s", srv.url, path);
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_status_and_body(void **state)
{
    (void)state;
    char url[128];
    struct httpc_resp resp;
    url_of(url, sizeof url, "/status/201");
    struct httpc_req req = {.url = url, .timeout_ms = 5000};
    assert_int_equal(httpc_do(NULL, &req, &resp), HTTPC_OK);
    assert_int_equal(resp.status, 201);
    assert_int_equal(resp.body.len, 5);
    assert_memory_equal(resp.body.data, "hello", 5);
    assert_string_equal(resp.error, "");
    buf_free(&resp.body);
    url_of(url, sizeof url, "/status/418");
    assert_int_equal(httpc_get_status(url, 5000), 418);
    url_of(url, sizeof url, "/nothing-here");
    assert_int_equal(httpc_get_status(url, 5000), 404);
}

static void test_methods_body_auth(void **state)
{
    (void)state;
    char url[128];
    struct httpc_resp resp;
    url_of(url, sizeof url, "/echo");
    const char *hdrs[] = {"Content-Type: text/plain", NULL};
    struct httpc_req req = {.method = "PUT",
                            .url = url,
                            .headers = hdrs,
                            .body = "abcdef",
                            .body_len = 6,
                            .user = "alice",
                            .password = "s3cret",
                            .timeout_ms = 5000};
    assert_int_equal(httpc_do(NULL, &req, &resp), HTTPC_OK);
    /* "alice:s3cret" in base64 */
    assert_string_equal(resp.body.data, "PUT 6 abcdef|Basic YWxpY2U6czNjcmV0");
    buf_free(&resp.body);
    struct httpc_req post = {.method = "POST", .url = url, .timeout_ms = 5000};
    assert_int_equal(httpc_do(NULL, &post, &resp), HTTPC_OK);
    assert_string_equal(resp.body.data, "POST 0 |");
    buf_free(&resp.body);
    struct httpc_req del = {.method = "DELETE", .url = url, .timeout_ms = 5000};
    assert_int_equal(httpc_do(NULL, &del, &resp), HTTPC_OK);
    assert_string_equal(resp.body.data, "DELETE 0 |");
    buf_free(&resp.body);
    /* SigV4 instead of basic auth when asked (the storage check) */
    struct httpc_req signed_req = {.url = url,
                                   .user = "AKIDTEST",
                                   .password = "secret",
                                   .aws_sigv4 = "aws:amz:us-east-1:s3",
                                   .timeout_ms = 5000};
    assert_int_equal(httpc_do(NULL, &signed_req, &resp), HTTPC_OK);
    assert_non_null(strstr(resp.body.data, "|AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
    assert_null(strstr(resp.body.data, "secret"));
    /* a header it does not send is not signed (the server would refuse) */
    assert_null(strstr(resp.body.data, "expect"));
    buf_free(&resp.body);
    struct httpc_req head = {.method = "HEAD", .url = url, .timeout_ms = 5000};
    assert_int_equal(httpc_do(NULL, &head, &resp), HTTPC_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 0);
}

static void test_cap(void **state)
{
    (void)state;
    char url[128];
    struct httpc_resp resp;
    url_of(url, sizeof url, "/big");
    struct httpc_req req = {.url = url, .timeout_ms = 5000, .max_response = 1000};
    assert_int_equal(httpc_do(NULL, &req, &resp), HTTPC_TOO_LARGE);
    assert_null(resp.body.data);
    assert_int_equal(resp.body.len, 0);
    req.max_response = 8192;
    assert_int_equal(httpc_do(NULL, &req, &resp), HTTPC_OK);
    assert_int_equal(resp.body.len, 8192);
    buf_free(&resp.body);
}

struct counted {
    size_t bytes;
    int calls, stop_after;
    int polls, cancel_at;
};

static size_t count_sink(void *ctx, const char *p, size_t n)
{
    struct counted *c = ctx;
    c->bytes += n;
    return ++c->calls >= c->stop_after && c->stop_after ? 0 : n;
}

static int count_cancel(void *ctx)
{
    struct counted *c = ctx;
    return ++c->polls >= c->cancel_at;
}

static void test_sink(void **state)
{
    (void)state;
    char url[128];
    struct httpc_resp resp;
    struct counted c = {0};
    url_of(url, sizeof url, "/big");
    struct httpc_req req = {
        .url = url, .timeout_ms = 5000, .max_response = 10, .sink = count_sink, .ctx = &c};
    /* a sink is not capped: it decides */
    assert_int_equal(httpc_do(NULL, &req, &resp), HTTPC_OK);
    assert_int_equal(c.bytes, 8192);
    assert_null(resp.body.data);
    c = (struct counted){.stop_after = 1};
    assert_int_equal(httpc_do(NULL, &req, &resp), HTTPC_CANCELLED);
}

static void test_timeout_and_deadline(void **state)
{
    (void)state;
    char url[128];
    struct httpc_resp resp;
    struct timespec t0;
    url_of(url, sizeof url, "/slow");
    struct httpc_req req = {.url = url, .timeout_ms = 300};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(httpc_do(NULL, &req, &resp), HTTPC_TIMEOUT);
    long ms = elapsed_ms(&t0);
    assert_true(ms >= 250 && ms < 2500);
    assert_true(resp.error[0] != '\0');

    /* the deadline is sooner than the time limit: it counts */
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += 200 * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    struct httpc_req dl = {.url = url, .timeout_ms = 30000, .deadline = &deadline};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(httpc_do(NULL, &dl, &resp), HTTPC_TIMEOUT);
    ms = elapsed_ms(&t0);
    assert_true(ms >= 150 && ms < 2500);
    /* past the deadline nothing is sent */
    int before = __atomic_load_n(&srv.requests, __ATOMIC_SEQ_CST);
    url_of(url, sizeof url, "/status/200");
    dl.url = url;
    assert_int_equal(httpc_do(NULL, &dl, &resp), HTTPC_TIMEOUT);
    assert_int_equal(__atomic_load_n(&srv.requests, __ATOMIC_SEQ_CST), before);
    assert_true(httpc_ms_left(&deadline) <= 0);
}

static void test_cancel_while_stalled(void **state)
{
    (void)state;
    char url[128];
    struct httpc_resp resp;
    struct counted c = {.cancel_at = 3};
    url_of(url, sizeof url, "/stall");
    /* no time limit, nothing arrives: only the progress ticks can stop it */
    struct httpc_req req = {.url = url, .cancel = count_cancel, .ctx = &c};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(httpc_do(NULL, &req, &resp), HTTPC_CANCELLED);
    assert_true(elapsed_ms(&t0) < 8000);
    assert_int_equal(c.polls, 3);
}

static void test_unreachable(void **state)
{
    (void)state;
    struct httpc_resp resp;
    /* a port that was just free: connection refused */
    struct mini_server tmp;
    assert_int_equal(mini_start(&tmp, NULL, handler, NULL), 0);
    char url[128];
    snprintf(url, sizeof url, "%s/status/200", tmp.url);
    mini_stop(&tmp);
    struct httpc_req req = {.url = url, .timeout_ms = 3000};
    assert_int_equal(httpc_do(NULL, &req, &resp), HTTPC_UNREACHABLE);
    assert_int_equal(resp.curl_code, CURLE_COULDNT_CONNECT);
    assert_int_equal(httpc_get_status(url, 3000), 0);
    /* other protocols are refused */
    struct httpc_req file = {.url = "file:///etc/passwd", .timeout_ms = 3000};
    assert_int_not_equal(httpc_do(NULL, &file, &resp), HTTPC_OK);
    assert_null(resp.body.data);
    assert_string_equal(httpc_result_name(HTTPC_TIMEOUT), "timeout");
}

static int header_lines;
static void on_header(void *ctx, const char *line, size_t n)
{
    if (n >= 7 && strncmp(line, "X-Test:", 7) == 0)
        header_lines++;
}

static void test_keepalive(void **state)
{
    (void)state;
    char url[128];
    struct httpc c;
    struct httpc_resp resp;
    /* a server of its own: a connection another test gave up on before it
     * was accepted cannot count here */
    struct mini_server own;
    assert_int_equal(mini_start(&own, NULL, handler, NULL), 0);
    assert_int_equal(httpc_init(&c), 0);
    snprintf(url, sizeof url, "%s/status/200", own.url);
    header_lines = 0;
    for (int i = 0; i < 5; i++) {
        struct httpc_req req = {.url = url, .timeout_ms = 5000, .on_header = on_header};
        assert_int_equal(httpc_do(&c, &req, &resp), HTTPC_OK);
        assert_int_equal(resp.status, 200);
        buf_free(&resp.body);
    }
    httpc_free(&c);
    mini_stop(&own);
    assert_int_equal(header_lines, 5);
    /* one connection for the five requests */
    assert_int_equal(__atomic_load_n(&own.connections, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(__atomic_load_n(&own.requests, __ATOMIC_SEQ_CST), 5);
}

static void test_unix_socket(void **state)
{
    (void)state;
    char path[108];
    struct mini_server us;
    struct httpc_resp resp;
    snprintf(path, sizeof path, "/tmp/sr-httpc-test-%d.sock", (int)getpid());
    assert_int_equal(mini_start(&us, path, handler, NULL), 0);
    struct httpc_req req = {
        .url = "http://docker/status/204", .unix_socket = path, .timeout_ms = 5000};
    assert_int_equal(httpc_do(NULL, &req, &resp), HTTPC_OK);
    assert_int_equal(resp.status, 204);
    buf_free(&resp.body);
    mini_stop(&us);
    assert_int_equal(httpc_do(NULL, &req, &resp), HTTPC_UNREACHABLE);
}

/* ---- docker.c through httpc, against an engine stand-in ---------------- */

static int engine(struct mini_server *s, const struct mini_req *r, int fd)
{
    if (strcmp(r->path, "/version") == 0) {
        const char *b = "{\"ApiVersion\":\"1.45\",\"MinAPIVersion\":\"1.24\",\"Version\":\"26.1\"}";
        return mini_respond(fd, 200, "Content-Type: application/json\r\n", b, strlen(b));
    }
    if (strcmp(r->path, "/v1.45/huge") == 0) {
        /* more than DOCKER_MAX_RESPONSE */
        size_t n = DOCKER_MAX_RESPONSE + 65536;
        char *b = malloc(n);
        memset(b, ' ', n);
        int rc = mini_respond(fd, 200, NULL, b, n);
        free(b);
        return rc;
    }
    if (strncmp(r->path, "/v1.45/images/create?fromImage=", 31) == 0) {
        /* one progress line, then nothing: a pull that hangs */
        const char *h = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n";
        const char *line = "{\"status\":\"Pulling from x\",\"id\":\"1\"}\r\n";
        char chunk[128];
        int n = snprintf(chunk, sizeof chunk, "%zx\r\n%s\r\n", strlen(line), line);
        mini_write(fd, h, strlen(h));
        mini_write(fd, chunk, (size_t)n);
        mini_wait_close(s, fd, 10000);
        return -1;
    }
    return mini_respond(fd, 404, NULL, "{\"message\":\"no such thing\"}", 27);
}

struct canceller {
    struct docker *d;
    int ms;
};

static void *cancel_later(void *arg)
{
    struct canceller *c = arg;
    usleep((useconds_t)c->ms * 1000);
    docker_cancel(c->d);
    return NULL;
}

static int progress_calls;
static int on_pull(void *ctx, const struct pullprog *p)
{
    progress_calls++;
    return 0;
}

static void test_docker_over_socket(void **state)
{
    (void)state;
    char path[108];
    struct mini_server eng;
    struct docker d;
    struct err e = {0};
    long status = 0;
    snprintf(path, sizeof path, "/tmp/sr-httpc-engine-%d.sock", (int)getpid());
    assert_int_equal(mini_start(&eng, path, engine, NULL), 0);
    assert_int_equal(docker_init(&d, path), 0);
    assert_int_equal(docker_negotiate(&d, &e), 0);
    char api[16], ver[64];
    docker_versions(&d, api, sizeof api, ver, sizeof ver);
    assert_string_equal(api, "1.45");
    assert_string_equal(ver, "26.1");
    /* an answer past the cap */
    struct buf out = {0};
    assert_int_equal(docker_call(&d, "GET", "/huge", NULL, NULL, 0, &status, &out, 10, &e), -1);
    assert_int_equal(e.status, 502);
    assert_int_equal(e.code, E_DOCKER_RESPONSE_TOO_LARGE);
    buf_free(&out);
    /* a 404 is an answer */
    assert_int_equal(docker_call(&d, "GET", "/nothing", NULL, NULL, 0, &status, &out, 10, &e), 0);
    assert_int_equal(status, 404);
    buf_free(&out);
    /* a pull that hangs: the stream is read as it comes, docker_cancel
     * stops it within about a second */
    struct canceller c = {.d = &d, .ms = 300};
    pthread_t t;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &c), 0);
    memset(&e, 0, sizeof e);
    progress_calls = 0;
    assert_int_equal(docker_pull(&d, "example/x:1", on_pull, NULL, &e), -1);
    pthread_join(t, NULL);
    assert_int_equal(e.status, 499);
    assert_int_equal(e.code, E_CANCELLED);
    assert_true(progress_calls >= 1);
    long ms = elapsed_ms(&t0);
    assert_true(ms >= 250 && ms < 3000);
    docker_cleanup(&d);
    mini_stop(&eng);
    /* no engine: 503 */
    assert_int_equal(docker_init(&d, path), 0);
    assert_int_equal(docker_negotiate(&d, &e), -1);
    assert_int_equal(e.status, 503);
    assert_int_equal(e.code, E_DOCKER_UNREACHABLE);
    docker_cleanup(&d);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_and_body),
        cmocka_unit_test(test_methods_body_auth),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_sink),
        cmocka_unit_test(test_timeout_and_deadline),
        cmocka_unit_test(test_cancel_while_stalled),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_unix_socket),
        cmocka_unit_test(test_docker_over_socket),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
