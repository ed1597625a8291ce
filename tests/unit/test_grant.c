/*
 * Unit tests for backend/grant.c: the offline access-grant decoder.
 *
 * Grants come from three places: the two samples quoted in
 * shared/reference/storj.md 1.2, the test-side encoder
 * (support/grant_encoder.c) for every caveat kind, and damaged copies of
 * both. Every outcome is also checked for leaks: no error message and no
 * report may contain the grant text or any key bytes in any common form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "grant.h"
#include "support/grant_encoder.h"

#define NOW ((time_t)1700000000) /* 2023-11-14T22:13:20Z */
#define DAY INT64_C(86400)
#define TEXT_WINDOW 12   /* grant text chunks that must not leak */
#define MESSAGE_WINDOW 8 /* input chunks that must not be in errors */

#define US1_ID "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S"
#define EU1_ID "12L9ZFwhzVpuEKMUNUqkaTLGzwY9G24tbiigLiXpmZWKwmcNDDs"
#define AP1_ID "121RTSDpyNZVcEU84Ticf2L1ntiuUimbWgfATz21tuvgk3vzoA6"
#define US1_ADDR US1_ID "@us1.storj.io:7777"

/* storj.md 1.2: synthetic grant (Python encoder) and a real one from the
 * gateway-st docs. */
static const char sample_synthetic[] =
    "125Woo4mWrVfSKDLv9JbqBPGbsxvEpdSoKkTFBJfzcbGjtTd7fpirTUSeqxivSHiQwWy"
    "HqYqk18BSSMx518kiB9vay4vexackzfYPhu3Fks2g8SyKuYKpJp9oPDa2KKM4EJ4QtYM"
    "uEitN64noVUcH8a93x8iBBYPsogKvzocwUe2U2eqrVsckRcKJ8CTY8ecrgUBcsvLEVZS"
    "TxmfubSMFR7y8ZzAu5qbDHA5AHC7A3e5F7qaexujdGN2bDB7WBKR9edC21JyEUh8wJos"
    "RzYD3kjsvvN1emoQoWEQcEnGyYo74qZ";
static const char sample_real[] =
    "12G2HT4B1UXPXcmQ9uijCcfT6vA5gct1RwRq4hZQ4YS51xKN34aihDWZjDMWZJvByTy3"
    "BzSuieCmbEKv28wo2Bty7iGDewEYemefDw5hAAJcUJHpYcU24DVLiyoRKyLLGnR3L11Q"
    "N1sQ6Da41SM62R7AqiBqMMDWB1zmr9gX8CWUwC57zdyHZGrmRBtwkv1gXrogjtkbzUovXG";

/* The synthetic sample's secrets: head 32 x 0x01, tail below, default key
 * 32 x 0x03. */
static const unsigned char synth_tail[32] = {
    0x7d, 0x6c, 0x42, 0xe3, 0x44, 0x14, 0xc8, 0xcb, 0x60, 0x9f, 0x08, 0x74, 0xc5, 0xba, 0x2e, 0x79,
    0xea, 0x2b, 0xd7, 0x3e, 0xf0, 0x73, 0xbd, 0xa4, 0x8c, 0x02, 0x97, 0xa4, 0x5d, 0x57, 0xb8, 0x89,
};
static const unsigned char synth_head[32] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};
static const unsigned char synth_key[32] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};

/* Distinctive secrets for encoder-made grants, so a leak is recognizable. */
static const unsigned char head_k[32] = {
    0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18, 0x29, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e, 0x8f, 0x90,
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x10,
};
static const unsigned char tail_k[32] = {
    0x5e, 0xc7, 0x2e, 0x7a, 0x11, 0xbe, 0xef, 0xca, 0xfe, 0xba, 0xbe, 0x01, 0x23, 0x45, 0x67, 0x89,
    0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b,
};
static const unsigned char key_default[32] = {
    0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
    0xcc, 0xdd, 0xee, 0xff, 0x13, 0x37, 0x42, 0x42, 0x9a, 0x8b, 0x7c, 0x6d, 0x5e, 0x4f, 0x30, 0x21,
};
static const unsigned char key_entry[33] = {
    0x0b, 0xad, 0xc0, 0xde, 0xf0, 0x0d, 0xfa, 0xce, 0x8a, 0x7b, 0x6c,
    0x5d, 0x4e, 0x3f, 0x20, 0x11, 0x02, 0xf3, 0xe4, 0xd5, 0xc6, 0xb7,
    0xa8, 0x99, 0x8a, 0x7b, 0x6c, 0x5d, 0x4e, 0x3f, 0x21, 0x12, 0x03,
};

static const struct {
    const unsigned char *p;
    size_t n;
} secrets[] = {
    {synth_tail, 32}, {synth_head, 32},  {synth_key, 32}, {head_k, 32},
    {tail_k, 32},     {key_default, 32}, {key_entry, 32},
};

static const unsigned char nonce4[4] = {1, 2, 3, 4};

static const char *const known_errors[] = {
    "empty",
    "too_long",
    "whitespace",
    "not_base58",
    "truncated",
    "bad_checksum",
    "bad_version",
    "api_key_not_grant",
    "s3_access_key_not_grant",
    "s3_secret_key_not_grant",
    "bad_scope",
    "no_satellite",
    "bad_satellite",
    "bad_macaroon",
    "bad_caveat",
    "bad_key_length",
};

