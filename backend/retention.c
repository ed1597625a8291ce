#include "retention.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

json_t *retention_default(void)
{
    return json_pack("{s:[], s:b, s:n}", "rules", "deleteUntagged", 1, "schedule");
}

/* A pattern: 1 to 128 printable characters, no spaces. */
static int pattern_valid(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 128)
        return 0;
    for (; *p; p++)
        if (!isgraph((unsigned char)*p))
            return 0;
    return 1;
}

/* "HH:MM", 00:00 to 23:59: minutes after midnight, or -1. */
static int parse_hhmm(const char *t)
{
    if (!t || strlen(t) != 5 || t[2] != ':' || !isdigit((unsigned char)t[0]) ||
        !isdigit((unsigned char)t[1]) || !isdigit((unsigned char)t[3]) ||
        !isdigit((unsigned char)t[4]))
        return -1;
    int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}

static json_t *parse_rule(json_t *r, size_t i, struct err *e)
{
    char field[64];
    if (!json_is_object(r)) {
        snprintf(field, sizeof field, "rules[%zu]", i);
        err_set(e, 400, E_INVALID_TYPE, field, "each rule must be an object");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(r, key, v)
    {
        if (strcmp(key, "repositories") != 0 && strcmp(key, "keepLast") != 0 &&
            strcmp(key, "keepTags") != 0 && strcmp(key, "keepPulledWithin") != 0 &&
            strcmp(key, "keepPushedWithin") != 0) {
            snprintf(field, sizeof field, "rules[%zu].%.30s", i, key);
            str_utf8_cut(field);
            err_set(e, 400, E_UNKNOWN_FIELD, field,
                    "a rule has repositories, keepLast, keepTags, keepPulledWithin and "
                    "keepPushedWithin only");
            return NULL;
        }
    }
    json_t *repos = json_object_get(r, "repositories");
    if (!json_is_string(repos) || !pattern_valid(json_string_value(repos))) {
        snprintf(field, sizeof field, "rules[%zu].repositories", i);
        err_set(e, 400, repos ? E_INVALID_VALUE : E_MISSING_FIELD, field,
                "repositories must be a name or a pattern like team/* (1 to 128 characters, no "
                "spaces)");
        return NULL;
    }
    json_t *keep = json_object_get(r, "keepLast");
    if (keep && !json_is_null(keep) &&
        (!json_is_integer(keep) || json_integer_value(keep) < 0 ||
         json_integer_value(keep) > RETENTION_MAX_KEEP)) {
        snprintf(field, sizeof field, "rules[%zu].keepLast", i);
        err_set(e, 400, E_INVALID_VALUE, field,
                "the number of newest tags to keep (keepLast) must be a whole number from 0 to %d, "
                "or null to keep every tag by age",
                RETENTION_MAX_KEEP);
        return NULL;
    }
    json_t *tags = json_object_get(r, "keepTags");
    if (tags && !json_is_null(tags) &&
        (!json_is_array(tags) || json_array_size(tags) > RETENTION_MAX_PATTERNS)) {
        snprintf(field, sizeof field, "rules[%zu].keepTags", i);
        err_set(e, 400, E_INVALID_VALUE, field, "keepTags must be a list of at most %d patterns",
                RETENTION_MAX_PATTERNS);
        return NULL;
    }
    size_t k;
    json_t *t;
    json_array_foreach(tags, k, t)
    {
        if (!json_is_string(t) || !pattern_valid(json_string_value(t))) {
            snprintf(field, sizeof field, "rules[%zu].keepTags[%zu]", i, k);
            err_set(e, 400, E_INVALID_VALUE, field,
                    "a tag pattern is 1 to 128 characters without spaces, like v* or latest");
            return NULL;
        }
    }
    static const char *const within[] = {"keepPulledWithin", "keepPushedWithin"};
    for (int w = 0; w < 2; w++) {
        json_t *d = json_object_get(r, within[w]);
        if (d && !json_is_null(d) &&
            (!json_is_integer(d) || json_integer_value(d) < 1 ||
             json_integer_value(d) > RETENTION_MAX_DAYS)) {
            snprintf(field, sizeof field, "rules[%zu].%s", i, within[w]);
            err_set(e, 400, E_INVALID_VALUE, field,
                    "%s is a number of days from 1 to %d, or null for none", within[w],
                    RETENTION_MAX_DAYS);
            return NULL;
        }
    }
    json_t *pulled = json_object_get(r, "keepPulledWithin");
    json_t *pushed = json_object_get(r, "keepPushedWithin");
    json_t *out = json_pack("{s:O, s:O, s:O, s:O, s:O}", "repositories", repos, "keepLast",
                            keep ? keep : json_null(), "keepTags", tags ? tags : json_null(),
                            "keepPulledWithin", pulled ? pulled : json_null(), "keepPushedWithin",
                            pushed ? pushed : json_null());
    if (out && json_is_null(json_object_get(out, "keepTags")))
        json_object_set_new(out, "keepTags", json_array());
    if (!out)
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    return out;
}

json_t *retention_parse(json_t *body, struct err *e)
{
    if (!json_is_object(body)) {
        err_set(e, 400, E_INVALID_BODY, NULL, "the clean-up rules must be a JSON object");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "rules") != 0 && strcmp(key, "deleteUntagged") != 0 &&
            strcmp(key, "schedule") != 0) {
            char field[64];
            snprintf(field, sizeof field, "%.60s", key);
            str_utf8_cut(field);
            err_set(e, 400, E_UNKNOWN_FIELD, field, "unknown field %s", field);
            return NULL;
        }
    }
    json_t *out = retention_default();
    if (!out) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }
    json_t *rules = json_object_get(body, "rules");
    if (rules && (!json_is_array(rules) || json_array_size(rules) > RETENTION_MAX_RULES)) {
        err_set(e, 400, E_INVALID_VALUE, "rules", "rules must be a list of at most %d rules",
                RETENTION_MAX_RULES);
        goto bad;
    }
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        json_t *rule = parse_rule(r, i, e);
        if (!rule)
            goto bad;
        json_array_append_new(json_object_get(out, "rules"), rule);
    }
    json_t *du = json_object_get(body, "deleteUntagged");
    if (du && !json_is_boolean(du)) {
        err_set(e, 400, E_INVALID_TYPE, "deleteUntagged", "deleteUntagged must be true or false");
        goto bad;
    }
    if (du)
        json_object_set(out, "deleteUntagged", du);
    json_t *sch = json_object_get(body, "schedule");
    if (sch && !json_is_null(sch) &&
        (!json_is_string(sch) || parse_hhmm(json_string_value(sch)) < 0)) {
        err_set(e, 400, E_INVALID_VALUE, "schedule",
                "schedule must be a time of day like 03:00 (UTC), or null for none");
        goto bad;
    }
    if (sch)
        json_object_set(out, "schedule", sch);
    return out;
