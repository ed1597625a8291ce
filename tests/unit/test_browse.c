/*
 * Unit tests for backend/browse.c: repository names, digests, the facts of
 * manifest documents (image, index, not one), the registry's Link header and
 * the paging arguments of the API (pure); and listings against a fake
 * registry that speaks the distribution API over real HTTP
 * (support/miniserver.c): pages followed, what a first and a second visit
 * ask for (manifests cached by digest, HEADs on the second), the API's
 * pages, a registry that does not answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "browse.h"
#include "scan.h"
#include "miniserver.h"
#include "testutil.h"

#include <unistd.h>

static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int ok;
    } cases[] = {
        {"alpine", 1}, {"team/app", 1}, {"a.b-c_d/e", 1}, {"a__b", 1}, {"x", 1},
        {"", 0},       {"/a", 0},       {"a/", 0},        {"_a", 0},   {"a_", 0},
        {"-a", 0},     {".a", 0},       {"A", 0},         {"a//b", 0}, {"a/-b", 0},
        {"a..b", 0},   {"a b", 0},      {"a:b", 0},       {"a@b", 0},  {"a%2fb", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (browse_name_valid(cases[i].name) != cases[i].ok)
            fail_msg("name '%s': expected %d", cases[i].name, cases[i].ok);
    }
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(browse_name_valid(longname));
}

static void test_digests(void **state)
{
    (void)state;
    const char *good = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    assert_true(browse_digest_valid(good));
    assert_false(browse_digest_valid("sha256:0123"));
    assert_false(browse_digest_valid(
        "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_false(browse_digest_valid(
        "sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_false(browse_digest_valid(
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"));
    assert_false(browse_digest_valid(""));
}

static json_t *facts_of(const char *text)
{
    json_t *m = json_loads(text, 0, NULL);
    assert_non_null(m);
    json_t *f = browse_manifest_facts(m);
    json_decref(m);
    return f;
}

static void test_manifest_facts(void **state)
{
    (void)state;
    json_t *f = facts_of("{\"schemaVersion\":2,\"mediaType\":\"application/"
                         "vnd.docker.distribution.manifest.v2+json\",\"config\":{\"size\":1000,"
                         "\"digest\":\"sha256:c\"},\"layers\":[{\"size\":2000},{\"size\":3000}]}");
    assert_string_equal(json_string_value(json_object_get(f, "kind")), "image");
    assert_int_equal(json_integer_value(json_object_get(f, "size")), 6000);
    assert_int_equal(json_integer_value(json_object_get(f, "layers")), 2);
    assert_string_equal(json_string_value(json_object_get(f, "config")), "sha256:c");
    json_decref(f);

    f = facts_of("{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                 "{\"digest\":\"sha256:a\",\"platform\":{\"os\":\"linux\",\"architecture\":"
                 "\"amd64\"}},{\"digest\":\"sha256:b\",\"platform\":{\"os\":\"linux\","
                 "\"architecture\":\"arm\",\"variant\":\"v7\"}},{\"digest\":\"sha256:att\","
                 "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}");
    assert_string_equal(json_string_value(json_object_get(f, "kind")), "index");
    assert_int_equal(json_array_size(json_object_get(f, "manifests")), 3);
    json_t *p = json_object_get(f, "platforms");
    assert_int_equal(json_array_size(p), 2); /* attestations are no platform */
    assert_string_equal(json_string_value(json_array_get(p, 1)), "linux/arm/v7");
    json_decref(f);

    /* crafted sizes clamp instead of overflowing */
    f = facts_of("{\"config\":{\"size\":9223372036854775807},\"layers\":[{\"size\":"
                 "9223372036854775807},{\"size\":-5}]}");
    assert_int_equal(json_integer_value(json_object_get(f, "size")), INT64_MAX);
    json_decref(f);

    f = facts_of("{\"schemaVersion\":1,\"fsLayers\":[]}");
    assert_null(f);
    assert_null(browse_manifest_facts(NULL));
}

static json_t *entry_of_text(const char *manifest, const char *config, const char *hint)
{
    json_t *m = json_loads(manifest, 0, NULL), *c = config ? json_loads(config, 0, NULL) : NULL;
    assert_non_null(m);
    json_t *p = browse_platform_entry(m, c, "sha256:m", hint);
    json_decref(m);
    json_decref(c);
    return p;
}

