#include "manager.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "authsvc.h"
#include "browse.h"
#include "regconfig.h"
#include "docker.h"
#include "lean.h"
#include "grant.h"
#include "readiness.h"
#include "s3check.h"
#include "settings.h"

#define STOP_TIMEOUT_S 10
#define GATEWAY_READY_S 30
#define GC_TIMEOUT_S 3600
#define GC_NAME SPEC_REGISTRY_NAME "-gc"

struct observed {
    int exists;
    int running;
    int exit_code;
    char id[72];
    char hash[65];
};

struct manager {
    pthread_mutex_t mu;
    pthread_cond_t job_cv;     /* a job was queued, or shutdown */
    pthread_cond_t monitor_cv; /* look at Docker now, or shutdown */
    pthread_mutex_t put_mu;    /* serialises settings changes end to end */
    pthread_mutex_t save_mu;   /* orders writes of the settings file; taken before mu */
    pthread_t worker, monitor;
    int shutdown;

    struct docker docker;
    struct spec_opts sopts;
    char *reg_image, *gw_image, *native_image;
    int interval_ms;
    char settings_path[PATH_MAX];
    char running_path[PATH_MAX];

    /* all below under mu */
    struct settings settings;
    int desired_on_disk; /* settings.desired_running as the file has it */
    char desired_hash[65];
    /* what runs: the settings the containers were last created or started
     * with (also in running.json), and their spec hash; they count while
     * the registry container carries that hash */
    struct settings run;
    int has_run;
    char run_hash[65];

    enum manager_job pending;
    int pending_purge;
    enum manager_job running_job;
    int cancel_start;  /* a stop or remove came in while starting: give up */
    const char *phase; /* "pulling", "starting", "stopping", "removing" or NULL */
    char prog_image[256];
    long long prog_cur, prog_total;

    int job_failed;
    struct err job_err;
    char job_hint[256];

    int observed_once;
    int docker_ok;
    struct err docker_err;
    json_t *containers; /* [{role,id,name,image,state,health}] */
    struct observed reg, gw;
    int reg_healthy;
    long reg_http; /* what GET /v2/ answered: 503 while its storage is away */

    /* the last storage check (s3check.h, with at/mode/bucket), or NULL */
    json_t *last_check;
    int check_create; /* the queued check may create a missing bucket */

    /* the last garbage collection: when, how it ended, what it said */
    long long gc_at;
    int gc_ok;
    char gc_message[512];

    /* observations are numbered so that a slow one cannot overwrite a newer */
    unsigned obs_taken, obs_applied;
    /* the secrets of the containers as last created, redacted from their
     * logs even after the settings changed */
    char *live_secrets[4];

    /* a settings file that could not be read at start, kept aside: what
     * status tells the user (empty when there was none) */
    char settings_problem[512];
    char settings_kept_as[96]; /* the file name it was kept under */

    /* GET /api/status answers from this text, rebuilt only when gen moved */
    unsigned gen, status_gen;
    char *status_text;
};

/* Unlocks after a change that status shows. */
static void unlock_changed(struct manager *m)
{
    m->gen++;
    pthread_mutex_unlock(&m->mu);
}

/* ---- helpers ------------------------------------------------------------ */

static void compute_desired_hash(struct manager *m)
{
    struct spec_set set;
    struct err e;
    if (spec_build(&m->settings, &m->sopts, &set, &e) == 0)
        snprintf(m->desired_hash, sizeof m->desired_hash, "%s", set.hash);
    else
        m->desired_hash[0] = '\0';
    spec_free(&set);
}

/* The settings the registry container was created with, when it exists
 * and they are known; else the saved ones. Caller holds m->mu. */
static const struct settings *effective_locked(struct manager *m)
{
    if (m->has_run && m->reg.exists && strcmp(m->reg.hash, m->run_hash) == 0)
        return &m->run;
    return &m->settings;
}

/* Remembers s as what runs (spec hash hash), in memory and in running.json. */
static void record_run(struct manager *m, const struct settings *s, const char *hash)
{
    struct settings copy;
    struct err e;
    if (settings_copy(&copy, s))
        return;
    if (settings_save(m->running_path, &copy, &e))
        log_warn("could not record the running settings: %s", e.message);
    pthread_mutex_lock(&m->mu);
    if (m->has_run)
        settings_free(&m->run);
    m->run = copy;
    m->has_run = 1;
    snprintf(m->run_hash, sizeof m->run_hash, "%s", hash);
    unlock_changed(m);
}

static void forget_run(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    if (m->has_run)
        settings_free(&m->run);
    m->has_run = 0;
    m->run_hash[0] = '\0';
    unlock_changed(m);
    unlink(m->running_path);
}

/* Records whether the user wants the registry running, in memory and, when
 * that differs from what the file says, in the file. The file is written
 * outside m->mu (an fsync on a slow disk must not stall status) but under
 * m->save_mu, taken before m->mu by every writer of the settings file, so
 * that a save never overwrites a newer one with an older copy. */
static void set_desired_running(struct manager *m, int on)
{
    struct err e;
    struct settings copy;
    pthread_mutex_lock(&m->save_mu);
    pthread_mutex_lock(&m->mu);
    m->settings.desired_running = on;
    int write = m->desired_on_disk != on && settings_copy(&copy, &m->settings) == 0;
    unlock_changed(m);
    if (write) {
        int rc = settings_save(m->settings_path, &copy, &e);
        settings_free(&copy);
        if (rc) {
            log_warn("could not record the desired state: %s", e.message);
        } else {
            pthread_mutex_lock(&m->mu);
            m->desired_on_disk = on;
            pthread_mutex_unlock(&m->mu);
        }
    }
    pthread_mutex_unlock(&m->save_mu);
}

static void job_fail(struct manager *m, const struct err *e, const char *hint)
{
    pthread_mutex_lock(&m->mu);
    m->job_failed = 1;
    m->job_err = *e;
    snprintf(m->job_hint, sizeof m->job_hint, "%s", hint ? hint : "");
    unlock_changed(m);
    log_warn("%s failed: %s (%s)", m->running_job == JOB_STOP ? "stop" : "job", ecode_name(e->code),
             e->message);
}

static void set_phase(struct manager *m, const char *phase)
{
    pthread_mutex_lock(&m->mu);
    m->phase = phase;
    unlock_changed(m);
}

/* Where the backend reaches the registry for health checks. */
static void probe_url(const struct settings *s, char *out, size_t len)
{
    const char *host = s->bind;
    if (strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    if (strchr(host, ':'))
        snprintf(out, len, "http://[%s]:%d/v2/", host, s->port);
    else
        snprintf(out, len, "http://%s:%d/v2/", host, s->port);
}

static size_t discard(char *p, size_t size, size_t nmemb, void *u)
{
    return size * nmemb;
}

/* 1 when GET /v2/ answers as a registry does (200, or 401 behind auth);
 * with http, the HTTP status it answered (0: none). */
static int registry_answers_http(const char *url, long timeout_ms, long *http)
{
    CURL *h = curl_easy_init();
    if (!h)
        return 0;
    long status = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    int ok = curl_easy_perform(h) == CURLE_OK &&
             curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
             (status == 200 || status == 401);
    curl_easy_cleanup(h);
    if (http)
        *http = status;
    return ok;
}

static int registry_answers(const char *url, long timeout_ms)
{
    return registry_answers_http(url, timeout_ms, NULL);
}

static const char *label_of(json_t *c, const char *key)
{
    return json_string_value(json_object_get(json_object_get(c, "Labels"), key));
}

/* ---- observation -------------------------------------------------------- */

/* Looks at Docker once and records what it saw. Safe from any thread. */
static void observe(struct manager *m)
{
    struct err e = {0};
    json_t *list = NULL, *view = json_array();
    struct observed reg = {0}, gw = {0};
    char url[128];

    char run_url[128] = "", run_hash[65];
    pthread_mutex_lock(&m->mu);
    int negotiated = m->docker_ok;
    unsigned seq = ++m->obs_taken;
    probe_url(&m->settings, url, sizeof url);
    if (m->has_run)
        probe_url(&m->run, run_url, sizeof run_url);
    snprintf(run_hash, sizeof run_hash, "%s", m->run_hash);
    pthread_mutex_unlock(&m->mu);

    if ((!negotiated || !docker_negotiated(&m->docker)) && docker_negotiate(&m->docker, &e))
        goto unreachable;
    list = docker_list(&m->docker, SPEC_LABEL_MANAGED "=true", &e);
    if (!list)
        goto unreachable;

    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        const char *role = label_of(c, SPEC_LABEL_ROLE);
        const char *id = json_string_value(json_object_get(c, "Id"));
        const char *state = json_string_value(json_object_get(c, "State"));
        const char *status = json_string_value(json_object_get(c, "Status"));
        const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
        if (!role || !id)
            continue;
        struct observed *o = strcmp(role, "registry") == 0  ? &reg
                             : strcmp(role, "gateway") == 0 ? &gw
                                                            : NULL;
        if (o && !o->exists) {
            o->exists = 1;
            o->running = state && strcmp(state, "running") == 0;
            snprintf(o->id, sizeof o->id, "%s", id);
            snprintf(o->hash, sizeof o->hash, "%s",
                     label_of(c, SPEC_LABEL_HASH) ? label_of(c, SPEC_LABEL_HASH) : "");
            /* "Exited (137) 5 seconds ago" */
            if (status && sscanf(status, "Exited (%d)", &o->exit_code) != 1)
                o->exit_code = 0;
        }
        char shortid[13];
        snprintf(shortid, sizeof shortid, "%s", id);
        json_array_append_new(
            view, json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?}", "role", role, "id", shortid,
                            "name", name ? (name[0] == '/' ? name + 1 : name) : "", "image",
                            json_string_value(json_object_get(c, "Image")), "state", state,
                            "status", status));
    }
    /* probe where the running registry listens, not where the saved
     * settings would put it */
    if (run_url[0] && reg.exists && strcmp(reg.hash, run_hash) == 0)
        snprintf(url, sizeof url, "%s", run_url);
    long http = 0;
    int healthy = reg.running && registry_answers_http(url, 1000, &http);
    json_array_foreach(view, i, c)
    {
        const char *role = json_string_value(json_object_get(c, "role"));
        const char *state = json_string_value(json_object_get(c, "state"));
        const char *health = !state || strcmp(state, "running") != 0 ? "none"
                             : strcmp(role, "registry") != 0         ? "running"
                             : healthy                               ? "healthy"
                                                                     : "unhealthy";
        json_object_set_new(c, "health", json_string(health));
    }

    pthread_mutex_lock(&m->mu);
    if (seq < m->obs_applied) { /* a newer look has landed meanwhile */
        pthread_mutex_unlock(&m->mu);
        json_decref(list);
        json_decref(view);
        return;
    }
    m->obs_applied = seq;
    /* a registry that came up after its start timed out is fine after all */
    if (m->job_failed && healthy && m->running_job == JOB_NONE && m->job_err.code &&
        m->job_err.code == E_HEALTH_TIMEOUT)
        m->job_failed = 0;
    m->docker_ok = 1;
    m->observed_once = 1;
    json_decref(m->containers);
    m->containers = view;
    view = NULL;
    m->reg = reg;
    m->gw = gw;
    m->reg_healthy = healthy;
    m->reg_http = reg.running ? http : 0;
    unlock_changed(m);
    json_decref(list);
    return;

