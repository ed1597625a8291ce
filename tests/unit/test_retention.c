/*
 * Unit tests for backend/retention.c: the rules' validation (every bad
 * field named, nothing half-taken), the plan (keep the newest N, keep by
 * pattern, never delete an image a kept tag points at, unknown ages kept,
 * repositories no rule matches untouched), the schedule and the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "retention.h"
#include "scan.h"

#define DIGEST64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#include "testutil.h"

static json_t *parse_text(const char *text, struct err *e)
{
    json_t *body = json_loads(text, 0, NULL);
    assert_non_null(body);
    json_t *r = retention_parse(body, e);
    json_decref(body);
    return r;
}

static void test_parse_good(void **state)
{
    struct err e = {0};
    json_t *r = parse_text("{}", &e);
    assert_non_null(r);
    assert_int_equal(json_array_size(json_object_get(r, "rules")), 0);
    assert_true(json_is_true(json_object_get(r, "deleteUntagged")));
    assert_true(json_is_null(json_object_get(r, "schedule")));
    assert_int_equal(retention_schedule_minute(r), -1);
    json_decref(r);

    r = parse_text("{\"rules\":[{\"repositories\":\"team/*\",\"keepLast\":3,\"keepTags\":[\"v*\"]},"
                   "{\"repositories\":\"*\"}],\"deleteUntagged\":false,\"schedule\":\"23:59\"}",
                   &e);
    assert_non_null(r);
    json_t *second = json_array_get(json_object_get(r, "rules"), 1);
    assert_true(json_is_null(json_object_get(second, "keepLast")));
    assert_int_equal(json_array_size(json_object_get(second, "keepTags")), 0);
    assert_true(json_is_false(json_object_get(r, "deleteUntagged")));
    assert_int_equal(retention_schedule_minute(r), 23 * 60 + 59);
    /* normalised rules parse to themselves */
    json_t *again = retention_parse(r, &e);
    assert_true(json_equal(r, again));
    json_decref(again);
    json_decref(r);
}