static void test_platform_entry(void **state)
{
    (void)state;
    const char *man =
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
        "{\"size\":100,\"digest\":\"sha256:c\"},\"layers\":[{\"digest\":\"sha256:l1\","
        "\"size\":2000,\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\"},"
        "{\"digest\":\"sha256:l2\",\"size\":-3}]}";
    json_t *p = entry_of_text(man,
                              "{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\","
                              "\"created\":\"2026-01-02T03:04:05Z\",\"config\":{\"Labels\":"
                              "{\"org.example.team\":\"panel\",\"n\":5}}}",
                              NULL);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "platform")), "linux/arm/v7");
    assert_string_equal(json_string_value(json_object_get(p, "digest")), "sha256:m");
    assert_string_equal(json_string_value(json_object_get(p, "created")), "2026-01-02T03:04:05Z");
    assert_int_equal(json_integer_value(json_object_get(p, "size")), 2100);
    json_t *ls = json_object_get(p, "layers");
    assert_int_equal(json_array_size(ls), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ls, 0), "digest")),
                        "sha256:l1");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ls, 0), "size")), 2000);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ls, 0), "mediaType")),
                        "application/vnd.oci.image.layer.v1.tar+gzip");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ls, 1), "size")), 0);
    json_t *lb = json_object_get(p, "labels");
    assert_int_equal(json_object_size(lb), 1); /* string values only */
    assert_string_equal(json_string_value(json_object_get(lb, "org.example.team")), "panel");
    assert_null(json_object_get(p, "layersTruncated"));
    json_decref(p);

    /* an index's platform comes first */
    p = entry_of_text(man, "{\"os\":\"linux\",\"architecture\":\"amd64\"}", "linux/arm64");
    assert_string_equal(json_string_value(json_object_get(p, "platform")), "linux/arm64");
    json_decref(p);

    /* no config: the index's platform, no labels, no date */
    p = entry_of_text(man, NULL, "linux/amd64");
    assert_string_equal(json_string_value(json_object_get(p, "platform")), "linux/amd64");
    assert_true(json_is_null(json_object_get(p, "created")));
    assert_int_equal(json_object_size(json_object_get(p, "labels")), 0);
    json_decref(p);
    p = entry_of_text(man, "{\"config\":{\"Labels\":null}}", NULL);
    assert_string_equal(json_string_value(json_object_get(p, "platform")), "unknown");
    json_decref(p);

    /* an index is no platform */
    assert_null(entry_of_text("{\"manifests\":[]}", NULL, NULL));

    /* at most BROWSE_IMAGE_MAX_LAYERS layers listed, all counted in the size */
    json_t *m = json_pack("{s:[]}", "layers");
    for (int i = 0; i < BROWSE_IMAGE_MAX_LAYERS + 3; i++)
        json_array_append_new(json_object_get(m, "layers"),
                              json_pack("{s:s, s:i}", "digest", "sha256:x", "size", 1));
    p = browse_platform_entry(m, NULL, "sha256:m", NULL);
    json_decref(m);
    assert_int_equal(json_array_size(json_object_get(p, "layers")), BROWSE_IMAGE_MAX_LAYERS);
    assert_int_equal(json_integer_value(json_object_get(p, "size")), BROWSE_IMAGE_MAX_LAYERS + 3);
    assert_true(json_is_true(json_object_get(p, "layersTruncated")));
    json_decref(p);
}

static void test_next_page(void **state)
{
    (void)state;
    char path[64];
    assert_int_equal(
        browse_next_page("</v2/_catalog?last=b%2Fc&n=1000>; rel=\"next\"", path, sizeof path), 0);
    assert_string_equal(path, "/v2/_catalog?last=b%2Fc&n=1000");
    assert_int_equal(
        browse_next_page("</v2/a/tags/list?last=v1&n=2>; rel=\"next\"", path, sizeof path), 0);
    assert_string_equal(path, "/v2/a/tags/list?last=v1&n=2");
    static const char *const refused[] = {
        "",                                                /* the last page */
        "</v2/_catalog?last=b&n=1>; rel=\"prev\"",         /* not the next one */
        "<http://evil.example/v2/_catalog>; rel=\"next\"", /* another host */
        "</v2/_catalog?last=a b>; rel=\"next\"",           /* a space in a path */
        "</v2/_catalog?last=b&n=1; rel=\"next\"",          /* no '>' */
        "</v2/_catalog?last=0123456789012345678901234567890123456789012345678901234567890>; "
        "rel=\"next\"", /* longer than the buffer */
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        if (browse_next_page(refused[i], path, sizeof path) != -1)
            fail_msg("link '%s' taken", refused[i]);
    }
}

