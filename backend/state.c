/* Layer 0 of the manager, at the bottom: the state that status shows and its
 * bookkeeping (what runs, what is desired, the job's phase, failure and
 * cancellation, the last outcomes), each change under m->mu and counted in
 * m->gen. It knows no job and calls no other file of the manager: the
 * layers above report through these calls instead of writing struct
 * manager's fields (docs/architecture.md). */
#include "manager_int.h"

#include <string.h>
#include <unistd.h>

#include "retention.h"
#include "status.h"

/* Unlocks after a change that status shows. */
void mgr_unlock_changed(struct manager *m)
{
    m->gen++;
    pthread_mutex_unlock(&m->mu);
}

void mgr_compute_desired_hash(struct manager *m)
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
const struct settings *mgr_effective_locked(struct manager *m)
{
    if (m->has_run && m->reg.exists && strcmp(m->reg.hash, m->run_hash) == 0)
        return &m->run;
    return &m->settings;
}

int mgr_look(struct manager *m, enum mgr_which which, struct settings *s, struct mgr_look *out)
{
    pthread_mutex_lock(&m->mu);
    const struct settings *from = which == MGR_SAVED      ? &m->settings
                                  : which == MGR_LAST_RUN ? (m->has_run ? &m->run : &m->settings)
                                                          : mgr_effective_locked(m);
    int rc = settings_copy(s, from);
    if (out) {
        out->docker_ok = m->docker_ok;
        out->reg = m->reg;
        out->reg_healthy = m->reg_healthy;
        out->from_run = from == &m->run;
        out->check_create = m->check_create;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* Remembers s as what runs (spec hash hash), in memory and in running.json. */
void mgr_record_run(struct manager *m, const struct settings *s, const char *hash)
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
    mgr_unlock_changed(m);
}

void mgr_forget_run(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    if (m->has_run)
        settings_free(&m->run);
    m->has_run = 0;
    m->run_hash[0] = '\0';
    mgr_unlock_changed(m);
    unlink(m->running_path);
}

void mgr_set_desired_shown(struct manager *m, int on)
{
    pthread_mutex_lock(&m->mu);
    m->settings.desired_running = on;
    mgr_unlock_changed(m);
}

/* Records whether the user wants the registry running, in memory and, when
 * that differs from what the file says, in the file. The file is written
 * outside m->mu (an fsync on a slow disk must not stall status) but under
 * m->save_mu, taken before m->mu by every writer of the settings file, so
 * that a save never overwrites a newer one with an older copy. */
void mgr_set_desired_running(struct manager *m, int on)
{
    struct err e;
    struct settings copy;
    pthread_mutex_lock(&m->save_mu);
    pthread_mutex_lock(&m->mu);
    m->settings.desired_running = on;
    int write = m->desired_on_disk != on && settings_copy(&copy, &m->settings) == 0;
    mgr_unlock_changed(m);
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

void mgr_set_live_secrets(struct manager *m, char *live[SETTINGS_SECRETS])
{
    pthread_mutex_lock(&m->mu);
    settings_secrets_free(m->live_secrets);
    memcpy(m->live_secrets, live, SETTINGS_SECRETS * sizeof *live);
    pthread_mutex_unlock(&m->mu);
}

/* ---- the job at hand ------------------------------------------------------ */

void mgr_job_begin(struct manager *m, enum manager_job job, const char *phase)
{
    pthread_mutex_lock(&m->mu);
    m->running_job = job;
    m->phase = phase;
    m->cancel_start = 0;
    m->job_failed = 0;
    m->job_hint[0] = '\0';
    pthread_cond_signal(&m->monitor_cv);
    mgr_unlock_changed(m);
}

void mgr_job_end(struct manager *m, enum manager_job job)
{
    pthread_mutex_lock(&m->mu);
    if (m->running_job == job) {
        m->running_job = JOB_NONE;
        m->phase = NULL;
    }
    mgr_unlock_changed(m);
}

void mgr_job_fail(struct manager *m, const struct err *e, const char *hint)
{
    pthread_mutex_lock(&m->mu);
    m->job_failed = 1;
    m->job_err = *e;
    snprintf(m->job_hint, sizeof m->job_hint, "%s", hint ? hint : "");
    mgr_unlock_changed(m);
    log_warn("%s failed: %s (%s)", m->running_job == JOB_STOP ? "stop" : "job", ecode_name(e->code),
             e->message);
}

int mgr_job_ok(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    int ok = !m->job_failed && !m->cancel_start && !m->shutdown;
    pthread_mutex_unlock(&m->mu);
    return ok;
}

void mgr_set_phase(struct manager *m, const char *phase)
{
    pthread_mutex_lock(&m->mu);
    m->phase = phase;
    mgr_unlock_changed(m);
}

int mgr_cancelled(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    int stop = m->cancel_start || m->shutdown;
    pthread_mutex_unlock(&m->mu);
    return stop;
}

int mgr_shutting_down(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    int stop = m->shutdown;
    pthread_mutex_unlock(&m->mu);
    return stop;
}

void mgr_pull_begin(struct manager *m, const char *image)
{
    pthread_mutex_lock(&m->mu);
    m->phase = "pulling";
    snprintf(m->prog_image, sizeof m->prog_image, "%s", image);
    m->prog_cur = m->prog_total = 0;
    mgr_unlock_changed(m);
}

int mgr_pull_told(struct manager *m, long long cur, long long total)
{
    pthread_mutex_lock(&m->mu);
    m->prog_cur = cur;
    m->prog_total = total;
    int cancel = m->cancel_start || m->shutdown;
    mgr_unlock_changed(m);
    return cancel;
}

void mgr_pull_end(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    m->prog_image[0] = '\0';
    mgr_unlock_changed(m);
}

/* ---- the last outcomes ------------------------------------------------------ */

void mgr_set_last_check(struct manager *m, json_t *result)
{
    pthread_mutex_lock(&m->mu);
    json_decref(m->last_check);
    m->last_check = result;
    mgr_unlock_changed(m);
}

void mgr_gc_done(struct manager *m, int ok, const char *message)
{
    pthread_mutex_lock(&m->mu);
    m->gc_at = (long long)time(NULL);
    m->gc_ok = ok;
    snprintf(m->gc_message, sizeof m->gc_message, "%s", message);
    char at[32];
    format_time_utc(m->gc_at, at, sizeof at);
    /* out of memory: the run is missing from the history, lastGc has it */
    (void)retention_history_add(
        &m->gc_runs, json_pack("{s:s, s:b, s:s}", "at", at, "ok", ok, "message", m->gc_message),
        RETENTION_HISTORY_MAX);
    mgr_unlock_changed(m);
}

json_t *mgr_rules_copy(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    json_t *rules = json_deep_copy(m->retention);
    pthread_mutex_unlock(&m->mu);
    return rules;
}

void mgr_set_last_retention(struct manager *m, json_t *last)
{
    pthread_mutex_lock(&m->mu);
    json_decref(m->last_retention);
    m->last_retention = last;
    if (last)
        (void)retention_history_add(
            &m->retention_runs,
            json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}", "at", json_object_get(last, "at"), "ok",
                      json_object_get(last, "ok"), "images", json_object_get(last, "images"),
                      "tags", json_object_get(last, "tags"), "message",
                      json_object_get(last, "message")),
            RETENTION_HISTORY_MAX);
    mgr_unlock_changed(m);
}

void mgr_reading_begin(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    m->reading++;
    m->reading_repo[0] = '\0';
    m->reading_at = m->reading_repos = m->reading_done = m->reading_total = 0;
    pthread_mutex_unlock(&m->mu);
}

void mgr_reading_told(struct manager *m, const char *repo, size_t at, size_t repos, size_t done,
                      size_t total)
{
    pthread_mutex_lock(&m->mu);
    snprintf(m->reading_repo, sizeof m->reading_repo, "%s", repo);
    m->reading_at = at;
    m->reading_repos = repos;
    m->reading_done = done;
    m->reading_total = total;
    pthread_mutex_unlock(&m->mu);
}

void mgr_reading_end(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    m->reading--;
    pthread_mutex_unlock(&m->mu);
}
