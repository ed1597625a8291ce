/* Layer 4 of the manager, a job: the storage check (s3check.h) through the
 * path the registry uses: directly in S3 modes, through the gateway
 * container in storj mode. Uses the container steps and the storage check
 * of steps.c and reports through the state's calls (state.c). */
#include "manager_int.h"

#include <string.h>

#include "s3check.h"
#include "status.h"

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

void mgr_run_check(struct manager *m)
{
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    char ids[SPEC_MAX][72] = {{0}}, url[128], hint[S3CHECK_TEXT_MAX] = "";
    int started_gw = 0;
    memset(&set, 0, sizeof set);
    struct mgr_look lk;
    if (mgr_look(m, MGR_SAVED, &s, &lk)) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        mgr_job_fail(m, &e, NULL);
        return;
    }
    int create = lk.check_create;
    int reg_running = lk.reg.running;
    const char *reg_hash = lk.reg.hash;
    mgr_set_phase(m, "checking");
    if (s.mode == MODE_S3 || s.mode == MODE_STORJ_HOSTED) {
        mgr_check_storage(m, &s, NULL, create, &e, hint, sizeof hint);
        goto out;
    }
    if (s.mode != MODE_STORJ)
        goto out;
    if (spec_build(&s, &m->sopts, &set, &e)) {
        mgr_record_check(m, &s,
                         check_failure("reach", e.message, "Complete the settings and save."), &e,
                         hint, sizeof hint);
        goto out;
    }
    if (reg_running && strcmp(reg_hash, set.hash) != 0) {
        /* the gateway of the registry that runs has the old settings: the
         * saved ones are checked by a restart (which checks first) */
        mgr_record_check(
            m, &s,
            check_failure("reach",
                          "The registry runs with other settings than the saved ones, "
                          "so their gateway is not running yet.",
                          "Press Restart: it checks the storage with the saved settings "
                          "before the registry starts."),
            &e, hint, sizeof hint);
        goto out;
    }
    if (mgr_remove_stale(m, set.hash, &set, ids, &e) ||
        (ids[0][0] ? mgr_configure_existing(m, &set.c[0], ids[0], &e)
                   : mgr_create_container(m, &set.c[0], ids[0], &e))) {
        mgr_record_check(m, &s, check_failure("reach", e.message, "Logs may say more; try again."),
                         &e, hint, sizeof hint);
        goto out;
    }
    json_t *gw = docker_inspect(&m->docker, ids[0], &e);
    int gw_up = json_is_true(json_object_get(json_object_get(gw, "State"), "Running"));
    json_decref(gw);
    if (!gw_up) {
        if (docker_start(&m->docker, ids[0], &e)) {
            mgr_record_check(
                m, &s,
                check_failure("reach", e.message,
                              "Check the access grant (Logs show the gateway's reason)."),
                &e, hint, sizeof hint);
            goto out;
        }
        started_gw = 1;
        log_info("started the gateway container %.12s for the storage check", ids[0]);
    }
    if (mgr_gateway_endpoint(m, ids[0], url, sizeof url, &e)) {
        mgr_record_check(m, &s, check_failure("reach", e.message, "Press Restart."), &e, hint,
                         sizeof hint);
        goto out;
    }
    mgr_check_storage(m, &s, url, create, &e, hint, sizeof hint);
out:
    /* a gateway started only for the check does not keep running */
    if (started_gw && !reg_running) {
        struct err ignored;
        docker_stop(&m->docker, ids[0], STOP_TIMEOUT_S, &ignored);
    }
    spec_free(&set);
    settings_free(&s);
}
