/*
 * Unit tests for backend/regindex.c and events.c: the schema and a file
 * that cannot be used (set aside, rebuilt), what a reading makes true (tags
 * exactly as read, an event newer than the reading kept, a reading not
 * whole removing nothing), the events (push order, pull attribution: a
 * manifest GET by someone else, not a HEAD, not a blob, not the backend),
 * sizes with shared blobs counted once, search with LIKE's wildcards taken
 * literally, sorting and paging, the envelope parser, and a kill -9 in the
 * middle of a flood of events losing nothing that was acknowledged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "events.h"
#include "regindex.h"

#define D(c)                                                                                       \
    "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
        c c c c c c c c c c c c c c c c c c c c c c

static char dir[256];

static char *path_of(const char *name)
{
    static char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sr-regindex-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static struct rix *open_ix(void)
{
    char why[200];
    struct err e = {0};
    struct rix *x = rix_open(path_of("index.db"), why, sizeof why, &e);
    assert_non_null(x);
    assert_string_equal(why, "");
    return x;
}

/* an image with blobs (digest char, size) pairs, created at t */
static json_t *image(const char *created, const char *platform, int n, ...)
{
    json_t *blobs = json_object();
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *d = va_arg(ap, const char *);
        json_object_set_new(blobs, d, json_integer(va_arg(ap, int)));
    }
    va_end(ap);
    return json_pack("{s:s, s:s, s:s?, s:o, s:[], s:s?}", "kind", "image", "mediaType",
                     "application/vnd.oci.image.manifest.v1+json", "created", created, "blobs",
                     blobs, "children", "platform", platform);
}

static json_t *scan_of(const char *name, int complete, json_t *tags, json_t *manifests)
{
    return json_pack("{s:s, s:b, s:o, s:{}, s:o}", "name", name, "complete", complete, "tags", tags,
                     "children", "manifests", manifests ? manifests : json_object());
}

static json_t *tag(const char *t, const char *d)
{
    return json_pack("{s:s, s:s}", "tag", t, "digest", d);
}

static json_t *page(struct rix *x, const char *q, const char *sort, int desc)
{
    struct err e = {0};
    json_t *r = rix_repositories(x, q, sort, desc, 0, 100, &e);
    assert_non_null(r);
    return r;
}

/* the tag t of repository name in a page, or NULL */
static json_t *find(json_t *pg, const char *name, const char *t)
{
    size_t i, j;
    json_t *r, *x;
    json_array_foreach(json_object_get(pg, "repositories"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "name")), name) != 0)
            continue;
        if (!t)
            return r;
        json_array_foreach(json_object_get(r, "tags"), j, x)
        {
            if (strcmp(json_string_value(json_object_get(x, "tag")), t) == 0)
                return x;
        }
    }
    return NULL;
}

static void ev(struct rix *x, const char *action, const char *repo, const char *tagname,
               const char *digest, const char *method, const char *agent, const char *actor,
               const char *url_kind, const char *ts)
{
    char url[512];
    snprintf(url, sizeof url, "http://r/v2/%s/%s/%s", repo, url_kind, digest ? digest : "");
    json_t *e = json_pack("{s:s, s:s, s:{s:s, s:s?, s:s?, s:s}, s:{s:s?, s:s?}, s:{s:s?}}",
                          "action", action, "timestamp", ts, "target", "repository", repo, "tag",
                          tagname, "digest", digest, "url", url, "request", "method", method,
                          "useragent", agent, "actor", "name", actor);
    struct err err = {0};
    assert_int_equal(rix_event(x, e, "internal", NULL, &err), 0);
    json_decref(e);
}

