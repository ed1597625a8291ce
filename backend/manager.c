/* Layer 6 of the manager, on top: the job queue and its worker thread, and
 * the public calls of manager.h (settings, status, images, clean-up rules).
 * Uses every layer below (docs/architecture.md). */
#include "manager_int.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "indexer.h"
#include "authsvc.h"
#include "browse.h"
#include "grant.h"
#include "readiness.h"
#include "retention.h"
#include "status.h"

static void *worker_main(void *arg)
{
    struct manager *m = arg;
    mgr_repair_leftover(m); /* lifecycle.c: what an interrupted clean-up left */
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
        mgr_unlock_changed(m);

        struct err ne;
        if (!docker_negotiated(&m->docker) && docker_negotiate(&m->docker, &ne))
            log_warn("Docker engine unreachable before a job: %s", ne.message);
        switch (job) {
        case JOB_START:
            mgr_run_start(m, 0);
            break;
        case JOB_STOP:
            mgr_run_stop(m);
            break;
        case JOB_RESTART:
            mgr_run_stop(m);
            if (!m->job_failed)
                mgr_run_start(m, 0);
            break;
        case JOB_REMOVE:
            mgr_run_remove(m, purge);
            break;
        case JOB_GC:
            mgr_run_gc(m);
            break;
        case JOB_CHECK:
            mgr_run_check(m);
            break;
        case JOB_RETENTION:
            mgr_run_retention(m);
            break;
        case JOB_NONE:
            break;
        }
        pthread_mutex_lock(&m->mu);
        int stopping = m->shutdown;
        pthread_mutex_unlock(&m->mu);
        if (!stopping)
            mgr_observe(m);

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
            (int)sizeof m->running_path ||
        snprintf(m->retention_path, sizeof m->retention_path, "%s/retention.json", o->state_dir) >=
            (int)sizeof m->retention_path ||
        snprintf(m->state_dir, sizeof m->state_dir, "%s", o->state_dir) >=
            (int)sizeof m->state_dir) {
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
    /* clean-up rules that cannot be read: none apply (and none run by
     * schedule) until the user saves rules again */
    struct err rerr = {0};
    if (retention_load(m->retention_path, &m->retention, &rerr)) {
        log_warn("%s", rerr.message);
        m->retention = retention_default();
    }
    if (!m->retention) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto fail;
    }
    m->sched_day = (long)(time(NULL) / 86400);
    /* a schedule whose time has not come today runs today */
    if (retention_schedule_minute(m->retention) > (int)(time(NULL) % 86400 / 60))
        m->sched_day--;
    mgr_compute_desired_hash(m);
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
    if (mgr_users_open(m, e)) /* access.c */
        goto fail;
    /* one look at Docker before serving, so that the first status answer
     * is already true (a missing engine answers at once) */
    mgr_observe(m);
    struct err ue = {0};
    if (mgr_users_push(m, &ue) < 0) /* the internal credential may be new */
        log_warn("could not update the registry's users in its container: %s", ue.message);
    if (pthread_create(&m->worker, NULL, worker_main, m)) {
        err_set(e, 500, E_THREAD, NULL, "cannot start the worker thread");
        goto fail;
    }
    if (pthread_create(&m->monitor, NULL, mgr_monitor_main, m)) {
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
    mgr_users_close(m);
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
    json_decref(m->retention);
    json_decref(m->last_retention);
    json_decref(m->retention_runs);
    json_decref(m->gc_runs);
    settings_secrets_free(m->live_secrets);
    mgr_users_close(m);
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

/* The status object from the fields under m->mu (held by the caller). */
static json_t *status_locked(struct manager *m)
{
    char api[16], ver[64];
    docker_versions(&m->docker, api, sizeof api, ver, sizeof ver);
    struct status_input in = {
        .pending = m->pending,
        .running_job = m->running_job,
        .phase = m->phase,
        .prog_image = m->prog_image,
        .prog_cur = m->prog_cur,
        .prog_total = m->prog_total,
        .observed_once = m->observed_once,
        .docker_ok = m->docker_ok,
        .docker_err = &m->docker_err,
        .docker_api = api,
        .docker_version = ver,
        .job_failed = m->job_failed,
        .job_err = &m->job_err,
        .job_hint = m->job_hint,
        .reg = {m->reg.exists, m->reg.running, m->reg.exit_code, m->reg.hash},
        .gw = {m->gw.exists, m->gw.running, m->gw.exit_code, m->gw.hash},
        .containers = m->containers,
        .reg_healthy = m->reg_healthy,
        .reg_http = m->reg_http,
        .cache = {m->cache.exists, m->cache.running, m->cache.exit_code, m->cache.hash},
        .cache_healthy = m->cache_healthy,
        .cache_http = m->cache_http,
        .running = mgr_effective_locked(m),
        .saved = &m->settings,
        .desired_hash = m->desired_hash,
        .last_check = m->last_check,
        .gc_at = m->gc_at,
        .gc_ok = m->gc_ok,
        .gc_message = m->gc_message,
        .settings_problem = m->settings_problem,
        .settings_kept_as = m->settings_kept_as,
    };
    return status_view(&in);
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
     * writers (see mgr_set_desired_running) */
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
    mgr_compute_desired_hash(m);
    out = settings_public_json(&m->settings);
    mgr_unlock_changed(m);
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
    } else if ((job == JOB_GC || job == JOB_RETENTION) &&
               (m->pending != JOB_NONE || m->running_job != JOB_NONE)) {
        rc = err_set(e, 409, E_BUSY, NULL,
                     "another operation is running: clean up when it has finished");
    } else if ((job == JOB_GC || job == JOB_RETENTION) && !(m->reg.running && m->reg_healthy)) {
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
             m->running_job == JOB_GC || m->running_job == JOB_RETENTION))
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