static void test_page_args(void **state)
{
    (void)state;
    long off = -1, lim = -1;
    struct err e = {0};
    assert_int_equal(browse_page_args(NULL, NULL, &off, &lim, &e), 0);
    assert_int_equal(off, 0);
    assert_int_equal(lim, BROWSE_MAX_REPOS);
    assert_int_equal(browse_page_args("1000", "50", &off, &lim, &e), 0);
    assert_int_equal(off, 1000);
    assert_int_equal(lim, 50);
    static const struct {
        const char *offset, *limit, *field;
    } bad[] = {
        {"-1", NULL, "offset"},  {"x", NULL, "offset"},   {"", NULL, "offset"},
        {"1e3", NULL, "offset"}, {"+5", NULL, "offset"},  {"99999999999999999999", NULL, "offset"},
        {NULL, "0", "limit"},    {NULL, "1001", "limit"}, {NULL, " 5", "limit"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&e, 0, sizeof e);
        if (browse_page_args(bad[i].offset, bad[i].limit, &off, &lim, &e) != -1)
            fail_msg("case %zu accepted", i);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.field, bad[i].field);
    }
}

/* ---- a fake registry ---------------------------------------------------- */

#define D(c)                                                                                       \
    "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
        c c c c c c c c c c c c c c c c c c c c c c
#define IMG_ONE D("1")
#define IMG_AMD D("2")
#define IMG_ARM D("3")
#define IDX D("4")
#define IMG_TWO D("5")

static const struct {
    const char *digest, *body;
} manifests[] = {
    {IMG_ONE, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
              "\"config\":{\"digest\":\"" D("a") "\",\"size\":100},\"layers\":[{\"digest\":\"" D(
                  "b") "\",\"size\":1000}]}"},
    {IMG_AMD, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
              "\"config\":{\"digest\":\"" D("c") "\",\"size\":10},\"layers\":[{\"digest\":\"" D(
                  "b") "\",\"size\":1000}]}"},
    {IMG_ARM, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
              "\"config\":{\"digest\":\"" D("d") "\",\"size\":20},\"layers\":[{\"digest\":\"" D(
                  "e") "\",\"size\":3000}]}"},
    {IDX, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
          "\"manifests\":[{\"digest\":\"" IMG_AMD "\",\"platform\":{\"os\":\"linux\","
          "\"architecture\":\"amd64\"}},{\"digest\":\"" IMG_ARM "\",\"platform\":{\"os\":"
          "\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}]}"},
    {IMG_TWO, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
              "\"config\":{\"digest\":\"" D("f") "\",\"size\":1},\"layers\":[]}"},
};

/* repository, tag -> digest */
static const struct {
    const char *repo, *tag, *digest;
} tags[] = {
    {"a/one", "v1", IMG_ONE},
    {"a/one", "v2", IDX},
    {"b/two", "latest", IMG_TWO},
};

struct counts {
    int catalog, tag_lists, gets, heads, blobs;
};
static struct counts seen;

/* config digest -> its "created" (NULL: none in the config) */
static const struct {
    const char *digest, *created;
} configs[] = {
    {D("a"), "2026-01-02T03:04:05.123456789Z"},
    {D("c"), "2026-03-01T00:00:00Z"},
    {D("d"), "2026-03-01T00:00:01Z"},
    {D("f"), NULL},
};

/* blob and manifest answers held this long (the latency of a registry on
 * S3), and the most answers in flight at once */
static int slow_ms, in_flight, max_in_flight;

static void flight_begin(void)
{
    int now = __atomic_add_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
    int max = __atomic_load_n(&max_in_flight, __ATOMIC_SEQ_CST);
    while (now > max && !__atomic_compare_exchange_n(&max_in_flight, &max, now, 0, __ATOMIC_SEQ_CST,
                                                     __ATOMIC_SEQ_CST))
        ;
    int ms = __atomic_load_n(&slow_ms, __ATOMIC_SEQ_CST);
    if (ms)
        usleep((useconds_t)ms * 1000);
}

