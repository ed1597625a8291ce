#include "dstream.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

void demux_init(struct demux *d, int raw, demux_line_fn fn, void *ctx)
{
    memset(d, 0, sizeof *d);
    d->raw = raw;
    d->stream = DEMUX_STDOUT;
    d->fn = fn;
    d->ctx = ctx;
}

static void emit(struct demux *d, enum demux_stream s)
{
    size_t len = d->line_len[s];
    if (len && d->line[s][len - 1] == '\r')
        len--;
    d->fn(d->ctx, s, d->line[s], len);
    d->line_len[s] = 0;
}

static void payload(struct demux *d, const char *p, size_t n)
{
    enum demux_stream s = d->stream;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            emit(d, s);
            continue;
        }
        if (d->line_len[s] == DEMUX_MAX_LINE)
            emit(d, s);
        d->line[s][d->line_len[s]++] = p[i];
    }
}

int demux_feed(struct demux *d, const void *data, size_t n)
{
    const char *p = data;
    if (d->bad)
        return -1;
    if (d->raw) {
        payload(d, p, n);
        return 0;
    }
    while (n) {
        if (d->remaining == 0) {
            size_t take = 8 - d->hdr_len < n ? 8 - d->hdr_len : n;
            memcpy(d->hdr + d->hdr_len, p, take);
            d->hdr_len += take;
            p += take;
            n -= take;
            if (d->hdr_len < 8)
                return 0;
            d->hdr_len = 0;
            if (d->hdr[0] > 2 || d->hdr[1] || d->hdr[2] || d->hdr[3]) {
                d->bad = 1;
                return -1;
            }
            d->stream = (enum demux_stream)d->hdr[0];
            d->remaining = (uint32_t)d->hdr[4] << 24 | (uint32_t)d->hdr[5] << 16 |
                           (uint32_t)d->hdr[6] << 8 | d->hdr[7];
            continue;
        }
        size_t take = d->remaining < n ? d->remaining : n;
        payload(d, p, take);
        d->remaining -= (uint32_t)take;
        p += take;
        n -= take;
    }
    return 0;
}

void demux_finish(struct demux *d)
{
    for (int s = 0; s < 3; s++)
        if (d->line_len[s])
            emit(d, (enum demux_stream)s);
}

int regversion_major(const char *text, size_t len)
{
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    size_t i = len;
    while (i && text[i - 1] != ' ' && text[i - 1] != '\n' && text[i - 1] != '\t')
        i--;
    if (i < len && text[i] == 'v')
        i++;
    int major = 0, digits = 0;
    while (i < len && text[i] >= '0' && text[i] <= '9' && digits < 4) {
        major = major * 10 + (text[i++] - '0');
        digits++;
    }
    return digits && i < len && text[i] == '.' ? major : 0;
}

void pullprog_init(struct pullprog *p)
{
    memset(p, 0, sizeof *p);
}

static struct pull_layer *layer(struct pullprog *p, const char *id)
{
    /* ids are stored cut to the field's size: compare what was stored */
    for (int i = 0; i < p->nlayers; i++)
        if (strncmp(p->layers[i].id, id, sizeof p->layers[i].id - 1) == 0)
            return &p->layers[i];
    if (p->nlayers == PULL_MAX_LAYERS)
        return NULL;
    struct pull_layer *l = &p->layers[p->nlayers++];
    memset(l, 0, sizeof *l);
    snprintf(l->id, sizeof l->id, "%s", id);
    return l;
}

static int line(struct pullprog *p, const char *text, size_t len)
{
    json_error_t je;
    json_t *o = json_loadb(text, len, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return 0; /* not JSON: ignore, the HTTP status decides */
    }
    int rc = 0;
    json_t *err = json_object_get(o, "error");
    json_t *detail = json_object_get(json_object_get(o, "errorDetail"), "message");
    if (json_is_string(err) || json_is_string(detail)) {
        snprintf(p->error, sizeof p->error, "%s",
                 json_string_value(json_is_string(detail) ? detail : err));
        rc = -1;
        goto out;
    }
    const char *status = json_string_value(json_object_get(o, "status"));
    const char *id = json_string_value(json_object_get(o, "id"));
    if (!status)
        goto out;
    if (!id) /* "Digest: ...", "Status: ...": no layer to follow */
        goto out;
    json_t *pd = json_object_get(o, "progressDetail");
    json_int_t cur = json_integer_value(json_object_get(pd, "current"));
    json_int_t tot = json_integer_value(json_object_get(pd, "total"));
    if (strcmp(status, "Downloading") == 0 && tot > 0) {
        struct pull_layer *l = layer(p, id);
        if (l) {
            /* the engine's numbers, kept sane: no layer above PULL_MAX_BYTES,
             * no count below zero or above its total */
            l->total = tot < PULL_MAX_BYTES ? tot : PULL_MAX_BYTES;
            l->current = cur < 0 ? 0 : cur < l->total ? cur : l->total;
        }
    } else if (strcmp(status, "Download complete") == 0 || strcmp(status, "Pull complete") == 0 ||
               strcmp(status, "Already exists") == 0 || strcmp(status, "Verifying Checksum") == 0) {
        struct pull_layer *l = layer(p, id);
        if (l) {
            l->done = 1;
            l->current = l->total;
        }
    } else if (strcmp(status, "Pulling fs layer") == 0 || strcmp(status, "Waiting") == 0) {
        layer(p, id);
    }
out:
    json_decref(o);
    return rc;
}

int pullprog_feed(struct pullprog *p, const char *data, size_t n)
{
    if (p->error[0])
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            if (p->pending_len && line(p, p->pending, p->pending_len))
                return -1;
            p->pending_len = 0;
            continue;
        }
        if (p->pending_len == sizeof p->pending) {
            snprintf(p->error, sizeof p->error, "the pull stream sent an overlong line");
            return -1;
        }
        p->pending[p->pending_len++] = data[i];
    }
    return 0;
}

void pullprog_totals(const struct pullprog *p, int64_t *current, int64_t *total)
{
    /* at most PULL_MAX_LAYERS layers of at most PULL_MAX_BYTES each: the
     * sums cannot overflow */
    int64_t c = 0, t = 0;
    for (int i = 0; i < p->nlayers; i++) {
        c += p->layers[i].current;
        t += p->layers[i].total;
    }
    *current = c;
    *total = t;
}
