#include "scan.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "browse.h"
#include "httpc.h"

#define PAGE 1000
/* digest -> facts kept between readings, about 0.5 KiB each */
#define CACHE_MAX 8192
#define WORKER_STACK (512 * 1024)
#define CALL_TIMEOUT_MS 30000L

#define ACCEPT                                                                                     \
    "Accept: application/vnd.oci.image.index.v1+json, "                                            \
    "application/vnd.docker.distribution.manifest.list.v2+json, "                                  \
    "application/vnd.oci.image.manifest.v1+json, "                                                 \
    "application/vnd.docker.distribution.manifest.v2+json"

/* ---- asking, with tries ------------------------------------------------------ */

static int io_cancelled(struct scan_io *io)
{
    return io->cancelled && io->cancelled(io->ctx);
}

/* Whether an answer may be different next time: none, 5xx, 429. */
static int passing(int rc, long status)
{
    return rc != 0 || status >= 500 || status == 429 || status == 0;
}

/* One request, tried SCAN_TRIES times while it fails in a way that may
 * pass (250 ms, 1 s, 4 s between). 0 with an answer that is no such
 * failure (any other status; r filled, its body the caller's), or -1 with e
 * (r->status the last status, 0 when nothing answered; no body). */
static int ask_tries(struct scan_io *io, int worker, const char *method, const char *path,
                     struct scan_reply *r, int *failed_before, struct err *e)
{
    long pause = 250;
    for (int t = 0; t < SCAN_TRIES; t++) {
        memset(r, 0, sizeof *r);
        if (io_cancelled(io))
            return err_set(e, 499, E_CANCELLED, NULL, "stopped");
        int rc = io->call(io->ctx, worker, method, path, r);
        if (!passing(rc, r->status))
            return 0;
        if (failed_before)
            *failed_before = 1;
        buf_free(&r->body);
        if (t + 1 < SCAN_TRIES && io->pause)
            io->pause(io->ctx, pause);
        pause *= 4;
    }
    if (r->status)
        return err_set(e, 502, E_REGISTRY_ERROR, NULL, "%s %.200s answered HTTP %ld %d times",
                       method, path, r->status, SCAN_TRIES);
    return err_set(e, 503, E_REGISTRY_UNREACHABLE, NULL, "%s %.200s got no answer %d times", method,
                   path, SCAN_TRIES);
}

static int ask(struct scan_io *io, int worker, const char *method, const char *path,
               struct scan_reply *r, struct err *e)
{
    return ask_tries(io, worker, method, path, r, NULL, e);
}

/* GET path as a JSON object. 1 with *out, 0 when the registry says 404,
 * -1 with e otherwise. */
static int ask_json(struct scan_io *io, int worker, const char *path, json_t **out,
                    struct scan_reply *r, struct err *e)
{
    *out = NULL;
    if (ask(io, worker, "GET", path, r, e))
        return -1;
    if (r->status == 404) {
        buf_free(&r->body);
        return 0;
    }
    if (r->status == 200)
        *out = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
    long status = r->status;
    buf_free(&r->body);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        if (status == 401 || status == 403)
            return err_set(e, 502, E_REGISTRY_ERROR, NULL,
                           "the registry refused the backend's login (HTTP %ld): Restart the "
                           "registry so that it takes the backend's credential",
                           status);
        return err_set(e, 502, E_REGISTRY_ERROR, NULL,
                       status == 200 ? "%.200s is no JSON document" : "%.200s answered HTTP %ld",
                       path, status);
    }
    return 1;
}

/* ---- facts of a digest --------------------------------------------------- */

/* digest -> compact JSON text of its facts: {"kind": "image"|"index"|"other",
 * "created": text|null, "blobs": {digest: size}, "children": [digest]}.
 * Text, so that threads never share a jansson value. All out when full. */
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *cache;

void scan_cache_clear(void)
{
    pthread_mutex_lock(&cache_mu);
    json_decref(cache);
    cache = NULL;
    pthread_mutex_unlock(&cache_mu);
}