/* The registry's (or with cache, the Docker Hub cache's) base URL when it
 * runs, and how to log in to it (access.c), else a 409 in e. */
static int registry_base(struct manager *m, int cache, char *base, size_t len, struct mgr_login *lg,
                         struct err *e)
{
    char url[128];
    pthread_mutex_lock(&m->mu);
    int up = cache ? m->cache.running && m->cache_healthy
                   : m->reg.running && m->reg_healthy && m->running_job == JOB_NONE;
    if (cache)
        mgr_cache_url(mgr_effective_locked(m), url, sizeof url);
    else
        mgr_probe_url(mgr_effective_locked(m), url, sizeof url);
    mgr_login_of(mgr_effective_locked(m), lg);
    pthread_mutex_unlock(&m->mu);
    if (!up && cache)
        return err_set(e, 409, E_CACHE_NOT_RUNNING, NULL,
                       "the Docker Hub cache is not running: turn it on in Settings and start "
                       "the registry to see what it holds");
    if (!up)
        return err_set(e, 409, E_REGISTRY_NOT_RUNNING, NULL,
                       "the registry is not running: start it to see and manage its images");
    snprintf(base, len, "%.*s", (int)(strlen(url) - 4), url); /* without "/v2/" */
    return 0;
}

json_t *manager_repositories(struct manager *m, int cache, const char *offset, const char *limit,
                             struct err *e)
{
    char base[128];
    struct mgr_login lg;
    json_t *r = registry_base(m, cache, base, sizeof base, &lg, e)
                    ? NULL
                    : browse_repositories(base, &lg.l, offset, limit, e);
    secret_wipe(&lg, sizeof lg);
    return r;
}

int manager_registry_access(void *ctx, struct indexer_access *a)
{
    struct manager *m = ctx;
    struct mgr_login lg;
    struct err e = {0};
    int rc = registry_base(m, 0, a->base, sizeof a->base, &lg, &e);
    if (!rc) {
        snprintf(a->user, sizeof a->user, "%s", lg.l.user ? lg.l.user : "");
        snprintf(a->password, sizeof a->password, "%s", lg.l.password ? lg.l.password : "");
        snprintf(a->pin, sizeof a->pin, "%s", lg.l.tls_pin ? lg.l.tls_pin : "");
    }
    secret_wipe(&lg, sizeof lg);
    return rc;
}

json_t *manager_image(struct manager *m, const char *name, const char *digest, struct err *e)
{
    char base[128];
    struct mgr_login lg;
    json_t *r = registry_base(m, 0, base, sizeof base, &lg, e)
                    ? NULL
                    : browse_image(base, &lg.l, name, digest, e);
    secret_wipe(&lg, sizeof lg);
    return r;
}