static void test_parse_bad(void **state)
{
    static const struct {
        const char *body, *field, *code;
    } rows[] = {
        {"[]", "", "invalid_body"},
        {"{\"rule\":[]}", "rule", "unknown_field"},
        {"{\"rules\":{}}", "rules", "invalid_value"},
        {"{\"rules\":[1]}", "rules[0]", "invalid_type"},
        {"{\"rules\":[{}]}", "rules[0].repositories", "missing_field"},
        {"{\"rules\":[{\"repositories\":\"\"}]}", "rules[0].repositories", "invalid_value"},
        {"{\"rules\":[{\"repositories\":\"a b\"}]}", "rules[0].repositories", "invalid_value"},
        {"{\"rules\":[{\"repositories\":\"a\"},{\"repositories\":\"b\",\"keepLast\":-1}]}",
         "rules[1].keepLast", "invalid_value"},
        {"{\"rules\":[{\"repositories\":\"a\",\"keepLast\":10001}]}", "rules[0].keepLast",
         "invalid_value"},
        {"{\"rules\":[{\"repositories\":\"a\",\"keepLast\":\"3\"}]}", "rules[0].keepLast",
         "invalid_value"},
        {"{\"rules\":[{\"repositories\":\"a\",\"keepTags\":\"v*\"}]}", "rules[0].keepTags",
         "invalid_value"},
        {"{\"rules\":[{\"repositories\":\"a\",\"keepTags\":[\"ok\",\"\"]}]}",
         "rules[0].keepTags[1]", "invalid_value"},
        {"{\"rules\":[{\"repositories\":\"a\",\"other\":1}]}", "rules[0].other", "unknown_field"},
        {"{\"deleteUntagged\":1}", "deleteUntagged", "invalid_type"},
        {"{\"schedule\":\"24:00\"}", "schedule", "invalid_value"},
        {"{\"schedule\":\"3:00\"}", "schedule", "invalid_value"},
        {"{\"schedule\":300}", "schedule", "invalid_value"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        struct err e = {0};
        json_t *body = json_loads(rows[i].body, JSON_DECODE_ANY, NULL);
        assert_non_null(body);
        json_t *r = retention_parse(body, &e);
        json_decref(body);
        CHECK(r == NULL, "%s: accepted", rows[i].body);
        CHECK(e.status == 400, "%s: status %d", rows[i].body, e.status);
        CHECK(strcmp(e.field, rows[i].field) == 0, "%s: field '%s' want '%s'", rows[i].body,
              e.field, rows[i].field);
        CHECK(ecode_name(e.code) && strcmp(ecode_name(e.code), rows[i].code) == 0,
              "%s: code %s want %s", rows[i].body, ecode_name(e.code), rows[i].code);
        json_decref(r);
    }
    /* too many rules */
    json_t *many = json_pack("{s:[]}", "rules");
    for (int i = 0; i <= RETENTION_MAX_RULES; i++)
        json_array_append_new(json_object_get(many, "rules"),
                              json_pack("{s:s}", "repositories", "x"));
    struct err e = {0};
    assert_null(retention_parse(many, &e));
    assert_string_equal(e.field, "rules");
    json_decref(many);
}

/* team/app: five tags over four images; v1 and old share an image. */
#define REPOS                                                                                      \
    "[{\"name\":\"team/app\",\"complete\":true,\"tags\":["                                         \
    "{\"tag\":\"v1\",\"digest\":\"sha256:a1\",\"created\":\"2026-01-01T00:00:00Z\",\"size\":100}," \
    "{\"tag\":\"old\",\"digest\":\"sha256:a1\",\"created\":\"2026-01-01T00:00:00Z\",\"size\":100}" \
    ","                                                                                            \
    "{\"tag\":\"b2\",\"digest\":\"sha256:b2\",\"created\":\"2026-02-01T00:00:00Z\",\"size\":200}," \
    "{\"tag\":\"c3\",\"digest\":\"sha256:c3\",\"created\":\"2026-03-01T00:00:00Z\",\"size\":300}," \
    "{\"tag\":\"latest\",\"digest\":\"sha256:d4\",\"created\":\"2026-04-01T00:00:00Z\","           \
    "\"size\":400},"                                                                               \
    "{\"tag\":\"mystery\",\"digest\":\"sha256:e5\",\"created\":null,\"size\":500}]},"              \
    "{\"name\":\"other/app\",\"complete\":true,\"tags\":["                                         \
    "{\"tag\":\"x\",\"digest\":\"sha256:f6\",\"created\":\"2020-01-01T00:00:00Z\",\"size\":1}]}]"

/* 2026-06-01T00:00:00Z */
#define NOW 1780272000LL

static json_t *plan_of(const char *rules_text)
{
    struct err e = {0};
    json_t *rules = parse_text(rules_text, &e);
    assert_non_null(rules);
    json_t *repos = json_loads(REPOS, 0, NULL);
    assert_non_null(repos);
    json_t *p = retention_plan(rules, repos, NOW);
    assert_non_null(p);
    json_decref(rules);
    json_decref(repos);
    return p;
}

/* "digest:tag,tag;digest:tag" of a repository's deletions, in order. */
static void deletions(json_t *plan, const char *repo, char *out, size_t len)
{
    out[0] = '\0';
    size_t i, j, k;
    json_t *r, *d, *t;
    json_array_foreach(json_object_get(plan, "repositories"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "name")), repo) != 0)
            continue;
        json_array_foreach(json_object_get(r, "delete"), j, d)
        {
            snprintf(out + strlen(out), len - strlen(out), "%s%s:", j ? ";" : "",
                     json_string_value(json_object_get(d, "digest")) + 7);
            json_array_foreach(json_object_get(d, "tags"), k, t)
            {
                snprintf(out + strlen(out), len - strlen(out), "%s%s", k ? "," : "",
                         json_string_value(t));
            }
        }
    }
}

static const char *reason(json_t *plan, const char *repo, const char *tag)
{
    size_t i, j;
    json_t *r, *k;
    json_array_foreach(json_object_get(plan, "repositories"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "name")), repo) != 0)
            continue;
        json_array_foreach(json_object_get(r, "keep"), j, k)
        {
            if (strcmp(json_string_value(json_object_get(k, "tag")), tag) == 0)
                return json_string_value(json_object_get(k, "reason"));
        }
    }
    return NULL;
}

