/*
 * Model test for the clean-up rules' keep criteria by use (retention_plan
 * with keepPulledWithin / keepPushedWithin and the tags' pushed, seen,
 * lastPulled and pullsSince times). The oracle below is written from the
 * contract in backend/retention.h alone, not from retention.c.
 *
 * Each seed makes random repositories (shared digests, nested indexes,
 * creation times unknown, implausible or tied, the four times valid, null,
 * missing, malformed, in the future, at the boundary or far past) and
 * random rules, plans them at a fixed now and checks:
 *  1. data safety: no digest that must stay is in a "delete" (must stay =
 *     reachable through children from a tag the contract certainly keeps);
 *  2. a repository not read whole deletes nothing;
 *  3. a deleted digest goes with all its tags; every tag is either kept
 *     or in its digest's deletion, once;
 *  4. reasons where the contract makes them certain, and a use reason only
 *     on a tag its rule can keep; what certainly goes does go;
 *  5. with neither new field in any rule, the four times change nothing
 *     ("pushed" excepted where two digests share a creation time: it
 *     orders builds there);
 *  6. builds at one creation time (half the repositories tie several
 *     digests on one time, their tags' "pushed" all valid and distinct,
 *     one not valid, two digests' equal, one digest's tags apart or equal):
 *     where the push order resolves them, what it certainly keeps stays
 *     (with all it reaches), what it certainly lets go goes, a tag
 *     certainly among the keepLast newest is "recent", and no tag of the
 *     group is "age unknown"; where it cannot and the time certainly holds
 *     several builds, every candidate there stays "age unknown".
 *
 * How the contract's words are read (N days = N * 86400 s, t a valid time):
 *  - "pushed within N days of now": now - t <= N days (inclusive); a push
 *    time in the future is either recent or not valid, so it keeps unless
 *    the "seen" fallback would let it go (then either answer is allowed);
 *  - "seen more than N days ago": now - seen > N days (strict); a seen
 *    time exactly N days ago keeps the tag ("push time unknown");
 *  - "last pulled within N days": now - lastPulled <= N days (inclusive);
 *    older, or null, is "not pulled since";
 *  - "pullsSince ... less than N days ago": now - pullsSince < N days
 *    (strict), so pullsSince exactly N days ago counts the whole window and
 *    a tag not pulled in it may go; a pullsSince in the future keeps;
 *  - a malformed lastPulled (there, but no valid time) keeps the tag
 *    ("pull time unknown"), as retention.h says since the first run of
 *    this test found the words silent on it;
 *  - valid = "YYYY-MM-DDTHH:MM:SSZ" with a real date; anything else
 *    ("2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "yesterday", a
 *    number) is not a valid time;
 *  - the reasons follow the contract's order: pattern, push, pull, age
 *    unknown, recent;
 *  - keepLast counts tags, not images; where ties or uncertain candidates
 *    make the order unknown only the certain part is checked;
 *  - builds at one creation time: the group is the tags at that time (a
 *    known, plausible creation time); its candidates are the tags no
 *    keepTags pattern matches, as the sentence says, so a tag kept by its
 *    push or pull time still counts (it needs a valid "pushed" too) and a
 *    pattern tag never does; "valid pushed" = a valid time, not before
 *    2000-01-01, at most a day (inclusive) after now, whether or not the
 *    rule has keepPushedWithin;
 *  - the push order resolves the group when every candidate has a valid
 *    "pushed" and no two candidates on different digests share one; then
 *    none of them is "age unknown" (one build or several, either way);
 *  - the time certainly holds several builds when two candidates are on
 *    digests no manifest of the repository reaches both of (nor one the
 *    other); unresolved, every candidate there stays ("age unknown");
 *  - "the later push is the newer" orders tags, each by its own "pushed"
 *    (keepLast counts tags; the distinctness asked is between digests):
 *    tags of one image pushed at different times rank apart, and a tag of
 *    another image can rank between them;
 *  - silent, so left open: the order inside the group of a digest some
 *    manifest joins to another candidate digest there (an index and its
 *    platforms: "the index is newer" and "the later push is newer" can
 *    disagree), the order of one digest's tags with the same "pushed",
 *    and whether a pattern-only image at the time makes several builds
 *    (only candidates' digests are counted as certain); push order is only
 *    relied on between two digests no manifest joins to another there.
 *
 * SR_MODEL_SEEDS=N runs N seeds (2000; 300 under valgrind), SR_MODEL_FIRST
 * the first, SR_MODEL_SEED=S one seed with its input and plan printed;
 * SR_MODEL_UNRESOLVED=1 skips the seeds where the push order resolves a
 * tie (the rest are what the contract said before the tie-break sentence).
 */
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

#include "retention.h"
#include "testutil.h"

#define NOW 1780272000LL /* 2026-06-01T00:00:00Z */
#define Y2000 946684800LL
#define DAY 86400LL
#define MAXTAG 16
#define MAXDIG 12

enum { NO = 0, YES = 1, MAYBE = 2 };

/* One criterion's answer for a tag: whether it keeps it, and the reason
 * when the contract makes it certain (NULL otherwise). */
struct verdict {
    int keep;
    const char *reason;
};

static int under_valgrind(void)
{
#ifdef RUNNING_ON_VALGRIND
    if (RUNNING_ON_VALGRIND)
        return 1;
#endif
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload") != NULL;
}

/* ------------------------------------------------------------------ */
/* Generator */

struct gen {
    uint64_t s;
};

