#include "browse.h"

#include "httpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* json_int_t is long long here */
#define BROWSE_SIZE_MAX ((json_int_t)INT64_MAX)
/* one request never waits longer than this, deadline or not */
#define CALL_TIMEOUT_MS 30000L
/* an index of indexes of images at most */
#define INDEX_DEPTH 2
#define WORKER_STACK (512 * 1024)
/* how long the pages after the first reuse the first one's catalog */
#define CATALOG_REUSE_S 120

#define ACCEPT                                                                                     \
    "Accept: application/vnd.oci.image.index.v1+json, "                                            \
    "application/vnd.docker.distribution.manifest.list.v2+json, "                                  \
    "application/vnd.oci.image.manifest.v1+json, "                                                 \
    "application/vnd.docker.distribution.manifest.v2+json"

struct reply {
    long status;
    struct buf body;
    char digest[80]; /* Docker-Content-Digest */
    char link[768];  /* the next page of a catalog or a tag list */
};

/* Whether a tag's digest is asked first (HEAD, then the manifest by digest
 * only when it is not cached): worth it on a refresh, where most manifests
 * are cached, and a second request per tag on a first visit. A listing asks
 * HEAD first when the cache had entries as it started, and stops doing so
 * when the HEADs mostly miss (many new images). Shared by a listing's
 * threads (atomic counters). */
struct head_stats {
    int enabled;
    int hits, misses;
};

/* One connection to the registry, reused for every request of one thread. */
struct client {
    struct httpc h;
    const char *base;
    const struct browse_login *login; /* NULL: none */
    const struct timespec *deadline;  /* CLOCK_MONOTONIC; NULL: none */
    struct head_stats *heads;         /* NULL: never HEAD first */
};

static int head_first(const struct head_stats *hs)
{
    if (!hs || !hs->enabled)
        return 0;
    int hits = __atomic_load_n(&hs->hits, __ATOMIC_RELAXED);
    int misses = __atomic_load_n(&hs->misses, __ATOMIC_RELAXED);
    return misses <= hits + 16;
}

static int concurrency = BROWSE_CONCURRENCY;

void browse_set_concurrency(int n)
{
    concurrency = n < 1 ? 1 : n > BROWSE_MAX_CONCURRENCY ? BROWSE_MAX_CONCURRENCY : n;
}

static void on_header(void *ctx, const char *p, size_t n)
{
    struct reply *r = ctx;
    httpc_header_value(p, n, "Docker-Content-Digest:", r->digest, sizeof r->digest);
    httpc_header_value(p, n, "Link:", r->link, sizeof r->link);
}

static int client_init(struct client *cl, const char *base, const struct browse_login *login,
                       const struct timespec *deadline)
{
    *cl = (struct client){.base = base, .login = login, .deadline = deadline};
    return httpc_init(&cl->h);
}

static void client_free(struct client *cl)
{
    httpc_free(&cl->h);
}

/* One request to the registry. 0 when it answered (any status); -1 with a
 * 503 when it did not or the deadline passed (E_DEADLINE). */
static int call(struct client *cl, const char *method, const char *path, struct reply *r,
                struct err *e)
{
    static const char *const headers[] = {ACCEPT, NULL};
    char url[1024];
    memset(r, 0, sizeof *r);
    if ((size_t)snprintf(url, sizeof url, "%s%s", cl->base, path) >= sizeof url)
        return err_set(e, 502, E_REGISTRY_ERROR, NULL, "a registry path is too long");
    struct httpc_req req = {.method = method,
                            .url = url,
                            .headers = headers,
                            .timeout_ms = CALL_TIMEOUT_MS,
                            .deadline = cl->deadline,
                            .max_response = BROWSE_MAX_RESPONSE,
                            .on_header = on_header,
                            .ctx = r};
    if (cl->login && cl->login->user) {
        req.user = cl->login->user;
        req.password = cl->login->password ? cl->login->password : "";
    }
    /* the registry's own certificate names the address others use, not
     * loopback: its key is what is checked */
    if (cl->login)
        req.tls_pin = cl->login->tls_pin;
    struct httpc_resp resp;
    enum httpc_result res = httpc_do(&cl->h, &req, &resp);
    r->status = resp.status;
    r->body = resp.body;
    if (res == HTTPC_OK)
        return 0;
    if (res == HTTPC_TIMEOUT && cl->deadline && httpc_ms_left(cl->deadline) <= 0)
        return err_set(e, 503, E_DEADLINE, NULL, "the registry answers too slowly");
    return err_set(e, 503, E_REGISTRY_UNREACHABLE, NULL,
                   "the registry at %s does not answer (%s): is it running?", cl->base, resp.error);
}

/* GET path as JSON. NULL with e on no answer; NULL with *status set (and
 * e) on an answer that is no 200 JSON document. */
