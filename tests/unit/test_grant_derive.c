/*
 * Unit tests for grant_derive_unencrypted (backend/grant.c): the
 * registry-ready copy of a grant with unencrypted object keys (storj.md
 * 4.4a). The test-side encoder (support/grant_encoder.c) writes the grant
 * the derivation should produce, independently: the two must agree byte for
 * byte, and the derived grant must decode to the same report apart from the
 * path cipher.
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
#include "testutil.h"

#define NOW ((time_t)1700000000)
#define US1_ADDR "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S@us1.storj.io:7777"

/* storj.md 1.2's synthetic sample (default key, AES-GCM) ... */
static const char sample_synthetic[] =
    "125Woo4mWrVfSKDLv9JbqBPGbsxvEpdSoKkTFBJfzcbGjtTd7fpirTUSeqxivSHiQwWy"
    "HqYqk18BSSMx518kiB9vay4vexackzfYPhu3Fks2g8SyKuYKpJp9oPDa2KKM4EJ4QtYM"
    "uEitN64noVUcH8a93x8iBBYPsogKvzocwUe2U2eqrVsckRcKJ8CTY8ecrgUBcsvLEVZS"
    "TxmfubSMFR7y8ZzAu5qbDHA5AHC7A3e5F7qaexujdGN2bDB7WBKR9edC21JyEUh8wJos"
    "RzYD3kjsvvN1emoQoWEQcEnGyYo74qZ";
/* ... and its registry-ready copy: the vector this module must keep
 * producing (the same bytes with default_path_cipher 2 -> 1 and a new
 * checksum; computed independently with a short Python script, and checked
 * against the test encoder below). */
static const char sample_synthetic_derived[] =
    "125Woo4mWrVfSKDLv9JbqBPGbsxvEpdSoKkTFBJfzcbGjtTd7fpirTUSeqxivSHiQwWy"
    "HqYqk18BSSMx518kiB9vay4vexackzfYPhu3Fks2g8SyKuYKpJp9oPDa2KKM4EJ4QtYM"
    "uEitN64noVUcH8a93x8iBBYPsogKvzocwUe2U2eqrVsckRcKJ8CTY8ecrgUBcsvLEVZS"
    "TxmfubSMFR7y8ZzAu5qbDHA5AHC7A3e5F7qaexujdGN2bDB7WBKR9edC21JyEUh8wJos"
    "RzYD3kjsvvN1emoQoWEQcEnGyUoxa1r";