static uint64_t next_(struct gen *g)
{
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int rint_(struct gen *g, int n)
{
    return (int)(next_(g) % (uint64_t)n);
}

static json_t *time_str(long long t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static const char *const malformed[] = {"2026-13-01T00:00:00Z", "yesterday", "2026-02-30T00:00:00Z",
                                        "", "2026-05-30"};

/* One of the four times in any state; days are the rules' N (boundaries).
 * NULL: leave the field out. */
static json_t *gen_time(struct gen *g, const int *days, int nd, int old)
{
    int d = nd ? days[rint_(g, nd)] : 30;
    if (old && rint_(g, 4)) /* mostly known and old: something may go */
        return time_str(NOW - (61 + rint_(g, 2000)) * DAY - rint_(g, (int)DAY));
    switch (rint_(g, 9)) {
    case 0:
        return NULL;
    case 1:
        return json_null();
    case 2:
        if (rint_(g, 8) == 0)
            return json_integer(12345);
        return json_string(malformed[rint_(g, 5)]);
    case 3: /* at a rule's boundary, to the second */
        return time_str(NOW - d * DAY + (rint_(g, 3) - 1));
    case 4: /* in the future */
        return time_str(NOW + (rint_(g, 2) ? 5 : (1 + rint_(g, 100)) * DAY));
    case 5: /* far past */
        return time_str(NOW - (2000 + rint_(g, 1000)) * DAY);
    default:
        return time_str(NOW - rint_(g, 90) * DAY - rint_(g, (int)DAY));
    }
}

static void set_opt(json_t *o, const char *k, json_t *v)
{
    if (v)
        json_object_set_new(o, k, v);
}

static const char *const prefixes[] = {"v", "latest", "build-", "x-rc", "t"};
static const char *const patterns[] = {"v*", "latest*", "*-rc*", "t?", "nomatch", "*"};

/* A push time for a tie group's tag that is no valid "pushed": left out,
 * null, malformed, before 2000, more than a day after now. NULL: left out. */
static json_t *bad_push(struct gen *g)
{
    switch (rint_(g, 6)) {
    case 0:
        return NULL;
    case 1:
        return json_null();
    case 2:
        return json_string(malformed[rint_(g, 5)]);
    case 3:
        return time_str(Y2000 - 1 - rint_(g, 3) * DAY);
    case 4:
        return time_str(NOW + DAY + 1 + rint_(g, 3) * DAY);
    default:
        return json_integer(12345);
    }
}

/* A valid push time for a tie group: mostly old (so keepPushedWithin lets
 * it go), sometimes recent, at 2000-01-01 or a day after now exactly. */
static long long tie_push(struct gen *g)
{
    switch (rint_(g, 12)) {
    case 0:
        return NOW - rint_(g, 60) * DAY - rint_(g, (int)DAY);
    case 1:
        return rint_(g, 2) ? Y2000 : NOW + DAY;
    default:
        return NOW - (61 + rint_(g, 2000)) * DAY - rint_(g, (int)DAY);
    }
}

/* Tie mode: digests tie[] share one creation time (several builds); each
 * tag's "pushed" follows the digest's push, sometimes its own (one image
 * pushed under several tags at different times), then one of: all valid
 * and distinct, one tag's not valid, two digests' equal, two tags of one
 * digest equal. */
static void gen_tie_pushes(struct gen *g, json_t *tags, char dig[][80], const int *tie, int ndig)
{
    long long base[MAXDIG];
    for (int i = 0; i < ndig; i++)
        base[i] = tie_push(g);
    size_t k, n = json_array_size(tags);
    json_t *t;
    int in[MAXTAG];
    json_array_foreach(tags, k, t)
    {
        const char *d = json_string_value(json_object_get(t, "digest"));
        int i = 0;
        while (i < ndig && strcmp(dig[i], d) != 0)
            i++;
        in[k] = i < ndig && tie[i];
        if (!in[k])
            continue;
        json_object_set_new(t, "pushed", time_str(rint_(g, 4) ? base[i] : tie_push(g)));
    }
    int what = rint_(g, 6);
    for (int tries = 0; tries < 8; tries++) {
        size_t a = (size_t)rint_(g, (int)n), b = (size_t)rint_(g, (int)n);
        if (!in[a] || !in[b])
            continue;
        json_t *ta = json_array_get(tags, a), *tb = json_array_get(tags, b);
        int same = strcmp(json_string_value(json_object_get(ta, "digest")),
                          json_string_value(json_object_get(tb, "digest"))) == 0;
        if (what == 0) { /* (b) one not valid */
            json_t *v = bad_push(g);
            if (v)
                json_object_set_new(ta, "pushed", v);
            else
                json_object_del(ta, "pushed");
        } else if (what == 1 && !same) { /* (c) two digests, one push time */
            json_object_set(ta, "pushed", json_object_get(tb, "pushed"));
        } else if (what == 2 && same && a != b) { /* the same digest, one push time */
            json_object_set(ta, "pushed", json_object_get(tb, "pushed"));
        } else {
            continue;
        }
        break;
    }
}

static json_t *gen_repo(struct gen *g, const char *name, const int *days, int nd)
{
    int ndig = 1 + rint_(g, 8), nextra = 0;
    /* half the repositories: several builds at one creation time */
    int ties = ndig > 1 && rint_(g, 2), tie[MAXDIG] = {0};
    char dig[MAXDIG][80];
    json_t *created[MAXDIG];
    for (int i = 0; i < ndig; i++) {
        snprintf(dig[i], sizeof dig[i], "sha256:%016llx%048d", (unsigned long long)next_(g), i);
        switch (rint_(g, 24)) {
        case 0:
            created[i] = json_null();
            break;
        case 1:
            created[i] = json_string(malformed[rint_(g, 5)]);
            break;
        case 2:
            created[i] = time_str(Y2000 - 1 - rint_(g, 1000) * DAY);
            break;
        case 3:
            created[i] = time_str(NOW + 2 * DAY + rint_(g, 100) * DAY);
            break;
        case 4:
        case 5: /* the same time as an earlier image */
            if (i) {
                created[i] = json_deep_copy(created[rint_(g, i)]);
                break;
            }
            /* fall through */
        default:
            created[i] = time_str(NOW - rint_(g, 200) * DAY - rint_(g, 5) * 3600);
        }
    }
    json_t *children = json_object();
    for (int i = 0; i < ndig - 1; i++) {
        if (rint_(g, ties ? 6 : 3))
            continue;
        json_t *kids = json_array();
        for (int j = i + 1; j < ndig; j++)
            if (rint_(g, 2)) {
                json_array_append_new(kids, json_string(dig[j]));
                if (rint_(g, 2)) { /* one build: the index at its platform's time */
                    json_decref(created[i]);
                    created[i] = json_deep_copy(created[j]);
                }
            }
        if (rint_(g, 3) == 0) {
            char d[80];
            snprintf(d, sizeof d, "sha256:%016llx%048d", (unsigned long long)next_(g),
                     90 + nextra++);
            json_array_append_new(kids, json_string(d));
        }
        json_object_set_new(children, dig[i], kids);
    }
    if (ties) {
        json_t *at = time_str(NOW - (61 + rint_(g, 200)) * DAY);
        for (int i = 0, m = 0; i < ndig; i++)
            if ((tie[i] = m < 2 || rint_(g, 3) != 0)) {
                m++;
                json_decref(created[i]);
                created[i] = json_deep_copy(at);
            }
        json_decref(at);
    }
    /* pull times mostly per image, as the index records them */
    json_t *lp[MAXDIG], *ps[MAXDIG];
    for (int i = 0; i < ndig; i++) {
        lp[i] = rint_(g, 3) ? json_null() : gen_time(g, days, nd, 0);
        ps[i] = gen_time(g, days, nd, 1);
    }
    json_t *tags = json_array();
    int ntag = 1 + rint_(g, MAXTAG - 1);
    for (int k = 0; k < ntag; k++) {
        int i = rint_(g, ndig);
        if (ties && !tie[i] && rint_(g, 2))
            i = rint_(g, 2); /* mostly the tied ones */
        char tname[32];
        snprintf(tname, sizeof tname, "%s%d", prefixes[rint_(g, 5)], k);
        json_t *t = json_pack("{s:s, s:s, s:O, s:I}", "tag", tname, "digest", dig[i], "created",
                              created[i], "size", (json_int_t)(100 + i));
        set_opt(t, "pushed", gen_time(g, days, nd, 1));
        set_opt(t, "seen", gen_time(g, days, nd, 1));
        if (rint_(g, 5)) {
            set_opt(t, "lastPulled", lp[i] ? json_deep_copy(lp[i]) : NULL);
            set_opt(t, "pullsSince", ps[i] ? json_deep_copy(ps[i]) : NULL);
        } else {
            set_opt(t, "lastPulled", gen_time(g, days, nd, 0));
            set_opt(t, "pullsSince", gen_time(g, days, nd, 1));
        }
        json_array_append_new(tags, t);
    }
    if (ties)
        gen_tie_pushes(g, tags, dig, tie, ndig);
    for (int i = 0; i < ndig; i++) {
        json_decref(created[i]);
        json_decref(lp[i]);
        json_decref(ps[i]);
    }
    int complete = rint_(g, 10);
    json_t *repo = json_pack("{s:s, s:o, s:o}", "name", name, "tags", tags, "children", children);
    if (complete == 0)
        json_object_set_new(repo, "complete", json_false());
    else if (complete != 1)
        json_object_set_new(repo, "complete", json_true());
    json_object_set_new(repo, "problem",
                        complete < 2 ? json_string("listing failed") : json_null());
    return repo;
}

static const char *const names[] = {"team/a", "team/b", "other/c"};
static const char *const repo_pats[] = {"team/*", "*", "other/c", "nomatch/*", "team/b"};

/* Rules through retention_parse (normalised); use: whether the new fields
 * may be set. Their N values go to days. */
static json_t *gen_rules(struct gen *g, int use, int *days, int *nd)
{
    json_t *rules = json_array();
    int nr = 1 + rint_(g, 2);
    *nd = 0;
    for (int r = 0; r < nr; r++) {
        json_t *rule = json_pack("{s:s}", "repositories", repo_pats[rint_(g, 5)]);
        int kl = rint_(g, 3) ? rint_(g, 3) : rint_(g, 7);
        json_object_set_new(rule, "keepLast", kl == 6 ? json_null() : json_integer(kl));
        json_t *kt = json_array();
        for (int n = rint_(g, 3); n > 0; n--)
            if (rint_(g, 6))
                json_array_append_new(kt, json_string(patterns[rint_(g, 5)]));
            else
                json_array_append_new(kt, json_string(patterns[rint_(g, 6)]));
        json_object_set_new(rule, "keepTags", kt);
        const char *f[] = {"keepPulledWithin", "keepPushedWithin"};
        for (int i = 0; i < 2; i++) {
            if (use && rint_(g, 3)) {
                int n = 1 + rint_(g, 60);
                days[(*nd)++] = n;
                json_object_set_new(rule, f[i], json_integer(n));
            } else if (rint_(g, 2)) {
                json_object_set_new(rule, f[i], json_null());
            }
        }
        json_array_append_new(rules, rule);
    }
    json_t *body = json_pack("{s:o, s:b}", "rules", rules, "deleteUntagged", rint_(g, 2));
    struct err e = {0};
    json_t *parsed = retention_parse(body, &e);
    json_decref(body);
    assert_non_null(parsed);
    return parsed;
}

/* ------------------------------------------------------------------ */
/* The oracle, from retention.h */

static int days_in(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

/* 1 with *t for a valid time, 0 for none (missing or null), -1 for one
 * that is not a valid RFC 3339 UTC time. */
static int time_of(json_t *v, long long *t)
{
    if (!v || json_is_null(v))
        return 0;
    const char *s = json_string_value(v);
    int y, mo, d, h, mi, se, n = 0;
    if (!s || strlen(s) != 20 ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 20)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo) || h > 23 || mi > 59 || se > 59)
        return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = se};
    *t = (long long)timegm(&tm);
    return 1;
}

