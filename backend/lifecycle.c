/* Layer 4 of the manager, the jobs: start, stop and remove, run on the
 * worker thread (and the repair of what an interrupted clean-up left,
 * before its first job). A start pulls, creates, configures and starts the
 * containers and waits for the registry to answer. Uses the container steps
 * (steps.c), the looking and logging in (observe.c, access.c, logs.c) and
 * reports through the state's calls (state.c); the clean-up (gc.c) sits
 * above it, as it restarts the registry through a start. */
#include "manager_int.h"

#include <string.h>
#include <unistd.h>

#include "s3check.h"
#include "status.h"

/* How long a start waits for the Docker Hub cache once the registry answers. */
#define CACHE_GRACE_MS 10000

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

    if (mgr_look(m, from_run ? MGR_LAST_RUN : MGR_SAVED, &s, NULL)) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        mgr_job_fail(m, &e, NULL);
        return;
    }
    /* shown at once; written to the state file once the containers run */
    mgr_set_desired_shown(m, 1);
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
    mgr_set_live_secrets(m, live);
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
            if (mgr_still_running(m, ids[0], "gateway", &e))
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
            if (strcmp(set.c[i].role, "cache") != 0 &&
                mgr_still_running(m, ids[i], set.c[i].role, &e))
                goto fail;
        if (waited_ms > MANAGER_HEALTH_TIMEOUT_S * 1000L) {
            err_set(&e, 504, E_HEALTH_TIMEOUT, NULL,
                    "the registry did not answer on %s within %d seconds", url,
                    MANAGER_HEALTH_TIMEOUT_S);
            goto fail;
        }
        if (mgr_cancelled(m))
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

void mgr_repair_leftover(struct manager *m)
{
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    char reg_id[72], reg_hash[65], gc_id[72] = "";
    enum spec_config conf = SPEC_CONFIG_OWN;
    memset(&set, 0, sizeof set);
    struct mgr_look lk;
    if (mgr_look(m, MGR_EFFECTIVE, &s, &lk))
        return;
    int docker_ok = lk.docker_ok, running = lk.reg.running, from_run = lk.from_run;
    snprintf(reg_id, sizeof reg_id, "%s", lk.reg.id);
    snprintf(reg_hash, sizeof reg_hash, "%s", lk.reg.hash);
    if (!docker_ok)
        goto out;
    json_t *gc = docker_inspect(&m->docker, GC_NAME, &e);
    int kind = spec_gc_kind(gc);
    if (kind)
        snprintf(gc_id, sizeof gc_id, "%s", json_string_value(json_object_get(gc, "Id")));
    json_decref(gc);
    if (running && spec_build(&s, &m->sopts, &set, &e) == 0 &&
        mgr_config_in(m, spec_find(&set, "registry"), reg_id, &conf, &e) == 0 &&
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
        mgr_job_begin(m, JOB_START, "repairing");
        if (readonly)
            mgr_gc_done(m, 0,
                        "the last clean-up was interrupted (the backend stopped during it) "
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
        int ok = mgr_job_ok(m);
        if (readonly && ok)
            mgr_gc_done(m, 0,
                        "the last clean-up was interrupted (the backend stopped during it) "
                        "and left the registry read-only: it was restarted with its own "
                        "configuration");
        if (ok)
            log_info("the registry runs with its own configuration again");
    }
    if (!mgr_shutting_down(m))
        mgr_observe(m);
    mgr_job_end(m, JOB_START);
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
