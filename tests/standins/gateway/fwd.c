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
 * With standin.front (env STORJ_STANDIN_FRONT) = HOST:PORT of the
 * Storj-behaviour S3 front (tests/standins/storjfront.py), the upstream
 * defaults to the front, and at start the stand-in decodes the grant's
 * default path cipher (base58check, Scope field 3 -> EncryptionAccess field
 * 3; ENC_UNSPECIFIED counts as ENC_AESGCM, as in storj/common) and registers
 * its S3 key pair with the front:
 *   PUT /_standin/keys/<minio.access-key>
 *   {"pathCipher": "ENC_...", "secretKey": "...", "uploadPartCopy": bool}
 * (uploadPartCopy from s3.upload-part-copy.enable), so that the front applies
 * the rules the real gateway applies for that grant. A grant that does not
 * decode, or a front that does not answer 204, stops the start, as the real
 * gateway stops when it cannot contact the satellite.
 *
 * Differences from the real gateway: nothing is encrypted or sent to Storj;
 * without standin.front the access grant is only checked for presence;
 * listen addresses other than loopback are refused (the tests may only
 * listen on loopback or on their 198.18.0.0/15 bridges): 0.0.0.0 (or ::) is
 * taken only where every address of the network namespace is loopback, in
 * 198.18.0.0/15 or IPv6 link-local (a container on a test bridge), never in
 * the host's network; the upstream and the front must be on loopback
 * or on the tests' 198.18.0.0/15 bridge; the real image sets
 * STORJ_SERVER_ADDRESS=0.0.0.0:7777 in its environment, this one does not.
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
#include <ifaddrs.h>
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

enum { K_ACCESS, K_MINIO_AK, K_MINIO_SK, K_ADDRESS, K_UPSTREAM, K_FRONT, K_UPC, K_COUNT };

static const char *const key_names[K_COUNT] = {
    "access",           "minio.access-key", "minio.secret-key",           "server.address",
    "standin.upstream", "standin.front",    "s3.upload-part-copy.enable",
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

/* loopback, or the tests' bridge range 198.18.0.0/15 (the host side of it is
 * where bridged containers reach host services) */
static int is_test_address(const struct sockaddr_storage *ss) {
  if (is_loopback(ss)) return 1;
  return ss->ss_family == AF_INET &&
         (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 17) == (0xC612u >> 1);
}

static int write_all(int fd, const char *b, size_t n);

static int is_unspecified(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET)
    return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
  return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* 1 when every interface address here is loopback, in 198.18.0.0/15 or IPv6
 * link-local: then listening on all of them stays on the tests' bridge. */
static int only_test_interfaces(void) {
  struct ifaddrs *ifs;
  if (getifaddrs(&ifs) < 0) return 0;
  int ok = 1;
  for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      struct sockaddr_storage ss;
      memset(&ss, 0, sizeof ss);
      memcpy(&ss, i->ifa_addr, sizeof(struct sockaddr_in));
      if (!is_test_address(&ss)) ok = 0;
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const struct in6_addr *a = &((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
      if (!IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_LINKLOCAL(a)) ok = 0;
    }
  }
  freeifaddrs(ifs);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* The grant's default path cipher (storj.md 1.1, 1.2, 4.4a)                */

#define GRANT_MAX 8192

/* SHA-256 (FIPS 180-4), only for the base58check checksum */
static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const unsigned char *p) {
  uint32_t w[64], a[8];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
           p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  memcpy(a, h, sizeof a);
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = a[7] + (ROR(a[4], 6) ^ ROR(a[4], 11) ^ ROR(a[4], 25)) +
                  ((a[4] & a[5]) ^ (~a[4] & a[6])) + sha_k[i] + w[i];
    uint32_t t2 = (ROR(a[0], 2) ^ ROR(a[0], 13) ^ ROR(a[0], 22)) +
                  ((a[0] & a[1]) ^ (a[0] & a[2]) ^ (a[1] & a[2]));
    memmove(a + 1, a, 7 * sizeof a[0]);
    a[4] += t1;
    a[0] = t1 + t2;
  }
  for (int i = 0; i < 8; i++) h[i] += a[i];
}

static void sha256(const unsigned char *d, size_t n, unsigned char out[32]) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  unsigned char last[128] = {0};
  size_t full = n / 64 * 64, rest = n - full;
  for (size_t i = 0; i < full; i += 64) sha_block(h, d + i);
  memcpy(last, d + full, rest);
  last[rest] = 0x80;
  size_t tail = rest < 56 ? 64 : 128;
  uint64_t bits = (uint64_t)n * 8;
  for (int i = 0; i < 8; i++) last[tail - 1 - i] = (unsigned char)(bits >> (8 * i));
  sha_block(h, last);
  if (tail == 128) sha_block(h, last + 64);
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++) out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

