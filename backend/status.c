#include "status.h"

#include <string.h>

#include "spec.h"

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

static void endpoint_of(const struct settings *s, int port, char *out, size_t len)
{
    if (strchr(s->bind, ':'))
        snprintf(out, len, "[%s]:%d", s->bind, port);
    else if (strcmp(s->bind, "127.0.0.1") == 0 || strcmp(s->bind, "0.0.0.0") == 0)
        snprintf(out, len, "localhost:%d", port);
    else
        snprintf(out, len, "%s:%d", s->bind, port);
}

/* "localhost:9999" and the like: where docker push goes for s. */
void status_endpoint(const struct settings *s, char *out, size_t len)
{
    endpoint_of(s, s->port, out, len);
}

/* The Docker Hub cache: null when neither what runs nor what is saved has
 * it and no cache container exists; else where it answers, how Docker
 * uses it, where it stores, and its state and error. */
static json_t *cache_view(const struct status_input *in, const char *state)
{
    const struct settings *run = in->running, *saved = in->saved;
    int run_on = run->cache_enabled && run->mode != MODE_STORJ_NATIVE;
    int saved_on = saved->cache_enabled && saved->mode != MODE_STORJ_NATIVE;
    if (!run_on && !saved_on && !in->cache.exists)
        return json_null();
    const struct settings *s = run_on ? run : saved;
    char endpoint[96], mirror[128], storage[160];
    endpoint_of(s, s->cache_port, endpoint, sizeof endpoint);
    snprintf(mirror, sizeof mirror, "%s://%s", s->tls_cert && s->tls_key ? "https" : "http",
             endpoint);
    if (s->mode == MODE_LOCAL)
        snprintf(storage, sizeof storage, "volume %s", SPEC_CACHE_VOLUME);
    else
        snprintf(storage, sizeof storage, "bucket %s, prefix %s/", s->bucket ? s->bucket : "?",
                 SPEC_CACHE_PREFIX);
    int busy = in->running_job != JOB_NONE || in->pending != JOB_NONE;
    const char *cstate;
    json_t *error = NULL;
    char msg[160];
    if (in->cache.running) {
        cstate = in->cache_healthy ? "running" : busy ? "starting" : "unhealthy";
        if (!in->cache_healthy && !busy)
            error = in->cache_http == 503
                        ? error_json(E_STORAGE_UNREACHABLE,
                                     "the Docker Hub cache runs but cannot reach its storage", NULL)
                        : error_json(E_REGISTRY_UNHEALTHY,
                                     "the Docker Hub cache container runs but does not answer on "
                                     "its port",
                                     NULL);
    } else if (strcmp(state, "starting") == 0 || strcmp(state, "pulling") == 0) {
        cstate = "starting";
    } else {
        cstate = "stopped";
        /* the registry runs with the cache, but the cache does not */
        if (in->reg.running && run_on && !busy) {
            cstate = "unhealthy";
            if (in->cache.exists)
                snprintf(msg, sizeof msg,
                         "the Docker Hub cache is not running (exit code %d); the registry runs",
                         in->cache.exit_code);
            else
                snprintf(msg, sizeof msg,
                         "the Docker Hub cache container was removed outside Storj Registry");
            error = error_json(
                in->cache.exists ? E_CONTAINER_EXITED : E_CONTAINER_REMOVED, msg,
                in->cache.exists
                    ? "The cache stops when it cannot reach its upstream as it starts (no "
                      "network, Docker Hub away), and Docker starts it again by itself. Logs "
                      "(Docker Hub cache) say why; Restart starts it at once."
                    : "Press Restart to create it again.");
        }
    }
    /* bind: the address it listens on (0.0.0.0 shows as localhost in the
     * endpoint), so that the tab knows whether other machines reach it */
    return json_pack("{s:b, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "enabled", saved_on,
                     "state", cstate, "healthy", in->cache.running && in->cache_healthy, "endpoint",
                     endpoint, "mirror", mirror, "bind", s->bind, "upstream",
                     s->cache_upstream ? s->cache_upstream : SETTINGS_CACHE_UPSTREAM, "ttl",
                     s->cache_ttl, "storage", storage, "error", error ? error : json_null());
}

/* {"endpoint","mode","fields":[...]}: the saved settings that wait for a
 * restart, and which settings differ from those that run (run == saved
 * when what runs is not known: no field is named then). */
static json_t *pending_change(const struct settings *run, const struct settings *saved)
{
    char endpoint[96];
    status_endpoint(saved, endpoint, sizeof endpoint);
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
        if ((run->users > 0) != (saved->users > 0)) /* logins turn on or off (users.h) */
            json_array_append_new(fields, json_string("users"));
        if (!str_eq(run->tls_cert, saved->tls_cert) || !str_eq(run->tls_key, saved->tls_key))
            json_array_append_new(fields, json_string("tls"));
        if (run->cache_enabled != saved->cache_enabled || run->cache_port != saved->cache_port ||
            !str_eq(run->cache_upstream, saved->cache_upstream) ||
            !str_eq(run->cache_username, saved->cache_username) ||
            !str_eq(run->cache_token, saved->cache_token) ||
            strcmp(run->cache_ttl, saved->cache_ttl) != 0)
            json_array_append_new(fields, json_string("cache"));
    }
    return json_pack("{s:s, s:s, s:o}", "endpoint", endpoint, "mode",
                     settings_mode_name(saved->mode), "fields", fields);
}