unreachable:
    pthread_mutex_lock(&m->mu);
    if (seq < m->obs_applied) {
        pthread_mutex_unlock(&m->mu);
        json_decref(list);
        json_decref(view);
        return;
    }
    m->obs_applied = seq;
    if (m->docker_ok || !m->observed_once)
        log_warn("Docker engine unreachable: %s", e.message);
    m->docker_ok = 0;
    m->observed_once = 1;
    m->docker_err = e;
    unlock_changed(m);
    docker_forget(&m->docker);
    json_decref(list);
    json_decref(view);
}

static void *monitor_main(void *arg)
{
    struct manager *m = arg;
    int was_ok = 0, resumed = 0;
    unsigned ticks = 0;
    pthread_mutex_lock(&m->mu);
    while (!m->shutdown) {
        pthread_mutex_unlock(&m->mu);
        observe(m);
        pthread_mutex_lock(&m->mu);
        if (m->docker_ok && !was_ok) {
            resumed = 0; /* Docker (re)appeared: containers may have stopped with it */
            char api[16], ver[64];
            docker_versions(&m->docker, api, sizeof api, ver, sizeof ver);
            log_info("Docker engine reachable (API %s, engine %s)", api, ver);
        }
        was_ok = m->docker_ok;
        /* after a restart of the machine or of Docker: bring the registry
         * back if the user had it running */
        if (!resumed && m->docker_ok) {
            resumed = 1;
            if (m->settings.desired_running && !m->reg.running && m->pending == JOB_NONE &&
                m->running_job == JOB_NONE) {
                log_info("resuming the registry the user left running");
                m->pending = JOB_START;
                m->gen++;
                pthread_cond_signal(&m->job_cv);
            }
        }
        /* a burst of connections leaves freed memory in the heap: give it
         * back while idle */
        if (m->running_job == JOB_NONE && ++ticks % 15 == 0) {
            pthread_mutex_unlock(&m->mu); /* status must not wait for it */
            malloc_trim(64 * 1024);
            lean_file_pages(); /* code and read-only data the last burst touched */
            pthread_mutex_lock(&m->mu);
        }
        /* look often while something changes, seldom when idle */
        long ms = m->running_job != JOB_NONE ? 500 : m->interval_ms;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&m->monitor_cv, &m->mu, &ts);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- jobs ----------------------------------------------------------------- */

/* Publishes the pull's progress; asks to cancel it when a stop came in. */
static int pull_progress(void *ctx, const struct pullprog *p)
{
    struct manager *m = ctx;
    int64_t cur, tot;
    pullprog_totals(p, &cur, &tot);
    pthread_mutex_lock(&m->mu);
    m->prog_cur = cur;
    m->prog_total = tot;
    int cancel = m->cancel_start || m->shutdown;
    unlock_changed(m);
    return cancel;
}

static int ensure_image(struct manager *m, const char *image, struct err *e)
{
    int present = docker_image_present(&m->docker, image, e);
    if (present < 0)
        return -1;
    if (present)
        return 0;
    pthread_mutex_lock(&m->mu);
    m->phase = "pulling";
    snprintf(m->prog_image, sizeof m->prog_image, "%s", image);
    m->prog_cur = m->prog_total = 0;
    unlock_changed(m);
    log_info("pulling %s", image);
    int rc = docker_pull(&m->docker, image, pull_progress, m, e);
    pthread_mutex_lock(&m->mu);
    m->prog_image[0] = '\0';
    unlock_changed(m);
    return rc;
}

/* Removes every container we own that is not of the wanted spec; with a
 * set, writes the ids of those that are (by role) to keep. */
static int remove_stale(struct manager *m, const char *hash, const struct spec_set *set,
                        char keep[2][72], struct err *e)
{
    json_t *list = docker_list(&m->docker, SPEC_LABEL_MANAGED "=true", e);
    if (!list)
        return -1;
    size_t i;
    json_t *c;
    int rc = 0;
    /* the registry may live in the gateway's namespace: registry first */
    for (int pass = 0; pass < 2 && rc == 0; pass++)
        json_array_foreach(list, i, c)
        {
            const char *role = label_of(c, SPEC_LABEL_ROLE);
            const char *h = label_of(c, SPEC_LABEL_HASH);
            const char *id = json_string_value(json_object_get(c, "Id"));
            int is_reg = role && strcmp(role, "registry") == 0;
            if (!id || is_reg != (pass == 0))
                continue;
            if (hash && h && strcmp(h, hash) == 0 && set) {
                int found = 0;
                for (int k = 0; k < set->count; k++)
                    if (role && strcmp(role, set->c[k].role) == 0 && !keep[k][0]) {
                        snprintf(keep[k], 72, "%s", id);
                        found = 1;
                    }
                if (found)
                    continue;
            }
            log_info("removing %s container %.12s (settings changed)", role ? role : "?", id);
            if (docker_remove(&m->docker, id, e)) {
                rc = -1;
                break;
            }
        }
    json_decref(list);
    return rc;
}

/* Creates the container, pulling its image when the engine lacks it, and
 * puts its files in. A name taken by a container of ours (left from an
 * interrupted run) is cleared; one taken by somebody else's is an error. */
static int create_container(struct manager *m, struct spec_container *sc, char id[72],
                            struct err *e)
{
    for (int attempt = 0;; attempt++) {
        if (docker_create(&m->docker, sc->name, sc->create, id, e) == 0)
            break;
        if (attempt >= 2)
            return -1;
        if (e->code == E_NO_SUCH_IMAGE) {
            if (ensure_image(m, sc->image, e))
                return -1;
            set_phase(m, "starting");
            continue;
        }
        if (e->code != E_CONFLICT)
            return -1;
        json_t *j = docker_inspect(&m->docker, sc->name, e);
        if (!j)
            return -1;
        const char *managed = label_of(json_object_get(j, "Config"), SPEC_LABEL_MANAGED);
        const char *cid = json_string_value(json_object_get(j, "Id"));
        int ours = managed && strcmp(managed, "true") == 0 && cid;
        int rc = ours ? docker_remove(&m->docker, cid, e) : 0;
        json_decref(j);
        if (!ours)
            return err_set(e, 409, E_NAME_TAKEN, NULL,
                           "a container named %s exists that Storj Registry did not create: "
                           "rename or remove it (docker rm -f %s), then press Start",
                           sc->name, sc->name);
        if (rc)
            return -1;
    }
    log_info("created %s container %.12s", sc->role, id);
    if (docker_put_archive(&m->docker, id, sc->tar.data, sc->tar.len, e)) {
        struct err ignored;
        docker_remove(&m->docker, id, &ignored);
        return -1;
    }
    return 0;
}

/* A container kept from an earlier run that was never started may have
 * missed its files (the backend was killed between create and upload):
 * put them in again, they replace what is there. */
static int configure_if_new(struct manager *m, const struct spec_container *sc, const char *id,
                            struct err *e)
{
    json_t *j = docker_inspect(&m->docker, id, e);
    if (!j)
        return -1;
    const char *st = json_string_value(json_object_get(json_object_get(j, "State"), "Status"));
    int fresh = st && strcmp(st, "created") == 0;
    json_decref(j);
    if (!fresh)
        return 0;
    log_info("%s container %.12s was never started: writing its configuration again", sc->role, id);
    return docker_put_archive(&m->docker, id, sc->tar.data, sc->tar.len, e);
}

static void last_log_line(struct manager *m, const char *id, char *out, size_t len);

/* 0 when the container is running; -1 (with its exit code and last log line
 * in e) when it stopped. */
static int still_running(struct manager *m, const char *id, const char *role, struct err *e)
{
    json_t *j = docker_inspect(&m->docker, id, e);
    if (!j)
        return -1;
    json_t *st = json_object_get(j, "State");
    int running = json_is_true(json_object_get(st, "Running"));
    int code = (int)json_integer_value(json_object_get(st, "ExitCode"));
    json_decref(j);
    if (running)
        return 0;
    char line[300];
    last_log_line(m, id, line, sizeof line);
    return err_set(e, 502, strcmp(role, "gateway") == 0 ? E_GATEWAY_EXITED : E_CONTAINER_EXITED,
                   NULL, "the %s container stopped at start (exit code %d)%s%s", role, code,
                   line[0] ? ": " : "", line);
}

/* ---- storage check ---------------------------------------------------------- */

/* Whether the settings' keys may create the bucket: a grant says so
 * offline (write, and the bucket is not outside its buckets); plain S3 keys
 * cannot be asked, so it is offered and tried. */
static int may_create_bucket(const struct settings *s)
{
    if (!s->access_grant || (s->mode != MODE_STORJ && s->mode != MODE_STORJ_HOSTED))
        return 1;
    struct grant_info *gi = grant_decode(s->access_grant, NULL);
    if (!gi)
        return 0;
    bool r, w, l, d;
    grant_allows(gi, &r, &w, &l, &d);
    int ok = w && s->bucket && grant_bucket_allowed(gi, s->bucket);
    grant_info_free(gi);
    return ok;
}

/* Records result as lastCheck (taking it) and, when it failed, fills e
 * with storage_check_failed and the failing step's message, hint with its
 * fix. Returns 0 when the check passed. */
static int record_check(struct manager *m, const struct settings *s, json_t *result, struct err *e,
                        char *hint, size_t hlen)
{
    char at[32];
    format_time_utc((long long)time(NULL), at, sizeof at);
    if (!result) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return -1;
    }
    json_object_set_new(result, "at", json_string(at));
    json_object_set_new(result, "mode", json_string(settings_mode_name(s->mode)));
    json_object_set_new(result, "bucket", s->bucket ? json_string(s->bucket) : json_null());
    int ok = json_is_true(json_object_get(result, "ok"));
    if (!ok) {
        size_t i;
        json_t *st;
        const char *msg = "the storage check failed", *fix = NULL;
        json_array_foreach(json_object_get(result, "steps"), i, st)
        {
            if (json_is_false(json_object_get(st, "ok"))) {
                msg = json_string_value(json_object_get(st, "message"));
                fix = json_string_value(json_object_get(st, "fix"));
                break;
            }
        }
        err_set(e, 424, E_STORAGE_CHECK_FAILED, NULL, "%s", msg ? msg : "");
        snprintf(hint, hlen, "%s", fix ? fix : "");
        log_warn("storage check failed (%s)",
                 json_string_value(json_object_get(result, "code"))
                     ? json_string_value(json_object_get(result, "code"))
                     : "?");
    } else {
        log_info("storage check passed (bucket %s)", s->bucket ? s->bucket : "?");
    }
    pthread_mutex_lock(&m->mu);
    json_decref(m->last_check);
    m->last_check = result;
    unlock_changed(m);
    return ok ? 0 : -1;
}