bad:
    json_decref(out);
    return NULL;
}

int retention_schedule_minute(json_t *rules)
{
    return parse_hhmm(json_string_value(json_object_get(rules, "schedule")));
}

int retention_due(int minute, long last_day, long long now)
{
    return minute >= 0 && now / 86400 > last_day && (int)(now % 86400 / 60) >= minute;
}

int retention_history_add(json_t **history, json_t *entry, size_t max)
{
    if (!entry)
        return -1;
    if (!*history && !(*history = json_array())) {
        json_decref(entry);
        return -1;
    }
    if (json_array_insert_new(*history, 0, entry) != 0)
        return -1;
    while (json_array_size(*history) > max)
        json_array_remove(*history, json_array_size(*history) - 1);
    return 0;
}

/* ---- the plan ------------------------------------------------------------ */

struct tagref {
    json_t *tag; /* the tag object of the input, borrowed */
    const char *created;
    const char *pushed; /* set when builds at this creation time go by push time */
    int index;          /* its digest is an index (it names other manifests) */
};

/* Newest first; RFC 3339 UTC times to the second compare as text. At one
 * creation time: by push time where several builds share it (plan_repo
 * sets pushed only when every candidate there has a distinct one), then
 * the index before its platforms, so that a keepLast that takes one of
 * them takes the one that reaches the others, then by name. */