static void test_reading(void **state)
{
    (void)state;
    struct rix *x = open_ix();
    struct err e = {0};
    json_t *m = json_object();
    json_object_set_new(m, D("a"),
                        image("2026-01-01T00:00:00Z", "linux/amd64", 2, D("1"), 100, D("2"), 50));
    json_object_set_new(m, D("b"),
                        image("2026-02-01T00:00:00Z", "linux/arm64", 2, D("1"), 100, D("3"), 7));
    json_t *s = scan_of(
        "apps/web", 1,
        json_pack("[o, o, o]", tag("1", D("a")), tag("2", D("b")), tag("latest", D("b"))), m);
    assert_int_equal(rix_put_repo(x, s, 0, &e), 0);
    json_decref(s);
    long long repos = 0, tags = 0;
    assert_int_equal(rix_counts(x, &repos, &tags), 0);
    assert_int_equal(repos, 1);
    assert_int_equal(tags, 3);
    json_t *pg = page(x, NULL, "name", 0);
    /* the shared blob 1 counts once: 100 + 50 + 7 */
    assert_int_equal(json_integer_value(json_object_get(find(pg, "apps/web", NULL), "size")), 157);
    assert_int_equal(json_integer_value(json_object_get(find(pg, "apps/web", NULL), "tagCount")),
                     3);
    json_t *t = find(pg, "apps/web", "2");
    assert_int_equal(json_integer_value(json_object_get(t, "size")), 107);
    assert_string_equal(json_string_value(json_object_get(t, "created")), "2026-02-01T00:00:00Z");
    assert_true(json_is_null(json_object_get(t, "pushed"))); /* before the index knew */
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(t, "platforms"), 0), "platform")),
                        "linux/arm64");
    json_decref(pg);

    /* a reading whole: latest is gone, 2 moved to a; a reading not whole
     * removes nothing */
    s = scan_of("apps/web", 0, json_pack("[o]", tag("2", D("a"))), NULL);
    assert_int_equal(rix_put_repo(x, s, 0, &e), 0);
    json_decref(s);
    pg = page(x, NULL, NULL, 0);
    assert_non_null(find(pg, "apps/web", "latest"));
    assert_string_equal(json_string_value(json_object_get(find(pg, "apps/web", "2"), "digest")),
                        D("a"));
    json_decref(pg);
    s = scan_of("apps/web", 1, json_pack("[o, o]", tag("1", D("a")), tag("2", D("a"))), NULL);
    assert_int_equal(rix_put_repo(x, s, 0, &e), 0);
    json_decref(s);
    pg = page(x, NULL, NULL, 0);
    assert_null(find(pg, "apps/web", "latest"));
    assert_int_equal(json_integer_value(json_object_get(find(pg, "apps/web", NULL), "size")), 150);
    json_decref(pg);

    /* a reading with no tag removes the repository; keep_only the rest */
    s = scan_of("apps/api", 1, json_pack("[o]", tag("1", D("b"))), NULL);
    assert_int_equal(rix_put_repo(x, s, 0, &e), 0);
    json_decref(s);
    s = scan_of("apps/web", 1, json_array(), NULL);
    assert_int_equal(rix_put_repo(x, s, 0, &e), 0);
    json_decref(s);
    assert_int_equal(rix_counts(x, &repos, &tags), 0);
    assert_int_equal(repos, 1);
    json_t *names = json_pack("[s]", "other");
    assert_int_equal(rix_keep_only(x, names, &e), 0);
    json_decref(names);
    assert_int_equal(rix_counts(x, &repos, &tags), 0);
    assert_int_equal(repos + tags, 0);
    rix_close(x);
}