static const char *const known_warnings[] = {
    "expired",           "not_yet_valid",         "expires_soon",   "cannot_read",
    "cannot_write",      "cannot_list",           "cannot_delete",  "bucket_not_allowed",
    "no_buckets",        "prefix_restricted",     "objects_expire", "path_encryption",
    "no_encryption_key", "satellite_id_mismatch",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ helpers */

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* strdup and strndup are POSIX, not C11. */
static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static char *dup_str(const char *s)
{
    return dup_n(s, strlen(s));
}

/* Sorted hashes of every width-long window of some strings, so that a
 * report can be searched for thousands of forbidden pieces at once. */
struct windows {
    uint64_t *h;
    size_t n;
    size_t width;
};

#define ROLL_BASE UINT64_C(1000003)

/* Calls back with the polynomial hash (mod 2^64) of every width-long
 * window of s, rolling it along in O(1) per step. */
static void roll(const char *s, size_t width, void (*fn)(uint64_t, void *), void *arg)
{
    size_t n = strlen(s);
    uint64_t h = 0, top = 1;

    if (n < width || width == 0)
        return;
    for (size_t i = 1; i < width; i++)
        top *= ROLL_BASE;
    for (size_t i = 0; i < width; i++)
        h = h * ROLL_BASE + (unsigned char)s[i];
    fn(h, arg);
    for (size_t i = width; i < n; i++) {
        h -= top * (unsigned char)s[i - width];
        h = h * ROLL_BASE + (unsigned char)s[i];
        fn(h, arg);
    }
}

static void add_hash(uint64_t h, void *arg)
{
    struct windows *w = arg;

    w->h[w->n++] = h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void windows_add(struct windows *w, const char *s)
{
    size_t n = strlen(s);

    if (n < w->width)
        return;
    w->h = realloc(w->h, (w->n + n - w->width + 1) * sizeof(*w->h));
    assert_non_null(w->h);
    roll(s, w->width, add_hash, w);
}

struct lookup {
    const uint64_t *h;
    size_t n;
    bool hit;
};

static void find_hash(uint64_t h, void *arg)
{
    struct lookup *l = arg;
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (l->h[mid] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    l->hit = l->hit || (lo < l->n && l->h[lo] == h);
}

/* Whether hay has any window of the sorted hashes h. */
static bool hashes_in(const uint64_t *h, size_t n, size_t width, const char *hay)
{
    struct lookup l = {h, n, false};

    roll(hay, width, find_hash, &l);
    return l.hit;
}

/* Sorts w, reports whether hay has any of its windows, and frees w. */
static bool windows_in(struct windows *w, const char *hay)
{
    bool hit;

    qsort(w->h, w->n, sizeof(*w->h), cmp_u64);
    hit = hashes_in(w->h, w->n, w->width, hay);
    free(w->h);
    w->h = NULL;
    w->n = 0;
    return hit;
}

/* Whether hay contains any window-long piece of text. */
static bool has_text(const char *hay, const char *text, size_t window)
{
    struct windows w = {NULL, 0, window};

    if (strlen(text) < window)
        w.width = strlen(text);
    if (w.width < 4)
        return false;
    windows_add(&w, text);
    return windows_in(&w, hay);
}

/* Room for the 16-character windows of every secret's four text forms. */
#define SECRET_WINDOWS 2048

/* Whether hay holds any 8 bytes of a secret as hex (either case) or base64
 * (standard or URL-safe), or as raw bytes. The index of windows is built
 * once, in static storage. */
static bool has_secret(const char *hay)
{
    static uint64_t index[SECRET_WINDOWS];
    static size_t nindex;
    size_t hn = strlen(hay);
    bool hit = false;

    if (nindex == 0) {
        struct windows w = {NULL, 0, 16};

        for (size_t i = 0; i < COUNT(secrets); i++) {
            const unsigned char *p = secrets[i].p;
            size_t n = secrets[i].n;
            char *forms[4] = {
                tenc_hex(p, n, false),
                tenc_hex(p, n, true),
                tenc_base64(p, n, false),
                tenc_base64(p, n, true),
            };

            for (size_t f = 0; f < 4; f++) {
                assert_non_null(forms[f]);
                windows_add(&w, forms[f]);
                free(forms[f]);
            }
        }
        assert_true(w.n <= SECRET_WINDOWS);
        qsort(w.h, w.n, sizeof(*w.h), cmp_u64);
        memcpy(index, w.h, w.n * sizeof(*w.h));
        nindex = w.n;
        free(w.h);
    }
    hit = hashes_in(index, nindex, 16, hay);
    /* raw runs: test the first byte inline before calling memcmp */
    for (size_t k = 0; k + 8 <= hn && !hit; k++)
        for (size_t i = 0; i < COUNT(secrets) && !hit; i++)
            for (size_t off = 0; off + 8 <= secrets[i].n && !hit; off += 4)
                hit = (unsigned char)hay[k] == secrets[i].p[off] &&
                      memcmp(hay + k, secrets[i].p + off, 8) == 0;
    return hit;
}

static void assert_no_text(const char *what, const char *hay, const char *text, size_t window)
{
    if (has_text(hay, text, window))
        fail_msg("%s contains a piece of the input", what);
}

static void assert_no_secrets(const char *what, const char *hay)
{
    if (has_secret(hay))
        fail_msg("%s contains key material", what);
}

/* The report's promised shape, whatever the grant. */
static void assert_report_shape(json_t *r)
{
    json_t *sat, *perm, *v, *w;
    const char *enc;
    size_t i;

    assert_true(json_is_object(r));
    sat = json_object_get(r, "satellite");
    assert_true(json_is_object(sat));
    assert_true(json_is_string(json_object_get(sat, "address")));
    assert_true(json_is_string(json_object_get(sat, "host")));
    v = json_object_get(sat, "region");
    assert_true(json_is_null(v) || json_is_string(v));
    perm = json_object_get(r, "permissions");
    assert_true(json_is_object(perm));
    assert_int_equal(json_object_size(perm), 4);
    assert_true(json_is_boolean(json_object_get(perm, "read")));
    assert_true(json_is_boolean(json_object_get(perm, "write")));
    assert_true(json_is_boolean(json_object_get(perm, "list")));
    assert_true(json_is_boolean(json_object_get(perm, "delete")));
    v = json_object_get(r, "buckets");
    assert_true(json_is_null(v) || json_is_array(v));
    json_array_foreach(v, i, w) assert_true(json_is_string(w));
    v = json_object_get(r, "notAfter");
    assert_true(json_is_null(v) || json_is_string(v));
    v = json_object_get(r, "notBefore");
    assert_true(json_is_null(v) || json_is_string(v));
    v = json_object_get(r, "maxObjectTTL");
    assert_true(json_is_null(v) || json_is_number(v));
    enc = json_string_value(json_object_get(r, "pathEncryption"));
    assert_non_null(enc);
    assert_true(strcmp(enc, "none") == 0 || strcmp(enc, "aes-gcm") == 0 ||
                strcmp(enc, "secretbox") == 0 || strcmp(enc, "unknown") == 0);
    v = json_object_get(r, "warnings");
    assert_true(json_is_array(v));
    json_array_foreach(v, i, w)
    {
        const char *code = json_string_value(json_object_get(w, "code"));
        const char *msg = json_string_value(json_object_get(w, "message"));

        assert_int_equal(json_object_size(w), 2);
        if (!in_list(code, known_warnings, COUNT(known_warnings)))
            fail_msg("unknown warning code %s", code ? code : "(null)");
        assert_non_null(msg);
        assert_true(strlen(msg) > 20);
    }
}

/* Checks any decode outcome: a known error with a clean message, or a
 * well-formed report without the text or keys in it. */
static void check_outcome(const char *text, struct grant_info *gi, const struct grant_error *err)
{
    json_t *r;
    char *dump;

    if (!gi) {
        if (!in_list(ecode_name(err->code), known_errors, COUNT(known_errors)))
            fail_msg("unknown error code %s",
                     ecode_name(err->code) ? ecode_name(err->code) : "(null)");
        assert_true(strlen(err->message) > 20);
        assert_no_text("error message", err->message, text, MESSAGE_WINDOW);
        assert_no_secrets("error message", err->message);
        return;
    }
    r = grant_report(gi, "registry", NOW);
    assert_non_null(r);
    assert_report_shape(r);
    dump = json_dumps(r, JSON_COMPACT);
    assert_non_null(dump);
    assert_no_text("report", dump, text, TEXT_WINDOW);
    assert_no_secrets("report", dump);
    free(dump);
    json_decref(r);
    r = grant_report(gi, NULL, NOW);
    assert_non_null(r);
    json_decref(r);
}

static char *dump_any(json_t *j)
{
    return j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : dup_str("(missing)");
}

/* Compares the keys present in expect with the report. "warnings" in
 * expect is the list of codes, in order. */
static void assert_report(const char *name, json_t *r, const char *expect)
{
    json_error_t je;
    json_t *exp = json_loads(expect, 0, &je), *v;
    const char *key;

    if (!exp)
        fail_msg("%s: bad expected JSON: %s", name, je.text);
    json_object_foreach(exp, key, v)
    {
        json_t *got = json_object_get(r, key), *codes = NULL;

        if (strcmp(key, "warnings") == 0) {
            size_t i;
            json_t *w;

            codes = json_array();
            json_array_foreach(got, i, w) json_array_append(codes, json_object_get(w, "code"));
            got = codes;
        }
        if (!json_equal(got, v)) {
            char *a = dump_any(got), *b = dump_any(v);

            print_error("%s: %s is %s, expected %s\n", name, key, a, b);
            free(a);
            free(b);
            json_decref(codes);
            json_decref(exp);
            fail_msg("%s: report differs", name);
        }
        json_decref(codes);
    }
    json_decref(exp);
}

/* ------------------------------------------------------------ samples */

static void test_sample_synthetic(void **state)
{
    struct grant_error err;
    struct grant_info *gi;
    json_t *r;
    time_t t = 0;

    (void)state;
    gi = grant_decode(sample_synthetic, &err);
    if (!gi)
        fail_msg("decode failed: %s %s", ecode_name(err.code), err.message);
    assert_string_equal(grant_satellite_host(gi), "us1.storj.io:7777");
    assert_string_equal(grant_satellite_address(gi), US1_ADDR);
    assert_string_equal(grant_satellite_region(gi), "US1");
    assert_int_equal(grant_caveat_count(gi), 1);
    assert_true(grant_not_after(gi, &t));
    assert_int_equal((long long)t, 1577836800LL);
    r = grant_report(gi, "registry", NOW);
    assert_report("synthetic", r,
                  "{\"satellite\":{\"address\":\"" US1_ADDR "\","
                  "\"host\":\"us1.storj.io:7777\",\"region\":\"US1\"},"
                  "\"permissions\":{\"read\":true,\"write\":false,\"list\":true,"
                  "\"delete\":false},\"buckets\":[\"registry\"],"
                  "\"notAfter\":\"2020-01-01T00:00:00Z\",\"notBefore\":null,"
                  "\"maxObjectTTL\":null,\"pathEncryption\":\"aes-gcm\","
                  "\"caveats\":1,\"prefixRestricted\":false,\"encryptionKeys\":1,"
                  "\"warnings\":[\"expired\",\"cannot_write\",\"cannot_delete\","
                  "\"path_encryption\"]}");
    json_decref(r);
    /* a month before it expired, for another bucket */
    r = grant_report(gi, "other", 1575158400);
    assert_report("synthetic in 2019", r,
                  "{\"warnings\":[\"cannot_write\",\"cannot_delete\","
                  "\"bucket_not_allowed\",\"path_encryption\"]}");
    json_decref(r);
    /* three days before */
    r = grant_report(gi, NULL, 1577836800 - 3 * 86400);
    assert_report("synthetic soon", r,
                  "{\"warnings\":[\"expires_soon\",\"cannot_write\","
                  "\"cannot_delete\",\"path_encryption\"]}");
    json_decref(r);
    check_outcome(sample_synthetic, gi, &err);
    grant_info_free(gi);
}

/* The encoder, given the sample's contents, must write the sample exactly:
 * this ties the encoder (and so every other test) to the documented bytes. */
static void test_encoder_reproduces_sample(void **state)
{
    static const char bucket[] = "registry";
    const struct tenc_path path = {bucket, NULL};
    const struct tenc_caveat cav = {
        .disallow_writes = true,
        .disallow_deletes = true,
        .paths = &path,
        .npaths = 1,
        .not_after = {true, 1577836800, 0},
        .nonce = nonce4,
        .nonce_len = 4,
    };
    const struct tenc_grant g = {
        .satellite = US1_ADDR,
        .head = synth_head,
        .head_len = 32,
        .caveats = &cav,
        .ncaveats = 1,
        .tail = synth_tail,
        .tail_len = 32,
        .default_key = synth_key,
        .default_key_len = 32,
        .path_cipher = 2,
    };
    static const unsigned char caveat_bytes[] = {
        0x10, 0x01, 0x20, 0x01, 0x52, 0x0a, 0x0a, 0x08, 'r',  'e',  'g',
        'i',  's',  't',  'r',  'y',  0xa2, 0x01, 0x06, 0x08, 0x80, 0xc2,
        0xaf, 0xf0, 0x05, 0xf2, 0x01, 0x04, 0x01, 0x02, 0x03, 0x04,
    };
    unsigned char *p, version = 9;
    size_t n = 0;
    char *text;

    (void)state;
    p = tenc_caveat_bytes(&cav, &n);
    assert_non_null(p);
    assert_int_equal(n, sizeof(caveat_bytes));
    assert_memory_equal(p, caveat_bytes, n);
    free(p);

    text = tenc_grant(&g);
    assert_non_null(text);
    assert_string_equal(text, sample_synthetic);
    free(text);

    p = tenc_base58check_decode(sample_synthetic, &n, &version);
    assert_non_null(p);
    assert_int_equal(version, 0);
    assert_int_equal(n, 217);
    free(p);
}

static void test_sample_real(void **state)
{
    struct grant_error err;
    struct grant_info *gi;
    json_t *r;
    time_t t = 0;

    (void)state;
    gi = grant_decode(sample_real, &err);
    if (!gi)
        fail_msg("decode failed: %s %s", ecode_name(err.code), err.message);
    assert_string_equal(grant_satellite_host(gi), "eu1.storj.io:7777");
    assert_int_equal(grant_caveat_count(gi), 0);
    assert_false(grant_not_after(gi, &t));
    r = grant_report(gi, "registry", NOW);
    assert_report("real", r,
                  "{\"satellite\":{\"address\":\"" EU1_ID "@eu1.storj.io:7777\","
                  "\"host\":\"eu1.storj.io:7777\",\"region\":\"EU1\"},"
                  "\"permissions\":{\"read\":true,\"write\":true,\"list\":true,"
                  "\"delete\":true},\"buckets\":null,\"notAfter\":null,"
                  "\"notBefore\":null,\"maxObjectTTL\":null,"
                  "\"pathEncryption\":\"aes-gcm\",\"caveats\":0,"
                  "\"encryptionKeys\":0,\"sharedPaths\":[],"
                  "\"warnings\":[\"path_encryption\",\"no_encryption_key\"]}");
    json_decref(r);
    check_outcome(sample_real, gi, &err);
    grant_info_free(gi);
}

/* Surrounding whitespace, as pasted from a terminal or a web page. */
static void test_trimming(void **state)
{
    static const char *const wrap[][2] = {
        {"", "\n"},           {"  ", "  "},       {"\t", "\r\n"}, {"\xc2\xa0", "\xe2\x80\x8b"},
        {"\xef\xbb\xbf", ""}, {"\n\n ", " \n\n"},
    };
    char buf[1024];

    (void)state;
    for (size_t i = 0; i < COUNT(wrap); i++) {
        struct grant_error err;
        struct grant_info *gi;

        snprintf(buf, sizeof(buf), "%s%s%s", wrap[i][0], sample_real, wrap[i][1]);
        gi = grant_decode(buf, &err);
        if (!gi)
            fail_msg("wrap %zu: %s", i, ecode_name(err.code));
        assert_string_equal(grant_satellite_host(gi), "eu1.storj.io:7777");
        grant_info_free(gi);
    }
    /* no error struct is fine too */
    assert_null(grant_decode("1", NULL));
    grant_info_free(NULL);
}

/* ------------------------------------------------------------ reports */

#define CAVS(...)                                                                                  \
    .caveats = (const struct tenc_caveat[]){__VA_ARGS__},                                          \
    .ncaveats = sizeof((const struct tenc_caveat[]){__VA_ARGS__}) / sizeof(struct tenc_caveat)
#define PATHS(...)                                                                                 \
    .paths = (const struct tenc_path[]){__VA_ARGS__},                                              \
    .npaths = sizeof((const struct tenc_path[]){__VA_ARGS__}) / sizeof(struct tenc_path)
#define ENTRIES(...)                                                                               \
    .entries = (const struct tenc_entry[]){__VA_ARGS__},                                           \
    .nentries = sizeof((const struct tenc_entry[]){__VA_ARGS__}) / sizeof(struct tenc_entry)
#define AT(s)                                                                                      \
    {                                                                                              \
        true, (s), 0                                                                               \
    }
/* A clean grant: known satellite, distinctive secrets, a default key and
 * unencrypted paths (Storj-managed encryption). Cases that change one part
 * list the others, since a designated initializer must not be repeated. */
#define SAT .satellite = US1_ADDR
#define HEAD .head = head_k, .head_len = 32
#define TAIL .tail = tail_k, .tail_len = 32
#define KEY .default_key = key_default, .default_key_len = 32
#define NULLPATH .path_cipher = 1
#define BASE SAT, HEAD, TAIL, KEY, NULLPATH
#define NOW_PLUS(d) ((int64_t)NOW + (d))

struct report_case {
    const char *name;
    struct tenc_grant g;
    const char *bucket;
    time_t now;         /* 0: NOW */
    const char *expect; /* keys to compare, warnings as codes */
};

static const struct report_case report_cases[] = {
    {"clean, unrestricted",
     {BASE},
     "registry",
     0,
     "{\"permissions\":{\"read\":true,\"write\":true,\"list\":true,"
     "\"delete\":true},\"buckets\":null,\"notAfter\":null,"
     "\"notBefore\":null,\"maxObjectTTL\":null,\"pathEncryption\":\"none\","
     "\"caveats\":0,\"encryptionKeys\":1,\"prefixRestricted\":false,"
     "\"satellite\":{\"address\":\"" US1_ADDR "\",\"host\":"
     "\"us1.storj.io:7777\",\"region\":\"US1\"},\"warnings\":[]}"},
    {"unknown fields everywhere",
     {BASE, .unknown_fields = true,
      CAVS({.unknown_fields = true,
            .disallow_lists = true,
            PATHS({"registry", NULL}),
            .not_after = AT(1893456000),
            .not_before = AT(1699913600),
            .max_ttl = AT(30 * DAY),
            .nonce = nonce4,
            .nonce_len = 4}),
      ENTRIES({"registry", "", "", key_entry, 32, 1})},
     "registry",
     0,
     "{\"permissions\":{\"read\":true,\"write\":true,\"list\":false,"
     "\"delete\":true},\"buckets\":[\"registry\"],"
     "\"notAfter\":\"2030-01-01T00:00:00Z\","
     "\"notBefore\":\"2023-11-13T22:13:20Z\",\"maxObjectTTL\":2592000,"
     "\"pathEncryption\":\"none\",\"encryptionKeys\":2,"
     "\"warnings\":[\"cannot_list\",\"objects_expire\"]}"},
    {"disallow reads",
     {BASE, CAVS({.disallow_reads = true})},
     NULL,
     0,
     "{\"permissions\":{\"read\":false,\"write\":true,\"list\":true,"
     "\"delete\":true},\"caveats\":1,\"warnings\":[\"cannot_read\"]}"},
    {"disallow writes",
     {BASE, CAVS({.disallow_writes = true})},
     NULL,
     0,
     "{\"permissions\":{\"read\":true,\"write\":false,\"list\":true,"
     "\"delete\":true},\"warnings\":[\"cannot_write\"]}"},
    {"disallow lists",
     {BASE, CAVS({.disallow_lists = true})},
     NULL,
     0,
     "{\"permissions\":{\"read\":true,\"write\":true,\"list\":false,"
     "\"delete\":true},\"warnings\":[\"cannot_list\"]}"},
    {"disallow deletes",
     {BASE, CAVS({.disallow_deletes = true})},
     NULL,
     0,
     "{\"permissions\":{\"read\":true,\"write\":true,\"list\":true,"
     "\"delete\":false},\"warnings\":[\"cannot_delete\"]}"},
    {"read-only (uplink share --readonly)",
     {BASE,
      CAVS({.disallow_writes = true, .disallow_deletes = true, .nonce = nonce4, .nonce_len = 4})},
     NULL,
     0,
     "{\"permissions\":{\"read\":true,\"write\":false,\"list\":true,"
     "\"delete\":false},\"warnings\":[\"cannot_write\",\"cannot_delete\"]}"},
    {"permissions intersect across caveats",
     {BASE, CAVS({.disallow_reads = true}, {.disallow_deletes = true},
                 {.nonce = nonce4, .nonce_len = 4})},
     NULL,
     0,
     "{\"permissions\":{\"read\":false,\"write\":true,\"list\":true,"
     "\"delete\":false},\"caveats\":3,"
     "\"warnings\":[\"cannot_read\",\"cannot_delete\"]}"},
    {"empty caveat restricts nothing",
     {BASE, CAVS({0})},
     "x",
     0,
     "{\"caveats\":1,\"buckets\":null,\"warnings\":[]}"},
    {"one bucket, matching",
     {BASE, CAVS({PATHS({"registry", NULL})})},
     "registry",
     0,
     "{\"buckets\":[\"registry\"],\"warnings\":[]}"},
    {"one bucket, other bucket entered",
     {BASE, CAVS({PATHS({"registry", NULL})})},
     "images",
     0,
     "{\"buckets\":[\"registry\"],\"warnings\":[\"bucket_not_allowed\"]}"},
    {"bucket entered as prefix of allowed one",
     {BASE, CAVS({PATHS({"registry", NULL})})},
     "regis",
     0,
     "{\"warnings\":[\"bucket_not_allowed\"]}"},
    {"several buckets, duplicates merged",
     {BASE, CAVS({PATHS({"alpha", NULL}, {"beta", ""}, {"alpha", NULL}, {"gamma", NULL})})},
     "gamma",
     0,
     "{\"buckets\":[\"alpha\",\"beta\",\"gamma\"],\"prefixRestricted\":false,"
     "\"warnings\":[]}"},
    {"buckets intersect across caveats",
     {BASE,
      CAVS({PATHS({"alpha", NULL}, {"beta", NULL}, {"gamma", NULL})}, {.disallow_lists = false},
           {PATHS({"gamma", NULL}, {"beta", NULL}, {"delta", NULL})})},
     "alpha",
     0,
     "{\"buckets\":[\"beta\",\"gamma\"],\"caveats\":3,"
     "\"warnings\":[\"bucket_not_allowed\"]}"},
    {"buckets do not overlap",
     {BASE, CAVS({PATHS({"alpha", NULL})}, {PATHS({"beta", NULL})})},
     "alpha",
     0,
     "{\"buckets\":[],\"warnings\":[\"no_buckets\"]}"},
    {"path without a bucket field",
     {BASE, CAVS({PATHS({NULL, NULL})})},
     NULL,
     0,
     "{\"buckets\":[\"\"],\"warnings\":[]}"},
    {"prefix restricted",
     {BASE, CAVS({PATHS({"registry", "\x01\x02prefix-ciphertext"})}),
      ENTRIES({"registry", "images/", "enc", key_entry, 32, 2})},
     "registry",
     0,
     "{\"buckets\":[\"registry\"],\"prefixRestricted\":true,"
     "\"sharedPaths\":[{\"bucket\":\"registry\",\"prefix\":\"images/\"}],"
     "\"encryptionKeys\":2,\"warnings\":[\"prefix_restricted\"]}"},
    {"restricted share without default key",
     {.satellite = US1_ADDR,
      .head = head_k,
      .head_len = 32,
      .tail = tail_k,
      .tail_len = 32,
      .path_cipher = 1,
      CAVS({PATHS({"registry", NULL}), .nonce = nonce4, .nonce_len = 4}),
      ENTRIES({"registry", "", "", key_entry, 32, 1},
              {"b\xffx", "caf\xc3\xa9/", "", key_entry, 32, -1})},
     "registry",
     0,
     "{\"encryptionKeys\":2,\"sharedPaths\":[{\"bucket\":\"registry\","
     "\"prefix\":\"\"},{\"bucket\":\"b\\\\xffx\",\"prefix\":\"caf\\u00e9/\"}],"
     "\"warnings\":[]}"},
    {"no keys at all",
     {.satellite = US1_ADDR,
      .head = head_k,
      .head_len = 32,
      .tail = tail_k,
      .tail_len = 32,
      .path_cipher = 1},
     NULL,
     0,
     "{\"encryptionKeys\":0,\"warnings\":[\"no_encryption_key\"]}"},
    {"no encryption access field",
     {.satellite = US1_ADDR, .no_encryption_access = true},
     NULL,
     0,
     "{\"pathEncryption\":\"aes-gcm\",\"pathCipher\":0,"
     "\"warnings\":[\"path_encryption\",\"no_encryption_key\"]}"},
    {"expired",
     {BASE, CAVS({.not_after = AT(1699913600)})},
     NULL,
     0,
     "{\"notAfter\":\"2023-11-13T22:13:20Z\",\"warnings\":[\"expired\"]}"},
    {"expired a second ago",
     {BASE, CAVS({.not_after = AT(NOW_PLUS(-1))})},
     NULL,
     0,
     "{\"warnings\":[\"expired\"]}"},
    {"expires this very second",
     {BASE, CAVS({.not_after = AT(NOW_PLUS(0))})},
     NULL,
     0,
     "{\"notAfter\":\"2023-11-14T22:13:20Z\","
     "\"warnings\":[\"expires_soon\"]}"},
    {"expires in 3 days",
     {BASE, CAVS({.not_after = AT(NOW_PLUS(3 * DAY))})},
     NULL,
     0,
     "{\"notAfter\":\"2023-11-17T22:13:20Z\","
     "\"warnings\":[\"expires_soon\"]}"},
    {"expires in exactly 7 days",
     {BASE, CAVS({.not_after = AT(NOW_PLUS(7 * DAY))})},
     NULL,
     0,
     "{\"warnings\":[\"expires_soon\"]}"},
    {"expires in 7 days and a second",
     {BASE, CAVS({.not_after = AT(NOW_PLUS(7 * DAY + 1))})},
     NULL,
     0,
     "{\"notAfter\":\"2023-11-21T22:13:21Z\",\"warnings\":[]}"},
    {"expiry with nanoseconds",
     {BASE, CAVS({.not_after = {true, 1893456000, 500000000}})},
     NULL,
     0,
     "{\"notAfter\":\"2030-01-01T00:00:00.5Z\",\"warnings\":[]}"},
    {"expiry with one nanosecond",
     {BASE, CAVS({.not_after = {true, 1893456000, 1}})},
     NULL,
     0,
     "{\"notAfter\":\"2030-01-01T00:00:00.000000001Z\"}"},
    {"empty timestamp is the epoch",
     {BASE, CAVS({.not_after = AT(0)})},
     NULL,
     0,
     "{\"notAfter\":\"1970-01-01T00:00:00Z\",\"warnings\":[\"expired\"]}"},
    {"leap day",
     {BASE, CAVS({.not_before = AT(951782400)})},
     NULL,
     0,
     "{\"notBefore\":\"2000-02-29T00:00:00Z\",\"warnings\":[]}"},
    {"2100 is no leap year",
     {BASE, CAVS({.not_after = AT(4107542400)})},
     NULL,
     0,
     "{\"notAfter\":\"2100-03-01T00:00:00Z\"}"},
    {"last representable second",
     {BASE, CAVS({.not_after = AT(253402300799)})},
     NULL,
     0,
     "{\"notAfter\":\"9999-12-31T23:59:59Z\",\"warnings\":[]}"},
    {"first representable second",
     {BASE, CAVS({.not_before = AT(-62135596800)})},
     NULL,
     0,
     "{\"notBefore\":\"0001-01-01T00:00:00Z\",\"warnings\":[]}"},
    {"not yet valid",
     {BASE, CAVS({.not_before = AT(NOW_PLUS(DAY))})},
     NULL,
     0,
     "{\"notBefore\":\"2023-11-15T22:13:20Z\","
     "\"warnings\":[\"not_yet_valid\"]}"},
    {"valid from this second",
     {BASE, CAVS({.not_before = AT(NOW_PLUS(0))})},
     NULL,
     0,
     "{\"warnings\":[]}"},
    {"valid from within this second",
     {BASE, CAVS({.not_before = {true, NOW_PLUS(0), 1}})},
     NULL,
     0,
     "{\"warnings\":[\"not_yet_valid\"]}"},
    {"valid since yesterday",
     {BASE, CAVS({.not_before = AT(NOW_PLUS(-DAY))})},
     NULL,
     0,
     "{\"notBefore\":\"2023-11-13T22:13:20Z\",\"warnings\":[]}"},
    {"times intersect across caveats",
     {BASE, CAVS({.not_after = AT(1893456000), .not_before = AT(1699913600)},
                 {.not_after = AT(NOW_PLUS(30 * DAY)), .not_before = AT(951782400)},
                 {.not_after = AT(1900000000)})},
     NULL,
     0,
     "{\"notAfter\":\"2023-12-14T22:13:20Z\","
     "\"notBefore\":\"2023-11-13T22:13:20Z\",\"warnings\":[]}"},
    {"window in the future and expired",
     {BASE, CAVS({.not_after = AT(NOW_PLUS(-DAY))}, {.not_before = AT(NOW_PLUS(DAY))})},
     NULL,
     0,
     "{\"warnings\":[\"expired\",\"not_yet_valid\"]}"},
    {"object TTL",
     {BASE, CAVS({.max_ttl = AT(30 * DAY)})},
     NULL,
     0,
     "{\"maxObjectTTL\":2592000,\"warnings\":[\"objects_expire\"]}"},
    {"shortest TTL wins",
     {BASE, CAVS({.max_ttl = AT(30 * DAY)}, {.max_ttl = AT(3600)}, {.max_ttl = AT(7200)})},
     NULL,
     0,
     "{\"maxObjectTTL\":3600,\"warnings\":[\"objects_expire\"]}"},
    {"TTL with nanoseconds",
     {BASE, CAVS({.max_ttl = {true, 90, 500000000}})},
     NULL,
     0,
     "{\"maxObjectTTL\":90.5,\"warnings\":[\"objects_expire\"]}"},
    {"path cipher unspecified",
     {SAT, HEAD, TAIL, KEY, .path_cipher = 0},
     NULL,
     0,
     "{\"pathEncryption\":\"aes-gcm\",\"pathCipher\":0,"
     "\"warnings\":[\"path_encryption\"]}"},
    {"path cipher left out",
     {SAT, HEAD, TAIL, KEY, .path_cipher = -1},
     NULL,
     0,
     "{\"pathEncryption\":\"aes-gcm\",\"warnings\":[\"path_encryption\"]}"},
    {"path cipher null",
     {SAT, HEAD, TAIL, KEY, .path_cipher = 1},
     NULL,
     0,
     "{\"pathEncryption\":\"none\",\"pathCipher\":1,\"warnings\":[]}"},
    {"path cipher aes-gcm",
     {SAT, HEAD, TAIL, KEY, .path_cipher = 2},
     NULL,
     0,
     "{\"pathEncryption\":\"aes-gcm\",\"warnings\":[\"path_encryption\"]}"},
    {"path cipher secretbox",
     {SAT, HEAD, TAIL, KEY, .path_cipher = 3},
     NULL,
     0,
     "{\"pathEncryption\":\"secretbox\",\"warnings\":[\"path_encryption\"]}"},
    {"path cipher null-base64url",
     {SAT, HEAD, TAIL, KEY, .path_cipher = 4},
     NULL,
     0,
     "{\"pathEncryption\":\"unknown\",\"pathCipher\":4,"
     "\"warnings\":[\"path_encryption\"]}"},
    {"everything wrong",
     {SAT, HEAD, TAIL, KEY, .path_cipher = 3,
      CAVS({.disallow_reads = true,
            .disallow_writes = true,
            .disallow_lists = true,
            .disallow_deletes = true,
            PATHS({"other", "x"}),
            .not_after = AT(NOW_PLUS(DAY)),
            .not_before = AT(NOW_PLUS(2 * DAY)),
            .max_ttl = AT(60)})},
     "registry",
     0,
     "{\"maxObjectTTL\":60,\"warnings\":[\"expires_soon\",\"not_yet_valid\","
     "\"cannot_read\",\"cannot_write\",\"cannot_list\",\"cannot_delete\","
     "\"bucket_not_allowed\",\"prefix_restricted\",\"objects_expire\","
     "\"path_encryption\"]}"},
    {"EU1",
     {HEAD, TAIL, KEY, NULLPATH, .satellite = EU1_ID "@eu1.storj.io:7777"},
     NULL,
     0,
     "{\"satellite\":{\"address\":\"" EU1_ID "@eu1.storj.io:7777\","
     "\"host\":\"eu1.storj.io:7777\",\"region\":\"EU1\"}}"},
    {"AP1",
     {HEAD, TAIL, KEY, NULLPATH, .satellite = AP1_ID "@ap1.storj.io:7777"},
     NULL,
     0,
     "{\"satellite\":{\"address\":\"" AP1_ID "@ap1.storj.io:7777\","
     "\"host\":\"ap1.storj.io:7777\",\"region\":\"AP1\"}}"},
    {"legacy host without node ID",
     {HEAD, TAIL, KEY, NULLPATH, .satellite = "europe-west-1.tardigrade.io:7777"},
     NULL,
     0,
     "{\"satellite\":{\"address\":\"" EU1_ID "@europe-west-1.tardigrade.io:7777\",\"host\":"
     "\"europe-west-1.tardigrade.io:7777\",\"region\":\"EU1\"}}"},
    {"known host without node ID",
     {HEAD, TAIL, KEY, NULLPATH, .satellite = "ap1.storj.io:7777"},
     NULL,
     0,
     "{\"satellite\":{\"address\":\"" AP1_ID "@ap1.storj.io:7777\","
     "\"host\":\"ap1.storj.io:7777\",\"region\":\"AP1\"}}"},
    {"scheme and query",
     {HEAD, TAIL, KEY, NULLPATH, .satellite = "storj://" US1_ADDR "?noise_pub=abc&noise_proto=1"},
     NULL,
     0,
     "{\"satellite\":{\"address\":\"" US1_ADDR "\","
     "\"host\":\"us1.storj.io:7777\",\"region\":\"US1\"},\"warnings\":[]}"},
    {"other satellite",
     {HEAD, TAIL, KEY, NULLPATH, .satellite = US1_ID "@sat.example.test:10000"},
     NULL,
     0,
     "{\"satellite\":{\"address\":\"" US1_ID "@sat.example.test:10000\","
     "\"host\":\"sat.example.test:10000\",\"region\":null},\"warnings\":[]}"},
    {"IPv6 satellite",
     {HEAD, TAIL, KEY, NULLPATH, .satellite = US1_ID "@[::1]:7777"},
     NULL,
     0,
     "{\"satellite\":{\"address\":\"" US1_ID "@[::1]:7777\","
     "\"host\":\"[::1]:7777\",\"region\":null}}"},
    {"known host, other node ID",
     {HEAD, TAIL, KEY, NULLPATH, .satellite = EU1_ID "@us1.storj.io:7777"},
     NULL,
     0,
     "{\"satellite\":{\"address\":\"" EU1_ID "@us1.storj.io:7777\","
     "\"host\":\"us1.storj.io:7777\",\"region\":\"US1\"},"
     "\"warnings\":[\"satellite_id_mismatch\"]}"},
    {"header location packet", {BASE, .location = "somewhere"}, NULL, 0, "{\"warnings\":[]}"},
    {"empty head",
     {SAT, TAIL, KEY, NULLPATH, .head = head_k, .head_len = 0},
     NULL,
     0,
     "{\"warnings\":[]}"},
};

static void test_reports(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(report_cases); i++) {
        const struct report_case *c = &report_cases[i];
        struct grant_error err;
        struct grant_info *gi;
        char *text = tenc_grant(&c->g);
        json_t *r;

        assert_non_null(text);
        gi = grant_decode(text, &err);
        if (!gi)
            fail_msg("%s: %s: %s", c->name, ecode_name(err.code), err.message);
        r = grant_report(gi, c->bucket, c->now ? c->now : NOW);
        assert_non_null(r);
        assert_report_shape(r);
        assert_report(c->name, r, c->expect);
        json_decref(r);
        check_outcome(text, gi, &err);
        grant_info_free(gi);
        free(text);
    }
}

/* ------------------------------------------------------------ errors */

static const unsigned char mac_v3[] = {3, 2, 1, 0xaa, 0, 0, 6, 0};

/* Macaroon pieces for hand-made keys: version, header with a 1-byte head,
 * end of caveats, and a 32-byte signature. */
#define MAC_HEAD 0x02, 0x02, 0x01, 0xaa, 0x00
#define MAC_SIG                                                                                    \
    0x06, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, \
        24, 25, 26, 27, 28, 29, 30, 31, 32
#define RAW_KEY(...)                                                                               \
    .raw_api_key = (const unsigned char[]){__VA_ARGS__},                                           \
    .raw_api_key_len = sizeof((const unsigned char[]){__VA_ARGS__})
#define RAW_CAVEAT(...)                                                                            \
    .raw = (const unsigned char[]){__VA_ARGS__},                                                   \
    .raw_len = sizeof((const unsigned char[]){__VA_ARGS__})

struct error_case {
    const char *name;
    const char *text; /* the input, or NULL to encode g */
    struct tenc_grant g;
    const char *code;
    const char *says; /* a piece the message must contain */
};

static const struct error_case error_cases[] = {
    {"empty string", "", {0}, "empty", NULL},
    {"only whitespace", " \n\t\r\n", {0}, "empty", NULL},
    {"only invisible spaces", "\xc2\xa0\xe2\x80\x8b", {0}, "empty", NULL},
    {"space inside", "12G2HT4B1UX PXcmQ9uijCcfT6vA5gct", {0}, "whitespace", "position 12"},
    {"line break inside", "\n 12G2HT4B1UX\nPXcmQ9ui\n", {0}, "whitespace", "position 14"},
    {"no-break space inside", "12G2\xc2\xa0HT4B1UXPXcmQ9uij", {0}, "whitespace", "position 5"},
    {"zero-width space inside",
     "12G2\xe2\x80\x8bHT4B1UXPXcmQ9uij",
     {0},
     "whitespace",
     "position 5"},
    {"zero digit", "12G2HT4B10UXPXcmQ9uij", {0}, "not_base58", "Character 10 "},
    {"capital O", "O2G2HT4B1UXPXcmQ9uij", {0}, "not_base58", "Character 1 "},
    {"capital I", "12G2HT4B1UXPXcmQ9uiI", {0}, "not_base58", "Character 20 "},
    {"small l", "12G2lHT4B1UXPXcmQ9ui", {0}, "not_base58", "Character 5 "},
    {"plus", "12G2HT4B1UXPXcm+Q9uij", {0}, "not_base58", "Character 16 "},
    {"quoted", "\"12G2HT4B1UXPXcmQ9uij\"", {0}, "not_base58", "Character 1 "},
    {"non-ASCII counted as characters",
     "  12\xc3\xa9\xc3\xa9G2HT4B1UXP\xc3\xa9",
     {0},
     "not_base58",
     "Character 5 "},
    {"URL", "https://example.com/grant", {0}, "not_base58", "Character 6 "},
    {"Storj S3 access key", "jwy2tg7xnyk3ahtbv5e5ze6usmha", {0}, "s3_access_key_not_grant", NULL},
    {"Storj S3 secret key",
     "jzvqkmh3k2ohbfqkpvqkbjmoxxqnbu6w6sg3e5xqxuz2nba4qsyk6",
     {0},
     "s3_secret_key_not_grant",
     NULL},
    {"AWS access key ID", "AKIAIOSFODNN7EXAMPLE", {0}, "s3_access_key_not_grant", NULL},
    {"AWS secret key",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     {0},
     "s3_secret_key_not_grant",
     NULL},
    {"one character", "1", {0}, "truncated", NULL},
    {"four bytes", "1111", {0}, "truncated", NULL},
    {"short base58", "3yQ", {0}, "truncated", NULL},
    {"empty payload (checksum of version 0)", "1Wh4bh", {0}, "truncated", NULL},
    {"random base58", "12G2HT4B1UXPXcmQ9uijCcfT6vA5gct1RwRq4hZQ4YS", {0}, "bad_checksum", NULL},
    {"no satellite field", NULL, {.head = head_k, .head_len = 32}, "no_satellite", NULL},
    {"empty satellite", NULL, {.satellite = ""}, "no_satellite", NULL},
    {"satellite without port", NULL, {.satellite = US1_ID "@us1.storj.io"}, "bad_satellite", NULL},
    {"satellite port 0", NULL, {.satellite = US1_ID "@us1.storj.io:0"}, "bad_satellite", NULL},
    {"satellite port too big",
     NULL,
     {.satellite = US1_ID "@us1.storj.io:65536"},
     "bad_satellite",
     NULL},
    {"satellite port not a number",
     NULL,
     {.satellite = US1_ID "@us1.storj.io:77a"},
     "bad_satellite",
     NULL},
    {"satellite with space",
     NULL,
     {.satellite = US1_ID "@us1 storj.io:7777"},
     "bad_satellite",
     NULL},
    {"satellite not ASCII",
     NULL,
     {.satellite = US1_ID "@us1.st\xc3\xb6rj.io:7777"},
     "bad_satellite",
     NULL},
    {"satellite with two @",
     NULL,
     {.satellite = US1_ID "@a@us1.storj.io:7777"},
     "bad_satellite",
     NULL},
    {"satellite with empty node ID",
     NULL,
     {.satellite = "@us1.storj.io:7777"},
     "bad_satellite",
     NULL},
    {"satellite node ID damaged",
     NULL,
     {.satellite = "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3T"
                   "@us1.storj.io:7777"},
     "bad_satellite",
     NULL},
    {"satellite node ID not base58",
     NULL,
     {.satellite = "0xdeadbeef@us1.storj.io:7777"},
     "bad_satellite",
     NULL},
    {"unknown satellite without node ID",
     NULL,
     {.satellite = "sat.example.test:7777"},
     "bad_satellite",
     "node ID"},
    {"satellite too long",
     NULL,
     {.satellite = US1_ID "@"
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          ".test:7777"},
     "bad_satellite",
     NULL},
    {"no API key", NULL, {BASE, .no_api_key = true}, "bad_macaroon", "missing"},
    {"API key version 3",
     NULL,
     {BASE, .raw_api_key = mac_v3, .raw_api_key_len = sizeof(mac_v3)},
     "bad_macaroon",
     "version"},
    {"API key of one byte", NULL, {BASE, RAW_KEY(2)}, "bad_macaroon", NULL},
    {"signature of 31 bytes",
     NULL,
     {SAT, HEAD, KEY, NULLPATH, .tail = tail_k, .tail_len = 31},
     "bad_macaroon",
     "signature"},
    {"signature of 33 bytes",
     NULL,
     {SAT, HEAD, KEY, NULLPATH, .tail = key_entry, .tail_len = 33},
     "bad_macaroon",
     "signature"},
    {"minimal hand-made key is fine (control)",
     NULL,
     {BASE, RAW_KEY(MAC_HEAD, 0x00, MAC_SIG)},
     NULL,
     NULL},
    {"key with caveat and verification id (control)",
     NULL,
     {BASE, RAW_KEY(MAC_HEAD, 0x01, 0x01, 'L', 0x02, 0x02, 0x10, 0x01, 0x04, 0x01, 'v', 0x00, 0x00,
                    MAC_SIG)},
     NULL,
     NULL},
    {"no end of caveats", NULL, {BASE, RAW_KEY(MAC_HEAD, MAC_SIG)}, "bad_macaroon", NULL},
    {"signature missing", NULL, {BASE, RAW_KEY(MAC_HEAD, 0x00)}, "bad_macaroon", NULL},
    {"wrong packet for signature",
     NULL,
     {BASE, RAW_KEY(MAC_HEAD, 0x00, 0x05, 0x01, 0x00)},
     "bad_macaroon",
     NULL},
    {"header without identifier",
     NULL,
     {BASE, RAW_KEY(0x02, 0x01, 0x01, 'L', 0x00, 0x00, MAC_SIG)},
     "bad_macaroon",
     NULL},
    {"header fields out of order",
     NULL,
     {BASE, RAW_KEY(0x02, 0x02, 0x01, 'h', 0x01, 0x01, 'L', 0x00, 0x00, MAC_SIG)},
     "bad_macaroon",
     NULL},
    {"header field repeated",
     NULL,
     {BASE, RAW_KEY(0x02, 0x02, 0x01, 'h', 0x02, 0x01, 'h', 0x00, 0x00, MAC_SIG)},
     "bad_macaroon",
     NULL},
    {"caveat without identifier",
     NULL,
     {BASE, RAW_KEY(MAC_HEAD, 0x04, 0x01, 'v', 0x00, 0x00, MAC_SIG)},
     "bad_macaroon",
     NULL},
    {"caveat with extra field",
     NULL,
     {BASE, RAW_KEY(MAC_HEAD, 0x02, 0x00, 0x05, 0x00, 0x00, 0x00, MAC_SIG)},
     "bad_macaroon",
     NULL},
    {"caveat with four fields",
     NULL,
     {BASE, RAW_KEY(MAC_HEAD, 0x01, 0x00, 0x02, 0x00, 0x04, 0x00, 0x05, 0x00, 0x00, 0x00, MAC_SIG)},
     "bad_macaroon",
     NULL},
    {"packet longer than key", NULL, {BASE, RAW_KEY(0x02, 0x02, 0x7f, 0x00)}, "bad_macaroon", NULL},
    {"packet type over 2^31",
     NULL,
     {BASE, RAW_KEY(0x02, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00)},
     "bad_macaroon",
     NULL},
    {"packet length over 2^31",
     NULL,
     {BASE, RAW_KEY(0x02, 0x02, 0x80, 0x80, 0x80, 0x80, 0x08)},
     "bad_macaroon",
     NULL},
    {"varint of 11 bytes in key",
     NULL,
     {BASE, RAW_KEY(0x02, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00)},
     "bad_macaroon",
     NULL},
    {"caveat truncated varint",
     NULL,
     {BASE, CAVS({RAW_CAVEAT(0x08)})},
     "bad_caveat",
     "Restriction 1 "},
    {"second caveat bad",
     NULL,
     {BASE, CAVS({.disallow_reads = true}, {RAW_CAVEAT(0x52, 0x05, 0x0a)})},
     "bad_caveat",
     "Restriction 2 "},
    {"disallow field with wrong wire type",
     NULL,
     {BASE, CAVS({RAW_CAVEAT(0x12, 0x01, 0x01)})},
     "bad_caveat",
     NULL},
    {"allowed path with wrong wire type",
     NULL,
     {BASE, CAVS({RAW_CAVEAT(0x50, 0x01)})},
     "bad_caveat",
     NULL},
    {"path bucket with wrong wire type",
     NULL,
     {BASE, CAVS({RAW_CAVEAT(0x52, 0x02, 0x08, 0x01)})},
     "bad_caveat",
     NULL},
    {"timestamp with wrong wire type",
     NULL,
     {BASE, CAVS({RAW_CAVEAT(0xa0, 0x01, 0x01)})},
     "bad_caveat",
     NULL},
    {"timestamp seconds with wrong wire type",
     NULL,
     {BASE, CAVS({RAW_CAVEAT(0xa2, 0x01, 0x05, 0x0d, 1, 2, 3, 4)})},
     "bad_caveat",
     NULL},
    {"nonce with wrong wire type",
     NULL,
     {BASE, CAVS({RAW_CAVEAT(0xf0, 0x01, 0x01)})},
     "bad_caveat",
     NULL},
    {"group wire type", NULL, {BASE, CAVS({RAW_CAVEAT(0x2b, 0x2c)})}, "bad_caveat", NULL},
    {"field number 0", NULL, {BASE, CAVS({RAW_CAVEAT(0x00, 0x01)})}, "bad_caveat", NULL},
    {"wire type 6", NULL, {BASE, CAVS({RAW_CAVEAT(0x0e, 0x01)})}, "bad_caveat", NULL},
    {"fixed64 past the end",
     NULL,
     {BASE, CAVS({RAW_CAVEAT(0x29, 1, 2, 3, 4, 5, 6, 7)})},
     "bad_caveat",
     NULL},
    {"fixed32 past the end", NULL, {BASE, CAVS({RAW_CAVEAT(0x2d, 1, 2, 3)})}, "bad_caveat", NULL},
    {"length over 2^31",
     NULL,
     {BASE, CAVS({RAW_CAVEAT(0x2a, 0x80, 0x80, 0x80, 0x80, 0x08)})},
     "bad_caveat",
     NULL},
    {"varint of 11 bytes",
     NULL,
     {BASE,
      CAVS({RAW_CAVEAT(0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00)})},
     "bad_caveat",
     NULL},
    {"varint overflowing 64 bits",
     NULL,
     {BASE, CAVS({RAW_CAVEAT(0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02)})},
     "bad_caveat",
     NULL},
    {"ten-byte varint is fine (control)",
     NULL,
     {BASE, CAVS({RAW_CAVEAT(0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)})},
     NULL,
     NULL},
    {"timestamp after year 9999",
     NULL,
     {BASE, CAVS({.not_after = AT(253402300800)})},
     "bad_caveat",
     NULL},
    {"timestamp before year 1",
     NULL,
     {BASE, CAVS({.not_before = AT(-62135596801)})},
     "bad_caveat",
     NULL},
    {"timestamp nanos negative",
     NULL,
     {BASE, CAVS({.not_after = {true, 1893456000, -1}})},
     "bad_caveat",
     NULL},
    {"timestamp nanos too big",
     NULL,
     {BASE, CAVS({.not_after = {true, 1893456000, 1000000000}})},
     "bad_caveat",
     NULL},
    {"duration too long", NULL, {BASE, CAVS({.max_ttl = AT(315576000001)})}, "bad_caveat", NULL},
    {"default key of 31 bytes",
     NULL,
     {SAT, HEAD, TAIL, NULLPATH, .default_key = key_default, .default_key_len = 31},
     "bad_key_length",
     NULL},
    {"entry key of 33 bytes",
     NULL,
     {BASE, ENTRIES({"b", "", "", key_entry, 33, 1})},
     "bad_key_length",
     NULL},
    {"entry without key", NULL, {BASE, ENTRIES({"b", "", "", NULL, 0, 1})}, "bad_key_length", NULL},
    {"empty default key means none (control)",
     NULL,
     {SAT, HEAD, TAIL, NULLPATH, .default_key = key_default, .default_key_len = 0},
     NULL,
     NULL},
    {"API key checked before keys",
     NULL,
     {SAT, HEAD, NULLPATH, .default_key = key_default, .default_key_len = 31, .tail = tail_k,
      .tail_len = 31},
     "bad_macaroon",
     NULL},
    {"satellite checked before API key",
     NULL,
     {.satellite = "", .tail = tail_k, .tail_len = 31},
     "no_satellite",
     NULL},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(error_cases); i++) {
        const struct error_case *c = &error_cases[i];
        struct grant_error err;
        struct grant_info *gi;
        char *text = c->text ? dup_str(c->text) : tenc_grant(&c->g);

        assert_non_null(text);
        gi = grant_decode(text, &err);
        if (!c->code) {
            if (!gi)
                fail_msg("%s: unexpected %s: %s", c->name, ecode_name(err.code), err.message);
        } else if (gi) {
            fail_msg("%s: decoded, expected %s", c->name, c->code);
        } else if (strcmp(ecode_name(err.code), c->code) != 0) {
            fail_msg("%s: got %s (%s), expected %s", c->name, ecode_name(err.code), err.message,
                     c->code);
        } else if (c->says && !strstr(err.message, c->says)) {
            fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, err.message, c->says);
        }
        check_outcome(text, gi, &err);
        grant_info_free(gi);
        free(text);
    }
    assert_null(grant_decode(NULL, NULL));
}

