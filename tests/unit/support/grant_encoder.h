/*
 * tenc: a test-side encoder for Storj access grants and API keys.
 *
 * It writes the documented format (shared/reference/storj.md section 1)
 * independently of backend/grant.c, so tests can build grants with any
 * caveat, damage them on purpose, and check the decoder against it: the
 * synthetic sample grant in storj.md is reproduced byte for byte.
 *
 * Every function returns memory the caller frees with free(); NULL only when
 * memory runs out.
 */
#ifndef TENC_GRANT_ENCODER_H
#define TENC_GRANT_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer. */
struct tenc_buf {
	unsigned char *data;
	size_t len;
	size_t cap;
	bool failed;   /* an allocation failed; data is then unusable */
};

void tenc_buf_free(struct tenc_buf *b);
void tenc_put_bytes(struct tenc_buf *b, const void *p, size_t n);
void tenc_put_varint(struct tenc_buf *b, uint64_t v);
/* protobuf fields */
void tenc_put_tag(struct tenc_buf *b, uint32_t field, int wire);
void tenc_put_varint_field(struct tenc_buf *b, uint32_t field, uint64_t v);
void tenc_put_len_field(struct tenc_buf *b, uint32_t field, const void *p,
			size_t n);
/* One unknown field of each skippable wire type (0, 1, 2, 5), numbered
 * from base, to check that decoders skip them. */
void tenc_put_unknown_fields(struct tenc_buf *b, uint32_t base);

struct tenc_path {
	const char *bucket;   /* NULL: field left out */
	const char *prefix;   /* encrypted_path_prefix; NULL: left out */
};

struct tenc_time {
	bool set;
	int64_t seconds;
	int32_t nanos;
};

struct tenc_caveat {
	bool disallow_reads, disallow_writes, disallow_lists, disallow_deletes;
	const struct tenc_path *paths;
	size_t npaths;
	struct tenc_time not_after;    /* field 20 */
	struct tenc_time not_before;   /* field 21 */
	struct tenc_time max_ttl;      /* field 22, a Duration */
	const unsigned char *nonce;    /* field 30 */
	size_t nonce_len;
	bool unknown_fields;           /* add fields the decoder must skip */
	/* raw caveat bytes to use instead of the fields above */
	const unsigned char *raw;
	size_t raw_len;
};

struct tenc_entry {
	const char *bucket;
	const char *unencrypted_path;
	const char *encrypted_path;
	const unsigned char *key;      /* key_len bytes, 32 when valid */
	size_t key_len;
	int path_cipher;               /* -1: left out */
};

struct tenc_grant {
	const char *satellite;          /* NULL: field left out */
	const unsigned char *head;      /* 32 bytes; NULL: 32 x 0x01 */
	size_t head_len;                /* 0 with head NULL */
	const char *location;           /* optional header location packet */
	const struct tenc_caveat *caveats;
	size_t ncaveats;
	const unsigned char *tail;      /* NULL: 32 x 0x07 */
	size_t tail_len;
	int mac_version;                /* 0 means 2 */
	bool no_api_key;                /* leave Scope field 2 out */
	const unsigned char *raw_api_key;  /* use these bytes as the API key */
	size_t raw_api_key_len;
	bool no_encryption_access;      /* leave Scope field 3 out */
	const unsigned char *default_key;  /* NULL: left out */
	size_t default_key_len;
	const struct tenc_entry *entries;
	size_t nentries;
	int path_cipher;                /* default_path_cipher; -1: left out */
	bool unknown_fields;            /* unknown fields in Scope and access */
};

/* Caveat protobuf bytes. */
unsigned char *tenc_caveat_bytes(const struct tenc_caveat *c, size_t *len);
/* Raw macaroon bytes (an API key before base58check). */
unsigned char *tenc_macaroon(const struct tenc_grant *g, size_t *len);
/* Scope protobuf bytes (a grant's payload). */
unsigned char *tenc_scope(const struct tenc_grant *g, size_t *len);

/* base58check: version || payload || first 4 bytes of SHA256(SHA256(..)),
 * as a NUL-terminated string. */
char *tenc_base58check(unsigned char version, const unsigned char *payload,
		       size_t len);
/* Plain base58 of bytes. */
char *tenc_base58(const unsigned char *p, size_t len);
/* Decodes base58 (no checksum check); NULL on a bad character. */
unsigned char *tenc_base58_decode(const char *s, size_t *len);
/* Decodes base58check into a new payload; NULL when the checksum or the
 * characters are wrong. */
unsigned char *tenc_base58check_decode(const char *s, size_t *len,
				       unsigned char *version);

/* The access grant text and the API key text for g. */
char *tenc_grant(const struct tenc_grant *g);
char *tenc_api_key(const struct tenc_grant *g);

/* Lower-case hex of bytes. */
char *tenc_hex(const unsigned char *p, size_t len, bool upper);
/* Base64 of bytes, standard or URL-safe, without padding. */
char *tenc_base64(const unsigned char *p, size_t len, bool url);

#endif /* TENC_GRANT_ENCODER_H */