static json_t *call_json(struct client *cl, const char *path, struct reply *r, struct err *e)
{
    if (call(cl, "GET", path, r, e))
        return NULL;
    json_t *j = r->status == 200 ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
    if (!j)
        err_set(e, 502, E_REGISTRY_ERROR, NULL, "the registry answered %s with HTTP %ld", path,
                r->status);
    buf_free(&r->body);
    return j;
}

int browse_next_page(const char *link, char *path, size_t len)
{
    const char *lt = strchr(link, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    if (!lt || !gt || !strstr(gt, "rel=\"next\"") || strncmp(lt + 1, "/v2/", 4) != 0)
        return -1;
    size_t n = (size_t)(gt - lt - 1);
    if (n >= len)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)lt[1 + i] <= ' ' || lt[1 + i] == 0x7f)
            return -1;
    memcpy(path, lt + 1, n);
    path[n] = '\0';
    return 0;
}

int browse_page_args(const char *offset, const char *limit, long *off, long *lim, struct err *e)
{
    const char *vals[2] = {offset, limit}, *names[2] = {"offset", "limit"};
    long out[2] = {0, BROWSE_MAX_REPOS}, max[2] = {BROWSE_MAX_CATALOG, BROWSE_MAX_REPOS};
    for (int i = 0; i < 2; i++) {
        if (!vals[i])
            continue;
        char *end;
        errno = 0;
        long v = strtol(vals[i], &end, 10);
        if (!*vals[i] || *end || errno || v < i || v > max[i] || vals[i][0] == '+' ||
            vals[i][0] == ' ')
            return err_set(e, 400, E_INVALID_VALUE, names[i],
                           "%s must be a whole number from %d to %ld", names[i], i, max[i]);
        out[i] = v;
    }
    *off = out[0];
    *lim = out[1];
    return 0;
}

int browse_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 255 || name[0] == '/' || name[n - 1] == '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '.' && c != '_' && c != '-' && c != '/')
            return 0;
        if (alnum)
            continue;
        /* separators sit between alphanumerics ("__" is one separator) */
        if (i == 0 || i == n - 1)
            return 0;
        char p = name[i - 1];
        int prev_alnum = (p >= 'a' && p <= 'z') || (p >= '0' && p <= '9');
        if (!prev_alnum && !(c == '_' && p == '_'))
            return 0;
    }
    return 1;
}

int browse_digest_valid(const char *d)
{
    if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
        return 0;
    for (const char *p = d + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static json_int_t add_size(json_int_t a, json_int_t b);

json_t *browse_manifest_facts(json_t *m)
{
    if (!json_is_object(m))
        return NULL;
    const char *mt = json_string_value(json_object_get(m, "mediaType"));
    json_t *layers = json_object_get(m, "layers");
    json_t *manifests = json_object_get(m, "manifests");
    if (json_is_array(layers)) {
        json_int_t size =
            add_size(0, json_integer_value(json_object_get(json_object_get(m, "config"), "size")));
        size_t i;
        json_t *l;
        json_array_foreach(layers, i, l)
        {
            size = add_size(size, json_integer_value(json_object_get(l, "size")));
        }
        return json_pack(
            "{s:s, s:s?, s:I, s:i, s:s?}", "kind", "image", "mediaType", mt, "size", size, "layers",
            (int)json_array_size(layers), "config",
            json_string_value(json_object_get(json_object_get(m, "config"), "digest")));
    }
    if (json_is_array(manifests)) {
        json_t *digests = json_array(), *platforms = json_array();
        size_t i;
        json_t *d;
        json_array_foreach(manifests, i, d)
        {
            const char *dg = json_string_value(json_object_get(d, "digest"));
            json_t *p = json_object_get(d, "platform");
            const char *os = json_string_value(json_object_get(p, "os"));
            const char *arch = json_string_value(json_object_get(p, "architecture"));
            const char *var = json_string_value(json_object_get(p, "variant"));
            if (dg)
                json_array_append_new(digests, json_string(dg));
            if (os && arch && strcmp(os, "unknown") != 0) {
                char plat[128];
                snprintf(plat, sizeof plat, "%s/%s%s%s", os, arch, var ? "/" : "", var ? var : "");
                json_array_append_new(platforms, json_string(plat));
            }
        }
        return json_pack("{s:s, s:s?, s:i, s:i, s:o, s:o}", "kind", "index", "mediaType", mt,
                         "size", 0, "layers", 0, "manifests", digests, "platforms", platforms);
    }
    return NULL;
}

/* Adds the blobs of an image manifest to seen (digest -> size). */
static void note_blobs(json_t *m, json_t *seen)
{
    json_t *cfg = json_object_get(m, "config");
    const char *d = json_string_value(json_object_get(cfg, "digest"));
    if (d)
        json_object_set_new(seen, d,
                            json_integer(json_integer_value(json_object_get(cfg, "size"))));
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(m, "layers"), i, l)
    {
        d = json_string_value(json_object_get(l, "digest"));
        if (d)
            json_object_set_new(seen, d,
                                json_integer(json_integer_value(json_object_get(l, "size"))));
    }
}

/* Sizes come from manifests anybody may push: clamp instead of overflowing. */
static json_int_t add_size(json_int_t a, json_int_t b)
{
    if (b < 0)
        b = 0;
    return a > BROWSE_SIZE_MAX - b ? BROWSE_SIZE_MAX : a + b;
}

static json_int_t sum_sizes(json_t *seen)
{
    json_int_t s = 0;
    const char *k;
    json_t *v;
    json_object_foreach(seen, k, v) s = add_size(s, json_integer_value(v));
    return s;
}

/* The cache: digest -> the compact JSON text of an entry {"f": facts, "b":
 * {blob digest: size}}. Text, not shared jansson values, so that threads
 * never share a reference count. Oldest out first when full. */
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *cache_map;
static char *cache_ring[BROWSE_CACHE_MAX];
static size_t cache_next, cache_count;

/* The catalog as far as the last listing read it, for the pages after the
 * first: on S3 the registry walks the bucket for a catalog (seconds for
 * 1,000 repositories), and a tab reading page after page must not pay that
 * for each. A first page reads only as much of the catalog as it shows
 * (n = its limit: the registry stops its walk there); the pages after it go
 * on from where the last one stopped. A first page (offset 0, what a
 * refresh asks for) always reads it anew. */
static pthread_mutex_t catalog_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char base[256];
    char *text;     /* JSON array of names */
    char next[768]; /* the catalog's next page ("": read to the end) */
    int capped;     /* BROWSE_MAX_CATALOG reached */
    struct timespec at;
} catalog_memo;