/* Payloads that are not encoder grants: wrong version, an API key,
 * malformed Scope protobuf. */
static void test_payload_errors(void **state)
{
    static const struct {
        const char *name;
        unsigned char version;
        const char *payload;
        size_t len;
        const char *code;
    } cases[] = {
        {"Scope with satellite only", 0,
         "\x0a\x03"
         "a:1",
         5, "bad_satellite"},
        {"Scope field with length past end", 0,
         "\x0a\x05"
         "ab",
         4, "bad_scope"},
        {"Scope satellite as varint", 0, "\x08\x01", 2, "bad_scope"},
        {"Scope API key as fixed32", 0, "\x15\x01\x02\x03\x04", 5, "bad_scope"},
        {"Scope group", 0, "\x0b\x0c", 2, "bad_scope"},
        {"Scope unterminated varint", 0, "\x20\xff", 2, "bad_scope"},
        {"Scope tag over 32 bits", 0, "\x80\x80\x80\x80\x80\x01\x00", 7, "bad_scope"},
        {"encryption access malformed", 0, "\x1a\x02\x0a\x05", 4, "bad_scope"},
        {"encryption access cipher as bytes", 0, "\x1a\x02\x1a\x00", 4, "bad_scope"},
        {"store entry malformed", 0, "\x1a\x03\x12\x01\x08", 5, "bad_scope"},
        {"store entry cipher as bytes", 0, "\x1a\x04\x12\x02\x2a\x00", 6, "bad_scope"},
        {"encryption parameters malformed", 0, "\x1a\x04\x22\x02\x0a\x00", 6, "bad_scope"},
        {"only unknown fields", 0, "\x20\x01", 2, "no_satellite"},
        {"zero byte", 0, "\x00", 1, "bad_scope"},
        {"version 1", 1,
         "\x0a\x03"
         "a:1",
         5, "bad_version"},
        {"version 255", 255, "\x0a", 1, "bad_version"},
        {"API key", 0, "\x02\x02\x01\xaa\x00\x00", 6, "api_key_not_grant"},
    };

    (void)state;
    for (size_t i = 0; i < COUNT(cases); i++) {
        struct grant_error err;
        struct grant_info *gi;
        char *text = tenc_base58check(cases[i].version, (const unsigned char *)cases[i].payload,
                                      cases[i].len);

        assert_non_null(text);
        gi = grant_decode(text, &err);
        if (gi)
            fail_msg("%s: decoded", cases[i].name);
        if (strcmp(ecode_name(err.code), cases[i].code) != 0)
            fail_msg("%s: got %s (%s), expected %s", cases[i].name, ecode_name(err.code),
                     err.message, cases[i].code);
        check_outcome(text, gi, &err);
        free(text);
    }
}