static json_t *(*facts_source)(void *ctx, const char *digest);
static void *facts_source_ctx;

void scan_facts_source(json_t *(*get)(void *ctx, const char *digest), void *ctx)
{
    pthread_mutex_lock(&cache_mu);
    facts_source = get;
    facts_source_ctx = ctx;
    pthread_mutex_unlock(&cache_mu);
}

static json_t *cache_get_mem(const char *digest);
static void cache_put(const char *digest, json_t *facts);

/* the process's cache, then the source (the index): a digest found there
 * is cached in memory too */
static json_t *cache_get(const char *digest)
{
    json_t *f = cache_get_mem(digest);
    pthread_mutex_lock(&cache_mu);
    json_t *(*get)(void *, const char *) = facts_source;
    void *ctx = facts_source_ctx;
    pthread_mutex_unlock(&cache_mu);
    if (f || !get)
        return f;
    f = get(ctx, digest);
    if (f && (!json_is_object(f) || !json_is_string(json_object_get(f, "kind")))) {
        json_decref(f);
        return NULL;
    }
    if (f)
        cache_put(digest, f);
    return f;
}

static json_t *cache_get_mem(const char *digest)
{
    pthread_mutex_lock(&cache_mu);
    const char *t = json_string_value(json_object_get(cache, digest));
    json_t *out = t ? json_loads(t, 0, NULL) : NULL;
    pthread_mutex_unlock(&cache_mu);
    return out;
}

static void cache_put(const char *digest, json_t *facts)
{
    char *t = json_dumps(facts, JSON_COMPACT);
    if (!t)
        return;
    pthread_mutex_lock(&cache_mu);
    if (!cache || json_object_size(cache) >= CACHE_MAX) {
        json_decref(cache);
        cache = json_object();
    }
    json_object_set_new(cache, digest, json_string(t));
    pthread_mutex_unlock(&cache_mu);
    free(t);
}

static int cache_empty(void)
{
    pthread_mutex_lock(&cache_mu);
    int empty = json_object_size(cache) == 0 && !facts_source;
    pthread_mutex_unlock(&cache_mu);
    return empty;
}

/* "created" of an image config as RFC 3339 UTC to the second, or NULL. */
static json_t *created_of(json_t *config)
{
    const char *c = json_string_value(json_object_get(config, "created"));
    size_t n = c ? strlen(c) : 0;
    if (n < 20 || c[4] != '-' || c[7] != '-' || c[10] != 'T' || c[13] != ':' || c[16] != ':' ||
        c[n - 1] != 'Z')
        return json_null();
    char out[24];
    snprintf(out, sizeof out, "%.19sZ", c);
    return time_utc_valid(out) ? json_string(out) : json_null();
}

/* "os/architecture[/variant]" of a platform object or an image config;
 * "unknown" when it names none. */
static void platform_name(json_t *p, char *out, size_t len)
{
    const char *os = json_string_value(json_object_get(p, "os"));
    const char *arch = json_string_value(json_object_get(p, "architecture"));
    const char *v = json_string_value(json_object_get(p, "variant"));
    if (!os || !arch || !*os || !*arch || strlen(os) > 40 || strlen(arch) > 40)
        snprintf(out, len, "unknown");
    else
        snprintf(out, len, "%s/%s%s%.30s", os, arch, v && *v ? "/" : "", v && *v ? v : "");
}

static void add_blob(json_t *blobs, json_t *desc)
{
    const char *d = json_string_value(json_object_get(desc, "digest"));
    json_int_t size = json_integer_value(json_object_get(desc, "size"));
    if (d && browse_digest_valid(d))
        json_object_set_new(blobs, d, json_integer(size > 0 ? size : 0));
}

