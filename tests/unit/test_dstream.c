/*
 * Unit tests for backend/dstream.c: the Docker log demultiplexer and the
 * image pull progress parser. Both are fed the way curl delivers: every
 * stream is also fed one byte at a time, split at every byte boundary (the
 * small ones) and in random chunkings, and must decode the same each way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dstream.h"
#include "util.h"
#include "testutil.h"

#define RANDOM_CHUNKINGS 40
#define ALL_SPLITS_UP_TO 2048 /* streams up to this size are split at every byte */

/* A small deterministic generator, so a failure can be replayed. */
static uint32_t rng_state;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* ---- demux -------------------------------------------------------------- */

/* Lines are collected as "<stream>|<line>\n" in one text. */
static void collect(void *ctx, enum demux_stream stream, const char *line, size_t len)
{
    struct buf *out = ctx;
    char tag[4] = {(char)('0' + stream), '|'};
    assert_int_equal(buf_append(out, tag, 2), 0);
    assert_int_equal(buf_append(out, line, len), 0);
    assert_int_equal(buf_append(out, "\n", 1), 0);
}

static void frame(struct buf *b, int stream, const char *payload, size_t len)
{
    unsigned char h[8] = {(unsigned char)stream,
                          0,
                          0,
                          0,
                          (unsigned char)(len >> 24),
                          (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8),
                          (unsigned char)len};
    assert_int_equal(buf_append(b, h, 8), 0);
    assert_int_equal(buf_append(b, payload, len), 0);
}

enum feed_way { FEED_WHOLE, FEED_BYTES, FEED_SPLIT, FEED_RANDOM };

/* Feeds in into a fresh demux and returns the collected lines (caller frees
 * the buf). rc receives the first non-zero feed result. */
static void run_demux(int raw, const char *in, size_t n, enum feed_way way, size_t split,
                      int finish, struct buf *out, int *rc)
{
    struct demux *d = malloc(sizeof *d);
    assert_non_null(d);
    demux_init(d, raw, collect, out);
    *rc = 0;
    size_t off = 0;
    while (off < n || (way == FEED_WHOLE && off == 0 && n == 0)) {
        size_t take;
        switch (way) {
        case FEED_WHOLE:
            take = n;
            break;
        case FEED_BYTES:
            take = 1;
            break;
        case FEED_SPLIT:
            take = off < split ? split - off : n - off;
            break;
        default:
            take = 1 + rng() % 700;
            /* sometimes a zero-length feed too */
            if (rng() % 16 == 0) {
                int r0 = demux_feed(d, in + off, 0);
                if (r0 && !*rc)
                    *rc = r0;
            }
            break;
        }
        if (take > n - off)
            take = n - off;
        int r = demux_feed(d, in + off, take);
        if (r && !*rc)
            *rc = r;
        off += take;
        if (n == 0)
            break;
    }
    if (finish)
        demux_finish(d);
    free(d);
}

/* Checks that every way of feeding in gives want (and rc 0). */
static void check_demux_all_ways(const char *name, int raw, const char *in, size_t n,
                                 const char *want, size_t want_len)
{
    struct buf out = {0};
    int rc;
    enum feed_way ways[] = {FEED_WHOLE, FEED_BYTES};
    for (int w = 0; w < 2; w++) {
        buf_reset(&out);
        run_demux(raw, in, n, ways[w], 0, 1, &out, &rc);
        CHECK(rc == 0, "%s (way %d): rc %d", name, w, rc);
        CHECK(out.len == want_len && (want_len == 0 || memcmp(out.data, want, want_len) == 0),
              "%s (way %d): got\n%.*s\nwant\n%.*s", name, w, (int)(out.len > 400 ? 400 : out.len),
              out.data ? out.data : "", (int)(want_len > 400 ? 400 : want_len), want);
    }
    if (n <= ALL_SPLITS_UP_TO)
        for (size_t s = 0; s <= n; s++) {
            buf_reset(&out);
            run_demux(raw, in, n, FEED_SPLIT, s, 1, &out, &rc);
            CHECK(rc == 0 && out.len == want_len &&
                      (want_len == 0 || memcmp(out.data, want, want_len) == 0),
                  "%s: split at %zu differs", name, s);
        }
    for (int k = 0; k < RANDOM_CHUNKINGS; k++) {
        rng_state = 0x9e3779b9u + (uint32_t)k;
        buf_reset(&out);
        run_demux(raw, in, n, FEED_RANDOM, 0, 1, &out, &rc);
        CHECK(rc == 0 && out.len == want_len &&
                  (want_len == 0 || memcmp(out.data, want, want_len) == 0),
              "%s: random chunking %d differs", name, k);
    }
    buf_free(&out);
}

struct frame_def {
    int stream;
    const char *payload;
};