int manager_delete_image(struct manager *m, const char *name, const char *digest, struct err *e)
{
    char base[128];
    struct mgr_login lg;
    int rc = registry_base(m, 0, base, sizeof base, &lg, e)
                 ? -1
                 : browse_delete(base, &lg.l, name, digest, e);
    secret_wipe(&lg, sizeof lg);
    if (rc)
        return -1;
    indexer_forget(name, digest);
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

int manager_settings_copy(struct manager *m, struct settings *out)
{
    pthread_mutex_lock(&m->mu);
    int rc = settings_copy(out, &m->settings);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* ---- clean-up rules -------------------------------------------------------- */

/* The rules with lastRun and nextRun; caller holds m->mu. */
static json_t *retention_locked(struct manager *m)
{
    json_t *out = json_deep_copy(m->retention);
    if (!out)
        return NULL;
    json_object_set_new(out, "lastRun",
                        m->last_retention ? json_deep_copy(m->last_retention) : json_null());
    /* the last runs, newest first */
    json_object_set_new(out, "runs",
                        m->retention_runs ? json_deep_copy(m->retention_runs) : json_array());
    json_object_set_new(out, "gcRuns", m->gc_runs ? json_deep_copy(m->gc_runs) : json_array());
    int minute = retention_schedule_minute(m->retention);
    json_t *next = json_null();
    if (minute >= 0) {
        /* the day after the one it last ran (or was due) on, at its time */
        char at[32];
        format_time_utc((long long)(m->sched_day + 1) * 86400 + minute * 60, at, sizeof at);
        next = json_string(at);
    }
    json_object_set_new(out, "nextRun", next);
    json_object_set_new(
        out, "reading",
        m->reading ? json_pack("{s:s, s:I, s:I, s:I, s:I}", "repository", m->reading_repo,
                               "repositoryAt", (json_int_t)m->reading_at, "repositories",
                               (json_int_t)m->reading_repos, "tagsRead",
                               (json_int_t)m->reading_done, "tags", (json_int_t)m->reading_total)
                   : json_null());
    return out;
}

json_t *manager_retention(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    json_t *out = retention_locked(m);
    pthread_mutex_unlock(&m->mu);
    return out;
}

json_t *manager_retention_rules(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    json_t *out = json_deep_copy(m->retention);
    pthread_mutex_unlock(&m->mu);
    return out;
}

json_t *manager_put_retention(struct manager *m, json_t *body, struct err *e)
{
    json_t *rules = retention_parse(body, e);
    if (!rules)
        return NULL;
    /* one save at a time, in order; the file is written outside m->mu */
    pthread_mutex_lock(&m->save_mu);
    int rc = retention_save(m->retention_path, rules, e);
    json_t *out = NULL;
    if (rc == 0) {
        pthread_mutex_lock(&m->mu);
        json_decref(m->retention);
        m->retention = rules;
        rules = NULL;
        long today = (long)(time(NULL) / 86400);
        int minute = retention_schedule_minute(m->retention);
        /* a time still to come today runs today; one past runs tomorrow */
        m->sched_day = minute > (int)(time(NULL) % 86400 / 60) ? today - 1 : today;
        out = retention_locked(m);
        mgr_unlock_changed(m);
        if (!out)
            err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    }
    pthread_mutex_unlock(&m->save_mu);
    json_decref(rules);
    return out;
}

json_t *manager_retention_preview(struct manager *m, json_t *body, struct err *e)
{
    char base[128];
    json_t *rules = NULL;
    if (body) {
        if (!(rules = retention_parse(body, e)))
            return NULL;
    } else {
        pthread_mutex_lock(&m->mu);
        rules = json_deep_copy(m->retention);
        pthread_mutex_unlock(&m->mu);
        if (!rules) {
            err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
            return NULL;
        }
    }
    json_t *plan = NULL;
    struct mgr_login lg;
    if (registry_base(m, 0, base, sizeof base, &lg, e) == 0)
        plan = mgr_retention_preview_plan(m, base, &lg.l, rules, e);
    secret_wipe(&lg, sizeof lg);
    json_decref(rules);
    return plan;
}