static void test_plan(void **state)
{
    char got[256];
    static const struct {
        const char *rules, *want; /* team/app's deletions */
        long long images, bytes;
    } rows[] = {
        /* keep the 2 newest: latest, c3; b2 and the v1/old image go; the
         * tag of unknown age stays */
        {"{\"rules\":[{\"repositories\":\"team/*\",\"keepLast\":2}]}", "a1:v1,old;b2:b2", 2, 300},
        /* keep v* too: v1 keeps its image, so "old" stays with it */
        {"{\"rules\":[{\"repositories\":\"team/*\",\"keepLast\":2,\"keepTags\":[\"v*\"]}]}",
         "b2:b2", 1, 200},
        /* keep nothing by age, all by pattern */
        {"{\"rules\":[{\"repositories\":\"team/app\",\"keepLast\":0,\"keepTags\":[\"*\"]}]}", "", 0,
         0},
        /* keep nothing at all: every dated image goes */
        {"{\"rules\":[{\"repositories\":\"team/app\",\"keepLast\":0}]}",
         "a1:v1,old;b2:b2;c3:c3;d4:latest", 4, 1000},
        /* null keepLast: nothing goes by age */
        {"{\"rules\":[{\"repositories\":\"*\"}]}", "", 0, 0},
        /* the first matching rule counts */
        {"{\"rules\":[{\"repositories\":\"team/app\",\"keepLast\":3},{\"repositories\":\"*\","
         "\"keepLast\":0}]}",
         "a1:v1,old", 2, 101}, /* and other/app's one image by the second rule */
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        json_t *p = plan_of(rows[i].rules);
        deletions(p, "team/app", got, sizeof got);
        CHECK(strcmp(got, rows[i].want) == 0, "%s: deletes '%s' want '%s'", rows[i].rules, got,
              rows[i].want);
        const char *why = reason(p, "team/app", "mystery");
        CHECK(why && (strcmp(why, "age unknown") == 0 || strcmp(why, "pattern") == 0),
              "%s: the tag of unknown age is not kept (%s)", rows[i].rules, why ? why : "gone");
        long long images = json_integer_value(json_object_get(p, "images"));
        long long bytes = json_integer_value(json_object_get(p, "bytes"));
        CHECK(images == rows[i].images && bytes == rows[i].bytes, "%s: %lld images %lld bytes",
              rows[i].rules, images, bytes);
        json_decref(p);
    }
    /* reasons and untouched repositories */
    json_t *p = plan_of("{\"rules\":[{\"repositories\":\"team/*\",\"keepLast\":2,"
                        "\"keepTags\":[\"v*\"]}]}");
    assert_string_equal(reason(p, "team/app", "latest"), "recent");
    assert_string_equal(reason(p, "team/app", "v1"), "pattern");
    assert_string_equal(reason(p, "team/app", "old"), "same image");
    assert_int_equal(json_array_size(json_object_get(p, "repositories")), 1);
    deletions(p, "other/app", got, sizeof got);
    assert_string_equal(got, "");
    json_decref(p);
}

/* The deletions of the plan of rules_text for one repository given as the
 * JSON text repo_text (scan_repo's form). */
static void plan_one(const char *rules_text, const char *repo_text, char *got, size_t len,
                     json_t **plan_out)
{
    struct err e = {0};
    json_t *rules = parse_text(rules_text, &e);
    json_error_t je;
    json_t *repo = json_loads(repo_text, 0, &je);
    if (!repo)
        fail_msg("bad test repo at %d: %s", je.position, je.text);
    json_t *repos = json_pack("[o]", repo);
    assert_non_null(rules);
    json_t *p = retention_plan(rules, repos, NOW);
    assert_non_null(p);
    deletions(p, json_string_value(json_object_get(repo, "name")), got, len);
    json_decref(rules);
    json_decref(repos);
    if (plan_out)
        *plan_out = p;
    else
        json_decref(p);
}

/* One tag of a repository in scan_repo's form: name, digest ("sha256:" and
 * the rest), created (JSON: a quoted time or null). */
#define TAG(t, d, c) "{\"tag\":\"" t "\",\"digest\":\"sha256:" d "\",\"created\":" c ",\"size\":10}"
#define T(x) "\"" x "\""

