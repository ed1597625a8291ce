/*
 * libFuzzer target for backend/grant.c.
 *
 * Each input is tried three ways, so that both the text checks and the deep
 * parser (Scope, macaroon, caveats) get mutated input:
 *   1. as the pasted text itself;
 *   2. as a grant payload: base58check-encoded (version 0) first, which
 *      gets past the checksum that would stop almost every mutation;
 *   3. when it is base58 text (a mutated seed grant), with its checksum
 *      recomputed, so mutations of the text seeds reach the parser too.
 * Every outcome must be a result or an error with a code and message, and
 * everything is freed (the leak checker runs at exit of each input).
 *
 * Build and run:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ibackend \
 *     $(pkg-config --cflags jansson) tests/fuzz/fuzz_grant.c backend/grant.c \
 *     -o /tmp/fuzz_grant $(pkg-config --libs jansson libcrypto)
 *   /tmp/fuzz_grant -max_total_time=60 tests/fuzz/corpus/grant
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "grant.h"

/* Base58 here is quadratic; payloads longer than this add no coverage. */
#define FUZZ_MAX_PAYLOAD 4096
#define FUZZ_NOW ((time_t)1700000000)

static const char alphabet[] =
	"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static void check(int ok)
{
	if (!ok)
		abort();
}

/* The report without the fields that unencrypted keys change. */
static json_t *stable_report(const char *text)
{
	struct grant_error err;
	struct grant_info *gi = grant_decode(text, &err);
	json_t *r, *w;
	size_t i;

	check(gi != NULL);
	r = grant_report(gi, "registry", FUZZ_NOW);
	grant_info_free(gi);
	check(r != NULL);
	json_object_del(r, "pathEncryption");
	json_object_del(r, "pathCipher");
	w = json_object_get(r, "warnings");
	for (i = json_array_size(w); i-- > 0;)
		if (strcmp(json_string_value(json_object_get(json_array_get(w, i), "code")),
			   "path_encryption") == 0)
			json_array_remove(w, i);
	return r;
}

/* Every grant the decoder takes can be derived with unencrypted keys; the
 * copy decodes to the same facts with path cipher ENC_NULL, and deriving it
 * again changes nothing. */
static void derive_roundtrip(const char *text)
{
	struct grant_error err;
	char *d = grant_derive_unencrypted(text, &err), *again;
	struct grant_info *gi;
	json_t *a, *b;

	check(d != NULL);
	gi = grant_decode(d, &err);
	check(gi != NULL);
	check(grant_keys_unencrypted(gi));
	grant_info_free(gi);
	a = stable_report(text);
	b = stable_report(d);
	check(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	again = grant_derive_unencrypted(d, &err);
	check(again != NULL && strcmp(again, d) == 0);
	free(again);
	free(d);
}

static void exercise(const char *text)
{
	struct grant_error err;
	struct grant_info *gi = grant_decode(text, &err);
	static const char *const buckets[] = { NULL, "registry", "" };
	time_t t;

	if (!gi) {
		check(ecode_name(err.code) != NULL && err.message[0] != '\0');
		for (const char *m = err.message; *m; m++)
			check(*m >= 0x20 && *m < 0x7f);
		return;
	}
	check(grant_satellite_host(gi) != NULL);
	check(grant_satellite_address(gi) != NULL);
	(void)grant_satellite_region(gi);
	(void)grant_caveat_count(gi);
	(void)grant_not_after(gi, &t);
	for (size_t i = 0; i < sizeof(buckets) / sizeof(*buckets); i++) {
		json_t *r = grant_report(gi, buckets[i], FUZZ_NOW);
		char *dump;

		check(r != NULL);
		dump = json_dumps(r, JSON_COMPACT);
		check(dump != NULL);
		free(dump);
		json_decref(r);
	}
	grant_info_free(gi);
	derive_roundtrip(text);
}

static int checksum(const uint8_t *p, size_t n, uint8_t out[4])
{
	unsigned char h1[EVP_MAX_MD_SIZE], h2[EVP_MAX_MD_SIZE];
	unsigned int l1, l2;

	if (!EVP_Digest(p, n, h1, &l1, EVP_sha256(), NULL) ||
	    !EVP_Digest(h1, l1, h2, &l2, EVP_sha256(), NULL))
		return -1;
	memcpy(out, h2, 4);
	return 0;
}

/* base58 of raw (version byte and checksum already in place). */
static char *base58(const uint8_t *raw, size_t n)
{
	size_t zeros = 0, size, start, j;
	uint8_t *digits;
	char *out;

	while (zeros < n && raw[zeros] == 0)
		zeros++;
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
			digits[j - 1] = (uint8_t)(carry % 58);
			carry /= 58;
		}
		start = j;
	}
	memset(out, '1', zeros);
	for (j = start; j < size; j++)
		out[zeros + j - start] = alphabet[digits[j]];
	out[zeros + size - start] = '\0';
	free(digits);
	return out;
}

/* Way 2: the input as a payload. */
static void as_payload(const uint8_t *data, size_t size)
{
	uint8_t *raw = malloc(size + 5);
	char *text;

	if (!raw)
		return;
	raw[0] = 0;
	memcpy(raw + 1, data, size);
	if (checksum(raw, size + 1, raw + 1 + size) == 0) {
		text = base58(raw, size + 5);
		if (text) {
			exercise(text);
			free(text);
		}
	}
	free(raw);
}

/* Way 3: base58 text with its checksum recomputed. */
static void rechecksummed(const uint8_t *data, size_t size)
{
	uint8_t *num;
	size_t zeros = 0, used = 0;

	if (size == 0 || size > FUZZ_MAX_PAYLOAD)
		return;
	for (size_t i = 0; i < size; i++)
		if (!data[i] || !memchr(alphabet, data[i], sizeof(alphabet) - 1))
			return;
	num = calloc(size, 1);
	if (!num)
		return;
	while (zeros < size && data[zeros] == '1')
		zeros++;
	/* little-endian number in num[0..used) */
	for (size_t i = zeros; i < size; i++) {
		unsigned carry = (unsigned)((const char *)memchr(alphabet, data[i],
					    sizeof(alphabet) - 1) - alphabet);

		for (size_t k = 0; k < used; k++) {
			carry += num[k] * 58u;
			num[k] = (uint8_t)carry;
			carry >>= 8;
		}
		while (carry) {
			num[used++] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	if (zeros + used >= 5) {
		uint8_t *raw = malloc(zeros + used);
		char *text;

		if (raw) {
			memset(raw, 0, zeros);
			for (size_t k = 0; k < used; k++)
				raw[zeros + k] = num[used - 1 - k];
			if (checksum(raw, zeros + used - 4, raw + zeros + used - 4) == 0) {
				text = base58(raw, zeros + used);
				if (text) {
					exercise(text);
					free(text);
				}
			}
			free(raw);
		}
	}
	free(num);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	exercise(text);
	free(text);
	if (size <= FUZZ_MAX_PAYLOAD)
		as_payload(data, size);
	rechecksummed(data, size);
	return 0;
}