static struct verdict push_rule(json_t *rule, json_t *tag)
{
    json_t *nv = json_object_get(rule, "keepPushedWithin");
    struct verdict v = {NO, NULL};
    if (!json_is_integer(nv))
        return v;
    long long n = json_integer_value(nv) * DAY, p, s;
    int pk = time_of(json_object_get(tag, "pushed"), &p);
    int sk = time_of(json_object_get(tag, "seen"), &s);
    /* the fallback when the push time is not known */
    struct verdict unknown = {YES, "push time unknown"};
    if (sk == 1 && NOW - s > n)
        unknown = (struct verdict){NO, NULL};
    if (pk != 1)
        return unknown;
    if (p > NOW) /* recent, or not valid: then the fallback decides */
        return unknown.keep == YES ? (struct verdict){YES, NULL} : (struct verdict){MAYBE, NULL};
    if (NOW - p <= n)
        return (struct verdict){YES, "pushed recently"};
    return v;
}

static struct verdict pull_rule(json_t *rule, json_t *tag)
{
    json_t *nv = json_object_get(rule, "keepPulledWithin");
    struct verdict v = {NO, NULL};
    if (!json_is_integer(nv))
        return v;
    long long n = json_integer_value(nv) * DAY, l, s;
    int lk = time_of(json_object_get(tag, "lastPulled"), &l);
    int sk = time_of(json_object_get(tag, "pullsSince"), &s);
    /* not pulled since: kept unless the index counted the whole window */
    struct verdict unknown = {YES, "pull time unknown"};
    if (sk == 1 && NOW - s >= n)
        unknown = (struct verdict){NO, NULL};
    if (lk == 1 && l <= NOW && NOW - l <= n)
        return (struct verdict){YES, "pulled recently"};
    if (lk == 1 && l > NOW)
        return unknown.keep == YES ? (struct verdict){YES, NULL} : (struct verdict){MAYBE, NULL};
    /* retention.h: a lastPulled that is there but no valid time keeps */
    if (lk == -1)
        return (struct verdict){YES, "pull time unknown"};
    return unknown;
}