/* Checks s's storage through the path the registry uses: the S3 endpoint
 * (s3), the hosted gateway with the registered keys (storj-hosted), or
 * gw_endpoint, the gateway container's S3 port (storj). */
static int check_storage(struct manager *m, const struct settings *s, const char *gw_endpoint,
                         int create, struct err *e, char *hint, size_t hlen)
{
    struct s3check_target t = {0};
    char where[300];
    t.bucket = s->bucket ? s->bucket : "";
    t.create_bucket = create;
    t.can_create = may_create_bucket(s);
    if (s->mode == MODE_STORJ) {
        t.endpoint = gw_endpoint;
        t.region = SETTINGS_DEFAULT_REGION;
        t.access_key = s->gw_access_key;
        t.secret_key = s->gw_secret_key;
        /* the gateway opens the project before it serves S3 */
        t.connect_retry_s = GATEWAY_READY_S;
        snprintf(where, sizeof where, "the Storj gateway container");
    } else {
        t.endpoint = s->s3_endpoint ? s->s3_endpoint : SETTINGS_HOSTED_ENDPOINT;
        t.region = s->s3_region ? s->s3_region : SETTINGS_DEFAULT_REGION;
        t.access_key = s->s3_access_key ? s->s3_access_key : "";
        t.secret_key = s->s3_secret_key ? s->s3_secret_key : "";
        snprintf(where, sizeof where, "%s %s",
                 s->mode == MODE_STORJ_HOSTED ? "Storj's hosted gateway" : "the S3 endpoint",
                 t.endpoint);
    }
    t.where = where;
    return record_check(m, s, s3check_run(&t), e, hint, hlen);
}

/* The gateway container's S3 endpoint: 127.0.0.1:7777 in the host network,
 * else the loopback port Docker published 7777/tcp on. */
static int gateway_endpoint(struct manager *m, const char *id, char *out, size_t len, struct err *e)
{
    if (m->sopts.host_network) {
        snprintf(out, len, "http://%s", REGCONFIG_GATEWAY_ADDR);
        return 0;
    }
    json_t *j = docker_inspect(&m->docker, id, e);
    if (!j)
        return -1;
    json_t *ports = json_object_get(json_object_get(j, "NetworkSettings"), "Ports");
    json_t *b = json_array_get(json_object_get(ports, SPEC_GATEWAY_S3_PORT), 0);
    const char *hp = json_string_value(json_object_get(b, "HostPort"));
    int rc = 0;
    if (hp && *hp)
        snprintf(out, len, "http://127.0.0.1:%s", hp);
    else
        rc = err_set(e, 502, E_GATEWAY_PORT, NULL,
                     "the Storj gateway container has no published S3 port: press Restart");
    json_decref(j);
    return rc;
}

/* One failed step as a check result (for what fails before S3 is asked). */
static json_t *check_failure(const char *step, const char *message, const char *fix)
{
    json_t *steps = json_array();
    static const char *const ids[] = {"reach", "bucket", "write", "read", "list", "delete"};
    int seen = 0;
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        if (strcmp(ids[i], step) == 0) {
            seen = 1;
            json_array_append_new(steps, json_pack("{s:s, s:b, s:s, s:s}", "id", ids[i], "ok", 0,
                                                   "message", message, "fix", fix));
        } else {
            json_array_append_new(steps, json_pack("{s:s, s:n, s:s}", "id", ids[i], "ok", "message",
                                                   seen ? "Skipped." : "Not reached."));
        }
    }
    return json_pack("{s:b, s:o, s:b, s:s}", "ok", 0, "steps", steps, "canCreateBucket", 0, "code",
                     "check_failed");
}

static void run_check(struct manager *m)
{
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    char ids[2][72] = {{0}}, url[128], hint[S3CHECK_TEXT_MAX] = "";
    int started_gw = 0;
    memset(&set, 0, sizeof set);
    pthread_mutex_lock(&m->mu);
    int copied = settings_copy(&s, &m->settings);
    int create = m->check_create;
    int reg_running = m->reg.running;
    char reg_hash[65];
    snprintf(reg_hash, sizeof reg_hash, "%s", m->reg.hash);
    pthread_mutex_unlock(&m->mu);
    if (copied) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        job_fail(m, &e, NULL);
        return;
    }
    set_phase(m, "checking");
    if (s.mode == MODE_S3 || s.mode == MODE_STORJ_HOSTED) {
        check_storage(m, &s, NULL, create, &e, hint, sizeof hint);
        goto out;
    }
    if (s.mode != MODE_STORJ)
        goto out;
    if (spec_build(&s, &m->sopts, &set, &e)) {
        record_check(m, &s, check_failure("reach", e.message, "Complete the settings and save."),
                     &e, hint, sizeof hint);
        goto out;
    }
    if (reg_running && strcmp(reg_hash, set.hash) != 0) {
        /* the gateway of the registry that runs has the old settings: the
         * saved ones are checked by a restart (which checks first) */
        record_check(m, &s,
                     check_failure("reach",
                                   "The registry runs with other settings than the saved ones, "
                                   "so their gateway is not running yet.",
                                   "Press Restart: it checks the storage with the saved settings "
                                   "before the registry starts."),
                     &e, hint, sizeof hint);
        goto out;
    }
    if (remove_stale(m, set.hash, &set, ids, &e) ||
        (ids[0][0] ? configure_if_new(m, &set.c[0], ids[0], &e)
                   : create_container(m, &set.c[0], ids[0], &e))) {
        record_check(m, &s, check_failure("reach", e.message, "Logs may say more; try again."), &e,
                     hint, sizeof hint);
        goto out;
    }
    json_t *gw = docker_inspect(&m->docker, ids[0], &e);
    int gw_up = json_is_true(json_object_get(json_object_get(gw, "State"), "Running"));
    json_decref(gw);
    if (!gw_up) {
        if (docker_start(&m->docker, ids[0], &e)) {
            record_check(m, &s,
                         check_failure("reach", e.message,
                                       "Check the access grant (Logs show the gateway's reason)."),
                         &e, hint, sizeof hint);
            goto out;
        }
        started_gw = 1;
        log_info("started the gateway container %.12s for the storage check", ids[0]);
    }
    if (gateway_endpoint(m, ids[0], url, sizeof url, &e)) {
        record_check(m, &s, check_failure("reach", e.message, "Press Restart."), &e, hint,
                     sizeof hint);
        goto out;
    }
    check_storage(m, &s, url, create, &e, hint, sizeof hint);
