/*
 * grant: offline decoder for Storj access grants.
 *
 * An access grant is base58check (version 0) around a protobuf Scope: the
 * satellite address, the API key (a macaroon whose caveats restrict it) and
 * the encryption access (keys and the path cipher). This module turns the
 * pasted text into a description of what the grant allows, without any
 * network, and never keeps or reveals the keys. Formats:
 * shared/reference/storj.md section 1.
 *
 * Pure logic: no I/O, no HTTP. Depends on jansson and libcrypto (SHA-256).
 */
#ifndef GRANT_H
#define GRANT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "errors.h"

/* Longest text grant_decode accepts, after trimming. Real grants are a few
 * hundred characters; a grant restricted to many prefixes is a few thousand. */
#define GRANT_MAX_TEXT 16384

/* Size of grant_error.message, including the terminating NUL. */
#define GRANT_ERROR_MESSAGE_SIZE 256

/*
 * Why a text is not a usable grant. code is a stable machine string (a
 * static string, never freed), message one sentence for people. Neither ever
 * contains any part of the input.
 *
 * Codes: "empty", "too_long", "whitespace", "not_base58", "truncated",
 * "bad_checksum", "bad_version", "api_key_not_grant",
 * "s3_access_key_not_grant", "s3_secret_key_not_grant", "bad_scope",
 * "no_satellite", "bad_satellite", "bad_macaroon", "bad_caveat",
 * "bad_key_length", "no_memory".
 */
struct grant_error {
    enum ecode code;
    char message[GRANT_ERROR_MESSAGE_SIZE];
};

/* What a grant allows. Opaque; it holds no key material (no API key head
 * or tail, no encryption keys), only the facts grant_report shows. */
struct grant_info;

/*
 * Decodes text: leading and trailing whitespace is ignored, whitespace
 * inside is an error that says so. Returns a new grant_info that the caller
 * frees with grant_info_free, or NULL with *err filled (err may be NULL).
 * Checks structure only: the signature needs the satellite's secret.
 */
struct grant_info *grant_decode(const char *text, struct grant_error *err);

/* Frees gi and everything it owns; NULL is fine. */
void grant_info_free(struct grant_info *gi);

/* Satellite "host:port" (no node ID, no query). Owned by gi. */
const char *grant_satellite_host(const struct grant_info *gi);

/* Satellite "<node id>@host:port"; the node ID is filled in for known
 * satellites when the grant leaves it out. Owned by gi. */
const char *grant_satellite_address(const struct grant_info *gi);

/* "US1", "EU1" or "AP1" for the known production satellites, else NULL.
 * A static string. */
const char *grant_satellite_region(const struct grant_info *gi);

/* Earliest expiry over all caveats. Returns true and sets *when (seconds
 * since the epoch, rounded up) when the grant expires, false when it never
 * does. */
bool grant_not_after(const struct grant_info *gi, time_t *when);

/* Number of caveats on the API key (0: the key is unrestricted). */
size_t grant_caveat_count(const struct grant_info *gi);

/*
 * The report of POST /api/grant/inspect as a new JSON object; the caller
 * json_decref's it. NULL only when memory runs out.
 *
 * {"satellite":{"address":"<id>@host:port","host":"host:port",
 *               "region":"US1"|"EU1"|"AP1"|null},
 *  "permissions":{"read":b,"write":b,"list":b,"delete":b},
 *  "buckets":[...]|null      null: not limited; []: no bucket at all
 *  "notAfter":"RFC 3339 UTC"|null, "notBefore":...|null,
 *  "maxObjectTTL":seconds|null,
 *  "pathEncryption":"none"|"aes-gcm"|"secretbox"|"unknown",
 *  "pathCipher":n            the raw default_path_cipher (0-3 known)
 *  "caveats":n, "prefixRestricted":b,
 *  "sharedPaths":[{"bucket","prefix"}]  plaintext paths of the key entries
 *  "encryptionKeys":n        how many keys the grant carries, never them
 *  "warnings":[{"code","message"}]}
 *
 * Warning codes, in this order: "expired", "expires_soon" (within 7 days),
 * "not_yet_valid", "cannot_read", "cannot_write", "cannot_list",
 * "cannot_delete", "no_buckets" (restrictions share no bucket),
 * "bucket_not_allowed", "prefix_restricted", "objects_expire",
 * "path_encryption", "no_encryption_key", "satellite_id_mismatch".
 * Each message is one sentence that says what to do.
 *
 * bucket is the bucket the user means to use, or NULL or "" (no bucket
 * warning). now is the current time; tests pass fixed times.
 */
json_t *grant_report(const struct grant_info *gi, const char *bucket, time_t now);

/*
 * The registry-ready copy of a grant (storj.md 4.4a): the same Scope with
 * unencrypted object keys, so that S3 listings with any prefix are served
 * by the satellite. default_path_cipher becomes ENC_NULL (1), and every
 * store entry gets path_cipher ENC_NULL and encrypted_path equal to its
 * unencrypted_path. The satellite address, the API key (macaroon) and every
 * encryption key are copied byte for byte: keys derive from the plaintext
 * path whatever the cipher, and no caveat changes. Offline, base58check.
 *
 * Returns a new NUL-terminated grant text (a secret: free it with
 * secret_free or wipe it first), or NULL with *err filled (the decoder's
 * errors for a bad grant, "no_memory"). A grant that already has
 * unencrypted keys comes back equivalent (re-serialized).
 */
char *grant_derive_unencrypted(const char *text, struct grant_error *err);

/* true when the grant's default path cipher is ENC_NULL (object keys are
 * stored in plain text). */
bool grant_keys_unencrypted(const struct grant_info *gi);

/* The four permissions a registry needs; returns true when all are there. */
bool grant_allows(const struct grant_info *gi, bool *read, bool *write, bool *list, bool *del);

/* true when the grant may reach bucket (it is not limited to others). */
bool grant_bucket_allowed(const struct grant_info *gi, const char *bucket);

#endif /* GRANT_H */