static const unsigned char head[32] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                       1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
static const unsigned char tail[32] = {
    0x7d, 0x6c, 0x42, 0xe3, 0x44, 0x14, 0xc8, 0xcb, 0x60, 0x9f, 0x08, 0x74, 0xc5, 0xba, 0x2e, 0x79,
    0xea, 0x2b, 0xd7, 0x3e, 0xf0, 0x73, 0xbd, 0xa4, 0x8c, 0x02, 0x97, 0xa4, 0x5d, 0x57, 0xb8, 0x89,
};
static const unsigned char key3[32] = {3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
                                       3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
static const unsigned char key_a[32] = {
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf};
static const unsigned char key_b[32] = {
    0x5a, 0x5a, 0x5a, 0x5a, 0x11, 0x22, 0x33, 0x44, 0x5a, 0x5a, 0x5a, 0x5a, 0x11, 0x22, 0x33, 0x44,
    0x5a, 0x5a, 0x5a, 0x5a, 0x11, 0x22, 0x33, 0x44, 0x5a, 0x5a, 0x5a, 0x5a, 0x11, 0x22, 0x33, 0x44};
static const unsigned char nonce4[4] = {1, 2, 3, 4};

/* One case: a grant as the encoder writes it (with the given ciphers and
 * encrypted paths), and the grant derivation must give (ciphers 1,
 * encrypted paths = plain paths). */
struct dcase {
    const char *name;
    struct tenc_grant in;
    struct tenc_grant want;
};

/* report of text, without the fields that must differ */
static json_t *report_of(const char *text, const char *bucket)
{
    struct grant_error err;
    struct grant_info *gi = grant_decode(text, &err);
    json_t *r;

    if (!gi)
        fail_msg("decode failed: %s %s", ecode_name(err.code), err.message);
    r = grant_report(gi, bucket, NOW);
    grant_info_free(gi);
    assert_non_null(r);
    return r;
}

static void check_case(const struct dcase *c)
{
    struct grant_error err;
    char *in = tenc_grant(&c->in), *want = tenc_grant(&c->want), *got;
    json_t *ra, *rb, *wa, *wb;
    size_t i;

    assert_non_null(in);
    assert_non_null(want);
    got = grant_derive_unencrypted(in, &err);
    CHECK(got != NULL, "%s: derive failed: %s %s", c->name, ecode_name(err.code), err.message);
    CHECK(strcmp(got, want) == 0, "%s: derived grant differs from the encoder's\n got %s\nwant %s",
          c->name, got, want);

    /* every reported fact the same, except the path cipher */
    ra = report_of(in, "registry");
    rb = report_of(got, "registry");
    CHECK(strcmp(json_string_value(json_object_get(rb, "pathEncryption")), "none") == 0,
          "%s: derived grant does not say none", c->name);
    assert_int_equal(json_integer_value(json_object_get(rb, "pathCipher")), 1);
    wa = json_deep_copy(json_object_get(ra, "warnings"));
    wb = json_object_get(rb, "warnings");
    for (i = json_array_size(wa); i-- > 0;)
        if (strcmp(json_string_value(json_object_get(json_array_get(wa, i), "code")),
                   "path_encryption") == 0)
            json_array_remove(wa, i);
    CHECK(json_equal(wa, wb), "%s: warnings differ beyond path_encryption", c->name);
    json_decref(wa);
    json_object_del(ra, "pathEncryption");
    json_object_del(ra, "pathCipher");
    json_object_del(ra, "warnings");
    json_object_del(rb, "pathEncryption");
    json_object_del(rb, "pathCipher");
    json_object_del(rb, "warnings");
    if (!json_equal(ra, rb)) {
        char *a = json_dumps(ra, JSON_SORT_KEYS), *b = json_dumps(rb, JSON_SORT_KEYS);
        print_error("%s\n%s\n", a, b);
        free(a);
        free(b);
        fail_msg("%s: report changed", c->name);
    }
    json_decref(ra);
    json_decref(rb);

    /* deriving again changes nothing */
    char *again = grant_derive_unencrypted(got, &err);
    assert_non_null(again);
    CHECK(strcmp(again, got) == 0, "%s: derive is not idempotent", c->name);
    free(again);
    free(got);
    free(in);
    free(want);
}

static void test_sample_vector(void **state)
{
    (void)state;
    struct grant_error err;
    char *got = grant_derive_unencrypted(sample_synthetic, &err);
    assert_non_null(got);
    assert_string_equal(got, sample_synthetic_derived);
    /* the encoder agrees: the sample's contents with cipher 1 */
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
        .head = head,
        .head_len = 32,
        .caveats = &cav,
        .ncaveats = 1,
        .tail = tail,
        .tail_len = 32,
        .default_key = key3,
        .default_key_len = 32,
        .path_cipher = 1,
    };
    char *want = tenc_grant(&g);
    assert_string_equal(got, want);
    free(want);

    /* the API key and the satellite are the same bytes: only the one
     * varint of default_path_cipher differs */
    size_t na = 0, nb = 0, diff = 0;
    unsigned char va, vb;
    unsigned char *a = tenc_base58check_decode(sample_synthetic, &na, &va);
    unsigned char *b = tenc_base58check_decode(got, &nb, &vb);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(na, nb);
    assert_int_equal(vb, 0);
    for (size_t i = 0; i < na; i++)
        if (a[i] != b[i]) {
            diff++;
            assert_int_equal(a[i], 2);
            assert_int_equal(b[i], 1);
        }
    assert_int_equal(diff, 1);
    free(a);
    free(b);
    free(got);
}