static json_t *cache_get(const char *digest)
{
    json_t *out = NULL;
    pthread_mutex_lock(&cache_mu);
    const char *text = json_string_value(json_object_get(cache_map, digest));
    if (text)
        out = json_loads(text, 0, NULL);
    pthread_mutex_unlock(&cache_mu);
    return out;
}

static size_t cache_size(void)
{
    pthread_mutex_lock(&cache_mu);
    size_t n = cache_count;
    pthread_mutex_unlock(&cache_mu);
    return n;
}

static void cache_put(const char *digest, json_t *entry)
{
    char *text = json_dumps(entry, JSON_COMPACT);
    char *key = strdup(digest);
    if (!text || !key) {
        free(text);
        free(key);
        return;
    }
    pthread_mutex_lock(&cache_mu);
    if (!cache_map)
        cache_map = json_object();
    if (cache_map && !json_object_get(cache_map, digest)) {
        if (cache_ring[cache_next]) {
            json_object_del(cache_map, cache_ring[cache_next]);
            free(cache_ring[cache_next]);
        } else {
            cache_count++;
        }
        cache_ring[cache_next] = key;
        key = NULL;
        cache_next = (cache_next + 1) % BROWSE_CACHE_MAX;
        json_object_set_new(cache_map, digest, json_string(text));
    }
    pthread_mutex_unlock(&cache_mu);
    free(key);
    free(text);
}

void browse_cache_clear(void)
{
    pthread_mutex_lock(&cache_mu);
    json_decref(cache_map);
    cache_map = NULL;
    for (size_t i = 0; i < BROWSE_CACHE_MAX; i++) {
        free(cache_ring[i]);
        cache_ring[i] = NULL;
    }
    cache_next = cache_count = 0;
    pthread_mutex_unlock(&cache_mu);
    pthread_mutex_lock(&catalog_mu);
    free(catalog_memo.text);
    catalog_memo.text = NULL;
    pthread_mutex_unlock(&catalog_mu);
}

static json_t *entry_of(struct client *cl, const char *repo, json_t *doc, int depth, int *complete,
                        struct err *e);

/* The entry of repo@digest from the cache or the registry. NULL with
 * *gone set when the registry has no such manifest (a platform not pushed),
 * NULL with e when it could not be read. */
static json_t *entry_by_digest(struct client *cl, const char *repo, const char *digest, int depth,
                               int *gone, struct err *e)
{
    *gone = 0;
    if (!browse_digest_valid(digest)) {
        *gone = 1;
        return NULL;
    }
    json_t *en = cache_get(digest);
    if (en)
        return en;
    char path[512];
    struct reply r;
    snprintf(path, sizeof path, "/v2/%s/manifests/%s", repo, digest);
    json_t *doc = call_json(cl, path, &r, e);
    if (!doc) {
        *gone = r.status >= 400 && r.status < 500;
        return NULL;
    }
    int complete = 1;
    en = entry_of(cl, repo, doc, depth, &complete, e);
    json_decref(doc);
    if (!en && e->status != 503)
        *gone = 1; /* no manifest: as if it were not there */
    if (en && complete)
        cache_put(digest, en);
    return en;
}

