/*
 * Unit tests for backend/s3check.c: what each S3 failure means for the user
 * (a table from libcurl result, HTTP status and S3 error code to the code,
 * message and fix), and reading the code out of an S3 error document.
 *
 * Clock skew (RequestTimeTooSkewed) is tested here only: the integration
 * suite (tests/integration/test_check.sh) cannot move the clock of a live
 * S3 service, so it is not reproduced live.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "miniserver.h"
#include "s3check.h"
#include "testutil.h"

#define WHERE "the S3 endpoint http://127.0.0.1:7480"

static void test_explain_table(void **state)
{
    (void)state;
    static const struct {
        const char *step;
        int curl;
        long status;
        const char *s3code;
        int can_create;
        const char *code;
        const char *in_message; /* a phrase the message must hold */
        const char *in_fix;     /* a phrase the fix must hold */
    } rows[] = {
        /* endpoint unreachable */
        {"reach", CURLE_COULDNT_CONNECT, 0, NULL, 0, "unreachable", "connection refused", "port"},
        {"reach", CURLE_COULDNT_RESOLVE_HOST, 0, NULL, 0, "unreachable", "DNS", "host name"},
        {"reach", CURLE_OPERATION_TIMEDOUT, 0, NULL, 0, "unreachable", "in time", "firewall"},
        {"reach", CURLE_PEER_FAILED_VERIFICATION, 0, NULL, 0, "tls", "TLS", "certificate"},
        {"reach", CURLE_RECV_ERROR, 0, NULL, 0, "unreachable", "could not be reached", "network"},
        /* wrong key */
        {"bucket", 0, 403, "InvalidAccessKeyId", 0, "wrong_key", "does not know this access key",
         "access key"},
        {"bucket", 0, 403, "SignatureDoesNotMatch", 0, "wrong_key", "secret key", "secret key"},
        {"write", 0, 403, "SignatureDoesNotMatch", 0, "wrong_key", "signature", "copy it again"},
        /* clock skew (not reproduced live) */
        {"bucket", 0, 403, "RequestTimeTooSkewed", 0, "clock_skew", "15 minutes",
         "time synchronization"},
        /* no permission */
        {"bucket", 0, 403, "AccessDenied", 0, "access_denied", "may not use", "permission"},
        {"write", 0, 403, "AccessDenied", 0, "access_denied", "may not write objects in bucket",
         "read, write, list and delete"},
        {"delete", 0, 403, "AccessDenied", 0, "access_denied", "delete objects", "permission"},
        {"bucket", 0, 403, NULL, 0, "forbidden", "403 Forbidden", "permissions"},
        /* no such bucket, with and without the offer to create it */
        {"bucket", 0, 404, "NoSuchBucket", 1, "no_such_bucket", "does not exist", "Create bucket"},
        {"bucket", 0, 404, NULL, 0, "no_such_bucket", "does not exist", "Storj console"},
        {"write", 0, 404, "NoSuchBucket", 0, "no_such_bucket", "\"registry\"", "correct"},
        /* encrypted keys: the listing the registry makes is refused */
        {"list", 0, 501, "NotImplemented", 0, "encrypted_keys_listing", "501",
         "unencrypted object keys"},
        {"write", 0, 501, "NotImplemented", 0, "not_implemented", "write objects", "supports"},
        /* region */
        {"bucket", 0, 400, "AuthorizationHeaderMalformed", 0, "wrong_region", "another region",
         "region"},
        {"bucket", 0, 301, NULL, 0, "wrong_region", "another region", "region"},
        /* the rest */
        {"read", 0, 404, "NoSuchKey", 0, "read_mismatch", "read back", "try again"},
        /* over a request rate limit: Storj's gateways answer 429 SlowDown
         * (gateway-st ErrSlowDown), S3 503 SlowDown */
        {"write", 0, 429, "SlowDown", 0, "too_many_requests", "too many requests", "minute"},
        {"read", 0, 503, "SlowDown", 0, "too_many_requests", "HTTP 503 SlowDown", "minute"},
        {"list", 0, 429, NULL, 0, "too_many_requests", "HTTP 429", "minute"},
        {"read", 0, 503, NULL, 0, "server_error", "HTTP 503", "later"},
        {"list", 0, 500, NULL, 0, "server_error", "HTTP 500", "later"},
        {"write", 0, 400, "InvalidArgument", 0, "s3_error", "HTTP 400 InvalidArgument", "Check"},
        {"write", 0, 400, "", 0, "s3_error", "HTTP 400 when", "Check"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        struct s3check_outcome o;
        memset(&o, 0x55, sizeof o);
        s3check_explain(rows[i].step, rows[i].curl, rows[i].status, rows[i].s3code, "registry",
                        WHERE, rows[i].can_create, &o);
        CHECK(strcmp(o.code, rows[i].code) == 0, "row %zu: code %s, want %s", i, o.code,
              rows[i].code);
        CHECK(strstr(o.message, rows[i].in_message) != NULL, "row %zu: message '%s' lacks '%s'", i,
              o.message, rows[i].in_message);
        CHECK(strstr(o.fix, rows[i].in_fix) != NULL, "row %zu: fix '%s' lacks '%s'", i, o.fix,
              rows[i].in_fix);
        CHECK(o.message[0] >= 'A' && o.message[0] <= 'Z', "row %zu: '%s' starts lowercase", i,
              o.message);
        CHECK(o.message[strlen(o.message) - 1] == '.', "row %zu: '%s' is not a sentence", i,
              o.message);
    }
}

