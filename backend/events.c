#include "events.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int events_parse(const char *body, size_t len, events_sink sink, void *ctx)
{
    json_error_t je;
    json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    json_t *list = json_object_get(root, "events");
    if (!json_is_object(root) || !json_is_array(list) ||
        json_array_size(list) > EVENTS_MAX_PER_BODY) {
        json_decref(root);
        return -1;
    }
    size_t i;
    json_t *ev;
    int rc = 0;
    json_array_foreach(list, i, ev)
    {
        if (json_is_object(ev) && sink(ctx, ev)) {
            rc = -2;
            break;
        }
    }
    json_decref(root);
    return rc;
}

struct events {
    struct MHD_Daemon *d;
    int fd, port;
    char token[128];
    events_sink sink;
    void *ctx;
    atomic_llong taken, refused;
};

/* one request's body as it comes */
struct upload {
    struct buf body;
    int too_big;
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static int token_ok(struct events *ev, const char *auth)
{
    char want[160];
    int n = snprintf(want, sizeof want, "Bearer %s", ev->token);
    return auth && n > 0 && strlen(auth) == (size_t)n && CRYPTO_memcmp(auth, want, (size_t)n) == 0;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **state)
{
    struct events *ev = cls;
    (void)version;
    struct upload *u = *state;
    if (!u) {
        /* the token and the declared length are checked before any body
         * is read */
        if (strcmp(url, "/events") != 0) {
            ev->refused++;
            return answer(c, 404, "{\"error\":\"not found\"}");
        }
        if (strcmp(method, "POST") != 0) {
            ev->refused++;
            return answer(c, 405, "{\"error\":\"POST only\"}");
        }
        if (!token_ok(ev, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"))) {
            ev->refused++;
            return answer(c, 401, "{\"error\":\"wrong token\"}");
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > EVENTS_MAX_BODY) {
            ev->refused++;
            return answer(c, 413, "{\"error\":\"body too large\"}");
        }
        if (!(u = calloc(1, sizeof *u)))
            return MHD_NO;
        u->body.max = EVENTS_MAX_BODY;
        *state = u;
        return MHD_YES;
    }
    if (*size) {
        if (!u->too_big && buf_append(&u->body, data, *size))
            u->too_big = 1;
        *size = 0;
        return MHD_YES;
    }
    if (u->too_big) {
        ev->refused++;
        return answer(c, 413, "{\"error\":\"body too large\"}");
    }
    int rc = events_parse(u->body.data, u->body.len, ev->sink, ev->ctx);
    if (rc == -1) {
        ev->refused++;
        return answer(c, 400, "{\"error\":\"not an events envelope\"}");
    }
    if (rc == -2)
        return answer(c, 503, "{\"error\":\"not stored, send it again\"}");
    ev->taken++;
    return answer(c, 200, "{}");
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
                      enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    struct upload *u = *state;
    if (u) {
        buf_free(&u->body);
        free(u);
    }
    *state = NULL;
}

struct events *events_start(const char *ip, int port, const char *token, events_sink sink,
                            void *ctx, struct err *e)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        err_set(e, 500, E_SOCKET, NULL, "the events listener: %s is not an IPv4 address", ip);
        return NULL;
    }
    struct events *ev = calloc(1, sizeof *ev);
    if (!ev) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }
    snprintf(ev->token, sizeof ev->token, "%s", token);
    ev->sink = sink;
    ev->ctx = ctx;
    ev->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    socklen_t len = sizeof a;
    if (ev->fd < 0 || setsockopt(ev->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(ev->fd, (struct sockaddr *)&a, sizeof a) || listen(ev->fd, 64) ||
        getsockname(ev->fd, (struct sockaddr *)&a, &len)) {
        err_set(e, 500, E_SOCKET, NULL, "the events listener cannot listen on %s:%d: %s", ip, port,
                strerror(errno));
        goto fail;
    }
    ev->port = ntohs(a.sin_port);
    /* one thread: events are stored one after another; the API has its own
     * threads, so a flood here never stalls /api/status */
    ev->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handler, ev,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)ev->fd, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(64 * 1024), MHD_OPTION_END);
    if (!ev->d) {
        err_set(e, 500, E_SOCKET, NULL, "the events listener could not start");
        goto fail;
    }
    return ev;
fail:
    if (ev->fd >= 0)
        close(ev->fd);
    secret_wipe(ev->token, sizeof ev->token);
    free(ev);
    return NULL;
}

int events_port(const struct events *ev)
{
    return ev ? ev->port : 0;
}

void events_counts(const struct events *ev, long long *taken, long long *refused)
{
    *taken = ev ? ev->taken : 0;
    *refused = ev ? ev->refused : 0;
}

void events_stop(struct events *ev)
{
    if (!ev)
        return;
    MHD_stop_daemon(ev->d);
    close(ev->fd);
    secret_wipe(ev->token, sizeof ev->token);
    free(ev);
}
