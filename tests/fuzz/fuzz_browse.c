/*
 * libFuzzer target for backend/browse.c's reading of the registry's answers:
 * a manifest document (image manifest, OCI index, Docker manifest list) as
 * the registry sends it, parsed into the facts the tab shows.
 *
 * Invariants: a document is either no manifest (NULL) or facts with a kind
 * of "image" or "index", a non-negative size and layer count, and text that
 * encodes as JSON; nothing leaks.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "browse.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    if (!doc)
        return 0;
    json_t *facts = browse_manifest_facts(doc);
    if (facts) {
        const char *kind = json_string_value(json_object_get(facts, "kind"));
        check(kind && (strcmp(kind, "image") == 0 || strcmp(kind, "index") == 0));
        json_t *sz = json_object_get(facts, "size");
        check(!sz || (json_is_integer(sz) && json_integer_value(sz) >= 0));
        json_t *ly = json_object_get(facts, "layers");
        check(!ly || (json_is_integer(ly) && json_integer_value(ly) >= 0));
        char *text = json_dumps(facts, JSON_COMPACT);
        check(text != NULL);
        free(text);
        json_decref(facts);
    }
    json_decref(doc);
    return 0;
}