static void flight_end(void)
{
    __atomic_sub_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
}

static const char *manifest_body(const char *digest)
{
    for (size_t i = 0; i < sizeof manifests / sizeof *manifests; i++)
        if (strcmp(manifests[i].digest, digest) == 0)
            return manifests[i].body;
    return NULL;
}

static int fake_registry(struct mini_server *s, const struct mini_req *r, int fd)
{
    char body[4096], hdr[128];
    const char *p = r->path;
    if (strncmp(p, "/v2/_catalog?", 13) == 0) {
        /* n and last as the distribution API takes them (last as the Link
         * header wrote it, '/' escaped) */
        static const char *const names[] = {"a/one", "b/two", "c/three", "Not A Name"};
        const size_t count = sizeof names / sizeof *names;
        const char *np = strstr(p, "n="), *lp = strstr(p, "last=");
        size_t n = np ? (size_t)atoi(np + 2) : count, from = 0;
        char last[64] = "";
        if (lp) {
            size_t j = 0;
            for (const char *c = lp + 5; *c && *c != '&' && j + 1 < sizeof last; c++)
                if (strncmp(c, "%2F", 3) == 0)
                    last[j++] = '/', c += 2;
                else
                    last[j++] = *c;
            last[j] = '\0';
            while (from < count && strcmp(names[from], last) != 0)
                from++;
            from++;
        }
        __atomic_add_fetch(&seen.catalog, 1, __ATOMIC_SEQ_CST);
        int len = snprintf(body, sizeof body, "{\"repositories\":[");
        size_t i;
        for (i = from; i < count && i < from + n; i++)
            len += snprintf(body + len, sizeof body - (size_t)len, "%s\"%s\"", i > from ? "," : "",
                            names[i]);
        len += snprintf(body + len, sizeof body - (size_t)len, "]}");
        char link[256] = "";
        if (i < count) {
            char esc[64];
            size_t j = 0;
            for (const char *c = names[i - 1]; *c && j + 4 < sizeof esc; c++)
                if (*c == '/')
                    memcpy(esc + j, "%2F", 3), j += 3;
                else
                    esc[j++] = *c;
            esc[j] = '\0';
            snprintf(link, sizeof link, "Link: </v2/_catalog?last=%s&n=%zu>; rel=\"next\"\r\n", esc,
                     n);
        }
        return mini_respond(fd, 200, link, body, (size_t)len);
    }
    char repo[256];
    const char *bl = strstr(p, "/blobs/");
    if (bl) {
        __atomic_add_fetch(&seen.blobs, 1, __ATOMIC_SEQ_CST);
        flight_begin();
        int n = -1;
        for (size_t i = 0; i < sizeof configs / sizeof *configs; i++)
            if (strcmp(configs[i].digest, bl + strlen("/blobs/")) == 0)
                n = configs[i].created
                        ? snprintf(body, sizeof body,
                                   "{\"architecture\":\"amd64\",\"created\":\"%s\"}",
                                   configs[i].created)
                        : snprintf(body, sizeof body, "{\"architecture\":\"amd64\"}");
        flight_end();
        return n < 0 ? mini_respond(fd, 404, NULL, "", 0)
                     : mini_respond(fd, 200, NULL, body, (size_t)n);
    }
    const char *tl = strstr(p, "/tags/list"), *mf = strstr(p, "/manifests/");
    const char *cut = tl ? tl : mf;
    if (strncmp(p, "/v2/", 4) != 0 || !cut || (size_t)(cut - p - 4) >= sizeof repo)
        return mini_respond(fd, 404, NULL, "", 0);
    snprintf(repo, sizeof repo, "%.*s", (int)(cut - p - 4), p + 4);
    if (tl) {
        __atomic_add_fetch(&seen.tag_lists, 1, __ATOMIC_SEQ_CST);
        int n = snprintf(body, sizeof body, "{\"name\":\"%s\",\"tags\":[", repo), k = 0;
        for (size_t i = 0; i < sizeof tags / sizeof *tags; i++)
            if (strcmp(tags[i].repo, repo) == 0)
                n += snprintf(body + n, sizeof body - (size_t)n, "%s\"%s\"", k++ ? "," : "",
                              tags[i].tag);
        n += snprintf(body + n, sizeof body - (size_t)n, "]}");
        if (!k)
            return mini_respond(fd, 404, NULL, "{}", 2); /* every tag deleted */
        return mini_respond(fd, 200, NULL, body, (size_t)n);
    }
    const char *ref = mf + strlen("/manifests/"), *digest = NULL;
    if (strncmp(ref, "sha256:", 7) == 0)
        digest = ref;
    for (size_t i = 0; !digest && i < sizeof tags / sizeof *tags; i++)
        if (strcmp(tags[i].repo, repo) == 0 && strcmp(tags[i].tag, ref) == 0)
            digest = tags[i].digest;
    const char *doc = digest ? manifest_body(digest) : NULL;
    int head = strcmp(r->method, "HEAD") == 0;
    __atomic_add_fetch(head ? &seen.heads : &seen.gets, 1, __ATOMIC_SEQ_CST);
    flight_begin();
    flight_end();
    if (!doc)
        return mini_respond(fd, 404, NULL, "", 0);
    snprintf(hdr, sizeof hdr, "Docker-Content-Digest: %.71s\r\n", digest);
    if (head) {
        char h[1024];
        int n = snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n%s\r\n",
                         strlen(doc), hdr);
        return mini_write(fd, h, (size_t)n);
    }
    return mini_respond(fd, 200, hdr, doc, strlen(doc));
}