/* One reading of one repository. */
struct scan {
    struct scan_io *io;
    const char *name;
    pthread_mutex_t mu;
    json_t *facts; /* digest -> facts, of what this reading reached */
    json_t *tags;  /* the tag names */
    json_t **entries;
    char (*why)[200];
    size_t next, done;
    int failed;
    int base; /* the first worker of this reading (io->worker_base) */
};

/* every this many tags read, the progress is told */
#define PROGRESS_EVERY 25

static void tell(struct scan *s, size_t done, size_t total)
{
    if (s->io->progress)
        s->io->progress(s->io->pctx, s->name, s->io->repo_at, s->io->repos, done, total);
}

static void note_facts(struct scan *s, const char *digest, json_t *facts)
{
    json_t *copy = json_deep_copy(facts);
    pthread_mutex_lock(&s->mu);
    json_object_set_new(s->facts, digest, copy);
    pthread_mutex_unlock(&s->mu);
}

static json_t *facts_of(struct scan *s, int worker, const char *digest, json_t *doc, int depth,
                        int *gone, struct err *e);

/* The facts of a manifest document (doc, borrowed) at digest. NULL with e
 * when a part of it could not be read. */
static json_t *facts_from(struct scan *s, int worker, json_t *doc, int depth, struct err *e)
{
    json_t *f =
        json_pack("{s:s, s:n, s:{}, s:[]}", "kind", "other", "created", "blobs", "children");
    if (!f)
        goto nomem;
    json_t *blobs = json_object_get(f, "blobs"), *children = json_object_get(f, "children");
    json_t *list = json_object_get(doc, "manifests");
    json_t *config = json_object_get(doc, "config");
    const char *mt = json_string_value(json_object_get(doc, "mediaType"));
    if (mt && strlen(mt) < 200)
        json_object_set_new(f, "mediaType", json_string(mt));
    if (json_is_array(list)) {
        json_object_set_new(f, "kind", json_string("index"));
        json_t *platforms = json_array();
        json_object_set_new(f, "platforms", platforms);
        int dated = 0;
        size_t i;
        json_t *d;
        json_array_foreach(list, i, d)
        {
            const char *cd = json_string_value(json_object_get(d, "digest"));
            if (!cd || !browse_digest_valid(cd))
                continue;
            json_array_append_new(children, json_string(cd));
            char pl[128];
            platform_name(json_object_get(d, "platform"), pl, sizeof pl);
            json_array_append_new(platforms, json_pack("{s:s, s:s}", "digest", cd, "platform", pl));
            int gone = 0;
            json_t *cf = facts_of(s, worker, cd, NULL, depth + 1, &gone, e);
            if (!cf && gone)
                continue; /* a platform not pushed: nothing of it to keep */
            if (!cf)
                goto fail;
            json_object_update(blobs, json_object_get(cf, "blobs"));
            /* the creation time of its first platform's image (the
             * platforms of one build share it; attestations say unknown) */
            const char *os =
                json_string_value(json_object_get(json_object_get(d, "platform"), "os"));
            if (!dated && (!os || strcmp(os, "unknown") != 0) &&
                json_is_string(json_object_get(cf, "created")))
                dated = json_object_set(f, "created", json_object_get(cf, "created")) == 0;
            json_decref(cf);
        }
        return f;
    }
    if (json_is_object(config)) {
        json_object_set_new(f, "kind", json_string("image"));
        add_blob(blobs, config);
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(doc, "layers"), i, l)
        {
            add_blob(blobs, l);
        }
        const char *cd = json_string_value(json_object_get(config, "digest"));
        if (cd && browse_digest_valid(cd)) {
            char path[512];
            struct scan_reply r;
            json_t *c = NULL;
            snprintf(path, sizeof path, "/v2/%s/blobs/%s", s->name, cd);
            int rc = ask_json(s->io, worker, path, &c, &r, e);
            /* a config that is not there or no JSON: the age is unknown; a
             * registry that did not answer: not read */
            if (rc < 0 && passing(r.status == 0, r.status))
                goto fail;
            json_object_set_new(f, "created", rc > 0 ? created_of(c) : json_null());
            if (rc > 0) {
                char pl[128];
                platform_name(c, pl, sizeof pl);
                if (strcmp(pl, "unknown") != 0)
                    json_object_set_new(f, "platform", json_string(pl));
            }
            json_decref(c);
        }
        return f;
    }
    /* schema 1 or something else: no age, nothing reachable from it */
    return f;
