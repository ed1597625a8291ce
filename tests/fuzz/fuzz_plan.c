/*
 * libFuzzer target for the clean-up's reading of a registry and its plan
 * (backend/scan.c, retention.c, cleanup.c): a registry whose every answer
 * comes from the input, read whole, planned, and applied.
 *
 * The input is a series of answers separated by "\n--\n". Each answer is
 * "S D rest": S picks the status (0: 200, 1: 404, 2: 500, 3: no answer,
 * 4: 202, 5: 429, 6: 401), D the Docker-Content-Digest (0-9: digest number
 * D of a table, other: none), the rest is the body. A request takes the
 * next answer; past the last one nothing answers. Repository "r" is planned
 * with one rule; the rule's fields come from the input's first byte.
 *
 * Invariants (checked here, apart from the code): a repository not read
 * whole deletes nothing; no deleted digest is reachable through the
 * reading's "children" from the digest of a kept tag; every tag is either
 * kept or deleted, once; apply deletes only digests the plan deletes.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "retention.h"
#include "scan.h"

#define D(c)                                                                                       \
    "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
        c c c c c c c c c c c c c c c c c c c c c c

static const char *const digests[] = {D("0"), D("1"), D("2"), D("3"), D("4"),
                                      D("5"), D("6"), D("7"), D("8"), D("9")};

struct feed {
    const char *p, *end;
    json_t *deleted; /* digests apply asked to delete */
};

static void check(int ok)
{
    if (!ok)
        abort();
}

static int feed_call(void *ctx, int worker, const char *method, const char *path,
                     struct scan_reply *r)
{
    struct feed *f = ctx;
    (void)worker;
    memset(r, 0, sizeof *r);
    if (f->p >= f->end)
        return -1;
    const char *sep = memmem(f->p, (size_t)(f->end - f->p), "\n--\n", 4);
    const char *stop = sep ? sep : f->end;
    const char *a = f->p;
    f->p = sep ? sep + 4 : f->end;
    size_t n = (size_t)(stop - a);
    static const long statuses[] = {200, 404, 500, 0, 202, 429, 401};
    int s = n > 0 ? (a[0] - '0') : 0;
    long status = s >= 0 && s < 7 ? statuses[s] : 200;
    if (n > 1 && a[1] >= '0' && a[1] <= '9')
        snprintf(r->digest, sizeof r->digest, "%s", digests[a[1] - '0']);
    if (status == 0)
        return -1;
    r->status = status;
    if (strcmp(method, "DELETE") == 0 && status == 202) {
        const char *d = strstr(path, "/manifests/");
        if (d)
            json_object_set_new(f->deleted, d + 11, json_true());
    }
    if (n > 2 && strcmp(method, "HEAD") != 0)
        buf_append(&r->body, a + 2, n - 2);
    return 0;
}

static void reach(json_t *children, const char *d, json_t *seen)
{
    if (json_object_get(seen, d))
        return;
    json_object_set_new(seen, d, json_true());
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(children, d), i, c)
    {
        if (json_is_string(c))
            reach(children, json_string_value(c), seen);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct feed f = {(const char *)data + 1, (const char *)data + size, json_object()};
    struct scan_io io = {.call = feed_call, .ctx = &f, .threads = 1};
    char rules_text[200];
    int keep_last = data[0] & 7;
    snprintf(rules_text, sizeof rules_text,
             "{\"rules\":[{\"repositories\":\"r\",\"keepLast\":%d,\"keepTags\":[%s]}]}", keep_last,
             data[0] & 8 ? "\"v*\"" : "");
    struct err e = {0};
    json_t *body = json_loads(rules_text, 0, NULL);
    json_t *rules = retention_parse(body, &e);
    json_decref(body);
    check(rules != NULL);
    scan_cache_clear();
    json_t *repo = scan_repo(&io, "r");
    check(repo != NULL);
    json_t *repos = json_pack("[O]", repo);
    json_t *plan = retention_plan(rules, repos, 1780272000LL);
    check(plan != NULL);
    json_t *p = json_array_get(json_object_get(plan, "repositories"), 0);
    check(p != NULL);
    json_t *del = json_object_get(p, "delete"), *keep = json_object_get(p, "keep");
    if (!json_is_true(json_object_get(repo, "complete")))
        check(json_array_size(del) == 0 && json_object_get(p, "skipped"));
    /* kept tags' digests and everything reachable from them */
    json_t *kept = json_object(), *tag_digest = json_object(), *placed = json_object();
    size_t i, j;
    json_t *t, *k;
    json_array_foreach(json_object_get(repo, "tags"), i, t) json_object_set(
        tag_digest, json_string_value(json_object_get(t, "tag")), json_object_get(t, "digest"));
    json_array_foreach(keep, i, k)
    {
        const char *name = json_string_value(json_object_get(k, "tag"));
        check(!json_object_get(placed, name));
        json_object_set_new(placed, name, json_true());
        const char *d = json_string_value(json_object_get(tag_digest, name));
        if (d)
            reach(json_object_get(repo, "children"), d, kept);
    }
    json_array_foreach(del, i, k)
    {
        check(!json_object_get(kept, json_string_value(json_object_get(k, "digest"))));
        json_array_foreach(json_object_get(k, "tags"), j, t)
        {
            check(!json_object_get(placed, json_string_value(t)));
            json_object_set_new(placed, json_string_value(t), json_true());
        }
    }
    check(json_object_size(placed) == json_object_size(tag_digest));
    /* apply, with the answers left: only what the plan deletes goes */
    json_t *res = cleanup_apply(&io, rules, plan, 1780272000LL, &e);
    const char *d;
    json_t *v;
    json_object_foreach(f.deleted, d, v)
    {
        int planned = 0;
        json_array_foreach(del, i, k) planned |=
            strcmp(json_string_value(json_object_get(k, "digest")), d) == 0;
        check(planned);
    }
    json_decref(res);
    json_decref(kept);
    json_decref(tag_digest);
    json_decref(placed);
    json_decref(plan);
    json_decref(repos);
    json_decref(repo);
    json_decref(rules);
    json_decref(f.deleted);
    return 0;
}
