#include "cleanup.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "retention.h"

/* Several repositories read at once: many small ones (2 tags each) would
 * otherwise wait on the registry one after another; the workers are shared
 * out (8 readers of 1 worker, 2 of 4, 1 of 8). */
struct readers {
    struct scan_io *io;
    json_t *names; /* the matched ones, in catalog order */
    json_t **repos;
    size_t next;
    int threads; /* workers per reader */
    pthread_mutex_t mu;
};

struct reader {
    struct readers *rs;
    int slot;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    struct readers *rs = r->rs;
    struct scan_io io = *rs->io;
    io.threads = rs->threads;
    io.worker_base = r->slot * rs->threads;
    for (;;) {
        pthread_mutex_lock(&rs->mu);
        size_t i = rs->next < json_array_size(rs->names) ? rs->next++ : (size_t)-1;
        pthread_mutex_unlock(&rs->mu);
        if (i == (size_t)-1 || (io.cancelled && io.cancelled(io.ctx)))
            break;
        io.repo_at = i;
        rs->repos[i] = scan_repo(&io, json_string_value(json_array_get(rs->names, i)));
        if (rs->repos[i] && io.annotate)
            io.annotate(io.actx, rs->repos[i]);
    }
    return NULL;
}

json_t *cleanup_read(struct scan_io *io, json_t *rules, struct err *e)
{
    json_t *names = scan_catalog(io, e), *matched = json_array(), *out = json_array();
    struct readers rs = {.io = io};
    if (!names || !matched || !out)
        goto fail;
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        if (retention_rule_of(rules, json_string_value(n)) >= 0)
            json_array_append(matched, n);
    }
    size_t count = json_array_size(matched);
    io->repos = count;
    rs.names = matched;
    rs.repos = calloc(count + 1, sizeof *rs.repos);
    if (!rs.repos)
        goto fail;
    int total = io->threads > 0 && io->threads <= SCAN_THREADS ? io->threads : SCAN_THREADS;
    int readers = count < (size_t)total ? (int)(count ? count : 1) : total;
    rs.threads = total / readers;
    pthread_mutex_init(&rs.mu, NULL);
    struct reader args[SCAN_THREADS] = {{0}};
    pthread_t tids[SCAN_THREADS];
    int started = 0;
    for (int r = 0; r < readers; r++)
        args[r] = (struct reader){&rs, r};
    for (int r = 1; r < readers; r++) {
        if (pthread_create(&tids[started], NULL, reader_main, &args[r]))
            break;
        started++;
    }
    reader_main(&args[0]);
    for (int r = 0; r < started; r++)
        pthread_join(tids[r], NULL);
    pthread_mutex_destroy(&rs.mu);
    for (i = 0; i < count; i++) {
        if (!rs.repos[i]) {
            if (io->cancelled && io->cancelled(io->ctx))
                err_set(e, 499, E_CANCELLED, NULL, "the reading was stopped");
            goto fail;
        }
        json_array_append(out, rs.repos[i]);
    }
    for (i = 0; i < count; i++)
        json_decref(rs.repos[i]);
    free(rs.repos);
    json_decref(names);
    json_decref(matched);
    return out;
fail:
    if (!e->message[0])
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    if (rs.repos)
        for (i = 0; i < json_array_size(matched); i++)
            json_decref(rs.repos[i]);
    free(rs.repos);
    json_decref(names);
    json_decref(matched);
    json_decref(out);
    return NULL;
}

/* The image digest in the deletes of a plan's repository, or NULL. */
static json_t *find_image(json_t *plan_repo, const char *digest)
{
    size_t i;
    json_t *img;
    json_array_foreach(json_object_get(plan_repo, "delete"), i, img)
    {
        if (strcmp(json_string_value(json_object_get(img, "digest")), digest) == 0)
            return img;
    }
    return NULL;
}