nomem:
    err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
fail:
    json_decref(f);
    return NULL;
}

/* The facts of digest (doc: its document when already read, borrowed),
 * from the cache or the registry, noted in s. New reference; NULL with
 * *gone when the registry has no such manifest, NULL with e otherwise. */
static json_t *facts_of(struct scan *s, int worker, const char *digest, json_t *doc, int depth,
                        int *gone, struct err *e)
{
    *gone = 0;
    if (depth > SCAN_MAX_DEPTH) {
        err_set(e, 502, E_REGISTRY_ERROR, NULL, "indexes nested more than %d deep", SCAN_MAX_DEPTH);
        return NULL;
    }
    json_t *f = cache_get(digest);
    if (f) {
        /* the children of a cached index are reached too */
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(f, "children"), i, c)
        {
            int cg = 0;
            json_t *cf = facts_of(s, worker, json_string_value(c), NULL, depth + 1, &cg, e);
            if (!cf && !cg) {
                json_decref(f);
                return NULL;
            }
            json_decref(cf);
        }
        note_facts(s, digest, f);
        return f;
    }
    json_t *own = NULL;
    if (!doc) {
        char path[512];
        struct scan_reply r;
        snprintf(path, sizeof path, "/v2/%s/manifests/%s", s->name, digest);
        int rc = ask_json(s->io, worker, path, &own, &r, e);
        if (rc <= 0) {
            *gone = rc == 0;
            return NULL;
        }
        doc = own;
    }
    f = facts_from(s, worker, doc, depth, e);
    json_decref(own);
    if (!f)
        return NULL;
    cache_put(digest, f);
    note_facts(s, digest, f);
    return f;
}

/* sha256 of a body as "sha256:<hex>" (a registry that sends no
 * Docker-Content-Digest). */
static void digest_of(const struct buf *b, char *out, size_t len)
{
    unsigned char md[32];
    unsigned int n = 0;
    out[0] = '\0';
    if (!EVP_Digest(b->data ? b->data : "", b->len, md, &n, EVP_sha256(), NULL) || n != 32 ||
        len < 72)
        return;
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* {"tag","digest","created","size"} of one tag. NULL with *gone when the
 * tag is not there any more, NULL with e when it could not be read. */
static json_t *tag_read(struct scan *s, int worker, const char *tag, int head, int *gone,
                        struct err *e)
{
    char path[768], digest[80] = "";
    struct scan_reply r;
    json_t *doc = NULL, *f = NULL;
    *gone = 0;
    snprintf(path, sizeof path, "/v2/%s/manifests/%s", s->name, tag);
    if (head) {
        if (ask(s->io, worker, "HEAD", path, &r, e))
            return NULL;
        buf_free(&r.body);
        if (r.status == 404) {
            *gone = 1;
            return NULL;
        }
        if (r.status == 200 && browse_digest_valid(r.digest))
            snprintf(digest, sizeof digest, "%s", r.digest);
    }
    if (!digest[0]) {
        if (ask(s->io, worker, "GET", path, &r, e))
            return NULL;
        if (r.status == 404) {
            buf_free(&r.body);
            *gone = 1;
            return NULL;
        }
        if (r.status == 200)
            doc = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
        if (browse_digest_valid(r.digest))
            snprintf(digest, sizeof digest, "%s", r.digest);
        else if (r.status == 200)
            digest_of(&r.body, digest, sizeof digest);
        buf_free(&r.body);
        if (!json_is_object(doc) || !browse_digest_valid(digest)) {
            json_decref(doc);
            err_set(e, 502, E_REGISTRY_ERROR, NULL, "the manifest of tag %.128s: HTTP %ld", tag,
                    r.status);
            return NULL;
        }
    }
    int fgone = 0;
    f = facts_of(s, worker, digest, doc, 0, &fgone, e);
    json_decref(doc);
    if (!f && fgone && head)
        /* the digest went after the HEAD: the tag may have moved since,
         * onto another image; read it again, whole */
        return tag_read(s, worker, tag, 0, gone, e);
    if (!f) {
        /* the tag named a digest that went meanwhile: the tag went too */
        *gone = fgone;
        return NULL;
    }
    json_int_t size = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(f, "blobs"), k, v)
    {
        json_int_t b = json_integer_value(v);
        size = size > INT64_MAX - b ? INT64_MAX : size + b;
    }
    json_t *out = json_pack("{s:s, s:s, s:O, s:I}", "tag", tag, "digest", digest, "created",
                            json_object_get(f, "created"), "size", size);
    json_decref(f);
    if (!out)
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    return out;
}

