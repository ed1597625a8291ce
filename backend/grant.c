/*
 * grant: offline decoder for Storj access grants (see grant.h).
 *
 * The layers, outside in (shared/reference/storj.md section 1):
 *   text     base58 (Bitcoin alphabet) of version(1) || payload || checksum(4),
 *            checksum = first 4 bytes of SHA-256(SHA-256(version || payload))
 *   payload  protobuf Scope {1 satellite_addr, 2 api_key, 3 encryption_access}
 *   api_key  macaroon v2: 0x02, header section, caveat sections, an empty
 *            section, then the 32-byte signature packet
 *   caveat   protobuf Caveat (disallow_*, allowed_paths, not_after, ...)
 *
 * The decoded bytes hold the API key secret parts and the encryption keys,
 * so they are wiped before they are freed, and grant_info copies out only
 * facts (times, flags, bucket names, the satellite).
 */
#include "grant.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Caps on what one grant may hold. GRANT_MAX_TEXT bounds them all already;
 * these keep the per-caveat bucket intersection small and name the limits. */
#define GRANT_MAX_SATELLITE 512 /* bytes of satellite address */
#define GRANT_MAX_CAVEATS 1024  /* caveats on one API key */
#define GRANT_MAX_PATHS 1024    /* allowed_paths entries in one caveat */
#define GRANT_MAX_ENTRIES 1024  /* encryption store entries */
#define GRANT_WARN_MESSAGE 512  /* bytes of one warning message */

/* A grant that expires within this many seconds gets "expires_soon". */
#define GRANT_SOON_SECONDS (7 * 24 * 3600)

#define KEY_SIZE 32 /* storj.Key and the macaroon signature */
#define CHECKSUM_SIZE 4
#define VARINT_MAX_LEN 10 /* a 64-bit varint */
#define MAC_VERSION 2
#define MAC_MAX_VALUE 0x7fffffffu /* macaroon varints are Go ints, capped */
#define MAC_SECTION_MAX 3         /* location, identifier, verification id */
#define PB_MAX_LEN 0x7fffffffu

/* Macaroon packet field types (storj/common macaroon/serialize.go). */
enum { MAC_EOS = 0, MAC_LOCATION = 1, MAC_IDENTIFIER = 2, MAC_VID = 4, MAC_SIGNATURE = 6 };

/* encryption.CipherSuite */
enum { ENC_UNSPECIFIED = 0, ENC_NULL = 1, ENC_AESGCM = 2, ENC_SECRETBOX = 3 };

/* protobuf wire types this decoder knows how to skip */
enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

/* google.protobuf.Timestamp covers years 1 to 9999; Duration +-10000 years. */
#define STAMP_MIN INT64_C(-62135596800)
#define STAMP_MAX INT64_C(253402300799)
#define DURATION_MAX INT64_C(315576000000)
#define NANOS_MAX 999999999

/* Digit value of each ASCII character in the Bitcoin alphabet
 * "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", -1 when
 * not in it. */
static const signed char b58_digit[128] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, 0,  1,  2,  3,  4,  5,  6,  7,  8,  -1, -1, -1, -1, -1, -1, -1, 9,
    10, 11, 12, 13, 14, 15, 16, -1, 17, 18, 19, 20, 21, -1, 22, 23, 24, 25, 26, 27, 28, 29,
    30, 31, 32, -1, -1, -1, -1, -1, -1, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, -1, 44,
    45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, -1, -1, -1, -1, -1,
};

struct known_satellite {
    const char *host;
    const char *region;
    const char *id;
};

/* Production satellites (storj.md 1.2) and their legacy tardigrade.io names
 * (storj/common rpc/known_ids.go), which share the node IDs. */
static const struct known_satellite known_satellites[] = {
    {"us1.storj.io:7777", "US1", "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S"},
    {"eu1.storj.io:7777", "EU1", "12L9ZFwhzVpuEKMUNUqkaTLGzwY9G24tbiigLiXpmZWKwmcNDDs"},
    {"ap1.storj.io:7777", "AP1", "121RTSDpyNZVcEU84Ticf2L1ntiuUimbWgfATz21tuvgk3vzoA6"},
    {"us-central-1.tardigrade.io:7777", "US1",
     "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S"},
    {"europe-west-1.tardigrade.io:7777", "EU1",
     "12L9ZFwhzVpuEKMUNUqkaTLGzwY9G24tbiigLiXpmZWKwmcNDDs"},
    {"asia-east-1.tardigrade.io:7777", "AP1",
     "121RTSDpyNZVcEU84Ticf2L1ntiuUimbWgfATz21tuvgk3vzoA6"},
};

/* A view into the decoded payload; never outlives grant_decode. */
struct bytes {
    const unsigned char *p;
    size_t n;
};

/* A NUL-terminated copy of bytes that may themselves contain NULs. */
struct owned {
    char *p;
    size_t n;
};

struct stamp {
    int64_t sec;
    int32_t nsec;
};

struct shared_path {
    struct owned bucket;
    struct owned prefix;
};

struct grant_info {
    char *address;      /* "<id>@host:port" */
    char *host;         /* "host:port" */
    const char *region; /* static, or NULL */
    bool id_mismatch;   /* known host, other node ID */
    size_t caveats;
    bool no_read, no_write, no_list, no_delete;
    bool has_not_after, has_not_before, has_ttl;
    struct stamp not_after, not_before, ttl;
    bool limited;          /* some caveat has allowed_paths */
    struct owned *buckets; /* intersection, when limited */
    size_t nbuckets;
    bool prefix_restricted;
    int32_t path_cipher;
    size_t keys; /* how many encryption keys, never the keys */
    struct shared_path *shared;
    size_t nshared;
};

/* What the Scope walk collects before the checks that follow it. */
struct scope {
    struct bytes satellite;
    struct bytes api_key;
    size_t default_key_len;
    size_t entry_keys;
    bool bad_entry_key;
    int32_t path_cipher;
};

/* One caveat, before it is merged into grant_info. */
struct caveat {
    bool no_read, no_write, no_list, no_delete;
    bool has_not_after, has_not_before, has_ttl;
    struct stamp not_after, not_before, ttl;
    bool prefix;
    size_t npaths;
    struct bytes *buckets; /* distinct buckets, GRANT_MAX_PATHS slots */
    size_t nbuckets;
};

struct reader {
    const unsigned char *p;
    const unsigned char *end;
};

struct pb_field {
    uint32_t num;
    int wire;
    uint64_t value;    /* WIRE_VARINT */
    struct bytes data; /* the other wire types */
};

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static void set_error(struct grant_error *err, enum ecode code, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

static void set_error(struct grant_error *err, enum ecode code, const char *fmt, ...)
{
    va_list ap;

    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- text */

/* Length of the whitespace at p: ASCII spaces and the invisible characters
 * that copying from web pages and chat tools leaves around (UTF-8 no-break
 * space, zero-width spaces and joiners, narrow no-break space, BOM). */
static size_t space_len(const unsigned char *p, size_t n)
{
    if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        return 1;
    if (n >= 2 && p[0] == 0xc2 && p[1] == 0xa0)
        return 2;
    if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x8b && p[2] <= 0x8d) || p[2] == 0xaf))
        return 3;
    if (n >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0xa0)
        return 3;
    if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        return 3;
    return 0;
}

/* 1-based character (not byte) position of offset off, for messages that
 * point at a spot without quoting it. */
static size_t char_pos(const unsigned char *s, size_t off)
{
    size_t pos = 1;

    for (size_t i = 0; i < off; i++)
        if ((s[i] & 0xc0) != 0x80)
            pos++;
    return pos;
}

