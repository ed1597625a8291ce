#include "docker.h"

#include "httpc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int docker_init(struct docker *d, const char *socket_path)
{
    memset(d, 0, sizeof *d);
    d->socket = strdup(socket_path);
    if (!d->socket)
        return -1;
    pthread_mutex_init(&d->mu, NULL);
    return 0;
}

void docker_cleanup(struct docker *d)
{
    free(d->socket);
    pthread_mutex_destroy(&d->mu);
    memset(d, 0, sizeof *d);
}

struct sink {
    struct buf *out;
    size_t (*fn)(struct sink *s, const char *p, size_t n);
    /* asked from curl's progress callback (at least once a second, also
     * when nothing arrives): non-zero aborts the transfer */
    int (*poll)(struct sink *s);
    void *ctx;
    struct docker *d;
};

static size_t write_cb(void *userp, const char *p, size_t n)
{
    struct sink *s = userp;
    if (s->fn)
        return s->fn(s, p, n);
    if (s->out && buf_append(s->out, p, n))
        return 0; /* over the cap: abort the transfer */
    return n;
}

void docker_cancel(struct docker *d)
{
    __atomic_store_n(&d->cancelled, 1, __ATOMIC_SEQ_CST);
}

/* Asked from curl's progress ticks, at least once a second: non-zero stops
 * the transfer. */
static int on_progress(void *clientp)
{
    struct sink *s = clientp;
    if (__atomic_load_n(&s->d->cancelled, __ATOMIC_SEQ_CST))
        return 1;
    return s->poll ? s->poll(s) : 0;
}

/* The shared request machinery (backend/httpc.c over the engine's socket).
 * versioned: prefix the negotiated version. */
static int request(struct docker *d, const char *method, const char *path, int versioned,
                   const char *ctype, const void *body, size_t len, long *status, struct sink *sink,
                   long timeout_s, struct err *e)
{
    char url[2048], api[16], hv[128];
    pthread_mutex_lock(&d->mu);
    snprintf(api, sizeof api, "%s", d->api);
    pthread_mutex_unlock(&d->mu);
    if (versioned && api[0])
        snprintf(url, sizeof url, "http://docker/v%s%s", api, path);
    else
        snprintf(url, sizeof url, "http://docker%s", path);
    const char *headers[2] = {NULL, NULL};
    if (ctype) {
        snprintf(hv, sizeof hv, "Content-Type: %s", ctype);
        headers[0] = hv;
    }
    sink->d = d;
    struct httpc_req req = {
        .method = method,
        .url = url,
        .unix_socket = d->socket,
        .headers = headers,
        .body = body,
        .body_len = body ? len : 0,
        .connect_timeout_ms = 3000,
        /* long streams (pulls): give up only when nothing moves for 2 min */
        .timeout_ms = timeout_s > 0 ? timeout_s * 1000 : 0,
        .stall_s = timeout_s > 0 ? 0 : 120,
        .sink = write_cb,
        .cancel = on_progress,
        .ctx = sink,
    };
    struct httpc_resp resp;
    enum httpc_result r = httpc_do(NULL, &req, &resp);
    *status = resp.status;
    if (r == HTTPC_OK)
        return 0;
    /* the sink refused what came (over the cap, or a stream it stops) */
    if (resp.curl_code == CURLE_WRITE_ERROR && *status)
        return err_set(e, 502, E_DOCKER_RESPONSE_TOO_LARGE, NULL,
                       "the Docker engine's answer to %s %s was larger than expected", method,
                       path);
    if (resp.curl_code == CURLE_ABORTED_BY_CALLBACK)
        return err_set(e, 499, E_CANCELLED, NULL, "%s %s was cancelled", method, path);
    return err_set(e, 503, E_DOCKER_UNREACHABLE, NULL,
                   "the Docker engine at %s does not answer (%s): check that Docker is running",
                   d->socket, resp.error);
}

int docker_call(struct docker *d, const char *method, const char *path, const char *ctype,
                const void *body, size_t len, long *status, struct buf *out, long timeout_s,
                struct err *e)
{
    struct buf scratch = {.max = DOCKER_MAX_RESPONSE};
    struct sink s = {.out = out ? out : &scratch};
    if (out && !out->max)
        out->max = DOCKER_MAX_RESPONSE;
    int rc = request(d, method, path, 1, ctype, body, len, status, &s, timeout_s, e);
    buf_free(&scratch);
    return rc;
}