static void test_demux_frames(void **state)
{
    static const struct {
        const char *name;
        struct frame_def frames[8];
        const char *want;
    } cases[] = {
        {"nothing", {{-1, NULL}}, ""},
        {"one line", {{1, "hello\n"}, {-1, NULL}}, "1|hello\n"},
        {"several lines in a frame", {{1, "a\nb\nc\n"}, {-1, NULL}}, "1|a\n1|b\n1|c\n"},
        {"stdout and stderr interleaved",
         {{1, "out one\n"}, {2, "err one\n"}, {1, "out two\n"}, {2, "err two\n"}, {-1, NULL}},
         "1|out one\n2|err one\n1|out two\n2|err two\n"},
        {"line spanning frames",
         {{1, "hel"}, {1, "lo wor"}, {1, "ld\n"}, {-1, NULL}},
         "1|hello world\n"},
        {"partial lines on both streams",
         {{1, "a-"}, {2, "b-"}, {1, "a\n"}, {2, "b\n"}, {-1, NULL}},
         "1|a-a\n2|b-b\n"},
        {"stderr completes first",
         {{1, "slow "}, {2, "fast\n"}, {1, "done\n"}, {-1, NULL}},
         "2|fast\n1|slow done\n"},
        {"CRLF", {{1, "x\r\ny\r\n"}, {-1, NULL}}, "1|x\n1|y\n"},
        {"CR and LF in different frames", {{2, "x\r"}, {2, "\n"}, {-1, NULL}}, "2|x\n"},
        {"bare CR kept inside", {{1, "a\rb\n"}, {-1, NULL}}, "1|a\rb\n"},
        {"empty lines", {{1, "\n\n"}, {2, "\r\n"}, {-1, NULL}}, "1|\n1|\n2|\n"},
        {"zero-length frames", {{1, ""}, {1, "a"}, {2, ""}, {1, "\n"}, {-1, NULL}}, "1|a\n"},
        {"stdin frame", {{0, "typed\n"}, {-1, NULL}}, "0|typed\n"},
        {"unterminated last line", {{1, "a\nlast"}, {-1, NULL}}, "1|a\n1|last\n"},
        {"unterminated on both streams", {{2, "e"}, {1, "o"}, {-1, NULL}}, "1|o\n2|e\n"},
        {"unterminated with CR", {{1, "end\r"}, {-1, NULL}}, "1|end\n"},
        {"tabs and UTF-8",
         {{1, "t\tab \xc3\xa9t\xc3\xa9\n"}, {-1, NULL}},
         "1|t\tab \xc3\xa9t\xc3\xa9\n"},
        {"registry log",
         {{2, "time=\"2026-01-01T00:00:00Z\" level=info msg=\"listening on [::]:5000\"\n"},
          {2, "time=\"2026-01-01T00:00:01Z\" level=info msg=\"response completed\" "},
          {2, "http.request.method=GET http.response.status=200\n"},
          {-1, NULL}},
         "2|time=\"2026-01-01T00:00:00Z\" level=info msg=\"listening on [::]:5000\"\n"
         "2|time=\"2026-01-01T00:00:01Z\" level=info msg=\"response completed\" "
         "http.request.method=GET http.response.status=200\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct buf in = {0};
        assert_int_equal(buf_append(&in, "", 0), 0);
        for (int f = 0; f < 8 && cases[i].frames[f].stream >= 0; f++)
            frame(&in, cases[i].frames[f].stream, cases[i].frames[f].payload,
                  strlen(cases[i].frames[f].payload));
        check_demux_all_ways(cases[i].name, 0, in.data, in.len, cases[i].want,
                             strlen(cases[i].want));
        buf_free(&in);
    }
}

static void test_demux_finish_only_once(void **state)
{
    /* without demux_finish an unterminated line stays inside */
    struct buf in = {0}, out = {0};
    frame(&in, 1, "a\npartial", 9);
    int rc;
    run_demux(0, in.data, in.len, FEED_WHOLE, 0, 0, &out, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out.data, "1|a\n");
    buf_free(&out);

    /* finish twice emits the line once */
    struct demux d;
    demux_init(&d, 0, collect, &out);
    assert_int_equal(demux_feed(&d, in.data, in.len), 0);
    demux_finish(&d);
    demux_finish(&d);
    assert_string_equal(out.data, "1|a\n1|partial\n");
    buf_free(&out);
    buf_free(&in);
}

/* Over-long lines come out in DEMUX_MAX_LINE pieces. */
static void test_demux_long_lines(void **state)
{
    static const size_t lengths[] = {DEMUX_MAX_LINE - 1,      DEMUX_MAX_LINE,
                                     DEMUX_MAX_LINE + 1,      2 * DEMUX_MAX_LINE,
                                     2 * DEMUX_MAX_LINE + 10, 3 * DEMUX_MAX_LINE + 1};
    for (int raw = 0; raw <= 1; raw++)
        for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
            size_t len = lengths[i];
            char *line = malloc(len + 1);
            assert_non_null(line);
            for (size_t k = 0; k < len; k++)
                line[k] = (char)('a' + k % 26);
            line[len] = '\n';
            struct buf in = {0}, want = {0};
            if (raw) {
                assert_int_equal(buf_append(&in, line, len + 1), 0);
            } else {
                /* split over frames of odd sizes, both streams */
                size_t off = 0;
                while (off < len + 1) {
                    size_t take = len + 1 - off < 3001 ? len + 1 - off : 3001;
                    frame(&in, 2, line + off, take);
                    off += take;
                }
            }
            int stream = raw ? 1 : 2;
            for (size_t off = 0; off < len; off += DEMUX_MAX_LINE) {
                size_t piece = len - off < DEMUX_MAX_LINE ? len - off : DEMUX_MAX_LINE;
                assert_int_equal(buf_printf(&want, "%d|", stream), 0);
                assert_int_equal(buf_append(&want, line + off, piece), 0);
                assert_int_equal(buf_append(&want, "\n", 1), 0);
            }
            char name[64];
            snprintf(name, sizeof name, "%s line of %zu", raw ? "raw" : "framed", len);
            check_demux_all_ways(name, raw, in.data, in.len, want.data, want.len);
            buf_free(&in);
            buf_free(&want);
            free(line);
        }
}

