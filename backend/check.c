/* The storage check job (s3check.h) through the path the registry uses:
 * directly in S3 modes, through the gateway container in storj mode. */
#include "manager_int.h"

#include <string.h>

#include "regconfig.h"
#include "grant.h"
#include "s3check.h"
#include "status.h"

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
    mgr_unlock_changed(m);
    return ok ? 0 : -1;
}

/* Checks s's storage through the path the registry uses: the S3 endpoint
 * (s3), the hosted gateway with the registered keys (storj-hosted), or
 * gw_endpoint, the gateway container's S3 port (storj). */
int mgr_check_storage(struct manager *m, const struct settings *s, const char *gw_endpoint,
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
int mgr_gateway_endpoint(struct manager *m, const char *id, char *out, size_t len, struct err *e)
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

void mgr_run_check(struct manager *m)
{
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    char ids[SPEC_MAX][72] = {{0}}, url[128], hint[S3CHECK_TEXT_MAX] = "";
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
        mgr_job_fail(m, &e, NULL);
        return;
    }
    mgr_set_phase(m, "checking");
    if (s.mode == MODE_S3 || s.mode == MODE_STORJ_HOSTED) {
        mgr_check_storage(m, &s, NULL, create, &e, hint, sizeof hint);
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
    if (mgr_remove_stale(m, set.hash, &set, ids, &e) ||
        (ids[0][0] ? mgr_configure_existing(m, &set.c[0], ids[0], &e)
                   : mgr_create_container(m, &set.c[0], ids[0], &e))) {
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
    if (mgr_gateway_endpoint(m, ids[0], url, sizeof url, &e)) {
        record_check(m, &s, check_failure("reach", e.message, "Press Restart."), &e, hint,
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
