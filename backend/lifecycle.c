/* The registry's lifecycle steps, run on the worker thread: pull, create,
 * configure and start the containers and wait for the registry to answer;
 * stop; remove. */
#include "manager_int.h"

#include <string.h>
#include <unistd.h>

#include "s3check.h"
#include "status.h"

/* How long a start waits for the Docker Hub cache once the registry answers. */
#define CACHE_GRACE_MS 10000
/* Caps the engine's answer when a configuration file is read back from a
 * container: a tar of one file of a few KiB (with TLS, the config only). */
#define CONFIG_READ_MAX (256 * 1024)

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
    mgr_unlock_changed(m);
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
    mgr_unlock_changed(m);
    log_info("pulling %s", image);
    int rc = docker_pull(&m->docker, image, pull_progress, m, e);
    pthread_mutex_lock(&m->mu);
    m->prog_image[0] = '\0';
    mgr_unlock_changed(m);
    return rc;
}

/* Removes every container we own that is not of the wanted spec; with a
 * set, writes the ids of those that are (by role) to keep. */
int mgr_remove_stale(struct manager *m, const char *hash, const struct spec_set *set,
                     char keep[SPEC_MAX][72], struct err *e)
{
    json_t *list = docker_list(&m->docker, SPEC_LABEL_MANAGED "=true", e);
    if (!list)
        return -1;
    size_t i;
    json_t *c;
    int rc = 0;
    /* the registry and the cache may live in the gateway's namespace:
     * they go first */
    for (int pass = 0; pass < 2 && rc == 0; pass++)
        json_array_foreach(list, i, c)
        {
            const char *role = mgr_label_of(c, SPEC_LABEL_ROLE);
            const char *h = mgr_label_of(c, SPEC_LABEL_HASH);
            const char *id = json_string_value(json_object_get(c, "Id"));
            int is_reg = !role || strcmp(role, "gateway") != 0;
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
int mgr_create_container(struct manager *m, struct spec_container *sc, char id[72], struct err *e)
{
    for (int attempt = 0;; attempt++) {
        if (docker_create(&m->docker, sc->name, sc->create, id, e) == 0)
            break;
        if (attempt >= 2)
            return -1;
        if (e->code == E_NO_SUCH_IMAGE) {
            if (ensure_image(m, sc->image, e))
                return -1;
            mgr_set_phase(m, "starting");
            continue;
        }
        if (e->code != E_CONFLICT)
            return -1;
        json_t *j = docker_inspect(&m->docker, sc->name, e);
        if (!j)
            return -1;
        const char *managed = mgr_label_of(json_object_get(j, "Config"), SPEC_LABEL_MANAGED);
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

/* How the configuration in container id compares with the one sc puts in
 * (spec.h), read back through the engine's archive API; a missing file is
 * SPEC_CONFIG_OTHER. 0 with *out, or -1 with e when the engine could not
 * tell. */
static int config_in(struct manager *m, const struct spec_container *sc, const char *id,
                     enum spec_config *out, struct err *e)
{
    char path[512];
    long status = 0;
    struct buf b = {.max = CONFIG_READ_MAX};
    size_t n = (size_t)snprintf(path, sizeof path, "/containers/%.72s/archive?path=", id);
    for (const char *c = spec_config_path(sc); *c && n < sizeof path - 4; c++) {
        if (*c == '/') {
            memcpy(path + n, "%2F", 3);
            n += 3;
        } else {
            path[n++] = *c;
        }
    }
    path[n] = '\0';
    int rc = docker_call(&m->docker, "GET", path, NULL, NULL, 0, &status, &b, 30, e);
    if (rc == 0 && status == 200)
        *out = spec_config_compare(sc, b.data, b.len);
    else if (rc == 0 && status == 404)
        *out = SPEC_CONFIG_OTHER;
    else if (rc == 0)
        rc = err_set(e, 502, E_DOCKER_BAD_ANSWER, NULL,
                     "the Docker engine answered %ld when asked for the %s container's "
                     "configuration",
                     status, sc->role);
    if (b.data) /* it holds the container's secrets */
        secret_wipe(b.data, b.len);
    buf_free(&b);
    return rc;
}

/* A container kept from an earlier run gets its files again before it
 * starts, whatever it holds: the backend may have been killed between
 * create and upload, or in the middle of a clean-up that had put a
 * read-only configuration in (gc.c), and the spec hash says nothing about
 * the files. A running one gets them only when its configuration is not
 * its own, and is then stopped, so that the start that follows reads them;
 * a running gateway is left alone (only its create puts files in, and the
 * registry lives in its network namespace). 0, or -1 with e. */
int mgr_configure_existing(struct manager *m, const struct spec_container *sc, const char *id,
                           struct err *e)
{
    json_t *j = docker_inspect(&m->docker, id, e);
    if (!j)
        return -1;
    int running = json_is_true(json_object_get(json_object_get(j, "State"), "Running"));
    json_decref(j);
    if (!running)
        return docker_put_archive(&m->docker, id, sc->tar.data, sc->tar.len, e);
    if (strcmp(sc->role, "gateway") == 0)
        return 0;
    enum spec_config c;
    if (config_in(m, sc, id, &c, e))
        return -1;
    if (c == SPEC_CONFIG_OWN)
        return 0;
    log_warn("the %s container %.12s runs with %s: writing its own and restarting it", sc->role, id,
             c == SPEC_CONFIG_READONLY ? "the read-only configuration of an interrupted clean-up"
                                       : "another configuration than its settings'");
    return docker_put_archive(&m->docker, id, sc->tar.data, sc->tar.len, e) ||
                   docker_stop(&m->docker, id, STOP_TIMEOUT_S, e)
               ? -1
               : 0;
}

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
    mgr_last_log_line(m, id, line, sizeof line);
    return err_set(e, 502, strcmp(role, "gateway") == 0 ? E_GATEWAY_EXITED : E_CONTAINER_EXITED,
                   NULL, "the %s container stopped at start (exit code %d)%s%s", role, code,
                   line[0] ? ": " : "", line);
}

/* Starts the registry with the saved settings, or (from_run) with those it
 * was started with last time, as garbage collection does. */
void mgr_run_start(struct manager *m, int from_run)
{
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    char ids[SPEC_MAX][72] = {{0}}, url[128], cache_url[128] = "",
         check_hint[S3CHECK_TEXT_MAX] = "";
    const char *hint = NULL;
    struct mgr_login lg = {0};

    pthread_mutex_lock(&m->mu);
    int copied = settings_copy(&s, from_run && m->has_run ? &m->run : &m->settings);
    pthread_mutex_unlock(&m->mu);
    if (copied) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        mgr_job_fail(m, &e, NULL);
        return;
    }
    /* shown at once; written to the state file once the containers run */
    pthread_mutex_lock(&m->mu);
    m->settings.desired_running = 1;
    mgr_unlock_changed(m);
    memset(&set, 0, sizeof set);
    if (spec_build(&s, &m->sopts, &set, &e)) {
        goto fail;
    }
    /* the containers about to run know these: keep redacting them from
     * their logs even after the settings change */
    char *live[SETTINGS_SECRETS];
    if (settings_secrets(&s, live)) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto fail;
    }
    pthread_mutex_lock(&m->mu);
    settings_secrets_free(m->live_secrets);
    memcpy(m->live_secrets, live, sizeof live);
    pthread_mutex_unlock(&m->mu);
    mgr_set_phase(m, "starting");
    /* S3 modes: the storage must take what the registry does before it
     * starts (storj mode checks through its gateway, once that runs) */
    if ((s.mode == MODE_S3 || s.mode == MODE_STORJ_HOSTED) &&
        mgr_check_storage(m, &s, NULL, 0, &e, check_hint, sizeof check_hint)) {
        hint = check_hint;
        goto fail;
    }
    /* one look at what we own: keep what matches, remove what does not */
    if (mgr_remove_stale(m, set.hash, &set, ids, &e))
        goto fail;
    /* a registry (or cache) kept running in the namespace of a gateway
     * that stopped would stay in that dead namespace: stop it so it joins
     * the new one */
    int has_gw = strcmp(set.c[0].role, "gateway") == 0;
    if (has_gw && ids[0][0]) {
        json_t *gw = docker_inspect(&m->docker, ids[0], &e);
        int gw_up = json_is_true(json_object_get(json_object_get(gw, "State"), "Running"));
        json_decref(gw);
        for (int i = 1; !gw_up && i < set.count; i++)
            if (ids[i][0] && docker_stop(&m->docker, ids[i], STOP_TIMEOUT_S, &e) && e.status != 404)
                goto fail;
    }
    for (int i = 0; i < set.count; i++)
        if (ids[i][0] ? mgr_configure_existing(m, &set.c[i], ids[i], &e)
                      : mgr_create_container(m, &set.c[i], ids[i], &e)) {
            goto fail;
        }
    for (int i = 0; i < set.count; i++) {
        if (docker_start(&m->docker, ids[i], &e))
            goto fail;
        log_info("started %s container %.12s", set.c[i].role, ids[i]);
        if (has_gw && i == 0) {
            /* the registry joins the gateway's network namespace: the
             * gateway must be up and stay up */
            usleep(300 * 1000);
            if (still_running(m, ids[0], "gateway", &e))
                goto fail;
            /* the storage through the gateway, as the registry will use it */
            char gw_url[128];
            if (mgr_gateway_endpoint(m, ids[0], gw_url, sizeof gw_url, &e) ||
                mgr_check_storage(m, &s, gw_url, 0, &e, check_hint, sizeof check_hint)) {
                hint = e.code == E_STORAGE_CHECK_FAILED ? check_hint : NULL;
                struct err ignored;
                docker_stop(&m->docker, ids[0], STOP_TIMEOUT_S, &ignored);
                goto fail;
            }
        }
    }
    mgr_set_desired_running(m, 1); /* persisted now: the containers run */
    mgr_record_run(m, &s, set.hash);
    mgr_probe_url(&s, url, sizeof url);
    if (spec_find(&set, "cache"))
        mgr_cache_url(&s, cache_url, sizeof cache_url);
    mgr_login_of(&s, &lg); /* users.h: the registry may ask for a login */
    /* The Docker Hub cache is best effort: it asks its upstream once as
     * it starts and exits when that fails (no network, Docker Hub away;
     * Docker restarts it, spec.h), which must not fail the registry's
     * start. It is given a little while after the registry answers, so
     * that the status is right at once when it comes up quickly. */
    int reg_up = 0, cache_up = !cache_url[0];
    long reg_up_ms = 0;
    struct timespec began;
    clock_gettime(CLOCK_MONOTONIC, &began);
    for (unsigned round = 0;; round++) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long waited_ms =
            (now.tv_sec - began.tv_sec) * 1000 + (now.tv_nsec - began.tv_nsec) / 1000000;
        if (!reg_up && mgr_registry_answers(url, &lg, 1000)) {
            reg_up = 1;
            reg_up_ms = waited_ms;
        }
        cache_up = cache_up || mgr_registry_answers(cache_url, &lg, 1000);
        if (reg_up && (cache_up || waited_ms - reg_up_ms > CACHE_GRACE_MS))
            break;
        /* a container that died will not answer: ask Docker now and then */
        for (int i = 0; round % 8 == 7 && i < set.count; i++)
            if (strcmp(set.c[i].role, "cache") != 0 && still_running(m, ids[i], set.c[i].role, &e))
                goto fail;
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
    if (cache_url[0] && cache_up)
        log_info("Docker Hub cache answering on %s", cache_url);
    else if (cache_url[0])
        log_warn("the Docker Hub cache does not answer on %s yet (it cannot reach its upstream "
                 "as it starts?): the status follows it",
                 cache_url);
    goto out;
fail:
    if (e.code == E_CANCELLED) {
        log_info("start cancelled by a stop");
    } else {
        /* a start that failed is no wish to run: neither a later save nor
         * the next backend start may bring this registry up */
        mgr_set_desired_running(m, 0);
        mgr_job_fail(m, &e, hint);
    }
out:
    secret_wipe(&lg, sizeof lg);
    spec_free(&set);
    settings_free(&s);
}

/* Says in lastGc what became of a clean-up the last backend did not finish. */
static void interrupted_gc(struct manager *m, const char *message)
{
    pthread_mutex_lock(&m->mu);
    m->gc_at = (long long)time(NULL);
    m->gc_ok = 0;
    snprintf(m->gc_message, sizeof m->gc_message, "%s", message);
    mgr_unlock_changed(m);
}

void mgr_repair_leftover(struct manager *m)
{
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    char reg_id[72], reg_hash[65], gc_id[72] = "";
    enum spec_config conf = SPEC_CONFIG_OWN;
    memset(&set, 0, sizeof set);
    pthread_mutex_lock(&m->mu);
    int docker_ok = m->docker_ok, running = m->reg.running;
    const struct settings *eff = mgr_effective_locked(m);
    int from_run = eff == &m->run;
    int copied = settings_copy(&s, eff);
    snprintf(reg_id, sizeof reg_id, "%s", m->reg.id);
    snprintf(reg_hash, sizeof reg_hash, "%s", m->reg.hash);
    pthread_mutex_unlock(&m->mu);
    if (copied)
        return;
    if (!docker_ok)
        goto out;
    json_t *gc = docker_inspect(&m->docker, GC_NAME, &e);
    int kind = spec_gc_kind(gc);
    if (kind)
        snprintf(gc_id, sizeof gc_id, "%s", json_string_value(json_object_get(gc, "Id")));
    json_decref(gc);
    if (running && spec_build(&s, &m->sopts, &set, &e) == 0 &&
        config_in(m, spec_find(&set, "registry"), reg_id, &conf, &e) == 0 &&
        conf == SPEC_CONFIG_OTHER && strcmp(set.hash, reg_hash) != 0)
        conf = SPEC_CONFIG_OWN; /* made with other settings: not ours to judge */
    /* a garbage-collect container left behind means the registry was
     * restarted read-only and nothing restarted it since */
    int restart = running && (conf != SPEC_CONFIG_OWN || kind == 2);
    int readonly = restart && (conf == SPEC_CONFIG_READONLY || kind == 2);
    if (!gc_id[0] && !restart)
        goto out;
    if (restart) {
        log_warn("%s: restarting it with its own configuration",
                 readonly ? "an interrupted clean-up left the registry read-only"
                          : "the registry's configuration in its container is not its own");
        pthread_mutex_lock(&m->mu);
        m->running_job = JOB_START;
        m->phase = "repairing";
        m->cancel_start = 0;
        m->job_failed = 0;
        m->job_hint[0] = '\0';
        pthread_cond_signal(&m->monitor_cv);
        mgr_unlock_changed(m);
        if (readonly)
            interrupted_gc(m, "the last clean-up was interrupted (the backend stopped during it) "
                              "and left the registry read-only: it is restarting with its own "
                              "configuration");
    }
    /* garbage-collect must not run while the registry takes pushes: the
     * clean-up container goes first, and when it cannot, the registry
     * stays as it is */
    if (gc_id[0]) {
        log_info("removing the clean-up container %.12s an interrupted clean-up left", gc_id);
        if (docker_remove(&m->docker, gc_id, &e)) {
            log_warn("could not remove the clean-up container: %s", e.message);
            restart = 0;
        }
    }
    if (restart) {
        struct err ignored; /* a registry that does not stop fails the start below */
        docker_stop(&m->docker, reg_id, STOP_TIMEOUT_S, &ignored);
        mgr_run_start(m, from_run); /* writes its own configuration (mgr_configure_existing) */
        pthread_mutex_lock(&m->mu);
        int ok = !m->job_failed && !m->cancel_start && !m->shutdown;
        pthread_mutex_unlock(&m->mu);
        if (readonly && ok)
            interrupted_gc(m, "the last clean-up was interrupted (the backend stopped during it) "
                              "and left the registry read-only: it was restarted with its own "
                              "configuration");
        if (ok)
            log_info("the registry runs with its own configuration again");
    }
    pthread_mutex_lock(&m->mu);
    int stopping = m->shutdown;
    pthread_mutex_unlock(&m->mu);
    if (!stopping)
        mgr_observe(m);
    pthread_mutex_lock(&m->mu);
    if (m->running_job == JOB_START) {
        m->running_job = JOB_NONE;
        m->phase = NULL;
    }
    mgr_unlock_changed(m);
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
            const char *role = mgr_label_of(c, SPEC_LABEL_ROLE);
            const char *id = json_string_value(json_object_get(c, "Id"));
            int is_reg = !role || strcmp(role, "gateway") != 0;
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

void mgr_run_stop(struct manager *m)
{
    struct err e = {0};
    mgr_set_desired_running(m, 0);
    mgr_set_phase(m, "stopping");
    if (stop_all(m, &e))
        mgr_job_fail(m, &e, "Try again; if it persists, restart Docker.");
}

void mgr_run_remove(struct manager *m, int purge)
{
    struct err e = {0};
    mgr_set_desired_running(m, 0);
    mgr_set_phase(m, "removing");
    if (mgr_remove_stale(m, NULL, NULL, NULL, &e)) {
        mgr_job_fail(m, &e, "Try again; if it persists, restart Docker.");
        return;
    }
    mgr_forget_run(m);
    if (purge) {
        if (docker_volume_remove(&m->docker, SPEC_VOLUME, &e)) {
            mgr_job_fail(m, &e, "Another container may use the volume storj-registry-data.");
            return;
        }
        log_info("removed the data volume %s", SPEC_VOLUME);
        if (docker_volume_remove(&m->docker, SPEC_CACHE_VOLUME, &e)) {
            mgr_job_fail(m, &e, "Another container may use the volume " SPEC_CACHE_VOLUME ".");
            return;
        }
    }
}