/* "pushed" valid as a creation time must be (the tie-break): 1 with *t. */
static int valid_push(json_t *tag, long long *t)
{
    return time_of(json_object_get(tag, "pushed"), t) == 1 && *t >= Y2000 && *t <= NOW + DAY;
}

/* created: 1 with *t when the age is known and plausible, else 0. */
static int age_of(json_t *tag, long long *t)
{
    return time_of(json_object_get(tag, "created"), t) == 1 && *t >= Y2000 && *t <= NOW + DAY;
}

static int pattern_of(json_t *rule, const char *tag)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(rule, "keepTags"), i, p)
    {
        if (fnmatch(json_string_value(p), tag, 0) == 0)
            return 1;
    }
    return 0;
}

/* Marks digest and everything it reaches through children in set. */
static void reach(json_t *children, const char *digest, json_t *set)
{
    if (json_object_get(set, digest))
        return;
    json_object_set_new(set, digest, json_true());
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(children, digest), i, c)
    {
        reach(children, json_string_value(c), set);
    }
}

static int reaches(json_t *children, const char *from, const char *to)
{
    json_t *set = json_object();
    reach(children, from, set);
    int r = json_object_get(set, to) != NULL;
    json_decref(set);
    return r;
}

/* Whether some digest of the repository reaches both a and b. */
static int one_build(json_t *repo, const char *a, const char *b)
{
    json_t *children = json_object_get(repo, "children");
    if (reaches(children, a, b) || reaches(children, b, a))
        return 1;
    const char *k;
    json_t *v;
    json_object_foreach(children, k, v)
    {
        if (reaches(children, k, a) && reaches(children, k, b))
            return 1;
    }
    return 0;
}

struct run {
    int verbose, bad;
    long checks, deleted, use_deleted, kept_by_use, must_go, boundary;
    long tie_tags, push_ordered, only_unresolved_skipped;
};

static void violation(struct run *u, const char *repo, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  %s: ", repo);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    u->bad++;
}

static json_t *plan_repo(json_t *plan, const char *name)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(plan, "repositories"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0)
            return r;
    }
    return NULL;
}

static const char *reason_of(json_t *pr, const char *tag)
{
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(pr, "keep"), i, k)
    {
        if (strcmp(json_string_value(json_object_get(k, "tag")), tag) == 0)
            return json_string_value(json_object_get(k, "reason"));
    }
    return NULL;
}

