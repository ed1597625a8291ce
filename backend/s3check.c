#include "s3check.h"

#include "httpc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define CONNECT_TIMEOUT_S 5L
#define REQUEST_TIMEOUT_S 30L
/* Over a request rate limit (Storj: 100 a second per project, one write a
 * second to one key) a request is asked again this many times, after
 * SLOWDOWN_FIRST_MS, then twice as long each time: the limiter's bucket
 * refills within a second, and a user waits for the check. */
#define SLOWDOWN_RETRIES 3
#define SLOWDOWN_FIRST_MS 500
#define CHECK_BODY "storj-registry storage check: safe to delete\n"

static void put(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(char *dst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, S3CHECK_TEXT_MAX, fmt, ap);
    va_end(ap);
}

static const char *step_verb(const char *step)
{
    if (strcmp(step, "write") == 0)
        return "write objects";
    if (strcmp(step, "read") == 0)
        return "read objects";
    if (strcmp(step, "list") == 0)
        return "list objects";
    if (strcmp(step, "delete") == 0)
        return "delete objects";
    return "use";
}

static int is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

static void explain(const char *step, int curl_code, long status, const char *s3code,
                    const char *bucket, const char *where, int can_create,
                    struct s3check_outcome *o);

void s3check_explain(const char *step, int curl_code, long status, const char *s3code,
                     const char *bucket, const char *where, int can_create,
                     struct s3check_outcome *o)
{
    explain(step, curl_code, status, s3code, bucket, where, can_create, o);
    /* sentences may start with where ("the S3 endpoint ...") */
    if (o->message[0] >= 'a' && o->message[0] <= 'z')
        o->message[0] = (char)(o->message[0] - 'a' + 'A');
}

static void explain(const char *step, int curl_code, long status, const char *s3code,
                    const char *bucket, const char *where, int can_create,
                    struct s3check_outcome *o)
{
    o->fix[0] = '\0';
    if (s3code && !*s3code)
        s3code = NULL;
    if (curl_code != CURLE_OK) {
        o->code = "unreachable";
        switch (curl_code) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            put(o->message, "The host name of %s could not be resolved (DNS).", where);
            put(o->fix, "Check the endpoint's host name, and this machine's network and DNS.");
            break;
        case CURLE_COULDNT_CONNECT:
            put(o->message, "Nothing answers at %s (connection refused).", where);
            put(o->fix, "Check the endpoint's address and port, and that the service runs.");
            break;
        case CURLE_OPERATION_TIMEDOUT:
            put(o->message, "%s did not answer in time.", where);
            put(o->fix, "Check the network, and any firewall or proxy on the way to the "
                        "endpoint.");
            break;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
            o->code = "tls";
            put(o->message, "The TLS connection to %s failed (%s).", where,
                curl_easy_strerror((CURLcode)curl_code));
            put(o->fix, "Check that the endpoint uses https:// with a valid certificate (or "
                        "http:// if it has none).");
            break;
        default:
            put(o->message, "%s could not be reached (%s).", where,
                curl_easy_strerror((CURLcode)curl_code));
            put(o->fix, "Check the endpoint URL and the network.");
            break;
        }
        return;
    }
    if (is(s3code, "InvalidAccessKeyId")) {
        o->code = "wrong_key";
        put(o->message, "%s does not know this access key.", where);
        put(o->fix, "Check the access key and the secret key: copy them again.");
    } else if (is(s3code, "SignatureDoesNotMatch")) {
        o->code = "wrong_key";
        put(o->message,
            "The secret key does not belong to the access key (%s refused the "
            "signature).",
            where);
        put(o->fix, "Check the secret key: copy it again.");
    } else if (is(s3code, "RequestTimeTooSkewed")) {
        o->code = "clock_skew";
        put(o->message,
            "This machine's clock differs from %s's by more than 15 minutes, so "
            "signed requests are refused.",
            where);
        put(o->fix, "Set this machine's clock right (turn on time synchronization), then "
                    "check again.");
    } else if (is(s3code, "AuthorizationHeaderMalformed") || is(s3code, "PermanentRedirect") ||
               is(s3code, "IncorrectEndpoint") || status == 301) {
        o->code = "wrong_region";
        put(o->message, "Bucket \"%s\" is in another region than the one set.", bucket);
        put(o->fix, "Set the region the bucket was created in (for Storj: us-east-1 or "
                    "global).");
    } else if (is(s3code, "NoSuchBucket") ||
               (status == 404 && !s3code && strcmp(step, "bucket") == 0)) {
        o->code = "no_such_bucket";
        put(o->message, "Bucket \"%s\" does not exist.", bucket);
        if (can_create)
            put(o->fix, "Create it from here (Create bucket), or correct the bucket name.");
        else
            put(o->fix,
                "Create bucket \"%s\" (in the Storj console or your S3 service), or "
                "correct the bucket name.",
                bucket);
    } else if (is(s3code, "AccessDenied") || is(s3code, "AllAccessDisabled")) {
        o->code = "access_denied";
        put(o->message, "The keys are valid but may not %s%s bucket \"%s\" (AccessDenied).",
            step_verb(step), strcmp(step_verb(step), "use") == 0 ? "" : " in", bucket);
        put(o->fix,
            "Give these keys (or the access grant) read, write, list and delete "
            "permission on bucket \"%s\".",
            bucket);
    } else if (status == 403) {
        o->code = "forbidden";
        put(o->message,
            "%s refused the request (403 Forbidden): the keys are wrong or may "
            "not use bucket \"%s\".",
            where, bucket);
        put(o->fix, "Check the access key, the secret key and their permissions.");
    } else if (status == 501 && strcmp(step, "list") == 0) {
        o->code = "encrypted_keys_listing";
        put(o->message,
            "%s refused the registry's kind of listing (a prefix that does not end "
            "in '/'; 501 Not Implemented). Storj's gateways do this for access "
            "grants with encrypted object keys (in projects created after 30 "
            "November 2025), and every push of a new layer would fail.",
            where);
        put(o->fix, "Turn on unencrypted object keys for this registry, or use an access grant "
                    "from a project with Storj-managed encryption.");
    } else if (status == 501) {
        o->code = "not_implemented";
        put(o->message,
            "%s does not support a request the registry makes (%s; 501 Not "
            "Implemented).",
            where, step_verb(step));
        put(o->fix, "Use an S3 service that supports it.");
    } else if (status == 404 && strcmp(step, "read") == 0) {
        o->code = "read_mismatch";
        put(o->message, "The object just written could not be read back (404).");
        put(o->fix, "The S3 service may be eventually consistent or misbehave: try again.");
    } else if (status == 429 || is(s3code, "SlowDown")) {
        o->code = "too_many_requests";
        put(o->message,
            "%s refused the request: too many requests (HTTP %ld%s%s), the project's "
            "request rate limit (Storj's is 100 a second).",
            where, status, s3code ? " " : "", s3code ? s3code : "");
        put(o->fix, "Wait a minute and check again; something else may be using the same "
                    "project or bucket heavily.");
    } else if (status >= 500) {
        o->code = "server_error";
        put(o->message, "%s failed on its side (HTTP %ld%s%s).", where, status, s3code ? ", " : "",
            s3code ? s3code : "");
        put(o->fix, "Try again later; the service's logs may say why.");
    } else {
        o->code = "s3_error";
        put(o->message, "%s answered HTTP %ld%s%s when asked to %s.", where, status,
            s3code ? " " : "", s3code ? s3code : "", step_verb(step));
        put(o->fix, "Check the endpoint, the bucket and the keys.");
    }
}