static void *tag_worker(void *arg);

struct worker_arg {
    struct scan *s;
    int index, head;
};

static void *tag_worker(void *arg)
{
    struct worker_arg *w = arg;
    struct scan *s = w->s;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        size_t i = s->next < json_array_size(s->tags) ? s->next++ : (size_t)-1;
        const char *tag = i != (size_t)-1 ? json_string_value(json_array_get(s->tags, i)) : NULL;
        pthread_mutex_unlock(&s->mu);
        if (!tag)
            break;
        struct err e = {0};
        int gone = 0;
        json_t *en = tag_read(s, w->index, tag, w->head, &gone, &e);
        pthread_mutex_lock(&s->mu);
        s->entries[i] = en;
        if (!en && !gone) {
            s->failed++;
            snprintf(s->why[i], sizeof s->why[i], "%.199s",
                     e.message[0] ? e.message : "unreadable");
        }
        size_t done = ++s->done, total = json_array_size(s->tags);
        pthread_mutex_unlock(&s->mu);
        if (done % PROGRESS_EVERY == 0)
            tell(s, done, total);
    }
    return NULL;
}

/* A tag as distribution takes it: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
static int tag_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
        return 0;
    for (; *t; t++)
        if (!isalnum((unsigned char)*t) && *t != '_' && *t != '.' && *t != '-')
            return 0;
    return 1;
}

/* The path of the page after the answer r into path: 1, or 0 at the end,
 * or -1 with e when the answer names a next page that cannot be followed
 * (another host, too long) or the page added nothing (a Link that loops):
 * a listing that stops there is not whole. */
static int next_page(const struct scan_reply *r, char *path, size_t len, int added, struct err *e)
{
    int more = r->next || strstr(r->link, "rel=\"next\"") != NULL;
    if (!more)
        return 0;
    if (browse_next_page(r->link, path, len))
        return err_set(e, 502, E_REGISTRY_ERROR, NULL,
                       "the registry names a next page the backend cannot follow");
    if (!added)
        return err_set(e, 502, E_REGISTRY_ERROR, NULL, "the registry's pages repeat themselves");
    return 1;
}

/* Every tag of the repository, following the pages. New array; NULL with e
 * when a page could not be read or there are more than SCAN_MAX_TAGS. */