static int has_string(json_t *list, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

/* Why image old (of the plan) must not go any more, judged on the new plan
 * of the repository read again and the tags now there: NULL when it may
 * go. The answer is a static sentence or written into why. */
static const char *still_goes(json_t *old, json_t *fresh, json_t *new_repo, char *why, size_t len)
{
    const char *digest = json_string_value(json_object_get(old, "digest"));
    json_t *now = find_image(new_repo, digest);
    if (!now) {
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(fresh, "tags"), i, t)
        {
            if (str_eq(json_string_value(json_object_get(t, "digest")), digest))
                return "the rules keep it now: a tag changed since the plan";
        }
        return "it is not tagged any more (deleted meanwhile)";
    }
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(now, "tags"), i, t)
    {
        if (!has_string(json_object_get(old, "tags"), json_string_value(t))) {
            snprintf(why, len, "tag %.128s was moved onto it since the plan", json_string_value(t));
            return why;
        }
    }
    return NULL;
}

/* The images of the plan's repository r that may go now, judged on the
 * repository read again (fresh) and planned again (new_repo): a new object
 * digest -> null (it goes) or why it stays. Whatever a tag that stays
 * reaches stays too, to a fixpoint: an index kept because a tag was pushed
 * onto it keeps its platforms. NULL when out of memory. */
static json_t *judge(json_t *r, json_t *fresh, json_t *new_repo)
{
    json_t *verdict = json_object();
    if (!verdict)
        return NULL;
    size_t i;
    json_t *img, *t;
    json_array_foreach(json_object_get(r, "delete"), i, img)
    {
        char why[200];
        const char *no = still_goes(img, fresh, new_repo, why, sizeof why);
        json_object_set_new(verdict, json_string_value(json_object_get(img, "digest")),
                            no ? json_string(no) : json_null());
    }
    for (int changed = 1; changed;) {
        changed = 0;
        json_t *reach = json_object();
        if (!reach) {
            json_decref(verdict);
            return NULL;
        }
        json_array_foreach(json_object_get(fresh, "tags"), i, t)
        {
            const char *d = json_string_value(json_object_get(t, "digest"));
            json_t *v = d ? json_object_get(verdict, d) : NULL;
            /* the tag stays, and what it reaches */
            if (d && !json_is_null(v) &&
                retention_reach(json_object_get(fresh, "children"), d, reach)) {
                json_decref(reach);
                json_decref(verdict);
                return NULL;
            }
        }
        const char *d;
        json_t *v;
        json_object_foreach(verdict, d, v)
        {
            if (json_is_null(v) && json_object_get(reach, d)) {
                json_object_set_new(verdict, d,
                                    json_string("an index that stays names it (a tag changed "
                                                "since the plan)"));
                changed = 1;
            }
        }
        json_decref(reach);
    }
    return verdict;
}

static int add(json_t *list, json_t *item)
{
    return item ? json_array_append_new(list, item) : -1;
}

/* What one apply carries from repository to repository. */
struct apply {
    struct scan_io *io;
    json_t *rules;
    long long now;
    json_t *out; /* the answer being built */
    long long images, tags;
    int refused; /* the registry refuses deletes: nothing more is tried */
};

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Deletes the images the plan's repository r plans, each judged on a
 * reading of the repository at most CLEANUP_FRESH_S old (a long run of
 * deletes reads it again). 0, or -1 when out of memory. */
