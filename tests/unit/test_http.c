/*
 * Unit tests for the pure guards of backend/http.c: which Host headers the
 * loopback listener answers (DNS rebinding) and which Origin headers may
 * change state (cross-site requests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_allowed),
        cmocka_unit_test(test_origin_allowed),
        cmocka_unit_test(test_host_follows_the_bound_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