/* The engine's error body is {"message":"..."}; copy it into e. */
static int engine_error(struct err *e, int status, enum ecode code, const char *what,
                        const struct buf *b)
{
    const char *msg = NULL;
    json_t *j = b->len ? json_loadb(b->data, b->len, 0, NULL) : NULL;
    if (json_is_object(j))
        msg = json_string_value(json_object_get(j, "message"));
    err_set(e, status, code, NULL, "%s: %s", what, msg ? msg : "the Docker engine refused");
    json_decref(j);
    return -1;
}

/* A 200 whose body is not the JSON the API promises (a broken engine or
 * something in between). */
static int bad_answer(struct err *e, const char *method, const char *path)
{
    return err_set(e, 502, E_DOCKER_BAD_ANSWER, NULL,
                   "the Docker engine's answer to %s %.80s was not valid JSON: restart Docker if "
                   "this persists",
                   method, path);
}

int docker_negotiate(struct docker *d, struct err *e)
{
    struct buf b = {.max = 65536};
    struct sink s = {.out = &b};
    long status = 0;
    int rc = -1;
    json_t *v = NULL;
    if (request(d, "GET", "/version", 0, NULL, NULL, 0, &status, &s, 5, e))
        goto out;
    v = status == 200 ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    const char *api = json_string_value(json_object_get(v, "ApiVersion"));
    const char *ver = json_string_value(json_object_get(v, "Version"));
    int major = 0, minor = 0;
    if (!api || sscanf(api, "%d.%d", &major, &minor) != 2) {
        err_set(e, 502, E_DOCKER_BAD_VERSION, NULL,
                "the Docker engine answered /version without an API version (HTTP %ld)", status);
        goto out;
    }
    if (major != DOCKER_MAX_API_MAJOR || minor < DOCKER_MIN_API_MINOR) {
        err_set(e, 502, E_DOCKER_TOO_OLD, NULL,
                "the Docker engine speaks API %s; Storj Registry needs 1.%d or newer: update "
                "Docker",
                api, DOCKER_MIN_API_MINOR);
        goto out;
    }
    /* an engine whose minimum is above what we speak would refuse every
     * call ("client version 1.47 is too old"): say so once, here */
    const char *min = json_string_value(json_object_get(v, "MinAPIVersion"));
    int min_major = 0, min_minor = 0;
    if (min && sscanf(min, "%d.%d", &min_major, &min_minor) == 2 &&
        (min_major > DOCKER_MAX_API_MAJOR ||
         (min_major == DOCKER_MAX_API_MAJOR && min_minor > DOCKER_MAX_API_MINOR))) {
        err_set(e, 502, E_DOCKER_TOO_NEW, NULL,
                "the Docker engine accepts API %s and newer only; this Storj Registry speaks up to "
                "1.%d: update Storj Registry",
                min, DOCKER_MAX_API_MINOR);
        goto out;
    }
    if (minor > DOCKER_MAX_API_MINOR)
        minor = DOCKER_MAX_API_MINOR;
    pthread_mutex_lock(&d->mu);
    snprintf(d->api, sizeof d->api, "1.%d", minor);
    snprintf(d->version, sizeof d->version, "%s", ver ? ver : "");
    d->negotiated = 1;
    pthread_mutex_unlock(&d->mu);
    rc = 0;
out:
    json_decref(v);
    buf_free(&b);
    return rc;
}

void docker_forget(struct docker *d)
{
    pthread_mutex_lock(&d->mu);
    d->negotiated = 0;
    pthread_mutex_unlock(&d->mu);
}

int docker_negotiated(struct docker *d)
{
    pthread_mutex_lock(&d->mu);
    int n = d->negotiated;
    pthread_mutex_unlock(&d->mu);
    return n;
}