static int by_created_desc(const void *a, const void *b)
{
    const struct tagref *x = a, *y = b;
    int c = strcmp(y->created, x->created);
    if (c)
        return c;
    if (x->pushed && y->pushed && (c = strcmp(y->pushed, x->pushed)))
        return c;
    if (x->index != y->index)
        return y->index - x->index;
    return strcmp(json_string_value(json_object_get(x->tag, "tag")),
                  json_string_value(json_object_get(y->tag, "tag")));
}

/* Whether the distinct digests in list (one creation time) are more than
 * one build: none of them reaches all the others. An index and the
 * platforms it names are one build; two images at one time without an
 * index naming both are two, whose order is not known. */
static int several_builds(json_t *children, json_t *list)
{
    size_t n = json_array_size(list), i, j;
    for (i = 0; i < n; i++) {
        json_t *reach = json_object();
        if (!reach)
            return 1; /* cannot tell: the order is unknown */
        if (retention_reach(children, json_string_value(json_array_get(list, i)), reach)) {
            json_decref(reach);
            return 1;
        }
        for (j = 0; j < n; j++)
            if (!json_object_get(reach, json_string_value(json_array_get(list, j))))
                break;
        json_decref(reach);
        if (j == n)
            return 0;
    }
    return 1;
}

static int matches_any(json_t *patterns, const char *s)
{
    size_t i;
    json_t *p;
    json_array_foreach(patterns, i, p)
    {
        if (fnmatch(json_string_value(p), s, 0) == 0)
            return 1;
    }
    return 0;
}

/* Whether t is "YYYY-MM-DDTHH:MM:SSZ" between 2000-01-01 and latest (the
 * same form): build tools that write a fixed time (1980, 1970) or a clock
 * far off say nothing about which image is newer. */
static int time_plausible(const char *t, const char *latest)
{
    return time_utc_valid(t) && strcmp(t, "2000-01-01T00:00:00Z") >= 0 && strcmp(t, latest) <= 0;
}

int retention_reach(json_t *children, const char *digest, json_t *reach)
{
    if (json_object_get(reach, digest))
        return 0;
    if (json_object_set_new(reach, digest, json_true()))
        return -1;
    size_t i;
    json_t *c;
    int rc = 0;
    json_array_foreach(json_object_get(children, digest), i, c)
    {
        if (json_is_string(c) && retention_reach(children, json_string_value(c), reach))
            rc = -1;
    }
    return rc;
}

struct pushref {
    const char *pushed, *digest;
};

static int by_pushed(const void *a, const void *b)
{
    const struct pushref *x = a, *y = b;
    int c = strcmp(x->pushed, y->pushed);
    return c ? c : strcmp(x->digest, y->digest);
}

/* Whether the builds that share creation time when can be ordered by push
 * time: every candidate there (a tag no keepTags pattern matches) has a
 * plausible "pushed", and no two on different digests have the same. 0
 * also when memory runs out (the order stays unknown: nothing more goes). */
static int push_order_known(json_t *tags, json_t *keep_tags, const char *when, const char *latest)
{
    size_t i, n = 0;
    json_t *t;
    struct pushref *refs = calloc(json_array_size(tags) + 1, sizeof *refs);
    if (!refs)
        return 0;
    int known = 1;
    json_array_foreach(tags, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "tag"));
        const char *digest = json_string_value(json_object_get(t, "digest"));
        const char *created = json_string_value(json_object_get(t, "created"));
        if (!name || !digest || !created || strcmp(created, when) != 0 ||
            matches_any(keep_tags, name))
            continue;
        const char *pushed = json_string_value(json_object_get(t, "pushed"));
        if (!time_plausible(pushed, latest)) {
            known = 0;
            break;
        }
        refs[n++] = (struct pushref){pushed, digest};
    }
    if (known) {
        /* one push time on two digests shows up as neighbours */
        qsort(refs, n, sizeof *refs, by_pushed);
        for (i = 1; i < n && known; i++)
            known = strcmp(refs[i].pushed, refs[i - 1].pushed) != 0 ||
                    strcmp(refs[i].digest, refs[i - 1].digest) == 0;
    }
    free(refs);
    return known;
}