static json_t *tag_of(json_t *page, const char *repo, const char *tag)
{
    size_t i, j;
    json_t *r, *t;
    json_array_foreach(json_object_get(page, "repositories"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "name")), repo) != 0)
            continue;
        json_array_foreach(json_object_get(r, "tags"), j, t)
        {
            if (strcmp(json_string_value(json_object_get(t, "tag")), tag) == 0)
                return t;
        }
    }
    return NULL;
}

static void test_listing(void **state)
{
    (void)state;
    struct mini_server srv;
    struct err e = {0};
    assert_int_equal(mini_start(&srv, NULL, fake_registry, NULL), 0);
    browse_cache_clear();
    browse_set_concurrency(2);
    memset(&seen, 0, sizeof seen);

    /* a first visit: every page of the catalog, every tag list, every
     * manifest once (the index's platforms by digest) */
    json_t *page = browse_repositories(srv.url, NULL, NULL, NULL, &e);
    assert_non_null(page);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 3);
    assert_int_equal(json_array_size(json_object_get(page, "repositories")), 3);
    assert_true(json_is_null(json_object_get(page, "nextOffset")));
    assert_false(json_is_true(json_object_get(page, "truncated")));
    json_t *v1 = tag_of(page, "a/one", "v1"), *v2 = tag_of(page, "a/one", "v2");
    assert_non_null(v1);
    assert_non_null(v2);
    assert_string_equal(json_string_value(json_object_get(v1, "digest")), IMG_ONE);
    assert_int_equal(json_integer_value(json_object_get(v1, "size")), 1100);
    assert_string_equal(json_string_value(json_object_get(v2, "kind")), "index");
    /* the platforms' blobs, the shared layer once */
    assert_int_equal(json_integer_value(json_object_get(v2, "size")), 10 + 1000 + 20 + 3000);
    assert_string_equal(json_string_value(json_array_get(json_object_get(v2, "platforms"), 1)),
                        "linux/arm64/v8");
    /* every blob of the page once: a, b, c, d, e, f */
    assert_int_equal(json_integer_value(json_object_get(page, "totalSize")),
                     100 + 1000 + 10 + 20 + 3000 + 1);
    json_t *three = json_array_get(json_object_get(page, "repositories"), 2);
    assert_string_equal(json_string_value(json_object_get(three, "name")), "c/three");
    assert_int_equal(json_array_size(json_object_get(three, "tags")), 0);
    json_decref(page);
    assert_int_equal(seen.catalog, 1);
    assert_int_equal(seen.tag_lists, 3);
    assert_int_equal(seen.gets, 5); /* v1, v2, its two platforms, latest */
    assert_int_equal(seen.heads, 0);

    /* a second visit: the digest of each tag (HEAD), nothing read again */
    memset(&seen, 0, sizeof seen);
    page = browse_repositories(srv.url, NULL, NULL, NULL, &e);
    assert_non_null(page);
    assert_int_equal(json_integer_value(json_object_get(tag_of(page, "a/one", "v2"), "size")),
                     4030);
    json_decref(page);
    assert_int_equal(seen.gets, 0);
    assert_int_equal(seen.heads, 3);

    /* the API's pages: offset 1, limit 1; the catalog of the first page
     * is reused for the pages after it */
    memset(&seen, 0, sizeof seen);
    page = browse_repositories(srv.url, NULL, "1", "1", &e);
    assert_non_null(page);
    json_t *repos = json_object_get(page, "repositories");
    assert_int_equal(json_array_size(repos), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(repos, 0), "name")),
                        "b/two");
    assert_int_equal(json_integer_value(json_object_get(page, "offset")), 1);
    assert_int_equal(json_integer_value(json_object_get(page, "nextOffset")), 2);
    assert_true(json_is_true(json_object_get(page, "truncated")));
    json_decref(page);
    assert_int_equal(seen.catalog, 0);
    assert_int_equal(seen.tag_lists, 1);
    /* past the end: nothing, no next page */
    page = browse_repositories(srv.url, NULL, "5", NULL, &e);
    assert_non_null(page);
    assert_int_equal(json_array_size(json_object_get(page, "repositories")), 0);
    assert_true(json_is_null(json_object_get(page, "nextOffset")));
    json_decref(page);

    /* a first page reads only as much of the catalog as it shows (the
     * registry's walk stops there); the next page goes on from there, in
     * pages of 1,000 */
    browse_cache_clear();
    memset(&seen, 0, sizeof seen);
    page = browse_repositories(srv.url, NULL, "0", "1", &e);
    assert_non_null(page);
    assert_int_equal(seen.catalog, 1);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 1);
    assert_false(json_is_true(json_object_get(page, "totalKnown")));
    assert_int_equal(json_integer_value(json_object_get(page, "nextOffset")), 1);
    assert_true(json_is_true(json_object_get(page, "truncated")));
    json_decref(page);
    page = browse_repositories(srv.url, NULL, "1", "1", &e);
    assert_non_null(page);
    assert_int_equal(seen.catalog, 2);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 3);
    assert_true(json_is_true(json_object_get(page, "totalKnown")));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(page, "repositories"), 0), "name")),
                        "b/two");
    assert_int_equal(json_integer_value(json_object_get(page, "nextOffset")), 2);
    json_decref(page);
    page = browse_repositories(srv.url, NULL, "2", "5", &e);
    assert_non_null(page);
    assert_int_equal(seen.catalog, 2);
    assert_int_equal(json_array_size(json_object_get(page, "repositories")), 1);
    assert_true(json_is_null(json_object_get(page, "nextOffset")));
    assert_false(json_is_true(json_object_get(page, "truncated")));
    json_decref(page);

    mini_stop(&srv);
    /* nobody answers: 503 */
    memset(&e, 0, sizeof e);
    assert_null(browse_repositories(srv.url, NULL, NULL, NULL, &e));
    assert_int_equal(e.status, 503);
    browse_cache_clear();
    browse_set_concurrency(BROWSE_CONCURRENCY);
}