static json_t *list_tags(struct scan *s, struct err *e)
{
    char path[768];
    json_t *tags = json_array(), *seen = json_object();
    snprintf(path, sizeof path, "/v2/%s/tags/list?n=%d", s->name, PAGE);
    for (int first = 1;; first = 0) {
        struct scan_reply r;
        json_t *tl = NULL;
        int rc = ask_json(s->io, s->base, path, &tl, &r, e);
        if (rc < 0)
            goto fail;
        if (rc == 0) {
            if (first)
                break; /* no tags at all: the catalog may still name it */
            err_set(e, 502, E_REGISTRY_ERROR, NULL, "a page of its tags went missing");
            goto fail;
        }
        size_t i, before = json_array_size(tags);
        json_t *t;
        json_array_foreach(json_object_get(tl, "tags"), i, t)
        {
            /* a name that cannot be a tag cannot be asked for: what it
             * points at would go unseen */
            if (!json_is_string(t) || !tag_valid(json_string_value(t))) {
                json_decref(tl);
                err_set(e, 502, E_REGISTRY_ERROR, NULL, "the registry lists a tag that is no tag");
                goto fail;
            }
            /* distribution sorts every tag before it pages them; a name
             * seen again (a storage listing out of order) is read once */
            if (json_object_get(seen, json_string_value(t)))
                continue;
            if (json_object_set(seen, json_string_value(t), json_true()) ||
                json_array_append(tags, t)) {
                json_decref(tl);
                err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
                goto fail;
            }
        }
        json_decref(tl);
        if (json_array_size(tags) > SCAN_MAX_TAGS) {
            err_set(e, 413, E_TRUNCATED, NULL, "more than %d tags", SCAN_MAX_TAGS);
            goto fail;
        }
        if (next_page(&r, path, sizeof path, json_array_size(tags) > before, e) <= 0) {
            if (e->message[0])
                goto fail;
            break;
        }
    }
    json_decref(seen);
    return tags;
fail:
    json_decref(seen);
    json_decref(tags);
    return NULL;
}

static json_t *incomplete(const char *name, const char *problem)
{
    return json_pack("{s:s, s:b, s:s, s:[], s:{}}", "name", name, "complete", 0, "problem", problem,
                     "tags", "children");
}

json_t *scan_repo(struct scan_io *io, const char *name)
{
    struct scan s = {
        .io = io,
        .name = name,
        .base = io->worker_base >= 0 && io->worker_base < SCAN_THREADS ? io->worker_base : 0};
    struct err e = {0};
    char problem[400];
    json_t *out = NULL;
    if (!browse_name_valid(name))
        return incomplete(name, "not a repository name");
    pthread_mutex_init(&s.mu, NULL);
    s.facts = json_object();
    if (!s.facts || !(s.tags = list_tags(&s, &e))) {
        snprintf(problem, sizeof problem, "its tags could not be listed: %.360s", e.message);
        out = incomplete(name, problem);
        goto done;
    }
    size_t n = json_array_size(s.tags);
    tell(&s, 0, n);
    s.entries = calloc(n + 1, sizeof *s.entries);
    s.why = calloc(n + 1, sizeof *s.why);
    if (!s.entries || !s.why)
        goto done;
    int base = s.base;
    int threads =
        io->threads > 0 && io->threads <= SCAN_THREADS - base ? io->threads : SCAN_THREADS - base;
    if ((size_t)threads > n)
        threads = n ? (int)n : 1;
    /* a digest's facts are mostly known from an earlier reading: a HEAD per
     * tag then, and the manifest only for new digests */
    int head = !cache_empty();
    struct worker_arg args[SCAN_THREADS] = {{0}};
    pthread_t tids[SCAN_THREADS];
    int started = 0;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, WORKER_STACK);
    for (int i = 0; i < threads; i++)
        args[i] = (struct worker_arg){.s = &s, .index = base + i, .head = head};
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&tids[started], &at, tag_worker, &args[i]))
            break;
        started++;
    }
    pthread_attr_destroy(&at);
    tag_worker(&args[0]);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    tell(&s, n, n);
    if (io_cancelled(io)) {
        out = incomplete(name, "the reading was stopped");
        goto done;
    }
    if (s.failed) {
        const char *first = "";
        for (size_t i = 0; i < n && !first[0]; i++)
            first = s.why[i];
        snprintf(problem, sizeof problem, "%d of %zu tags could not be read (%.300s)", s.failed, n,
                 first);
        out = incomplete(name, problem);
        goto done;
    }
    json_t *tags = json_array(), *children = json_object();
    for (size_t i = 0; i < n; i++)
        if (s.entries[i])
            json_array_append(tags, s.entries[i]);
    const char *d;
    json_t *f;
    json_object_foreach(s.facts, d, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "kind")), "index") == 0)
            json_object_set(children, d, json_object_get(f, "children"));
    }
    out = json_pack("{s:s, s:b, s:o, s:o, s:O}", "name", name, "complete", 1, "tags", tags,
                    "children", children, "manifests", s.facts);