static void test_error_code(void **state)
{
    (void)state;
    static const struct {
        const char *body, *want;
    } rows[] = {
        {"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchBucket</Code>"
         "<BucketName>x</BucketName></Error>",
         "NoSuchBucket"},
        {"<Error><Code>Not&lt;Implemented</Code></Error>", "NotltImplemented"},
        {"<Error><Code>Unterminated", ""},
        {"no xml at all", ""},
        {"", ""},
        {"<Code>AVeryLongCodeThatGoesOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOn</Code>",
         "AVeryLongCodeThatGoesOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOn"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char out[80];
        s3check_error_code(rows[i].body, strlen(rows[i].body), out, sizeof out);
        CHECK(strcmp(out, rows[i].want) == 0, "row %zu: '%s'", i, out);
    }
    char small[5];
    s3check_error_code("<Code>NoSuchBucket</Code>", 25, small, sizeof small);
    assert_string_equal(small, "NoSu");
    s3check_error_code(NULL, 0, small, sizeof small);
    assert_string_equal(small, "");
}

/* An S3 bucket on a miniserver that answers the first `slow` requests (or
 * the first `slow_puts` writes of an object) with Storj's 429 SlowDown, then
 * like a bucket holding the one object written. */
struct slow_bucket {
    int slow;      /* requests still to refuse; -1: every one */
    int slow_puts; /* object writes still to refuse */
    int puts;      /* object writes seen, refused ones included */
    int refused;
    char key[512];
    char body[128];
};

static const char SLOW_DOWN[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown"
    "</Code><Message>Please reduce your request rate.</Message></Error>";

static int slow_handler(struct mini_server *s, const struct mini_req *r, int fd)
{
    struct slow_bucket *b = s->ctx;
    const char *obj = strchr(r->path + 1, '/'); /* /bucket/key */
    int put = obj && strcmp(r->method, "PUT") == 0;
    b->puts += put;
    if (b->slow != 0 || (put && b->slow_puts > 0)) {
        if (b->slow > 0)
            b->slow--;
        else if (put && b->slow_puts > 0)
            b->slow_puts--;
        b->refused++;
        if (strcmp(r->method, "HEAD") == 0)
            return mini_respond(fd, 429, NULL, "", 0);
        return mini_respond(fd, 429, "Retry-After: 12\r\nContent-Type: application/xml\r\n",
                            SLOW_DOWN, sizeof SLOW_DOWN - 1);
    }
    if (strcmp(r->method, "PUT") == 0 && obj) {
        snprintf(b->key, sizeof b->key, "%s", obj + 1);
        snprintf(b->body, sizeof b->body, "%.*s", (int)r->body_len, r->body);
        return mini_respond(fd, 200, NULL, "", 0);
    }
    if (strcmp(r->method, "GET") == 0 && obj)
        return mini_respond(fd, 200, NULL, b->body, strlen(b->body));
    if (strcmp(r->method, "GET") == 0) {
        char list[1024];
        int n = snprintf(list, sizeof list,
                         "<ListBucketResult><Contents><Key>%s</Key></Contents>"
                         "</ListBucketResult>",
                         b->key);
        return mini_respond(fd, 200, NULL, list, (size_t)n);
    }
    if (strcmp(r->method, "DELETE") == 0)
        return mini_respond(fd, 204, NULL, "", 0);
    return mini_respond(fd, 200, NULL, "", 0); /* HEAD of the bucket */
}

static json_t *check_slow_bucket(struct slow_bucket *b)
{
    struct mini_server srv;
    assert_int_equal(mini_start(&srv, NULL, slow_handler, b), 0);
    struct s3check_target t = {.endpoint = srv.url,
                               .region = "us-east-1",
                               .access_key = "ak",
                               .secret_key = "sk",
                               .bucket = "registry",
                               .where = WHERE};
    json_t *out = s3check_run(&t);
    mini_stop(&srv);
    assert_non_null(out);
    return out;
}

static const char *step_code(json_t *out, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(out, "steps"), i), "id"));
}

/* A storage over its request rate answers SlowDown for a moment: the check
 * waits and asks again rather than failing (the registry's AWS SDK does the
 * same), and when it lasts says so. */
static void test_slow_down_retried(void **state)
{
    (void)state;
    struct slow_bucket b = {.slow = 2};
    json_t *out = check_slow_bucket(&b);
    CHECK(json_is_true(json_object_get(out, "ok")), "two SlowDowns, then fine: ok (%d refused)",
          b.refused);
    assert_int_equal(b.refused, 2);
    json_decref(out);

    struct slow_bucket w = {.slow_puts = 1};
    out = check_slow_bucket(&w);
    CHECK(json_is_true(json_object_get(out, "ok")), "a write over the key's limit, then fine");
    CHECK(w.puts == 2 && w.refused == 1, "the write asked again: %d writes, %d refused", w.puts,
          w.refused);
    json_decref(out);

    struct slow_bucket always = {.slow = -1};
    out = check_slow_bucket(&always);
    assert_true(json_is_false(json_object_get(out, "ok")));
    assert_string_equal(json_string_value(json_object_get(out, "code")), "too_many_requests");
    assert_string_equal(step_code(out, 1), "bucket");
    CHECK(always.refused == 4 + 4, "the HEAD and the GET each tried 4 times: %d", always.refused);
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explain_table),
        cmocka_unit_test(test_error_code),
        cmocka_unit_test(test_slow_down_retried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