out:
    /* a gateway started only for the check does not keep running */
    if (started_gw && !reg_running) {
        struct err ignored;
        docker_stop(&m->docker, ids[0], STOP_TIMEOUT_S, &ignored);
    }
    spec_free(&set);
    settings_free(&s);
}

/* Starts the registry with the saved settings, or (from_run) with those it
 * was started with last time, as garbage collection does. */
static void run_start(struct manager *m, int from_run)
{
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    char ids[2][72] = {{0}}, url[128], check_hint[S3CHECK_TEXT_MAX] = "";
    const char *hint = NULL;

    pthread_mutex_lock(&m->mu);
    int copied = settings_copy(&s, from_run && m->has_run ? &m->run : &m->settings);
    pthread_mutex_unlock(&m->mu);
    if (copied) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        job_fail(m, &e, NULL);
        return;
    }
    /* shown at once; written to the state file once the containers run */
    pthread_mutex_lock(&m->mu);
    m->settings.desired_running = 1;
    unlock_changed(m);
    memset(&set, 0, sizeof set);
    if (spec_build(&s, &m->sopts, &set, &e)) {
        goto fail;
    }
    /* the containers about to run know these: keep redacting them from
     * their logs even after the settings change */
    pthread_mutex_lock(&m->mu);
    const char *live[4] = {s.access_grant, s.s3_secret_key, s.gw_secret_key, s.gw_access_key};
    for (int i = 0; i < 4; i++) {
        secret_free(&m->live_secrets[i]);
        m->live_secrets[i] = xstrdup(live[i]);
    }
    pthread_mutex_unlock(&m->mu);
    set_phase(m, "starting");
    /* S3 modes: the storage must take what the registry does before it
     * starts (storj mode checks through its gateway, once that runs) */
    if ((s.mode == MODE_S3 || s.mode == MODE_STORJ_HOSTED) &&
        check_storage(m, &s, NULL, 0, &e, check_hint, sizeof check_hint)) {
        hint = check_hint;
        goto fail;
    }
    /* one look at what we own: keep what matches, remove what does not */
    if (remove_stale(m, set.hash, &set, ids, &e))
        goto fail;
    /* a registry kept running in the namespace of a gateway that stopped
     * would stay in that dead namespace: stop it so it joins the new one */
    if (set.count == 2 && ids[0][0] && ids[1][0]) {
        json_t *gw = docker_inspect(&m->docker, ids[0], &e);
        int gw_up = json_is_true(json_object_get(json_object_get(gw, "State"), "Running"));
        json_decref(gw);
        if (!gw_up && docker_stop(&m->docker, ids[1], STOP_TIMEOUT_S, &e) && e.status != 404)
            goto fail;
    }
    for (int i = 0; i < set.count; i++)
        if (ids[i][0] ? configure_if_new(m, &set.c[i], ids[i], &e)
                      : create_container(m, &set.c[i], ids[i], &e)) {
            goto fail;
        }
    for (int i = 0; i < set.count; i++) {
        if (docker_start(&m->docker, ids[i], &e))
            goto fail;
        log_info("started %s container %.12s", set.c[i].role, ids[i]);
        if (set.count == 2 && i == 0) {
            /* the registry joins the gateway's network namespace: the
             * gateway must be up and stay up */
            usleep(300 * 1000);
            if (still_running(m, ids[0], "gateway", &e))
                goto fail;
            /* the storage through the gateway, as the registry will use it */
            char gw_url[128];
            if (gateway_endpoint(m, ids[0], gw_url, sizeof gw_url, &e) ||
                check_storage(m, &s, gw_url, 0, &e, check_hint, sizeof check_hint)) {
                hint = e.code == E_STORAGE_CHECK_FAILED ? check_hint : NULL;
                struct err ignored;
                docker_stop(&m->docker, ids[0], STOP_TIMEOUT_S, &ignored);
                goto fail;
            }
        }
    }
    set_desired_running(m, 1); /* persisted now: the containers run */
    record_run(m, &s, set.hash);
    probe_url(&s, url, sizeof url);
    struct timespec began;
    clock_gettime(CLOCK_MONOTONIC, &began);
    for (unsigned round = 0;; round++) {
        if (registry_answers(url, 1000))
            break;
        /* a container that died will not answer: ask Docker now and then */
        for (int i = 0; round % 8 == 7 && i < set.count; i++)
            if (still_running(m, ids[i], set.c[i].role, &e))
                goto fail;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long waited_ms =
            (now.tv_sec - began.tv_sec) * 1000 + (now.tv_nsec - began.tv_nsec) / 1000000;
        if (waited_ms > MANAGER_HEALTH_TIMEOUT_S * 1000L) {
            err_set(&e, 504, E_HEALTH_TIMEOUT, NULL,
                    "the registry did not answer on %s within %d seconds", url,
                    MANAGER_HEALTH_TIMEOUT_S);
            goto fail;
        }
        pthread_mutex_lock(&m->mu);
        int stop = m->shutdown || m->cancel_start;
        pthread_mutex_unlock(&m->mu);
        if (stop)
            goto out;
        /* a registry is usually up within a few hundred ms: look often at first */
        usleep(waited_ms < 3000 ? 15 * 1000 : 100 * 1000);
    }
    log_info("registry answering on %s", url);
    goto out;
fail:
    if (e.code == E_CANCELLED) {
        log_info("start cancelled by a stop");
    } else {
        /* a start that failed is no wish to run: neither a later save nor
         * the next backend start may bring this registry up */
        set_desired_running(m, 0);
        job_fail(m, &e, hint);
    }
out:
    spec_free(&set);
    settings_free(&s);
}

static int stop_all(struct manager *m, struct err *e)
{
    json_t *list = docker_list(&m->docker, SPEC_LABEL_MANAGED "=true", e);
    if (!list)
        return -1;
    int rc = 0;
    size_t i;
    json_t *c;
    for (int pass = 0; pass < 2 && rc == 0; pass++)
        json_array_foreach(list, i, c)
        {
            const char *role = label_of(c, SPEC_LABEL_ROLE);
            const char *id = json_string_value(json_object_get(c, "Id"));
            int is_reg = role && strcmp(role, "registry") == 0;
            if (!id || is_reg != (pass == 0))
                continue;
            if (docker_stop(&m->docker, id, STOP_TIMEOUT_S, e) && e->status != 404) {
                rc = -1;
                break;
            }
            log_info("stopped %s container %.12s", role ? role : "?", id);
        }
    json_decref(list);
    return rc;
}

static void run_stop(struct manager *m)
{
    struct err e = {0};
    set_desired_running(m, 0);
    set_phase(m, "stopping");
    if (stop_all(m, &e))
        job_fail(m, &e, "Try again; if it persists, restart Docker.");
}

static void run_remove(struct manager *m, int purge)
{
    struct err e = {0};
    set_desired_running(m, 0);
    set_phase(m, "removing");
    if (remove_stale(m, NULL, NULL, NULL, &e)) {
        job_fail(m, &e, "Try again; if it persists, restart Docker.");
        return;
    }
    forget_run(m);
    if (purge) {
        if (docker_volume_remove(&m->docker, SPEC_VOLUME, &e)) {
            job_fail(m, &e, "Another container may use the volume storj-registry-data.");
            return;
        }
        log_info("removed the data volume %s", SPEC_VOLUME);
    }
}

/* The gc container: the registry's own spec, running garbage-collect once.
 * untagged: also delete manifests no tag names, which only distribution 3
 * does safely: 2.x deletes the platform manifests of a tagged multi-arch
 * index with them, and their layers. */
static json_t *gc_create(json_t *registry_create, int untagged)
{
    json_t *c = json_deep_copy(registry_create);
    if (!c)
        return NULL;
    json_object_set_new(
        c, "Cmd",
        untagged ? json_pack("[s, s, s]", "garbage-collect", "--delete-untagged", REGCONFIG_PATH)
                 : json_pack("[s, s]", "garbage-collect", REGCONFIG_PATH));
    json_object_del(c, "ExposedPorts");
    json_object_del(json_object_get(c, "HostConfig"), "PortBindings");
    json_object_set_new(json_object_get(c, "Labels"), SPEC_LABEL_ROLE, json_string("gc"));
    return c;
}

/* Keeps the summary line "12 blobs marked, 3 blobs and 1 manifests eligible
 * for deletion" (printed before one line per blob deleted). */
static void gc_line(void *ctx, enum demux_stream stream, const char *line, size_t len)
{
    char *out = ctx;
    if (len < 300 && memmem(line, len, "blobs marked", 12))
        snprintf(out, 300, "%.*s", (int)len, line);
}

/* Keeps the last non-empty line of "registry --version". */
static void version_line(void *ctx, enum demux_stream stream, const char *line, size_t len)
{
    if (len && len < 200)
        snprintf(ctx, 200, "%.*s", (int)len, line);
}

