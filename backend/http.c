#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"

struct http_server;

/* One listener: which server, and whether it is the loopback TCP one. */
struct listener {
    struct http_server *srv;
    int tcp;
};

struct http_server {
    struct MHD_Daemon *unix_d, *tcp_d;
    char *socket_path;
    char *ui_dir;
    int port;
    char bound[64]; /* the TCP listener's address as a Host names it */
    struct manager *m;
    struct listener unix_l, tcp_l;
    /* requests answered on a thread of their own (slow ones) */
    pthread_mutex_t slow_mu;
    pthread_cond_t slow_cv;
    int slow_running;
};

/* Query arguments copied out of the connection for a slow request (its
 * connection is suspended while a worker thread handles it). */
#define SLOW_ARGS 8
struct slow_arg {
    char *key, *value;
};

/* Per request: the body, capped; for a slow request, what its worker needs
 * and, once done, the answer to send. */
struct req {
    struct buf body;
    int too_big;
    int slow;     /* handed to a worker; its connection is suspended */
    int answered; /* the worker's answer is in res */
    struct api_response res;
    struct http_server *srv;
    struct MHD_Connection *c;
    char *method, *path;
    struct slow_arg args[SLOW_ARGS];
    int nargs;
};

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int http_host_allowed(const char *host, const char *bound, int port)
{
    if (!host || !bound)
        return 0;
    /* the address the listener is bound to, and localhost (which the
     * browser resolves to it); no other loopback name or address */
    const char *const names[] = {bound, "localhost"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t n = strlen(names[i]);
        if (n == 0 || strncmp(host, names[i], n) != 0)
            continue;
        const char *rest = host + n;
        if (*rest == '\0')
            return port == 80;
        if (*rest == ':') {
            /* digits only, no sign, space or leading zero */
            char want[8];
            snprintf(want, sizeof want, "%d", port);
            return strcmp(rest + 1, want) == 0;
        }
    }
    return 0;
}

int http_origin_allowed(const char *origin, const char *bound, int port)
{
    if (!origin)
        return 1; /* not a browser's cross-site request */
    if (strncmp(origin, "http://", 7) != 0)
        return 0;
    return http_host_allowed(origin + 7, bound, port);
}

static int str_is(const char *s, const char *want)
{
    return s && strcmp(s, want) == 0;
}

int http_from_allowed(const struct http_from *f, const char *method, const char *url,
                      const char *bound, int port)
{
    if (!http_origin_allowed(f->origin, bound, port))
        return 0;
    /* no Sec-Fetch-Site: no browser (curl, scripts) or an old one, which
     * still sends Origin on everything but a GET */
    if (!f->site || str_is(f->site, "same-origin") || str_is(f->site, "none"))
        return 1;
    /* another site, or another port of localhost ("same-site"): only the
     * user opening the UI from a link there, which reads nothing back */
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int api = strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0;
    return get && !api && str_is(f->mode, "navigate") && str_is(f->dest, "document");
}

/* Every answer is JSON, even when the real one could not be made. */
static const char fallback_body[] =
    "{\"error\":{\"code\":\"internal\",\"message\":\"the backend could not encode its "
    "answer; try again, and report it if it persists\"}}";

/* Sends text (taken: freed by MHD) as the JSON answer; without text, the
 * fixed fallback with a 500. */
static enum MHD_Result send_text(struct MHD_Connection *c, int status, char *text,
                                 const char *allow)
{
    if (!text) {
        text = strdup(fallback_body);
        status = 500;
        allow = NULL;
        if (!text) {
            struct MHD_Response *r = MHD_create_response_from_buffer(
                sizeof fallback_body - 1, (void *)fallback_body, MHD_RESPMEM_PERSISTENT);
            if (!r)
                return MHD_NO;
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
            enum MHD_Result ret = MHD_queue_response(c, 500, r);
            MHD_destroy_response(r);
            return ret;
        }
    }
    size_t n = strlen(text);
    struct MHD_Response *r = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, int status, json_t *body,
                                 const char *allow)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return send_text(c, status, text, allow);
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, enum ecode code,
                                  const char *message)
{
    struct err e = {0};
    err_set(&e, status, code, NULL, "%s", message);
    return send_json(c, status, api_error_body(&e), NULL);
}

static const char *mime_of(const char *path)
{
    if (ends_with(path, ".html"))
        return "text/html; charset=utf-8";
    if (ends_with(path, ".js") || ends_with(path, ".mjs"))
        return "text/javascript; charset=utf-8";
    if (ends_with(path, ".css"))
        return "text/css; charset=utf-8";
    if (ends_with(path, ".svg"))
        return "image/svg+xml";
    if (ends_with(path, ".png"))
        return "image/png";
    if (ends_with(path, ".json"))
        return "application/json";
    if (ends_with(path, ".ico"))
        return "image/x-icon";
    return "application/octet-stream";
}

