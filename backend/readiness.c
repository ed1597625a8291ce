#include "readiness.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MESSAGE_MAX 600

#define NEEDS_ALL "a registry needs read, write, list and delete"
#define FIX_ALL                                                                                    \
    "Create an access grant with all four permissions (read, write, list, delete) for the "        \
    "bucket and paste it here."
#define TRADE_OFF                                                                                  \
    "Image contents stay encrypted; repository names and layer digests become visible to the "     \
    "Storj satellite."

const char *readiness_mode_label(enum mode m)
{
    switch (m) {
    case MODE_STORJ:
        return "Storj (recommended)";
    case MODE_STORJ_HOSTED:
        return "Storj hosted gateway";
    case MODE_STORJ_NATIVE:
        return "Storj native driver (2022)";
    case MODE_S3:
        return "S3-compatible service";
    case MODE_LOCAL:
    default:
        return "Local volume";
    }
}

static int add(json_t *list, const char *code, const char *severity, const char *fix,
               const char *action, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int add(json_t *list, const char *code, const char *severity, const char *fix,
               const char *action, const char *fmt, ...)
{
    char msg[MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_array_append_new(list,
                                 json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "code", code, "severity",
                                           severity, "message", msg, "fix", fix, "action", action));
}

static int has_warning(const json_t *report, const char *code)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(report, "warnings"), i, w)
    {
        const char *c = json_string_value(json_object_get(w, "code"));
        if (c && strcmp(c, code) == 0)
            return 1;
    }
    return 0;
}

const char *readiness_suggested_bucket(const json_t *report)
{
    json_t *b = json_object_get(report, "buckets");
    if (json_array_size(b) != 1)
        return NULL;
    const char *name = json_string_value(json_array_get(b, 0));
    return name && settings_bucket_valid(name, NULL) ? name : NULL;
}

