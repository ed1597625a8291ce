#include "httpc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_CONNECT_MS 10000L

struct xfer {
    const struct httpc_req *req;
    struct httpc_resp *resp;
    int cancelled; /* the cancel callback or the sink stopped it */
};

long httpc_ms_left(const struct timespec *at)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(at->tv_sec - now.tv_sec) * 1000 + (at->tv_nsec - now.tv_nsec) / 1000000;
}

const char *httpc_result_name(enum httpc_result r)
{
    switch (r) {
    case HTTPC_OK:
        return "ok";
    case HTTPC_UNREACHABLE:
        return "unreachable";
    case HTTPC_TIMEOUT:
        return "timeout";
    case HTTPC_CANCELLED:
        return "cancelled";
    case HTTPC_TOO_LARGE:
        return "too_large";
    case HTTPC_TLS:
        return "tls";
    case HTTPC_FAILED:
        break;
    }
    return "failed";
}

int httpc_init(struct httpc *c)
{
    c->curl = curl_easy_init();
    return c->curl ? 0 : -1;
}

void httpc_free(struct httpc *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *u)
{
    struct xfer *x = u;
    size_t n = size * nmemb;
    if (x->req->sink) {
        size_t used = x->req->sink(x->req->ctx, p, n);
        if (used != n)
            x->cancelled = 1;
        return used;
    }
    return buf_append(&x->resp->body, p, n) ? 0 : n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *u)
{
    struct xfer *x = u;
    size_t n = size * nmemb;
    if (x->req->on_header)
        x->req->on_header(x->req->ctx, p, n);
    return n;
}

static int on_progress(void *u, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct xfer *x = u;
    if (x->req->cancel && x->req->cancel(x->req->ctx)) {
        x->cancelled = 1;
        return 1;
    }
    return 0;
}

static enum httpc_result fail(struct httpc_resp *resp, enum httpc_result r, const char *why)
{
    snprintf(resp->error, sizeof resp->error, "%s", why);
    if (resp->body.data)
        secret_wipe(resp->body.data, resp->body.len);
    buf_free(&resp->body);
    return r;
}

static enum httpc_result classify(CURLcode cc, const struct xfer *x)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return HTTPC_UNREACHABLE;
    case CURLE_OPERATION_TIMEDOUT:
        return HTTPC_TIMEOUT;
    case CURLE_ABORTED_BY_CALLBACK:
        return HTTPC_CANCELLED;
    case CURLE_WRITE_ERROR:
        if (x->cancelled)
            return HTTPC_CANCELLED;
        return x->resp->body.overflow ? HTTPC_TOO_LARGE : HTTPC_FAILED;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
        return HTTPC_TLS;
    default:
        return HTTPC_FAILED;
    }
}

enum httpc_result httpc_do(struct httpc *c, const struct httpc_req *req, struct httpc_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->body.max = req->max_response ? req->max_response : HTTPC_MAX_RESPONSE;
    long timeout = req->timeout_ms > 0 ? req->timeout_ms : 0;
    if (req->deadline) {
        long left = httpc_ms_left(req->deadline);
        if (left <= 0) {
            resp->curl_code = CURLE_OPERATION_TIMEDOUT;
            return fail(resp, HTTPC_TIMEOUT, "the deadline passed");
        }
        if (!timeout || left < timeout)
            timeout = left;
    }
    long connect = req->connect_timeout_ms > 0 ? req->connect_timeout_ms
                                               : (timeout ? timeout : DEFAULT_CONNECT_MS);
    if (timeout && connect > timeout)
        connect = timeout;

    CURL *h = c ? c->curl : curl_easy_init();
    if (!h) {
        resp->curl_code = CURLE_OUT_OF_MEMORY;
        return fail(resp, HTTPC_FAILED, "out of memory");
    }
    if (c)
        curl_easy_reset(h); /* keeps the open connection, forgets the options */
    struct xfer x = {.req = req, .resp = resp};
    struct curl_slist *hdrs = NULL;
    int ok = 1;
    const char *method = req->method ? req->method : "GET";
    int head = strcmp(method, "HEAD") == 0, get = strcmp(method, "GET") == 0;
    int post = strcmp(method, "POST") == 0, put = strcmp(method, "PUT") == 0;

    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    if (!req->env_proxy)
        curl_easy_setopt(h, CURLOPT_NOPROXY, req->noproxy ? req->noproxy : "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect);
    if (!timeout && req->stall_s > 0) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, req->stall_s);
    }
    if (req->unix_socket)
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
    if (head)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (!get && !post)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (req->body || post || put) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body ? req->body_len : 0));
        if (!post)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (req->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, req->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, req->password ? req->password : "");
        if (req->aws_sigv4)
            curl_easy_setopt(h, CURLOPT_AWS_SIGV4, req->aws_sigv4);
        else
            curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    }
    if (req->tls_pin) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, req->tls_pin);
    }
    for (const char *const *p = req->headers; p && *p; p++) {
        struct curl_slist *n = curl_slist_append(hdrs, *p);
        if (!n) {
            ok = 0;
            break;
        }
        hdrs = n;
    }
    /* no 100-continue round trip for a request body; not with SigV4, whose
     * signature in libcurl 7.88 would name the header that is not sent */
    if (ok && !req->aws_sigv4) {
        struct curl_slist *n = curl_slist_append(hdrs, "Expect:");
        if (n)
            hdrs = n;
        else
            ok = 0;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    if (req->cancel) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }

    enum httpc_result r = HTTPC_OK;
    if (!ok) {
        resp->curl_code = CURLE_OUT_OF_MEMORY;
        r = fail(resp, HTTPC_FAILED, "out of memory");
    } else {
        CURLcode cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        resp->curl_code = (int)cc;
        if (cc != CURLE_OK) {
            r = classify(cc, &x);
            if (r == HTTPC_TOO_LARGE)
                fail(resp, r, "the answer is larger than expected");
            else if (r == HTTPC_CANCELLED)
                fail(resp, r, "cancelled");
            else
                fail(resp, r, curl_easy_strerror(cc));
        }
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    if (!c)
        curl_easy_cleanup(h);
    return r;
}

static size_t discard(void *ctx, const char *p, size_t n)
{
    return n;
}

long httpc_get_status(const char *url, long timeout_ms)
{
    struct httpc_req req = {.url = url, .timeout_ms = timeout_ms, .sink = discard};
    struct httpc_resp resp;
    if (httpc_do(NULL, &req, &resp) != HTTPC_OK)
        return 0;
    return resp.status;
}

void httpc_header_value(const char *line, size_t n, const char *name, char *out, size_t len)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0)
        return;
    const char *v = line + k;
    size_t vl = n - k;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (vl < len) {
        memcpy(out, v, vl);
        out[vl] = '\0';
    }
}