void s3check_error_code(const char *body, size_t len, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!body || !outlen)
        return;
    const char *p = memmem(body, len, "<Code>", 6);
    if (!p)
        return;
    p += 6;
    const char *end = memmem(p, len - (size_t)(p - body), "</Code>", 7);
    if (!end)
        return;
    size_t n = (size_t)(end - p), j = 0;
    for (size_t i = 0; i < n && j + 1 < outlen; i++)
        if ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
            (p[i] >= '0' && p[i] <= '9'))
            out[j++] = p[i];
    out[j] = '\0';
}

/* ---- requests ------------------------------------------------------------ */

struct answer {
    int curl_code;
    long status;
    struct buf body;
    char s3code[64];
};

static size_t collect(void *userp, const char *p, size_t n)
{
    struct buf *b = userp;
    buf_append(b, p, n); /* past the cap the rest is dropped, the answer still counts */
    return n;
}

/* Over a rate limit: Storj's gateways answer 429 SlowDown (gateway-st
 * miniogw/gateway.go ErrSlowDown), S3 503 SlowDown; a HEAD has no body. */
static int slowed_down(const struct answer *a)
{
    return a->curl_code == CURLE_OK &&
           (a->status == 429 || (a->status == 503 && strcmp(a->s3code, "SlowDown") == 0));
}

/* One signed request: method on endpoint/bucket[/key][?query], asked again
 * while the endpoint says to slow down. */
