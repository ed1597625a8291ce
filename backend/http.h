/* HTTP plumbing with libmicrohttpd: the extension's Unix socket and, in
 * standalone mode, a loopback TCP listener that also serves the UI. Bodies
 * are capped, hosts and origins checked; what a request means is api.c's. */
#ifndef SR_HTTP_H
#define SR_HTTP_H

#include "manager.h"
#include "util.h"

#define HTTP_MAX_STATIC (4 * 1024 * 1024)
#define HTTP_THREADS 4

struct http_opts {
    const char *socket_path; /* NULL or "" for none */
    const char *listen;      /* "127.0.0.1:8090", "[::1]:8090" or NULL */
    const char *ui_dir;      /* served at / on the TCP listener */
};

struct http_server;

/* Binds and starts serving. NULL with e filled on failure. */
struct http_server *http_start(const struct http_opts *o, struct manager *m, struct err *e);
/* Stops serving and removes the socket file. */
void http_stop(struct http_server *s);

/* Whether a Host header names the loopback listener (DNS rebinding guard):
 * the address it is bound to as a Host writes it ("127.0.0.1", "[::1]") or
 * localhost, with its port. Pure; exposed for tests. */
int http_host_allowed(const char *host, const char *bound, int port);
/* Whether an Origin header names the TCP listener itself (or is absent:
 * not a browser's cross-site request). Pure; exposed for tests. */
int http_origin_allowed(const char *origin, const char *bound, int port);

/* The headers by which a browser says where a request comes from; each
 * NULL when absent. */
struct http_from {
    const char *origin; /* Origin */
    const char *site;   /* Sec-Fetch-Site */
    const char *mode;   /* Sec-Fetch-Mode */
    const char *dest;   /* Sec-Fetch-Dest */
};

/* Whether the TCP listener answers a request, whatever its method: one from
 * no browser page (curl, scripts), from the UI's own origin, or the user
 * opening the UI by a link on another site (a GET or HEAD navigation to a
 * document outside /api/). A page on another site or port is refused, GETs
 * included. Pure; exposed for tests. */
int http_from_allowed(const struct http_from *f, const char *method, const char *url,
                      const char *bound, int port);

#endif