/* A real-shaped API key from the encoder (the sample in storj.md is cut
 * short): version 0 base58check of a 71-byte macaroon. */
static void test_api_key(void **state)
{
    const struct tenc_grant with_caveat = {
        .head = head_k,
        .head_len = 32,
        .tail = tail_k,
        .tail_len = 32,
        CAVS({.disallow_writes = true}),
    };
    const struct tenc_grant plain = {
        .head = head_k,
        .head_len = 32,
        .tail = tail_k,
        .tail_len = 32,
    };
    const struct tenc_grant *keys[] = {&plain, &with_caveat};
    unsigned char *mac;
    size_t n = 0;

    (void)state;
    mac = tenc_macaroon(&plain, &n);
    assert_non_null(mac);
    assert_int_equal(n, 71);
    free(mac);
    for (size_t i = 0; i < COUNT(keys); i++) {
        struct grant_error err;
        char *text = tenc_api_key(keys[i]);

        assert_non_null(text);
        assert_int_equal(text[0], '1');
        assert_null(grant_decode(text, &err));
        assert_string_equal(ecode_name(err.code), "api_key_not_grant");
        check_outcome(text, NULL, &err);
        free(text);
    }
}

static void test_too_long(void **state)
{
    char *text = malloc(GRANT_MAX_TEXT + 8);
    struct grant_error err;

    (void)state;
    assert_non_null(text);
    /* the cap is on the grant, not on the whitespace around it */
    memset(text, ' ', 4);
    memset(text + 4, '2', GRANT_MAX_TEXT);
    memcpy(text + 4 + GRANT_MAX_TEXT, "\n\n", 3);
    assert_null(grant_decode(text, &err));
    assert_string_equal(ecode_name(err.code), "bad_checksum");
    text[4 + GRANT_MAX_TEXT] = '2';
    assert_null(grant_decode(text, &err));
    assert_string_equal(ecode_name(err.code), "too_long");
    check_outcome(text, NULL, &err);
    free(text);
}