/* Serves a file of the UI folder; only plain names, no "..". */
static enum MHD_Result send_static(struct http_server *s, struct MHD_Connection *c, const char *url)
{
    char path[4096];
    const char *rel = strcmp(url, "/") == 0 ? "/index.html" : url;
    if (strstr(rel, "..") || strlen(rel) > 200)
        return send_error(c, 404, E_NOT_FOUND, "no such file");
    for (const char *p = rel; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '/' || ch == '.' || ch == '-' || ch == '_'))
            return send_error(c, 404, E_NOT_FOUND, "no such file");
    }
    snprintf(path, sizeof path, "%s%s", s->ui_dir, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > HTTP_MAX_STATIC) {
        if (fd >= 0)
            close(fd);
        return send_error(c, 404, E_NOT_FOUND, "no such file");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, mime_of(path));
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; style-src 'self' "
                            "'unsafe-inline'; frame-ancestors 'none'");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static const char *arg_lookup(void *ctx, const char *key)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, key);
}

/* Requests that may take seconds (they talk to the registry, read logs or
 * call the Auth Service) must not hold one of the listener's few threads:
 * every /api/status poll would queue behind them. Their connection is
 * suspended and a thread of their own answers; the rest stay fast. */
static int route_is_slow(enum api_route route, const char *method)
{
    return route == ROUTE_REPOSITORIES || route == ROUTE_IMAGE || route == ROUTE_LOGS ||
           route == ROUTE_RETENTION_PREVIEW ||
           (route == ROUTE_CONFIG && strcmp(method, "PUT") == 0);
}

#define SLOW_MAX 16 /* slow requests in flight; more get a 503 */

static const char *slow_arg_lookup(void *ctx, const char *key)
{
    struct req *rq = ctx;
    for (int i = 0; i < rq->nargs; i++)
        if (strcmp(rq->args[i].key, key) == 0)
            return rq->args[i].value;
    return NULL;
}

static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    struct req *rq = cls;
    if (rq->nargs >= SLOW_ARGS)
        return MHD_NO;
    char *k = strdup(key), *v = value ? strdup(value) : NULL;
    if (!k || (value && !v)) {
        free(k);
        free(v);
        return MHD_NO;
    }
    rq->args[rq->nargs].key = k;
    rq->args[rq->nargs].value = v;
    rq->nargs++;
    return MHD_YES; /* both freed by slow_release */
}

static void slow_release(struct req *rq)
{
    for (int i = 0; i < rq->nargs; i++) {
        free(rq->args[i].key);
        free(rq->args[i].value);
    }
    rq->nargs = 0;
    free(rq->method);
    free(rq->path);
    rq->method = rq->path = NULL;
}

static void *slow_main(void *arg)
{
    struct req *rq = arg;
    struct http_server *s = rq->srv;
    struct api_request areq = {.method = rq->method,
                               .path = rq->path,
                               .body = rq->body.data,
                               .body_len = rq->body.len,
                               .arg = slow_arg_lookup,
                               .arg_ctx = rq};
    api_handle(s->m, &areq, &rq->res);
    rq->answered = 1;
    MHD_resume_connection(rq->c);
    pthread_mutex_lock(&s->slow_mu);
    s->slow_running--;
    pthread_cond_broadcast(&s->slow_cv);
    pthread_mutex_unlock(&s->slow_mu);
    return NULL;
}

static int start_slow(struct http_server *s, struct MHD_Connection *c, struct req *rq,
                      const char *method, const char *url)
{
    pthread_mutex_lock(&s->slow_mu);
    int full = s->slow_running >= SLOW_MAX;
    if (!full)
        s->slow_running++;
    pthread_mutex_unlock(&s->slow_mu);
    if (full)
        return -1;
    rq->srv = s;
    rq->c = c;
    rq->method = strdup(method);
    rq->path = strdup(url);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, copy_arg, rq);
    pthread_attr_t at;
    pthread_t t;
    int bad = !rq->method || !rq->path || pthread_attr_init(&at);
    if (!bad) {
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 256 * 1024);
        rq->slow = 1;
        MHD_suspend_connection(c);
        if (pthread_create(&t, &at, slow_main, rq)) {
            MHD_resume_connection(c);
            rq->slow = 0;
            bad = 1;
        }
        pthread_attr_destroy(&at);
    }
    if (bad) {
        slow_release(rq);
        pthread_mutex_lock(&s->slow_mu);
        s->slow_running--;
        pthread_mutex_unlock(&s->slow_mu);
        return -1;
    }
    return 0;
}