void docker_versions(struct docker *d, char *api, size_t api_len, char *ver, size_t ver_len)
{
    pthread_mutex_lock(&d->mu);
    snprintf(api, api_len, "%s", d->api);
    snprintf(ver, ver_len, "%s", d->version);
    pthread_mutex_unlock(&d->mu);
}

static char *escape(const char *s)
{
    return curl_easy_escape(NULL, s, 0);
}

int docker_image_present(struct docker *d, const char *image, struct err *e)
{
    char path[1024];
    long status = 0;
    snprintf(path, sizeof path, "/images/%s/json", image);
    struct buf b = {0};
    int rc = docker_call(d, "GET", path, NULL, NULL, 0, &status, &b, 10, e);
    if (rc == 0) {
        if (status == 200)
            rc = 1;
        else if (status == 404)
            rc = 0;
        else
            rc = engine_error(e, 502, E_DOCKER_ERROR, "cannot look up the image", &b);
    }
    buf_free(&b);
    return rc;
}

struct pull_ctx {
    struct pullprog *p;
    docker_pull_fn fn;
    void *ctx;
    struct buf head; /* the first bytes, for a non-200 error message */
    int cancelled;
};

static size_t pull_write(struct sink *s, const char *p, size_t n)
{
    struct pull_ctx *pc = s->ctx;
    if (pc->head.len < 4096)
        buf_append(&pc->head, p, n < 4096 ? n : 4096);
    pullprog_feed(pc->p, p, n); /* an error line is recorded; keep reading */
    if (pc->fn && pc->fn(pc->ctx, pc->p)) {
        pc->cancelled = 1;
        return 0; /* closing the connection cancels the pull in the engine */
    }
    return n;
}

/* A pull that receives nothing (no network, a DNS wait) must still notice a
 * stop: the same callback, asked from curl's progress ticks. */
static int pull_poll(struct sink *s)
{
    struct pull_ctx *pc = s->ctx;
    if (pc->fn && pc->fn(pc->ctx, pc->p))
        pc->cancelled = 1;
    return pc->cancelled;
}

int docker_pull(struct docker *d, const char *image, docker_pull_fn fn, void *ctx, struct err *e)
{
    char path[1200];
    long status = 0;
    int rc = -1;
    char *q = escape(image);
    struct pullprog *p = malloc(sizeof *p);
    struct pull_ctx pc = {.p = p, .fn = fn, .ctx = ctx, .head = {.max = 8192}};
    struct sink s = {.fn = pull_write, .poll = pull_poll, .ctx = &pc};
    if (!q || !p) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto out;
    }
    pullprog_init(p);
    /* fromImage takes name:tag; an image without a tag would pull every tag */
    snprintf(path, sizeof path, "/images/create?fromImage=%s", q);
    if (!strchr(strrchr(image, '/') ? strrchr(image, '/') : image, ':') && !strchr(image, '@'))
        strncat(path, "&tag=latest", sizeof path - strlen(path) - 1);
    if (request(d, "POST", path, 1, NULL, NULL, 0, &status, &s, 0, e)) {
        if (pc.cancelled)
            err_set(e, 499, E_CANCELLED, NULL, "the pull of %s was cancelled", image);
        goto out;
    }
    if (status != 200) {
        engine_error(e, 502, E_PULL_FAILED, "pulling the image failed", &pc.head);
        goto out;
    }
    if (p->error[0]) {
        err_set(e, 502, E_PULL_FAILED, NULL, "pulling %s failed: %s", image, p->error);
        goto out;
    }
    rc = 0;
out:
    curl_free(q);
    free(p);
    buf_free(&pc.head);
    return rc;
}