/* Issue 16's cases, each of which deleted a kept image before. */
// clang-format off
static void test_plan_safety(void **state)
{
    char got[512];
    json_t *p;
    /* 1. per-arch tags combined into latest: the platforms stay with it */
    plan_one("{\"rules\":[{\"repositories\":\"multi\",\"keepLast\":0,\"keepTags\":[\"latest\"]}]}",
             "{\"name\":\"multi\",\"complete\":true,\"tags\":["
             TAG("build-1-amd64", "a1", T("2026-01-01T00:00:00Z")) ","
             TAG("build-1-arm64", "b2", T("2026-01-01T00:00:01Z")) ","
             TAG("latest", "ix", T("2026-01-01T00:00:02Z")) ","
             TAG("old", "o1", T("2025-01-01T00:00:00Z")) "],"
             "\"children\":{\"sha256:ix\":[\"sha256:a1\",\"sha256:b2\"]}}",
             got, sizeof got, &p);
    assert_string_equal(got, "o1:old");
    assert_string_equal(reason(p, "multi", "build-1-amd64"), "in a kept index");
    assert_string_equal(reason(p, "multi", "build-1-arm64"), "in a kept index");
    json_decref(p);
    /* per-arch tags and an index per build, all of a build at one time:
     * one build, not a tie; keepLast 1 keeps the newest build's index and
     * with it its platforms, the older builds go */
    plan_one("{\"rules\":[{\"repositories\":\"b\",\"keepLast\":1}]}",
             "{\"name\":\"b\",\"complete\":true,\"tags\":["
             TAG("build-1-amd64", "a1", T("2026-01-01T00:00:00Z")) ","
             TAG("build-1-arm64", "b1", T("2026-01-01T00:00:00Z")) ","
             TAG("build-1", "i1", T("2026-01-01T00:00:00Z")) ","
             TAG("build-2-amd64", "a2", T("2026-02-01T00:00:00Z")) ","
             TAG("build-2-arm64", "b2", T("2026-02-01T00:00:00Z")) ","
             TAG("build-2", "i2", T("2026-02-01T00:00:00Z")) "],"
             "\"children\":{\"sha256:i1\":[\"sha256:a1\",\"sha256:b1\"],"
             "\"sha256:i2\":[\"sha256:a2\",\"sha256:b2\"]}}",
             got, sizeof got, &p);
    assert_string_equal(got, "a1:build-1-amd64;b1:build-1-arm64;i1:build-1");
    assert_string_equal(reason(p, "b", "build-2"), "recent");
    assert_string_equal(reason(p, "b", "build-2-amd64"), "in a kept index");
    json_decref(p);
    /* nested: an index in an index */
    plan_one("{\"rules\":[{\"repositories\":\"n\",\"keepLast\":0,\"keepTags\":[\"top\"]}]}",
             "{\"name\":\"n\",\"complete\":true,\"tags\":["
             TAG("top", "t0", "null") ","
             TAG("inner", "i0", T("2026-01-01T00:00:00Z")) ","
             TAG("leaf", "l0", T("2026-01-02T00:00:00Z")) "],"
             "\"children\":{\"sha256:t0\":[\"sha256:i0\"],\"sha256:i0\":[\"sha256:l0\"]}}",
             got, sizeof got, NULL);
    assert_string_equal(got, "");
    /* 4. fixed build timestamps: the order is unknown, nothing goes */
    plan_one("{\"rules\":[{\"repositories\":\"r\",\"keepLast\":3}]}",
             "{\"name\":\"r\",\"complete\":true,\"tags\":["
             TAG("1.0.1", "01", T("2026-01-01T00:00:00Z")) ","
             TAG("1.0.10", "10", T("2026-01-01T00:00:00Z")) ","
             TAG("1.0.11", "11", T("2026-01-01T00:00:00Z")) ","
             TAG("1.0.12", "12", T("2026-01-01T00:00:00Z")) "],\"children\":{}}",
             got, sizeof got, NULL);
    assert_string_equal(got, "");
    /* implausible times: 1980, 1970, the far future, not UTC, no time, no
     * real moment (month 13, February 30) */
    plan_one("{\"rules\":[{\"repositories\":\"r\",\"keepLast\":0}]}",
             "{\"name\":\"r\",\"complete\":true,\"tags\":["
             TAG("a", "01", T("1980-01-01T00:00:01Z")) ","
             TAG("b", "02", T("1970-01-01T00:00:00Z")) ","
             TAG("c", "03", T("2030-01-01T00:00:00Z")) ","
             TAG("d", "04", T("2026-01-01T00:00:00+02:00")) ","
             TAG("e", "05", "null") ","
             TAG("g", "07", T("2024-13-45T99:00:00Z")) ","
             TAG("h", "08", T("2024-02-30T10:00:00Z")) ","
             TAG("f", "06", T("2026-01-01T00:00:00Z")) "],\"children\":{}}",
             got, sizeof got, NULL);
    assert_string_equal(got, "06:f");
    /* the same time on the same image is no tie */
    plan_one("{\"rules\":[{\"repositories\":\"r\",\"keepLast\":1}]}",
             "{\"name\":\"r\",\"complete\":true,\"tags\":["
             TAG("a", "01", T("2026-01-01T00:00:00Z")) ","
             TAG("b", "01", T("2026-01-01T00:00:00Z")) ","
             TAG("c", "03", T("2026-02-01T00:00:00Z")) "],\"children\":{}}",
             got, sizeof got, NULL);
    assert_string_equal(got, "01:a,b");
    /* 2, 3, 5. a repository not read whole deletes nothing and says why */
    plan_one("{\"rules\":[{\"repositories\":\"r\",\"keepLast\":0}]}",
             "{\"name\":\"r\",\"complete\":false,\"problem\":\"1 of 2 tags could not be read\","
             "\"tags\":[" TAG("a", "01", T("2026-01-01T00:00:00Z")) "],\"children\":{}}",
             got, sizeof got, &p);
    assert_string_equal(got, "");
    assert_string_equal(reason(p, "r", "a"), "not read whole");
    json_t *sk = json_array_get(json_object_get(p, "skipped"), 0);
    assert_int_equal(json_array_size(json_object_get(p, "skipped")), 1);
    assert_string_equal(json_string_value(json_object_get(sk, "reason")), "1 of 2 tags could not be read");
    json_decref(p);
}
// clang-format on

