/*
 * Unit tests for the pure guards of backend/http.c: which Host headers the
 * loopback listener answers (DNS rebinding) and which Origin and
 * Sec-Fetch-Site headers it refuses (cross-site requests, on every method),
 * then the same through the real listener with libcurl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "http.h"

#define PORT 8090

struct guard_case {
    const char *value;
    int port;
    int want;
};

static void test_host_allowed(void **state)
{
    static const struct guard_case cases[] = {
        /* the listener's own names and port */
        {"127.0.0.1:8090", PORT, 1},
        {"localhost:8090", PORT, 1},
        {"127.0.0.1:1", 1, 1},
        {"localhost:65535", 65535, 1},
        /* no port means 80 */
        {"127.0.0.1", 80, 1},
        {"localhost", 80, 1},
        {"127.0.0.1", PORT, 0},
        {"localhost", PORT, 0},
        {"[::1]", PORT, 0},
        /* other ports */
        {"127.0.0.1:8091", PORT, 0},
        {"127.0.0.1:809", PORT, 0},
        {"127.0.0.1:80900", PORT, 0},
        {"127.0.0.1:80", PORT, 0},
        {"localhost:9999", PORT, 0},
        {"[::1]:8091", PORT, 0},
        /* junk after the port */
        {"127.0.0.1:8090x", PORT, 0},
        {"127.0.0.1:+8090", PORT, 0},
        {"127.0.0.1: 8090", PORT, 0},
        {"127.0.0.1:08090", PORT, 0},
        {"127.0.0.1:8090 ", PORT, 0},
        {"127.0.0.1:8090/", PORT, 0},
        {"localhost:8090@evil.com", PORT, 0},
        {"localhost:8090.evil.com", PORT, 0},
        {"127.0.0.1:", PORT, 0},
        {"127.0.0.1:x", PORT, 0},
        /* other hosts, including ones that start like ours */
        {NULL, PORT, 0},
        {"", PORT, 0},
        {":8090", PORT, 0},
        {"evil.com:8090", PORT, 0},
        {"localhost.evil.com:8090", PORT, 0},
        {"127.0.0.1.nip.io:8090", PORT, 0},
        {"127.0.0.10:8090", PORT, 0},
        {"127.0.0.2:8090", PORT, 0},
        {"0.0.0.0:8090", PORT, 0},
        {"127.0.0.2:8090", PORT, 0},
        {"::1:8090", PORT, 0},
        {"[::1]x:8090", PORT, 0},
        {"[::2]:8090", PORT, 0},
        {"[0:0:0:0:0:0:0:1]:8090", PORT, 0},
        {"localhos:8090", PORT, 0},
        {"xlocalhost:8090", PORT, 0},
        {" localhost:8090", PORT, 0},
        {"LOCALHOST:8090", PORT, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int got = http_host_allowed(cases[i].value, "127.0.0.1", cases[i].port);
        if (got != cases[i].want)
            fail_msg("Host %s%s%s (port %d): got %d want %d", cases[i].value ? "\"" : "",
                     cases[i].value ? cases[i].value : "(none)", cases[i].value ? "\"" : "",
                     cases[i].port, got, cases[i].want);
    }
}