/* Many paths: the caps, and base58 on a grant near the size limit. */
static void test_many_paths(void **state)
{
    enum { MANY = 1025 };
    struct tenc_path *paths = calloc(MANY, sizeof(*paths));
    char(*names)[8] = calloc(MANY, sizeof(*names));
    struct tenc_caveat cav = {0};
    struct tenc_grant g = {BASE};
    struct grant_error err;
    struct grant_info *gi;
    json_t *r;
    char *text;

    (void)state;
    assert_non_null(paths);
    assert_non_null(names);
    for (size_t i = 0; i < MANY; i++) {
        snprintf(names[i], sizeof(names[i]), "b%zu", i % 600);
        paths[i].bucket = names[i];
    }
    cav.paths = paths;
    g.caveats = &cav;
    g.ncaveats = 1;

    cav.npaths = 1024; /* at the cap: 600 distinct buckets */
    text = tenc_grant(&g);
    assert_non_null(text);
    assert_true(strlen(text) > 8000 && strlen(text) <= GRANT_MAX_TEXT);
    gi = grant_decode(text, &err);
    if (!gi)
        fail_msg("%s: %s", ecode_name(err.code), err.message);
    r = grant_report(gi, "b599", NOW);
    assert_non_null(r);
    assert_int_equal(json_array_size(json_object_get(r, "buckets")), 600);
    assert_report("many paths", r, "{\"warnings\":[]}");
    json_decref(r);
    grant_info_free(gi);
    free(text);

    cav.npaths = MANY; /* one over */
    text = tenc_grant(&g);
    assert_non_null(text);
    assert_null(grant_decode(text, &err));
    assert_string_equal(ecode_name(err.code), "bad_caveat");
    free(text);
    free(paths);
    free(names);
}