/* scan_delete against scripted answers: a 500 that deleted the manifest,
 * then 404, counts as deleted; a plain 404 does not; 405 is refused. */
static long script[4];
static int script_at;
static int scripted(void *ctx, int worker, const char *method, const char *path,
                    struct scan_reply *r)
{
    (void)ctx, (void)worker, (void)path;
    memset(r, 0, sizeof *r);
    assert_string_equal(method, "DELETE");
    r->status = script[script_at++];
    return 0;
}

/* Builds that share a creation time (SOURCE_DATE_EPOCH, fixed build
 * times): ordered by push time when every candidate has a distinct valid
 * one, else every candidate at that time stays "age unknown" (issue 17) */
#define TAGP(t, d, c, p)                                                                         \
    "{\"tag\":\"" t "\",\"digest\":\"sha256:" d "\",\"created\":" c ",\"size\":10,\"pushed\":" p "}"
static void test_plan_push_order(void **state)
{
    char got[512];
    json_t *p;
    const char *keep1 = "{\"rules\":[{\"repositories\":\"r\",\"keepLast\":1,\"keepTags\":[\"pin-*\"]}]}";
    /* three builds at one time, pushed one after the other: the last push
     * stays; a second tag of the newest build stays with it */
    plan_one(keep1,
             "{\"name\":\"r\",\"complete\":true,\"tags\":["
             TAGP("one", "d1", T("2026-01-01T00:00:00Z"), T("2026-03-01T10:00:00Z")) ","
             TAGP("three", "d3", T("2026-01-01T00:00:00Z"), T("2026-03-03T10:00:00Z")) ","
             TAGP("two", "d2", T("2026-01-01T00:00:00Z"), T("2026-03-02T10:00:00Z")) ","
             TAGP("pin-x", "d1", T("2026-01-01T00:00:00Z"), "null") "],\"children\":{}}",
             got, sizeof got, &p);
    /* pin-x keeps d1 by pattern (and is no candidate: its missing push time
     * does not matter); d2 goes */
    assert_string_equal(got, "d2:two");
    assert_string_equal(reason(p, "r", "three"), "recent");
    assert_string_equal(reason(p, "r", "one"), "same image");
    json_decref(p);
    /* one candidate without a valid push time: the order is unknown */
    static const char *unknown[] = {"null", T("1999-12-31T23:59:59Z"), T("2026-13-01T00:00:00Z"),
                                    T("2031-01-01T00:00:00Z"), T("yesterday")};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        char repo[1024];
        snprintf(repo, sizeof repo,
                 "{\"name\":\"r\",\"complete\":true,\"tags\":["
                 TAGP("one", "d1", T("2026-01-01T00:00:00Z"), T("2026-03-01T10:00:00Z")) ","
                 TAGP("two", "d2", T("2026-01-01T00:00:00Z"), "%s") ","
                 TAGP("old", "d0", T("2025-01-01T00:00:00Z"), T("2026-03-05T10:00:00Z")) "],"
                 "\"children\":{}}",
                 unknown[i]);
        plan_one("{\"rules\":[{\"repositories\":\"r\",\"keepLast\":0}]}", repo, got, sizeof got,
                 &p);
        CHECK(strcmp(got, "d0:old") == 0, "pushed %s: deletes '%s'", unknown[i], got);
        CHECK(strcmp(reason(p, "r", "one"), "age unknown") == 0, "pushed %s: one is %s",
              unknown[i], reason(p, "r", "one"));
        json_decref(p);
    }
    /* two builds pushed in the same second: unknown too; one build's two
     * tags pushed in the same second are no tie */
    plan_one(keep1,
             "{\"name\":\"r\",\"complete\":true,\"tags\":["
             TAGP("one", "d1", T("2026-01-01T00:00:00Z"), T("2026-03-01T10:00:00Z")) ","
             TAGP("two", "d2", T("2026-01-01T00:00:00Z"), T("2026-03-01T10:00:00Z")) "],"
             "\"children\":{}}",
             got, sizeof got, &p);
    assert_string_equal(got, "");
    assert_string_equal(reason(p, "r", "two"), "age unknown");
    json_decref(p);
    plan_one(keep1,
             "{\"name\":\"r\",\"complete\":true,\"tags\":["
             TAGP("one", "d1", T("2026-01-01T00:00:00Z"), T("2026-03-01T10:00:00Z")) ","
             TAGP("uno", "d1", T("2026-01-01T00:00:00Z"), T("2026-03-01T10:00:00Z")) ","
             TAGP("two", "d2", T("2026-01-01T00:00:00Z"), T("2026-03-02T10:00:00Z")) "],"
             "\"children\":{}}",
             got, sizeof got, &p);
    assert_string_equal(got, "d1:one,uno");
    json_decref(p);
}

