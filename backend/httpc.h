/* The one HTTP client of the backend (libcurl underneath): the registry
 * (browse, readiness probes), S3 endpoints (storage check), the Auth Service
 * and the Docker engine over its Unix socket all go through httpc_do, so
 * that the common options live in one place:
 *   - a time limit for the whole request, and optionally a CLOCK_MONOTONIC
 *     deadline (the sooner of both counts); a request past its deadline is
 *     not sent at all;
 *   - no signals (CURLOPT_NOSIGNAL: the backend is threaded);
 *   - http and https only (also on redirects, which are never followed);
 *   - no proxy from the environment unless asked;
 *   - an answer that is not handed back is wiped before it is freed (it may
 *     carry credentials);
 *   - the answer collected into a capped buffer (outside input never grows
 *     memory past the cap), or handed to a sink as it arrives;
 *   - cancellation: a callback asked from curl's progress ticks (at least
 *     once a second, also while nothing arrives);
 *   - optionally a Unix socket, basic auth or AWS SigV4 credentials.
 * A struct httpc keeps one connection open between requests of one thread
 * (keep-alive); httpc_do with a NULL client uses a handle for one request.
 * Thread-safe as long as a struct httpc is used by one thread at a time. */
#ifndef SR_HTTPC_H
#define SR_HTTPC_H

#include <stddef.h>
#include <time.h>

#include "util.h"

/* the default cap of a collected answer */
#define HTTPC_MAX_RESPONSE (4 * 1024 * 1024)

enum httpc_result {
    HTTPC_OK = 0,      /* an answer came (any HTTP status) */
    HTTPC_UNREACHABLE, /* no connection (refused, unknown host, no socket) */
    HTTPC_TIMEOUT,     /* the time limit or the deadline passed */
    HTTPC_CANCELLED,   /* the cancel callback (or the sink) asked to stop */
    HTTPC_TOO_LARGE,   /* the answer is larger than the cap */
    HTTPC_TLS,         /* TLS failed (handshake, certificate) */
    HTTPC_FAILED,      /* anything else (the connection broke, bad URL) */
};

struct httpc_req {
    const char *method; /* NULL: GET; "HEAD" sends no body and reads none */
    const char *url;
    const char *unix_socket; /* connect here instead of the URL's host */
    /* extra header lines "Name: value", NULL-terminated (may be NULL) */
    const char *const *headers;
    const void *body; /* sent when not NULL, or for POST and PUT (empty) */
    size_t body_len;
    const char *user, *password; /* basic auth, or the keys for aws_sigv4 */
    /* a public key pin ("sha256//..."): the server's key is checked, not
     * its certificate's chain and name (a certificate for another address) */
    const char *tls_pin;
    const char *aws_sigv4;   /* e.g. "aws:amz:us-east-1:s3" */
    const char *noproxy;     /* NULL: "*" (no proxy at all) */
    int env_proxy;           /* instead: the proxy settings of the environment (no_proxy too) */
    long timeout_ms;         /* the whole request; 0: no limit */
    long connect_timeout_ms; /* 0: the same as timeout_ms (or 10 s) */
    /* with no time limit: give up when less than 1 byte a second moved for
     * this many seconds (0: never) */
    long stall_s;
    const struct timespec *deadline; /* CLOCK_MONOTONIC; NULL: none */
    size_t max_response;             /* cap of the collected body; 0: HTTPC_MAX_RESPONSE */
    /* the body as it arrives instead of collecting it: n consumed, any
     * other answer stops the transfer (HTTPC_CANCELLED) */
    size_t (*sink)(void *ctx, const char *p, size_t n);
    /* asked at least once a second: non-zero stops the transfer */
    int (*cancel)(void *ctx);
    /* every header line of the answer, as it arrives (CRLF included) */
    void (*on_header)(void *ctx, const char *line, size_t n);
    void *ctx;
};

struct httpc_resp {
    long status;     /* HTTP status, 0 when none came */
    struct buf body; /* the collected body (no sink); free with buf_free */
    int curl_code;   /* libcurl's CURLcode, for callers that explain it */
    char error[256]; /* what went wrong, in words (empty on HTTPC_OK) */
};

/* A reusable client: one connection kept between requests. */
struct httpc {
    void *curl;
};

int httpc_init(struct httpc *c);
void httpc_free(struct httpc *c);

/* One request. HTTPC_OK when an answer came (any status); otherwise why not,
 * with resp->error set and nothing collected. resp is always initialised. */
enum httpc_result httpc_do(struct httpc *c, const struct httpc_req *req, struct httpc_resp *resp);

/* GET url within timeout_ms (no proxy, body discarded): the HTTP status, or
 * 0 when nothing answered. */
long httpc_get_status(const char *url, long timeout_ms);

/* Milliseconds from now to the CLOCK_MONOTONIC time at (negative: past). */
long httpc_ms_left(const struct timespec *at);

/* The value of header `name` ("Link:", matched without case) in one header
 * line of n bytes (as on_header gets it), without surrounding blanks and
 * CRLF, into out; out is left as it was when the line is another header or
 * the value does not fit in len. */
void httpc_header_value(const char *line, size_t n, const char *name, char *out, size_t len);

/* A short name of a result ("timeout", ...), for logs and tests. */
const char *httpc_result_name(enum httpc_result r);

#endif
