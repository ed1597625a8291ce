/* Times backend/browse.c against a registry: browse_time BASE [RUNS]
 * prints, per run, the seconds one listing of the first page took, the
 * repositories and tags it read and whether it was complete. Run 1 starts
 * with an empty manifest cache (a first visit to the tab); the later runs
 * use the cache, as a refresh does. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../backend/browse.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: browse_time BASE [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 2;
    for (int i = 0; i < runs; i++) {
        struct err e = {0};
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        json_t *r = browse_repositories(argv[1], NULL, NULL, NULL, &e);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        if (!r) {
            printf("run %d: error %d %s\n", i + 1, e.status, e.message);
            return 1;
        }
        size_t tags = 0, idx;
        json_t *repo;
        json_array_foreach(json_object_get(r, "repositories"), idx, repo) tags +=
            json_array_size(json_object_get(repo, "tags"));
        printf("run %d: %.3f s repos %zu tags %zu total %lld truncated %d totalSize %lld\n", i + 1,
               s, json_array_size(json_object_get(r, "repositories")), tags,
               json_integer_value(json_object_get(r, "total")),
               json_is_true(json_object_get(r, "truncated")),
               json_integer_value(json_object_get(r, "totalSize")));
        json_decref(r);
    }
    browse_cache_clear();
    return 0;
}