/* Request headers past this many bytes get our JSON 431. libmicrohttpd
 * (0.9.75) answers by itself, in HTML, only past its connection memory
 * limit (HTTP_CONN_MEMORY below) or on a request line it cannot parse:
 * it has no hook for those answers. */
#define HEADERS_MAX (16 * 1024)
#define HTTP_CONN_MEMORY (64 * 1024)

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    size_t *total = cls;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct listener *l = cls;
    struct http_server *s = l->srv;
    struct req *rq = *con_cls;

    if (!rq) {
        /* first call: headers only */
        size_t headers = 0;
        MHD_get_connection_values(c, MHD_HEADER_KIND, add_header_size, &headers);
        if (headers > HEADERS_MAX)
            return send_error(c, 431, E_HEADERS_TOO_LARGE, "the request headers are over 16 KiB");
        if (l->tcp) {
            const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
            if (!http_host_allowed(host, s->bound, s->port))
                return send_error(c, 403, E_FORBIDDEN_HOST,
                                  "this server answers only to 127.0.0.1, localhost and [::1] "
                                  "on its own port");
            /* every method: a page looping no-cors GETs at /api/ would fill
             * the slow-request slots */
            struct http_from from = {
                .origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"),
                .site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"),
                .mode = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Mode"),
                .dest = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Dest"),
            };
            if (!http_from_allowed(&from, method, url, s->bound, s->port))
                return send_error(c, 403, E_FORBIDDEN_ORIGIN,
                                  "requests from other sites are refused here: open the UI "
                                  "at its own address");
        }
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
        /* far too large: answer now (a client that sent Expect: 100-continue
         * never sends the body) */
        if (len > API_DISCARD_MAX)
            return send_error(c, 413, E_BODY_TOO_LARGE, "the request body is over 64 KiB");
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->body.max = API_MAX_BODY;
        /* a little too large: read and drop it, so that the client, still
         * sending, gets the answer rather than a reset connection */
        rq->too_big = len > API_MAX_BODY;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_big && buf_append(&rq->body, upload, *upload_size))
            rq->too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->too_big)
        return send_error(c, 413, E_BODY_TOO_LARGE, "the request body is over 64 KiB");

    if (strncmp(url, "/api/", 5) != 0 && strcmp(url, "/api") != 0) {
        if (l->tcp && s->ui_dir && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
            return send_static(s, c, url);
        return send_error(c, 404, E_NOT_FOUND, "no such path");
    }
    if (rq->answered) { /* a slow request, resumed with its answer */
        struct api_response ares = rq->res;
        memset(&rq->res, 0, sizeof rq->res);
        if (ares.raw)
            return send_text(c, ares.status, ares.raw, ares.allow);
        return send_json(c, ares.status, ares.body, ares.allow);
    }
    if (rq->slow)
        return MHD_YES; /* resumed before the worker finished: wait on */
    enum api_route route;
    const char *allow;
    if (api_route(method, url, &route, &allow) == 0 && route_is_slow(route, method)) {
        if (start_slow(s, c, rq, method, url) == 0)
            return MHD_YES;
        return send_error(c, 503, E_BUSY, "the backend is busy; try again in a moment");
    }
    struct api_request areq = {.method = method,
                               .path = url,
                               .body = rq->body.data,
                               .body_len = rq->body.len,
                               .arg = arg_lookup,
                               .arg_ctx = c};
    struct api_response ares = {0};
    api_handle(s->m, &areq, &ares);
    if (ares.raw)
        return send_text(c, ares.status, ares.raw, ares.allow);
    return send_json(c, ares.status, ares.body, ares.allow);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct req *rq = *con_cls;
    if (!rq)
        return;
    if (rq->body.data)
        secret_wipe(rq->body.data, rq->body.len); /* may hold a grant */
    buf_free(&rq->body);
    slow_release(rq);
    json_decref(rq->res.body); /* an answer never sent (the client left) */
    free(rq->res.raw);
    free(rq);
    *con_cls = NULL;
}

