/*
 * libFuzzer target for backend/dstream.c: the Docker stream decoders that
 * read what the engine sends (multiplexed log frames, raw TTY logs, the
 * pull's JSON-lines progress).
 *
 * The first byte picks the decoder and how the input is chunked (the engine's
 * answer arrives in pieces of any size, splitting frames, lines and UTF-8
 * characters). Invariants: every line handed out is at most DEMUX_MAX_LINE
 * bytes and from a known stream; pull totals never go negative and the
 * current count never passes a known total of a finished layer set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstream.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

static void on_line(void *ctx, enum demux_stream stream, const char *line, size_t len)
{
    size_t *lines = ctx;
    check(len <= DEMUX_MAX_LINE);
    check(stream == DEMUX_STDIN || stream == DEMUX_STDOUT || stream == DEMUX_STDERR);
    if (len)
        check(line != NULL);
    (*lines)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    data++, size--;
    size_t chunk = (size_t)(sel >> 2) + 1; /* 1..64 bytes a piece */
    if (sel & 2)
        chunk = size ? size : 1; /* all at once */

    if ((sel & 1) == 0) {
        static struct demux d; /* large: keep it off the stack */
        size_t lines = 0;
        demux_init(&d, (sel & 4) != 0, on_line, &lines);
        for (size_t off = 0; off < size; off += chunk)
            demux_feed(&d, data + off, size - off < chunk ? size - off : chunk);
        demux_finish(&d);
    } else {
        static struct pullprog p;
        pullprog_init(&p);
        for (size_t off = 0; off < size; off += chunk) {
            pullprog_feed(&p, (const char *)data + off, size - off < chunk ? size - off : chunk);
            int64_t cur, tot;
            pullprog_totals(&p, &cur, &tot);
            check(cur >= 0 && tot >= 0);
            check(p.nlayers >= 0 && p.nlayers <= PULL_MAX_LAYERS);
            check(memchr(p.error, '\0', sizeof p.error) != NULL);
        }
    }
    return 0;
}
