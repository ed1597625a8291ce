#include "authsvc.h"

#include "httpc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The service answers errors as text/plain; keep one printable line. */
static void clean_text(const struct buf *b, char *out, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; b->data && i < b->len && j + 1 < len; i++) {
        unsigned char c = (unsigned char)b->data[i];
        if (c == '\n' || c == '\r')
            c = ' ';
        if (c >= 0x20 && c < 0x7f)
            out[j++] = (char)c;
    }
    while (j && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
}

int authsvc_register(const char *base, const char *grant, struct authsvc_creds *out, struct err *e)
{
    char url[1024], text[300];
    struct buf resp = {0};
    json_t *req = NULL, *j = NULL;
    char *body = NULL;
    int rc = -1;
    memset(out, 0, sizeof *out);
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    snprintf(url, sizeof url, "%.*s/v1/access", (int)bl, base);

    req = json_pack("{s:s, s:b}", "access_grant", grant, "public", 0);
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (!body) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto out;
    }
    static const char *const headers[] = {"Content-Type: application/json",
                                          "Accept: application/json", NULL};
    struct httpc_req hr = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .body = body,
        .body_len = strlen(body),
        .env_proxy = 1,
        .timeout_ms = 20000,
        .connect_timeout_ms = 10000,
        .max_response = AUTHSVC_MAX_RESPONSE,
    };
    struct httpc_resp hresp;
    enum httpc_result hrc = httpc_do(NULL, &hr, &hresp);
    long status = hresp.status;
    resp = hresp.body;
    if (hrc != HTTPC_OK) {
        err_set(e, 502, E_AUTH_SERVICE_UNREACHABLE, "accessGrant",
                "Storj's Auth Service at %s could not be reached (%s): check the network or the "
                "authService setting, or paste S3 credentials instead",
                url, hresp.error);
        goto out;
    }
    if (status != 200) {
        /* a service that quotes the request must not put the grant in our
         * error message */
        struct buf red = {.max = AUTHSVC_MAX_RESPONSE * 2};
        const char *secrets[] = {grant};
        if (resp.data && str_redact(&red, resp.data, resp.len, secrets, 1) == 0) {
            secret_wipe(resp.data, resp.len);
            buf_free(&resp);
            resp = red;
            resp.max = AUTHSVC_MAX_RESPONSE * 2;
        } else {
            /* fail closed: a text that could not be redacted is not quoted */
            buf_free(&red);
            if (resp.data)
                secret_wipe(resp.data, resp.len);
            buf_free(&resp);
        }
        clean_text(&resp, text, sizeof text);
        const char *what = status == 400   ? "refused the access grant"
                           : status == 413 ? "found the request too large"
                           : status >= 500 ? "failed on its side; try again later"
                                           : "refused the request";
        err_set(e, status == 400 || status == 413 ? 400 : 502, E_AUTH_SERVICE_REFUSED,
                "accessGrant", "Storj's Auth Service %s (HTTP %ld%s%s)", what, status,
                text[0] ? ": " : "", text);
        goto out;
    }
    j = json_loadb(resp.data, resp.len, 0, NULL);
    const char *ak = json_string_value(json_object_get(j, "access_key_id"));
    const char *sk = json_string_value(json_object_get(j, "secret_key"));
    const char *ep = json_string_value(json_object_get(j, "endpoint"));
    if (!ak || !sk || !*ak || !*sk) {
        err_set(e, 502, E_AUTH_SERVICE_BAD_ANSWER, "accessGrant",
                "Storj's Auth Service answered without S3 credentials");
        goto out;
    }
    out->access_key = strdup(ak);
    out->secret_key = strdup(sk);
    out->endpoint = ep && *ep ? strdup(ep) : NULL;
    if (!out->access_key || !out->secret_key) {
        authsvc_creds_free(out);
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto out;
    }
    rc = 0;
out:
    if (resp.data)
        secret_wipe(resp.data, resp.len);
    buf_free(&resp);
    json_decref(j);
    json_decref(req);
    if (body) {
        secret_wipe(body, strlen(body));
        free(body);
    }
    return rc;
}

void authsvc_creds_free(struct authsvc_creds *c)
{
    free(c->access_key);
    secret_free(&c->secret_key);
    free(c->endpoint);
    memset(c, 0, sizeof *c);
}