static int bind_unix(const char *path, struct err *e)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        return err_set(e, 500, E_BAD_OPTION, "socket", "the socket path is too long: %s", path);
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(e, 500, E_SOCKET, NULL, "socket: %s", strerror(errno));
    if (unlink(path) && errno != ENOENT) {
        close(fd);
        return err_set(e, 500, E_SOCKET, NULL, "cannot remove the stale %s: %s", path,
                       strerror(errno));
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) || chmod(path, 0666) ||
        listen(fd, SOMAXCONN)) {
        err_set(e, 500, E_SOCKET, NULL, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* "127.0.0.1:8090" or "[::1]:8090"; loopback only. */
static int bind_tcp(const char *addr, int *port_out, char *bound, size_t bound_len, struct err *e)
{
    char host[64];
    const char *colon;
    int v6 = addr[0] == '[';
    if (v6) {
        const char *close_b = strchr(addr, ']');
        if (!close_b || close_b[1] != ':' || (size_t)(close_b - addr - 1) >= sizeof host)
            return err_set(e, 400, E_BAD_OPTION, "listen", "--listen takes ADDR:PORT");
        snprintf(host, sizeof host, "%.*s", (int)(close_b - addr - 1), addr + 1);
        colon = close_b + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= sizeof host)
            return err_set(e, 400, E_BAD_OPTION, "listen", "--listen takes ADDR:PORT");
        snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        return err_set(e, 400, E_BAD_OPTION, "listen", "--listen needs a port from 1 to 65535");
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (!v6) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &in->sin_addr) != 1 ||
            (ntohl(in->sin_addr.s_addr) >> 24) != 127)
            return err_set(e, 400, E_BAD_OPTION, "listen",
                           "--listen must be a loopback address (127.0.0.1 or [::1]): the API "
                           "controls Docker");
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1 ||
            !IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return err_set(e, 400, E_BAD_OPTION, "listen",
                           "--listen must be a loopback address (127.0.0.1 or [::1])");
        len = sizeof *in6;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        return err_set(e, 500, E_SOCKET, NULL, "socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, SOMAXCONN)) {
        err_set(e, 500, E_SOCKET, NULL, "cannot listen on %s: %s", addr, strerror(errno));
        close(fd);
        return -1;
    }
    *port_out = (int)port;
    snprintf(bound, bound_len, v6 ? "[%s]" : "%s", host);
    return fd;
}

static struct MHD_Daemon *start_daemon(int fd, struct listener *l)
{
    return MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG |
            MHD_ALLOW_SUSPEND_RESUME,
        0, NULL, NULL, handler, l, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)HTTP_THREADS, MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY, MHD_OPTION_END);
}

struct http_server *http_start(const struct http_opts *o, struct manager *m, struct err *e)
{
    struct http_server *s = calloc(1, sizeof *s);
    if (!s) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }
    s->m = m;
    pthread_mutex_init(&s->slow_mu, NULL);
    pthread_cond_init(&s->slow_cv, NULL);
    s->ui_dir = xstrdup(o->ui_dir);
    s->unix_l = (struct listener){.srv = s, .tcp = 0};
    s->tcp_l = (struct listener){.srv = s, .tcp = 1};
    if (o->socket_path && *o->socket_path) {
        int fd = bind_unix(o->socket_path, e);
        if (fd < 0)
            goto fail;
        s->socket_path = strdup(o->socket_path);
        s->unix_d = start_daemon(fd, &s->unix_l);
        if (!s->unix_d) {
            close(fd);
            err_set(e, 500, E_HTTP, NULL, "cannot serve on %s", o->socket_path);
            goto fail;
        }
    }
    if (o->listen && *o->listen) {
        int fd = bind_tcp(o->listen, &s->port, s->bound, sizeof s->bound, e);
        if (fd < 0)
            goto fail;
        s->tcp_d = start_daemon(fd, &s->tcp_l);
        if (!s->tcp_d) {
            close(fd);
            err_set(e, 500, E_HTTP, NULL, "cannot serve on %s", o->listen);
            goto fail;
        }
    }
    if (!s->unix_d && !s->tcp_d) {
        err_set(e, 400, E_BAD_OPTION, NULL, "nothing to listen on: give --socket or --listen");
        goto fail;
    }
    return s;
fail:
    http_stop(s);
    return NULL;
}

void http_stop(struct http_server *s)
{
    if (!s)
        return;
    /* a daemon must not stop with a connection suspended: let the slow
     * requests finish (each is bounded by its own deadline) */
    pthread_mutex_lock(&s->slow_mu);
    while (s->slow_running > 0)
        pthread_cond_wait(&s->slow_cv, &s->slow_mu);
    pthread_mutex_unlock(&s->slow_mu);
    if (s->unix_d)
        MHD_stop_daemon(s->unix_d);
    if (s->tcp_d)
        MHD_stop_daemon(s->tcp_d);
    if (s->socket_path)
        unlink(s->socket_path);
    free(s->socket_path);
    free(s->ui_dir);
    pthread_mutex_destroy(&s->slow_mu);
    pthread_cond_destroy(&s->slow_cv);
    free(s);
}
