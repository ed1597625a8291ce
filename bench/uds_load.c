#define _GNU_SOURCE
/* uds_load: HTTP/1.1 load over a Unix socket, for bench/run.sh.
 *   uds_load SOCKET PATH CONNECTIONS REQUESTS_PER_CONNECTION
 * Each connection is a thread sending keep-alive GETs one after the other.
 * Prints "requests N errors N p50_us N p90_us N p99_us N max_us N rps N". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *sock_path, *req_path;
static int per_conn;
static long *lat; /* microseconds, one per request */
static int errors;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/* Reads one response: headers, then Content-Length bytes. 0 or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    char *body = NULL;
    long clen = -1;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if (!body && (body = strstr(buf, "\r\n\r\n"))) {
            body += 4;
            char *cl = strcasestr(buf, "Content-Length:");
            if (!cl)
                return -1;
            clen = strtol(cl + 15, NULL, 10);
        }
        if (body && (long)(len - (size_t)(body - buf)) >= clen)
            return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
        if (len + 1 >= cap)
            return -1;
    }
}

static void *worker(void *arg)
{
    long *out = arg;
    char req[512], buf[65536];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", req_path);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    int errs = 0;
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun)) {
        errs = per_conn;
        goto out;
    }
    for (int i = 0; i < per_conn; i++) {
        long t0 = now_us();
        if (write(fd, req, (size_t)n) != n || read_response(fd, buf, sizeof buf)) {
            errs += per_conn - i;
            break;
        }
        out[i] = now_us() - t0;
    }
out:
    if (fd >= 0)
        close(fd);
    pthread_mutex_lock(&mu);
    errors += errs;
    pthread_mutex_unlock(&mu);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: uds_load SOCKET PATH CONNECTIONS REQUESTS_PER_CONNECTION\n");
        return 2;
    }
    sock_path = argv[1];
    req_path = argv[2];
    int conns = atoi(argv[3]);
    per_conn = atoi(argv[4]);
    if (conns < 1 || conns > 1000 || per_conn < 1 || per_conn > 100000)
        return 2;
    lat = calloc((size_t)conns * (size_t)per_conn, sizeof *lat);
    pthread_t *t = calloc((size_t)conns, sizeof *t);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    long t0 = now_us();
    for (int i = 0; i < conns; i++)
        pthread_create(&t[i], &attr, worker, lat + (size_t)i * (size_t)per_conn);
    for (int i = 0; i < conns; i++)
        pthread_join(t[i], NULL);
    long elapsed = now_us() - t0;
    size_t total = (size_t)conns * (size_t)per_conn, ok = 0;
    for (size_t i = 0; i < total; i++)
        if (lat[i] > 0)
            lat[ok++] = lat[i];
    qsort(lat, ok, sizeof *lat, cmp);
    if (!ok) {
        printf("requests 0 errors %d\n", errors);
        return 1;
    }
    printf("requests %zu errors %d p50_us %ld p90_us %ld p99_us %ld max_us %ld rps %ld\n", ok,
           errors, lat[ok / 2], lat[ok * 9 / 10], lat[ok * 99 / 100], lat[ok - 1],
           elapsed > 0 ? (long)(ok * 1000000.0 / elapsed) : 0);
    free(lat);
    free(t);
    return errors ? 1 : 0;
}