/* The major version of the registry image, from "registry --version" in a
 * one-shot container without network (the official images' entrypoint
 * prepends "registry" to an argument that starts with "-"); 0 when unknown. */
static int image_major(struct manager *m, json_t *gc)
{
    struct err e;
    char id[72] = "", out[200] = "";
    int code = -1, major = 0;
    json_t *c = json_deep_copy(gc);
    if (!c)
        return 0;
    json_object_set_new(c, "Cmd", json_pack("[s]", "--version"));
    json_object_del(json_object_get(c, "HostConfig"), "Mounts");
    json_object_set_new(json_object_get(c, "HostConfig"), "NetworkMode", json_string("none"));
    if (docker_create(&m->docker, GC_NAME, c, id, &e) == 0 &&
        docker_start(&m->docker, id, &e) == 0 && docker_wait(&m->docker, id, 30, &code, &e) == 0 &&
        code == 0 && docker_logs(&m->docker, id, 5, 0, version_line, out, NULL, &e) == 0)
        major = regversion_major(out, strlen(out));
    if (id[0])
        docker_remove(&m->docker, id, &e);
    json_decref(c);
    return major;
}

static void gc_done(struct manager *m, int ok, const char *message)
{
    pthread_mutex_lock(&m->mu);
    m->gc_at = (long long)time(NULL);
    m->gc_ok = ok;
    snprintf(m->gc_message, sizeof m->gc_message, "%s", message);
    unlock_changed(m);
}

/* Waits up to timeout_s for a container to exit, asking the engine every
 * 300 ms, so that a stop (cancel_start) or a shutdown ends the wait at once.
 * 0 with *code, or -1 with e (code "cancelled" when asked to give up). */
static int wait_exit(struct manager *m, const char *id, long timeout_s, int *code, struct err *e)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pthread_mutex_lock(&m->mu);
        int cancel = m->cancel_start || m->shutdown;
        pthread_mutex_unlock(&m->mu);
        if (cancel)
            return err_set(e, 499, E_CANCELLED, NULL, "the clean-up was cancelled by a stop");
        json_t *c = docker_inspect(&m->docker, id, e);
        if (!c)
            return -1;
        json_t *st = json_object_get(c, "State");
        json_t *ec = json_object_get(st, "ExitCode");
        int running = json_is_true(json_object_get(st, "Running"));
        int known = json_is_integer(ec) && json_is_boolean(json_object_get(st, "Running"));
        *code = (int)json_integer_value(ec);
        json_decref(c);
        if (!known)
            return err_set(e, 502, E_DOCKER_BAD_ANSWER, NULL,
                           "the Docker engine's answer about the clean-up container had no state");
        if (!running)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > timeout_s)
            return err_set(e, 504, E_GC_TIMEOUT, NULL, "the clean-up did not finish within %ld s",
                           timeout_s);
        usleep(300 * 1000);
    }
}

/* Stops the registry, runs garbage-collect on its storage in a one-shot
 * container with the same configuration, starts the registry again. The
 * registry must not take pushes meanwhile, hence the stop. */
static void run_gc(struct manager *m)
{
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    json_t *create = NULL;
    char id[72] = "", summary[300] = "", msg[400];
    int code = -1, stopped = 0;
    memset(&set, 0, sizeof set);
    char reg_id[72];
    pthread_mutex_lock(&m->mu);
    /* the configuration the registry runs with, even when other settings
     * were saved since (they wait for a restart) */
    const struct settings *eff = effective_locked(m);
    int from_run = eff == &m->run;
    int copied = settings_copy(&s, eff);
    int running = m->reg.running;
    snprintf(reg_id, sizeof reg_id, "%s", m->reg.id);
    pthread_mutex_unlock(&m->mu);
    if (copied) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        job_fail(m, &e, NULL);
        return;
    }
    if (!running) {
        err_set(&e, 409, E_REGISTRY_NOT_RUNNING, NULL,
                "start the registry first: clean-up runs on a registry that is up");
        goto fail;
    }
    if (spec_build(&s, &m->sopts, &set, &e))
        goto fail;
    struct spec_container *r = &set.c[set.count - 1];
    set_phase(m, "collecting");
    create = gc_create(r->create, 1);
    if (!create) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto fail;
    }
    /* a leftover of an interrupted run, if it is ours */
    json_t *old = docker_inspect(&m->docker, GC_NAME, &e);
    const char *managed = label_of(json_object_get(old, "Config"), SPEC_LABEL_MANAGED);
    if (old && managed && strcmp(managed, "true") == 0)
        docker_remove(&m->docker, json_string_value(json_object_get(old, "Id")), &e);
    json_decref(old);
    /* unknown is taken as 3, the default image */
    int major = image_major(m, create);
    int untagged = major == 0 || major >= 3;
    if (!untagged) {
        json_decref(create);
        create = gc_create(r->create, 0);
        if (!create) {
            err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
            goto fail;
        }
    }
    if (docker_stop(&m->docker, reg_id, STOP_TIMEOUT_S, &e))
        goto fail;
    stopped = 1;
    if (docker_create(&m->docker, GC_NAME, create, id, &e) ||
        docker_put_archive(&m->docker, id, r->tar.data, r->tar.len, &e) ||
        docker_start(&m->docker, id, &e) || wait_exit(m, id, GC_TIMEOUT_S, &code, &e))
        goto fail;
    docker_logs(&m->docker, id, 200, 0, gc_line, summary, NULL, &e);
    if (code != 0) {
        char line[300];
        last_log_line(m, id, line, sizeof line);
        err_set(&e, 502, E_GC_FAILED, NULL, "clean-up stopped with exit code %d%s%s", code,
                line[0] ? ": " : "", line);
        goto fail;
    }
    snprintf(msg, sizeof msg, "%s%s", summary[0] ? summary : "clean-up finished",
             untagged ? ""
                      : "; untagged manifests kept (registry 2.x would delete the platforms of "
                        "multi-arch images)");
    log_info("garbage collection: %s", msg);
    gc_done(m, 1, msg);
    docker_remove(&m->docker, id, &e);
    spec_free(&set);
    json_decref(create);
    settings_free(&s);
    run_start(m, from_run); /* the same container again, then wait until it answers */
    return;
fail:
    /* a clean-up that failed or was cancelled says so in lastGc; the
     * registry's own state is not its to change */
    gc_done(m, 0, e.message);
    if (id[0]) {
        struct err ignored;
        docker_remove(&m->docker, id, &ignored);
    }
    spec_free(&set);
    json_decref(create);
    settings_free(&s);
    pthread_mutex_lock(&m->mu);
    int cancelled = m->cancel_start || m->shutdown;
    pthread_mutex_unlock(&m->mu);
    if (stopped && !cancelled)
        run_start(m, from_run); /* back up as it was; a stop that cancelled us runs next */
}

