#include "miniserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct conn_arg {
    struct mini_server *s;
    int fd;
};

int mini_write(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int mini_respond(int fd, int status, const char *headers, const void *body, size_t len)
{
    char head[1024];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status,
                     len, headers ? headers : "");
    if (n < 0 || (size_t)n >= sizeof head || mini_write(fd, head, (size_t)n))
        return -1;
    return len ? mini_write(fd, body, len) : 0;
}

void mini_wait_close(struct mini_server *s, int fd, int ms)
{
    char b[256];
    for (int waited = 0; waited < ms && !__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST);
         waited += 50) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0 && recv(fd, b, sizeof b, 0) <= 0)
            return;
    }
}

static void header(const char *line, const char *name, char *out, size_t len)
{
    size_t k = strlen(name);
    if (strncasecmp(line, name, k) != 0)
        return;
    const char *v = line + k;
    while (*v == ' ')
        v++;
    snprintf(out, len, "%.*s", (int)strcspn(v, "\r\n"), v);
}

/* Reads one request; 0, or -1 when the peer closed or sent garbage. */
static int read_request(struct mini_server *s, int fd, char *buf, size_t cap, size_t *have,
                        struct mini_req *r)
{
    char *end;
    for (;;) {
        buf[*have] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")))
            break;
        if (*have + 1 >= cap)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, 100);
        if (__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST))
            return -1;
        if (pr <= 0)
            continue;
        ssize_t n = recv(fd, buf + *have, cap - 1 - *have, 0);
        if (n <= 0)
            return -1;
        *have += (size_t)n;
    }
    memset(r, 0, sizeof *r);
    if (sscanf(buf, "%15s %2047s", r->method, r->path) != 2)
        return -1;
    for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        char cl[32] = "";
        header(l + 2, "Authorization:", r->authorization, sizeof r->authorization);
        header(l + 2, "Accept:", r->accept, sizeof r->accept);
        header(l + 2, "Content-Length:", cl, sizeof cl);
        if (cl[0])
            r->body_len = (size_t)strtoul(cl, NULL, 10);
    }
    size_t head = (size_t)(end + 4 - buf), got = 0;
    size_t in_buf = *have - head;
    /* the body: what is in buf already, then the rest from the socket */
    size_t take = in_buf < r->body_len ? in_buf : r->body_len;
    memcpy(r->body, buf + head, take < sizeof r->body ? take : sizeof r->body);
    got = take;
    memmove(buf, buf + head + take, *have - head - take);
    *have -= head + take;
    while (got < r->body_len) {
        char tmp[4096];
        size_t want = r->body_len - got < sizeof tmp ? r->body_len - got : sizeof tmp;
        ssize_t n = recv(fd, tmp, want, 0);
        if (n <= 0)
            return -1;
        if (got < sizeof r->body)
            memcpy(r->body + got, tmp,
                   got + (size_t)n <= sizeof r->body ? (size_t)n : sizeof r->body - got);
        got += (size_t)n;
    }
    return 0;
}

static void *conn_main(void *arg)
{
    struct conn_arg a = *(struct conn_arg *)arg;
    free(arg);
    char *buf = malloc(65536);
    size_t have = 0;
    struct mini_req *r = malloc(sizeof *r);
    while (buf && r && !__atomic_load_n(&a.s->stop, __ATOMIC_SEQ_CST) &&
           read_request(a.s, a.fd, buf, 65536, &have, r) == 0) {
        __atomic_add_fetch(&a.s->requests, 1, __ATOMIC_SEQ_CST);
        if (a.s->handler(a.s, r, a.fd))
            break;
    }
    free(r);
    free(buf);
    close(a.fd);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct mini_server *s = arg;
    while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
        struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        struct conn_arg *a = malloc(sizeof *a);
        pthread_mutex_lock(&s->mu);
        int room = s->nconns < MINI_MAX_CONNS;
        pthread_mutex_unlock(&s->mu);
        if (!a || !room) {
            free(a);
            close(fd);
            continue;
        }
        *a = (struct conn_arg){.s = s, .fd = fd};
        __atomic_add_fetch(&s->connections, 1, __ATOMIC_SEQ_CST);
        pthread_t t;
        if (pthread_create(&t, NULL, conn_main, a)) {
            free(a);
            close(fd);
            continue;
        }
        pthread_mutex_lock(&s->mu);
        s->conns[s->nconns++] = t;
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

int mini_start(struct mini_server *s, const char *sock_path, mini_handler h, void *ctx)
{
    memset(s, 0, sizeof *s);
    s->handler = h;
    s->ctx = ctx;
    pthread_mutex_init(&s->mu, NULL);
    if (sock_path) {
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        snprintf(un.sun_path, sizeof un.sun_path, "%s", sock_path);
        snprintf(s->sock_path, sizeof s->sock_path, "%s", sock_path);
        unlink(sock_path);
        s->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&un, sizeof un))
            return -1;
        snprintf(s->url, sizeof s->url, "http://localhost");
    } else {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof in;
        s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
        if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&in, sizeof in) ||
            getsockname(s->listen_fd, (struct sockaddr *)&in, &len))
            return -1;
        s->port = ntohs(in.sin_port);
        snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
    }
    if (listen(s->listen_fd, 64) || pthread_create(&s->acceptor, NULL, accept_main, s))
        return -1;
    return 0;
}

void mini_stop(struct mini_server *s)
{
    __atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->nconns; i++)
        pthread_join(s->conns[i], NULL);
    close(s->listen_fd);
    if (s->sock_path[0])
        unlink(s->sock_path);
    pthread_mutex_destroy(&s->mu);
}