static void test_events(void **state)
{
    (void)state;
    struct rix *x = open_ix();
    struct err e = {0};
    json_t *m = json_object();
    json_object_set_new(m, D("a"), image("2026-01-01T00:00:00Z", NULL, 1, D("1"), 10));
    json_object_set_new(m, D("b"), image("2026-02-01T00:00:00Z", NULL, 1, D("2"), 20));
    json_t *s = scan_of("r", 1, json_pack("[o]", tag("1", D("a"))), m);
    assert_int_equal(rix_put_repo(x, s, 0, &e), 0);
    json_decref(s);

    /* pushes: the newer wins whatever the order they arrive in */
    ev(x, "push", "r", "1", D("b"), "PUT", "docker/28", "alice", "manifests",
       "2026-12-01T10:00:02.5Z");
    ev(x, "push", "r", "1", D("a"), "PUT", "docker/28", "bob", "manifests", "2026-12-01T10:00:01Z");
    json_t *pg = page(x, NULL, NULL, 0);
    json_t *t = find(pg, "r", "1");
    assert_string_equal(json_string_value(json_object_get(t, "digest")), D("b"));
    assert_string_equal(json_string_value(json_object_get(t, "pushedBy")), "alice");
    assert_string_equal(json_string_value(json_object_get(t, "pushed")), "2026-12-01T10:00:02Z");
    json_decref(pg);

    /* a reading that began before the push does not undo it */
    s = scan_of("r", 1, json_pack("[o]", tag("1", D("a"))), NULL);
    assert_int_equal(rix_put_repo(x, s, 1764583200LL /* 2025-12-01 */, &e), 0);
    json_decref(s);
    pg = page(x, NULL, NULL, 0);
    assert_string_equal(json_string_value(json_object_get(find(pg, "r", "1"), "digest")), D("b"));
    json_decref(pg);

    /* pulls: a GET by someone else counts, for every tag on the image */
    ev(x, "push", "r", "2", D("b"), "PUT", "docker", NULL, "manifests", "2026-12-01T10:00:03Z");
    ev(x, "pull", "r", "1", D("b"), "HEAD", "docker", NULL, "manifests", "2026-12-01T11:00:00Z");
    ev(x, "pull", "r", NULL, D("b"), "GET", "docker", NULL, "manifests", "2026-12-01T11:00:01Z");
    ev(x, "pull", "r", NULL, D("b"), "GET", "docker", NULL, "blobs", "2026-12-01T11:00:02Z");
    ev(x, "pull", "r", NULL, D("b"), "GET", "storj-registryd/0.3", NULL, "manifests",
       "2026-12-01T11:00:03Z");
    ev(x, "pull", "r", NULL, D("b"), "GET", "curl", "internal", "manifests",
       "2026-12-01T11:00:04Z");
    pg = page(x, NULL, NULL, 0);
    assert_int_equal(json_integer_value(json_object_get(find(pg, "r", "1"), "pulls")), 1);
    assert_int_equal(json_integer_value(json_object_get(find(pg, "r", "2"), "pulls")), 1);
    assert_string_equal(json_string_value(json_object_get(find(pg, "r", "2"), "lastPulled")),
                        "2026-12-01T11:00:01Z");
    assert_int_equal(json_integer_value(json_object_get(find(pg, "r", NULL), "pulls")), 1);
    json_decref(pg);

    /* a pull in another repository is that repository's */
    ev(x, "pull", "other", "1", D("b"), "GET", "docker", NULL, "manifests", "2026-12-01T12:00:00Z");
    pg = page(x, NULL, NULL, 0);
    assert_int_equal(json_integer_value(json_object_get(find(pg, "r", "1"), "pulls")), 1);
    json_decref(pg);

    /* deletes: by digest (every tag on it), by tag, the repository */
    ev(x, "delete", "r", NULL, D("b"), "DELETE", "docker", NULL, "manifests",
       "2026-12-01T13:00:00Z");
    pg = page(x, NULL, NULL, 0);
    assert_null(find(pg, "r", NULL));
    json_decref(pg);
    ev(x, "push", "r", "x", D("a"), "PUT", "docker", NULL, "manifests", "2026-12-01T14:00:00Z");
    ev(x, "push", "r", "y", D("a"), "PUT", "docker", NULL, "manifests", "2026-12-01T14:00:00Z");
    /* a delete older than the push does not remove it */
    ev(x, "delete", "r", "x", NULL, "DELETE", "docker", NULL, "manifests", "2026-12-01T13:59:00Z");
    ev(x, "delete", "r", "y", NULL, "DELETE", "docker", NULL, "manifests", "2026-12-01T14:00:01Z");
    pg = page(x, NULL, NULL, 0);
    assert_non_null(find(pg, "r", "x"));
    assert_null(find(pg, "r", "y"));
    json_decref(pg);

    /* nonsense is ignored, never stored */
    json_t *bad = json_pack("{s:s, s:{s:s, s:s, s:s}}", "action", "push", "target", "repository",
                            "../etc", "tag", "x", "digest", "nope");
    assert_int_equal(rix_event(x, bad, NULL, NULL, &e), 0);
    json_decref(bad);
    bad = json_pack("{s:i}", "action", 3);
    assert_int_equal(rix_event(x, bad, NULL, NULL, &e), 0);
    json_decref(bad);
    long long repos = 0, tags = 0;
    assert_int_equal(rix_counts(x, &repos, &tags), 0);
    assert_int_equal(repos, 1);
    assert_int_equal(tags, 1);
    rix_close(x);
}