static void check_repo(struct run *u, json_t *rules, json_t *repo, json_t *plan)
{
    const char *name = json_string_value(json_object_get(repo, "name"));
    json_t *pr = plan_repo(plan, name), *tags = json_object_get(repo, "tags");
    json_t *children = json_object_get(repo, "children");
    int ri = -1;
    size_t i, j;
    json_t *r, *t, *d;
    json_array_foreach(json_object_get(rules, "rules"), i, r)
    {
        if (fnmatch(json_string_value(json_object_get(r, "repositories")), name, 0) == 0) {
            ri = (int)i;
            break;
        }
    }
    if (ri < 0) {
        if (pr)
            violation(u, name, "listed though no rule matches");
        return;
    }
    if (!pr) {
        violation(u, name, "rule %d matches but the repository is not listed", ri);
        return;
    }
    json_t *rule = json_array_get(json_object_get(rules, "rules"), (size_t)ri);
    json_t *del = json_object_get(pr, "delete");
    /* 3: deletions by digest with all their tags; every tag once */
    json_t *seen = json_object(), *deleted = json_object();
    json_array_foreach(del, i, d)
    {
        const char *dg = json_string_value(json_object_get(d, "digest"));
        if (json_object_get(deleted, dg))
            violation(u, name, "%s deleted twice", dg);
        json_object_set_new(deleted, dg, json_true());
        size_t want = 0;
        json_array_foreach(tags, j, t)
        {
            want += strcmp(json_string_value(json_object_get(t, "digest")), dg) == 0;
        }
        if (json_array_size(json_object_get(d, "tags")) != want)
            violation(u, name, "%s deleted with %zu tags of its %zu", dg,
                      json_array_size(json_object_get(d, "tags")), want);
        json_t *x;
        json_array_foreach(json_object_get(d, "tags"), j, x)
        {
            json_object_set_new(seen, json_string_value(x), json_string(dg));
        }
        u->deleted++;
        u->use_deleted += json_is_integer(json_object_get(rule, "keepPulledWithin")) ||
                          json_is_integer(json_object_get(rule, "keepPushedWithin"));
    }
    json_array_foreach(json_object_get(pr, "keep"), i, t)
    {
        const char *tg = json_string_value(json_object_get(t, "tag"));
        if (json_object_get(seen, tg))
            violation(u, name, "tag %s both kept and deleted (or kept twice)", tg);
        json_object_set_new(seen, tg, json_string(""));
    }
    json_array_foreach(tags, i, t)
    {
        const char *tg = json_string_value(json_object_get(t, "tag"));
        const char *dg = json_string_value(json_object_get(t, "digest"));
        json_t *where = json_object_get(seen, tg);
        if (!where)
            violation(u, name, "tag %s neither kept nor deleted", tg);
        else if (*json_string_value(where) && strcmp(json_string_value(where), dg) != 0)
            violation(u, name, "tag %s deleted with %s, not its %s", tg, json_string_value(where),
                      dg);
        else if (!*json_string_value(where) && json_object_get(deleted, dg))
            violation(u, name, "tag %s kept but its digest %s deleted", tg, dg);
    }
    json_decref(seen);
    /* 2: not read whole */
    if (!json_is_true(json_object_get(repo, "complete"))) {
        if (json_array_size(del))
            violation(u, name, "not read whole but deletes %zu images", json_array_size(del));
        if (!json_object_get(pr, "skipped"))
            violation(u, name, "not read whole but not \"skipped\"");
        json_decref(deleted);
        return;
    }
    /* every tag's verdicts */
    size_t n = json_array_size(tags);
    struct verdict push[MAXTAG], pull[MAXTAG];
    int pat[MAXTAG], aged[MAXTAG], must[MAXTAG], may[MAXTAG];
    long long when[MAXTAG];
    json_t *kl = json_object_get(rule, "keepLast");
    json_array_foreach(tags, i, t)
    {
        pat[i] = pattern_of(rule, json_string_value(json_object_get(t, "tag")));
        push[i] = push_rule(rule, t);
        pull[i] = pull_rule(rule, t);
        aged[i] = age_of(t, &when[i]);
        must[i] =
            pat[i] || push[i].keep == YES || pull[i].keep == YES || !aged[i] || json_is_null(kl);
        may[i] = must[i] || push[i].keep || pull[i].keep;
    }
#define DIG(k) json_string_value(json_object_get(json_array_get(tags, k), "digest"))
    /* certainly a candidate for keepLast: no earlier criterion can keep it */
    int cand[MAXTAG];
    for (i = 0; i < n; i++)
        cand[i] = !pat[i] && push[i].keep == NO && pull[i].keep == NO && aged[i];
    /* The groups at one creation time (retention.h's tie sentence). For an
     * aged tag i, of the tags at its time: any_tie, another digest has one;
     * res, every candidate (no pattern) has a valid "pushed" and no two on
     * different digests have the same; sev, certainly several builds (two
     * candidates on digests no manifest of the repository joins); single,
     * i is a candidate whose digest no other candidate digest there joins. */
    int any_tie[MAXTAG], res[MAXTAG], sev[MAXTAG], single[MAXTAG], pv[MAXTAG];
    long long pt[MAXTAG];
    for (i = 0; i < n; i++)
        pv[i] = valid_push(json_array_get(tags, i), &pt[i]);
    for (i = 0; i < n; i++) {
        any_tie[i] = res[i] = sev[i] = 0;
        single[i] = !pat[i];
        if (!aged[i])
            continue;
        res[i] = 1;
        for (j = 0; j < n; j++) {
            if (!aged[j] || when[j] != when[i])
                continue;
            int other = strcmp(DIG(j), DIG(i)) != 0;
            any_tie[i] |= other;
            if (pat[j])
                continue;
            if (!pv[j])
                res[i] = 0;
            if (other && !pat[i] && one_build(repo, DIG(i), DIG(j)))
                single[i] = 0;
            for (size_t k = 0; k < n; k++) {
                if (k == j || !aged[k] || pat[k] || when[k] != when[i] ||
                    strcmp(DIG(j), DIG(k)) == 0)
                    continue;
                if (pv[j] && pv[k] && pt[j] == pt[k])
                    res[i] = 0;
                if (!one_build(repo, DIG(j), DIG(k)))
                    sev[i] = 1;
            }
        }
        u->tie_tags += any_tie[i] && sev[i] && res[i];
    }
    /* +1 when j certainly ranks before i by push time, -1 when certainly
     * after, 0 when the contract leaves it open or it is not asked */
#define PUSH_ORDER(j, i)                                                                           \
    (when[j] == when[i] && sev[i] && res[i] && single[i] && single[j] && pt[j] != pt[i]            \
         ? (pt[j] > pt[i] ? 1 : -1)                                                                \
         : 0)
    int recent[MAXTAG];
    for (i = 0; i < n; i++) {
        recent[i] = 0;
        if (must[i] || !aged[i])
            continue;
        long long newer = 0, surely_newer = 0, before_all = 0;
        for (j = 0; j < n; j++) {
            if (j == i || !aged[j])
                continue;
            int order = PUSH_ORDER(j, i);
            /* a tag that may rank before this one (not certainly after) */
            int maybe = !pat[j] && push[j].keep != YES && pull[j].keep != YES &&
                        when[j] >= when[i] && order != -1;
            before_all += maybe;
            if (strcmp(DIG(j), DIG(i)) == 0)
                continue;
            /* one that may rank before this one's first tag */
            newer += maybe;
            /* one that certainly ranks before it (and is no tie kept as
             * "age unknown") */
            if (cand[j] && (!any_tie[j] || res[j]) && (when[j] > when[i] || order == 1))
                surely_newer++;
            u->push_ordered += order != 0;
        }
        long long last = json_integer_value(kl);
        /* several builds at one time the push order cannot tell apart:
         * every candidate at that time stays */
        if ((sev[i] && !res[i]) || newer < last)
            must[i] = 1;
        if ((any_tie[i] && !res[i]) || surely_newer < last)
            may[i] = 1;
        /* certainly among the keepLast newest */
        recent[i] = cand[i] && (!any_tie[i] || res[i]) && before_all < last;
    }
#undef PUSH_ORDER
    /* 1: data safety; 4: what certainly goes goes */
    json_t *keep = json_object(), *maykeep = json_object();
    for (i = 0; i < n; i++) {
        if (must[i])
            reach(children, DIG(i), keep);
        if (may[i])
            reach(children, DIG(i), maykeep);
    }
    for (i = 0; i < n; i++) {
        const char *tg = json_string_value(json_object_get(json_array_get(tags, i), "tag"));
        u->checks++;
        u->kept_by_use += push[i].keep == YES || pull[i].keep == YES;
        u->must_go += !json_object_get(maykeep, DIG(i));
        if (json_object_get(keep, DIG(i)) && json_object_get(deleted, DIG(i)))
            violation(u, name, "DATA SAFETY: %s (tag %s) must stay but is deleted", DIG(i), tg);
        if (!json_object_get(maykeep, DIG(i)) && !json_object_get(deleted, DIG(i)))
            violation(u, name, "%s (tag %s) nothing keeps it but it stays", DIG(i), tg);
        const char *why = reason_of(pr, tg);
        if (!why)
            continue;
        /* 4: reasons */
        const char *want = NULL;
        if (pat[i])
            want = "pattern";
        else if (push[i].keep == YES)
            want = push[i].reason;
        else if (push[i].keep == NO && pull[i].keep == YES)
            want = pull[i].reason;
        else if (push[i].keep == NO && pull[i].keep == NO && !aged[i])
            want = "age unknown";
        else if (push[i].keep == NO && pull[i].keep == NO && sev[i] && !res[i])
            want = "age unknown";
        else if (recent[i])
            want = "recent";
        /* "age unknown" for a tie only when the push order cannot resolve it */
        if (!strcmp(why, "age unknown") && aged[i] && !pat[i] && push[i].keep == NO &&
            pull[i].keep == NO && (!any_tie[i] || res[i]))
            violation(u, name, "tag %s kept as \"age unknown\" but %s", tg,
                      any_tie[i] ? "the push order tells its time's builds apart"
                                 : "no other image has its creation time");
        if (want && strcmp(why, want) != 0)
            violation(u, name, "tag %s kept as \"%s\", want \"%s\"", tg, why, want);
        if ((!strcmp(why, "pulled recently") || !strcmp(why, "pull time unknown")) &&
            pull[i].keep == NO)
            violation(u, name, "tag %s kept as \"%s\" but the pull rule cannot keep it", tg, why);
        if ((!strcmp(why, "pushed recently") || !strcmp(why, "push time unknown")) &&
            push[i].keep == NO)
            violation(u, name, "tag %s kept as \"%s\" but the push rule cannot keep it", tg, why);
    }
#undef DIG
    json_decref(keep);
    json_decref(maykeep);
    json_decref(deleted);
}

