/* The index's figures (issue 17's goals), without a registry: fills an
 * index with REPOS repositories of TAGS tags each (as readings of the
 * registry store them), then times what the tab and the clean-up ask of
 * it: the first page of 100 by name and by size, a search among all tags,
 * the clean-up preview's input and plan over 20,000 tags, and a flood of
 * push events. Prints markdown rows: | figure | measured | goal | ratio |.
 *
 *   index_bench STATE_DIR [REPOS [TAGS]]   (10000 x 5 by default)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "regindex.h"
#include "retention.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void digest(char *out, unsigned a, unsigned b)
{
    snprintf(out, 80, "sha256:%08x%08x%048d", a, b, 0);
}

/* runs fn n times, prints p50 and p99 */
static void timed(const char *figure, const char *goal, double goal_ms, int n,
                  json_t *(*fn)(struct rix *, int), struct rix *x)
{
    double *t = calloc((size_t)n, sizeof *t), cpu = cpu_ms();
    for (int i = 0; i < n; i++) {
        double a = now_ms();
        json_t *r = fn(x, i);
        t[i] = now_ms() - a;
        if (!r) {
            fprintf(stderr, "%s: no answer\n", figure);
            exit(1);
        }
        json_decref(r);
    }
    qsort(t, (size_t)n, sizeof *t, cmp);
    double p99 = t[(int)(n * 0.99) < n ? (int)(n * 0.99) : n - 1];
    cpu = (cpu_ms() - cpu) / n;
    printf("| %s | p50 %.2f ms, p99 %.2f ms (%d runs; CPU %.2f ms a run) | %s | %.2f |\n", figure,
           t[n / 2], p99, n, cpu, goal, p99 / goal_ms);
    free(t);
}

static json_t *first_page_name(struct rix *x, int i)
{
    (void)i;
    struct err e;
    return rix_repositories(x, NULL, "name", 0, 0, 100, &e);
}

static json_t *first_page_size(struct rix *x, int i)
{
    (void)i;
    struct err e;
    return rix_repositories(x, NULL, "size", 1, 0, 100, &e);
}

static json_t *search(struct rix *x, int i)
{
    char q[32];
    struct err e;
    /* a repository name, then a tag name, then nothing that matches */
    snprintf(q, sizeof q,
             i % 3 == 0   ? "app%d/"
             : i % 3 == 1 ? "v%d.1"
                          : "nomatch%d",
             (i * 7919) % 997);
    return rix_repositories(x, q, "name", 0, 0, 100, &e);
}