static void *worker_main(void *arg)
{
    struct manager *m = arg;
    pthread_mutex_lock(&m->mu);
    for (;;) {
        while (!m->shutdown && m->pending == JOB_NONE)
            pthread_cond_wait(&m->job_cv, &m->mu);
        if (m->shutdown)
            break;
        enum manager_job job = m->pending;
        int purge = m->pending_purge;
        m->pending = JOB_NONE;
        m->running_job = job;
        m->cancel_start = 0;
        /* a storage check reports in lastCheck and leaves a failed start's
         * error in place */
        if (job != JOB_CHECK) {
            m->job_failed = 0;
            m->job_hint[0] = '\0';
        }
        pthread_cond_signal(&m->monitor_cv);
        unlock_changed(m);

        struct err ne;
        if (!docker_negotiated(&m->docker) && docker_negotiate(&m->docker, &ne))
            log_warn("Docker engine unreachable before a job: %s", ne.message);
        switch (job) {
        case JOB_START:
            run_start(m, 0);
            break;
        case JOB_STOP:
            run_stop(m);
            break;
        case JOB_RESTART:
            run_stop(m);
            if (!m->job_failed)
                run_start(m, 0);
            break;
        case JOB_REMOVE:
            run_remove(m, purge);
            break;
        case JOB_GC:
            run_gc(m);
            break;
        case JOB_CHECK:
            run_check(m);
            break;
        case JOB_NONE:
            break;
        }
        pthread_mutex_lock(&m->mu);
        int stopping = m->shutdown;
        pthread_mutex_unlock(&m->mu);
        if (!stopping)
            observe(m);

        pthread_mutex_lock(&m->mu);
        m->running_job = JOB_NONE;
        m->phase = NULL;
        m->gen++;
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- public ---------------------------------------------------------------- */

/* A settings file that cannot be used must not stop the daemon (in Desktop
 * that is a restart loop and a tab that only says "unreachable"): it is
 * renamed aside (0600, it may hold secrets), status says so, and the
 * backend runs with defaults. 0, or -1 when even that fails. */
static int keep_bad_settings(struct manager *m, struct err *e)
{
    char aside[PATH_MAX + 32];
    if (e->code != E_STATE_CORRUPT && e->code != E_STATE_UNREADABLE)
        return -1;
    snprintf(aside, sizeof aside, "%s.bad-%lld", m->settings_path, (long long)time(NULL));
    if (rename(m->settings_path, aside)) {
        err_set(e, 500, E_STATE_UNUSABLE, NULL, "cannot move the unusable settings file aside: %s",
                strerror(errno));
        return -1;
    }
    chmod(aside, 0600);
    log_warn("settings file unusable (%s): kept as %s, running with defaults", ecode_name(e->code),
             aside);
    snprintf(m->settings_problem, sizeof m->settings_problem, "%s", e->message);
    const char *base = strrchr(aside, '/');
    snprintf(m->settings_kept_as, sizeof m->settings_kept_as, "%.95s", base ? base + 1 : aside);
    settings_free(&m->settings);
    if (settings_init(&m->settings))
        return err_set(e, 500, E_NO_MEMORY, NULL, "cannot initialise");
    return 0;
}

struct manager *manager_new(const struct manager_opts *o, struct err *e)
{
    struct manager *m = calloc(1, sizeof *m);
    if (!m) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->put_mu, NULL);
    pthread_mutex_init(&m->save_mu, NULL);
    pthread_cond_init(&m->job_cv, NULL);
    /* the monitor's timed waits run on the monotonic clock: a wall clock
     * set back must not stop it */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->monitor_cv, &ca);
    pthread_condattr_destroy(&ca);
    m->reg_image = xstrdup(o->spec.registry_image);
    m->gw_image = xstrdup(o->spec.gateway_image);
    m->native_image = xstrdup(o->spec.native_image);
    m->sopts.registry_image = m->reg_image;
    m->sopts.gateway_image = m->gw_image;
    m->sopts.native_image = m->native_image;
    m->sopts.host_network = o->spec.host_network;
    m->interval_ms = o->monitor_interval_ms > 0 ? o->monitor_interval_ms : 2000;
    m->containers = json_array();
    if (snprintf(m->settings_path, sizeof m->settings_path, "%s/settings.json", o->state_dir) >=
            (int)sizeof m->settings_path ||
        snprintf(m->running_path, sizeof m->running_path, "%s/running.json", o->state_dir) >=
            (int)sizeof m->running_path) {
        err_set(e, 500, E_BAD_OPTION, NULL, "the state folder path is too long");
        goto fail;
    }
    if (docker_init(&m->docker, o->docker_socket) || settings_init(&m->settings)) {
        err_set(e, 500, E_NO_MEMORY, NULL, "cannot initialise");
        goto fail;
    }
    /* a save the process died in leaves its temporary copy: not a file to
     * keep (it may hold secrets), and the settings file is whole */
    int temps = settings_remove_temps(m->settings_path);
    if (temps)
        log_warn("removed %d temporary settings file(s) left by an interrupted save", temps);
    if (settings_load(m->settings_path, &m->settings, e) && keep_bad_settings(m, e))
        goto fail;
    m->desired_on_disk = m->settings.desired_running;
    compute_desired_hash(m);
    /* what the containers were started with, if they were */
    if (access(m->running_path, F_OK) == 0) {
        struct err re = {0};
        struct spec_set rs;
        memset(&rs, 0, sizeof rs);
        if (settings_init(&m->run) == 0 && settings_load(m->running_path, &m->run, &re) == 0 &&
            spec_build(&m->run, &m->sopts, &rs, &re) == 0) {
            m->has_run = 1;
            snprintf(m->run_hash, sizeof m->run_hash, "%s", rs.hash);
        } else {
            log_warn("ignoring running.json: %s", re.message);
            settings_free(&m->run);
        }
        spec_free(&rs);
    }
    /* one look at Docker before serving, so that the first status answer
     * is already true (a missing engine answers at once) */
    observe(m);
    if (pthread_create(&m->worker, NULL, worker_main, m)) {
        err_set(e, 500, E_THREAD, NULL, "cannot start the worker thread");
        goto fail;
    }
    if (pthread_create(&m->monitor, NULL, monitor_main, m)) {
        pthread_mutex_lock(&m->mu);
        m->shutdown = 1;
        pthread_cond_broadcast(&m->job_cv);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->worker, NULL);
        err_set(e, 500, E_THREAD, NULL, "cannot start the monitor thread");
        goto fail;
    }
    return m;
fail:
    settings_free(&m->settings);
    if (m->has_run)
        settings_free(&m->run);
    if (m->docker.socket)
        docker_cleanup(&m->docker);
    json_decref(m->containers);
    free(m->reg_image);
    free(m->gw_image);
    free(m->native_image);
    free(m);
    return NULL;
}

void manager_free(struct manager *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->shutdown = 1;
    pthread_cond_broadcast(&m->job_cv);
    pthread_cond_broadcast(&m->monitor_cv);
    pthread_mutex_unlock(&m->mu);
    docker_cancel(&m->docker); /* a pull or a clean-up in flight ends now */
    pthread_join(m->worker, NULL);
    pthread_join(m->monitor, NULL);
    settings_free(&m->settings);
    if (m->has_run)
        settings_free(&m->run);
    docker_cleanup(&m->docker);
    json_decref(m->containers);
    json_decref(m->last_check);
    for (int i = 0; i < 4; i++)
        secret_free(&m->live_secrets[i]);
    free(m->status_text);
    free(m->reg_image);
    free(m->gw_image);
    free(m->native_image);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->put_mu);
    pthread_mutex_destroy(&m->save_mu);
    pthread_cond_destroy(&m->job_cv);
    pthread_cond_destroy(&m->monitor_cv);
    free(m);
}

/* The status's error object; the hint is the table's for the code unless
 * the case has its own (a storage check's fix). */
static json_t *error_json(enum ecode code, const char *message, const char *hint)
{
    const char *name = ecode_name(code);
    if (!hint || !*hint)
        hint = ecode_hint(code);
    return json_pack("{s:s, s:s, s:s?}", "code", name ? name : "error", "message", message, "hint",
                     hint);
}

/* "localhost:9999" and the like: where docker push goes for s. */
static void endpoint_of(const struct settings *s, char *out, size_t len)
{
    if (strchr(s->bind, ':'))
        snprintf(out, len, "[%s]:%d", s->bind, s->port);
    else if (strcmp(s->bind, "127.0.0.1") == 0 || strcmp(s->bind, "0.0.0.0") == 0)
        snprintf(out, len, "localhost:%d", s->port);
    else
        snprintf(out, len, "%s:%d", s->bind, s->port);
}

/* {"endpoint","mode","fields":[...]}: the saved settings that wait for a
 * restart, and which settings differ from those that run (run == saved
 * when what runs is not known: no field is named then). */
static json_t *pending_change(const struct settings *run, const struct settings *saved)
{
    char endpoint[96];
    endpoint_of(saved, endpoint, sizeof endpoint);
    json_t *fields = json_array();
    if (run != saved) {
        if (run->mode != saved->mode)
            json_array_append_new(fields, json_string("mode"));
        if (run->port != saved->port)
            json_array_append_new(fields, json_string("port"));
        if (strcmp(run->bind, saved->bind) != 0)
            json_array_append_new(fields, json_string("bind"));
        if (!str_eq(run->bucket, saved->bucket))
            json_array_append_new(fields, json_string("bucket"));
        if (!str_eq(run->access_grant, saved->access_grant))
            json_array_append_new(fields, json_string("accessGrant"));
        if (!str_eq(run->s3_endpoint, saved->s3_endpoint) ||
            !str_eq(run->s3_region, saved->s3_region) ||
            !str_eq(run->s3_access_key, saved->s3_access_key) ||
            !str_eq(run->s3_secret_key, saved->s3_secret_key))
            json_array_append_new(fields, json_string("s3"));
        if (settings_unencrypted_applies(run) != settings_unencrypted_applies(saved))
            json_array_append_new(fields, json_string("unencryptedKeys"));
    }
    return json_pack("{s:s, s:s, s:o}", "endpoint", endpoint, "mode",
                     settings_mode_name(saved->mode), "fields", fields);
}

