/*
 * tenc: test-side encoder for Storj access grants (see grant_encoder.h).
 *
 * Written from the format description, not from backend/grant.c, so that
 * the two check each other. Fields are written in field-number order with
 * proto3 zero values left out, as picobuf does, which makes the output
 * byte-identical to grants made by uplink for the same contents.
 */
#include "grant_encoder.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define TENC_KEY_SIZE 32

static const char tenc_alphabet[] =
	"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

void tenc_buf_free(struct tenc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void tenc_put_bytes(struct tenc_buf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		unsigned char *d = realloc(b->data, cap);

		if (!d) {
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

void tenc_put_varint(struct tenc_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	do {
		tmp[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	tenc_put_bytes(b, tmp, n);
}

void tenc_put_tag(struct tenc_buf *b, uint32_t field, int wire)
{
	tenc_put_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

void tenc_put_varint_field(struct tenc_buf *b, uint32_t field, uint64_t v)
{
	tenc_put_tag(b, field, 0);
	tenc_put_varint(b, v);
}

void tenc_put_len_field(struct tenc_buf *b, uint32_t field, const void *p,
			size_t n)
{
	tenc_put_tag(b, field, 2);
	tenc_put_varint(b, n);
	tenc_put_bytes(b, p, n);
}

void tenc_put_unknown_fields(struct tenc_buf *b, uint32_t base)
{
	static const unsigned char eight[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	tenc_put_varint_field(b, base, 300);
	tenc_put_tag(b, base + 1, 1);
	tenc_put_bytes(b, eight, 8);
	tenc_put_len_field(b, base + 2, "xyz", 3);
	tenc_put_tag(b, base + 3, 5);
	tenc_put_bytes(b, eight, 4);
	/* a large field number and a 10-byte varint */
	tenc_put_varint_field(b, 536870911, UINT64_MAX);
}

static unsigned char *tenc_take(struct tenc_buf *b, size_t *len)
{
	if (b->failed) {
		tenc_buf_free(b);
		return NULL;
	}
	if (!b->data)
		tenc_put_bytes(b, "", 0);   /* an empty message still allocates */
	if (b->failed) {
		tenc_buf_free(b);
		return NULL;
	}
	*len = b->len;
	return b->data;
}

/* Timestamp and Duration: {int64 seconds = 1; int32 nanos = 2}. */
static void tenc_put_time(struct tenc_buf *b, uint32_t field,
			  const struct tenc_time *t, bool unknown)
{
	struct tenc_buf m = { 0 };

	if (!t->set)
		return;
	if (t->seconds)
		tenc_put_varint_field(&m, 1, (uint64_t)t->seconds);
	if (t->nanos)
		/* negative int32s are sign-extended to ten bytes */
		tenc_put_varint_field(&m, 2, (uint64_t)(int64_t)t->nanos);
	if (unknown)
		tenc_put_unknown_fields(&m, 5);
	if (m.failed)
		b->failed = true;
	tenc_put_len_field(b, field, m.data, m.len);
	tenc_buf_free(&m);
}

unsigned char *tenc_caveat_bytes(const struct tenc_caveat *c, size_t *len)
{
	struct tenc_buf b = { 0 };

	if (c->raw) {
		tenc_put_bytes(&b, c->raw, c->raw_len);
		return tenc_take(&b, len);
	}
	if (c->disallow_reads)
		tenc_put_varint_field(&b, 1, 1);
	if (c->disallow_writes)
		tenc_put_varint_field(&b, 2, 1);
	if (c->disallow_lists)
		tenc_put_varint_field(&b, 3, 1);
	if (c->disallow_deletes)
		tenc_put_varint_field(&b, 4, 1);
	if (c->unknown_fields)
		/* disallow_locks: known to Storj, not needed by the report */
		tenc_put_varint_field(&b, 5, 1);
	for (size_t i = 0; i < c->npaths; i++) {
		struct tenc_buf p = { 0 };

		if (c->paths[i].bucket)
			tenc_put_len_field(&p, 1, c->paths[i].bucket,
					   strlen(c->paths[i].bucket));
		if (c->paths[i].prefix)
			tenc_put_len_field(&p, 2, c->paths[i].prefix,
					   strlen(c->paths[i].prefix));
		if (c->unknown_fields)
			tenc_put_unknown_fields(&p, 5);
		if (p.failed)
			b.failed = true;
		tenc_put_len_field(&b, 10, p.data, p.len);
		tenc_buf_free(&p);
	}
	tenc_put_time(&b, 20, &c->not_after, c->unknown_fields);
	tenc_put_time(&b, 21, &c->not_before, c->unknown_fields);
	tenc_put_time(&b, 22, &c->max_ttl, c->unknown_fields);
	if (c->nonce)
		tenc_put_len_field(&b, 30, c->nonce, c->nonce_len);
	if (c->unknown_fields)
		tenc_put_unknown_fields(&b, 40);
	return tenc_take(&b, len);
}

/* Macaroon packet: uvarint type, uvarint length, data. */
static void tenc_packet(struct tenc_buf *b, unsigned type, const void *p,
			size_t n)
{
	tenc_put_varint(b, type);
	tenc_put_varint(b, n);
	tenc_put_bytes(b, p, n);
}

unsigned char *tenc_macaroon(const struct tenc_grant *g, size_t *len)
{
	static const unsigned char zero = 0;
	struct tenc_buf b = { 0 };
	unsigned char head[TENC_KEY_SIZE], tail[TENC_KEY_SIZE];
	unsigned char version = (unsigned char)(g->mac_version ? g->mac_version : 2);

	memset(head, 0x01, sizeof(head));
	memset(tail, 0x07, sizeof(tail));
	tenc_put_bytes(&b, &version, 1);
	if (g->location)
		tenc_packet(&b, 1, g->location, strlen(g->location));
	if (g->head)
		tenc_packet(&b, 2, g->head, g->head_len);
	else
		tenc_packet(&b, 2, head, sizeof(head));
	tenc_put_bytes(&b, &zero, 1);
	for (size_t i = 0; i < g->ncaveats; i++) {
		size_t n = 0;
		unsigned char *c = tenc_caveat_bytes(&g->caveats[i], &n);

		if (!c) {
			b.failed = true;
			break;
		}
		tenc_packet(&b, 2, c, n);
		tenc_put_bytes(&b, &zero, 1);
		free(c);
	}
	tenc_put_bytes(&b, &zero, 1);
	if (g->tail)
		tenc_packet(&b, 6, g->tail, g->tail_len);
	else
		tenc_packet(&b, 6, tail, sizeof(tail));
	return tenc_take(&b, len);
}

static void tenc_put_access(struct tenc_buf *b, const struct tenc_grant *g)
{
	struct tenc_buf a = { 0 };

	if (g->default_key)
		tenc_put_len_field(&a, 1, g->default_key, g->default_key_len);
	for (size_t i = 0; i < g->nentries; i++) {
		const struct tenc_entry *e = &g->entries[i];
		struct tenc_buf m = { 0 };

		if (e->bucket)
			tenc_put_len_field(&m, 1, e->bucket, strlen(e->bucket));
		if (e->unencrypted_path)
			tenc_put_len_field(&m, 2, e->unencrypted_path,
					   strlen(e->unencrypted_path));
		if (e->encrypted_path)
			tenc_put_len_field(&m, 3, e->encrypted_path,
					   strlen(e->encrypted_path));
		if (e->key)
			tenc_put_len_field(&m, 4, e->key, e->key_len);
		if (e->path_cipher >= 0)
			tenc_put_varint_field(&m, 5, (uint64_t)e->path_cipher);
		if (g->unknown_fields) {
			tenc_put_len_field(&m, 6, "\x08\x02\x10\x80\x02", 5);
			tenc_put_unknown_fields(&m, 10);
		}
		if (m.failed)
			a.failed = true;
		tenc_put_len_field(&a, 2, m.data, m.len);
		tenc_buf_free(&m);
	}
	if (g->path_cipher >= 0)
		tenc_put_varint_field(&a, 3, (uint64_t)g->path_cipher);
	if (g->unknown_fields) {
		/* default_encryption_parameters {cipher_suite 2, block_size 256} */
		tenc_put_len_field(&a, 4, "\x08\x02\x10\x80\x02", 5);
		tenc_put_unknown_fields(&a, 50);
	}
	if (a.failed)
		b->failed = true;
	tenc_put_len_field(b, 3, a.data, a.len);
	tenc_buf_free(&a);
}

unsigned char *tenc_scope(const struct tenc_grant *g, size_t *len)
{
	struct tenc_buf b = { 0 };

	if (g->satellite)
		tenc_put_len_field(&b, 1, g->satellite, strlen(g->satellite));
	if (g->raw_api_key) {
		tenc_put_len_field(&b, 2, g->raw_api_key, g->raw_api_key_len);
	} else if (!g->no_api_key) {
		size_t n = 0;
		unsigned char *m = tenc_macaroon(g, &n);

		if (!m)
			b.failed = true;
		else
			tenc_put_len_field(&b, 2, m, n);
		free(m);
	}
	if (!g->no_encryption_access)
		tenc_put_access(&b, g);
	if (g->unknown_fields)
		tenc_put_unknown_fields(&b, 50);
	return tenc_take(&b, len);
}

/* Repeated division by 58 of a big-endian number. The quotient is kept in
 * limbs of five base-58 digits (58^5 < 2^30) and the input goes in three
 * bytes at a time (2^24 * 58^5 < 2^54), so a 64-bit carry never overflows
 * and long grants encode quickly enough for valgrind runs. */
#define TENC_LIMB UINT64_C(656356768)   /* 58^5 */

char *tenc_base58(const unsigned char *p, size_t len)
{
	size_t zeros = 0, size, start, j, k = 0;
	uint32_t *limbs;
	char *out, *d;

	while (zeros < len && p[zeros] == 0)
		zeros++;
	size = (len - zeros) * 138 / 100 / 5 + 2;   /* log(256) / log(58) */
	limbs = calloc(size, sizeof(*limbs));
	out = malloc(zeros + size * 5 + 1);
	if (!limbs || !out) {
		free(limbs);
		free(out);
		return NULL;
	}
	start = size;   /* limbs[start..size) hold the number, big-endian */
	for (size_t i = zeros; i < len;) {
		uint64_t carry = 0, mul = 1;

		for (int b = 0; b < 3 && i < len; b++, i++) {
			carry = carry << 8 | p[i];
			mul <<= 8;
		}
		for (j = size; j > start || carry; j--) {
			carry += mul * limbs[j - 1];
			limbs[j - 1] = (uint32_t)(carry % TENC_LIMB);
			carry /= TENC_LIMB;
		}
		start = j;
	}
	memset(out, '1', zeros);
	d = out + zeros;
	for (j = start; j < size; j++) {
		uint32_t v = limbs[j];

		for (int e = 4; e >= 0; e--) {
			d[e] = tenc_alphabet[v % 58];
			v /= 58;
		}
		d += 5;
	}
	*d = '\0';
	/* the top limb's leading zero digits are not part of the number */
	while (out[zeros + k] == '1')
		k++;
	memmove(out + zeros, out + zeros + k, strlen(out + zeros + k) + 1);
	free(limbs);
	return out;
}

unsigned char *tenc_base58_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), zeros = 0, used = 0;
	unsigned char *num = calloc(n + 1, 1), *out = NULL;

	if (!num)
		return NULL;
	while (zeros < n && s[zeros] == '1')
		zeros++;
	for (size_t i = zeros; i < n; i++) {
		const char *d = s[i] ? strchr(tenc_alphabet, s[i]) : NULL;
		unsigned carry;

		if (!d)
			goto out;
		carry = (unsigned)(d - tenc_alphabet);
		/* num holds `used` little-endian bytes */
		for (size_t j = 0; j < used; j++) {
			carry += num[j] * 58u;
			num[j] = (unsigned char)carry;
			carry >>= 8;
		}
		while (carry) {
			num[used++] = (unsigned char)carry;
			carry >>= 8;
		}
	}
	out = malloc(zeros + used + 1);
	if (!out)
		goto out;
	memset(out, 0, zeros);
	for (size_t j = 0; j < used; j++)
		out[zeros + j] = num[used - 1 - j];
	*len = zeros + used;
out:
	free(num);
	return out;
}

static int tenc_checksum(const unsigned char *p, size_t n, unsigned char sum[4])
{
	unsigned char h1[EVP_MAX_MD_SIZE], h2[EVP_MAX_MD_SIZE];
	unsigned l1, l2;

	if (!EVP_Digest(p, n, h1, &l1, EVP_sha256(), NULL) ||
	    !EVP_Digest(h1, l1, h2, &l2, EVP_sha256(), NULL))
		return -1;
	memcpy(sum, h2, 4);
	return 0;
}

char *tenc_base58check(unsigned char version, const unsigned char *payload,
		       size_t len)
{
	unsigned char *raw = malloc(len + 5);
	char *out = NULL;

	if (!raw)
		return NULL;
	raw[0] = version;
	if (len)
		memcpy(raw + 1, payload, len);
	if (tenc_checksum(raw, len + 1, raw + 1 + len) == 0)
		out = tenc_base58(raw, len + 5);
	free(raw);
	return out;
}

unsigned char *tenc_base58check_decode(const char *s, size_t *len,
				       unsigned char *version)
{
	size_t n = 0;
	unsigned char *raw = tenc_base58_decode(s, &n), sum[4], *out = NULL;

	if (!raw || n < 5 || tenc_checksum(raw, n - 4, sum) < 0 ||
	    memcmp(sum, raw + n - 4, 4) != 0)
		goto out;
	out = malloc(n - 4);
	if (!out)
		goto out;
	memcpy(out, raw + 1, n - 5);
	*version = raw[0];
	*len = n - 5;
out:
	free(raw);
	return out;
}

char *tenc_grant(const struct tenc_grant *g)
{
	size_t n = 0;
	unsigned char *p = tenc_scope(g, &n);
	char *s = p ? tenc_base58check(0, p, n) : NULL;

	free(p);
	return s;
}

char *tenc_api_key(const struct tenc_grant *g)
{
	size_t n = 0;
	unsigned char *p = tenc_macaroon(g, &n);
	char *s = p ? tenc_base58check(0, p, n) : NULL;

	free(p);
	return s;
}

char *tenc_hex(const unsigned char *p, size_t len, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *s = malloc(len * 2 + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[len * 2] = '\0';
	return s;
}

char *tenc_base64(const unsigned char *p, size_t len, bool url)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);
	size_t n;

	if (!s)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, p, (int)len);
	n = strlen(s);
	while (n > 0 && s[n - 1] == '=')
		s[--n] = '\0';
	for (size_t i = 0; url && i < n; i++) {
		if (s[i] == '+')
			s[i] = '-';
		else if (s[i] == '/')
			s[i] = '_';
	}
	return s;
}
