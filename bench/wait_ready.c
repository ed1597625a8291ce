/* wait_ready PORT T0_NS [TIMEOUT_MS]: polls http://127.0.0.1:PORT/v2/ every
 * millisecond until it answers 200, then prints the milliseconds since T0_NS
 * (CLOCK_REALTIME nanoseconds, `date +%s%N` taken before the start was
 * asked for). Exit 1 on timeout. A raw socket, not a curl process per try:
 * the resolution is the 1 ms step, not a process start. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int ready(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok = 0;
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        const char *rq = "GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        char buf[32] = "";
        if (write(fd, rq, strlen(rq)) == (ssize_t)strlen(rq) && read(fd, buf, sizeof buf - 1) > 12)
            ok = strncmp(buf, "HTTP/1.", 7) == 0 && strncmp(buf + 9, "200", 3) == 0;
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int port = atoi(argv[1]);
    long long t0 = atoll(argv[2]), limit = (argc > 3 ? atoll(argv[3]) : 60000) * 1000000LL;
    struct timespec step = {.tv_nsec = 1000000};
    while (now_ns() - t0 < limit) {
        if (ready(port)) {
            printf("%.1f\n", (double)(now_ns() - t0) / 1e6);
            return 0;
        }
        nanosleep(&step, NULL);
    }
    return 1;
}