static void request(const struct s3check_target *t, const char *method, const char *key,
                    const char *query, const char *body, struct answer *a)
{
    char url[2048], sigv4[128];
    size_t el = strlen(t->endpoint);
    while (el && t->endpoint[el - 1] == '/')
        el--;
    snprintf(url, sizeof url, "%.*s/%s%s%s%s%s", (int)el, t->endpoint, t->bucket, key ? "/" : "",
             key ? key : "", query ? "?" : "", query ? query : "");
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", t->region);
    memset(a, 0, sizeof *a);
    a->body.max = S3CHECK_MAX_BODY;
    /* Storj's gateways and Ceph want the payload hash header; libcurl adds
     * it itself for service "s3" only from 8.x, so it is set here (and
     * signed, since libcurl signs every x-amz-* header) */
    static const char *const headers[] = {"x-amz-content-sha256: UNSIGNED-PAYLOAD", NULL};
    int put = strcmp(method, "PUT") == 0;
    struct httpc_req req = {
        .method = method,
        .url = url,
        .headers = headers,
        .body = put ? (body ? body : "") : NULL,
        .body_len = put && body ? strlen(body) : 0,
        .user = t->access_key,
        .password = t->secret_key,
        .aws_sigv4 = sigv4,
        .noproxy = "127.0.0.1,localhost,::1",
        .timeout_ms = REQUEST_TIMEOUT_S * 1000L,
        .connect_timeout_ms = CONNECT_TIMEOUT_S * 1000L,
        .sink = collect,
        .ctx = &a->body,
    };
    for (int tries = 0;; tries++) {
        struct httpc_resp resp;
        httpc_do(NULL, &req, &resp);
        a->curl_code = resp.curl_code;
        a->status = resp.status;
        s3check_error_code(a->body.data, a->body.len, a->s3code, sizeof a->s3code);
        if (!slowed_down(a) || tries == SLOWDOWN_RETRIES || (t->cancel && *t->cancel))
            return;
        buf_free(&a->body); /* keeps the cap */
        usleep((useconds_t)(SLOWDOWN_FIRST_MS << tries) * 1000u);
    }
}

static int ok_status(long s)
{
    return s >= 200 && s < 300;
}

static int add_step(json_t *steps, const char *id, int ok, const char *message, const char *fix)
{
    json_t *st = json_pack("{s:s, s:o, s:s}", "id", id, "ok",
                           ok < 0 ? json_null() : json_boolean(ok), "message", message);
    if (st && fix && *fix)
        json_object_set_new(st, "fix", json_string(fix));
    return json_array_append_new(steps, st);
}

static void skip(json_t *steps, const char *id, const char *why)
{
    add_step(steps, id, -1, why, NULL);
}

struct run {
    const struct s3check_target *t;
    json_t *steps;
    const char *code; /* first failure */
    int can_create;
};

/* Records a failed request of step; returns -1. */
static int failed(struct run *r, const char *step, const struct answer *a)
{
    struct s3check_outcome o;
    s3check_explain(step, a->curl_code, a->status, a->s3code, r->t->bucket, r->t->where,
                    r->t->can_create, &o);
    add_step(r->steps, step, 0, o.message, o.fix);
    if (!r->code)
        r->code = o.code;
    if (strcmp(o.code, "no_such_bucket") == 0)
        r->can_create = r->t->can_create;
    return -1;
}

static int cancelled(const struct s3check_target *t)
{
    return t->cancel && *t->cancel;
}

static const char *const ALL_STEPS[] = {"reach", "bucket", "write", "read", "list", "delete"};

/* Marks the steps from index i on as skipped. */
static void skip_from(json_t *steps, size_t i, const char *why)
{
    for (; i < sizeof ALL_STEPS / sizeof *ALL_STEPS; i++)
        skip(steps, ALL_STEPS[i], why);
}

