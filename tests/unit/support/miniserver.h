/* A tiny HTTP/1.1 server for unit tests of the HTTP clients: listens on
 * 127.0.0.1 (an ephemeral port) or on a Unix socket, one thread per
 * connection, keep-alive, requests with a Content-Length body. A handler
 * answers each request by writing to the connection (mini_respond). It is a
 * real protocol peer for libcurl, not a mock of it. */
#ifndef SR_MINISERVER_H
#define SR_MINISERVER_H

#include <pthread.h>
#include <stddef.h>

struct mini_req {
    char method[16];
    char path[2048];
    char authorization[512]; /* the Authorization header, if any */
    char accept[512];        /* the Accept header, if any */
    size_t body_len;
    char body[4096]; /* the first bytes of the body */
};

struct mini_server;
/* Answers one request on fd (mini_respond or raw writes). Answer 0 to keep
 * the connection, -1 to close it. Called from the connection's thread. */
typedef int (*mini_handler)(struct mini_server *s, const struct mini_req *r, int fd);

#define MINI_MAX_CONNS 256

struct mini_server {
    int listen_fd;
    int port;     /* TCP: the port; 0 on a Unix socket */
    char url[64]; /* "http://127.0.0.1:PORT" */
    char sock_path[108];
    mini_handler handler;
    void *ctx;
    int stop;        /* atomic */
    int connections; /* accepted so far (atomic) */
    int requests;    /* answered so far (atomic) */
    pthread_t acceptor;
    pthread_t conns[MINI_MAX_CONNS];
    int nconns;
    pthread_mutex_t mu;
};

/* sock_path NULL: TCP on 127.0.0.1. 0 or -1. */
int mini_start(struct mini_server *s, const char *sock_path, mini_handler h, void *ctx);
void mini_stop(struct mini_server *s);
/* Writes a whole answer: status, extra header lines ("Name: value\r\n"
 * each, may be NULL), Content-Length and body. 0 or -1. */
int mini_respond(int fd, int status, const char *headers, const void *body, size_t len);
/* Writes all of p. 0 or -1. */
int mini_write(int fd, const void *p, size_t n);
/* Waits until the peer closes fd or the server stops (at most ms). */
void mini_wait_close(struct mini_server *s, int fd, int ms);

#endif