/* The repositories without the four times ("pushed" too when pushed). */
static json_t *without_times(json_t *repos, int pushed)
{
    json_t *c = json_deep_copy(repos), *r, *t;
    size_t i, j;
    json_array_foreach(c, i, r)
    {
        json_array_foreach(json_object_get(r, "tags"), j, t)
        {
            if (pushed)
                json_object_del(t, "pushed");
            json_object_del(t, "seen");
            json_object_del(t, "lastPulled");
            json_object_del(t, "pullsSince");
        }
    }
    return c;
}

/* Whether two digests of repo have tags at one plausible creation time. */
static int shares_time(json_t *repo)
{
    json_t *tags = json_object_get(repo, "tags"), *a, *b;
    size_t i, j;
    long long ta, tb;
    json_array_foreach(tags, i, a)
    {
        json_array_foreach(tags, j, b)
        {
            if (age_of(a, &ta) && age_of(b, &tb) && ta == tb &&
                strcmp(json_string_value(json_object_get(a, "digest")),
                       json_string_value(json_object_get(b, "digest"))) != 0)
                return 1;
        }
    }
    return 0;
}

static void dump(const char *what, json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    printf("%s:\n%s\n", what, s ? s : "(null)");
    free(s);
}

/* Checks one plan; prints it with its input when something fails (or
 * always with verbose). The number of violations. */
static int check_plan(struct run *u, const char *label, json_t *rules, json_t *repos)
{
    int before = u->bad;
    json_t *plan = retention_plan(rules, repos, NOW);
    assert_non_null(plan);
    size_t i;
    json_t *r;
    json_array_foreach(repos, i, r)
    {
        check_repo(u, rules, r, plan);
    }
    /* 5: the new inputs change nothing unless asked for */
    int use = 0;
    json_array_foreach(json_object_get(rules, "rules"), i, r)
    {
        use |= json_is_integer(json_object_get(r, "keepPulledWithin")) ||
               json_is_integer(json_object_get(r, "keepPushedWithin"));
    }
    /* ("pushed" also orders builds at one creation time: it may change the
     * plan where two digests share a time) */
    if (!use) {
        int shared = 0;
        json_array_foreach(repos, i, r)
        {
            shared |= shares_time(r);
        }
        json_t *bare = without_times(repos, !shared);
        json_t *p2 = retention_plan(rules, bare, NOW);
        assert_non_null(p2);
        if (!json_equal(plan, p2)) {
            violation(u, label,
                      "without keepPulledWithin/keepPushedWithin the times change "
                      "the plan");
            dump("plan without the times", p2);
        }
        json_decref(bare);
        json_decref(p2);
    }
    if (u->bad > before || u->verbose) {
        printf("%s: %d violations\n", label, u->bad - before);
        dump("rules", rules);
        dump("repositories", repos);
        dump("plan", plan);
    }
    json_decref(plan);
    return u->bad - before;
}

/* Whether the push order resolves a tie in repo under its rule: a time
 * with candidates (no pattern) on two digests, every candidate there with
 * a valid "pushed", no two on different digests the same. */
static int push_resolves(json_t *rules, json_t *repo)
{
    json_t *rule = NULL, *r, *tags = json_object_get(repo, "tags"), *a, *b;
    size_t i, j;
    json_array_foreach(json_object_get(rules, "rules"), i, r)
    {
        if (fnmatch(json_string_value(json_object_get(r, "repositories")),
                    json_string_value(json_object_get(repo, "name")), 0) == 0) {
            rule = r;
            break;
        }
    }
    if (!rule)
        return 0;
    json_array_foreach(tags, i, a)
    {
        long long ta, tb, pb;
        if (pattern_of(rule, json_string_value(json_object_get(a, "tag"))) || !age_of(a, &ta))
            continue;
        int two = 0, ok = 1;
        json_array_foreach(tags, j, b)
        {
            if (pattern_of(rule, json_string_value(json_object_get(b, "tag"))) || !age_of(b, &tb) ||
                tb != ta)
                continue;
            int other = strcmp(json_string_value(json_object_get(a, "digest")),
                               json_string_value(json_object_get(b, "digest"))) != 0;
            two |= other;
            if (!valid_push(b, &pb))
                ok = 0;
            for (size_t k = 0; k < json_array_size(tags); k++) {
                json_t *c = json_array_get(tags, k);
                long long tc, pc;
                if (c != b && age_of(c, &tc) && tc == ta && valid_push(b, &pb) &&
                    valid_push(c, &pc) && pb == pc &&
                    !pattern_of(rule, json_string_value(json_object_get(c, "tag"))) &&
                    strcmp(json_string_value(json_object_get(b, "digest")),
                           json_string_value(json_object_get(c, "digest"))) != 0)
                    ok = 0;
            }
        }
        if (two && ok)
            return 1;
    }
    return 0;
}

