/* Fuzzes the registry's notifications as the events listener takes them:
 * any bytes through the envelope parser (events_parse) into the index
 * (rix_event), then a search and a page with part of the input as the
 * query. The index must stay readable and consistent: every tag it lists
 * names a valid digest in a valid repository. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "browse.h"
#include "events.h"
#include "regindex.h"

static struct rix *x;

static int sink(void *ctx, json_t *event)
{
    (void)ctx;
    struct err e = {0};
    int look = 0;
    return rix_event(x, event, "internal", &look, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!x) {
        char dir[] = "/tmp/sr-fuzz-events-XXXXXX", path[64], why[200];
        struct err e = {0};
        if (!mkdtemp(dir))
            abort();
        snprintf(path, sizeof path, "%s/index.db", dir);
        x = rix_open(path, why, sizeof why, &e);
        if (!x)
            abort();
    }
    events_parse((const char *)data, size, sink, NULL);
    char q[24] = "";
    if (size > 4) {
        size_t n = size - 4 < sizeof q - 1 ? size - 4 : sizeof q - 1;
        memcpy(q, data + size - n, n);
        q[n] = '\0';
    }
    static const char *const sorts[] = {"name", "pushed", "pulled", "size"};
    struct err e = {0};
    json_t *r = rix_repositories(x, q, sorts[size % 4], (int)(size & 1), 0, 50, &e);
    if (!r)
        abort();
    size_t i, j;
    json_t *repo, *t;
    json_array_foreach(json_object_get(r, "repositories"), i, repo)
    {
        if (!browse_name_valid(json_string_value(json_object_get(repo, "name"))))
            abort();
        json_array_foreach(json_object_get(repo, "tags"), j, t)
        {
            if (!browse_digest_valid(json_string_value(json_object_get(t, "digest"))) ||
                json_integer_value(json_object_get(t, "pulls")) < 0)
                abort();
        }
    }
    json_decref(r);
    return 0;
}
