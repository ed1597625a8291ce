/*
 * gateway-standin: a test stand-in for Storj's self-hosted S3 gateway
 * (image storjlabs/gateway), which cannot be reached from the test machine.
 *
 * It reads the gateway's configuration the way the real gateway does
 * (command-line flag, then STORJ_* environment variable, then the config
 * file <config-dir>/config.yaml), refuses to start without an access grant,
 * listens on server.address and forwards every TCP connection byte for byte
 * to a real S3 store (standin.upstream, default 127.0.0.1:7480: the Ceph RGW
 * of tests/env/ceph-s3.sh). The S3 peer is therefore real: signatures made
 * with minio.access-key/secret-key are checked by RGW, so the test must
 * create an RGW user with that key pair (tests/env/s3-user.sh).
 *
 * Differences from the real gateway: nothing is encrypted or sent to Storj;
 * the access grant is only checked for presence; non-loopback listen
 * addresses are refused (the tests may only listen on loopback); the real
 * image sets STORJ_SERVER_ADDRESS=0.0.0.0:7777 in its environment, this one
 * does not.
 *
 * One line is logged at start and it never contains a secret.
 *
 * Build: gcc -O2 -Wall -Wextra -static -pthread -o fwd fwd.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CONFIG_DIR "/root/.local/share/storj/gateway"
#define DEFAULT_LISTEN "127.0.0.1:7777"
#define DEFAULT_UPSTREAM "127.0.0.1:7480"
#define CONFIG_MAX (1 << 20) /* cap on the config file we read */
#define VALUE_MAX 8192       /* cap on one config value (grants are ~200-1000) */
#define COPY_BUF (128 * 1024)
#define THREAD_STACK (COPY_BUF + 128 * 1024)
#define CONNECT_TIMEOUT_MS 10000

/* ------------------------------------------------------------------------ */
/* Settings                                                                  */

enum { K_ACCESS, K_MINIO_AK, K_MINIO_SK, K_ADDRESS, K_UPSTREAM, K_COUNT };

static const char *const key_names[K_COUNT] = {
    "access", "minio.access-key", "minio.secret-key", "server.address", "standin.upstream",
};

struct setting {
  char *value;        /* malloc'd, NULL when unset */
  const char *source; /* "flag", "environment", "config file" */
};

static struct setting settings[K_COUNT];
static const char *prog = "gateway-standin";

static void die(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static int key_index(const char *k, size_t n) {
  for (int i = 0; i < K_COUNT; i++)
    if (strlen(key_names[i]) == n && memcmp(key_names[i], k, n) == 0) return i;
  return -1;
}

/* Set a setting unless one with higher priority is already there (callers go
 * from highest to lowest priority). Takes a copy of v[0..n). */
static void set_value(int idx, const char *v, size_t n, const char *source) {
  if (idx < 0 || settings[idx].value) return;
  if (n > VALUE_MAX) die("value of '%s' is too long (%zu bytes)", key_names[idx], n);
  char *copy = malloc(n + 1);
  if (!copy) die("out of memory");
  memcpy(copy, v, n);
  copy[n] = 0;
  settings[idx].value = copy;
  settings[idx].source = source;
}

/* Flags in the gateway's style: --key value or --key=value. Unknown flags and
 * positional words ("run") are ignored; --config-dir is returned. */
static const char *parse_flags(int argc, char **argv) {
  const char *config_dir = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0) continue;
    a += 2;
    const char *eq = strchr(a, '=');
    size_t klen = eq ? (size_t)(eq - a) : strlen(a);
    const char *val = eq ? eq + 1 : NULL;
    int is_dir = klen == 10 && memcmp(a, "config-dir", 10) == 0;
    int idx = key_index(a, klen);
    if (idx < 0 && !is_dir) continue;
    if (!val) {
      if (i + 1 >= argc) die("flag --%.*s needs a value", (int)klen, a);
      val = argv[++i];
    }
    if (is_dir)
      config_dir = val;
    else
      set_value(idx, val, strlen(val), "flag");
  }
  return config_dir;
}

