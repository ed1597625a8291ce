/*
 * libFuzzer target for backend/browse.c's reading of the registry's answers:
 * a manifest document (image manifest, OCI index, Docker manifest list) as
 * the registry sends it, parsed into the facts the tab shows.
 *
 * Invariants: a document is either no manifest (NULL) or facts with a kind
 * of "image" or "index", a non-negative size and layer count, and text that
 * encodes as JSON; nothing leaks. The same document goes through the side
 * panel's reading of one platform (browse_platform_entry), as the manifest
 * and the config at once, or as [manifest, config]: an entry has a
 * platform, a non-negative size, at most BROWSE_IMAGE_MAX_LAYERS layers of
 * non-negative sizes, and string labels only.
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
    json_t *man = doc, *cfg = doc;
    if (json_is_array(doc) && json_array_size(doc) == 2) {
        man = json_array_get(doc, 0);
        cfg = json_array_get(doc, 1);
    }
    json_t *entry = browse_platform_entry(man, cfg, "sha256:00", size % 2 ? "linux/arm64" : NULL);
    if (entry) {
        check(json_string_value(json_object_get(entry, "platform")) != NULL);
        check(json_integer_value(json_object_get(entry, "size")) >= 0);
        json_t *layers = json_object_get(entry, "layers"), *l;
        check(json_is_array(layers) && json_array_size(layers) <= BROWSE_IMAGE_MAX_LAYERS);
        size_t i;
        json_array_foreach(layers, i, l)
        {
            check(json_integer_value(json_object_get(l, "size")) >= 0);
        }
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(entry, "labels"), k, v)
        {
            check(json_is_string(v));
        }
        char *text = json_dumps(entry, JSON_COMPACT);
        check(text != NULL);
        free(text);
        json_decref(entry);
    }
    json_decref(doc);
    return 0;
}