done:
    if (s.entries)
        for (size_t i = 0; i < json_array_size(s.tags); i++)
            json_decref(s.entries[i]);
    free(s.entries);
    free(s.why);
    json_decref(s.tags);
    json_decref(s.facts);
    pthread_mutex_destroy(&s.mu);
    return out;
}

json_t *scan_catalog(struct scan_io *io, struct err *e)
{
    char path[768];
    json_t *names = json_array(), *seen = json_object();
    snprintf(path, sizeof path, "/v2/_catalog?n=%d", PAGE);
    for (;;) {
        struct scan_reply r;
        json_t *page = NULL;
        int rc = ask_json(io, 0, path, &page, &r, e);
        if (rc <= 0) {
            if (rc == 0)
                err_set(e, 502, E_REGISTRY_ERROR, NULL, "the registry has no catalog (HTTP 404)");
            json_decref(names);
            names = NULL;
            break;
        }
        size_t i;
        json_t *n;
        size_t before = json_array_size(names);
        json_array_foreach(json_object_get(page, "repositories"), i, n)
        {
            if (!json_is_string(n) || json_object_get(seen, json_string_value(n)))
                continue;
            json_object_set(seen, json_string_value(n), json_true());
            json_array_append(names, n);
        }
        json_decref(page);
        int added = json_array_size(names) > before;
        if (json_array_size(names) > SCAN_MAX_REPOS) {
            err_set(e, 413, E_TRUNCATED, NULL, "the catalog has more than %d repositories",
                    SCAN_MAX_REPOS);
            json_decref(names);
            names = NULL;
            break;
        }
        int more = next_page(&r, path, sizeof path, added, e);
        if (more < 0) {
            json_decref(names);
            names = NULL;
        }
        if (more <= 0)
            break;
    }
    json_decref(seen);
    return names;
}

int scan_delete(struct scan_io *io, const char *name, const char *digest, struct err *e)
{
    char path[512];
    struct scan_reply r;
    if (!browse_name_valid(name) || !browse_digest_valid(digest))
        return err_set(e, 400, E_INVALID_VALUE, NULL, "not a repository name and digest");
    snprintf(path, sizeof path, "/v2/%s/manifests/%s", name, digest);
    int failed_before = 0;
    if (ask_tries(io, 0, "DELETE", path, &r, &failed_before, e))
        return -1;
    buf_free(&r.body);
    /* distribution removes the manifest before it reads the tag links: a
     * 500 then may mean it is gone, and the try after it says 404. Its tags
     * may stay listed, naming nothing (a reading leaves them out). */
    if (r.status == 404 && failed_before)
        return 0;
    return browse_delete_answer(r.status, name, digest, e);
}

/* ---- the real registry ------------------------------------------------------ */