/* STORJ_ + upper-cased key with '.' and '-' as '_' (the gateway's rule). */
static void parse_env(void) {
  for (int i = 0; i < K_COUNT; i++) {
    char name[64] = "STORJ_";
    size_t n = strlen(name);
    for (const char *p = key_names[i]; *p && n < sizeof name - 1; p++)
      name[n++] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
    name[n] = 0;
    const char *v = getenv(name);
    if (v) set_value(i, v, strlen(v), "environment");
  }
}

/* --- config file: flat or one-level-nested YAML, or a flat JSON object --- */

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
  return p;
}

/* Decode a double-quoted string starting at *pp (on the quote) into out
 * (size VALUE_MAX+1). Handles the usual backslash escapes and \uXXXX for
 * ASCII. Returns the length or -1. */
static long read_dq(const char **pp, const char *end, char *out) {
  const char *p = *pp + 1;
  long n = 0;
  while (p < end && *p != '"') {
    char c = *p++;
    if (c == '\\' && p < end) {
      c = *p++;
      switch (c) {
      case 'n': c = '\n'; break;
      case 't': c = '\t'; break;
      case 'r': c = '\r'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'u': {
        if (end - p < 4) return -1;
        char hex[5] = {p[0], p[1], p[2], p[3], 0};
        c = (char)strtol(hex, NULL, 16);
        p += 4;
        break;
      }
      default: break; /* \" \\ \/ */
      }
    }
    if (n >= VALUE_MAX) return -1;
    out[n++] = c;
  }
  if (p >= end) return -1;
  *pp = p + 1;
  out[n] = 0;
  return n;
}

static void parse_json(const char *p, const char *end, const char *path) {
  static char key[VALUE_MAX + 1], prefix[VALUE_MAX + 1], val[VALUE_MAX + 1];
  int depth = 0;
  prefix[0] = 0;
  p = skip_ws(p, end);
  if (p >= end || *p != '{') die("config %s: not a JSON object", path);
  p++;
  depth = 1;
  while (depth > 0) {
    p = skip_ws(p, end);
    if (p >= end) die("config %s: unexpected end of JSON", path);
    if (*p == ',') { p++; continue; }
    if (*p == '}') {
      p++;
      if (--depth == 1) prefix[0] = 0;
      continue;
    }
    if (*p != '"' || read_dq(&p, end, key) < 0) die("config %s: bad JSON key", path);
    p = skip_ws(p, end);
    if (p >= end || *p != ':') die("config %s: expected ':' in JSON", path);
    p = skip_ws(p + 1, end);
    if (p >= end) die("config %s: unexpected end of JSON", path);
    char full[2 * VALUE_MAX + 2];
    snprintf(full, sizeof full, "%s%s%s", prefix, prefix[0] ? "." : "", key);
    if (*p == '{') {
      if (depth >= 2) die("config %s: JSON nested too deeply", path);
      snprintf(prefix, sizeof prefix, "%s", key);
      depth++;
      p++;
      continue;
    }
    long n;
    if (*p == '"') {
      n = read_dq(&p, end, val);
      if (n < 0) die("config %s: bad JSON string for '%s'", path, full);
    } else { /* number, true, false, null: keep the literal text */
      const char *s = p;
      while (p < end && *p != ',' && *p != '}' && !isspace((unsigned char)*p)) p++;
      n = p - s;
      if (n > VALUE_MAX) die("config %s: value too long", path);
      memcpy(val, s, (size_t)n);
      val[n] = 0;
      if (strcmp(val, "null") == 0) continue;
    }
    set_value(key_index(full, strlen(full)), val, (size_t)n, "config file");
  }
}