static void test_delete_tries(void **state)
{
    struct scan_io io = {.call = scripted, .threads = 1};
    static const struct {
        long answers[4];
        int rc, status, calls;
    } rows[] = {
        {{202}, 0, 0, 1},    {{500, 404}, 0, 0, 2}, {{503, 500, 202}, 0, 0, 3},
        {{404}, -1, 404, 1}, {{405}, -1, 409, 1},   {{500, 500, 500, 500}, -1, 502, 4},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        struct err e = {0};
        memcpy(script, rows[i].answers, sizeof script);
        script_at = 0;
        int rc = scan_delete(&io, "team/app", "sha256:" DIGEST64, &e);
        CHECK(rc == rows[i].rc && (rc == 0 || e.status == rows[i].status) &&
                  script_at == rows[i].calls,
              "row %zu: rc %d status %d calls %d", i, rc, e.status, script_at);
    }
}

/* A tag list whose pages cannot be read whole: scan_repo says not whole. */
static const char *page_link, *page_body;
static int paged(void *ctx, int worker, const char *method, const char *path, struct scan_reply *r)
{
    (void)ctx, (void)worker, (void)method, (void)path;
    memset(r, 0, sizeof *r);
    r->status = 200;
    snprintf(r->link, sizeof r->link, "%s", page_link);
    buf_append(&r->body, page_body, strlen(page_body));
    return 0;
}