struct scan_http {
    char base[256];
    struct scan_io_login login;
    struct httpc h[SCAN_THREADS];
    int (*cancelled)(void *);
    void *cancel_ctx;
    /* pacing (scan_io_http_pace): requests start at most per_s a second,
     * across all readers */
    double per_s;
    pthread_mutex_t pace_mu;
    double next_at; /* monotonic seconds the next request may start at */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* waits for this request's turn: each takes 1/per_s of a second */
static void pace(struct scan_http *h)
{
    if (h->per_s <= 0)
        return;
    pthread_mutex_lock(&h->pace_mu);
    double now = now_s(), at = h->next_at > now ? h->next_at : now;
    h->next_at = at + 1.0 / h->per_s;
    pthread_mutex_unlock(&h->pace_mu);
    if (at > now)
        usleep((useconds_t)((at - now) * 1e6));
}

void scan_io_http_pace(struct scan_io *io, double per_s)
{
    struct scan_http *h = io->ctx;
    if (h)
        h->per_s = per_s;
}

static void http_header(void *ctx, const char *p, size_t n)
{
    struct scan_reply *r = ctx;
    httpc_header_value(p, n, "Docker-Content-Digest:", r->digest, sizeof r->digest);
    httpc_header_value(p, n, "Link:", r->link, sizeof r->link);
    if (n > 5 && strncasecmp(p, "Link:", 5) == 0 && memmem(p, n, "rel=\"next\"", 10))
        r->next = 1;
}

static int http_cancel(void *ctx)
{
    struct scan_http *h = ctx;
    return h->cancelled && h->cancelled(h->cancel_ctx);
}

static int http_call(void *ctx, int worker, const char *method, const char *path,
                     struct scan_reply *r)
{
    static const char *const headers[] = {ACCEPT, NULL};
    struct scan_http *h = ctx;
    char url[1024];
    memset(r, 0, sizeof *r);
    if (worker < 0 || worker >= SCAN_THREADS ||
        (size_t)snprintf(url, sizeof url, "%s%s", h->base, path) >= sizeof url)
        return -1;
    struct httpc_req req = {.method = method,
                            .url = url,
                            .headers = headers,
                            .timeout_ms = CALL_TIMEOUT_MS,
                            .max_response = SCAN_MAX_RESPONSE,
                            .on_header = http_header,
                            .ctx = r,
                            .user = h->login.user,
                            .password =
                                h->login.user ? h->login.password ? h->login.password : "" : NULL,
                            .tls_pin = h->login.tls_pin};
    struct httpc_resp resp;
    pace(h);
    enum httpc_result res = httpc_do(&h->h[worker], &req, &resp);
    r->status = resp.status;
    r->body = resp.body;
    if (res != HTTPC_OK) {
        buf_free(&r->body);
        r->status = 0;
        return -1;
    }
    return 0;
}

static void http_pause(void *ctx, long ms)
{
    struct scan_http *h = ctx;
    for (long left = ms; left > 0 && !http_cancel(h); left -= 100)
        usleep((useconds_t)(left < 100 ? left : 100) * 1000);
}

static int http_cancelled(void *ctx)
{
    return http_cancel(ctx);
}

int scan_io_http_init(struct scan_io *io, const char *base, const struct scan_io_login *login,
                      int (*cancelled)(void *), void *cancel_ctx)
{
    struct scan_http *h = calloc(1, sizeof *h);
    memset(io, 0, sizeof *io);
    if (!h)
        return -1;
    snprintf(h->base, sizeof h->base, "%s", base);
    if (login)
        h->login = *login;
    h->cancelled = cancelled;
    h->cancel_ctx = cancel_ctx;
    pthread_mutex_init(&h->pace_mu, NULL);
    for (int i = 0; i < SCAN_THREADS; i++)
        if (httpc_init(&h->h[i])) {
            for (int j = 0; j < i; j++)
                httpc_free(&h->h[j]);
            free(h);
            return -1;
        }
    *io = (struct scan_io){.call = http_call,
                           .cancelled = http_cancelled,
                           .pause = http_pause,
                           .ctx = h,
                           .threads = SCAN_THREADS};
    return 0;
}

void scan_io_http_free(struct scan_io *io)
{
    struct scan_http *h = io->ctx;
    if (!h)
        return;
    for (int i = 0; i < SCAN_THREADS; i++)
        httpc_free(&h->h[i]);
    pthread_mutex_destroy(&h->pace_mu);
    secret_wipe(h, sizeof *h);
    free(h);
    io->ctx = NULL;
}
