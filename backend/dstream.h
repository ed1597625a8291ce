/* Docker's streamed answers, decoded: the multiplexed log stream (8-byte
 * frame headers) into lines, and the newline-delimited JSON of an image pull
 * into bytes done and total. Pure, fed chunk by chunk as curl delivers. */
#ifndef SR_DSTREAM_H
#define SR_DSTREAM_H

#include <stddef.h>
#include <stdint.h>

#define DEMUX_MAX_LINE 8192 /* longer lines are split */
#define PULL_MAX_LAYERS 256
/* a layer counted as at most 1 PiB: 256 of them sum far below INT64_MAX */
#define PULL_MAX_BYTES ((int64_t)1 << 50)
#define PULL_MAX_LINE 65536

enum demux_stream { DEMUX_STDIN = 0, DEMUX_STDOUT = 1, DEMUX_STDERR = 2 };

/* Called once per complete line (without the newline). */
typedef void (*demux_line_fn)(void *ctx, enum demux_stream stream, const char *line, size_t len);

struct demux {
    int raw; /* 1: a TTY container's stream, no frame headers */
    unsigned char hdr[8];
    size_t hdr_len;
    uint32_t remaining; /* payload bytes left in the current frame */
    enum demux_stream stream;
    char line[3][DEMUX_MAX_LINE];
    size_t line_len[3];
    int bad; /* a frame header with an unknown stream type was seen */
    demux_line_fn fn;
    void *ctx;
};

void demux_init(struct demux *d, int raw, demux_line_fn fn, void *ctx);
/* Feeds n bytes. Returns 0, or -1 once the stream is malformed. */
int demux_feed(struct demux *d, const void *data, size_t n);
/* Emits unterminated trailing lines. */
void demux_finish(struct demux *d);

struct pull_layer {
    char id[72];
    int64_t current;
    int64_t total;
    int done;
};

struct pullprog {
    struct pull_layer layers[PULL_MAX_LAYERS];
    int nlayers;
    char pending[PULL_MAX_LINE]; /* a JSON line split across chunks */
    size_t pending_len;
    char error[512]; /* non-empty once the stream reported an error */
};

/* The major version in what "registry --version" prints: its last word is
 * the version ("registry github.com/distribution/distribution/v3 v3.0.0",
 * "/usr/bin/docker-registry github.com/docker/distribution 2.8.2+ds1").
 * 0 when the text ends in no version. */
int regversion_major(const char *text, size_t len);

void pullprog_init(struct pullprog *p);
/* Feeds n bytes of the pull stream. Returns 0, or -1 when an error line was
 * seen (p->error says what) or a line was too long. */
int pullprog_feed(struct pullprog *p, const char *data, size_t n);
/* Sums over the layers seen so far. */
void pullprog_totals(const struct pullprog *p, int64_t *current, int64_t *total);

#endif