static json_t *skipped_repo(json_t *repo)
{
    json_t *keep = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(repo, "tags"), i, t)
    {
        if (json_is_string(json_object_get(t, "tag")))
            json_array_append_new(keep, json_pack("{s:O, s:s}", "tag", json_object_get(t, "tag"),
                                                  "reason", "not read whole"));
    }
    const char *problem = json_string_value(json_object_get(repo, "problem"));
    return json_pack("{s:O, s:s, s:[], s:o}", "name", json_object_get(repo, "name"), "skipped",
                     problem ? problem : "it was not read whole", "delete", "keep", keep);
}

/* Whether time t (RFC 3339 UTC, as the index writes it) is at or after
 * since (the same form); an unknown or malformed t is not. */
static int at_or_after(const char *t, const char *since)
{
    return t && time_utc_valid(t) && strcmp(t, since) >= 0;
}

/* Why a tag stays by its push or pull time under rule, or NULL:
 *  - keepPushedWithin N: pushed within N days ("pushed recently"); no push
 *    time but first seen by the index within N days, or neither known
 *    ("push time unknown": it may have been pushed since);
 *  - keepPulledWithin N: last pulled within N days ("pulled recently");
 *    not pulled since the index began counting this image's pulls, where
 *    that began less than N days ago or is unknown ("pull time unknown":
 *    a pull before the index counted is not "never pulled"). */
static const char *kept_by_use(json_t *rule, json_t *t, long long now)
{
    char since[32];
    json_t *d = json_object_get(rule, "keepPushedWithin");
    if (json_is_integer(d)) {
        format_time_utc(now - json_integer_value(d) * 86400LL, since, sizeof since);
        const char *pushed = json_string_value(json_object_get(t, "pushed"));
        const char *seen = json_string_value(json_object_get(t, "seen"));
        if (time_utc_valid(pushed ? pushed : ""))
            ; /* known: decided below */
        else if (!time_utc_valid(seen ? seen : "") || at_or_after(seen, since))
            return "push time unknown";
        if (at_or_after(pushed, since))
            return "pushed recently";
    }
    d = json_object_get(rule, "keepPulledWithin");
    if (json_is_integer(d)) {
        format_time_utc(now - json_integer_value(d) * 86400LL, since, sizeof since);
        const char *pulled = json_string_value(json_object_get(t, "lastPulled"));
        const char *from = json_string_value(json_object_get(t, "pullsSince"));
        if (at_or_after(pulled, since))
            return "pulled recently";
        json_t *lp = json_object_get(t, "lastPulled");
        if (lp && !json_is_null(lp) && !time_utc_valid(pulled ? pulled : ""))
            return "pull time unknown";
        if (!time_utc_valid(from ? from : "") || strcmp(from, since) > 0)
            return "pull time unknown";
    }
    return NULL;
}