int docker_create(struct docker *d, const char *name, json_t *spec, char id[72], struct err *e)
{
    char path[256];
    long status = 0;
    struct buf b = {0};
    int rc = -1;
    json_t *j = NULL;
    char *body = json_dumps(spec, JSON_COMPACT);
    if (!body)
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    snprintf(path, sizeof path, "/containers/create?name=%s", name);
    if (docker_call(d, "POST", path, "application/json", body, strlen(body), &status, &b, 30, e))
        goto out;
    if (status == 409) {
        engine_error(e, 409, E_CONFLICT, "a container with that name exists", &b);
        goto out;
    }
    if (status == 404) {
        engine_error(e, 502, E_NO_SUCH_IMAGE, "the image is missing", &b);
        goto out;
    }
    if (status != 201) {
        engine_error(e, 502, E_CREATE_FAILED, "creating the container failed", &b);
        goto out;
    }
    j = json_loadb(b.data, b.len, 0, NULL);
    const char *cid = json_string_value(json_object_get(j, "Id"));
    if (!j) {
        bad_answer(e, "POST", "/containers/create");
        goto out;
    }
    if (!cid || strlen(cid) >= 72) {
        err_set(e, 502, E_CREATE_FAILED, NULL, "the engine created a container without an id");
        goto out;
    }
    snprintf(id, 72, "%s", cid);
    rc = 0;
out:
    json_decref(j);
    free(body);
    buf_free(&b);
    return rc;
}

static int simple(struct docker *d, const char *method, const char *path, long ok1, long ok2,
                  enum ecode code, const char *what, long timeout, struct err *e)
{
    long status = 0;
    struct buf b = {0};
    int rc = docker_call(d, method, path, NULL, NULL, 0, &status, &b, timeout, e);
    if (rc == 0 && status != ok1 && status != ok2) {
        rc = engine_error(e, status == 404 ? 404 : 502, status == 404 ? E_NOT_FOUND : code, what,
                          &b);
        /* Docker has no code for a port another program holds, only these
         * words (docker-proxy and libnetwork): the one place its text is
         * read, to give the error its own code */
        if (code == E_START_FAILED && (strstr(e->message, "port is already allocated") ||
                                       strstr(e->message, "address already in use")))
            e->code = E_PORT_IN_USE;
    }
    buf_free(&b);
    return rc;
}

int docker_put_archive(struct docker *d, const char *id, const void *tar, size_t len, struct err *e)
{
    char path[256];
    long status = 0;
    struct buf b = {0};
    snprintf(path, sizeof path, "/containers/%s/archive?path=%%2F", id);
    int rc = docker_call(d, "PUT", path, "application/x-tar", tar, len, &status, &b, 30, e);
    if (rc == 0 && status != 200)
        rc = engine_error(e, 502, E_CONFIG_FAILED, "writing the configuration into the container",
                          &b);
    buf_free(&b);
    return rc;
}

int docker_start(struct docker *d, const char *id, struct err *e)
{
    char path[256];
    snprintf(path, sizeof path, "/containers/%s/start", id);
    return simple(d, "POST", path, 204, 304, E_START_FAILED, "starting the container failed", 60,
                  e);
}

int docker_stop(struct docker *d, const char *id, int timeout_s, struct err *e)
{
    char path[256];
    snprintf(path, sizeof path, "/containers/%s/stop?t=%d", id, timeout_s);
    return simple(d, "POST", path, 204, 304, E_STOP_FAILED, "stopping the container failed",
                  timeout_s + 30, e);
}

int docker_remove(struct docker *d, const char *id, struct err *e)
{
    char path[256];
    snprintf(path, sizeof path, "/containers/%s?force=true", id);
    /* a container that is gone already is removed */
    return simple(d, "DELETE", path, 204, 404, E_REMOVE_FAILED, "removing the container failed", 60,
                  e);
}

json_t *docker_inspect(struct docker *d, const char *id, struct err *e)
{
    char path[256];
    long status = 0;
    struct buf b = {0};
    json_t *j = NULL;
    snprintf(path, sizeof path, "/containers/%s/json", id);
    if (docker_call(d, "GET", path, NULL, NULL, 0, &status, &b, 10, e) == 0) {
        if (status != 200)
            engine_error(e, status == 404 ? 404 : 502, status == 404 ? E_NOT_FOUND : E_DOCKER_ERROR,
                         "inspecting the container failed", &b);
        else if (!(j = json_loadb(b.data, b.len, 0, NULL)) || !json_is_object(j)) {
            /* (json_is_object evaluates its argument twice) */
            json_decref(j);
            j = NULL;
            bad_answer(e, "GET", path);
        }
    }
    buf_free(&b);
    return j;
}