static bool all_in(const unsigned char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == 0 || !strchr(set, s[i]))
            return false;
    return true;
}

#define BASE32_LOWER "abcdefghijklmnopqrstuvwxyz234567"
#define UPPER_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define BASE64_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

/* Recognizes the S3 credentials people paste where a grant belongs:
 * Gateway-MT keys are lowercase base32 starting with 'j' (access key 28
 * characters, secret 53; storj.md 2.2), AWS-style ones are a 20-character
 * uppercase key ID and a 40-character base64 secret. */
static int check_s3_shapes(const unsigned char *s, size_t n, struct grant_error *err)
{
    if ((n == 28 || n == 53) && s[0] == 'j' && all_in(s, n, BASE32_LOWER)) {
        if (n == 28)
            set_error(err, E_S3_ACCESS_KEY_NOT_GRANT,
                      "This is a Storj S3 access key, not an access "
                      "grant; paste the access grant (a long text "
                      "starting with 1) instead.");
        else
            set_error(err, E_S3_SECRET_KEY_NOT_GRANT,
                      "This is a Storj S3 secret key, not an access "
                      "grant; paste the access grant (a long text "
                      "starting with 1) instead.");
        return -1;
    }
    if (n == 20 && all_in(s, n, UPPER_ALNUM)) {
        set_error(err, E_S3_ACCESS_KEY_NOT_GRANT,
                  "This looks like an S3 access key ID, not an access "
                  "grant; paste the access grant (a long text starting "
                  "with 1) instead.");
        return -1;
    }
    if (n == 40 && all_in(s, n, BASE64_CHARS) && (memchr(s, '+', n) || memchr(s, '/', n))) {
        set_error(err, E_S3_SECRET_KEY_NOT_GRANT,
                  "This looks like an S3 secret key, not an access "
                  "grant; paste the access grant (a long text starting "
                  "with 1) instead.");
        return -1;
    }
    return 0;
}

/* Finds the grant inside text (trimming whitespace) and checks it is made
 * of base58 digits only. On success *start and *len describe it. */
static int check_text(const char *text, const unsigned char **start, size_t *len,
                      struct grant_error *err)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), i = 0, k, begin, end, gap = 0;
    bool pending = false, inner = false;

    while (i < n && (k = space_len(s + i, n - i)) > 0)
        i += k;
    begin = end = i;
    while (i < n) {
        k = space_len(s + i, n - i);
        if (k > 0) {
            if (!pending && !inner)
                gap = i;
            pending = true;
            i += k;
            continue;
        }
        if (pending)
            inner = true;
        pending = false;
        end = ++i;
    }
    if (end == begin) {
        set_error(err, E_EMPTY, "No access grant was entered.");
        return -1;
    }
    if (end - begin > GRANT_MAX_TEXT) {
        set_error(err, E_TOO_LONG,
                  "The text is longer than any access grant (%zu "
                  "characters at most); paste only the grant.",
                  (size_t)GRANT_MAX_TEXT);
        return -1;
    }
    if (inner) {
        set_error(err, E_WHITESPACE,
                  "The access grant contains a space, line break or "
                  "invisible character at position %zu; copy it "
                  "again as one unbroken line.",
                  char_pos(s, gap));
        return -1;
    }
    if (check_s3_shapes(s + begin, end - begin, err) < 0)
        return -1;
    for (i = begin; i < end; i++) {
        if (s[i] >= 128 || b58_digit[s[i]] < 0) {
            set_error(err, E_NOT_BASE58,
                      "Character %zu is not allowed in an access "
                      "grant (they use letters and digits except "
                      "0, O, I and l); copy the grant again.",
                      char_pos(s, i));
            return -1;
        }
    }
    *start = s + begin;
    *len = end - begin;
    return 0;
}

/* ---------------------------------------------------------------- base58 */

/*
 * Decodes n checked base58 digits into out, which must hold n bytes (a
 * base58 digit is worth less than a byte). Returns the decoded length.
 *
 * The number is built big-endian at the end of out with a multiply-add over
 * the bytes used so far. Nine digits go in per pass (58^9 < 2^53, so a
 * 64-bit carry cannot overflow): a real grant takes microseconds and the
 * longest accepted text about 15 ms.
 */
static size_t b58_decode(const unsigned char *s, size_t n, unsigned char *out)
{
    size_t zeros = 0, used = 0, i = 0;

    while (zeros < n && s[zeros] == '1')
        zeros++;
    i = zeros;
    while (i < n) {
        uint64_t mul = 1, carry = 0;

        for (int k = 0; k < 9 && i < n; k++, i++) {
            mul *= 58;
            carry = carry * 58 + (uint64_t)b58_digit[s[i]];
        }
        for (size_t j = 0; j < used; j++) {
            unsigned char *b = out + n - 1 - j;

            carry += (uint64_t)*b * mul;
            *b = (unsigned char)carry;
            carry >>= 8;
        }
        while (carry) {
            out[n - 1 - used++] = (unsigned char)carry;
            carry >>= 8;
        }
    }
    /* zeros + used <= n: each digit adds less than one byte */
    memset(out, 0, zeros);
    memmove(out + zeros, out + n - used, used);
    return zeros + used;
}

static bool b58_is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 128 || b58_digit[(unsigned char)s[i]] < 0)
            return false;
    return true;
}

/* Checks the 4-byte double-SHA-256 checksum at the end of raw. Returns 1
 * when it matches, 0 when not, -1 when libcrypto fails. */
static int checksum_ok(const unsigned char *raw, size_t n)
{
    unsigned char h1[EVP_MAX_MD_SIZE], h2[EVP_MAX_MD_SIZE];
    unsigned int l1 = 0, l2 = 0;

    if (n < CHECKSUM_SIZE + 1)
        return 0;
    if (!EVP_Digest(raw, n - CHECKSUM_SIZE, h1, &l1, EVP_sha256(), NULL) ||
        !EVP_Digest(h1, l1, h2, &l2, EVP_sha256(), NULL))
        return -1;
    return memcmp(h2, raw + n - CHECKSUM_SIZE, CHECKSUM_SIZE) == 0;
}

/* ---------------------------------------------------------------- protobuf */