static void test_pages_not_whole(void **state)
{
    struct scan_io io = {.call = paged, .threads = 1};
    static const struct {
        const char *link, *body, *problem;
    } rows[] = {
        /* a next page on another host (a proxy's absolute link) */
        {"<https://elsewhere/v2/r/tags/list?last=a&n=1>; rel=\"next\"", "{\"tags\":[\"a\"]}",
         "cannot follow"},
        /* a Link that names the same page again and again */
        {"</v2/r/tags/list?last=a&n=1>; rel=\"next\"", "{\"tags\":[\"a\"]}", "repeat"},
        /* a name no tag can have (it would be asked for as a path) */
        {"", "{\"tags\":[\"../x\"]}", "no tag"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        page_link = rows[i].link;
        page_body = rows[i].body;
        scan_cache_clear();
        json_t *r = scan_repo(&io, "r");
        const char *problem = json_string_value(json_object_get(r, "problem"));
        CHECK(!json_is_true(json_object_get(r, "complete")) && problem &&
                  strstr(problem, rows[i].problem),
              "row %zu: %s", i, problem ? problem : "read whole");
        json_decref(r);
    }
}

static void test_file(void **state)
{
    char dir[] = "/tmp/sr-retention-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/retention.json", dir);
    struct err e = {0};
    json_t *r = NULL;
    assert_int_equal(retention_load(path, &r, &e), 0); /* no file: defaults */
    json_t *def = retention_default();
    assert_true(json_equal(r, def));
    json_decref(def);
    json_decref(r);
    r = parse_text("{\"rules\":[{\"repositories\":\"a\",\"keepLast\":1}],\"schedule\":\"03:00\"}",
                   &e);
    assert_int_equal(retention_save(path, r, &e), 0);
    json_t *back = NULL;
    assert_int_equal(retention_load(path, &back, &e), 0);
    assert_true(json_equal(r, back));
    json_decref(back);
    json_decref(r);
    FILE *f = fopen(path, "w");
    fputs("{\"rules\":[{\"repositories\":\"\"}]}", f);
    fclose(f);
    assert_int_equal(retention_load(path, &back, &e), -1);
    assert_string_equal(ecode_name(e.code), "state_corrupt");
    unlink(path);
    rmdir(dir);
}

static void test_due(void **state)
{
    const long long day = 20000; /* a day, in days since the epoch */
    const long long at0300 = day * 86400 + 3 * 3600;
    static const struct {
        int minute;
        long last;
        long long now_offset; /* seconds after 03:00 of day */
        int due;
    } rows[] = {
        {-1, 19999, 0, 0},             /* no schedule */
        {180, 19999, 0, 1},            /* 03:00, not run today: due at 03:00 */
        {180, 19999, -60, 0},          /* 02:59: not yet */
        {180, 19999, 5 * 3600, 1},     /* later that day (the backend was down) */
        {180, 20000, 60, 0},           /* ran today already */
        {180, 20000, 86400, 1},        /* the next day at 03:00 */
        {180, 20000, 86400 - 3600, 0}, /* the next day at 02:00 */
        {0, 19999, -3 * 3600, 1},      /* 00:00 at midnight */
        {1439, 19999, 21 * 3600 - 60, 1} /* 23:59 */,
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        CHECK(retention_due(rows[i].minute, rows[i].last, at0300 + rows[i].now_offset) ==
                  rows[i].due,
              "row %zu: due %d", i, !rows[i].due);
}

/* The history of runs: newest first, the oldest dropped past the bound,
 * made on the first run; a failed entry leaves it as it was. */
static void test_history(void **state)
{
    (void)state;
    json_t *h = NULL;
    assert_int_equal(retention_history_add(&h, NULL, 3), -1);
    assert_null(h);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(retention_history_add(&h, json_pack("{s:i}", "n", i), 3), 0);
    assert_non_null(h);
    assert_int_equal(json_array_size(h), 3);
    /* the last three, newest first */
    for (int i = 0; i < 3; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(h, i), "n")), 5 - i);
    assert_int_equal(retention_history_add(&h, NULL, 3), -1);
    assert_int_equal(json_array_size(h), 3);
    /* the product's bound */
    for (int i = 0; i < 25; i++)
        assert_int_equal(
            retention_history_add(&h, json_pack("{s:i}", "n", 100 + i), RETENTION_HISTORY_MAX), 0);
    assert_int_equal(json_array_size(h), RETENTION_HISTORY_MAX);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "n")), 124);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(h, RETENTION_HISTORY_MAX - 1), "n")),
        115);
    json_decref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),   cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_plan),         cmocka_unit_test(test_plan_safety),
        cmocka_unit_test(test_plan_push_order),
        cmocka_unit_test(test_delete_tries), cmocka_unit_test(test_pages_not_whole),
        cmocka_unit_test(test_file),         cmocka_unit_test(test_due),
        cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