static void test_search_sort_page(void **state)
{
    (void)state;
    struct rix *x = open_ix();
    struct err e = {0};
    const char *names[] = {"a/one", "b/two", "c/100%", "d/x_y"};
    /* a digest never changes meaning: each repository its own image */
    const char *digests[] = {D("a"), D("b"), D("c"), D("d")};
    const char *blobs[] = {D("1"), D("2"), D("3"), D("4")};
    for (int i = 0; i < 4; i++) {
        json_t *m = json_object();
        json_object_set_new(m, digests[i], image(NULL, NULL, 1, blobs[i], 10 * (i + 1)));
        json_t *s = scan_of(names[i], 1,
                            json_pack("[o, o]", tag("v1", digests[i]), tag("dev", digests[i])), m);
        /* names with % and _ are not registry names: only the search is
         * tried with them */
        if (strchr(names[i], '%') || strchr(names[i], '_'))
            json_object_set_new(s, "name", json_string(i == 2 ? "c/100" : "d/xay"));
        assert_int_equal(rix_put_repo(x, s, 0, &e), 0);
        json_decref(s);
    }
    json_t *pg = page(x, "two", NULL, 0);
    assert_int_equal(json_integer_value(json_object_get(pg, "total")), 1);
    assert_int_equal(json_array_size(json_object_get(find(pg, "b/two", NULL), "tags")), 2);
    json_decref(pg);
    /* a tag match shows only the matching tags */
    pg = page(x, "dev", NULL, 0);
    assert_int_equal(json_integer_value(json_object_get(pg, "total")), 4);
    assert_int_equal(json_array_size(json_object_get(find(pg, "a/one", NULL), "tags")), 1);
    json_decref(pg);
    /* % and _ are letters in a search */
    pg = page(x, "%", NULL, 0);
    assert_int_equal(json_integer_value(json_object_get(pg, "total")), 0);
    json_decref(pg);
    pg = page(x, "x_y", NULL, 0);
    assert_int_equal(json_integer_value(json_object_get(pg, "total")), 0);
    json_decref(pg);
    /* sort by size, biggest first; paging */
    pg = page(x, NULL, "size", 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(pg, "repositories"), 0), "name")),
                        "d/xay");
    json_decref(pg);
    json_t *r = rix_repositories(x, NULL, "name", 0, 1, 2, &e);
    assert_non_null(r);
    assert_int_equal(json_array_size(json_object_get(r, "repositories")), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "nextOffset")), 3);
    json_decref(r);
    r = rix_repositories(x, NULL, "name", 0, 3, 2, &e);
    assert_true(json_is_null(json_object_get(r, "nextOffset")));
    json_decref(r);
    assert_null(rix_repositories(x, NULL, "colour", 0, 0, 10, &e));
    assert_string_equal(e.field, "sort");
    rix_close(x);
}