static void test_cases(void **state)
{
    (void)state;
    static const char bucket[] = "registry";
    const struct tenc_path path = {bucket, "\x01\x02"};
    const struct tenc_caveat cav = {
        .paths = &path,
        .npaths = 1,
        .max_ttl = {true, 3600, 0},
        .unknown_fields = true,
    };
    const struct tenc_entry in_entries[] = {
        {"registry", "", "", key_a, 32, 2},
        {"images", "team/app", "\x9c\x01\x8f\xee", key_b, 32, 3},
        {"other", "x", NULL, key_b, 32, -1},
    };
    const struct tenc_entry want_entries[] = {
        {"registry", "", "", key_a, 32, 1},
        {"images", "team/app", "team/app", key_b, 32, 1},
        {"other", "x", "x", key_b, 32, 1},
    };
    /* a proto3 encoder leaves the empty encrypted path out */
    const struct tenc_entry want_entries_empty[] = {
        {"registry", "", NULL, key_a, 32, 1},
        {"images", "team/app", "team/app", key_b, 32, 1},
        {"other", "x", "x", key_b, 32, 1},
    };
    const struct tenc_grant base = {
        .satellite = US1_ADDR,
        .head = head,
        .head_len = 32,
        .tail = tail,
        .tail_len = 32,
    };
    struct dcase cases[6];
    memset(cases, 0, sizeof cases);

    cases[0].name = "default key, cipher left out (older grants: AES-GCM)";
    cases[0].in = base;
    cases[0].in.default_key = key3;
    cases[0].in.default_key_len = 32;
    cases[0].in.path_cipher = -1;
    cases[0].want = cases[0].in;
    cases[0].want.path_cipher = 1;

    cases[1].name = "store entries, secretbox, a caveat and unknown fields everywhere";
    cases[1].in = base;
    cases[1].in.caveats = &cav;
    cases[1].in.ncaveats = 1;
    cases[1].in.entries = in_entries + 1;
    cases[1].in.nentries = 2;
    cases[1].in.path_cipher = 3;
    cases[1].in.unknown_fields = true;
    cases[1].want = cases[1].in;
    cases[1].want.entries = want_entries + 1;
    cases[1].want.path_cipher = 1;

    cases[2].name = "bucket-root entry written with an empty encrypted path";
    cases[2].in = base;
    cases[2].in.caveats = &cav;
    cases[2].in.ncaveats = 1;
    cases[2].in.entries = in_entries;
    cases[2].in.nentries = 3;
    cases[2].in.path_cipher = 2;
    cases[2].want = cases[2].in;
    cases[2].want.entries = want_entries_empty;
    cases[2].want.path_cipher = 1;

    cases[3].name = "already unencrypted: the same grant";
    cases[3].in = base;
    cases[3].in.entries = want_entries + 1;
    cases[3].in.nentries = 2;
    cases[3].in.path_cipher = 1;
    cases[3].want = cases[3].in;

    cases[4].name = "no encryption access at all";
    cases[4].in = base;
    cases[4].in.no_encryption_access = true;
    cases[4].want = base;
    cases[4].want.path_cipher = 1;

    cases[5].name = "location packet and many caveats kept";
    cases[5].in = base;
    cases[5].in.location = "storj";
    cases[5].in.caveats = &cav;
    cases[5].in.ncaveats = 1;
    cases[5].in.default_key = key3;
    cases[5].in.default_key_len = 32;
    cases[5].in.path_cipher = 2;
    cases[5].want = cases[5].in;
    cases[5].want.path_cipher = 1;

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_case(&cases[i]);
}

static void test_real_sample(void **state)
{
    (void)state;
    struct grant_error err;
    char *got = grant_derive_unencrypted(SAMPLE_GRANT, &err);
    assert_non_null(got);
    json_t *r = report_of(got, NULL);
    assert_string_equal(json_string_value(json_object_get(r, "pathEncryption")), "none");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "satellite"), "host")),
                        "eu1.storj.io:7777");
    json_decref(r);
    free(got);
    /* surrounding whitespace is ignored as by the decoder */
    got = grant_derive_unencrypted("  " SAMPLE_GRANT "\n", &err);
    assert_non_null(got);
    free(got);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *code;
    } rows[] = {
        {"", "empty"},
        {"12G2HT4B1 UXPX", "whitespace"},
        {"0OIl", "not_base58"},
        /* the sample with its last character changed */
        {"12G2HT4B1UXPXcmQ9uijCcfT6vA5gct1RwRq4hZQ4YS51xKN34aihDWZjDMWZJvByTy3BzSuieCmbEKv28wo2"
         "Bty7iGDewEYemefDw5hAAJcUJHpYcU24DVLiyoRKyLLGnR3L11QN1sQ6Da41SM62R7AqiBqMMDWB1zmr9gX8CW"
         "UwC57zdyHZGrmRBtwkv1gXrogjtkbzUovXH",
         "bad_checksum"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        struct grant_error err = {0};
        char *got = grant_derive_unencrypted(rows[i].text, &err);
        CHECK(got == NULL, "row %zu: derived a bad grant", i);
        CHECK(ecode_name(err.code) && strcmp(ecode_name(err.code), rows[i].code) == 0,
              "row %zu: code %s, want %s", i,
              ecode_name(err.code) ? ecode_name(err.code) : "(null)", rows[i].code);
    }
    assert_null(grant_derive_unencrypted(NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_vector),
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_real_sample),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