/* base58check with version 0 -> payload in out; returns its length or -1 */
static long grant_payload(const char *s, unsigned char *out, size_t cap) {
  static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  unsigned char num[GRANT_MAX];
  size_t len = strlen(s), zeros = 0;
  if (len == 0 || len >= GRANT_MAX) return -1;
  while (zeros < len && s[zeros] == '1') zeros++;
  size_t size = (len - zeros) * 733 / 1000 + 1;
  memset(num, 0, size);
  for (size_t i = zeros; i < len; i++) {
    const char *p = strchr(alphabet, s[i]);
    if (!p) return -1;
    unsigned carry = (unsigned)(p - alphabet);
    for (size_t j = size; j-- > 0;) {
      carry += 58u * num[j];
      num[j] = (unsigned char)carry;
      carry >>= 8;
    }
  }
  size_t k = 0;
  while (k < size && num[k] == 0) k++;
  size_t total = zeros + size - k;
  unsigned char raw[GRANT_MAX];
  if (total < 5 || total > sizeof raw) return -1;
  memset(raw, 0, zeros);
  memcpy(raw + zeros, num + k, size - k);
  unsigned char h1[32], h2[32];
  sha256(raw, total - 4, h1);
  sha256(h1, 32, h2);
  if (memcmp(h2, raw + total - 4, 4) != 0 || raw[0] != 0) return -1;
  if (total - 5 > cap) return -1;
  memcpy(out, raw + 1, total - 5);
  return (long)(total - 5);
}

static int pb_varint(const unsigned char **p, const unsigned char *end, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return -1;
    unsigned char c = *(*p)++;
    *v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) return 0;
  }
  return -1;
}

/* Finds field `want` of wire type `wire` in a message: its varint in *v or
 * its bytes in *data and *dlen (the last occurrence). 1 found, 0 not, -1 bad. */
static int pb_find(const unsigned char *p, const unsigned char *end, uint64_t want, int wire,
                   uint64_t *v, const unsigned char **data, size_t *dlen) {
  int found = 0;
  while (p < end) {
    uint64_t tag, x;
    if (pb_varint(&p, end, &tag) < 0) return -1;
    int w = (int)(tag & 7);
    if (w == 0) {
      if (pb_varint(&p, end, &x) < 0) return -1;
      if (tag >> 3 == want && wire == 0) *v = x, found = 1;
    } else if (w == 2) {
      if (pb_varint(&p, end, &x) < 0 || x > (uint64_t)(end - p)) return -1;
      if (tag >> 3 == want && wire == 2) *data = p, *dlen = (size_t)x, found = 1;
      p += x;
    } else if (w == 1 || w == 5) {
      size_t n = w == 1 ? 8 : 4;
      if ((size_t)(end - p) < n) return -1;
      p += n;
    } else {
      return -1;
    }
  }
  return found;
}

static const char *const cipher_names[] = {"ENC_UNSPECIFIED", "ENC_NULL", "ENC_AESGCM",
                                           "ENC_SECRETBOX"};

/* The name of the grant's default path cipher, or NULL when it does not decode. */
static const char *grant_cipher(const char *grant) {
  unsigned char payload[GRANT_MAX];
  long n = grant_payload(grant, payload, sizeof payload);
  if (n < 0) return NULL;
  const unsigned char *ea = NULL;
  size_t ealen = 0;
  uint64_t cipher = 0;
  if (pb_find(payload, payload + n, 3, 2, NULL, &ea, &ealen) < 0) return NULL;
  if (ea && pb_find(ea, ea + ealen, 3, 0, &cipher, NULL, NULL) < 0) return NULL;
  if (cipher == 0) cipher = 2; /* storj/common: unspecified means AES-GCM */
  return cipher < 4 ? cipher_names[cipher] : NULL;
}