static int want_some(void *ctx, const char *name)
{
    int *n = ctx;
    /* the first 4,000 repositories: 20,000 tags at 5 each */
    return strncmp(name, "app", 3) == 0 && (*n)-- > 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: index_bench STATE_DIR [REPOS [TAGS]]\n");
        return 2;
    }
    int repos = argc > 2 ? atoi(argv[2]) : 10000, tags = argc > 3 ? atoi(argv[3]) : 5;
    char path[600], why[200];
    snprintf(path, sizeof path, "%s/index.db", argv[1]);
    struct err e = {0};
    struct rix *x = rix_open(path, why, sizeof why, &e);
    if (!x) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    double a = now_ms();
    for (int r = 0; r < repos; r++) {
        char name[64], d[80], b1[80], b2[80], created[32];
        snprintf(name, sizeof name, "app%d/svc%d", r % 997, r);
        json_t *list = json_array(), *man = json_object();
        digest(b1, 0xb0b, (unsigned)(r % 50)); /* a base layer shared by 200 repositories */
        for (int t = 0; t < tags; t++) {
            char tg[32];
            snprintf(tg, sizeof tg, "v%d.%d", r % 997, t);
            digest(d, (unsigned)r, (unsigned)t);
            digest(b2, (unsigned)r + 0x10000, (unsigned)t);
            snprintf(created, sizeof created, "2026-%02d-%02dT10:00:00Z", 1 + t % 12, 1 + r % 28);
            json_array_append_new(list, json_pack("{s:s, s:s}", "tag", tg, "digest", d));
            json_object_set_new(
                man, d,
                json_pack("{s:s, s:s, s:s, s:{s:i, s:i}, s:[], s:s}", "kind", "image", "mediaType",
                          "application/vnd.oci.image.manifest.v1+json", "created", created, "blobs",
                          b1, 30000000, b2, 1000000 + t, "children", "platform", "linux/amd64"));
        }
        json_t *s = json_pack("{s:s, s:b, s:o, s:{}, s:o}", "name", name, "complete", 1, "tags",
                              list, "children", "manifests", man);
        if (rix_put_repo(x, s, 0, &e)) {
            fprintf(stderr, "%s\n", e.message);
            return 1;
        }
        json_decref(s);
    }
    double fill = now_ms() - a;
    struct stat st;
    char wal[620];
    snprintf(wal, sizeof wal, "%s-wal", path);
    long long bytes = stat(path, &st) == 0 ? (long long)st.st_size : 0;
    long long wal_bytes = stat(wal, &st) == 0 ? (long long)st.st_size : 0;
    printf("| index of %d repositories x %d tags, filled as readings store them | %.1f s (%.2f "
           "ms a repository) | | |\n",
           repos, tags, fill / 1e3, fill / repos);
    printf("| index file | %lld bytes (+ %lld WAL): %.0f bytes a tag | | |\n", bytes, wal_bytes,
           (double)bytes / (repos * (double)tags));
    timed("first page of 100 repositories by name", "p99 under 20 ms", 20, 200, first_page_name, x);
    timed("first page of 100 by size, biggest first", "p99 under 20 ms", 20, 200, first_page_size,
          x);
    timed("search a name or a tag", "p99 under 50 ms", 50, 150, search, x);
    /* the clean-up preview over 20,000 tags: the index's input and the plan */
    json_t *rules = json_loads("{\"rules\":[{\"repositories\":\"app*\",\"keepLast\":2}]}", 0, NULL);
    json_t *parsed = retention_parse(rules, &e);
    double p[5];
    long long planned = 0;
    for (int i = 0; i < 5; i++) {
        int n = 20000 / tags;
        a = now_ms();
        json_t *in = rix_plan_input(x, want_some, &n);
        json_t *plan = retention_plan(parsed, in, (long long)time(NULL));
        p[i] = now_ms() - a;
        planned = json_integer_value(json_object_get(plan, "tags"));
        json_decref(in);
        json_decref(plan);
    }
    qsort(p, 5, sizeof *p, cmp);
    printf("| clean-up preview over 20,000 tags from the index (input and plan, median of 5) | "
           "%.0f ms (%lld tags planned to go) | under 1 s | %.2f |\n",
           p[2], planned, p[2] / 1000);
    json_decref(rules);
    json_decref(parsed);
    /* a flood of push events, each committed before it is acknowledged */
    a = now_ms();
    int n = 2000;
    for (int i = 0; i < n; i++) {
        char d[80], url[200], tg[32];
        digest(d, 0xf100d, (unsigned)i);
        snprintf(tg, sizeof tg, "flood%d", i);
        snprintf(url, sizeof url, "http://r/v2/flood/x/manifests/%s", d);
        json_t *ev =
            json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s}}", "action", "push", "timestamp",
                      "2026-12-07T10:00:00Z", "target", "repository", "flood/x", "tag", tg,
                      "digest", d, "url", url, "request", "method", "PUT");
        if (rix_event(x, ev, NULL, NULL, &e)) {
            fprintf(stderr, "%s\n", e.message);
            return 1;
        }
        json_decref(ev);
    }
    double fl = now_ms() - a;
    printf("| push events stored (committed, one each) | %d in %.0f ms: %.2f ms an event | | |\n",
           n, fl, fl / n);
    rix_close(x);
    return 0;
}
