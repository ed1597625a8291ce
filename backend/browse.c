#include "browse.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* json_int_t is long long here */
#define BROWSE_SIZE_MAX ((json_int_t)INT64_MAX)

#define ACCEPT                                                                                     \
    "Accept: application/vnd.oci.image.index.v1+json, "                                            \
    "application/vnd.docker.distribution.manifest.list.v2+json, "                                  \
    "application/vnd.oci.image.manifest.v1+json, "                                                 \
    "application/vnd.docker.distribution.manifest.v2+json"

struct reply {
    long status;
    struct buf body;
    char digest[80]; /* Docker-Content-Digest */
    char link[512];  /* the next page of a catalog */
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *u)
{
    struct reply *r = u;
    size_t n = size * nmemb;
    return buf_append(&r->body, p, n) ? 0 : n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t len)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0)
        return;
    const char *v = line + k;
    size_t vl = n - k;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (vl < len) {
        memcpy(out, v, vl);
        out[vl] = '\0';
    }
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *u)
{
    struct reply *r = u;
    size_t n = size * nmemb;
    header_value(p, n, "Docker-Content-Digest:", r->digest, sizeof r->digest);
    header_value(p, n, "Link:", r->link, sizeof r->link);
    return n;
}

/* One request to the registry. 0 when it answered (any status). */
static int call(const char *base, const char *method, const char *path, struct reply *r,
                struct err *e)
{
    char url[1024];
    struct curl_slist *h = NULL;
    memset(r, 0, sizeof *r);
    r->body.max = BROWSE_MAX_RESPONSE;
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *c = curl_easy_init();
    if (!c)
        return err_set(e, 500, "no_memory", NULL, "out of memory");
    h = curl_slist_append(h, ACCEPT);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (cc != CURLE_OK) {
        buf_free(&r->body);
        return err_set(e, 503, "registry_unreachable", NULL,
                       "the registry at %s does not answer (%s): is it running?", base,
                       curl_easy_strerror(cc));
    }
    return 0;
}

static json_t *call_json(const char *base, const char *path, struct reply *r, struct err *e)
{
    if (call(base, "GET", path, r, e))
        return NULL;
    json_t *j = r->status == 200 ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
    if (!j)
        err_set(e, 502, "registry_error", NULL, "the registry answered %s with HTTP %ld", path,
                r->status);
    return j;
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

/* Facts of repo:ref, following an index to its image manifests. */
static json_t *tag_facts(const char *base, const char *repo, const char *ref, json_t *repo_blobs,
                         json_t *all_blobs, struct err *e)
{
    char path[768];
    struct reply r;
    snprintf(path, sizeof path, "/v2/%s/manifests/%s", repo, ref);
    json_t *m = call_json(base, path, &r, e);
    if (!m) {
        buf_free(&r.body);
        return NULL;
    }
    json_t *f = browse_manifest_facts(m);
    if (f && r.digest[0])
        json_object_set_new(f, "digest", json_string(r.digest));
    if (f && strcmp(json_string_value(json_object_get(f, "kind")), "image") == 0) {
        note_blobs(m, repo_blobs);
        note_blobs(m, all_blobs);
    } else if (f) {
        json_int_t size = 0;
        json_t *own = json_object();
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(f, "manifests"), i, d)
        {
            struct reply cr;
            snprintf(path, sizeof path, "/v2/%s/manifests/%s", repo, json_string_value(d));
            json_t *child = call_json(base, path, &cr, e);
            buf_free(&cr.body);
            if (!child)
                continue; /* a platform not pushed (e.g. attestations): skip */
            note_blobs(child, own);
            note_blobs(child, repo_blobs);
            note_blobs(child, all_blobs);
            json_decref(child);
        }
        size = sum_sizes(own);
        json_decref(own);
        json_object_set_new(f, "size", json_integer(size));
    }
    json_decref(m);
    buf_free(&r.body);
    return f;
}

json_t *browse_repositories(const char *base, struct err *e)
{
    struct reply r;
    char path[512];
    json_t *out = NULL, *repos = json_array(), *all_blobs = json_object();
    int truncated = 0;
    snprintf(path, sizeof path, "/v2/_catalog?n=%d", BROWSE_MAX_REPOS);
    json_t *cat = call_json(base, path, &r, e);
    buf_free(&r.body);
    if (!cat)
        goto out;
    truncated = r.link[0] != '\0';
    time_t deadline = time(NULL) + BROWSE_DEADLINE_S;
    size_t i;
    json_t *name;
    json_array_foreach(json_object_get(cat, "repositories"), i, name)
    {
        if (time(NULL) > deadline) {
            truncated = 1; /* a slow storage: show what was read */
            break;
        }
        const char *repo = json_string_value(name);
        if (!repo || !browse_name_valid(repo))
            continue;
        struct reply tr;
        snprintf(path, sizeof path, "/v2/%s/tags/list?n=%d", repo, BROWSE_MAX_TAGS);
        json_t *tl = call_json(base, path, &tr, e);
        buf_free(&tr.body);
        if (tr.link[0])
            truncated = 1;
        json_t *tags = json_array(), *repo_blobs = json_object();
        size_t k;
        json_t *t;
        json_array_foreach(json_object_get(tl, "tags"), k, t)
        {
            const char *tag = json_string_value(t);
            if (!tag)
                continue;
            if (time(NULL) > deadline) {
                truncated = 1;
                break;
            }
            json_t *f = tag_facts(base, repo, tag, repo_blobs, all_blobs, e);
            if (!f)
                continue;
            json_object_set_new(f, "tag", json_string(tag));
            json_array_append_new(tags, f);
        }
        /* a repository whose every tag was deleted still shows in the catalog */
        json_array_append_new(repos, json_pack("{s:s, s:o, s:I}", "name", repo, "tags", tags,
                                               "size", sum_sizes(repo_blobs)));
        json_decref(repo_blobs);
        json_decref(tl);
    }
    out = json_pack("{s:O, s:I, s:b}", "repositories", repos, "totalSize", sum_sizes(all_blobs),
                    "truncated", truncated);
out:
    json_decref(cat);
    json_decref(repos);
    json_decref(all_blobs);
    return out;
}

int browse_delete(const char *base, const char *name, const char *digest, struct err *e)
{
    char path[512];
    struct reply r;
    if (!browse_name_valid(name))
        return err_set(e, 400, "invalid_value", "name", "not a repository name");
    if (!browse_digest_valid(digest))
        return err_set(e, 400, "invalid_value", "digest", "the digest must be sha256:<64 hex>");
    snprintf(path, sizeof path, "/v2/%s/manifests/%s", name, digest);
    if (call(base, "DELETE", path, &r, e))
        return -1;
    buf_free(&r.body);
    if (r.status == 202)
        return 0;
    if (r.status == 404)
        return err_set(e, 404, "not_found", NULL, "%s has no image %s", name, digest);
    if (r.status == 405)
        return err_set(e, 409, "delete_disabled", NULL,
                       "the registry refuses deletes (storage.delete is off)");
    return err_set(e, 502, "registry_error", NULL, "the registry answered the delete with HTTP %ld",
                   r.status);
}
