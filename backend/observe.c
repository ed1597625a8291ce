/* Layer 2 of the manager: observation. The monitor thread looks at Docker
 * and probes the registry, so that status answers from memory; it also
 * resumes a registry the user left running when Docker comes back, and
 * queues the clean-up rules at their daily time. Uses the state (state.c)
 * and the backend's login (access.c); the steps, the jobs and the queue
 * above look through it. */
#include "lean.h"
#include "manager_int.h"

#include "httpc.h"

#include "retention.h"

#include <curl/curl.h>
#include <malloc.h>
#include <string.h>

#include "status.h"

static void probe_url(const struct settings *s, int port, char *out, size_t len)
{
    const char *host = s->bind;
    if (strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    /* a registry with its own certificate speaks HTTPS only (access.c) */
    const char *scheme = s->tls_cert && s->tls_key ? "https" : "http";
    if (strchr(host, ':'))
        snprintf(out, len, "%s://[%s]:%d/v2/", scheme, host, port);
    else
        snprintf(out, len, "%s://%s:%d/v2/", scheme, host, port);
}

/* Where the backend reaches the registry for health checks. */
void mgr_probe_url(const struct settings *s, char *out, size_t len)
{
    probe_url(s, s->port, out, len);
}

void mgr_cache_url(const struct settings *s, char *out, size_t len)
{
    probe_url(s, s->cache_port, out, len);
}

/* 1 when GET /v2/ answers as a registry does (200, or 401 behind auth);
 * with http, the HTTP status it answered (0: none). lg: the internal
 * credential and TLS pin (access.c), or NULL. */
static int registry_answers_http(const char *url, const struct mgr_login *lg, long timeout_ms,
                                 long *http)
{
    struct httpc_req req = {.method = "GET", .url = url, .timeout_ms = timeout_ms};
    if (lg && lg->l.user) {
        req.user = lg->l.user;
        req.password = lg->l.password ? lg->l.password : "";
    }
    if (lg && lg->pin[0]) /* the certificate names other hosts: its key is checked */
        req.tls_pin = lg->pin;
    struct httpc_resp resp;
    int ok = httpc_do(NULL, &req, &resp) == HTTPC_OK && (resp.status == 200 || resp.status == 401);
    if (http)
        *http = resp.status;
    buf_free(&resp.body);
    return ok;
}

int mgr_registry_answers(const char *url, const struct mgr_login *lg, long timeout_ms)
{
    return registry_answers_http(url, lg, timeout_ms, NULL);
}

const char *mgr_label_of(json_t *c, const char *key)
{
    return json_string_value(json_object_get(json_object_get(c, "Labels"), key));
}

/* ---- observation -------------------------------------------------------- */

/* Looks at Docker once and records what it saw. Safe from any thread. */
void mgr_observe(struct manager *m)
{
    struct err e = {0};
    json_t *list = NULL, *view = json_array();
    struct observed reg = {0}, gw = {0}, cache = {0};
    char url[128], cache_url[128], run_cache_url[128] = "";

    char run_url[128] = "", run_hash[65];
    struct mgr_login lg, run_lg;
    pthread_mutex_lock(&m->mu);
    int negotiated = m->docker_ok;
    unsigned seq = ++m->obs_taken;
    mgr_probe_url(&m->settings, url, sizeof url);
    mgr_cache_url(&m->settings, cache_url, sizeof cache_url);
    mgr_login_of(&m->settings, &lg);
    if (m->has_run) {
        mgr_probe_url(&m->run, run_url, sizeof run_url);
        mgr_cache_url(&m->run, run_cache_url, sizeof run_cache_url);
        mgr_login_of(&m->run, &run_lg);
    }
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
        const char *role = mgr_label_of(c, SPEC_LABEL_ROLE);
        const char *id = json_string_value(json_object_get(c, "Id"));
        const char *state = json_string_value(json_object_get(c, "State"));
        const char *status = json_string_value(json_object_get(c, "Status"));
        const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
        if (!role || !id)
            continue;
        struct observed *o = strcmp(role, "registry") == 0  ? &reg
                             : strcmp(role, "gateway") == 0 ? &gw
                             : strcmp(role, "cache") == 0   ? &cache
                                                            : NULL;
        if (o && !o->exists) {
            o->exists = 1;
            o->running = state && strcmp(state, "running") == 0;
            snprintf(o->id, sizeof o->id, "%s", id);
            snprintf(o->hash, sizeof o->hash, "%s",
                     mgr_label_of(c, SPEC_LABEL_HASH) ? mgr_label_of(c, SPEC_LABEL_HASH) : "");
            /* "Exited (137) 5 seconds ago", or "Restarting (2) 1 second ago"
             * for one its restart policy brings back */
            if (status && sscanf(status, "Exited (%d)", &o->exit_code) != 1 &&
                sscanf(status, "Restarting (%d)", &o->exit_code) != 1)
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
    const struct mgr_login *probe = &lg;
    if (run_url[0] && reg.exists && strcmp(reg.hash, run_hash) == 0) {
        snprintf(url, sizeof url, "%s", run_url);
        snprintf(cache_url, sizeof cache_url, "%s", run_cache_url);
        probe = &run_lg;
    }
    long http = 0, chttp = 0;
    int healthy = reg.running && registry_answers_http(url, probe, 1000, &http);
    int chealthy = cache.running && registry_answers_http(cache_url, probe, 1000, &chttp);
    secret_wipe(&lg, sizeof lg);
    secret_wipe(&run_lg, sizeof run_lg);
    json_array_foreach(view, i, c)
    {
        const char *role = json_string_value(json_object_get(c, "role"));
        const char *state = json_string_value(json_object_get(c, "state"));
        int probed = strcmp(role, "registry") == 0 ? healthy
                     : strcmp(role, "cache") == 0  ? chealthy
                                                   : -1;
        const char *health = !state || strcmp(state, "running") != 0 ? "none"
                             : probed < 0                            ? "running"
                             : probed                                ? "healthy"
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
    m->cache = cache;
    m->cache_healthy = chealthy;
    m->cache_http = cache.running ? chttp : 0;
    mgr_unlock_changed(m);
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
    mgr_unlock_changed(m);
    docker_forget(&m->docker);
    json_decref(list);
    json_decref(view);
}

void *mgr_monitor_main(void *arg)
{
    struct manager *m = arg;
    int was_ok = 0, resumed = 0;
    unsigned ticks = 0;
    pthread_mutex_lock(&m->mu);
    while (!m->shutdown) {
        pthread_mutex_unlock(&m->mu);
        mgr_observe(m);
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
        /* the clean-up rules' daily time: once a day, when it has come (a
         * registry that is not running then skips the day) */
        long long now = (long long)time(NULL);
        if (retention_due(retention_schedule_minute(m->retention), m->sched_day, now) &&
            m->pending == JOB_NONE && m->running_job == JOB_NONE) {
            m->sched_day = (long)(now / 86400);
            if (m->reg.running && m->reg_healthy) {
                log_info("applying the clean-up rules on schedule");
                m->pending = JOB_RETENTION;
                m->gen++;
                pthread_cond_signal(&m->job_cv);
            } else {
                log_info("scheduled clean-up skipped: the registry is not running");
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