static int run_seed(struct run *u, uint64_t seed)
{
    struct gen g = {seed * 0x2545f4914f6cdd1dULL + 1};
    int days[8], nd;
    json_t *rules = gen_rules(&g, rint_(&g, 3) != 0, days, &nd);
    json_t *repos = json_array();
    int resolves = 0;
    for (int i = 0, nr = 1 + rint_(&g, 3); i < nr; i++) {
        json_array_append_new(repos, gen_repo(&g, names[i], days, nd));
        resolves |= push_resolves(rules, json_array_get(repos, (size_t)i));
    }
    /* SR_MODEL_UNRESOLVED=1: only the seeds where no push order resolves a
     * tie (the checks from before the tie-break sentence, and the new ones
     * where it changes nothing) */
    if (resolves && getenv("SR_MODEL_UNRESOLVED") && !u->verbose) {
        u->only_unresolved_skipped++;
        json_decref(rules);
        json_decref(repos);
        return 0;
    }
    char label[48];
    snprintf(label, sizeof label, "SR_MODEL_SEED=%llu", (unsigned long long)seed);
    int bad = check_plan(u, label, rules, repos);
    json_decref(rules);
    json_decref(repos);
    return bad;
}

static void test_random(void **state)
{
    (void)state;
    struct run u = {0};
    const char *one = getenv("SR_MODEL_SEED");
    if (one) {
        u.verbose = 1;
        int n = run_seed(&u, strtoull(one, NULL, 10));
        CHECK(n == 0, "seed %s: %d violations", one, n);
        return;
    }
    const char *ns = getenv("SR_MODEL_SEEDS"), *fs = getenv("SR_MODEL_FIRST");
    long n = ns ? atol(ns) : under_valgrind() ? 300 : 2000;
    uint64_t first = fs ? strtoull(fs, NULL, 10) : 1;
    int bad_seeds = 0;
    for (long i = 0; i < n; i++)
        if (run_seed(&u, first + (uint64_t)i) && ++bad_seeds >= 5)
            break;
    printf("retention use model: %ld seeds, %ld tags checked (%ld kept by use for sure, %ld "
           "certain to go), %ld images planned to go (%ld under a use rule); %ld tags in ties "
           "the push order resolves, %ld pairs ordered by push\n",
           n, u.checks, u.kept_by_use, u.must_go, u.deleted, u.use_deleted, u.tie_tags,
           u.push_ordered);
    if (u.only_unresolved_skipped)
        printf("  (%ld seeds with a tie the push order resolves skipped)\n",
               u.only_unresolved_skipped);
    CHECK(bad_seeds == 0, "%d seeds failed (the first are above)", bad_seeds);
}

/* ------------------------------------------------------------------ */
/* Hand-written cases: one repository, keepLast 0, the boundaries */

static json_t *tag_(const char *tag, const char *digest, const char *created)
{
    return json_pack("{s:s, s:s, s:s, s:i}", "tag", tag, "digest", digest, "created", created,
                     "size", 10);
}

static void set_ago(json_t *t, const char *k, long long ago)
{
    json_object_set_new(t, k, time_str(NOW - ago));
}

#define DA "sha256:aaaa"
#define DB "sha256:bbbb"
#define OLD "2026-01-01T00:00:00Z"

/* The plan for one tag list in "r" under rule_text; returns the plan's
 * entry for "r" (*plan owns it) after the model's checks. */
static json_t *one_repo(const char *rule_text, json_t *tags, json_t *children, json_t **plan)
{
    json_t *body = json_loads(rule_text, 0, NULL);
    assert_non_null(body);
    struct err e = {0};
    json_t *rules = retention_parse(body, &e);
    json_decref(body);
    assert_non_null(rules);
    json_t *repos = json_pack("[{s:s, s:b, s:n, s:o, s:o}]", "name", "r", "complete", 1, "problem",
                              "tags", tags, "children", children ? children : json_object());
    struct run u = {.verbose = getenv("SR_MODEL_VERBOSE") != NULL};
    int bad = check_plan(&u, "hand-written", rules, repos);
    *plan = bad ? NULL : retention_plan(rules, repos, NOW);
    json_decref(rules);
    json_decref(repos);
    CHECK(bad == 0, "the model's checks fail");
    return plan_repo(*plan, "r");
}

#define PULL30 "{\"rules\":[{\"repositories\":\"*\",\"keepLast\":0,\"keepPulledWithin\":30}]}"
#define PUSH7 "{\"rules\":[{\"repositories\":\"*\",\"keepLast\":0,\"keepPushedWithin\":7}]}"

/* One tag under rule; k1/k2 set ago1/ago2 seconds before now (NULL: not
 * set); want: its reason, or NULL when it goes. */
static void case_(const char *rule, const char *k1, long long ago1, const char *k2, long long ago2,
                  const char *want)
{
    json_t *t = tag_("x", DA, OLD), *plan;
    if (k1)
        set_ago(t, k1, ago1);
    if (k2)
        set_ago(t, k2, ago2);
    json_t *pr = one_repo(rule, json_pack("[o]", t), NULL, &plan);
    const char *why = reason_of(pr, "x");
    size_t gone = json_array_size(json_object_get(pr, "delete"));
    CHECK(want ? why && strcmp(why, want) == 0 && gone == 0 : !why && gone == 1,
          "%s %s=-%lld %s=-%lld: kept as %s, want %s", rule, k1 ? k1 : "", ago1, k2 ? k2 : "", ago2,
          why ? why : "(deleted)", want ? want : "(deleted)");
    json_decref(plan);
}

static void test_pull_boundaries(void **state)
{
    (void)state;
    /* pullsSince exactly 30 days ago counts the whole window: not pulled
     * in it, the tag goes; one second later the window is short: kept */
    case_(PULL30, "pullsSince", 30 * DAY, NULL, 0, NULL);
    case_(PULL30, "pullsSince", 30 * DAY - 1, NULL, 0, "pull time unknown");
    case_(PULL30, "pullsSince", -DAY, NULL, 0, "pull time unknown");
    case_(PULL30, NULL, 0, NULL, 0, "pull time unknown");
    /* lastPulled exactly 30 days ago is within 30 days */
    case_(PULL30, "lastPulled", 30 * DAY, "pullsSince", 100 * DAY, "pulled recently");
    case_(PULL30, "lastPulled", 30 * DAY + 1, "pullsSince", 100 * DAY, NULL);
    case_(PULL30, "lastPulled", 30 * DAY + 1, "pullsSince", 10 * DAY, "pull time unknown");
    case_(PULL30, "lastPulled", 30 * DAY + 1, NULL, 0, "pull time unknown");
    /* without the rule the pull times mean nothing */
    case_("{\"rules\":[{\"repositories\":\"*\",\"keepLast\":0}]}", "lastPulled", 0, NULL, 0, NULL);
}