/* {"f": facts, "b": blobs} of a manifest document; an index adds up the
 * blobs of its platforms (read by digest). *complete is cleared when a
 * platform was missing. NULL when doc is no manifest or a platform could
 * not be read (e). */
static json_t *entry_of(struct client *cl, const char *repo, json_t *doc, int depth, int *complete,
                        struct err *e)
{
    json_t *f = browse_manifest_facts(doc);
    if (!f)
        return NULL;
    json_t *blobs = json_object();
    if (strcmp(json_string_value(json_object_get(f, "kind")), "image") == 0) {
        note_blobs(doc, blobs);
        return json_pack("{s:o, s:o}", "f", f, "b", blobs);
    }
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(f, "manifests"), i, d)
    {
        int gone = 0;
        json_t *child = depth < INDEX_DEPTH
                            ? entry_by_digest(cl, repo, json_string_value(d), depth + 1, &gone, e)
                            : NULL;
        if (!child && (gone || depth >= INDEX_DEPTH)) {
            *complete = 0; /* e.g. attestations or platforms not pushed: skip */
            continue;
        }
        if (!child) {
            json_decref(f);
            json_decref(blobs);
            return NULL;
        }
        json_object_update(blobs, json_object_get(child, "b"));
        json_decref(child);
    }
    json_object_set_new(f, "size", json_integer(sum_sizes(blobs)));
    return json_pack("{s:o, s:o}", "f", f, "b", blobs);
}

/* The entry of repo:tag, its facts carrying "digest". NULL with *gone when
 * the tag is no longer there, NULL with e when it could not be read. Once
 * something is cached, a HEAD (the digest only) comes first. */
static json_t *tag_entry(struct client *cl, const char *repo, const char *tag, int *gone,
                         struct err *e)
{
    char path[768];
    struct reply r;
    json_t *en = NULL;
    *gone = 0;
    snprintf(path, sizeof path, "/v2/%s/manifests/%s", repo, tag);
    if (head_first(cl->heads)) {
        if (call(cl, "HEAD", path, &r, e))
            return NULL;
        buf_free(&r.body);
        if (r.status == 404) {
            *gone = 1;
            return NULL;
        }
        if (r.status == 200 && browse_digest_valid(r.digest)) {
            en = cache_get(r.digest);
            __atomic_add_fetch(en ? &cl->heads->hits : &cl->heads->misses, 1, __ATOMIC_RELAXED);
            if (!en)
                en = entry_by_digest(cl, repo, r.digest, 0, gone, e);
        }
        if (!en && !*gone && e->status == 503)
            return NULL;
        if (en) {
            json_object_set_new(json_object_get(en, "f"), "digest", json_string(r.digest));
            return en;
        }
    }
    json_t *doc = call_json(cl, path, &r, e);
    if (!doc) {
        *gone = r.status >= 400 && r.status < 500;
        return NULL;
    }
    int complete = 1;
    en = entry_of(cl, repo, doc, 0, &complete, e);
    json_decref(doc);
    if (!en) {
        *gone = e->status != 503; /* no manifest: not shown */
        return NULL;
    }
    if (browse_digest_valid(r.digest)) {
        if (complete)
            cache_put(r.digest, en);
        json_object_set_new(json_object_get(en, "f"), "digest", json_string(r.digest));
    }
    return en;
}

/* Every tag of repo, following the pages, at most BROWSE_MAX_TAGS (then
 * *more). New array, or NULL with e. A repository without tags has []. */
static json_t *list_tags(struct client *cl, const char *repo, int *more, struct err *e)
{
    char path[768];
    json_t *tags = json_array();
    /* pages of a storage whose listings are not in lexical order (Storj with
     * encrypted object keys) can repeat a name across pages: keep each once */
    json_t *seen = json_object();
    snprintf(path, sizeof path, "/v2/%s/tags/list?n=%d", repo, BROWSE_PAGE);
    for (;;) {
        struct reply r;
        json_t *tl = call_json(cl, path, &r, e);
        if (!tl) {
            json_decref(seen);
            if (r.status == 404)
                return tags; /* every tag deleted: the catalog still names it */
            json_decref(tags);
            return NULL;
        }
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(tl, "tags"), i, t)
        {
            if (!json_is_string(t) || json_object_get(seen, json_string_value(t)))
                continue;
            json_object_set(seen, json_string_value(t), json_true());
            if (json_array_size(tags) >= BROWSE_MAX_TAGS) {
                *more = 1;
                break;
            }
            json_array_append(tags, t);
        }
        json_decref(tl);
        if (*more || browse_next_page(r.link, path, sizeof path)) {
            json_decref(seen);
            return tags;
        }
    }
}