static json_t *plan_repo(json_t *rule, json_t *repo, const char *latest, long long now)
{
    if (!json_is_true(json_object_get(repo, "complete")))
        return skipped_repo(repo);
    json_t *tags = json_object_get(repo, "tags"), *children = json_object_get(repo, "children");
    size_t n = json_array_size(tags), k = 0;
    json_t *keep = json_array(), *del = json_array(), *reason_of = json_object(),
           *direct = json_object(), *reach = json_object(), *time_digest = json_object(),
           *tied = json_object(), *by_digest = json_object();
    struct tagref *dated = calloc(n ? n : 1, sizeof *dated);
    json_t *out = NULL;
    /* a fact lost for want of memory could turn a keep into a delete: then
     * there is no plan at all */
    int oom = 0;
    if (!keep || !del || !reason_of || !direct || !reach || !time_digest || !tied || !by_digest ||
        !dated)
        goto out;
    json_t *keep_tags = json_object_get(rule, "keepTags");
    json_t *keep_last = json_object_get(rule, "keepLast");
    size_t i;
    json_t *t;
    /* the times that two builds share: their order is not known */
    json_array_foreach(tags, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "tag"));
        const char *digest = json_string_value(json_object_get(t, "digest"));
        const char *created = json_string_value(json_object_get(t, "created"));
        if (!name || !digest || matches_any(keep_tags, name) || !time_plausible(created, latest))
            continue;
        json_t *list = json_object_get(time_digest, created);
        if (!list) {
            list = json_array();
            oom |= json_object_set_new(time_digest, created, list);
        }
        size_t k2;
        json_t *d2;
        int known = 0;
        json_array_foreach(list, k2, d2)
        {
            known |= strcmp(json_string_value(d2), digest) == 0;
        }
        if (!known)
            oom |= json_array_append_new(list, json_string(digest));
    }
    const char *when;
    json_t *list;
    json_t *by_push = json_object();
    if (!by_push)
        goto out;
    json_object_foreach(time_digest, when, list)
    {
        if (json_array_size(list) <= 1 || !several_builds(children, list))
            continue;
        if (push_order_known(tags, keep_tags, when, latest))
            oom |= json_object_set_new(by_push, when, json_true());
        else
            oom |= json_object_set_new(tied, when, json_true());
    }
    json_array_foreach(tags, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "tag"));
        const char *created = json_string_value(json_object_get(t, "created"));
        if (!name || !json_string_value(json_object_get(t, "digest")))
            continue;
        const char *use = NULL;
        if (matches_any(keep_tags, name))
            oom |= json_object_set_new(reason_of, name, json_string("pattern"));
        else if ((use = kept_by_use(rule, t, now)))
            oom |= json_object_set_new(reason_of, name, json_string(use));
        else if (!time_plausible(created, latest) || json_object_get(tied, created))
            oom |= json_object_set_new(reason_of, name, json_string("age unknown"));
        else
            dated[k++] = (struct tagref){
                t, created,
                json_object_get(by_push, created) ? json_string_value(json_object_get(t, "pushed"))
                                                  : NULL,
                json_array_size(json_object_get(
                    children, json_string_value(json_object_get(t, "digest")))) > 0};
    }
    json_decref(by_push);
    qsort(dated, k, sizeof *dated, by_created_desc);
    /* null keepLast: every tag stays by age */
    size_t keep_n = json_is_integer(keep_last) ? (size_t)json_integer_value(keep_last) : k;
    for (size_t j = 0; j < k && j < keep_n; j++)
        oom |=
            json_object_set_new(reason_of, json_string_value(json_object_get(dated[j].tag, "tag")),
                                json_string("recent"));
    /* what a kept tag points at stays, and everything reachable from it */
    json_array_foreach(tags, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "tag"));
        const char *digest = json_string_value(json_object_get(t, "digest"));
        if (name && digest && json_object_get(reason_of, name)) {
            oom |= json_object_set_new(direct, digest, json_true());
            oom |= retention_reach(children, digest, reach);
        }
    }
    if (oom)
        goto out;
    /* the rest: by digest, each image once with all its tags */
    json_array_foreach(tags, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "tag"));
        const char *digest = json_string_value(json_object_get(t, "digest"));
        if (!name || !digest)
            continue;
        json_t *why = json_object_get(reason_of, name);
        if (why)
            json_incref(why);
        else if (json_object_get(direct, digest))
            why = json_string("same image");
        else if (json_object_get(reach, digest))
            why = json_string("in a kept index");
        if (why) {
            if (json_array_append_new(keep, json_pack("{s:s, s:o}", "tag", name, "reason", why)))
                goto out;
            continue;
        }
        json_t *d = json_object_get(by_digest, digest);
        if (!d) {
            json_t *created = json_object_get(t, "created");
            json_t *size = json_object_get(t, "size");
            d = json_pack("{s:s, s:[], s:O, s:I}", "digest", digest, "tags", "created",
                          created ? created : json_null(), "size",
                          json_is_integer(size) ? json_integer_value(size) : (json_int_t)0);
            if (!d)
                goto out;
            json_object_set_new(by_digest, digest, d);
            json_array_append(del, d);
        }
        json_array_append_new(json_object_get(d, "tags"), json_string(name));
    }
    out = json_pack("{s:O, s:O, s:O}", "name", json_object_get(repo, "name"), "delete", del, "keep",
                    keep);