/* A frame over 64 KiB: the length is a 32-bit big-endian number. */
static void test_demux_big_frame(void **state)
{
    struct buf payload = {0}, in = {0}, want = {0};
    for (int i = 0; i < 7000; i++) {
        assert_int_equal(buf_printf(&payload, "line %05d\n", i), 0);
        assert_int_equal(buf_printf(&want, "1|line %05d\n", i), 0);
    }
    assert_true(payload.len > 65536);
    frame(&in, 1, payload.data, payload.len);
    frame(&in, 2, "tail\n", 5);
    assert_int_equal(buf_printf(&want, "2|tail\n"), 0);
    check_demux_all_ways("big frame", 0, in.data, in.len, want.data, want.len);
    buf_free(&payload);
    buf_free(&in);
    buf_free(&want);
}

static void test_demux_bad_header(void **state)
{
    static const struct {
        const char *name;
        unsigned char hdr[8];
    } cases[] = {
        {"stream 3", {3, 0, 0, 0, 0, 0, 0, 1}},
        {"stream 255", {255, 0, 0, 0, 0, 0, 0, 1}},
        {"byte 1 set", {1, 1, 0, 0, 0, 0, 0, 1}},
        {"byte 2 set", {1, 0, 1, 0, 0, 0, 0, 1}},
        {"byte 3 set", {2, 0, 0, 1, 0, 0, 0, 1}},
        {"text instead of a header", {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o'}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        /* good frames, then the bad header, then a good frame */
        struct buf in = {0};
        frame(&in, 1, "before\n", 7);
        size_t bad_at = in.len;
        assert_int_equal(buf_append(&in, cases[i].hdr, 8), 0);
        assert_int_equal(buf_append(&in, "x", 1), 0);
        frame(&in, 1, "after\n", 6);

        for (int way = FEED_WHOLE; way <= FEED_RANDOM; way++) {
            rng_state = 12345u + (uint32_t)i;
            struct buf out = {0};
            int rc;
            run_demux(0, in.data, in.len, (enum feed_way)way, bad_at + 3, 1, &out, &rc);
            CHECK(rc == -1, "%s way %d: rc %d", cases[i].name, way, rc);
            CHECK(out.data && strcmp(out.data, "1|before\n") == 0, "%s way %d: got %s",
                  cases[i].name, way, out.data ? out.data : "(nothing)");
            buf_free(&out);
        }

        /* once bad, always bad */
        struct buf out = {0};
        struct demux d;
        demux_init(&d, 0, collect, &out);
        assert_int_equal(demux_feed(&d, cases[i].hdr, 4), 0);
        assert_int_equal(demux_feed(&d, cases[i].hdr + 4, 4), -1);
        struct buf good = {0};
        frame(&good, 1, "ok\n", 3);
        assert_int_equal(demux_feed(&d, good.data, good.len), -1);
        assert_int_equal(demux_feed(&d, "", 0), -1);
        assert_null(out.data);
        buf_free(&good);
        buf_free(&out);
        buf_free(&in);
    }
}

static void test_demux_raw(void **state)
{
    static const struct {
        const char *name;
        const char *in;
        size_t len;
        const char *want;
        size_t want_len;
    } cases[] = {
        {"lines", "a\nb\r\nc", 6, "1|a\n1|b\n1|c\n", 12},
        {"header-looking bytes are text", "\x01\0\0\0\0\0\0\x03hi\n", 11,
         "1|\x01\0\0\0\0\0\0\x03hi\n", 13},
        {"empty", "", 0, "", 0},
        {"only newlines", "\n\n\n", 3, "1|\n1|\n1|\n", 9},
        {"unterminated with CR", "x\r", 2, "1|x\n", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_demux_all_ways(cases[i].name, 1, cases[i].in, cases[i].len, cases[i].want,
                             cases[i].want_len);
}

/* ---- pullprog ----------------------------------------------------------- */

/* What docker pull registry:3 sends (ids shortened), with the totals after
 * each line. */
static const struct {
    const char *line;
    int64_t current, total;
    int nlayers;
} pull_script[] = {
    {"{\"status\":\"Pulling from library/registry\",\"id\":\"3\"}", 0, 0, 0},
    {"{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"f18232174bc9\"}", 0, 0, 1},
    {"{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"a5a4b3e8b1c2\"}", 0, 0, 2},
    {"{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"6d1c2f0e9a44\"}", 0, 0, 3},
    {"{\"status\":\"Waiting\",\"progressDetail\":{},\"id\":\"6d1c2f0e9a44\"}", 0, 0, 3},
    {"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":35840,\"total\":3642247},"
     "\"progress\":\"[>                                                  ]  35.84kB/3.642MB\","
     "\"id\":\"f18232174bc9\"}",
     35840, 3642247, 3},
    {"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1048,\"total\":6287421},"
     "\"progress\":\"[>    ]  1.048kB/6.287MB\",\"id\":\"a5a4b3e8b1c2\"}",
     35840 + 1048, 3642247 + 6287421, 3},
    {"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1900000,\"total\":3642247},"
     "\"id\":\"f18232174bc9\"}",
     1900000 + 1048, 3642247 + 6287421, 3},
    /* a progress line without a total says nothing about bytes */
    {"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":10},\"id\":\"6d1c2f0e9a44\"}",
     1900000 + 1048, 3642247 + 6287421, 3},
    {"{\"status\":\"Verifying Checksum\",\"progressDetail\":{},\"id\":\"f18232174bc9\"}",
     3642247 + 1048, 3642247 + 6287421, 3},
    {"{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"f18232174bc9\"}",
     3642247 + 1048, 3642247 + 6287421, 3},
    /* extraction progress counts other bytes: the totals stay */
    {"{\"status\":\"Extracting\",\"progressDetail\":{\"current\":98304,\"total\":3642247},"
     "\"progress\":\"[=>    ]  98.3kB/3.642MB\",\"id\":\"f18232174bc9\"}",
     3642247 + 1048, 3642247 + 6287421, 3},
    {"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":6000000,\"total\":6287421},"
     "\"id\":\"a5a4b3e8b1c2\"}",
     3642247 + 6000000, 3642247 + 6287421, 3},
    {"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":412,\"total\":412},"
     "\"id\":\"6d1c2f0e9a44\"}",
     3642247 + 6000000 + 412, 3642247 + 6287421 + 412, 3},
    {"{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"f18232174bc9\"}",
     3642247 + 6000000 + 412, 3642247 + 6287421 + 412, 3},
    {"{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"a5a4b3e8b1c2\"}",
     3642247 + 6287421 + 412, 3642247 + 6287421 + 412, 3},
    {"{\"status\":\"Extracting\",\"progressDetail\":{\"current\":6287421,\"total\":6287421},"
     "\"id\":\"a5a4b3e8b1c2\"}",
     3642247 + 6287421 + 412, 3642247 + 6287421 + 412, 3},
    {"{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"a5a4b3e8b1c2\"}",
     3642247 + 6287421 + 412, 3642247 + 6287421 + 412, 3},
    {"{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"6d1c2f0e9a44\"}",
     3642247 + 6287421 + 412, 3642247 + 6287421 + 412, 3},
    /* a layer already present: done, no bytes */
    {"{\"status\":\"Already exists\",\"progressDetail\":{},\"id\":\"0e8f1a2b3c4d\"}",
     3642247 + 6287421 + 412, 3642247 + 6287421 + 412, 4},
    {"{\"status\":\"Digest: "
     "sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373\"}",
     3642247 + 6287421 + 412, 3642247 + 6287421 + 412, 4},
    {"{\"status\":\"Status: Downloaded newer image for registry:3\"}", 3642247 + 6287421 + 412,
     3642247 + 6287421 + 412, 4},
};
#define SCRIPT_LEN (sizeof pull_script / sizeof *pull_script)
#define FINAL_TOTAL (3642247 + 6287421 + 412)

static struct pullprog *new_pullprog(void)
{
    struct pullprog *p = malloc(sizeof *p);
    assert_non_null(p);
    pullprog_init(p);
    return p;
}

static void check_totals(const struct pullprog *p, int64_t current, int64_t total, const char *what)
{
    int64_t c = -1, t = -1;
    pullprog_totals(p, &c, &t);
    CHECK(c == current && t == total, "%s: totals %lld/%lld want %lld/%lld", what, (long long)c,
          (long long)t, (long long)current, (long long)total);
}

static void test_pull_step_by_step(void **state)
{
    struct pullprog *p = new_pullprog();
    check_totals(p, 0, 0, "fresh");
    for (size_t i = 0; i < SCRIPT_LEN; i++) {
        /* one line per chunk, newline included */
        size_t n = strlen(pull_script[i].line);
        char *chunk = malloc(n + 1);
        assert_non_null(chunk);
        memcpy(chunk, pull_script[i].line, n);
        chunk[n] = '\n';
        CHECK(pullprog_feed(p, chunk, n + 1) == 0, "line %zu: rc", i);
        free(chunk);
        char what[32];
        snprintf(what, sizeof what, "after line %zu", i);
        check_totals(p, pull_script[i].current, pull_script[i].total, what);
        CHECK(p->nlayers == pull_script[i].nlayers, "%s: %d layers want %d", what, p->nlayers,
              pull_script[i].nlayers);
        CHECK(p->error[0] == '\0', "%s: error %s", what, p->error);
    }
    for (int i = 0; i < p->nlayers; i++)
        CHECK(p->layers[i].done, "layer %s not done", p->layers[i].id);
    assert_string_equal(p->layers[0].id, "f18232174bc9");
    assert_int_equal(p->layers[1].current, 6287421);
    free(p);
}

/* The whole script fed in every way gives the same end state. */
static void feed_script(struct pullprog *p, const char *text, size_t n, enum feed_way way,
                        size_t split)
{
    size_t off = 0;
    while (off < n) {
        size_t take = way == FEED_WHOLE   ? n
                      : way == FEED_BYTES ? 1
                      : way == FEED_SPLIT ? (off < split ? split - off : n - off)
                                          : 1 + rng() % 300;
        if (take > n - off)
            take = n - off;
        CHECK(pullprog_feed(p, text + off, take) == 0, "feed at %zu", off);
        off += take;
    }
}

static void test_pull_chunkings(void **state)
{
    struct buf text = {0};
    for (size_t i = 0; i < SCRIPT_LEN; i++) {
        assert_int_equal(buf_printf(&text, "%s", pull_script[i].line), 0);
        /* Docker ends lines with \r\n */
        assert_int_equal(buf_append(&text, i % 2 ? "\r\n" : "\n", i % 2 ? 2 : 1), 0);
    }
    struct pullprog *p = new_pullprog();
    int runs = 0;
    for (int way = FEED_WHOLE; way <= FEED_RANDOM; way++) {
        size_t splits = way == FEED_SPLIT ? text.len + 1 : way == FEED_RANDOM ? 60 : 1;
        for (size_t s = 0; s < splits; s++) {
            rng_state = 777u + (uint32_t)s;
            pullprog_init(p);
            feed_script(p, text.data, text.len, (enum feed_way)way, s);
            int64_t c, t;
            pullprog_totals(p, &c, &t);
            CHECK(c == FINAL_TOTAL && t == FINAL_TOTAL && p->nlayers == 4 && !p->error[0],
                  "way %d split %zu: %lld/%lld, %d layers", way, s, (long long)c, (long long)t,
                  p->nlayers);
            runs++;
        }
    }
    assert_true(runs > 100);
    free(p);
    buf_free(&text);
}

static void test_pull_errors(void **state)
{
    static const struct {
        const char *name;
        const char *stream;
        const char *want_error;
        int64_t current, total; /* progress before the error is kept */
    } cases[] = {
        {"error and detail",
         "{\"errorDetail\":{\"message\":\"manifest for registry:9 not found: manifest unknown\"},"
         "\"error\":\"manifest for registry:9 not found: manifest unknown\"}\n",
         "manifest for registry:9 not found: manifest unknown", 0, 0},
        {"detail preferred",
         "{\"error\":\"short\",\"errorDetail\":{\"message\":\"the long story\"}}\n",
         "the long story", 0, 0},
        {"error only", "{\"error\":\"pull access denied\"}\n", "pull access denied", 0, 0},
        {"detail only", "{\"errorDetail\":{\"code\":1,\"message\":\"toomanyrequests\"}}\n",
         "toomanyrequests", 0, 0},
        {"after progress",
         "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":5,\"total\":10},"
         "\"id\":\"aaaa\"}\n"
         "{\"error\":\"unexpected EOF\"}\n"
         "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":10,\"total\":10},"
         "\"id\":\"aaaa\"}\n",
         "unexpected EOF", 5, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = strlen(cases[i].stream);
        for (int way = FEED_WHOLE; way <= FEED_BYTES; way++) {
            struct pullprog *p = new_pullprog();
            int rc = 0;
            for (size_t off = 0; off < n && rc == 0;) {
                size_t take = way == FEED_WHOLE ? n : 1;
                rc = pullprog_feed(p, cases[i].stream + off, take);
                off += take;
            }
            CHECK(rc == -1, "%s way %d: rc %d", cases[i].name, way, rc);
            CHECK(strcmp(p->error, cases[i].want_error) == 0, "%s way %d: error \"%s\"",
                  cases[i].name, way, p->error);
            check_totals(p, cases[i].current, cases[i].total, cases[i].name);
            /* stays failed */
            CHECK(pullprog_feed(p, "{}\n", 3) == -1, "%s: not sticky", cases[i].name);
            CHECK(pullprog_feed(p, "", 0) == -1, "%s: not sticky on empty", cases[i].name);
            free(p);
        }
    }
}

static void test_pull_long_error_is_cut(void **state)
{
    struct buf line = {0};
    assert_int_equal(buf_printf(&line, "{\"error\":\""), 0);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(buf_append(&line, "e", 1), 0);
    assert_int_equal(buf_printf(&line, "\"}\n"), 0);
    struct pullprog *p = new_pullprog();
    assert_int_equal(pullprog_feed(p, line.data, line.len), -1);
    assert_int_equal(strlen(p->error), sizeof p->error - 1);
    free(p);
    buf_free(&line);
}

static void test_pull_ignored_lines(void **state)
{
    static const char *const lines[] = {
        "",
        "\r",
        "   ",
        "garbage",
        "{not json",
        "[1,2,3]",
        "\"a string\"",
        "42",
        "null",
        "{}",
        "{\"status\":7,\"id\":\"x\"}",
        "{\"id\":\"x\"}",
        "{\"status\":\"Downloading\",\"id\":\"x\",\"progressDetail\":{\"current\":1,"
        "\"total\":0}}",
        "{\"status\":\"Downloading\",\"id\":\"y\",\"progressDetail\":\"nope\"}",
        "{\"status\":\"Something new\",\"id\":\"z\"}",
        "{\"error\":null}",
        "{\"error\":5,\"errorDetail\":{\"message\":7}}",
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,\"total\":9}} trailing",
    };
    struct pullprog *p = new_pullprog();
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        char text[512];
        int n = snprintf(text, sizeof text, "%s\n", lines[i]);
        CHECK(pullprog_feed(p, text, (size_t)n) == 0, "line %zu (%s): rc", i, lines[i]);
        CHECK(p->error[0] == '\0', "line %zu (%s): error %s", i, lines[i], p->error);
    }
    check_totals(p, 0, 0, "ignored lines");
    assert_int_equal(p->nlayers, 0);

    /* an id that is not a string: a status line without a layer */
    static const char odd[] =
        "{\"status\":\"Downloading\",\"id\":5,\"progressDetail\":{\"current\":1,\"total\":2}}\n";
    assert_int_equal(pullprog_feed(p, odd, sizeof odd - 1), 0);
    assert_int_equal(p->nlayers, 0);
    free(p);
}

static void test_pull_clamps_and_totals(void **state)
{
    /* current over total is clamped; totals are sums over layers */
    static const char stream[] =
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":900,\"total\":100},"
        "\"id\":\"l1\"}\n"
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":50,\"total\":200},"
        "\"id\":\"l2\"}\n"
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":5000000000,"
        "\"total\":6000000000},\"id\":\"l3\"}\n"
        /* complete without a Downloading line (a tiny layer) */
        "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"l4\"}\n";
    struct pullprog *p = new_pullprog();
    assert_int_equal(pullprog_feed(p, stream, sizeof stream - 1), 0);
    assert_int_equal(p->nlayers, 4);
    assert_int_equal(p->layers[0].current, 100);
    check_totals(p, 100 + 50 + 5000000000LL, 100 + 200 + 6000000000LL, "clamped");
    assert_true(p->layers[3].done);
    free(p);
}

/* found by fuzz_dstream in CI: a negative count, and totals whose sum
 * overflowed int64 */
static void test_pull_hostile_numbers(void **state)
{
    static const char stream[] =
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":-5,\"total\":10},"
        "\"id\":\"neg\"}\n"
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,"
        "\"total\":9223372036854775000},\"id\":\"big1\"}\n"
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":9223372036854775000,"
        "\"total\":9223372036854775000},\"id\":\"big2\"}\n";
    struct pullprog *p = new_pullprog();
    assert_int_equal(pullprog_feed(p, stream, sizeof stream - 1), 0);
    assert_int_equal(p->nlayers, 3);
    assert_int_equal(p->layers[0].current, 0);
    check_totals(p, 1 + PULL_MAX_BYTES, 10 + 2 * PULL_MAX_BYTES, "sane");
    free(p);
}

static void test_pull_layer_cap(void **state)
{
    struct pullprog *p = new_pullprog();
    char line[160];
    for (int i = 0; i < PULL_MAX_LAYERS + 50; i++) {
        int n = snprintf(line, sizeof line,
                         "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,"
                         "\"total\":2},\"id\":\"layer%04d\"}\n",
                         i);
        assert_int_equal(pullprog_feed(p, line, (size_t)n), 0);
    }
    assert_int_equal(p->nlayers, PULL_MAX_LAYERS);
    check_totals(p, PULL_MAX_LAYERS, 2 * PULL_MAX_LAYERS, "capped");
    free(p);
}

static void test_pull_long_lines(void **state)
{
    char *big = malloc(PULL_MAX_LINE + 2);
    assert_non_null(big);

    /* exactly the cap: accepted (and ignored, it is not JSON) */
    struct pullprog *p = new_pullprog();
    memset(big, 'x', PULL_MAX_LINE);
    big[PULL_MAX_LINE] = '\n';
    assert_int_equal(pullprog_feed(p, big, PULL_MAX_LINE + 1), 0);
    assert_string_equal(p->error, "");
    /* and the parser still works after it */
    static const char ok[] =
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,\"total\":2},"
        "\"id\":\"a\"}\n";
    assert_int_equal(pullprog_feed(p, ok, sizeof ok - 1), 0);
    check_totals(p, 1, 2, "after a long line");

    /* one over: refused, fed whole or in pieces */
    for (int way = 0; way < 3; way++) {
        pullprog_init(p);
        memset(big, 'y', PULL_MAX_LINE + 1);
        big[PULL_MAX_LINE + 1] = '\n';
        int rc = 0;
        if (way == 0)
            rc = pullprog_feed(p, big, PULL_MAX_LINE + 2);
        else
            for (size_t off = 0; off < PULL_MAX_LINE + 2 && rc == 0;) {
                size_t take = way == 1 ? 1000 : 7;
                if (take > PULL_MAX_LINE + 2 - off)
                    take = PULL_MAX_LINE + 2 - off;
                rc = pullprog_feed(p, big + off, take);
                off += take;
            }
        CHECK(rc == -1, "way %d: rc %d", way, rc);
        CHECK(p->error[0] != '\0', "way %d: no message", way);
        CHECK(pullprog_feed(p, ok, sizeof ok - 1) == -1, "way %d: not sticky", way);
    }
    free(p);
    free(big);
}

/* ---- recorded streams of both test engines ------------------------------ */

/* docker pull of one image (3 layers: 7800314, 6002035 and 3001129 bytes)
 * from a registry on localhost, recorded on 2026-12-01 from
 * POST /images/create. Engine 28.5 with the containerd image store (as
 * Docker Desktop runs it): every layer is fetched, progress comes in 1 MiB
 * steps, "Download complete" and "Pull complete" carry {"hidecounts":true},
 * "Extracting" counts seconds ({"current":1,"units":"s"}, no total).
 * Identical consecutive lines beyond two were cut. */
static const char *const engine28_pull[] = {
    "{\"status\":\"Pulling from cap/img\",\"id\":\"1\"}",
    "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"b3520c921f38\"}",
    "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1048576,\"total\":3001129},"
    "\"progress\":\"[=================\\u003e                                 ]  "
    "1.049MB/3.001MB\",\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Download "
    "complete\",\"progressDetail\":{\"hidecounts\":true},\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":4194304,\"total\":7800314},"
    "\"progress\":\"[==========================\\u003e                        ]  "
    "4.194MB/7.8MB\",\"id\":\"b3520c921f38\"}",
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":3145728,\"total\":6002035},"
    "\"progress\":\"[==========================\\u003e                        ]  "
    "3.146MB/6.002MB\",\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":7800314,\"total\":7800314},"
    "\"progress\":\"[==================================================\\u003e]    "
    "7.8MB/7.8MB\",\"id\":\"b3520c921f38\"}",
    "{\"status\":\"Download "
    "complete\",\"progressDetail\":{\"hidecounts\":true},\"id\":\"b3520c921f38\"}",
    "{\"status\":\"Download "
    "complete\",\"progressDetail\":{\"hidecounts\":true},\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":1,\"units\":\"s\"},\"progress\":"
    "\"1 s\",\"id\":\"b3520c921f38\"}",
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":1,\"units\":\"s\"},\"progress\":"
    "\"1 s\",\"id\":\"b3520c921f38\"}",
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":2,\"units\":\"s\"},\"progress\":"
    "\"2 s\",\"id\":\"b3520c921f38\"}",
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":2,\"units\":\"s\"},\"progress\":"
    "\"2 s\",\"id\":\"b3520c921f38\"}",
    "{\"status\":\"Pull "
    "complete\",\"progressDetail\":{\"hidecounts\":true},\"id\":\"b3520c921f38\"}",
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":1,\"units\":\"s\"},\"progress\":"
    "\"1 s\",\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Pull "
    "complete\",\"progressDetail\":{\"hidecounts\":true},\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Pull "
    "complete\",\"progressDetail\":{\"hidecounts\":true},\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Digest: "
    "sha256:b26d27df03a1ea2d7a71a07620702d6e0604e47a0628c03f65e5c2e1da403999\"}",
    "{\"status\":\"Status: Downloaded newer image for localhost:5001/cap/img:1\"}",
};

/* The same pull on Engine 20.10 (classic store): the first layer is already
 * in the engine ("Already exists", no bytes), "Verifying Checksum" comes
 * before "Download complete", "Extracting" counts bytes. */
static const char *const engine20_pull[] = {
    "{\"status\":\"Pulling from cap/img\",\"id\":\"1\"}",
    "{\"status\":\"Already exists\",\"progressDetail\":{},\"id\":\"b3520c921f38\"}",
    "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":69213,\"total\":6002035},"
    "\"progress\":\"[\\u003e                                                  ]  "
    "69.21kB/6.002MB\",\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":36445,\"total\":3001129},"
    "\"progress\":\"[\\u003e                                                  ]  "
    "36.45kB/3.001MB\",\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Verifying Checksum\",\"progressDetail\":{},\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Verifying Checksum\",\"progressDetail\":{},\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":65536,\"total\":6002035},"
    "\"progress\":\"[\\u003e                                                  ]  "
    "65.54kB/6.002MB\",\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":196608,\"total\":6002035},"
    "\"progress\":\"[=\\u003e                                                 ]  "
    "196.6kB/6.002MB\",\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":6002035,\"total\":6002035},"
    "\"progress\":\"[==================================================\\u003e]  "
    "6.002MB/6.002MB\",\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"21c23a442b9a\"}",
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":32768,\"total\":3001129},"
    "\"progress\":\"[\\u003e                                                  ]  "
    "32.77kB/3.001MB\",\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":163840,\"total\":3001129},"
    "\"progress\":\"[==\\u003e                                                ]  "
    "163.8kB/3.001MB\",\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":3001129,\"total\":3001129},"
    "\"progress\":\"[==================================================\\u003e]  "
    "3.001MB/3.001MB\",\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"bf8c37950555\"}",
    "{\"status\":\"Digest: "
    "sha256:b26d27df03a1ea2d7a71a07620702d6e0604e47a0628c03f65e5c2e1da403999\"}",
    "{\"status\":\"Status: Downloaded newer image for localhost:5001/cap/img:1\"}",
};

/* Engine 28.5 pulls an image whose first three layers it holds: those are not
 * mentioned at all, only the new 2000820-byte layer is ("Extracting" lines
 * left out). */
static const char *const engine28_shared[] = {
    "{\"status\":\"Pulling from cap/img2\",\"id\":\"1\"}",
    "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"fb0ed6d8f541\"}",
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1048576,\"total\":2000820},"
    "\"progress\":\"[==========================\\u003e                        ]  "
    "1.049MB/2.001MB\",\"id\":\"fb0ed6d8f541\"}",
    "{\"status\":\"Download "
    "complete\",\"progressDetail\":{\"hidecounts\":true},\"id\":\"fb0ed6d8f541\"}",
    "{\"status\":\"Pull "
    "complete\",\"progressDetail\":{\"hidecounts\":true},\"id\":\"fb0ed6d8f541\"}",
    "{\"status\":\"Digest: "
    "sha256:a154e5b9580402e32fc366fb4a5ab36b4ebc946575f22a42170246e57cccec75\"}",
    "{\"status\":\"Status: Downloaded newer image for localhost:5001/cap/img2:1\"}",
};

#define NLINES(a) (sizeof(a) / sizeof *(a))

/* Fed line by line: current never exceeds total, totals never shrink, and
 * the end state is the layers' sizes; then the whole stream in every
 * chunking decodes to the same end state. */
static void check_recorded(const char *name, const char *const *lines, size_t n, int64_t want,
                           int nlayers, const char *status)
{
    struct pullprog *p = new_pullprog();
    struct buf text = {0};
    int64_t last_c = 0, last_t = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(buf_printf(&text, "%s\r\n", lines[i]), 0);
        size_t len = strlen(lines[i]);
        CHECK(pullprog_feed(p, lines[i], len) == 0 && pullprog_feed(p, "\r\n", 2) == 0,
              "%s line %zu: rc", name, i);
        int64_t c, t;
        pullprog_totals(p, &c, &t);
        CHECK(c <= t && c >= last_c && t >= last_t, "%s line %zu: %lld/%lld after %lld/%lld", name,
              i, (long long)c, (long long)t, (long long)last_c, (long long)last_t);
        last_c = c;
        last_t = t;
    }
    check_totals(p, want, want, name);
    CHECK(p->nlayers == nlayers, "%s: %d layers want %d", name, p->nlayers, nlayers);
    for (int i = 0; i < p->nlayers; i++)
        CHECK(p->layers[i].done, "%s: layer %s not done", name, p->layers[i].id);
    CHECK(!p->error[0], "%s: error '%s'", name, p->error);
    for (int way = FEED_WHOLE; way <= FEED_RANDOM; way++) {
        size_t splits = way == FEED_SPLIT ? 64 : way == FEED_RANDOM ? 20 : 1;
        for (size_t s = 0; s < splits; s++) {
            rng_state = 4242u + (uint32_t)s;
            pullprog_init(p);
            feed_script(p, text.data, text.len, (enum feed_way)way,
                        way == FEED_SPLIT ? s * text.len / splits : 0);
            char what[64];
            snprintf(what, sizeof what, "%s way %d split %zu", name, way, s);
            check_totals(p, want, want, what);
            CHECK(p->nlayers == nlayers, "%s: %d layers", what, p->nlayers);
        }
    }
    buf_free(&text);
    free(p);
}

static void test_pull_recorded_engines(void **state)
{
    check_recorded("engine 28.5", engine28_pull, NLINES(engine28_pull), 7800314 + 6002035 + 3001129,
                   3, "Status: Downloaded newer image for localhost:5001/cap/img:1");
    check_recorded("engine 20.10", engine20_pull, NLINES(engine20_pull), 6002035 + 3001129, 3,
                   "Status: Downloaded newer image for localhost:5001/cap/img:1");
    check_recorded("engine 28.5, layers held", engine28_shared, NLINES(engine28_shared), 2000820, 1,
                   "Status: Downloaded newer image for localhost:5001/cap/img2:1");
}

/* ---- the registry's version from "registry --version" ------------------ */

static int major_of(const char *text)
{
    return regversion_major(text, strlen(text));
}

static void test_regversion_major(void **state)
{
    (void)state;
    /* what v3.0.0 (built from source, as in registry:3), Debian's 2.8.2 and
     * registry:2 print */
    assert_int_equal(3, major_of("registry github.com/distribution/distribution/v3 v3.0.0\n"));
    assert_int_equal(2, major_of("/usr/bin/docker-registry github.com/docker/distribution "
                                 "2.8.2+ds1\n"));
    assert_int_equal(2, major_of("registry github.com/docker/distribution v2.8.3"));
    assert_int_equal(3, major_of("warning: something\nregistry x v3.1.0\r\n"));
    assert_int_equal(12, major_of("v12.0.1"));
    /* no version: other output, a version without a dot, too many digits */
    assert_int_equal(0, major_of("exec: \"--version\": executable file not found in $PATH"));
    assert_int_equal(0, major_of("registry x v3"));
    assert_int_equal(0, major_of("registry x vx.1"));
    assert_int_equal(0, major_of("registry x 123456.1"));
    assert_int_equal(0, major_of("registry x (devel)"));
    assert_int_equal(0, major_of(""));
    assert_int_equal(0, major_of("\n \n"));
    /* the length bounds the text */
    const char *cut = "registry x v3.0.0 and more";
    assert_int_equal(3, regversion_major(cut, 17));
    assert_int_equal(0, regversion_major(cut, 13));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demux_frames),          cmocka_unit_test(test_demux_finish_only_once),
        cmocka_unit_test(test_demux_long_lines),      cmocka_unit_test(test_demux_big_frame),
        cmocka_unit_test(test_demux_bad_header),      cmocka_unit_test(test_demux_raw),
        cmocka_unit_test(test_pull_step_by_step),     cmocka_unit_test(test_pull_chunkings),
        cmocka_unit_test(test_pull_errors),           cmocka_unit_test(test_pull_long_error_is_cut),
        cmocka_unit_test(test_pull_ignored_lines),    cmocka_unit_test(test_pull_clamps_and_totals),
        cmocka_unit_test(test_pull_layer_cap),
        cmocka_unit_test(test_pull_hostile_numbers),        cmocka_unit_test(test_pull_long_lines),
        cmocka_unit_test(test_pull_recorded_engines), cmocka_unit_test(test_regversion_major),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