static int apply_repo(struct apply *a, json_t *r)
{
    const char *name = json_string_value(json_object_get(r, "name"));
    json_t *fresh = NULL, *np = NULL, *verdict = NULL;
    json_t *kept = json_object_get(a->out, "kept"), *failed = json_object_get(a->out, "failed"),
           *skipped = json_object_get(a->out, "skipped"),
           *deleted = json_object_get(a->out, "deleted");
    struct timespec read_at = {0};
    int rc = 0;
    size_t j;
    json_t *img;
    json_array_foreach(json_object_get(r, "delete"), j, img)
    {
        if (a->io->cancelled && a->io->cancelled(a->io->ctx)) {
            add(skipped, json_pack("{s:s, s:s}", "name", name, "reason",
                                   j ? "a stop came midway: the images left kept"
                                     : "a stop came before its turn: nothing deleted"));
            break;
        }
        if (!verdict || seconds_since(&read_at) > CLEANUP_FRESH_S) {
            /* read again right before deleting: what changed since the
             * plan is judged anew */
            json_decref(verdict);
            json_decref(np);
            json_decref(fresh);
            verdict = np = NULL;
            json_t *list = json_array();
            fresh = scan_repo(a->io, name);
            if (fresh && a->io->annotate)
                a->io->annotate(a->io->actx, fresh);
            if (fresh && list && json_array_append(list, fresh) == 0)
                np = retention_plan(a->rules, list, a->now);
            json_decref(list);
            clock_gettime(CLOCK_MONOTONIC, &read_at);
            json_t *new_repo = json_array_get(json_object_get(np, "repositories"), 0);
            if (!fresh || !np) {
                rc = -1;
                break;
            }
            const char *skip = !new_repo ? "no rule matches it any more"
                                         : json_string_value(json_object_get(new_repo, "skipped"));
            if (skip) {
                char reason[500];
                snprintf(reason, sizeof reason, "read again before deleting%s: %s",
                         j ? " (the images left kept)" : "", skip);
                add(skipped, json_pack("{s:s, s:s}", "name", name, "reason", reason));
                break;
            }
            if (!(verdict = judge(r, fresh, new_repo))) {
                rc = -1;
                break;
            }
        }
        const char *digest = json_string_value(json_object_get(img, "digest"));
        const char *no = json_string_value(json_object_get(verdict, digest));
        if (no) {
            add(kept, json_pack("{s:s, s:s, s:s}", "name", name, "digest", digest, "reason", no));
            continue;
        }
        struct err de = {0};
        if (scan_delete(a->io, name, digest, &de) == 0) {
            a->images++;
            a->tags += (long long)json_array_size(json_object_get(img, "tags"));
            add(deleted, json_pack("{s:s, s:s, s:O}", "name", name, "digest", digest, "tags",
                                   json_object_get(img, "tags")));
            continue;
        }
        add(de.status == 404 ? kept : failed,
            json_pack("{s:s, s:s, s:s}", "name", name, "digest", digest, "reason",
                      de.status == 404 ? "it was deleted meanwhile" : de.message));
        if (de.status == 409) {
            a->refused = 1;
            break;
        }
    }
    json_decref(verdict);
    json_decref(np);
    json_decref(fresh);
    return rc;
}

json_t *cleanup_apply(struct scan_io *io, json_t *rules, json_t *plan, long long now, struct err *e)
{
    json_t *planned = json_object_get(plan, "skipped");
    struct apply a = {.io = io, .rules = rules, .now = now};
    a.out =
        json_pack("{s:i, s:i, s:[], s:[], s:[], s:o}", "images", 0, "tags", 0, "deleted", "kept",
                  "failed", "skipped", planned ? json_deep_copy(planned) : json_array());
    if (!a.out || !json_is_array(json_object_get(a.out, "skipped"))) {
        json_decref(a.out);
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }
    size_t i;
    json_t *r;
    io->repos = 0;
    json_array_foreach(json_object_get(plan, "repositories"), i, r)
    {
        io->repos += json_array_size(json_object_get(r, "delete")) > 0;
    }
    io->repo_at = 0;
    json_array_foreach(json_object_get(plan, "repositories"), i, r)
    {
        const char *name = json_string_value(json_object_get(r, "name"));
        if (!name || json_array_size(json_object_get(r, "delete")) == 0)
            continue;
        if (a.refused) {
            add(json_object_get(a.out, "skipped"),
                json_pack("{s:s, s:s}", "name", name, "reason",
                          "the registry refuses deletes: nothing deleted"));
            continue;
        }
        if (apply_repo(&a, r)) {
            json_decref(a.out);
            err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
            return NULL;
        }
        io->repo_at++;
    }
    json_object_set_new(a.out, "images", json_integer(a.images));
    json_object_set_new(a.out, "tags", json_integer(a.tags));
    json_object_set_new(a.out, "refused", json_boolean(a.refused));
    return a.out;
}