static int read_varint(struct reader *r, uint64_t *v)
{
    uint64_t x = 0;

    for (int i = 0; i < VARINT_MAX_LEN; i++) {
        unsigned char b;

        if (r->p == r->end)
            return -1;
        b = *r->p++;
        /* the tenth byte may only hold bit 63 */
        if (i == VARINT_MAX_LEN - 1 && b > 1)
            return -1;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Reads the next field. Returns 1 with *f filled, 0 at the end of the
 * message, -1 when the bytes are not protobuf. Unknown fields of every
 * wire type but groups (3, 4; deprecated and unused by Storj) can be
 * skipped by simply ignoring them. */
static int pb_next(struct reader *r, struct pb_field *f)
{
    uint64_t tag, n;

    if (r->p == r->end)
        return 0;
    if (read_varint(r, &tag) < 0 || tag > UINT32_MAX || (tag >> 3) == 0)
        return -1;
    f->num = (uint32_t)(tag >> 3);
    f->wire = (int)(tag & 7);
    f->value = 0;
    f->data.p = NULL;
    f->data.n = 0;
    switch (f->wire) {
    case WIRE_VARINT:
        return read_varint(r, &f->value) < 0 ? -1 : 1;
    case WIRE_FIXED64:
        n = 8;
        break;
    case WIRE_FIXED32:
        n = 4;
        break;
    case WIRE_LEN:
        if (read_varint(r, &n) < 0 || n > PB_MAX_LEN)
            return -1;
        break;
    default:
        return -1;
    }
    if (n > (uint64_t)(r->end - r->p))
        return -1;
    f->data.p = r->p;
    f->data.n = (size_t)n;
    r->p += n;
    return 1;
}

static struct reader reader_of(struct bytes b)
{
    /* a field left out is NULL with length 0, and NULL + 0 is undefined */
    static const unsigned char none[1];
    struct reader r;

    r.p = b.p ? b.p : none;
    r.end = r.p + b.n;
    return r;
}

/* Walks a message whose fields are all scalars or unknown: checks only that
 * it is well-formed (EncryptionParameters). */
static int pb_check(struct bytes b)
{
    struct reader r = reader_of(b);
    struct pb_field f;
    int rc;

    while ((rc = pb_next(&r, &f)) > 0)
        if ((f.num == 1 || f.num == 2) && f.wire != WIRE_VARINT)
            return -1;
    return rc;
}

/* Timestamp and Duration share a layout: int64 seconds = 1, int32 nanos = 2.
 * Repeated occurrences merge, as protobuf does for messages. */
static int pb_stamp(struct bytes b, struct stamp *t)
{
    struct reader r = reader_of(b);
    struct pb_field f;
    int rc;

    while ((rc = pb_next(&r, &f)) > 0) {
        if (f.num != 1 && f.num != 2)
            continue;
        if (f.wire != WIRE_VARINT)
            return -1;
        if (f.num == 1)
            t->sec = (int64_t)f.value;
        else
            t->nsec = (int32_t)(uint32_t)f.value;
    }
    return rc;
}

static int owned_copy(struct owned *o, struct bytes b)
{
    o->p = malloc(b.n + 1);
    if (!o->p)
        return -1;
    if (b.n)
        memcpy(o->p, b.p, b.n);
    o->p[b.n] = '\0';
    o->n = b.n;
    return 0;
}

static char *str_copy(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* ---------------------------------------------------------------- scope */

static void bad_structure(struct grant_error *err, const char *part)
{
    set_error(err, E_BAD_SCOPE,
              "The access grant's %s is malformed, so the grant was "
              "damaged or made by other software; copy it again from "
              "the Storj console or uplink.",
              part);
}

/* StoreEntry: keeps the plaintext bucket and path for the report, counts
 * the key and remembers whether its length was wrong. */
static int walk_entry(struct bytes b, struct scope *sc, struct grant_info *gi,
                      struct grant_error *err)
{
    struct reader r = reader_of(b);
    struct pb_field f;
    struct bytes bucket = {NULL, 0}, path = {NULL, 0};
    size_t key_len = 0;
    struct shared_path *sp;
    int rc;

    while ((rc = pb_next(&r, &f)) > 0) {
        switch (f.num) {
        case 1:
        case 2:
        case 3:
        case 4:
        case 6:
            if (f.wire != WIRE_LEN)
                goto bad;
            if (f.num == 1)
                bucket = f.data;
            else if (f.num == 2)
                path = f.data;
            else if (f.num == 4)
                key_len = f.data.n;
            else if (f.num == 6 && pb_check(f.data) < 0)
                goto bad;
            break;
        case 5:
            if (f.wire != WIRE_VARINT)
                goto bad;
            break;
        default:
            break;
        }
    }
    if (rc < 0)
        goto bad;
    if (gi->nshared >= GRANT_MAX_ENTRIES) {
        set_error(err, E_BAD_SCOPE,
                  "The access grant has more than %d encryption "
                  "entries; share fewer paths in one grant.",
                  GRANT_MAX_ENTRIES);
        return -1;
    }
    /* storj.Key is exactly 32 bytes; uplink refuses anything else */
    if (key_len != KEY_SIZE)
        sc->bad_entry_key = true;
    sc->entry_keys++;
    sp = realloc(gi->shared, (gi->nshared + 1) * sizeof(*sp));
    if (!sp)
        goto nomem;
    gi->shared = sp;
    sp = &gi->shared[gi->nshared];
    memset(sp, 0, sizeof(*sp));
    if (owned_copy(&sp->bucket, bucket) < 0)
        goto nomem;
    gi->nshared++; /* from here on grant_info_free owns the copies */
    if (owned_copy(&sp->prefix, path) < 0)
        goto nomem;
    return 0;
bad:
    bad_structure(err, "encryption access");
    return -1;
nomem:
    set_error(err, E_NO_MEMORY, "Out of memory while decoding the grant.");
    return -1;
}

static int walk_access(struct bytes b, struct scope *sc, struct grant_info *gi,
                       struct grant_error *err)
{
    struct reader r = reader_of(b);
    struct pb_field f;
    int rc;

    while ((rc = pb_next(&r, &f)) > 0) {
        switch (f.num) {
        case 1:
            if (f.wire != WIRE_LEN)
                goto bad;
            sc->default_key_len = f.data.n;
            break;
        case 2:
            if (f.wire != WIRE_LEN)
                goto bad;
            if (walk_entry(f.data, sc, gi, err) < 0)
                return -1;
            break;
        case 3:
            if (f.wire != WIRE_VARINT)
                goto bad;
            /* an enum is an int32 on the wire */
            sc->path_cipher = (int32_t)(uint32_t)f.value;
            break;
        case 4:
            if (f.wire != WIRE_LEN || pb_check(f.data) < 0)
                goto bad;
            break;
        default:
            break;
        }
    }
    if (rc == 0)
        return 0;
bad:
    bad_structure(err, "encryption access");
    return -1;
}

static int walk_scope(struct bytes b, struct scope *sc, struct grant_info *gi,
                      struct grant_error *err)
{
    struct reader r = reader_of(b);
    struct pb_field f;
    int rc;

    while ((rc = pb_next(&r, &f)) > 0) {
        if (f.num < 1 || f.num > 3)
            continue;
        if (f.wire != WIRE_LEN)
            goto bad;
        if (f.num == 1)
            sc->satellite = f.data;
        else if (f.num == 2)
            sc->api_key = f.data;
        else if (walk_access(f.data, sc, gi, err) < 0)
            return -1;
    }
    if (rc == 0)
        return 0;
bad:
    bad_structure(err, "content");
    return -1;
}

/* ---------------------------------------------------------------- satellite */

static bool ascii_iequal(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

/* "host:port" or "[v6]:port" with a port from 1 to 65535. */
static bool valid_host_port(const char *s, size_t n)
{
    size_t colon, i;
    unsigned long port = 0;

    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);

        if (!close || close == s + 1)
            return false;
        for (const char *c = s + 1; c < close; c++)
            if (!(*c == ':' || *c == '.' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') ||
                  (*c >= 'A' && *c <= 'F')))
                return false;
        colon = (size_t)(close - s) + 1;
        if (colon >= n || s[colon] != ':')
            return false;
    } else {
        for (colon = 0; colon < n && s[colon] != ':'; colon++)
            if (!host_char(s[colon]))
                return false;
        if (colon == 0 || colon >= n)
            return false;
    }
    if (n - colon - 1 < 1 || n - colon - 1 > 5)
        return false;
    for (i = colon + 1; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        port = port * 10 + (unsigned long)(s[i] - '0');
    }
    return port >= 1 && port <= 65535;
}

/* A node ID is base58check of a version byte and 32 bytes; checking the
 * checksum catches a damaged address before any connection is tried. */
static bool valid_node_id(const char *s, size_t n)
{
    unsigned char buf[128];
    size_t len;

    if (n == 0 || n > sizeof(buf) || !b58_is_digits(s, n))
        return false;
    len = b58_decode((const unsigned char *)s, n, buf);
    return len == 1 + KEY_SIZE + CHECKSUM_SIZE && checksum_ok(buf, len) == 1;
}

/* satellite_addr is "[storj://]<node id>@host:port[?query]"; the node ID may
 * be left out for the known satellites (uplink fills it in). */
static int parse_satellite(struct bytes b, struct grant_info *gi, struct grant_error *err)
{
    char buf[GRANT_MAX_SATELLITE + 1];
    const char *s = buf, *id = NULL, *hp, *at, *q;
    const struct known_satellite *known = NULL;
    size_t n = b.n, id_len = 0, hp_len;

    if (n == 0) {
        set_error(err, E_NO_SATELLITE,
                  "The access grant has no satellite address; create "
                  "a new grant in the Storj console.");
        return -1;
    }
    if (n > GRANT_MAX_SATELLITE)
        goto bad;
    for (size_t i = 0; i < n; i++)
        if (b.p[i] < 0x21 || b.p[i] > 0x7e)
            goto bad;
    memcpy(buf, b.p, n);
    buf[n] = '\0';
    if (n > 8 && ascii_iequal(s, 8, "storj://")) {
        s += 8;
        n -= 8;
    }
    q = memchr(s, '?', n);
    if (q)
        n = (size_t)(q - s);
    at = memchr(s, '@', n);
    if (at) {
        id = s;
        id_len = (size_t)(at - s);
        hp = at + 1;
        hp_len = n - id_len - 1;
        if (!valid_node_id(id, id_len))
            goto bad;
    } else {
        hp = s;
        hp_len = n;
    }
    if (!valid_host_port(hp, hp_len))
        goto bad;
    for (size_t i = 0; i < sizeof(known_satellites) / sizeof(*known_satellites); i++)
        if (ascii_iequal(hp, hp_len, known_satellites[i].host))
            known = &known_satellites[i];
    if (!id) {
        if (!known) {
            set_error(err, E_BAD_SATELLITE,
                      "The access grant's satellite address has no "
                      "node ID and is not a known satellite; create "
                      "a new grant in the Storj console.");
            return -1;
        }
        id = known->id;
        id_len = strlen(id);
    } else if (known && (id_len != strlen(known->id) || memcmp(id, known->id, id_len) != 0)) {
        gi->id_mismatch = true;
    }
    gi->region = known ? known->region : NULL;
    gi->host = str_copy(hp, hp_len);
    gi->address = malloc(id_len + 1 + hp_len + 1);
    if (!gi->host || !gi->address) {
        set_error(err, E_NO_MEMORY, "Out of memory while decoding the grant.");
        return -1;
    }
    memcpy(gi->address, id, id_len);
    gi->address[id_len] = '@';
    memcpy(gi->address + id_len + 1, hp, hp_len);
    gi->address[id_len + 1 + hp_len] = '\0';
    return 0;
bad:
    set_error(err, E_BAD_SATELLITE,
              "The access grant's satellite address is malformed; create "
              "a new grant in the Storj console.");
    return -1;
}

/* ---------------------------------------------------------------- macaroon */

static int stamp_cmp(struct stamp a, struct stamp b)
{
    if (a.sec != b.sec)
        return a.sec < b.sec ? -1 : 1;
    if (a.nsec != b.nsec)
        return a.nsec < b.nsec ? -1 : 1;
    return 0;
}

static bool bytes_eq(struct bytes a, const char *p, size_t n)
{
    return a.n == n && (n == 0 || memcmp(a.p, p, n) == 0);
}

/* Path {bucket = 1, encrypted_path_prefix = 2}: records the bucket in the
 * caveat's set of distinct buckets. */
static int walk_path(struct bytes b, struct caveat *cv)
{
    struct reader r = reader_of(b);
    struct pb_field f;
    struct bytes bucket = {NULL, 0};
    int rc;

    while ((rc = pb_next(&r, &f)) > 0) {
        if (f.num != 1 && f.num != 2)
            continue;
        if (f.wire != WIRE_LEN)
            return -1;
        if (f.num == 1)
            bucket = f.data;
        else
            cv->prefix = cv->prefix || f.data.n > 0;
    }
    if (rc < 0 || ++cv->npaths > GRANT_MAX_PATHS)
        return -1;
    for (size_t i = 0; i < cv->nbuckets; i++)
        if (bytes_eq(cv->buckets[i], (const char *)bucket.p, bucket.n))
            return 0;
    cv->buckets[cv->nbuckets++] = bucket;
    return 0;
}

static bool stamp_in_range(struct stamp t)
{
    return t.sec >= STAMP_MIN && t.sec <= STAMP_MAX && t.nsec >= 0 && t.nsec <= NANOS_MAX;
}

static bool duration_in_range(struct stamp t)
{
    return t.sec >= -DURATION_MAX && t.sec <= DURATION_MAX && t.nsec >= -NANOS_MAX &&
           t.nsec <= NANOS_MAX;
}

static int walk_caveat(struct bytes b, struct caveat *cv)
{
    struct reader r = reader_of(b);
    struct pb_field f;
    int rc;

    while ((rc = pb_next(&r, &f)) > 0) {
        switch (f.num) {
        case 1:
        case 2:
        case 3:
        case 4:
            if (f.wire != WIRE_VARINT)
                return -1;
            if (f.num == 1)
                cv->no_read = f.value != 0;
            else if (f.num == 2)
                cv->no_write = f.value != 0;
            else if (f.num == 3)
                cv->no_list = f.value != 0;
            else
                cv->no_delete = f.value != 0;
            break;
        case 10:
            if (f.wire != WIRE_LEN || walk_path(f.data, cv) < 0)
                return -1;
            break;
        case 20:
            if (f.wire != WIRE_LEN || pb_stamp(f.data, &cv->not_after) < 0)
                return -1;
            cv->has_not_after = true;
            break;
        case 21:
            if (f.wire != WIRE_LEN || pb_stamp(f.data, &cv->not_before) < 0)
                return -1;
            cv->has_not_before = true;
            break;
        case 22:
            if (f.wire != WIRE_LEN || pb_stamp(f.data, &cv->ttl) < 0)
                return -1;
            cv->has_ttl = true;
            break;
        case 30:
            if (f.wire != WIRE_LEN)
                return -1;
            break;
        default:
            break;
        }
    }
    if (rc < 0)
        return -1;
    if ((cv->has_not_after && !stamp_in_range(cv->not_after)) ||
        (cv->has_not_before && !stamp_in_range(cv->not_before)) ||
        (cv->has_ttl && !duration_in_range(cv->ttl)))
        return -1;
    return 0;
}

/* Every caveat must allow an action, so restrictions intersect
 * (macaroon/apikey.go Check): any disallow wins, the earliest expiry, the
 * latest start, the shortest TTL, and only buckets every path-limited
 * caveat names. */
static int merge_caveat(struct grant_info *gi, const struct caveat *cv)
{
    gi->no_read |= cv->no_read;
    gi->no_write |= cv->no_write;
    gi->no_list |= cv->no_list;
    gi->no_delete |= cv->no_delete;
    if (cv->has_not_after && (!gi->has_not_after || stamp_cmp(cv->not_after, gi->not_after) < 0)) {
        gi->not_after = cv->not_after;
        gi->has_not_after = true;
    }
    if (cv->has_not_before &&
        (!gi->has_not_before || stamp_cmp(cv->not_before, gi->not_before) > 0)) {
        gi->not_before = cv->not_before;
        gi->has_not_before = true;
    }
    if (cv->has_ttl && (!gi->has_ttl || stamp_cmp(cv->ttl, gi->ttl) < 0)) {
        gi->ttl = cv->ttl;
        gi->has_ttl = true;
    }
    gi->prefix_restricted |= cv->prefix;
    if (cv->npaths == 0)
        return 0;
    if (!gi->limited) {
        gi->limited = true;
        gi->buckets = calloc(cv->nbuckets ? cv->nbuckets : 1, sizeof(*gi->buckets));
        if (!gi->buckets)
            return -1;
        for (size_t i = 0; i < cv->nbuckets; i++) {
            if (owned_copy(&gi->buckets[i], cv->buckets[i]) < 0)
                return -1;
            gi->nbuckets++;
        }
        return 0;
    }
    size_t kept = 0;

    for (size_t i = 0; i < gi->nbuckets; i++) {
        bool found = false;

        for (size_t j = 0; j < cv->nbuckets && !found; j++)
            found = bytes_eq(cv->buckets[j], gi->buckets[i].p, gi->buckets[i].n);
        if (found)
            gi->buckets[kept++] = gi->buckets[i];
        else
            free(gi->buckets[i].p);
    }
    gi->nbuckets = kept;
    return 0;
}

struct packet {
    uint64_t type;
    struct bytes data;
};

/* One packet: uvarint type, and unless it is end-of-section, uvarint length
 * and the data. */
static int mac_packet(struct reader *r, struct packet *pk)
{
    uint64_t n;

    if (read_varint(r, &pk->type) < 0 || pk->type > MAC_MAX_VALUE)
        return -1;
    pk->data.p = NULL;
    pk->data.n = 0;
    if (pk->type == MAC_EOS)
        return 0;
    if (read_varint(r, &n) < 0 || n > MAC_MAX_VALUE || n > (uint64_t)(r->end - r->p))
        return -1;
    pk->data.p = r->p;
    pk->data.n = (size_t)n;
    r->p += n;
    return 0;
}

/* A section: packets with strictly increasing types up to an end packet.
 * No valid section has more than MAC_SECTION_MAX packets. */
static int mac_section(struct reader *r, struct packet *pk, size_t *np)
{
    struct packet p;

    *np = 0;
    for (;;) {
        if (r->p == r->end || mac_packet(r, &p) < 0)
            return -1;
        if (p.type == MAC_EOS)
            return 0;
        if (*np > 0 && p.type <= pk[*np - 1].type)
            return -1;
        if (*np == MAC_SECTION_MAX)
            return -1;
        pk[(*np)++] = p;
    }
}

static void bad_macaroon(struct grant_error *err, const char *what)
{
    set_error(err, E_BAD_MACAROON,
              "The access grant's API key %s; copy the grant again or "
              "create a new one.",
              what);
}

/* ParseMacaroon (storj/common macaroon/serialize.go), then every caveat. */
static int parse_macaroon(struct bytes b, struct grant_info *gi, struct grant_error *err)
{
    struct reader r = reader_of(b);
    struct packet pk[MAC_SECTION_MAX], sig;
    struct caveat cv;
    struct bytes *slots = NULL;
    size_t np, i;
    int ret = -1;

    if (b.n == 0) {
        bad_macaroon(err, "is missing");
        goto out;
    }
    if (b.n < 2 || b.p[0] != MAC_VERSION) {
        bad_macaroon(err, "has an unsupported version");
        goto out;
    }
    r.p++;
    if (mac_section(&r, pk, &np) < 0)
        goto malformed;
    i = (np > 0 && pk[0].type == MAC_LOCATION) ? 1 : 0;
    if (np - i != 1 || pk[i].type != MAC_IDENTIFIER)
        goto malformed;
    slots = malloc(GRANT_MAX_PATHS * sizeof(*slots));
    if (!slots) {
        set_error(err, E_NO_MEMORY, "Out of memory while decoding the grant.");
        goto out;
    }
    for (;;) {
        if (mac_section(&r, pk, &np) < 0)
            goto malformed;
        if (np == 0)
            break;
        if (gi->caveats == GRANT_MAX_CAVEATS) {
            bad_macaroon(err, "has too many caveats");
            goto out;
        }
        i = pk[0].type == MAC_LOCATION ? 1 : 0;
        if (i >= np || pk[i].type != MAC_IDENTIFIER)
            goto malformed;
        if (np - i > 2 || (np - i == 2 && pk[i + 1].type != MAC_VID))
            goto malformed;
        memset(&cv, 0, sizeof(cv));
        cv.buckets = slots;
        if (walk_caveat(pk[i].data, &cv) < 0) {
            set_error(err, E_BAD_CAVEAT,
                      "Restriction %zu of the access grant is "
                      "malformed; copy the grant again or create a "
                      "new one.",
                      gi->caveats + 1);
            goto out;
        }
        gi->caveats++;
        if (merge_caveat(gi, &cv) < 0) {
            set_error(err, E_NO_MEMORY, "Out of memory while decoding the grant.");
            goto out;
        }
    }
    if (r.p == r.end || mac_packet(&r, &sig) < 0 || sig.type != MAC_SIGNATURE)
        goto malformed;
    if (sig.data.n != KEY_SIZE) {
        bad_macaroon(err, "has a signature of the wrong length");
        goto out;
    }
    ret = 0;
    goto out;
malformed:
    bad_macaroon(err, "is malformed");
out:
    free(slots);
    return ret;
}

/* ---------------------------------------------------------------- decode */

/* Scope, then the checks uplink's ParseAccess makes in the same order. */
static int parse_payload(struct bytes payload, struct grant_info *gi, struct grant_error *err)
{
    struct scope sc;

    memset(&sc, 0, sizeof(sc));
    if (walk_scope(payload, &sc, gi, err) < 0)
        return -1;
    if (parse_satellite(sc.satellite, gi, err) < 0)
        return -1;
    if (parse_macaroon(sc.api_key, gi, err) < 0)
        return -1;
    if ((sc.default_key_len != 0 && sc.default_key_len != KEY_SIZE) || sc.bad_entry_key) {
        set_error(err, E_BAD_KEY_LENGTH,
                  "An encryption key in the access grant is not %d "
                  "bytes long; copy the grant again or create a new "
                  "one.",
                  KEY_SIZE);
        return -1;
    }
    gi->keys = sc.entry_keys + (sc.default_key_len ? 1 : 0);
    gi->path_cipher = sc.path_cipher;
    return 0;
}

struct grant_info *grant_decode(const char *text, struct grant_error *err)
{
    struct grant_error scratch;
    struct grant_info *gi = NULL, *result = NULL;
    const unsigned char *start;
    unsigned char *raw = NULL;
    size_t len = 0, raw_len;
    struct bytes payload;
    int ok;

    if (!err)
        err = &scratch;
    err->code = E_NONE;
    err->message[0] = '\0';
    if (!text) {
        set_error(err, E_EMPTY, "No access grant was entered.");
        goto out;
    }
    if (check_text(text, &start, &len, err) < 0)
        goto out;
    raw = malloc(len);
    if (!raw)
        goto nomem;
    raw_len = b58_decode(start, len, raw);
    if (raw_len < 1 + CHECKSUM_SIZE + 1) {
        set_error(err, E_TRUNCATED,
                  "The text is too short to be an access grant; copy "
                  "the whole grant (a few hundred characters).");
        goto out;
    }
    ok = checksum_ok(raw, raw_len);
    if (ok < 0)
        goto nomem;
    if (!ok) {
        set_error(err, E_BAD_CHECKSUM,
                  "The access grant's checksum does not match, so it "
                  "was cut short or changed while copying; copy the "
                  "whole grant again.");
        goto out;
    }
    if (raw[0] != 0) {
        set_error(err, E_BAD_VERSION,
                  "This is base58check data of version %u, not an "
                  "access grant (version 0); paste the access grant.",
                  (unsigned)raw[0]);
        goto out;
    }
    payload.p = raw + 1;
    payload.n = raw_len - 1 - CHECKSUM_SIZE;
    /* A Scope starts with a field tag; 0x02 is the macaroon version. */
    if (payload.p[0] == MAC_VERSION) {
        set_error(err, E_API_KEY_NOT_GRANT,
                  "This is a Storj API key, not an access grant; "
                  "create an access grant (it includes the API key "
                  "and the encryption passphrase) and paste that.");
        goto out;
    }
    gi = calloc(1, sizeof(*gi));
    if (!gi)
        goto nomem;
    if (parse_payload(payload, gi, err) < 0)
        goto out;
    result = gi;
    gi = NULL;
    goto out;
nomem:
    set_error(err, E_NO_MEMORY, "Out of memory while decoding the grant.");
out:
    if (raw) {
        OPENSSL_cleanse(raw, len);
        free(raw);
    }
    grant_info_free(gi);
    return result;
}

void grant_info_free(struct grant_info *gi)
{
    if (!gi)
        return;
    free(gi->address);
    free(gi->host);
    for (size_t i = 0; i < gi->nbuckets; i++)
        free(gi->buckets[i].p);
    free(gi->buckets);
    for (size_t i = 0; i < gi->nshared; i++) {
        free(gi->shared[i].bucket.p);
        free(gi->shared[i].prefix.p);
    }
    free(gi->shared);
    free(gi);
}

const char *grant_satellite_host(const struct grant_info *gi)
{
    return gi->host;
}

const char *grant_satellite_address(const struct grant_info *gi)
{
    return gi->address;
}

const char *grant_satellite_region(const struct grant_info *gi)
{
    return gi->region;
}

bool grant_not_after(const struct grant_info *gi, time_t *when)
{
    if (!gi->has_not_after)
        return false;
    *when = (time_t)(gi->not_after.sec + (gi->not_after.nsec > 0));
    return true;
}

size_t grant_caveat_count(const struct grant_info *gi)
{
    return gi->caveats;
}

/* ---------------------------------------------------------------- report */

/* RFC 3339 in UTC, with a fraction only when there is one. The range was
 * checked at decode time (years 1 to 9999). */
static void format_stamp(struct stamp t, char *buf, size_t size)
{
    int64_t days = t.sec / 86400, rem = t.sec % 86400;
    int64_t z, era, doe, yoe, doy, mp, y, m, d;
    char frac[16] = "";

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    /* civil_from_days, Howard Hinnant's proleptic Gregorian algorithm */
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = yoe + era * 400 + (m <= 2);
    if (t.nsec > 0) {
        int digits = 9;
        int32_t ns = t.nsec;

        while (ns % 10 == 0) {
            ns /= 10;
            digits--;
        }
        snprintf(frac, sizeof(frac), ".%0*" PRId32, digits, ns);
    }
    snprintf(buf, size,
             "%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02" PRId64 ":%02" PRId64 ":%02" PRId64
             "%sZ",
             y, m, d, rem / 3600, rem / 60 % 60, rem % 60, frac);
}

static void format_duration(struct stamp t, char *buf, size_t size)
{
    int64_t s = t.sec;

    if (t.nsec != 0 || s == 0 || s % 60 != 0)
        snprintf(buf, size, "%" PRId64 " seconds", s);
    else if (s % 86400 == 0)
        snprintf(buf, size, "%" PRId64 " day%s", s / 86400, s == 86400 ? "" : "s");
    else if (s % 3600 == 0)
        snprintf(buf, size, "%" PRId64 " hour%s", s / 3600, s == 3600 ? "" : "s");
    else
        snprintf(buf, size, "%" PRId64 " minutes", s / 60);
}

/* Bytes from the grant as a JSON string: as they are when they are UTF-8
 * (bucket names, object paths), with \xNN for any byte that is not. */
static json_t *json_bytes(const struct owned *o)
{
    json_t *j;
    char *esc;
    size_t k = 0;

    j = json_stringn(o->p, o->n);
    if (j)
        return j;
    esc = malloc(o->n * 4 + 1);
    if (!esc)
        return NULL;
    for (size_t i = 0; i < o->n; i++) {
        unsigned char c = (unsigned char)o->p[i];

        if (c >= 0x20 && c < 0x7f && c != '\\') {
            esc[k++] = (char)c;
        } else {
            snprintf(esc + k, 5, "\\x%02x", c);
            k += 4;
        }
    }
    esc[k] = '\0';
    j = json_string(esc);
    free(esc);
    return j;
}

static int warn(json_t *list, const char *code, const char *fmt, ...) PRINTF_LIKE(3, 4);

static int warn(json_t *list, const char *code, const char *fmt, ...)
{
    char msg[GRANT_WARN_MESSAGE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return json_array_append_new(list, json_pack("{s:s,s:s}", "code", code, "message", msg));
}

static const char *cipher_name(int32_t c)
{
    switch (c) {
    case ENC_NULL:
        return "none";
    case ENC_UNSPECIFIED: /* older grants; uplink reads it as AES-GCM */
    case ENC_AESGCM:
        return "aes-gcm";
    case ENC_SECRETBOX:
        return "secretbox";
    default:
        return "unknown";
    }
}

#define PUSH_NEEDS "a registry push needs read, write, list and delete"

static int add_warnings(const struct grant_info *gi, const char *bucket, time_t now, json_t *w)
{
    char when[64], ttl[64];
    int64_t t = (int64_t)now;
    bool expired = false;
    int rc = 0;

    if (gi->has_not_after) {
        format_stamp(gi->not_after, when, sizeof(when));
        /* valid through not_after itself (apikey.go: now.After) */
        expired = t > gi->not_after.sec;
        if (expired)
            rc |= warn(w, "expired",
                       "The grant expired at %s; create a new access "
                       "grant without an expiry date (or a later one) "
                       "and enter it here.",
                       when);
        else if (t <= INT64_MAX - GRANT_SOON_SECONDS && gi->not_after.sec <= t + GRANT_SOON_SECONDS)
            rc |= warn(w, "expires_soon",
                       "The grant expires at %s, within 7 days, and "
                       "the registry stops working then; create a "
                       "grant without an expiry date or a later one.",
                       when);
    }
    if (gi->has_not_before &&
        (t < gi->not_before.sec || (t == gi->not_before.sec && gi->not_before.nsec > 0))) {
        format_stamp(gi->not_before, when, sizeof(when));
        rc |= warn(w, "not_yet_valid",
                   "The grant only becomes valid at %s; wait until then "
                   "or create a grant without a start date.",
                   when);
    }
    if (gi->no_read)
        rc |= warn(w, "cannot_read",
                   "The grant does not allow reading objects; " PUSH_NEEDS
                   " (a pull needs read and list), so create a grant "
                   "with all four permissions.");
    if (gi->no_write)
        rc |= warn(w, "cannot_write",
                   "The grant does not allow writing objects; " PUSH_NEEDS
                   ", so create a grant with all four permissions.");
    if (gi->no_list)
        rc |= warn(w, "cannot_list",
                   "The grant does not allow listing objects; " PUSH_NEEDS
                   " (a pull needs read and list), so create a grant "
                   "with all four permissions.");
    if (gi->no_delete)
        rc |= warn(w, "cannot_delete",
                   "The grant does not allow deleting objects; " PUSH_NEEDS
                   " (it moves uploads into place and overwrites tags), "
                   "so create a grant with all four permissions.");
    if (gi->limited && gi->nbuckets == 0) {
        rc |= warn(w, "no_buckets",
                   "The grant's restrictions name no bucket in common, "
                   "so it can reach no bucket at all; create a grant "
                   "for the bucket the registry should use.");
    } else if (gi->limited && bucket && *bucket) {
        bool found = false;
        size_t n = strlen(bucket);

        for (size_t i = 0; i < gi->nbuckets && !found; i++)
            found = gi->buckets[i].n == n && memcmp(gi->buckets[i].p, bucket, n) == 0;
        if (!found)
            rc |= warn(w, "bucket_not_allowed",
                       "The grant is limited to other buckets than "
                       "the one entered; use one of its buckets or "
                       "create a grant that includes this one.");
    }
    if (gi->prefix_restricted)
        rc |= warn(w, "prefix_restricted",
                   "The grant is limited to paths inside its buckets, "
                   "but the registry writes under docker/registry/v2/ "
                   "from the bucket root; create a grant for whole "
                   "buckets.");
    if (gi->has_ttl) {
        format_duration(gi->ttl, ttl, sizeof(ttl));
        rc |= warn(w, "objects_expire",
                   "The grant gives every uploaded object a lifetime of "
                   "at most %s, so Storj would delete image layers "
                   "automatically; create a grant without an object "
                   "TTL.",
                   ttl);
    }
    if (gi->path_cipher != ENC_NULL)
        rc |= warn(w, "path_encryption",
                   "Object keys are encrypted with this grant (self-managed "
                   "encryption): through Storj's S3 gateways (\"Storj "
                   "(recommended)\", \"Storj hosted gateway\") a registry's "
                   "look-ups of new layers are slow or refused; use "
                   "unencrypted object keys for this registry.");
    if (gi->keys == 0)
        rc |= warn(w, "no_encryption_key",
                   "The grant carries no encryption key, so objects "
                   "cannot be stored or read with it; create the grant "
                   "again with an encryption passphrase.");
    if (gi->id_mismatch)
        rc |= warn(w, "satellite_id_mismatch",
                   "The satellite's node ID is not the one the known "
                   "%s satellite uses, so connections would be "
                   "refused; copy the grant again from the Storj "
                   "console.",
                   gi->region);
    return rc ? -1 : 0;
}

json_t *grant_report(const struct grant_info *gi, const char *bucket, time_t now)
{
    json_t *r = NULL, *list = NULL, *result = NULL;
    char buf[64];

    r = json_object();
    if (!r)
        goto out;
    if (json_object_set_new(r, "satellite",
                            json_pack("{s:s,s:s,s:s?}", "address", gi->address, "host", gi->host,
                                      "region", gi->region)) ||
        json_object_set_new(r, "permissions",
                            json_pack("{s:b,s:b,s:b,s:b}", "read", !gi->no_read, "write",
                                      !gi->no_write, "list", !gi->no_list, "delete",
                                      !gi->no_delete)))
        goto out;

    /* set first: r owns list from here on, even when appending fails */
    list = gi->limited ? json_array() : json_null();
    if (json_object_set_new(r, "buckets", list))
        goto out;
    for (size_t i = 0; gi->limited && i < gi->nbuckets; i++)
        if (json_array_append_new(list, json_bytes(&gi->buckets[i])))
            goto out;

    if (gi->has_not_after)
        format_stamp(gi->not_after, buf, sizeof(buf));
    if (json_object_set_new(r, "notAfter", gi->has_not_after ? json_string(buf) : json_null()))
        goto out;
    if (gi->has_not_before)
        format_stamp(gi->not_before, buf, sizeof(buf));
    if (json_object_set_new(r, "notBefore", gi->has_not_before ? json_string(buf) : json_null()))
        goto out;
    if (json_object_set_new(r, "maxObjectTTL",
                            !gi->has_ttl ? json_null()
                            : gi->ttl.nsec == 0
                                ? json_integer(gi->ttl.sec)
                                : json_real((double)gi->ttl.sec + gi->ttl.nsec / 1e9)))
        goto out;
    if (json_object_set_new(r, "pathEncryption", json_string(cipher_name(gi->path_cipher))) ||
        json_object_set_new(r, "pathCipher", json_integer(gi->path_cipher)) ||
        json_object_set_new(r, "caveats", json_integer((json_int_t)gi->caveats)) ||
        json_object_set_new(r, "prefixRestricted", json_boolean(gi->prefix_restricted)) ||
        json_object_set_new(r, "encryptionKeys", json_integer((json_int_t)gi->keys)))
        goto out;

    list = json_array();
    if (json_object_set_new(r, "sharedPaths", list))
        goto out;
    for (size_t i = 0; i < gi->nshared; i++)
        if (json_array_append_new(list, json_pack("{s:o,s:o}", "bucket",
                                                  json_bytes(&gi->shared[i].bucket), "prefix",
                                                  json_bytes(&gi->shared[i].prefix))))
            goto out;

    list = json_array();
    if (json_object_set_new(r, "warnings", list))
        goto out;
    if (add_warnings(gi, bucket, now, list) < 0)
        goto out;

    result = r;
    r = NULL;
out:
    json_decref(r);
    return result;
}

/* ---------------------------------------------------------------- derive */

/* A growable byte buffer for the encoder; its bytes are wiped when freed,
 * since they hold the grant's keys. */
struct wbuf {
    unsigned char *p;
    size_t n, cap;
    bool failed;
};

static void wbuf_free(struct wbuf *b)
{
    if (b->p) {
        OPENSSL_cleanse(b->p, b->cap);
        free(b->p);
    }
    memset(b, 0, sizeof(*b));
}

static void wbuf_put(struct wbuf *b, const void *p, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        unsigned char *q;

        while (cap < b->n + n)
            cap *= 2;
        /* no realloc: the old block holds key bytes and must be wiped */
        q = malloc(cap);
        if (!q) {
            b->failed = true;
            return;
        }
        if (b->n)
            memcpy(q, b->p, b->n);
        if (b->p) {
            OPENSSL_cleanse(b->p, b->cap);
            free(b->p);
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void wbuf_varint(struct wbuf *b, uint64_t v)
{
    unsigned char tmp[VARINT_MAX_LEN];
    size_t k = 0;

    do {
        tmp[k] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[k] |= 0x80;
        k++;
    } while (v);
    wbuf_put(b, tmp, k);
}

static void wbuf_len_field(struct wbuf *b, uint32_t num, const void *p, size_t n)
{
    wbuf_varint(b, ((uint64_t)num << 3) | WIRE_LEN);
    wbuf_varint(b, n);
    wbuf_put(b, p, n);
}

static void wbuf_varint_field(struct wbuf *b, uint32_t num, uint64_t v)
{
    wbuf_varint(b, ((uint64_t)num << 3) | WIRE_VARINT);
    wbuf_varint(b, v);
}

/*
 * StoreEntry with path_cipher = ENC_NULL (5) and encrypted_path (3) equal to
 * unencrypted_path (2). Every other field, known or not, is copied as it
 * was, in its place; the two rewritten fields take the place of their first
 * occurrence (or of the first field numbered above them when absent), as a
 * protobuf encoder writing in field order would. A proto3 encoder leaves
 * empty bytes out, so an empty path gives no field 3.
 */
static int derive_entry(struct bytes in, struct wbuf *out)
{
    struct reader r = reader_of(in);
    struct pb_field f;
    struct bytes plain = {NULL, 0};
    bool put3 = false, put5 = false;
    const unsigned char *start;
    int rc;

    /* the plaintext path first: field 3 may come before field 2 */
    while ((rc = pb_next(&r, &f)) > 0)
        if (f.num == 2 && f.wire == WIRE_LEN)
            plain = f.data;
    if (rc < 0)
        return -1;
    r = reader_of(in);
    for (;;) {
        start = r.p;
        rc = pb_next(&r, &f);
        if (rc < 0)
            return -1;
        if (!put3 && (rc == 0 || f.num >= 3)) {
            if (plain.n)
                wbuf_len_field(out, 3, plain.p, plain.n);
            put3 = true;
        }
        if (!put5 && (rc == 0 || f.num >= 5)) {
            wbuf_varint_field(out, 5, ENC_NULL);
            put5 = true;
        }
        if (rc == 0)
            return 0;
        if (f.num == 3 || f.num == 5)
            continue;
        wbuf_put(out, start, (size_t)(r.p - start));
    }
}

/* EncryptionAccess with default_path_cipher (3) = ENC_NULL and every store
 * entry (2) rewritten by derive_entry. */
static int derive_access(struct bytes in, struct wbuf *out)
{
    struct reader r = reader_of(in);
    struct pb_field f;
    bool put3 = false;
    const unsigned char *start;
    int rc;

    for (;;) {
        start = r.p;
        rc = pb_next(&r, &f);
        if (rc < 0)
            return -1;
        if (!put3 && (rc == 0 || f.num >= 3)) {
            wbuf_varint_field(out, 3, ENC_NULL);
            put3 = true;
        }
        if (rc == 0)
            return 0;
        if (f.num == 3)
            continue;
        if (f.num == 2) {
            struct wbuf entry = {0};

            if (f.wire != WIRE_LEN || derive_entry(f.data, &entry) < 0) {
                wbuf_free(&entry);
                return -1;
            }
            if (entry.failed) {
                wbuf_free(&entry);
                out->failed = true;
                return 0;
            }
            wbuf_len_field(out, 2, entry.p, entry.n);
            wbuf_free(&entry);
            continue;
        }
        wbuf_put(out, start, (size_t)(r.p - start));
    }
}

/* Scope with its encryption access (3) rewritten; the satellite (1), the
 * API key (2) and anything else are copied byte for byte. */
static int derive_scope(struct bytes in, struct wbuf *out)
{
    struct reader r = reader_of(in);
    struct pb_field f;
    bool put3 = false;
    const unsigned char *start;
    int rc;

    for (;;) {
        start = r.p;
        rc = pb_next(&r, &f);
        if (rc < 0)
            return -1;
        if (rc > 0 && f.num == 3) {
            struct wbuf acc = {0};

            /* protobuf merges a message field that occurs twice: rewriting
             * each occurrence rewrites the merged message */
            if (f.wire != WIRE_LEN || derive_access(f.data, &acc) < 0) {
                wbuf_free(&acc);
                return -1;
            }
            wbuf_len_field(out, 3, acc.p ? acc.p : (const unsigned char *)"", acc.n);
            out->failed |= acc.failed;
            wbuf_free(&acc);
            put3 = true;
            continue;
        }
        if (!put3 && (rc == 0 || f.num > 3)) {
            /* a grant without encryption access: one that says ENC_NULL */
            unsigned char acc[2] = {(3 << 3) | WIRE_VARINT, ENC_NULL};

            wbuf_len_field(out, 3, acc, sizeof(acc));
            put3 = true;
        }
        if (rc == 0)
            return 0;
        wbuf_put(out, start, (size_t)(r.p - start));
    }
}

/* base58 of raw (the Bitcoin alphabet); a new string, or NULL. The digits
 * are worked out in a scratch array that is wiped, as raw holds keys. */
static char *b58_encode(const unsigned char *raw, size_t n)
{
    static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    size_t zeros = 0, size, start, j;
    unsigned char *digits;
    char *out;

    while (zeros < n && raw[zeros] == 0)
        zeros++;
    /* log(256) / log(58) < 1.38 */
    size = (n - zeros) * 138 / 100 + 1;
    digits = calloc(size, 1);
    out = malloc(zeros + size + 1);
    if (!digits || !out) {
        free(digits);
        free(out);
        return NULL;
    }
    start = size;
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = raw[i];

        for (j = size; j > start || carry; j--) {
            carry += 256u * digits[j - 1];
            digits[j - 1] = (unsigned char)(carry % 58);
            carry /= 58;
        }
        start = j;
    }
    memset(out, '1', zeros);
    for (j = start; j < size; j++)
        out[zeros + j - start] = alphabet[digits[j]];
    out[zeros + size - start] = '\0';
    OPENSSL_cleanse(digits, size);
    free(digits);
    return out;
}

char *grant_derive_unencrypted(const char *text, struct grant_error *err)
{
    struct grant_error scratch;
    struct grant_info *gi;
    const unsigned char *start;
    unsigned char *raw = NULL, h1[EVP_MAX_MD_SIZE], h2[EVP_MAX_MD_SIZE];
    unsigned int l1 = 0, l2 = 0;
    size_t len = 0, raw_len;
    struct wbuf out = {0};
    char *result = NULL;

    if (!err)
        err = &scratch;
    /* every check of the decoder first: only a usable grant is rewritten */
    gi = grant_decode(text, err);
    if (!gi)
        return NULL;
    grant_info_free(gi);
    if (check_text(text, &start, &len, err) < 0)
        return NULL;
    raw = malloc(len);
    if (!raw)
        goto nomem;
    raw_len = b58_decode(start, len, raw);
    wbuf_put(&out, "", 1); /* version 0 */
    if (derive_scope((struct bytes){raw + 1, raw_len - 1 - CHECKSUM_SIZE}, &out) < 0) {
        bad_structure(err, "encryption access");
        goto out;
    }
    if (out.failed || !EVP_Digest(out.p, out.n, h1, &l1, EVP_sha256(), NULL) ||
        !EVP_Digest(h1, l1, h2, &l2, EVP_sha256(), NULL))
        goto nomem;
    wbuf_put(&out, h2, CHECKSUM_SIZE);
    if (out.failed)
        goto nomem;
    result = b58_encode(out.p, out.n);
    if (!result)
        goto nomem;
    goto out;
nomem:
    set_error(err, E_NO_MEMORY, "Out of memory while rewriting the grant.");
out:
    if (raw) {
        OPENSSL_cleanse(raw, len);
        free(raw);
    }
    OPENSSL_cleanse(h1, sizeof(h1));
    wbuf_free(&out);
    return result;
}

bool grant_keys_unencrypted(const struct grant_info *gi)
{
    return gi->path_cipher == ENC_NULL;
}

bool grant_allows(const struct grant_info *gi, bool *read, bool *write, bool *list, bool *del)
{
    *read = !gi->no_read;
    *write = !gi->no_write;
    *list = !gi->no_list;
    *del = !gi->no_delete;
    return *read && *write && *list && *del;
}

bool grant_bucket_allowed(const struct grant_info *gi, const char *bucket)
{
    size_t n = strlen(bucket);

    if (!gi->limited)
        return true;
    for (size_t i = 0; i < gi->nbuckets; i++)
        if (gi->buckets[i].n == n && memcmp(gi->buckets[i].p, bucket, n) == 0)
            return true;
    return false;
}