/* {"name","tags","size"} of one repository, its blobs added to *blobs
 * (new object). NULL with e when it could not be read whole. */
static json_t *read_repo(struct client *cl, const char *repo, json_t **blobs, int *more,
                         struct err *e)
{
    json_t *tags = list_tags(cl, repo, more, e), *out_tags = json_array();
    *blobs = json_object();
    if (!tags)
        goto fail;
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        int gone = 0;
        json_t *en = tag_entry(cl, repo, json_string_value(t), &gone, e);
        if (!en && gone)
            continue;
        if (!en)
            goto fail;
        json_t *f = json_object_get(en, "f");
        json_object_set(f, "tag", t);
        json_array_append(out_tags, f);
        json_object_update(*blobs, json_object_get(en, "b"));
        json_decref(en);
    }
    json_decref(tags);
    return json_pack("{s:s, s:o, s:I}", "name", repo, "tags", out_tags, "size", sum_sizes(*blobs));
fail:
    json_decref(tags);
    json_decref(out_tags);
    json_decref(*blobs);
    *blobs = NULL;
    return NULL;
}

/* The repositories of one page, read by a few threads. */
struct pool {
    const char *base;
    const struct browse_login *login;
    const struct timespec *deadline;
    json_t *names; /* the page's names */
    size_t n, next;
    json_t **repos, **blobs;
    int more_tags, stop;
    struct head_stats heads;
    struct err first; /* why a repository could not be read */
    pthread_mutex_t mu;
};

static void *pool_worker(void *arg)
{
    struct pool *p = arg;
    struct client cl;
    int ok = client_init(&cl, p->base, p->login, p->deadline) == 0;
    cl.heads = &p->heads;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next;
        int stop = p->stop || i >= p->n || !ok;
        if (!stop)
            p->next++;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        struct err e = {0};
        int more = 0;
        p->repos[i] =
            read_repo(&cl, json_string_value(json_array_get(p->names, i)), &p->blobs[i], &more, &e);
        pthread_mutex_lock(&p->mu);
        p->more_tags |= more;
        if (!p->repos[i]) {
            if (!p->stop)
                p->first = e;
            p->stop = 1; /* what comes after is not shown: no need to read it */
        }
        pthread_mutex_unlock(&p->mu);
    }
    client_free(&cl);
    return NULL;
}

/* A catalog page path asking for BROWSE_PAGE names whatever n the
 * registry's Link carried (a first page asks for few). */
static void widen_page(char *path, size_t len)
{
    char *n = strstr(path, "?n=");
    if (!n)
        n = strstr(path, "&n=");
    if (!n)
        return;
    char rest[768];
    size_t digits = strspn(n + 3, "0123456789");
    snprintf(rest, sizeof rest, "%s", n + 3 + digits);
    snprintf(n + 3, len - (size_t)(n + 3 - path), "%d%s", BROWSE_PAGE, rest);
}

/* Reads catalog pages from next (a /v2/ path) into names (valid names,
 * catalog order, each once: seen) until names has want entries or the
 * catalog ends; next becomes the page after the last one read ("" at the
 * end). *capped past BROWSE_MAX_CATALOG. 0; or -1 with e when nothing could
 * be read (a deadline after some names is no error: next stays). */
static int read_catalog(struct client *cl, json_t *names, json_t *seen, char *next, size_t len,
                        size_t want, int *capped, struct err *e)
{
    while (next[0] && json_array_size(names) < want) {
        struct reply r;
        json_t *cat = call_json(cl, next, &r, e);
        if (!cat)
            return json_array_size(names) > 0 && e->status == 503 ? 0 : -1;
        size_t i;
        json_t *name;
        json_array_foreach(json_object_get(cat, "repositories"), i, name)
        {
            const char *s = json_string_value(name);
            if (!s || !browse_name_valid(s) || json_object_get(seen, s))
                continue;
            json_object_set(seen, s, json_true());
            if (json_array_size(names) >= BROWSE_MAX_CATALOG) {
                *capped = 1;
                break;
            }
            json_array_append(names, name);
        }
        json_decref(cat);
        if (*capped || browse_next_page(r.link, next, len))
            next[0] = '\0';
        else
            widen_page(next, len);
    }
    return 0;
}

static json_t *catalog_recall(const char *base, char *next, size_t len, int *capped)
{
    json_t *names = NULL;
    pthread_mutex_lock(&catalog_mu);
    if (catalog_memo.text && strcmp(catalog_memo.base, base) == 0 &&
        httpc_ms_left(&catalog_memo.at) > -CATALOG_REUSE_S * 1000L) {
        names = json_loads(catalog_memo.text, 0, NULL);
        snprintf(next, len, "%s", catalog_memo.next);
        *capped = catalog_memo.capped;
    }
    pthread_mutex_unlock(&catalog_mu);
    return names;
}