json_t *docker_list(struct docker *d, const char *label, struct err *e)
{
    char filters[512], path[1024];
    long status = 0;
    struct buf b = {0};
    json_t *j = NULL;
    snprintf(filters, sizeof filters, "{\"label\":[\"%s\"]}", label);
    char *q = escape(filters);
    if (!q) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }
    snprintf(path, sizeof path, "/containers/json?all=1&filters=%s", q);
    curl_free(q);
    if (docker_call(d, "GET", path, NULL, NULL, 0, &status, &b, 10, e) == 0) {
        if (status == 200)
            j = json_loadb(b.data, b.len, 0, NULL);
        if (!json_is_array(j)) {
            json_decref(j);
            j = NULL;
            if (status == 200)
                bad_answer(e, "GET", "/containers/json");
            else
                engine_error(e, 502, E_DOCKER_ERROR, "listing containers failed", &b);
        }
    }
    buf_free(&b);
    return j;
}

struct logs_ctx {
    struct demux *dm;
    size_t total;
    int truncated;
};

static size_t logs_write(struct sink *s, const char *p, size_t n)
{
    struct logs_ctx *lc = s->ctx;
    if (lc->total + n > DOCKER_MAX_LOGS) {
        /* keep what fits; the caller gets the lines read so far */
        size_t room = DOCKER_MAX_LOGS - lc->total;
        demux_feed(lc->dm, p, room);
        lc->total += room;
        lc->truncated = 1;
        return 0;
    }
    lc->total += n;
    demux_feed(lc->dm, p, n);
    return n;
}

int docker_logs(struct docker *d, const char *id, int tail, int tty, demux_line_fn fn, void *ctx,
                int *truncated, struct err *e)
{
    char path[256];
    long status = 0;
    struct demux *dm = malloc(sizeof *dm);
    if (!dm)
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    demux_init(dm, tty, fn, ctx);
    struct logs_ctx lc = {.dm = dm};
    struct sink s = {.fn = logs_write, .ctx = &lc};
    snprintf(path, sizeof path, "/containers/%s/logs?stdout=1&stderr=1&tail=%d", id, tail);
    int rc = request(d, "GET", path, 1, NULL, NULL, 0, &status, &s, 20, e);
    if (rc && lc.truncated && status == 200)
        rc = 0; /* over the cap: what was read is the answer */
    if (truncated)
        *truncated = lc.truncated;
    if (rc == 0 && status != 200)
        rc = err_set(e, status == 404 ? 404 : 502, status == 404 ? E_NOT_FOUND : E_LOGS_FAILED,
                     NULL, "reading the logs failed (HTTP %ld)", status);
    demux_finish(dm);
    free(dm);
    return rc;
}

int docker_wait(struct docker *d, const char *id, long timeout_s, int *exit_code, struct err *e)
{
    char path[256];
    long status = 0;
    struct buf b = {0};
    snprintf(path, sizeof path, "/containers/%s/wait", id);
    int rc = docker_call(d, "POST", path, NULL, NULL, 0, &status, &b, timeout_s, e);
    if (rc == 0 && status != 200)
        rc = engine_error(e, 502, E_WAIT_FAILED, "waiting for the container failed", &b);
    if (rc == 0) {
        json_t *j = json_loadb(b.data, b.len, 0, NULL);
        json_t *code = json_object_get(j, "StatusCode");
        if (json_is_integer(code))
            *exit_code = (int)json_integer_value(code);
        else /* an answer without a status is no exit, let alone a clean one */
            rc = err_set(e, 502, E_DOCKER_BAD_ANSWER, NULL,
                         "the Docker engine's answer to a wait had no exit status");
        json_decref(j);
    }
    buf_free(&b);
    return rc;
}

int docker_volume_remove(struct docker *d, const char *name, struct err *e)
{
    char path[256];
    long status = 0;
    struct buf b = {0};
    snprintf(path, sizeof path, "/volumes/%s", name);
    int rc = docker_call(d, "DELETE", path, NULL, NULL, 0, &status, &b, 60, e);
    if (rc == 0 && status != 204 && status != 404)
        rc = engine_error(e, status == 409 ? 409 : 502, E_VOLUME_IN_USE,
                          "removing the data volume failed", &b);
    buf_free(&b);
    return rc;
}
