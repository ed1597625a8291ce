#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (b->max && b->len + n > b->max) {
        b->overflow = 1;
        return -1;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->overflow = 1;
            return -1;
        }
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof tmp)
        return buf_append(b, tmp, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->overflow = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->overflow = 0;
}

int err_set(struct err *e, int status, enum ecode code, const char *field, const char *fmt, ...)
{
    if (!e)
        return -1;
    e->status = status;
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    str_utf8_cut(e->field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    /* a message cut by the buffer (or a %.Ns) must still be a JSON string */
    str_utf8_cut(e->message);
    str_utf8_clean(e->message, strlen(e->message));
    return -1;
}

void str_utf8_cut(char *s)
{
    size_t n = strlen(s), lead = n;
    /* walk back over continuation bytes to the lead byte of the last character */
    while (lead > 0 && n - lead < 4 && ((unsigned char)s[lead - 1] >> 6) == 2)
        lead--;
    if (lead == 0)
        return;
    unsigned char c = (unsigned char)s[lead - 1];
    size_t want = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (want > 1 && n - (lead - 1) < want)
        s[lead - 1] = '\0'; /* an incomplete last character: drop it whole */
}

void secret_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

void log_msg(const char *level, const char *fmt, ...)
{
    char ts[32], line[1024];
    format_time_utc((long long)time(NULL), ts, sizeof ts);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s %s\n", ts, level, line);
}

char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

void secret_free(char **p)
{
    if (!*p)
        return;
    explicit_bzero(*p, strlen(*p));
    free(*p);
    *p = NULL;
}

int str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

int random_hex(char *out, size_t n)
{
    unsigned char raw[64];
    if (n > sizeof raw)
        return -1;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(raw + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)r;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * n] = '\0';
    return 0;
}

void format_time_utc(long long t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int time_utc_valid(const char *t)
{
    static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
    if (!t || strlen(t) != sizeof form - 1)
        return 0;
    for (size_t i = 0; form[i]; i++)
        if (form[i] == 'd' ? !isdigit((unsigned char)t[i]) : t[i] != form[i])
            return 0;
    struct tm tm = {0};
    if (!strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return 0;
    char again[32];
    format_time_utc((long long)timegm(&tm), again, sizeof again);
    return strcmp(again, t) == 0;
}

int str_redact(struct buf *out, const char *in, size_t len, const char *const *secrets, int n)
{
    size_t i = 0;
    while (i < len) {
        /* the longest secret that starts here, so that a secret which is a
         * prefix of another cannot leave the other's tail behind */
        size_t best = 0;
        for (int k = 0; k < n; k++) {
            const char *s = secrets[k];
            size_t sl = s ? strlen(s) : 0;
            if (sl >= 4 && sl > best && sl <= len - i && memcmp(in + i, s, sl) == 0)
                best = sl;
        }
        if (best) {
            if (buf_append(out, "[redacted]", 10))
                return -1;
            i += best;
        } else {
            if (buf_append(out, in + i, 1))
                return -1;
            i++;
        }
    }
    return buf_append(out, "", 0);
}

void str_utf8_clean(char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = n > 0 && i + n <= len && !(n == 2 && c < 0xc2) && !(n == 4 && c > 0xf4);
        for (size_t k = 1; ok && k < n; k++)
            ok = ((unsigned char)s[i + k] >> 6) == 2;
        if (ok && n == 3) { /* no overlong forms, no surrogates */
            unsigned char c1 = (unsigned char)s[i + 1];
            ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
        }
        if (ok && n == 4) {
            unsigned char c1 = (unsigned char)s[i + 1];
            ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
        }
        if (!ok) {
            s[i++] = '?';
            continue;
        }
        i += n;
    }
}

static int save_failed(struct err *e, const char *path, const char *what, const char *step,
                       int errnum)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    const char *d = dirname(dir);
    const char *why = errnum == ENOSPC || errnum == EDQUOT  ? "the disk holding it is full"
                      : errnum == EROFS                     ? "it is on a read-only file system"
                      : errnum == EACCES || errnum == EPERM ? "it is not writable"
                                                            : "it cannot be written";
    return err_set(e, errnum == ENOSPC || errnum == EDQUOT ? 507 : 500, E_STATE_UNWRITABLE, NULL,
                   "the %s could not be saved in the state folder %s: %s (%s %s); the "
                   "previous %s are kept",
                   what, d, why, step, strerror(errnum), what);
}

int file_write_atomic(const char *path, const char *data, size_t n, const char *what, struct err *e)
{
    char tmp[4096] = "", dir[4096];
    int fd = -1, rc = -1;
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
        tmp[0] = '\0';
        return err_set(e, 500, E_STATE_UNWRITABLE, NULL, "state path too long");
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        save_failed(e, path, what, "creating a file:", errno);
        return -1;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            save_failed(e, path, what, "writing:", w < 0 ? errno : ENOSPC);
            goto out;
        }
        off += (size_t)w;
    }
    int synced = fsync(fd) == 0;
    int serr = errno;
    int closed = close(fd) == 0;
    fd = -1;
    if (!synced || !closed) {
        save_failed(e, path, what, "syncing:", synced ? errno : serr);
        goto out;
    }
    if (rename(tmp, path)) {
        save_failed(e, path, what, "replacing the file:", errno);
        goto out;
    }
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc)
        unlink(tmp);
    return rc;
}