static void catalog_remember(const char *base, json_t *names, const char *next, int capped)
{
    char *text = json_dumps(names, JSON_COMPACT);
    pthread_mutex_lock(&catalog_mu);
    free(catalog_memo.text);
    catalog_memo.text = text;
    catalog_memo.capped = capped;
    snprintf(catalog_memo.next, sizeof catalog_memo.next, "%s", next);
    snprintf(catalog_memo.base, sizeof catalog_memo.base, "%s", base);
    clock_gettime(CLOCK_MONOTONIC, &catalog_memo.at);
    pthread_mutex_unlock(&catalog_mu);
}

json_t *browse_repositories_page(const char *base, const struct browse_login *login, long off,
                                 long lim, struct err *e)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += BROWSE_DEADLINE_S;
    struct client cl;
    struct pool p = {.base = base,
                     .login = login,
                     .deadline = &deadline,
                     .heads = {.enabled = cache_size() > 0}};
    json_t *out = NULL, *repos = json_array(), *all_blobs = json_object(), *names = NULL;
    pthread_t tids[BROWSE_MAX_CONCURRENCY];
    int started = 0, more_catalog = 0;
    pthread_mutex_init(&p.mu, NULL);
    if (client_init(&cl, base, login, &deadline)) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto out;
    }
    char next[768];
    names = off > 0 ? catalog_recall(base, next, sizeof next, &more_catalog) : NULL;
    if (!names) {
        names = json_array();
        snprintf(next, sizeof next, "/v2/_catalog?n=%ld", off > 0 ? (long)BROWSE_PAGE : lim);
    }
    json_t *seen = json_object();
    for (size_t k = 0; names && seen && k < json_array_size(names); k++)
        json_object_set(seen, json_string_value(json_array_get(names, k)), json_true());
    int rc = names && seen ? read_catalog(&cl, names, seen, next, sizeof next, (size_t)(off + lim),
                                          &more_catalog, e)
                           : -1;
    json_decref(seen);
    if (rc == 0)
        catalog_remember(base, names, next, more_catalog);
    client_free(&cl);
    if (rc) {
        if (!e->status)
            err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto out;
    }
    size_t total = json_array_size(names);
    size_t from = (size_t)off < total ? (size_t)off : total;
    p.n = total - from < (size_t)lim ? total - from : (size_t)lim;
    p.names = json_array();
    for (size_t i = 0; i < p.n; i++)
        json_array_append(p.names, json_array_get(names, from + i));
    p.repos = calloc(p.n + 1, sizeof *p.repos);
    p.blobs = calloc(p.n + 1, sizeof *p.blobs);
    if (!p.repos || !p.blobs) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto out;
    }
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, WORKER_STACK);
    for (size_t i = 0; i < (size_t)concurrency && i < p.n; i++) {
        if (pthread_create(&tids[started], &at, pool_worker, &p))
            break;
        started++;
    }
    pthread_attr_destroy(&at);
    if (started == 0)
        pool_worker(&p);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    /* the page ends at the first repository that could not be read */
    size_t done = 0;
    while (done < p.n && p.repos[done])
        done++;
    if (done == 0 && p.n > 0 && p.first.status != 503) {
        if (p.first.status)
            *e = p.first;
        else
            err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < done; i++) {
        json_array_append(repos, p.repos[i]);
        json_object_update(all_blobs, p.blobs[i]);
    }
    int go_on = from + done < total || (done == p.n && next[0]);
    int more = go_on || more_catalog || p.more_tags;
    json_t *next_off = go_on ? json_integer((json_int_t)(from + done)) : json_null();
    if (done < p.n)
        log_info("browse: %zu of %zu repositories read (%s)", done, p.n, p.first.message);
    out = json_pack("{s:O, s:I, s:I, s:b, s:I, s:o, s:b}", "repositories", repos, "totalSize",
                    sum_sizes(all_blobs), "total", (json_int_t)total, "totalKnown", !next[0],
                    "offset", (json_int_t)from, "nextOffset", next_off, "truncated", more);
out:
    for (size_t i = 0; p.repos && i < p.n; i++) {
        json_decref(p.repos[i]);
        json_decref(p.blobs[i]);
    }
    free(p.repos);
    free(p.blobs);
    json_decref(p.names);
    json_decref(names);
    json_decref(repos);
    json_decref(all_blobs);
    pthread_mutex_destroy(&p.mu);
    return out;
}

json_t *browse_repositories(const char *base, const struct browse_login *login, const char *offset,
                            const char *limit, struct err *e)
{
    long off, lim;
    if (browse_page_args(offset, limit, &off, &lim, e))
        return NULL;
    return browse_repositories_page(base, login, off, lim, e);
}