/* The status object from the fields under m->mu (held by the caller). */
static json_t *status_locked(struct manager *m)
{
    char api[16], ver[64], endpoint[96], exitmsg[200];
    docker_versions(&m->docker, api, sizeof api, ver, sizeof ver);
    /* what runs (or ran last), not what is saved */
    const struct settings *s = effective_locked(m);
    const char *state;
    json_t *error = NULL;
    int busy = m->running_job != JOB_NONE || m->pending != JOB_NONE;

    if (m->phase && strcmp(m->phase, "pulling") == 0)
        state = "pulling";
    else if (m->pending == JOB_START || m->pending == JOB_RESTART || m->running_job == JOB_START ||
             m->running_job == JOB_RESTART)
        state = "starting";
    else if (!m->observed_once)
        state = "starting";
    else if (!m->docker_ok) {
        state = "failed";
        error = error_json(m->docker_err.code ? m->docker_err.code : E_DOCKER_UNREACHABLE,
                           m->docker_err.message, ecode_hint(E_DOCKER_UNREACHABLE));
    } else if (m->job_failed) {
        state = "failed";
        error = error_json(m->job_err.code, m->job_err.message, m->job_hint);
    } else if (m->reg.running) {
        state = m->reg_healthy || busy ? "running" : "unhealthy";
        if (!m->reg_healthy && !busy && m->reg_http == 503)
            /* distribution's storage health check failed */
            error = error_json(E_STORAGE_UNREACHABLE,
                               "the registry runs but cannot reach its storage", NULL);
        else if (!m->reg_healthy && !busy)
            error = error_json(E_REGISTRY_UNHEALTHY,
                               "the registry container runs but does not "
                               "answer on its port",
                               NULL);
        if (m->gw.exists && !m->gw.running && !busy) {
            state = "unhealthy";
            json_decref(error);
            error =
                error_json(E_GATEWAY_STOPPED, "the Storj gateway container is not running", NULL);
        }
    } else if (m->settings.desired_running && !busy) {
        state = "failed";
        if (m->reg.exists) {
            snprintf(exitmsg, sizeof exitmsg,
                     "the registry container stopped outside Storj Registry (exit code %d)",
                     m->reg.exit_code);
            error = error_json(E_CONTAINER_EXITED, exitmsg, NULL);
        } else {
            error = error_json(E_CONTAINER_REMOVED,
                               "the registry container was removed outside Storj Registry", NULL);
        }
    } else if (!m->settings.saved && !m->reg.exists) {
        state = "not-configured";
    } else {
        state = "stopped";
    }

    endpoint_of(s, endpoint, sizeof endpoint);

    json_t *progress = json_null();
    if (m->prog_image[0])
        progress = json_pack("{s:s, s:I, s:I}", "image", m->prog_image, "current",
                             (json_int_t)m->prog_cur, "total", (json_int_t)m->prog_total);
    const char *job = m->running_job == JOB_START     ? "start"
                      : m->running_job == JOB_STOP    ? "stop"
                      : m->running_job == JOB_RESTART ? "restart"
                      : m->running_job == JOB_REMOVE  ? "remove"
                      : m->running_job == JOB_GC      ? "gc"
                      : m->running_job == JOB_CHECK   ? "check"
                                                      : NULL;
    int pending_restart = m->reg.exists && m->reg.hash[0] && m->desired_hash[0] &&
                          strcmp(m->reg.hash, m->desired_hash) != 0;
    json_t *st = json_pack(
        "{s:s, s:s, s:s, s:b, s:o, s:o, s:{s:b, s:s?, s:s?}, s:O, s:s?, s:b, s:b}", "state", state,
        "mode", settings_mode_name(s->mode), "endpoint", endpoint, "configured", m->settings.saved,
        "progress", progress, "error", error ? error : json_null(), "docker", "reachable",
        m->docker_ok, "version", ver[0] ? ver : NULL, "apiVersion", api[0] ? api : NULL,
        "containers", m->containers, "job", job, "pendingRestart", pending_restart,
        "desiredRunning", m->settings.desired_running);
    if (st)
        json_object_set(st, "lastCheck", m->last_check ? m->last_check : json_null());
    if (st)
        json_object_set_new(st, "pendingChange",
                            pending_restart ? pending_change(s, &m->settings) : json_null());
    if (st && m->gc_at) {
        char at[32];
        format_time_utc(m->gc_at, at, sizeof at);
        json_object_set_new(
            st, "lastGc",
            json_pack("{s:s, s:b, s:s}", "at", at, "ok", m->gc_ok, "message", m->gc_message));
    }
    if (st && m->settings_problem[0])
        json_object_set_new(
            st, "settingsProblem",
            json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", "settings_reset", "keptAs",
                      m->settings_kept_as, "message",
                      "the saved settings could not be read, so the backend started with defaults",
                      "detail", m->settings_problem, "hint",
                      "Enter your settings again and save them. The unreadable file is kept, "
                      "under the name in keptAs, in the extension's state folder."));
    return st;
}

json_t *manager_status(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    json_t *st = status_locked(m);
    pthread_mutex_unlock(&m->mu);
    return st;
}

char *manager_status_text(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    if (!m->status_text || m->status_gen != m->gen) {
        json_t *st = status_locked(m);
        char *text = st ? json_dumps(st, JSON_COMPACT) : NULL;
        json_decref(st);
        if (text) {
            free(m->status_text);
            m->status_text = text;
            m->status_gen = m->gen;
        }
    }
    char *copy = m->status_text ? strdup(m->status_text) : NULL;
    pthread_mutex_unlock(&m->mu);
    return copy;
}

json_t *manager_settings(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    json_t *j = settings_public_json(&m->settings);
    pthread_mutex_unlock(&m->mu);
    return j;
}

/* The grant's offline report for a registry in mode: the report of
 * grant.h, "registry" (readiness.h), "suggestedBucket", and "warnings"
 * narrowed to what matters in that mode. NULL with e for a bad grant. */
static json_t *grant_verdict(const char *grant, const char *bucket, enum mode mode, int unencrypted,
                             struct err *e)
{
    struct grant_error ge = {0};
    struct grant_info *gi = grant_decode(grant, &ge);
    if (!gi) {
        err_set(e, 400, ge.code ? ge.code : E_INVALID_GRANT, "accessGrant", "%s", ge.message);
        return NULL;
    }
    json_t *r = grant_report(gi, bucket && *bucket ? bucket : NULL, time(NULL));
    grant_info_free(gi);
    json_t *v = r ? readiness_verdict(r, mode, bucket, unencrypted) : NULL;
    if (!v) {
        json_decref(r);
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }
    const char *one = readiness_suggested_bucket(r);
    json_object_set_new(r, "suggestedBucket", one ? json_string(one) : json_null());
    json_object_set_new(r, "warnings", readiness_warnings(v));
    json_object_set_new(r, "registry", v);
    return r;
}

json_t *manager_put_settings(struct manager *m, json_t *body, struct err *e)
{
    struct settings next;
    struct authsvc_creds creds = {0};
    json_t *out = NULL;
    json_t *verdict = NULL;
    struct settings cur;
    pthread_mutex_lock(&m->put_mu);
    /* validation (grant decodes included) works on a copy, outside m->mu:
     * only PUTs change the saved fields, and they are serialised by put_mu */
    pthread_mutex_lock(&m->mu);
    int rc = settings_copy(&cur, &m->settings);
    pthread_mutex_unlock(&m->mu);
    if (rc) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        pthread_mutex_unlock(&m->put_mu);
        return NULL;
    }
    rc = settings_merge(&cur, body, &next, e);
    settings_free(&cur);
    if (rc)
        goto out;

    if (next.mode == MODE_STORJ_HOSTED && next.access_grant &&
        (!next.s3_access_key || !next.s3_secret_key)) {
        const char *svc = next.auth_service ? next.auth_service : SETTINGS_AUTH_SERVICE;
        char *outgoing = NULL;
        /* with unencryptedKeys the hosted gateway gets the copy with
         * unencrypted object keys: its listings are then served fast */
        if (settings_outgoing_grant(&next, &outgoing, e))
            goto out;
        log_info("registering the access grant%s with the Auth Service at %s",
                 settings_unencrypted_applies(&next) ? " (unencrypted object keys)" : "", svc);
        rc = authsvc_register(svc, outgoing, &creds, e);
        secret_free(&outgoing);
        if (rc)
            goto out;
        free(next.s3_access_key);
        secret_free(&next.s3_secret_key);
        next.s3_access_key = creds.access_key;
        next.s3_secret_key = creds.secret_key;
        creds.access_key = creds.secret_key = NULL;
        next.s3_keys_from_grant = 1;
        if (!next.s3_endpoint && creds.endpoint && settings_url_valid(creds.endpoint)) {
            next.s3_endpoint = creds.endpoint;
            creds.endpoint = NULL;
        }
        log_info("the Auth Service issued S3 credentials");
    }

    /* the grant's verdict for the answer, before any lock */
    if (next.access_grant) {
        struct err ignored;
        verdict = grant_verdict(next.access_grant, next.bucket, next.mode, next.unencrypted_keys,
                                &ignored);
    }
    /* the file is written (fsync) outside m->mu; save_mu keeps the order of
     * writers (see set_desired_running) */
    pthread_mutex_lock(&m->save_mu);
    pthread_mutex_lock(&m->mu);
    next.desired_running = m->settings.desired_running;
    pthread_mutex_unlock(&m->mu);
    if (settings_save(m->settings_path, &next, e)) {
        pthread_mutex_unlock(&m->save_mu);
        goto out;
    }
    enum mode saved_mode = next.mode;
    pthread_mutex_lock(&m->mu);
    settings_free(&m->settings);
    m->settings = next;
    m->desired_on_disk = next.desired_running;
    memset(&next, 0, sizeof next);
    compute_desired_hash(m);
    out = settings_public_json(&m->settings);
    unlock_changed(m);
    pthread_mutex_unlock(&m->save_mu);
    json_object_set_new(out, "warnings",
                        verdict ? json_incref(json_object_get(verdict, "warnings")) : json_array());
    json_object_set_new(out, "registry",
                        verdict ? json_incref(json_object_get(verdict, "registry")) : json_null());
    log_info("settings saved (mode %s)", settings_mode_name(saved_mode));
out:
    json_decref(verdict);
    settings_free(&next);
    authsvc_creds_free(&creds);
    pthread_mutex_unlock(&m->put_mu);
    return out;
}