static void parse_yaml(const char *p, const char *end, const char *path) {
  static char val[VALUE_MAX + 1];
  char section[128] = "";
  int lineno = 0;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    lineno++;
    const char *s = p, *e = eol;
    p = eol < end ? eol + 1 : end;
    while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) e--;
    int indent = 0;
    while (s < e && (*s == ' ' || *s == '\t')) s++, indent++;
    if (s == e || *s == '#') continue;
    const char *colon = memchr(s, ':', (size_t)(e - s));
    if (!colon) continue; /* not a mapping line: the gateway would fail, we ignore */
    const char *ke = colon;
    while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
    const char *ks = s;
    if (ke - ks >= 2 && (*ks == '"' || *ks == '\'') && ke[-1] == *ks) ks++, ke--;
    const char *v = colon + 1;
    while (v < e && (*v == ' ' || *v == '\t')) v++;
    if (indent == 0) section[0] = 0;
    if (v == e) { /* "minio:" opens a section for the indented lines below */
      if (indent == 0) snprintf(section, sizeof section, "%.*s", (int)(ke - ks), ks);
      continue;
    }
    long n;
    if (*v == '"') {
      n = read_dq(&v, e, val);
      if (n < 0) die("config %s:%d: bad quoted value", path, lineno);
    } else if (*v == '\'') {
      const char *q = v + 1;
      n = 0;
      while (q < e) {
        if (*q == '\'') {
          if (q + 1 < e && q[1] == '\'') q++; /* '' is a quote */
          else break;
        }
        if (n >= VALUE_MAX) die("config %s:%d: value too long", path, lineno);
        val[n++] = *q++;
      }
      if (q >= e) die("config %s:%d: unterminated quote", path, lineno);
      val[n] = 0;
    } else { /* plain scalar; " #" starts a comment */
      const char *ve = v;
      while (ve < e && !(ve[0] == '#' && ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))) ve++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      n = ve - v;
      if (n > VALUE_MAX) die("config %s:%d: value too long", path, lineno);
      memcpy(val, v, (size_t)n);
      val[n] = 0;
      if (strcmp(val, "null") == 0 || strcmp(val, "~") == 0) continue;
    }
    char full[256];
    if (indent > 0 && section[0])
      snprintf(full, sizeof full, "%s.%.*s", section, (int)(ke - ks), ks);
    else
      snprintf(full, sizeof full, "%.*s", (int)(ke - ks), ks);
    set_value(key_index(full, strlen(full)), val, (size_t)n, "config file");
  }
}

/* Returns 1 when the file was read, 0 when it does not exist. */
static int parse_config_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT) return 0;
    die("cannot read config %s: %s", path, strerror(errno));
  }
  char *buf = malloc(CONFIG_MAX);
  if (!buf) die("out of memory");
  size_t n = fread(buf, 1, CONFIG_MAX, f);
  if (ferror(f)) die("cannot read config %s: %s", path, strerror(errno));
  if (n == CONFIG_MAX) die("config %s is larger than %d bytes", path, CONFIG_MAX);
  fclose(f);
  const char *p = skip_ws(buf, buf + n);
  if (p < buf + n && *p == '{')
    parse_json(p, buf + n, path);
  else
    parse_yaml(buf, buf + n, path);
  free(buf);
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Addresses: numeric only (no resolver in a static binary), "localhost"    */
/* accepted, IPv6 as [addr]:port.                                            */

static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len) {
  char host[128];
  const char *port;
  memset(ss, 0, sizeof *ss);
  if (*s == '[') {
    const char *rb = strchr(s, ']');
    if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof host) return -1;
    memcpy(host, s + 1, (size_t)(rb - s - 1));
    host[rb - s - 1] = 0;
    port = rb + 2;
  } else {
    const char *c = strrchr(s, ':');
    if (!c || (size_t)(c - s) >= sizeof host) return -1;
    memcpy(host, s, (size_t)(c - s));
    host[c - s] = 0;
    port = c + 1;
  }
  char *endp;
  long pn = strtol(port, &endp, 10);
  if (!*port || *endp || pn < 1 || pn > 65535) return -1;
  if (host[0] == 0 || strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
  struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)pn);
    *len = sizeof *v4;
    return 0;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)pn);
    *len = sizeof *v6;
    return 0;
  }
  return -1;
}