int browse_delete(const char *base, const struct browse_login *login, const char *name,
                  const char *digest, struct err *e)
{
    char path[512];
    struct reply r;
    struct client cl;
    if (!browse_name_valid(name))
        return err_set(e, 400, E_INVALID_VALUE, "name", "not a repository name");
    if (!browse_digest_valid(digest))
        return err_set(e, 400, E_INVALID_VALUE, "digest", "the digest must be sha256:<64 hex>");
    if (client_init(&cl, base, login, NULL)) {
        client_free(&cl);
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    }
    snprintf(path, sizeof path, "/v2/%s/manifests/%s", name, digest);
    int rc = call(&cl, "DELETE", path, &r, e);
    client_free(&cl);
    if (rc)
        return -1;
    buf_free(&r.body);
    return browse_delete_answer(r.status, name, digest, e);
}

int browse_delete_answer(long status, const char *name, const char *digest, struct err *e)
{
    if (status == 202 || status == 200)
        return 0;
    if (status == 404)
        return err_set(e, 404, E_NOT_FOUND, NULL, "%s has no image %.80s", name, digest);
    if (status == 405)
        return err_set(e, 409, E_DELETE_DISABLED, NULL,
                       "the registry refuses deletes (storage.delete is off)");
    return err_set(e, 502, E_REGISTRY_ERROR, NULL, "the registry answered the delete with HTTP %ld",
                   status);
}

json_t *browse_platform_entry(json_t *manifest, json_t *config, const char *digest,
                              const char *hint)
{
    json_t *layers = json_object_get(manifest, "layers");
    if (!json_is_object(manifest) || !json_is_array(layers))
        return NULL;
    char plat[128];
    const char *os = json_string_value(json_object_get(config, "os"));
    const char *arch = json_string_value(json_object_get(config, "architecture"));
    const char *var = json_string_value(json_object_get(config, "variant"));
    if (hint && *hint)
        snprintf(plat, sizeof plat, "%s", hint);
    else if (os && arch && *os && *arch)
        snprintf(plat, sizeof plat, "%s/%s%s%s", os, arch, var && *var ? "/" : "",
                 var && *var ? var : "");
    else
        snprintf(plat, sizeof plat, "unknown");
    json_int_t size = add_size(
        0, json_integer_value(json_object_get(json_object_get(manifest, "config"), "size")));
    json_t *out_layers = json_array(), *labels = json_object();
    size_t i;
    json_t *l;
    int cut = 0;
    json_array_foreach(layers, i, l)
    {
        json_int_t ls = json_integer_value(json_object_get(l, "size"));
        size = add_size(size, ls);
        if (i >= BROWSE_IMAGE_MAX_LAYERS) {
            cut = 1;
            continue;
        }
        json_array_append_new(out_layers,
                              json_pack("{s:s?, s:I, s:s?}", "digest",
                                        json_string_value(json_object_get(l, "digest")), "size",
                                        ls < 0 ? (json_int_t)0 : ls, "mediaType",
                                        json_string_value(json_object_get(l, "mediaType"))));
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(json_object_get(config, "config"), "Labels"), k, v)
    {
        if (json_is_string(v))
            json_object_set(labels, k, v);
    }
    const char *created = json_string_value(json_object_get(config, "created"));
    json_t *out = json_pack(
        "{s:s, s:s?, s:s?, s:I, s:o, s:o, s:o}", "platform", plat, "digest", digest, "mediaType",
        json_string_value(json_object_get(manifest, "mediaType")), "size", size, "created",
        created ? json_string(created) : json_null(), "layers", out_layers, "labels", labels);
    if (out && cut)
        json_object_set_new(out, "layersTruncated", json_true());
    return out;
}

/* The config blob of an image manifest, or NULL (none, unreadable: the
 * entry goes without; e is set only when the registry did not answer). */
static json_t *read_config(struct client *cl, const char *name, json_t *manifest, struct err *e)
{
    const char *cd =
        json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
    if (!cd || !browse_digest_valid(cd))
        return NULL;
    char path[512];
    struct reply r;
    struct err ce = {0};
    snprintf(path, sizeof path, "/v2/%s/blobs/%s", name, cd);
    json_t *c = call_json(cl, path, &r, &ce);
    if (!c && ce.status == 503)
        *e = ce;
    if (json_is_object(c))
        return c;
    json_decref(c);
    return NULL;
}

/* The manifest name@digest: the document, or NULL with *status (the
 * registry's answer) or with e (no answer). */