json_t *status_view(const struct status_input *in)
{
    char endpoint[96], exitmsg[200];
    const char *api = in->docker_api ? in->docker_api : "";
    const char *ver = in->docker_version ? in->docker_version : "";
    /* what runs (or ran last), not what is saved */
    const struct settings *s = in->running;
    const char *state;
    json_t *error = NULL;
    int busy = in->running_job != JOB_NONE || in->pending != JOB_NONE;

    if (in->phase && strcmp(in->phase, "pulling") == 0)
        state = "pulling";
    else if (in->pending == JOB_START || in->pending == JOB_RESTART ||
             in->running_job == JOB_START || in->running_job == JOB_RESTART)
        state = "starting";
    else if (!in->observed_once)
        state = "starting";
    else if (!in->docker_ok) {
        state = "failed";
        /* the code's own hint (an engine too new: update us), else Docker's */
        enum ecode code = in->docker_err->code ? in->docker_err->code : E_DOCKER_UNREACHABLE;
        error = error_json(
            code, in->docker_err->message[0] ? in->docker_err->message : "cannot reach Docker",
            ecode_hint(code) ? NULL : ecode_hint(E_DOCKER_UNREACHABLE));
    } else if (in->job_failed) {
        state = "failed";
        error = error_json(in->job_err->code, in->job_err->message, in->job_hint);
    } else if (in->reg.running) {
        state = in->reg_healthy || busy ? "running" : "unhealthy";
        if (!in->reg_healthy && !busy && in->reg_http == 503)
            /* distribution's storage health check failed */
            error = error_json(E_STORAGE_UNREACHABLE,
                               "the registry runs but cannot reach its storage", NULL);
        else if (!in->reg_healthy && !busy)
            error = error_json(E_REGISTRY_UNHEALTHY,
                               "the registry container runs but does not "
                               "answer on its port",
                               NULL);
        if (in->gw.exists && !in->gw.running && !busy) {
            state = "unhealthy";
            json_decref(error);
            error =
                error_json(E_GATEWAY_STOPPED, "the Storj gateway container is not running", NULL);
        }
    } else if (in->saved->desired_running && !busy) {
        state = "failed";
        if (in->reg.exists) {
            snprintf(exitmsg, sizeof exitmsg,
                     "the registry container stopped outside Storj Registry (exit code %d)",
                     in->reg.exit_code);
            error = error_json(E_CONTAINER_EXITED, exitmsg, NULL);
        } else {
            error = error_json(E_CONTAINER_REMOVED,
                               "the registry container was removed outside Storj Registry", NULL);
        }
    } else if (!in->saved->saved && !in->reg.exists) {
        state = "not-configured";
    } else {
        state = "stopped";
    }

    status_endpoint(s, endpoint, sizeof endpoint);

    json_t *progress = json_null();
    if (in->prog_image && in->prog_image[0])
        progress = json_pack("{s:s, s:I, s:I}", "image", in->prog_image, "current",
                             (json_int_t)in->prog_cur, "total", (json_int_t)in->prog_total);
    const char *job = in->running_job == JOB_START       ? "start"
                      : in->running_job == JOB_STOP      ? "stop"
                      : in->running_job == JOB_RESTART   ? "restart"
                      : in->running_job == JOB_REMOVE    ? "remove"
                      : in->running_job == JOB_GC        ? "gc"
                      : in->running_job == JOB_CHECK     ? "check"
                      : in->running_job == JOB_RETENTION ? "retention"
                                                         : NULL;
    int pending_restart = in->reg.exists && in->reg.hash && in->reg.hash[0] && in->desired_hash &&
                          in->desired_hash[0] && strcmp(in->reg.hash, in->desired_hash) != 0;
    json_t *st = json_pack(
        "{s:s, s:s, s:s, s:b, s:o, s:o, s:{s:b, s:s?, s:s?}, s:o, s:s?, s:b, s:b}", "state", state,
        "mode", settings_mode_name(s->mode), "endpoint", endpoint, "configured", in->saved->saved,
        "progress", progress, "error", error ? error : json_null(), "docker", "reachable",
        in->docker_ok, "version", ver[0] ? ver : NULL, "apiVersion", api[0] ? api : NULL,
        "containers", in->containers ? json_deep_copy(in->containers) : json_array(), "job", job,
        "pendingRestart", pending_restart, "desiredRunning", in->saved->desired_running);
    if (st)
        json_object_set_new(st, "lastCheck",
                            in->last_check ? json_deep_copy(in->last_check) : json_null());
    /* what the job at hand is doing ("read-only" and "collecting" during a
     * clean-up: pulls work, pushes are refused), or null */
    if (st)
        json_object_set_new(st, "phase", in->phase ? json_string(in->phase) : json_null());
    if (st)
        json_object_set_new(st, "cache", cache_view(in, state));
    if (st)
        json_object_set_new(st, "pendingChange",
                            pending_restart ? pending_change(s, in->saved) : json_null());
    if (st && in->gc_at) {
        char at[32];
        format_time_utc(in->gc_at, at, sizeof at);
        json_object_set_new(
            st, "lastGc",
            json_pack("{s:s, s:b, s:s}", "at", at, "ok", in->gc_ok, "message", in->gc_message));
    }
    if (st && in->settings_problem && in->settings_problem[0])
        json_object_set_new(
            st, "settingsProblem",
            json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", "settings_reset", "keptAs",
                      in->settings_kept_as, "message",
                      "the saved settings could not be read, so the backend started with defaults",
                      "detail", in->settings_problem, "hint",
                      "Enter your settings again and save them. The unreadable file is kept, "
                      "under the name in keptAs, in the extension's state folder."));
    return st;
}