/* Grants of every length from the same structure: an unknown Scope field
 * with 0..299 bytes of varied content exercises base58 at each size. */
static void test_every_length(void **state)
{
    unsigned char filler[300];
    uint32_t x = 12345;

    (void)state;
    for (size_t i = 0; i < sizeof(filler); i++) {
        x = x * 1103515245u + 12345u;
        filler[i] = (unsigned char)(x >> 16);
    }
    for (size_t n = 0; n < sizeof(filler); n++) {
        const struct tenc_grant g = {BASE};
        struct tenc_buf b = {0};
        unsigned char *scope;
        size_t len = 0;
        struct grant_error err;
        struct grant_info *gi;
        char *text;

        scope = tenc_scope(&g, &len);
        assert_non_null(scope);
        tenc_put_bytes(&b, scope, len);
        tenc_put_len_field(&b, 99, filler, n);
        assert_false(b.failed);
        text = tenc_base58check(0, b.data, b.len);
        assert_non_null(text);
        gi = grant_decode(text, &err);
        if (!gi)
            fail_msg("filler %zu: %s", n, ecode_name(err.code));
        assert_string_equal(grant_satellite_host(gi), "us1.storj.io:7777");
        grant_info_free(gi);
        free(text);
        free(scope);
        tenc_buf_free(&b);
    }
}