int manager_submit(struct manager *m, enum manager_job job, int purge, struct err *e)
{
    int rc = 0;
    pthread_mutex_lock(&m->mu);
    if (m->observed_once && !m->docker_ok) {
        rc = err_set(e, 503, E_DOCKER_UNREACHABLE, NULL,
                     "the Docker engine does not answer: %s. Start Docker and try again",
                     m->docker_err.message);
    } else if (job == JOB_START && (m->pending == JOB_START ||
                                    (m->pending == JOB_NONE && (m->running_job == JOB_START ||
                                                                m->running_job == JOB_RESTART)))) {
        /* already on its way: starting twice is starting once (but a start
         * after a queued stop is a start again) */
    } else if (job == JOB_GC && (m->pending != JOB_NONE || m->running_job != JOB_NONE)) {
        rc = err_set(e, 409, E_BUSY, NULL,
                     "another operation is running: clean up when it has finished");
    } else if (job == JOB_GC && !(m->reg.running && m->reg_healthy)) {
        rc = err_set(e, 409, E_REGISTRY_NOT_RUNNING, NULL,
                     "the clean-up runs on a running registry: start it first");
    } else {
        m->pending = job;
        m->pending_purge = purge;
        /* stopping wins over a start in progress (a long pull, a registry
         * that does not come up) and over a clean-up: the job gives up,
         * then the stop runs */
        if ((job == JOB_STOP || job == JOB_REMOVE) &&
            (m->running_job == JOB_START || m->running_job == JOB_RESTART ||
             m->running_job == JOB_GC))
            m->cancel_start = 1;
        pthread_cond_signal(&m->job_cv);
        m->gen++;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int manager_check(struct manager *m, int create_bucket, struct err *e)
{
    int rc = 0;
    pthread_mutex_lock(&m->mu);
    enum mode mode = m->settings.mode;
    if (mode == MODE_LOCAL || mode == MODE_STORJ_NATIVE) {
        rc = err_set(e, 409, E_NOT_APPLICABLE, NULL,
                     "the storage check is for the S3 modes; \"%s\" needs none",
                     readiness_mode_label(mode));
    } else if (m->observed_once && !m->docker_ok && mode == MODE_STORJ) {
        rc = err_set(e, 503, E_DOCKER_UNREACHABLE, NULL,
                     "the Docker engine does not answer: %s. Start Docker and try again",
                     m->docker_err.message);
    } else if (m->pending != JOB_NONE || m->running_job != JOB_NONE) {
        rc = err_set(e, 409, E_BUSY, NULL,
                     "another operation is running: check again when it has finished");
    } else {
        m->pending = JOB_CHECK;
        m->check_create = create_bucket;
        pthread_cond_signal(&m->job_cv);
        m->gen++;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

struct log_ctx {
    json_t *lines;
    const char *role;
    const char *const *secrets;
    int nsecrets;
    struct buf tmp;
};

#define NSECRETS 8

/* Copies every secret a container's output may show: those of the settings
 * and those the running containers were created with. Caller holds m->mu;
 * 0, or -1 (nothing copied) when memory ran out. */
static int copy_secrets(struct manager *m, char *out[NSECRETS])
{
    const char *src[NSECRETS] = {m->settings.access_grant,  m->settings.s3_secret_key,
                                 m->settings.gw_secret_key, m->settings.gw_access_key,
                                 m->live_secrets[0],        m->live_secrets[1],
                                 m->live_secrets[2],        m->live_secrets[3]};
    for (int i = 0; i < NSECRETS; i++) {
        out[i] = xstrdup(src[i]);
        if (src[i] && !out[i]) {
            while (i-- > 0)
                secret_free(&out[i]);
            return -1;
        }
    }
    return 0;
}

static void free_secrets(char *s[NSECRETS])
{
    for (int i = 0; i < NSECRETS; i++)
        secret_free(&s[i]);
}

static void collect_line(void *ctx, enum demux_stream stream, const char *line, size_t len)
{
    struct log_ctx *lc = ctx;
    buf_reset(&lc->tmp);
    if (str_redact(&lc->tmp, line, len, lc->secrets, lc->nsecrets))
        return;
    str_utf8_clean(lc->tmp.data, lc->tmp.len); /* JSON strings must be UTF-8 */
    json_array_append_new(lc->lines, json_pack("{s:s, s:s, s:s%}", "container", lc->role, "stream",
                                               stream == DEMUX_STDERR ? "stderr" : "stdout", "text",
                                               lc->tmp.data ? lc->tmp.data : "", lc->tmp.len));
}

/* The line of the container's last words that best says why it stopped: a
 * panic or fatal line (Go prints its stack trace after it), else the last
 * line with "error", else the last line. Secrets redacted. */
static void last_log_line(struct manager *m, const char *id, char *out, size_t len)
{
    static const char *const marks[] = {"panic:", "level=fatal", "fatal", "error", "Error"};
    struct err e;
    json_t *logs = json_array();
    pthread_mutex_lock(&m->mu);
    char *copies[NSECRETS];
    int copied = copy_secrets(m, copies);
    pthread_mutex_unlock(&m->mu);
    struct log_ctx lc = {
        .lines = logs, .role = "", .secrets = (const char *const *)copies, .nsecrets = NSECRETS};
    out[0] = '\0';
    if (copied == 0 && docker_logs(&m->docker, id, 60, 0, collect_line, &lc, NULL, &e) == 0) {
        const char *best = NULL;
        size_t n = json_array_size(logs);
        for (size_t k = 0; k < sizeof marks / sizeof *marks && !best; k++)
            for (size_t i = n; i-- > 0 && !best;) {
                const char *t = json_string_value(json_object_get(json_array_get(logs, i), "text"));
                if (t && strstr(t, marks[k]))
                    best = t;
            }
        for (size_t i = n; i-- > 0 && !best;) {
            const char *t = json_string_value(json_object_get(json_array_get(logs, i), "text"));
            if (t && *t)
                best = t;
        }
        if (best) {
            while (*best == ' ' || *best == '\t')
                best++;
            snprintf(out, len, "%s", best);
        }
    }
    if (copied == 0)
        free_secrets(copies);
    buf_free(&lc.tmp);
    json_decref(logs);
}

json_t *manager_logs(struct manager *m, int tail, struct err *e)
{
    char ids[2][72], *copies[NSECRETS];
    const char *roles[2] = {"gateway", "registry"};
    pthread_mutex_lock(&m->mu);
    snprintf(ids[0], sizeof ids[0], "%s", m->gw.exists ? m->gw.id : "");
    snprintf(ids[1], sizeof ids[1], "%s", m->reg.exists ? m->reg.id : "");
    int copied = copy_secrets(m, copies);
    int ok = m->docker_ok;
    pthread_mutex_unlock(&m->mu);
    if (copied) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }

    json_t *lines = json_array(), *out = NULL;
    struct log_ctx lc = {
        .lines = lines, .secrets = (const char *const *)copies, .nsecrets = NSECRETS};
    if (!ok) {
        err_set(e, 503, E_DOCKER_UNREACHABLE, NULL,
                "the Docker engine does not answer: start Docker and try again");
        goto out;
    }
    int truncated = 0;
    for (int i = 0; i < 2; i++) {
        int cut = 0;
        if (!ids[i][0])
            continue;
        lc.role = roles[i];
        if (docker_logs(&m->docker, ids[i], tail, 0, collect_line, &lc, &cut, e) &&
            e->status != 404)
            goto out;
        truncated |= cut;
    }
    out = json_pack("{s:O, s:b}", "lines", lines, "truncated", truncated);
out:
    free_secrets(copies);
    buf_free(&lc.tmp);
    json_decref(lines);
    return out;
}

/* The registry's base URL when it runs, else a 409 in e. */
static int registry_base(struct manager *m, char *base, size_t len, struct err *e)
{
    char url[128];
    pthread_mutex_lock(&m->mu);
    int up = m->reg.running && m->reg_healthy && m->running_job == JOB_NONE;
    probe_url(effective_locked(m), url, sizeof url);
    pthread_mutex_unlock(&m->mu);
    if (!up)
        return err_set(e, 409, E_REGISTRY_NOT_RUNNING, NULL,
                       "the registry is not running: start it to see and manage its images");
    snprintf(base, len, "%.*s", (int)(strlen(url) - 4), url); /* without "/v2/" */
    return 0;
}

json_t *manager_repositories(struct manager *m, const char *offset, const char *limit,
                             struct err *e)
{
    char base[128];
    if (registry_base(m, base, sizeof base, e))
        return NULL;
    return browse_repositories(base, offset, limit, e);
}

int manager_delete_image(struct manager *m, const char *name, const char *digest, struct err *e)
{
    char base[128];
    if (registry_base(m, base, sizeof base, e))
        return -1;
    if (browse_delete(base, name, digest, e))
        return -1;
    log_info("deleted an image of repository %s", name);
    return 0;
}

json_t *manager_inspect_grant(struct manager *m, const char *grant, const char *bucket,
                              const char *mode, int unencrypted, struct err *e)
{
    char *g = NULL, *b = NULL;
    enum mode md;
    if (mode && settings_mode_parse(mode, &md)) {
        err_set(e, 400, E_INVALID_VALUE, "mode",
                "mode must be one of local, s3, storj, storj-hosted, storj-native");
        return NULL;
    }
    pthread_mutex_lock(&m->mu);
    g = xstrdup(grant ? grant : m->settings.access_grant);
    b = xstrdup(bucket ? bucket : m->settings.bucket);
    if (!mode)
        md = m->settings.mode;
    if (unencrypted < 0)
        unencrypted = m->settings.unencrypted_keys;
    pthread_mutex_unlock(&m->mu);
    json_t *r = NULL;
    if (!g) {
        err_set(e, 400, E_MISSING_FIELD, "accessGrant",
                "no access grant given and none saved: paste one");
        goto out;
    }
    r = grant_verdict(g, b, md, unencrypted, e);
out:
    secret_free(&g);
    free(b);
    return r;
}