out:
    free(dated);
    json_decref(keep);
    json_decref(del);
    json_decref(reason_of);
    json_decref(direct);
    json_decref(reach);
    json_decref(time_digest);
    json_decref(tied);
    json_decref(by_digest);
    return out;
}

int retention_rule_of(json_t *rules, const char *name)
{
    size_t r;
    json_t *rule;
    json_array_foreach(json_object_get(rules, "rules"), r, rule)
    {
        const char *p = json_string_value(json_object_get(rule, "repositories"));
        if (p && name && fnmatch(p, name, 0) == 0)
            return (int)r;
    }
    return -1;
}

json_t *retention_plan(json_t *rules, json_t *repos, long long now)
{
    json_t *out = json_pack("{s:[], s:i, s:i, s:I, s:[], s:O}", "repositories", "images", 0, "tags",
                            0, "bytes", (json_int_t)0, "skipped", "deleteUntagged",
                            json_object_get(rules, "deleteUntagged")
                                ? json_object_get(rules, "deleteUntagged")
                                : json_true());
    if (!out)
        return NULL;
    char latest[32];
    format_time_utc(now + 86400, latest, sizeof latest);
    json_t *list = json_object_get(out, "repositories");
    long long images = 0, tags = 0, bytes = 0;
    size_t i;
    json_t *repo;
    json_array_foreach(repos, i, repo)
    {
        const char *name = json_string_value(json_object_get(repo, "name"));
        int r = retention_rule_of(rules, name);
        if (r < 0)
            continue;
        json_t *p = plan_repo(json_array_get(json_object_get(rules, "rules"), (size_t)r), repo,
                              latest, now);
        if (!p) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(p, "rule", json_integer(r));
        if (json_object_get(p, "skipped"))
            json_array_append_new(
                json_object_get(out, "skipped"),
                json_pack("{s:s, s:O}", "name", name, "reason", json_object_get(p, "skipped")));
        size_t d;
        json_t *img;
        json_array_foreach(json_object_get(p, "delete"), d, img)
        {
            images++;
            tags += (long long)json_array_size(json_object_get(img, "tags"));
            json_int_t b = json_integer_value(json_object_get(img, "size"));
            bytes = b > 0 && bytes > INT64_MAX - b ? INT64_MAX : bytes + (b > 0 ? b : 0);
        }
        json_array_append_new(list, p);
    }
    json_object_set_new(out, "images", json_integer(images));
    json_object_set_new(out, "tags", json_integer(tags));
    json_object_set_new(out, "bytes", json_integer(bytes));
    return out;
}

/* ---- the file ------------------------------------------------------------ */

int retention_load(const char *path, json_t **out, struct err *e)
{
    json_error_t je;
    *out = NULL;
    FILE *f = fopen(path, "re");
    if (!f) {
        *out = retention_default();
        return *out ? 0 : err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    }
    json_t *j = json_loadf(f, 0, &je);
    fclose(f);
    struct err pe = {0};
    *out = j ? retention_parse(j, &pe) : NULL;
    json_decref(j);
    if (!*out)
        return err_set(e, 500, E_STATE_CORRUPT, NULL,
                       "the clean-up rules file %s could not be read (%s): save the rules again",
                       path, j ? pe.message : je.text);
    return 0;
}

int retention_save(const char *path, json_t *rules, struct err *e)
{
    char *text = json_dumps(rules, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text)
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    int rc = file_write_atomic(path, text, strlen(text), "clean-up rules", e);
    free(text);
    return rc;
}