/* ------------------------------------------------------------ corruption */

/* A grant that uses every part of the format, for the damage tests. */
static char *rich_grant(void)
{
    const struct tenc_grant g = {
        SAT,
        HEAD,
        TAIL,
        KEY,
        .path_cipher = 2,
        .unknown_fields = true,
        CAVS({.disallow_deletes = true,
              .unknown_fields = true,
              PATHS({"registry", "pfx"}, {"other", NULL}),
              .not_after = AT(1893456000),
              .not_before = AT(1699913600),
              .max_ttl = AT(DAY),
              .nonce = nonce4,
              .nonce_len = 4},
             {PATHS({"registry", NULL}), .not_after = AT(1800000000)}),
        ENTRIES({"registry", "docker/", "enc", key_entry, 32, 2}),
    };

    return tenc_grant(&g);
}

static char *corpus_text(size_t i)
{
    if (i == 0)
        return dup_str(sample_synthetic);
    if (i == 1)
        return dup_str(sample_real);
    return rich_grant();
}

#define CORPUS 3

/* Every prefix of the text is refused, never crashes, never leaks. */
static void test_truncated_text(void **state)
{
    (void)state;
    for (size_t s = 0; s < CORPUS; s++) {
        char *text = corpus_text(s);
        size_t n;

        assert_non_null(text);
        n = strlen(text);
        for (size_t len = 0; len < n; len++) {
            struct grant_error err;
            struct grant_info *gi;
            char *cut = dup_n(text, len);

            assert_non_null(cut);
            gi = grant_decode(cut, &err);
            if (gi)
                fail_msg("sample %zu: prefix %zu decoded", s, len);
            check_outcome(text, gi, &err);
            free(cut);
        }
        free(text);
    }
}