/* "a", "b" and "c" (JSON strings of the report, quoted) into out. */
static void bucket_list(const json_t *buckets, char *out, size_t len)
{
    size_t i, used = 0, n = json_array_size(buckets);
    json_t *b;
    out[0] = '\0';
    json_array_foreach(buckets, i, b)
    {
        if (used >= len)
            break;
        const char *sep = i == 0 ? "" : i + 1 == n ? " and " : ", ";
        int k = snprintf(out + used, len - used, "%s\"%.63s\"", sep, json_string_value(b));
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

static void ttl_text(const json_t *ttl, char *out, size_t len)
{
    long long s = json_is_integer(ttl) ? (long long)json_integer_value(ttl)
                                       : (long long)json_number_value(ttl);
    if (s > 0 && s % 86400 == 0)
        snprintf(out, len, "%lld day%s", s / 86400, s == 86400 ? "" : "s");
    else if (s > 0 && s % 3600 == 0)
        snprintf(out, len, "%lld hour%s", s / 3600, s == 3600 ? "" : "s");
    else
        snprintf(out, len, "%lld seconds", s);
}

/* What the grant's permissions, dates and bucket restrictions mean for any
 * Storj mode. */
static int grant_findings(const json_t *r, const char *bucket, json_t *f)
{
    const char *not_after = json_string_value(json_object_get(r, "notAfter"));
    const char *not_before = json_string_value(json_object_get(r, "notBefore"));
    json_t *perm = json_object_get(r, "permissions");
    json_t *buckets = json_object_get(r, "buckets");
    char names[400];
    int rc = 0;

    if (has_warning(r, "expired"))
        rc |= add(f, "expired", "error",
                  "Create a new access grant without an expiry date (or with a later one) and "
                  "paste it here.",
                  NULL, "The access grant expired at %s.", not_after ? not_after : "?");
    else if (has_warning(r, "expires_soon"))
        rc |= add(f, "expires_soon", "warning",
                  "Create an access grant without an expiry date, or with a later one.", NULL,
                  "The access grant expires at %s, within 7 days; the registry stops working "
                  "then.",
                  not_after ? not_after : "?");
    if (has_warning(r, "not_yet_valid"))
        rc |= add(f, "not_yet_valid", "error",
                  "Wait until then, or create an access grant without a start date.", NULL,
                  "The access grant only becomes valid at %s.", not_before ? not_before : "?");
    static const struct {
        const char *key, *code, *what;
    } perms[] = {{"read", "cannot_read", "reading objects"},
                 {"write", "cannot_write", "writing objects"},
                 {"list", "cannot_list", "listing objects"},
                 {"delete", "cannot_delete", "deleting objects"}};
    for (size_t i = 0; i < sizeof perms / sizeof *perms; i++)
        if (!json_is_true(json_object_get(perm, perms[i].key)))
            rc |= add(f, perms[i].code, "error", FIX_ALL, NULL,
                      "The access grant does not allow %s; " NEEDS_ALL ".", perms[i].what);
    if (json_is_array(buckets) && json_array_size(buckets) == 0) {
        rc |= add(f, "no_buckets", "error",
                  "Create an access grant for the bucket the registry should use.", NULL,
                  "The access grant's restrictions have no bucket in common, so it reaches no "
                  "bucket at all.");
    } else if (!bucket || !*bucket) {
        const char *one = readiness_suggested_bucket(r);
        char fix[160];
        if (one)
            snprintf(fix, sizeof fix, "The access grant names one bucket: use \"%s\".", one);
        rc |= add(f, "no_bucket", "error",
                  one ? fix : "Enter the name of the bucket the registry should store images in.",
                  NULL, "No bucket is set.");
    } else if (has_warning(r, "bucket_not_allowed")) {
        bucket_list(buckets, names, sizeof names);
        rc |= add(f, "bucket_not_allowed", "error",
                  "Use one of the grant's buckets, or create an access grant that includes this "
                  "one.",
                  NULL, "The access grant is limited to %s; \"%s\" is not one of them.", names,
                  bucket);
    }
    if (json_is_true(json_object_get(r, "prefixRestricted")))
        rc |= add(f, "prefix_restricted", "error",
                  "Create an access grant for the whole bucket, not for a folder in it.", NULL,
                  "The access grant is limited to paths inside its buckets, but the registry "
                  "writes under docker/registry/v2/ from the bucket root.");
    json_t *ttl = json_object_get(r, "maxObjectTTL");
    if (json_is_number(ttl)) {
        char t[64];
        ttl_text(ttl, t, sizeof t);
        rc |= add(f, "objects_expire", "error",
                  "Create an access grant without an object expiry (TTL).", NULL,
                  "The access grant gives every stored object a lifetime of at most %s, so Storj "
                  "would delete image layers by itself.",
                  t);
    }
    if (has_warning(r, "no_encryption_key"))
        rc |= add(f, "no_encryption_key", "error",
                  "Create the access grant again with an encryption passphrase.", NULL,
                  "The access grant carries no encryption key, so nothing can be stored or read "
                  "with it.");
    if (has_warning(r, "satellite_id_mismatch"))
        rc |= add(f, "satellite_id_mismatch", "error",
                  "Copy the access grant again from the Storj console.", NULL,
                  "The satellite's node ID in the access grant is not the one the known "
                  "satellite uses, so connections would be refused.");
    return rc;
}

/* What the path cipher means in mode. */
static int key_findings(const json_t *r, enum mode mode, const char *bucket, int unencrypted,
                        json_t *f)
{
    const char *pe = json_string_value(json_object_get(r, "pathEncryption"));
    int encrypted = !pe || strcmp(pe, "none") != 0;
    const char *label = readiness_mode_label(mode);
    int rc = 0;

    if (mode == MODE_STORJ_NATIVE) {
        if (encrypted || unencrypted)
            rc |= add(f, "native_not_affected", "info", NULL, NULL,
                      "\"%s\" lists through uplink, so encrypted object keys neither slow it "
                      "down nor break it%s.",
                      label,
                      unencrypted ? "; the unencrypted object keys setting is ignored here" : "");
        return rc;
    }
    if (!encrypted) {
        if (unencrypted)
            rc |= add(f, "keys_already_unencrypted", "info", NULL, NULL,
                      "The access grant already stores object keys unencrypted; the unencrypted "
                      "object keys setting changes nothing.");
        return rc;
    }
    if (unencrypted) {
        rc |= add(f, "unencrypted_keys", "info", NULL, NULL,
                  "The registry uses a copy of this access grant with unencrypted object keys. "
                  "%s",
                  TRADE_OFF);
        if (bucket && *bucket)
            rc |= add(f, "existing_objects_hidden", "warning",
                      "Use a new or empty bucket, or turn unencrypted object keys off to reach "
                      "those objects.",
                      NULL,
                      "Objects already stored in bucket \"%s\" under encrypted keys will not be "
                      "seen through this registry.",
                      bucket);
        else
            rc |= add(f, "existing_objects_hidden", "warning",
                      "Use a new or empty bucket, or turn unencrypted object keys off to reach "
                      "those objects.",
                      NULL,
                      "Objects already stored in the bucket under encrypted keys will not be "
                      "seen through this registry.");
        return rc;
    }
    if (mode == MODE_STORJ)
        rc |= add(f, "path_encryption", "warning",
                  "Use unencrypted object keys for this registry. " TRADE_OFF
                  " Objects already stored under encrypted keys in the bucket will not be seen.",
                  "unencrypted-keys",
                  "Object keys are encrypted with this access grant. \"%s\" works with it, but "
                  "for every new layer the gateway lists the whole bucket: pushes slow down as "
                  "the bucket grows and fail past 100,000 objects.",
                  label);
    else
        rc |= add(f, "path_encryption", "error",
                  "Use unencrypted object keys for this registry. " TRADE_OFF
                  " Objects already stored under encrypted keys in the bucket will not be seen.",
                  "unencrypted-keys",
                  "Object keys are encrypted with this access grant. For every new layer the "
                  "registry makes a listing that Storj's hosted gateway refuses (501 Not "
                  "Implemented) in projects created after 30 November 2025, so pushes fail "
                  "in \"%s\" mode.",
                  label);
    return rc;
}

json_t *readiness_verdict(const json_t *report, enum mode mode, const char *bucket,
                          int unencrypted_keys)
{
    json_t *f = json_array();
    int rc = 0;
    if (!f)
        return NULL;
    if (mode == MODE_LOCAL || mode == MODE_S3) {
        rc |= add(f, "grant_not_used", "info", NULL, NULL,
                  "The access grant is not used in \"%s\" mode.", readiness_mode_label(mode));
    } else {
        rc |= grant_findings(report, bucket, f);
        rc |= key_findings(report, mode, bucket, unencrypted_keys, f);
    }
    int ready = 1;
    size_t i;
    json_t *x;
    json_array_foreach(f, i, x) if (strcmp(json_string_value(json_object_get(x, "severity")),
                                           "error") == 0) ready = 0;
    if (rc) {
        json_decref(f);
        return NULL;
    }
    return json_pack("{s:b, s:s, s:o}", "ready", ready, "mode", settings_mode_name(mode),
                     "findings", f);
}

json_t *readiness_warnings(const json_t *verdict)
{
    json_t *out = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(verdict, "findings"), i, x)
    {
        const char *sev = json_string_value(json_object_get(x, "severity"));
        if (sev && strcmp(sev, "info") != 0)
            json_array_append_new(out, json_pack("{s:O, s:O}", "code", json_object_get(x, "code"),
                                                 "message", json_object_get(x, "message")));
    }
    return out;
}