static int is_loopback(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
  return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* ------------------------------------------------------------------------ */
/* Forwarding: one thread per direction. A clean EOF on one side becomes a   */
/* half-close (shutdown SHUT_WR) on the other; an error tears down both.     */

static struct sockaddr_storage upstream_addr;
static socklen_t upstream_len;

struct conn {
  int client, upstream;
  atomic_int refs;
};

struct pipe_half {
  struct conn *c;
  int from, to;
};

static void conn_release(struct conn *c) {
  if (atomic_fetch_sub(&c->refs, 1) == 1) {
    close(c->client);
    close(c->upstream);
    free(c);
  }
}

static int write_all(int fd, const char *b, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

static void *pump(void *arg) {
  struct pipe_half *h = arg;
  char *buf = malloc(COPY_BUF);
  int clean = 0;
  if (buf) {
    for (;;) {
      ssize_t r = recv(h->from, buf, COPY_BUF, 0);
      if (r == 0) { clean = 1; break; }
      if (r < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (write_all(h->to, buf, (size_t)r) < 0) break;
    }
  }
  free(buf);
  if (clean) {
    shutdown(h->to, SHUT_WR); /* pass the half-close on */
  } else {
    /* wake the other direction; the peer sees a reset or an EOF */
    shutdown(h->from, SHUT_RDWR);
    shutdown(h->to, SHUT_RDWR);
  }
  struct conn *c = h->c;
  free(h);
  conn_release(c);
  return NULL;
}

static int connect_upstream(void) {
  int fd = socket(upstream_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&upstream_addr, upstream_len) < 0) {
    if (errno != EINPROGRESS) goto fail;
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int pr;
    do pr = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
    while (pr < 0 && errno == EINTR);
    if (pr <= 0) {
      errno = pr == 0 ? ETIMEDOUT : errno;
      goto fail;
    }
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
      errno = err;
      goto fail;
    }
  }
  /* back to blocking for the pump threads */
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) goto fail;
  return fd;
fail: {
  int e = errno;
  close(fd);
  errno = e;
  return -1;
}
}

static pthread_attr_t thread_attr;

static int start_half(struct conn *c, int from, int to) {
  struct pipe_half *h = malloc(sizeof *h);
  if (!h) return -1;
  h->c = c;
  h->from = from;
  h->to = to;
  pthread_t t;
  if (pthread_create(&t, &thread_attr, pump, h) != 0) {
    free(h);
    return -1;
  }
  return 0;
}

/* Runs in its own thread so that a slow upstream connect never blocks accept. */
static void *serve_client(void *arg) {
  int client = (int)(intptr_t)arg;
  int up = connect_upstream();
  if (up < 0) {
    fprintf(stderr, "%s: upstream %s: %s; dropping a client connection\n", prog,
            settings[K_UPSTREAM].value, strerror(errno));
    close(client);
    return NULL;
  }
  int one = 1;
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct conn *c = malloc(sizeof *c);
  if (!c) goto fail;
  c->client = client;
  c->upstream = up;
  atomic_init(&c->refs, 2);
  if (start_half(c, up, client) < 0) {
    free(c);
    goto fail;
  }
  /* this thread becomes the client -> upstream direction */
  struct pipe_half *h = malloc(sizeof *h);
  if (!h) {
    shutdown(client, SHUT_RDWR);
    shutdown(up, SHUT_RDWR);
    conn_release(c);
    return NULL;
  }
  h->c = c;
  h->from = client;
  h->to = up;
  return pump(h);
fail:
  fprintf(stderr, "%s: out of resources; dropping a client connection\n", prog);
  close(client);
  close(up);
  return NULL;
}

