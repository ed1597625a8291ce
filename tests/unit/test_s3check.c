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
        {"read", 0, 503, "SlowDown", 0, "server_error", "HTTP 503, SlowDown", "later"},
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explain_table),
        cmocka_unit_test(test_error_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