static void test_broken_files(void **state)
{
    (void)state;
    char why[200];
    struct err e = {0};
    FILE *f = fopen(path_of("index.db"), "w");
    assert_non_null(f);
    fputs("not a database at all, but long enough to look like a header of one......", f);
    fclose(f);
    struct rix *x = rix_open(path_of("index.db"), why, sizeof why, &e);
    assert_non_null(x);
    assert_non_null(strstr(why, "could not be read"));
    long long repos = 1, tags = 1;
    assert_int_equal(rix_counts(x, &repos, &tags), 0);
    assert_int_equal(repos + tags, 0);
    rix_close(x);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q '^index.db.broken-'", dir);
    assert_int_equal(system(cmd), 0);
    /* a newer schema is not read by older code */
    snprintf(cmd, sizeof cmd, "rm -f %s/index.db*", dir);
    assert_int_equal(system(cmd), 0);
    x = open_ix();
    rix_close(x);
    snprintf(cmd, sizeof cmd,
             "python3 -c \"import sqlite3; c=sqlite3.connect('%s/index.db'); "
             "c.execute('PRAGMA user_version=9'); c.commit()\"",
             dir);
    assert_int_equal(system(cmd), 0);
    x = rix_open(path_of("index.db"), why, sizeof why, &e);
    assert_non_null(x);
    assert_non_null(strstr(why, "newer version"));
    rix_close(x);
}

/* kill -9 while events are stored: every event acknowledged before the
 * kill is in the index afterwards */
static void test_kill_loses_nothing_acknowledged(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        struct rix *x = open_ix();
        for (int i = 0;; i++) {
            char t[16], ts[40];
            snprintf(t, sizeof t, "t%d", i);
            snprintf(ts, sizeof ts, "2026-12-01T10:%02d:%02dZ", (i / 60) % 60, i % 60);
            ev(x, "push", "flood", t, D("a"), "PUT", "docker", NULL, "manifests", ts);
            /* acknowledged: told only after the write returned */
            if (write(fds[1], "x", 1) != 1)
                _exit(1);
        }
    }
    close(fds[1]);
    char buf[64];
    long acked = 0;
    while (acked < 300) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n <= 0)
            break;
        acked += n;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* what arrived in the pipe after our last read was acknowledged too */
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        acked += n;
    close(fds[0]);
    assert_true(acked >= 300);
    struct rix *x = open_ix();
    long long repos = 0, tags = 0;
    assert_int_equal(rix_counts(x, &repos, &tags), 0);
    assert_true(tags >= acked);
    rix_close(x);
}

static int count_sink(void *ctx, json_t *event)
{
    (void)event;
    int *n = ctx;
    return ++*n == 3 ? -1 : 0;
}

static void test_envelope(void **state)
{
    (void)state;
    int n = 0;
    const char *ok = "{\"events\":[{\"action\":\"push\"},{\"action\":\"pull\"}]}";
    assert_int_equal(events_parse(ok, strlen(ok), count_sink, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(events_parse("[]", 2, count_sink, &n), -1);
    assert_int_equal(events_parse("{\"events\":{}}", 13, count_sink, &n), -1);
    assert_int_equal(events_parse("{\"events\":[1,2]}", 16, count_sink, &n), 0); /* skipped */
    assert_int_equal(events_parse(NULL, 0, count_sink, &n), -1);
    /* the sink's failure is a 503: the registry sends it again */
    assert_int_equal(events_parse(ok, strlen(ok), count_sink, &n), -2);
    /* too many events in one envelope */
    struct buf b = {0};
    buf_printf(&b, "{\"events\":[");
    for (int i = 0; i <= EVENTS_MAX_PER_BODY; i++)
        buf_printf(&b, "%s{}", i ? "," : "");
    buf_printf(&b, "]}");
    n = 100;
    assert_int_equal(events_parse(b.data, b.len, count_sink, &n), -1);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reading, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_sort_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_loses_nothing_acknowledged, setup, teardown),
        cmocka_unit_test(test_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