static void on_signal(int sig) {
  (void)sig;
  _exit(0); /* PID 1 in a container: without a handler SIGTERM is ignored */
}

int main(int argc, char **argv) {
  const char *config_dir = parse_flags(argc, argv);
  if (!config_dir) config_dir = getenv("STORJ_CONFIG_DIR");
  if (!config_dir || !*config_dir) config_dir = DEFAULT_CONFIG_DIR;
  parse_env();
  char path[4096];
  snprintf(path, sizeof path, "%s/config.yaml", config_dir);
  int have_file = parse_config_file(path);

  if (!settings[K_ACCESS].value || !settings[K_ACCESS].value[0])
    die("no access grant: 'access' is missing or empty (config file %s%s, flag --access, "
        "env STORJ_ACCESS); refusing to start",
        path, have_file ? "" : " does not exist");
  if (!settings[K_ADDRESS].value) set_value(K_ADDRESS, DEFAULT_LISTEN, strlen(DEFAULT_LISTEN), "default");
  if (!settings[K_UPSTREAM].value)
    set_value(K_UPSTREAM, DEFAULT_UPSTREAM, strlen(DEFAULT_UPSTREAM), "default");

  struct sockaddr_storage listen_addr;
  socklen_t listen_len;
  if (parse_addr(settings[K_ADDRESS].value, &listen_addr, &listen_len) < 0)
    die("server.address '%s' is not a numeric HOST:PORT", settings[K_ADDRESS].value);
  if (!is_loopback(&listen_addr))
    die("server.address '%s' (from %s) is not a loopback address; this test stand-in "
        "only listens on loopback",
        settings[K_ADDRESS].value, settings[K_ADDRESS].source);
  if (parse_addr(settings[K_UPSTREAM].value, &upstream_addr, &upstream_len) < 0)
    die("standin.upstream '%s' is not a numeric HOST:PORT", settings[K_UPSTREAM].value);
  if (!is_loopback(&upstream_addr))
    die("standin.upstream '%s' is not a loopback address", settings[K_UPSTREAM].value);

  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  pthread_attr_init(&thread_attr);
  pthread_attr_setdetachstate(&thread_attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&thread_attr, THREAD_STACK);

  int lfd = socket(listen_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket: %s", strerror(errno));
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, (struct sockaddr *)&listen_addr, listen_len) < 0)
    die("cannot listen on %s: %s", settings[K_ADDRESS].value, strerror(errno));
  if (listen(lfd, 1024) < 0) die("listen: %s", strerror(errno));

  /* the one start line: where, whence, and facts about the secrets only */
  printf("%s: S3 gateway stand-in (not Storj) listening on %s, forwarding to %s; access grant "
         "set (%zu chars, from %s), minio access key %s, minio secret key %s\n",
         prog, settings[K_ADDRESS].value, settings[K_UPSTREAM].value,
         strlen(settings[K_ACCESS].value), settings[K_ACCESS].source,
         settings[K_MINIO_AK].value ? "set" : "not set (default)",
         settings[K_MINIO_SK].value ? "set" : "not set (default)");
  /* storjlabs/gateway prints its S3 credentials at INFO (storj.md 2.3); do
   * the same so that the backend's log redaction is tested for real */
  if (settings[K_MINIO_AK].value && settings[K_MINIO_SK].value)
    printf("%s: Access key: %s\n%s: Secret key: %s\n", prog, settings[K_MINIO_AK].value, prog,
           settings[K_MINIO_SK].value);
  fflush(stdout);

  for (;;) {
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        usleep(100000);
        continue;
      }
      die("accept: %s", strerror(errno));
    }
    pthread_t t;
    if (pthread_create(&t, &thread_attr, serve_client, (void *)(intptr_t)c) != 0) {
      fprintf(stderr, "%s: cannot start a thread; dropping a client connection\n", prog);
      close(c);
      }
  }
}
