/* Small shared pieces: a capped growable buffer, the error struct every
 * fallible function fills, logging that never sees secrets, and string
 * helpers. */
#ifndef SR_UTIL_H
#define SR_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#include "errors.h"

/* A growable byte buffer with a hard cap: outside input never grows memory
 * past `max`. data is always NUL-terminated when len > 0. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;   /* 0 = no cap */
    int overflow; /* set once an append was refused */
};

/* Appends n bytes. Returns 0, or -1 when the cap would be exceeded (the
 * buffer is left as it was and overflow is set) or memory ran out. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/* Errors: an HTTP-ish status, a stable code, the field at fault (validation
 * errors only) and a sentence for people. */
struct err {
    int status;
    enum ecode code;
    char field[64];
    char message[512];
};

/* Fills e (when not NULL) and returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *e, int status, enum ecode code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Log a line to stderr: "2026-11-27T11:00:00Z level message". Callers pass
 * no secret, ever: messages are built from codes, names and numbers. */
void log_msg(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_info(...) log_msg("info", __VA_ARGS__)
#define log_warn(...) log_msg("warn", __VA_ARGS__)
#define log_error(...) log_msg("error", __VA_ARGS__)

/* strdup that treats NULL as NULL. Caller frees. */
char *xstrdup(const char *s);
/* Frees *p after wiping its bytes (for secrets), sets *p to NULL. */
void secret_free(char **p);
/* Wipes n bytes in a way the compiler may not remove (explicit_bzero). */
void secret_wipe(void *p, size_t n);
/* 1 when both are NULL or equal strings. */
int str_eq(const char *a, const char *b);
/* Hex-encodes n random bytes from the kernel into out (2n+1 bytes). 0 or -1. */
int random_hex(char *out, size_t n);
/* RFC 3339 UTC for t into out (at least 21 bytes). */
void format_time_utc(long long t, char *out, size_t len);
/* 1 when t is "YYYY-MM-DDTHH:MM:SSZ" naming a real moment (no month 13, no
 * February 30, no hour 24), as format_time_utc writes it; else 0. */
int time_utc_valid(const char *t);

/* Replaces every byte that is not part of a valid UTF-8 sequence by '?', in
 * place, so that any process output can become a JSON string. */
void str_utf8_clean(char *s, size_t len);
/* Drops an incomplete UTF-8 character at the end of s (a cut by snprintf or
 * a precision), so the text ends on a character boundary. */
void str_utf8_cut(char *s);

/* Copies in[0..len) to out with every occurrence of each secret (those of at
 * least 4 characters) replaced by "[redacted]". 0 or -1 (memory or cap). */
int str_redact(struct buf *out, const char *in, size_t len, const char *const *secrets, int n);
/* Writes data to path atomically and durably: a 0600 temporary file next to
 * it (path.tmp.PID), fsync, rename, fsync of the folder. On failure the old
 * file is kept and e says why in words naming what ("settings": "the
 * settings could not be saved ... the disk holding it is full", 507 for a
 * full disk). 0 or -1. */
int file_write_atomic(const char *path, const char *data, size_t len, const char *what,
                      struct err *e);

#endif