/* creation times for the clean-up rules: an image's from its config, an
 * index's from its first platform's, to the second; read by several
 * threads at once; cached by digest; a config without one is said why */
/* scan.c over real HTTP (scan_io_http) against the same fake registry:
 * a repository read whole with its index's children, creation times and
 * sizes; readers at the same time on kept connections; a second reading
 * asks HEADs and no manifest or config again; a registry that stops
 * answering gives a repository marked not read whole. */
static size_t told_done, told_total, told_count;
static void told(void *ctx, const char *repo, size_t at, size_t repos, size_t done, size_t total)
{
    (void)ctx, (void)at, (void)repos;
    assert_string_equal(repo, "a/one");
    told_done = done, told_total = total, told_count++;
}

static void test_scan_http(void **state)
{
    (void)state;
    struct mini_server srv;
    struct scan_io io;
    assert_int_equal(mini_start(&srv, NULL, fake_registry, NULL), 0);
    scan_cache_clear();
    memset(&seen, 0, sizeof seen);
    assert_int_equal(scan_io_http_init(&io, srv.url, NULL, NULL, NULL), 0);
    __atomic_store_n(&slow_ms, 30, __ATOMIC_SEQ_CST);
    __atomic_store_n(&max_in_flight, 0, __ATOMIC_SEQ_CST);
    int conns = __atomic_load_n(&srv.connections, __ATOMIC_SEQ_CST);
    io.progress = told;
    json_t *r = scan_repo(&io, "a/one");
    io.progress = NULL;
    /* told as it starts and as it ends */
    assert_true(told_count >= 2);
    assert_int_equal(told_done, 2);
    assert_int_equal(told_total, 2);
    __atomic_store_n(&slow_ms, 0, __ATOMIC_SEQ_CST);
    conns = __atomic_load_n(&srv.connections, __ATOMIC_SEQ_CST) - conns;
    assert_non_null(r);
    assert_true(json_is_true(json_object_get(r, "complete")));
    json_t *got = json_object_get(r, "tags");
    assert_int_equal(json_array_size(got), 2);
    json_t *v1 = json_array_get(got, 0), *v2 = json_array_get(got, 1);
    assert_string_equal(json_string_value(json_object_get(v1, "digest")), IMG_ONE);
    assert_string_equal(json_string_value(json_object_get(v1, "created")), "2026-01-02T03:04:05Z");
    assert_int_equal(json_integer_value(json_object_get(v1, "size")), 1100);
    /* an index: its first platform's time, its platforms' blobs once */
    assert_string_equal(json_string_value(json_object_get(v2, "digest")), IDX);
    assert_string_equal(json_string_value(json_object_get(v2, "created")), "2026-03-01T00:00:00Z");
    assert_int_equal(json_integer_value(json_object_get(v2, "size")), 10 + 1000 + 20 + 3000);
    json_t *kids = json_object_get(json_object_get(r, "children"), IDX);
    assert_int_equal(json_array_size(kids), 2);
    assert_string_equal(json_string_value(json_array_get(kids, 0)), IMG_AMD);
    CHECK(conns >= 1 && conns <= SCAN_THREADS, "%d connections", conns);
    CHECK(max_in_flight > 1, "at most %d request in flight", max_in_flight);
    json_decref(r);
    /* again: the facts are known by digest, one HEAD per tag */
    memset(&seen, 0, sizeof seen);
    r = scan_repo(&io, "a/one");
    assert_true(json_is_true(json_object_get(r, "complete")));
    assert_int_equal(seen.heads, 2);
    assert_int_equal(seen.gets, 0);
    assert_int_equal(seen.blobs, 0);
    json_decref(r);
    /* a config without a time: unknown, the repository still whole */
    r = scan_repo(&io, "b/two");
    assert_true(json_is_true(json_object_get(r, "complete")));
    assert_true(
        json_is_null(json_object_get(json_array_get(json_object_get(r, "tags"), 0), "created")));
    json_decref(r);
    /* the catalog, page by page (the fake's Link pages) */
    struct err e = {0};
    json_t *cat = scan_catalog(&io, &e);
    assert_non_null(cat);
    assert_int_equal(json_array_size(cat), 4);
    json_decref(cat);
    /* nothing answers: not read whole, with the reason */
    mini_stop(&srv);
    scan_cache_clear();
    scan_io_http_free(&io);
    assert_int_equal(scan_io_http_init(&io, srv.url, NULL, NULL, NULL), 0);
    io.pause = NULL; /* no waiting between tries */
    r = scan_repo(&io, "a/one");
    assert_false(json_is_true(json_object_get(r, "complete")));
    CHECK(strstr(json_string_value(json_object_get(r, "problem")), "could not be listed") != NULL,
          "problem: %s", json_string_value(json_object_get(r, "problem")));
    json_decref(r);
    assert_null(scan_catalog(&io, &e));
    scan_io_http_free(&io);
    scan_cache_clear();
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),          cmocka_unit_test(test_digests),
        cmocka_unit_test(test_manifest_facts), cmocka_unit_test(test_platform_entry),
        cmocka_unit_test(test_next_page),      cmocka_unit_test(test_page_args),
        cmocka_unit_test(test_listing),        cmocka_unit_test(test_scan_http),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