/* PUT the key pair and the cipher to the front; 0 when it answered 204. */
static int register_with_front(const struct sockaddr_storage *addr, socklen_t alen,
                               const char *front, const char *ak, const char *sk,
                               const char *cipher, int upc) {
  char body[VALUE_MAX + 256], req[2 * VALUE_MAX + 512];
  size_t bn = 0;
  bn += (size_t)snprintf(body, sizeof body, "{\"pathCipher\":\"%s\",\"uploadPartCopy\":%s,"
                         "\"source\":\"gateway-standin\",\"secretKey\":\"",
                         cipher, upc ? "true" : "false");
  for (const char *p = sk; *p && bn + 8 < sizeof body; p++) {
    if (*p == '"' || *p == '\\') body[bn++] = '\\';
    body[bn++] = *p;
  }
  bn += (size_t)snprintf(body + bn, sizeof body - bn, "\"}");
  int rn = snprintf(req, sizeof req,
                    "PUT /_standin/keys/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                    ak, front, bn, body);
  memset(body, 0, sizeof body);
  if (rn < 0 || (size_t)rn >= sizeof req) return -1;
  int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int ok = -1;
  char resp[64] = {0};
  if (fd >= 0 && connect(fd, (const struct sockaddr *)addr, alen) == 0 &&
      write_all(fd, req, (size_t)rn) == 0) {
    size_t got = 0;
    ssize_t r;
    while (got < sizeof resp - 1 && (r = recv(fd, resp + got, sizeof resp - 1 - got, 0)) > 0)
      got += (size_t)r;
    ok = strncmp(resp, "HTTP/1.1 204", 12) == 0 || strncmp(resp, "HTTP/1.0 204", 12) == 0 ? 0 : -1;
  }
  memset(req, 0, sizeof req);
  if (fd >= 0) close(fd);
  return ok;
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
  if (!settings[K_UPSTREAM].value && settings[K_FRONT].value)
    set_value(K_UPSTREAM, settings[K_FRONT].value, strlen(settings[K_FRONT].value), "standin.front");
  if (!settings[K_UPSTREAM].value)
    set_value(K_UPSTREAM, DEFAULT_UPSTREAM, strlen(DEFAULT_UPSTREAM), "default");

  struct sockaddr_storage listen_addr;
  socklen_t listen_len;
  if (parse_addr(settings[K_ADDRESS].value, &listen_addr, &listen_len) < 0)
    die("server.address '%s' is not a numeric HOST:PORT", settings[K_ADDRESS].value);
  if (!is_loopback(&listen_addr) && !(is_unspecified(&listen_addr) && only_test_interfaces()))
    die("server.address '%s' (from %s) is not a loopback address; this test stand-in "
        "only listens on loopback (or on every address where all of them are on a "
        "198.18.0.0/15 test bridge)",
        settings[K_ADDRESS].value, settings[K_ADDRESS].source);
  if (parse_addr(settings[K_UPSTREAM].value, &upstream_addr, &upstream_len) < 0)
    die("standin.upstream '%s' is not a numeric HOST:PORT", settings[K_UPSTREAM].value);
  if (!is_test_address(&upstream_addr))
    die("standin.upstream '%s' is neither loopback nor in 198.18.0.0/15", settings[K_UPSTREAM].value);

  const char *cipher = NULL;
  int upc = 0;
  if (settings[K_FRONT].value) {
    struct sockaddr_storage front_addr;
    socklen_t front_len;
    if (parse_addr(settings[K_FRONT].value, &front_addr, &front_len) < 0 ||
        !is_test_address(&front_addr))
      die("standin.front '%s' is not a numeric HOST:PORT on loopback or 198.18.0.0/15",
          settings[K_FRONT].value);
    cipher = grant_cipher(settings[K_ACCESS].value);
    if (!cipher) die("the access grant does not decode (base58check, Scope); refusing to start");
    const char *ak = settings[K_MINIO_AK].value ? settings[K_MINIO_AK].value : "insecure-dev-access-key";
    const char *sk = settings[K_MINIO_SK].value ? settings[K_MINIO_SK].value : "insecure-dev-secret-key";
    for (const char *p = ak; *p; p++)
      if (!isalnum((unsigned char)*p) && !strchr("._~-", *p))
        die("minio.access-key has a character the front's control path does not take");
    const char *u = settings[K_UPC].value;
    upc = u && (strcmp(u, "true") == 0 || strcmp(u, "1") == 0);
    int tries = 0;
    while (register_with_front(&front_addr, front_len, settings[K_FRONT].value, ak, sk, cipher,
                               upc) < 0) {
      if (++tries == 40)
        die("the S3 front at %s did not take the key pair (a real gateway stops when it cannot "
            "contact the satellite)",
            settings[K_FRONT].value);
      usleep(250000);
    }
  }

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
  if (cipher)
    printf("%s: key pair registered with the Storj-behaviour S3 front at %s (grant path cipher "
           "%s, UploadPartCopy %s)\n",
           prog, settings[K_FRONT].value, cipher, upc ? "enabled" : "disabled");
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