static void test_push_boundaries(void **state)
{
    (void)state;
    case_(PUSH7, "pushed", 7 * DAY, NULL, 0, "pushed recently");
    case_(PUSH7, "pushed", 7 * DAY + 1, NULL, 0, NULL);
    case_(PUSH7, "pushed", 7 * DAY + 1, "seen", DAY, NULL); /* a valid push time decides */
    /* seen known, pushed null: pushed before seen */
    case_(PUSH7, "seen", 10 * DAY, NULL, 0, NULL);
    case_(PUSH7, "seen", 7 * DAY + 1, NULL, 0, NULL);
    case_(PUSH7, "seen", 7 * DAY, NULL, 0, "push time unknown");
    case_(PUSH7, "seen", 3 * DAY, NULL, 0, "push time unknown");
    case_(PUSH7, NULL, 0, NULL, 0, "push time unknown");
    /* a malformed push time is no push time */
    json_t *t = tag_("x", DA, OLD), *plan;
    json_object_set_new(t, "pushed", json_string("2026-13-01T00:00:00Z"));
    json_object_set_new(t, "seen", json_null());
    json_t *pr = one_repo(PUSH7, json_pack("[o]", t), NULL, &plan);
    CHECK(reason_of(pr, "x") && strcmp(reason_of(pr, "x"), "push time unknown") == 0,
          "malformed push time: %s", reason_of(pr, "x") ? reason_of(pr, "x") : "(deleted)");
    json_decref(plan);
}

/* A pulled platform keeps itself, not its index; a pulled index keeps its
 * platforms ("in a kept index"). */
static void test_index_pulls(void **state)
{
    (void)state;
    for (int pulled_index = 0; pulled_index < 2; pulled_index++) {
        json_t *idx = tag_("multi", DA, OLD), *plat = tag_("amd64", DB, OLD);
        set_ago(idx, "pullsSince", 100 * DAY);
        set_ago(plat, "pullsSince", 100 * DAY);
        set_ago(pulled_index ? idx : plat, "lastPulled", DAY);
        json_t *plan;
        json_t *pr =
            one_repo(PULL30, json_pack("[o, o]", idx, plat), json_pack("{s:[s]}", DA, DB), &plan);
        const char *wi = reason_of(pr, "multi"), *wp = reason_of(pr, "amd64");
        if (pulled_index)
            CHECK(wi && !strcmp(wi, "pulled recently") && wp && !strcmp(wp, "in a kept index"),
                  "pulled index: multi %s, amd64 %s", wi ? wi : "gone", wp ? wp : "gone");
        else
            CHECK(!wi && wp && !strcmp(wp, "pulled recently") &&
                      json_array_size(json_object_get(pr, "delete")) == 1,
                  "pulled platform: multi %s, amd64 %s", wi ? wi : "gone", wp ? wp : "gone");
        json_decref(plan);
    }
}

/* Builds at one creation time, ordered by push time. spec: one letter a
 * tag, its digest (a, b or c: sha256:aaaa...), pushed days ago (0-9; '-'
 * not set, 'x' malformed, 'f' more than a day after now, 'F' exactly a day
 * after now), each tag "<digest><pushed>" named after its position
 * (t0, t1, ...); want: the reasons by position ('r' recent, 'u' age
 * unknown, 's' same image, 'p' pattern, '-' deleted). */
static void tie_case(int keep_last, const char *keep_tags, const char *spec, const char *want)
{
    char rule[200];
    snprintf(rule, sizeof rule,
             "{\"rules\":[{\"repositories\":\"*\",\"keepLast\":%d,\"keepTags\":[%s]}]}", keep_last,
             keep_tags);
    json_t *tags = json_array(), *plan;
    size_t n = strlen(spec) / 2;
    for (size_t k = 0; k < n; k++) {
        char name[24], dg[16];
        snprintf(name, sizeof name, "t%zu", k);
        snprintf(dg, sizeof dg, "sha256:%c%c%c%c", spec[2 * k], spec[2 * k], spec[2 * k],
                 spec[2 * k]);
        json_t *t = tag_(name, dg, OLD);
        char p = spec[2 * k + 1];
        if (p >= '0' && p <= '9')
            set_ago(t, "pushed", (p - '0') * DAY + 3600);
        else if (p == 'x')
            json_object_set_new(t, "pushed", json_string("2026-02-30T00:00:00Z"));
        else if (p == 'f')
            set_ago(t, "pushed", -DAY - 1);
        else if (p == 'F')
            set_ago(t, "pushed", -DAY);
        json_array_append_new(tags, t);
    }
    json_t *pr = one_repo(rule, tags, NULL, &plan);
    for (size_t k = 0; k < n; k++) {
        char name[24];
        snprintf(name, sizeof name, "t%zu", k);
        const char *why = reason_of(pr, name), *w = "-";
        if (why)
            w = !strcmp(why, "recent")        ? "r"
                : !strcmp(why, "age unknown") ? "u"
                : !strcmp(why, "same image")  ? "s"
                : !strcmp(why, "pattern")     ? "p"
                                              : why;
        CHECK(strncmp(w, want + k, 1) == 0 && strlen(w) == 1, "keepLast %d %s: %s is %s, want %c",
              keep_last, spec, name, why ? why : "deleted", want[k]);
    }
    json_decref(plan);
}

static void test_push_ties(void **state)
{
    (void)state;
    tie_case(1, "", "a2b1", "-r"); /* the later push is the newer */
    tie_case(1, "", "a1b2", "r-");
    tie_case(2, "", "a3b2c1", "-rr");
    tie_case(1, "", "a2bx", "uu");          /* one push time not valid */
    tie_case(1, "", "a2b-", "uu");          /* one missing */
    tie_case(1, "", "a2bf", "uu");          /* more than a day after now */
    tie_case(1, "", "a2bF", "-r");          /* a day after now exactly is valid */
    tie_case(1, "", "a2b2", "uu");          /* two digests, one push time */
    tie_case(1, "", "a3a1b2", "sr-");       /* one image, pushes either side */
    tie_case(2, "", "a3a1b2", "srr");       /* keepLast counts tags */
    tie_case(1, "", "a4a4b2", "--r");       /* one image, one push time twice */
    tie_case(1, "\"t2\"", "a2b1c-", "-rp"); /* a pattern tag is no candidate */
    tie_case(0, "", "a2b1", "--");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pull_boundaries), cmocka_unit_test(test_push_boundaries),
        cmocka_unit_test(test_index_pulls),     cmocka_unit_test(test_push_ties),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests_name("retention_use", tests, NULL, NULL);
}
