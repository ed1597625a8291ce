/* s3check: checks that an S3 bucket takes what a registry does (the bucket
 * exists, an object can be written, read back, listed with a prefix that
 * does not end in '/' as distribution's Stat fallback lists, and deleted),
 * step by step, each with a plain message and a fix. Requests are signed by
 * libcurl (CURLOPT_AWS_SIGV4). Knows S3 and HTTP, not Docker or settings. */
#ifndef SR_S3CHECK_H
#define SR_S3CHECK_H

#include <jansson.h>

/* Bytes of one S3 answer kept (error documents, the listing). */
#define S3CHECK_MAX_BODY (256 * 1024)
/* Where the check object goes: under the registry's root, in a folder of
 * its own that the registry never reads. */
#define S3CHECK_PREFIX "docker/registry/v2/.storj-registry-check/"
#define S3CHECK_TEXT_MAX 400

struct s3check_target {
    const char *endpoint; /* http(s)://host[:port], path style */
    const char *region;
    const char *access_key;
    const char *secret_key; /* secret: only handed to libcurl */
    const char *bucket;
    const char *where;   /* how messages name the endpoint, e.g. "the S3 endpoint http://..." */
    int create_bucket;   /* create the bucket when it is missing */
    int can_create;      /* the keys may create buckets: offer it */
    int connect_retry_s; /* keep trying to connect this long (a gateway that starts) */
    const int *cancel;   /* polled between steps when not NULL */
};

/* What one failed request means for the user. */
struct s3check_outcome {
    const char *code; /* "unreachable", "wrong_key", "no_such_bucket", ... (static) */
    char message[S3CHECK_TEXT_MAX];
    char fix[S3CHECK_TEXT_MAX];
};

/*
 * Explains a failed request of step ("reach", "bucket", "write", "read",
 * "list", "delete"): curl_code is libcurl's result (0 when an answer came),
 * status the HTTP status, s3code the <Code> of the S3 error document (NULL
 * or "" when none). bucket and where fill the sentences; can_create says
 * whether a missing bucket can be created from here. Pure.
 *
 * Codes: unreachable, tls, wrong_key, clock_skew, access_denied, forbidden,
 * no_such_bucket, wrong_region, encrypted_keys_listing, not_implemented,
 * read_mismatch, too_many_requests (429, or SlowDown), server_error,
 * s3_error.
 */
void s3check_explain(const char *step, int curl_code, long status, const char *s3code,
                     const char *bucket, const char *where, int can_create,
                     struct s3check_outcome *out);

/* The <Code> of an S3 error document into out ("" when none). Pure. */
void s3check_error_code(const char *body, size_t len, char *out, size_t outlen);

/*
 * Runs the steps against t. Returns a new object {"ok": b, "steps": [{"id",
 * "ok": true|false|null, "message", "fix"?}], "canCreateBucket": b,
 * "code"?: the first failure's code}, or NULL when memory runs out. No
 * secret is in it.
 */
json_t *s3check_run(const struct s3check_target *t);

#endif