json_t *s3check_run(const struct s3check_target *t)
{
    struct run r = {.t = t, .steps = json_array()};
    struct answer a = {0};
    char key[160], prefix[160], rnd[33], msg[S3CHECK_TEXT_MAX];
    if (!r.steps || random_hex(rnd, 16))
        goto nomem;
    snprintf(key, sizeof key, S3CHECK_PREFIX "%s", rnd);
    /* the registry's Stat fallback lists "<path>" of a blob that may not
     * exist, never a prefix ending in '/': the same shape here, and one
     * that does not name an object exactly (gateway-st serves exact names
     * with a stat), so the gateway has to list */
    snprintf(prefix, sizeof prefix, S3CHECK_PREFIX "%.24s", rnd);

    /* reach (and the bucket's existence, with the same request) */
    time_t deadline = time(NULL) + t->connect_retry_s;
    for (;;) {
        request(t, "HEAD", NULL, NULL, NULL, &a);
        /* a published port answers through Docker's proxy before the
         * gateway listens: the connection is then reset or closed empty */
        int starting = a.curl_code == CURLE_COULDNT_CONNECT || a.curl_code == CURLE_GOT_NOTHING ||
                       a.curl_code == CURLE_RECV_ERROR || a.curl_code == CURLE_SEND_ERROR;
        if (!starting || time(NULL) >= deadline || cancelled(t))
            break;
        buf_free(&a.body);
        usleep(500 * 1000);
    }
    if (a.curl_code != CURLE_OK) {
        failed(&r, "reach", &a);
        skip_from(r.steps, 1, "Skipped: the endpoint could not be reached.");
        goto done;
    }
    snprintf(msg, sizeof msg, "%s answers.", t->where);
    msg[0] = (char)(msg[0] >= 'a' && msg[0] <= 'z' ? msg[0] - 'a' + 'A' : msg[0]);
    add_step(r.steps, "reach", 1, msg, NULL);

    if (!ok_status(a.status)) {
        /* HEAD answers carry no error document: ask again with a GET (a
         * listing of the registry's root) to learn the S3 error code */
        long head_status = a.status;
        buf_free(&a.body);
        request(t, "GET", NULL, "list-type=2&max-keys=1&prefix=docker%2F", NULL, &a);
        if (a.curl_code == CURLE_OK && !a.s3code[0] && !ok_status(a.status))
            a.status = a.status ? a.status : head_status;
    }
    if (!ok_status(a.status) && (is(a.s3code, "NoSuchBucket") || a.status == 404) &&
        t->create_bucket) {
        buf_free(&a.body);
        request(t, "PUT", NULL, NULL, NULL, &a);
        if (a.curl_code != CURLE_OK || !ok_status(a.status)) {
            failed(&r, "bucket", &a);
            skip_from(r.steps, 2, "Skipped: there is no bucket to write to.");
            goto done;
        }
        snprintf(msg, sizeof msg, "Bucket \"%s\" was created.", t->bucket);
        add_step(r.steps, "bucket", 1, msg, NULL);
    } else if (a.curl_code != CURLE_OK || !ok_status(a.status)) {
        failed(&r, "bucket", &a);
        skip_from(r.steps, 2, "Skipped: the bucket cannot be used.");
        goto done;
    } else {
        snprintf(msg, sizeof msg, "Bucket \"%s\" exists.", t->bucket);
        add_step(r.steps, "bucket", 1, msg, NULL);
    }
    if (cancelled(t)) {
        skip_from(r.steps, 2, "Skipped: the check was cancelled.");
        r.code = "cancelled";
        goto done;
    }

    buf_free(&a.body);
    request(t, "PUT", key, NULL, CHECK_BODY, &a);
    if (a.curl_code != CURLE_OK || !ok_status(a.status)) {
        failed(&r, "write", &a);
        skip_from(r.steps, 3, "Skipped: nothing was written.");
        goto done;
    }
    add_step(r.steps, "write", 1, "A small test object was written under docker/registry/v2/.",
             NULL);

    buf_free(&a.body);
    request(t, "GET", key, NULL, NULL, &a);
    if (a.curl_code != CURLE_OK || !ok_status(a.status)) {
        failed(&r, "read", &a);
    } else if (a.body.len != strlen(CHECK_BODY) || memcmp(a.body.data, CHECK_BODY, a.body.len)) {
        add_step(r.steps, "read", 0, "The test object came back with other content.",
                 "The S3 service or a proxy changes objects: check what is between.");
        r.code = r.code ? r.code : "read_mismatch";
    } else {
        add_step(r.steps, "read", 1, "The test object was read back intact.", NULL);
    }

    buf_free(&a.body);
    char query[400];
    char *esc = curl_easy_escape(NULL, prefix, 0);
    snprintf(query, sizeof query, "list-type=2&max-keys=10&prefix=%s", esc ? esc : "");
    curl_free(esc);
    request(t, "GET", NULL, query, NULL, &a);
    if (a.curl_code != CURLE_OK || !ok_status(a.status)) {
        failed(&r, "list", &a);
    } else {
        char want[200];
        snprintf(want, sizeof want, "<Key>%s</Key>", key);
        if (a.body.data && strstr(a.body.data, want))
            add_step(r.steps, "list", 1,
                     "Listing with a prefix that does not end in '/' (as the registry does) "
                     "found the test object.",
                     NULL);
        else {
            add_step(r.steps, "list", 0,
                     "Listing with a prefix that does not end in '/' (as the registry does) did "
                     "not find the object just written.",
                     "The S3 service lists inconsistently; the registry would not find new "
                     "layers. Try again, or use another service.");
            r.code = r.code ? r.code : "list_incomplete";
        }
    }

    buf_free(&a.body);
    request(t, "DELETE", key, NULL, NULL, &a);
    if (a.curl_code != CURLE_OK || !ok_status(a.status))
        failed(&r, "delete", &a);
    else
        add_step(r.steps, "delete", 1, "The test object was deleted.", NULL);

done:
    buf_free(&a.body);
    {
        json_t *out = json_pack("{s:b, s:o, s:b}", "ok", r.code == NULL, "steps", r.steps,
                                "canCreateBucket", r.can_create);
        if (out && r.code)
            json_object_set_new(out, "code", json_string(r.code));
        return out;
    }
nomem:
    json_decref(r.steps);
    return NULL;
}