/* Every prefix of the payload with a valid checksum: the deep parser must
 * refuse or accept cleanly. */
static void test_truncated_payload(void **state)
{
    (void)state;
    for (size_t s = 0; s < CORPUS; s++) {
        char *text = corpus_text(s);
        unsigned char *payload, version = 9;
        size_t n = 0, decoded = 0;

        assert_non_null(text);
        payload = tenc_base58check_decode(text, &n, &version);
        assert_non_null(payload);
        assert_int_equal(version, 0);
        for (size_t len = 0; len < n; len++) {
            char *cut = tenc_base58check(0, payload, len);
            struct grant_error err;
            struct grant_info *gi;

            assert_non_null(cut);
            gi = grant_decode(cut, &err);
            check_outcome(cut, gi, &err);
            decoded += gi != NULL;
            grant_info_free(gi);
            free(cut);
        }
        /* Only cuts between Scope fields parse: after the API key (no
         * encryption access is valid), and in the rich grant after
         * the access and after each of its four trailing unknown
         * fields. */
        assert_int_equal(decoded, s == 2 ? 6 : 1);
        free(payload);
        free(text);
    }
}

/* Every byte of the payload flipped three ways and re-checksummed. */
static void test_flipped_payload(void **state)
{
    static const unsigned char masks[] = {0x01, 0x80, 0xff};

    (void)state;
    for (size_t s = 0; s < CORPUS; s++) {
        char *text = corpus_text(s);
        unsigned char *payload, version = 9;
        size_t n = 0;

        assert_non_null(text);
        payload = tenc_base58check_decode(text, &n, &version);
        assert_non_null(payload);
        for (size_t i = 0; i < n; i++) {
            for (size_t m = 0; m < COUNT(masks); m++) {
                struct grant_error err;
                struct grant_info *gi;
                char *bad;

                payload[i] ^= masks[m];
                bad = tenc_base58check(0, payload, n);
                payload[i] ^= masks[m];
                assert_non_null(bad);
                gi = grant_decode(bad, &err);
                check_outcome(bad, gi, &err);
                grant_info_free(gi);
                free(bad);
            }
        }
        free(payload);
        free(text);
    }
}

/* Every character of the text replaced: the checksum catches it. */
static void test_damaged_text(void **state)
{
    (void)state;
    for (size_t s = 0; s < CORPUS; s++) {
        char *text = corpus_text(s);
        size_t n;

        assert_non_null(text);
        n = strlen(text);
        for (size_t i = 0; i < n; i++) {
            struct grant_error err;
            char keep = text[i];

            text[i] = keep == 'z' ? 'y' : 'z';
            assert_null(grant_decode(text, &err));
            assert_string_equal(ecode_name(err.code), "bad_checksum");
            check_outcome(text, NULL, &err);
            /* and one outside the alphabet is named */
            text[i] = '0';
            assert_null(grant_decode(text, &err));
            assert_string_equal(ecode_name(err.code), "not_base58");
            text[i] = keep;
        }
        free(text);
    }
}

/* The leak checks themselves must be able to see a leak. */
static void test_leak_checks_work(void **state)
{
    char *hex = tenc_hex(tail_k, 32, true);
    char *b64 = tenc_base64(key_default, 32, true);
    char hay[256], raw[16];

    (void)state;
    assert_non_null(hex);
    assert_non_null(b64);
    assert_string_equal(hex, "5EC72E7A11BEEFCAFEBABE0123456789"
                             "ABCDEFFEDCBA98765432100F1E2D3C4B");
    snprintf(hay, sizeof(hay), "{\"x\":\"..%.16s..\"}", hex);
    assert_true(has_secret(hay));
    snprintf(hay, sizeof(hay), "{\"x\":\"%.20s\"}", b64);
    assert_true(has_secret(hay));
    memcpy(raw, head_k + 8, 8);
    raw[8] = '\0';
    assert_true(has_secret(raw));
    assert_false(has_secret("{\"warnings\":[]}"));
    assert_true(has_text("xx1234567890abcdxx", "1234567890abcdef", 12));
    assert_false(has_text("xx1234567890axx", "1234567890abcdef", 12));
    free(hex);
    free(b64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_synthetic),  cmocka_unit_test(test_encoder_reproduces_sample),
        cmocka_unit_test(test_sample_real),       cmocka_unit_test(test_trimming),
        cmocka_unit_test(test_reports),           cmocka_unit_test(test_errors),
        cmocka_unit_test(test_payload_errors),    cmocka_unit_test(test_api_key),
        cmocka_unit_test(test_too_long),          cmocka_unit_test(test_many_paths),
        cmocka_unit_test(test_every_length),      cmocka_unit_test(test_truncated_text),
        cmocka_unit_test(test_truncated_payload), cmocka_unit_test(test_flipped_payload),
        cmocka_unit_test(test_damaged_text),      cmocka_unit_test(test_leak_checks_work),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