static void test_origin_allowed(void **state)
{
    static const struct guard_case cases[] = {
        /* no Origin: not a browser's cross-site request */
        {NULL, PORT, 1},
        /* the UI's own origin */
        {"http://127.0.0.1:8090", PORT, 1},
        {"http://localhost:8090", PORT, 1},

        {"http://127.0.0.1", 80, 1},
        /* other schemes */
        {"https://127.0.0.1:8090", PORT, 0},
        {"https://localhost:8090", PORT, 0},
        {"HTTP://127.0.0.1:8090", PORT, 0},
        {"ws://127.0.0.1:8090", PORT, 0},
        {"file://", PORT, 0},
        {"127.0.0.1:8090", PORT, 0},
        {"//127.0.0.1:8090", PORT, 0},
        /* opaque and empty origins */
        {"null", PORT, 0},
        {"", PORT, 0},
        {"http://", PORT, 0},
        /* other hosts and ports */
        {"http://evil.com", PORT, 0},
        {"http://evil.com:8090", PORT, 0},
        {"http://localhost.evil.com:8090", PORT, 0},
        {"http://127.0.0.1:8091", PORT, 0},
        {"http://127.0.0.1", PORT, 0},
        {"http://localhost:9999", PORT, 0},
        {"http://127.0.0.1:8090/", PORT, 0},
        {"http://127.0.0.1:8090.evil.com", PORT, 0},
        {"http://user@127.0.0.1:8090", PORT, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int got = http_origin_allowed(cases[i].value, "127.0.0.1", cases[i].port);
        if (got != cases[i].want)
            fail_msg("Origin %s (port %d): got %d want %d",
                     cases[i].value ? cases[i].value : "(none)", cases[i].port, got, cases[i].want);
    }
}

/* The allow-list follows the address the listener is bound to: a listener on
 * [::1] does not answer to 127.0.0.1 and the other way round, and one on
 * 127.0.0.5 answers to that address. */
static void test_host_follows_the_bound_address(void **state)
{
    static const struct {
        const char *bound, *host;
        int want;
    } rows[] = {
        {"127.0.0.1", "127.0.0.1:8090", 1},
        {"127.0.0.1", "[::1]:8090", 0},
        {"127.0.0.1", "localhost:8090", 1},
        {"[::1]", "[::1]:8090", 1},
        {"[::1]", "127.0.0.1:8090", 0},
        {"[::1]", "localhost:8090", 1},
        {"[::1]", "[::1]", 0},
        {"127.0.0.5", "127.0.0.5:8090", 1},
        {"127.0.0.5", "127.0.0.1:8090", 0},
        {"", "127.0.0.1:8090", 0},
        {NULL, "localhost:8090", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        int got = http_host_allowed(rows[i].host, rows[i].bound, PORT);
        if (got != rows[i].want)
            fail_msg("Host %s on %s: got %d want %d", rows[i].host,
                     rows[i].bound ? rows[i].bound : "(none)", got, rows[i].want);
    }
    if (!http_origin_allowed("http://[::1]:8090", "[::1]", PORT) ||
        http_origin_allowed("http://127.0.0.1:8090", "[::1]", PORT))
        fail_msg("Origin must follow the bound address");
}

/* Sec-Fetch-Site and Origin, as the pure rule sees them */
static void test_from_allowed(void **state)
{
    static const struct {
        struct http_from f;
        const char *method, *url;
        int want;
    } rows[] = {
        {{0}, "GET", "/api/status", 1},
        {{0}, "POST", "/api/config", 1},
        {{.origin = "http://127.0.0.1:8090"}, "PUT", "/api/config", 1},
        {{.origin = "http://127.0.0.1:8090", .site = "same-origin"}, "GET", "/api/status", 1},
        {{.site = "none", .mode = "navigate", .dest = "document"}, "GET", "/", 1},
        {{.origin = "http://evil.example"}, "GET", "/api/repositories", 0},
        {{.origin = "http://evil.example"}, "HEAD", "/api/status", 0},
        {{.origin = "http://evil.example"}, "OPTIONS", "/api/status", 0},
        {{.origin = "null"}, "GET", "/api/status", 0},
        {{.site = "cross-site", .mode = "no-cors", .dest = "empty"}, "GET", "/api/repositories", 0},
        {{.site = "cross-site", .mode = "no-cors", .dest = "image"}, "GET", "/app.css", 0},
        {{.site = "same-site", .mode = "cors", .dest = "empty"}, "GET", "/api/status", 0},
        {{.site = "cross-site", .mode = "navigate", .dest = "iframe"}, "GET", "/", 0},
        {{.site = "cross-site", .mode = "navigate", .dest = "document"}, "GET", "/", 1},
        {{.site = "cross-site", .mode = "navigate", .dest = "document"}, "HEAD", "/index.html", 1},
        {{.site = "cross-site", .mode = "navigate", .dest = "document"}, "GET", "/api/status", 0},
        {{.site = "cross-site", .mode = "navigate", .dest = "document"}, "GET", "/api", 0},
        {{.site = "cross-site", .mode = "navigate", .dest = "document"}, "POST", "/", 0},
        {{.origin = "http://evil.example",
          .site = "cross-site",
          .mode = "navigate",
          .dest = "document"},
         "POST",
         "/",
         0},
        {{.site = "Cross-Site"}, "GET", "/api/status", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        int got = http_from_allowed(&rows[i].f, rows[i].method, rows[i].url, "127.0.0.1", PORT);
        if (got != rows[i].want)
            fail_msg("row %zu: %s %s: got %d want %d", i, rows[i].method, rows[i].url, got,
                     rows[i].want);
    }
}

/* ---- the real listener: every method, GETs included, is refused when a
 * page on another site or port sends it (a page looping no-cors fetches at
 * /api/ would otherwise fill the slow-request slots) ---- */

static size_t drop_body(char *p, size_t size, size_t n, void *cls)
{
    return size * n;
}

/* The status of method url on port with the extra headers (NULL-ended). */
static long request(int port, const char *method, const char *url, const char *const *headers)
{
    CURL *h = curl_easy_init();
    assert_non_null(h);
    char full[256];
    snprintf(full, sizeof full, "http://127.0.0.1:%d%s", port, url);
    struct curl_slist *hl = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(h, CURLOPT_URL, full);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, drop_body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    return code;
}

static void test_cross_site_refused_on_every_method(void **state)
{
    char dir[] = "/tmp/test_http_ui_XXXXXX", index[64];
    assert_non_null(mkdtemp(dir));
    snprintf(index, sizeof index, "%s/index.html", dir);
    FILE *f = fopen(index, "w");
    assert_non_null(f);
    fputs("<!doctype html><title>ui</title>\n", f);
    fclose(f);

    /* no manager: every request below is answered before one is needed
     * (refused, the UI's files, or 404 outside /api/) */
    struct http_server *srv = NULL;
    int port = 0;
    for (int i = 0; i < 50 && !srv; i++) {
        char listen[32];
        port = 20000 + (int)((getpid() * 7 + i * 131) % 30000);
        snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
        struct http_opts o = {.listen = listen, .ui_dir = dir};
        struct err e = {0};
        srv = http_start(&o, NULL, &e);
    }
    assert_non_null(srv);

    char own[64];
    snprintf(own, sizeof own, "Origin: http://127.0.0.1:%d", port);
    static const char *const none[] = {NULL};
    static const char *const evil[] = {"Origin: http://evil.example", NULL};
    static const char *const other_port[] = {"Origin: http://localhost:3000", NULL};
    static const char *const opaque[] = {"Origin: null", NULL};
    static const char *const no_cors[] = {"Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: no-cors",
                                          "Sec-Fetch-Dest: empty", NULL};
    static const char *const same_site[] = {"Sec-Fetch-Site: same-site", "Sec-Fetch-Mode: cors",
                                            "Sec-Fetch-Dest: empty", NULL};
    static const char *const iframe[] = {"Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: navigate",
                                         "Sec-Fetch-Dest: iframe", NULL};
    static const char *const link[] = {"Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: navigate",
                                       "Sec-Fetch-Dest: document", NULL};
    static const char *const typed[] = {"Sec-Fetch-Site: none", "Sec-Fetch-Mode: navigate",
                                        "Sec-Fetch-Dest: document", NULL};
    const char *const same_origin[] = {own, "Sec-Fetch-Site: same-origin", "Sec-Fetch-Mode: cors",
                                       NULL};
    static const struct {
        const char *method, *url;
        const char *const *headers; /* NULL: same_origin */
        long want;
    } rows[] = {
        /* curl, scripts: no browser headers */
        {"GET", "/", none, 200},
        {"GET", "/nothing", none, 404},
        /* the UI's own requests */
        {"GET", "/nothing", NULL, 404},
        {"POST", "/nothing", NULL, 404},
        /* a page elsewhere: refused whatever the method (before any route:
         * the API's would need the manager this server does not have) */
        {"GET", "/nothing", evil, 403},
        {"GET", "/", evil, 403},
        {"GET", "/api/repositories", evil, 403},
        {"HEAD", "/api/repositories", evil, 403},
        {"POST", "/api/registry/stop", evil, 403},
        {"GET", "/api/repositories", other_port, 403},
        {"GET", "/api/repositories", opaque, 403},
        {"GET", "/api/repositories", no_cors, 403},
        {"HEAD", "/api/status", no_cors, 403},
        {"GET", "/nothing", no_cors, 403},
        {"GET", "/api/status", same_site, 403},
        {"GET", "/", iframe, 403},
        /* the user opening the UI: by a link elsewhere, or typed */
        {"GET", "/", link, 200},
        {"GET", "/", typed, 200},
        /* ...but a navigation reaches no API route */
        {"GET", "/api/repositories", link, 403},
        {"POST", "/", link, 403},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        long got = request(port, rows[i].method, rows[i].url,
                           rows[i].headers ? rows[i].headers : same_origin);
        if (got != rows[i].want) {
            http_stop(srv);
            fail_msg("row %zu: %s %s: got %ld want %ld", i, rows[i].method, rows[i].url, got,
                     rows[i].want);
        }
    }
    http_stop(srv);
    unlink(index);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_allowed),
        cmocka_unit_test(test_origin_allowed),
        cmocka_unit_test(test_host_follows_the_bound_address),
        cmocka_unit_test(test_from_allowed),
        cmocka_unit_test(test_cross_site_refused_on_every_method),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