static json_t *read_manifest(struct client *cl, const char *name, const char *digest, long *status,
                             struct err *e)
{
    char path[512];
    struct reply r;
    snprintf(path, sizeof path, "/v2/%s/manifests/%s", name, digest);
    *status = 0;
    if (call(cl, "GET", path, &r, e))
        return NULL;
    *status = r.status;
    json_t *j = r.status == 200 ? json_loadb(r.body.data, r.body.len, 0, NULL) : NULL;
    buf_free(&r.body);
    return j;
}

/* Leaves labels, then platforms, out until the answer fits. */
static void fit_answer(json_t *out)
{
    json_t *plats = json_object_get(out, "platforms");
    for (int pass = 0; pass < 2; pass++) {
        for (;;) {
            char *text = json_dumps(out, JSON_COMPACT);
            size_t n = text ? strlen(text) : 0;
            free(text);
            if (n <= BROWSE_IMAGE_MAX_ANSWER)
                return;
            json_object_set_new(out, "truncated", json_true());
            size_t np = json_array_size(plats), i;
            if (pass == 0) {
                for (i = np; i > 0; i--) {
                    json_t *lb = json_object_get(json_array_get(plats, i - 1), "labels");
                    if (json_object_size(lb) > 0) {
                        json_object_clear(lb);
                        break;
                    }
                }
                if (i == 0)
                    break; /* no labels left */
            } else {
                if (np == 0)
                    return;
                json_array_remove(plats, np - 1);
            }
        }
    }
}

json_t *browse_image(const char *base, const struct browse_login *login, const char *name,
                     const char *digest, struct err *e)
{
    if (!browse_name_valid(name)) {
        err_set(e, 400, E_INVALID_VALUE, "name", "not a repository name");
        return NULL;
    }
    if (!browse_digest_valid(digest)) {
        err_set(e, 400, E_INVALID_VALUE, "digest", "the digest must be sha256:<64 hex digits>");
        return NULL;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += BROWSE_DEADLINE_S;
    struct client cl;
    if (client_init(&cl, base, login, &deadline)) {
        client_free(&cl);
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }
    json_t *out = NULL, *plats = json_array(), *doc = NULL, *facts = NULL;
    long status;
    int truncated = 0;
    doc = read_manifest(&cl, name, digest, &status, e);
    if (!doc) {
        if (status == 404)
            err_set(e, 404, E_NOT_FOUND, NULL, "%s has no image %.80s", name, digest);
        else if (status)
            err_set(e, 502, E_REGISTRY_ERROR, NULL,
                    "the registry answered the manifest with HTTP %ld", status);
        goto out;
    }
    facts = browse_manifest_facts(doc);
    const char *kind = json_string_value(json_object_get(facts, "kind"));
    if (!kind) {
        err_set(e, 502, E_REGISTRY_ERROR, NULL, "%s@%.80s is no manifest this backend reads", name,
                digest);
        goto out;
    }
    if (strcmp(kind, "image") == 0) {
        json_t *cfg = read_config(&cl, name, doc, e);
        if (!cfg && e->status)
            goto out;
        json_t *p = browse_platform_entry(doc, cfg, digest, NULL);
        json_decref(cfg);
        if (p)
            json_array_append_new(plats, p);
    } else {
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(doc, "manifests"), i, d)
        {
            const char *cd = json_string_value(json_object_get(d, "digest"));
            json_t *pl = json_object_get(d, "platform");
            const char *os = json_string_value(json_object_get(pl, "os"));
            const char *arch = json_string_value(json_object_get(pl, "architecture"));
            const char *var = json_string_value(json_object_get(pl, "variant"));
            if (!cd || !browse_digest_valid(cd) || (os && strcmp(os, "unknown") == 0))
                continue; /* attestations are no platform */
            if (json_array_size(plats) >= BROWSE_IMAGE_MAX_PLATFORMS) {
                truncated = 1;
                break;
            }
            json_t *child = read_manifest(&cl, name, cd, &status, e);
            if (!child && !status)
                goto out;
            if (!child)
                continue; /* a platform not pushed */
            char hint[128] = "";
            if (os && arch)
                snprintf(hint, sizeof hint, "%s/%s%s%s", os, arch, var ? "/" : "", var ? var : "");
            json_t *cfg = read_config(&cl, name, child, e);
            if (!cfg && e->status) {
                json_decref(child);
                goto out;
            }
            json_t *p = browse_platform_entry(child, cfg, cd, hint);
            json_decref(cfg);
            json_decref(child);
            if (p)
                json_array_append_new(plats, p);
        }
    }
    out = json_pack("{s:s, s:s, s:s?, s:s, s:O, s:b}", "name", name, "digest", digest, "mediaType",
                    json_string_value(json_object_get(facts, "mediaType")), "kind", kind,
                    "platforms", plats, "truncated", truncated);
    if (out)
        fit_answer(out);
    else
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
out:
    client_free(&cl);
    json_decref(doc);
    json_decref(facts);
    json_decref(plats);
    return out;
}
