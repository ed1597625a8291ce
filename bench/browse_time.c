/* Times backend/browse.c against a registry:
 *   browse_time BASE [RUNS [FIRST_LIMIT]]
 * prints, per run, the seconds a whole listing took (every page, as the tab
 * reads them: FIRST_LIMIT repositories first, default 100, then pages of
 * 1,000 from nextOffset), the first answer's seconds, the repositories and
 * tags read and whether it was complete. Run 1 starts with an empty manifest
 * cache (a first visit to the tab); the later runs use the cache, as a
 * refresh does. Env BROWSE_CONCURRENCY: requests in flight (default 32). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../backend/browse.h"

static double since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: browse_time BASE [RUNS [FIRST_LIMIT]]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 2;
    long first_limit = argc > 3 ? atol(argv[3]) : 100;
    if (getenv("BROWSE_CONCURRENCY"))
        browse_set_concurrency(atoi(getenv("BROWSE_CONCURRENCY")));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; i < runs; i++) {
        struct timespec a;
        double first = 0;
        size_t repos = 0, tags = 0, pages = 0;
        long off = 0;
        int truncated = 0;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (;;) {
            struct err e = {0};
            json_t *r = browse_repositories_page(argv[1], NULL, off, pages ? 1000 : first_limit, &e);
            if (!r) {
                printf("run %d: error %d %s\n", i + 1, e.status, e.message);
                return 1;
            }
            if (!pages++)
                first = since(&a);
            size_t idx;
            json_t *repo;
            json_array_foreach(json_object_get(r, "repositories"), idx, repo)
            {
                repos++;
                tags += json_array_size(json_object_get(repo, "tags"));
            }
            json_t *next = json_object_get(r, "nextOffset");
            truncated = json_is_true(json_object_get(r, "truncated"));
            off = json_is_integer(next) ? (long)json_integer_value(next) : -1;
            json_decref(r);
            if (off < 0)
                break;
        }
        printf("run %d: %.3f s repos %zu tags %zu pages %zu first %.3f s truncated %d\n", i + 1,
               since(&a), repos, tags, pages, first, truncated);
    }
    browse_cache_clear();
    curl_global_cleanup();
    return 0;
}
