/* Layer 5 of the manager, the clean-up jobs, above the start (lifecycle.c)
 * that they end with. Garbage collection: the registry restarts read-only
 * (pulls keep working, pushes are refused at once), a container with its
 * spec runs `registry garbage-collect`, the registry restarts with its own
 * configuration. The clean-up rules: read what they match, delete what
 * they plan, then collect garbage. Reports through the state's calls
 * (state.c). */
#include "manager_int.h"

#include <fnmatch.h>
#include <string.h>
#include <unistd.h>

#include "indexer.h"
#include "browse.h"
#include "cleanup.h"
#include "retention.h"
#include "status.h"

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

/* Waits up to timeout_s for a container to exit, asking the engine every
 * 300 ms, so that a stop (cancel_start) or a shutdown ends the wait at once.
 * 0 with *code, or -1 with e (code "cancelled" when asked to give up). */
static int wait_exit(struct manager *m, const char *id, long timeout_s, int *code, struct err *e)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (mgr_cancelled(m))
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

/* Restarts the registry container (id) with the configuration in tar and
 * waits until it answers on url (60 s). 0, or -1 with e. */
static int restart_with(struct manager *m, const char *id, const struct buf *tar, const char *url,
                        const struct mgr_login *lg, struct err *e)
{
    if (docker_put_archive(&m->docker, id, tar->data, tar->len, e) ||
        docker_stop(&m->docker, id, STOP_TIMEOUT_S, e) || docker_start(&m->docker, id, e))
        return -1;
    for (int i = 0; i < 600; i++) {
        if (mgr_registry_answers(url, lg, 1000)) {
            /* a fresh look: the monitor's last one may have seen it stopped
             * for the restart, and status must not say "stopped" while it
             * answers */
            mgr_observe(m);
            return 0;
        }
        if (mgr_cancelled(m))
            return err_set(e, 499, E_CANCELLED, NULL, "the clean-up was cancelled by a stop");
        usleep(100 * 1000);
    }
    return err_set(e, 504, E_HEALTH_TIMEOUT, NULL,
                   "the registry did not answer within 60 s after its restart for the clean-up");
}

/* Runs garbage-collect on the registry's storage in a one-shot container
 * with the same configuration. The registry must not take pushes meanwhile
 * (a blob uploaded during the mark phase could be swept): it runs
 * read-only for the time, so pulls keep working and pushes get a refusal,
 * then restarts with its own configuration. */
static const struct buf *r_tar(struct spec_set *set)
{
    return &spec_find(set, "registry")->tar;
}

/* The garbage collection; keep_untagged: the clean-up rules that ran
 * just before ask to keep untagged manifests. */
static void run_gc(struct manager *m, int keep_untagged)
{
    struct settings s;
    struct spec_set set;
    struct err e = {0};
    json_t *create = NULL;
    struct spec_set ro_set;
    char id[72] = "", summary[300] = "", msg[400], url[128];
    struct mgr_login lg = {0};
    int code = -1, readonly = 0, done = 0;
    memset(&set, 0, sizeof set);
    memset(&ro_set, 0, sizeof ro_set);
    char reg_id[72];
    /* the configuration the registry runs with, even when other settings
     * were saved since (they wait for a restart) */
    struct mgr_look lk;
    if (mgr_look(m, MGR_EFFECTIVE, &s, &lk)) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        mgr_job_fail(m, &e, NULL);
        return;
    }
    int from_run = lk.from_run, running = lk.reg.running;
    snprintf(reg_id, sizeof reg_id, "%s", lk.reg.id);
    if (!running) {
        err_set(&e, 409, E_REGISTRY_NOT_RUNNING, NULL,
                "start the registry first: clean-up runs on a registry that is up");
        goto fail;
    }
    if (spec_build(&s, &m->sopts, &set, &e))
        goto fail;
    s.maintenance_readonly = 1;
    int built = spec_build(&s, &m->sopts, &ro_set, &e);
    s.maintenance_readonly = 0;
    if (built)
        goto fail;
    struct spec_container *r = spec_find(&set, "registry");
    mgr_probe_url(&s, url, sizeof url);
    mgr_login_of(&s, &lg); /* access.c */
    mgr_set_phase(m, "preparing");
    create = spec_gc_container(r->create, 1);
    if (!create) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto fail;
    }
    /* a leftover of an interrupted run, if it is ours */
    json_t *old = docker_inspect(&m->docker, GC_NAME, &e);
    const char *managed = mgr_label_of(json_object_get(old, "Config"), SPEC_LABEL_MANAGED);
    if (old && managed && strcmp(managed, "true") == 0)
        docker_remove(&m->docker, json_string_value(json_object_get(old, "Id")), &e);
    json_decref(old);
    /* only a registry known to be 3 or later deletes untagged manifests:
     * 2.x (the 2022 native-driver image among them) deletes the platforms
     * of a kept index with them, and so may a version it does not tell;
     * clean-up rules may ask to keep untagged manifests */
    int major = image_major(m, create);
    int untagged = major >= 3 && !keep_untagged;
    if (!untagged) {
        json_decref(create);
        create = spec_gc_container(r->create, 0);
        if (!create) {
            err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
            goto fail;
        }
    }
    mgr_set_phase(m, "read-only");
    readonly = 1; /* from here on, the registry gets its own configuration back */
    if (restart_with(m, reg_id, r_tar(&ro_set), url, &lg, &e))
        goto fail;
    log_info("garbage collection: the registry runs read-only");
    mgr_set_phase(m, "collecting");
    if (docker_create(&m->docker, GC_NAME, create, id, &e) ||
        docker_put_archive(&m->docker, id, r->tar.data, r->tar.len, &e) ||
        docker_start(&m->docker, id, &e) || wait_exit(m, id, GC_TIMEOUT_S, &code, &e))
        goto fail;
    docker_logs(&m->docker, id, 200, 0, gc_line, summary, NULL, &e);
    if (code != 0) {
        char line[300];
        mgr_last_log_line(m, id, line, sizeof line);
        err_set(&e, 502, E_GC_FAILED, NULL, "clean-up stopped with exit code %d%s%s", code,
                line[0] ? ": " : "", line);
        goto fail;
    }
    snprintf(msg, sizeof msg, "%s%s", summary[0] ? summary : "clean-up finished",
             untagged        ? ""
             : keep_untagged ? "; untagged manifests kept (the clean-up rules say so)"
             : major         ? "; untagged manifests kept (registry 2.x would delete the platforms "
                               "of multi-arch images)"
                             : "; untagged manifests kept (the registry did not tell its version)");
    log_info("garbage collection: %s", msg);
    mgr_gc_done(m, 1, msg);
    done = 1;
fail:
    if (!done)
        /* a clean-up that failed or was cancelled says so in lastGc; the
         * registry's own state is not its to change */
        mgr_gc_done(m, 0, e.message[0] ? e.message : "the clean-up failed");
    if (id[0]) {
        struct err ignored;
        docker_remove(&m->docker, id, &ignored);
    }
    int cancelled = mgr_cancelled(m);
    if (readonly) {
        /* back to its own configuration: written now, so that the start
         * after a stop that cancelled us finds it too */
        struct err ignored;
        docker_put_archive(&m->docker, reg_id, r_tar(&set)->data, r_tar(&set)->len, &ignored);
        if (!cancelled) {
            mgr_set_phase(m, "starting");
            docker_stop(&m->docker, reg_id, STOP_TIMEOUT_S, &ignored);
        }
    }
    spec_free(&set);
    spec_free(&ro_set);
    json_decref(create);
    settings_free(&s);
    secret_wipe(&lg, sizeof lg);
    if (readonly && !cancelled)
        mgr_run_start(m, from_run); /* the same container again, then wait until it answers */
}

void mgr_run_gc(struct manager *m)
{
    run_gc(m, 0);
}

/* ---- clean-up rules -------------------------------------------------------- */

static int shutting_down(void *ctx)
{
    return mgr_shutting_down(ctx);
}

static int job_stopped(void *ctx)
{
    return mgr_cancelled(ctx);
}

static void reading_told(void *ctx, const char *repo, size_t at, size_t repos, size_t done,
                         size_t total)
{
    mgr_reading_told(ctx, repo, at, repos, done, total);
}

/* The registry at base for a reading, its progress told to GET
 * /api/retention until io_close. */
static int io_open(struct scan_io *io, const char *base, const struct browse_login *login,
                   int (*stopped)(void *), struct manager *m, struct err *e)
{
    struct scan_io_login sl = {login->user, login->password, login->tls_pin};
    if (scan_io_http_init(io, base, &sl, stopped, m))
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    io->progress = reading_told;
    io->pctx = m;
    indexer_io(io); /* the index's push and pull times */
    mgr_reading_begin(m);
    return 0;
}

static void io_close(struct scan_io *io, struct manager *m)
{
    if (!io->ctx)
        return;
    scan_io_http_free(io);
    mgr_reading_end(m);
}

json_t *mgr_retention_preview_plan(struct manager *m, const char *base,
                                   const struct browse_login *login, json_t *rules, struct err *e)
{
    struct scan_io io;
    if (io_open(&io, base, login, shutting_down, m, e))
        return NULL;
    json_t *repos = cleanup_read(&io, rules, e), *plan = NULL;
    io_close(&io, m);
    if (repos && !(plan = retention_plan(rules, repos, (long long)time(NULL))))
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    /* read now, from the registry */
    if (plan)
        json_object_set_new(plan, "asOf", json_null());
    json_decref(repos);
    return plan;
}

/* lastRun: the result of cleanup_apply in a sentence that says what could
 * not be done and why (the first few repositories and images by name). */
static void retention_done(struct manager *m, int ok, json_t *result, const char *message)
{
    char at[32];
    format_time_utc((long long)time(NULL), at, sizeof at);
    json_t *skipped = json_object_get(result, "skipped");
    json_t *last = json_pack(
        "{s:s, s:b, s:I, s:I, s:s, s:o, s:o, s:o}", "at", at, "ok", ok, "images",
        json_integer_value(json_object_get(result, "images")), "tags",
        json_integer_value(json_object_get(result, "tags")), "message", message, "skipped",
        skipped ? json_deep_copy(skipped) : json_array(), "kept",
        json_object_get(result, "kept") ? json_deep_copy(json_object_get(result, "kept"))
                                        : json_array(),
        "failed",
        json_object_get(result, "failed") ? json_deep_copy(json_object_get(result, "failed"))
                                          : json_array());
    mgr_set_last_retention(m, last);
}

static void sentence_of(json_t *result, char *msg, size_t len)
{
    struct buf b = {.max = len};
    long long images = json_integer_value(json_object_get(result, "images"));
    buf_printf(&b, "%lld image(s) with %lld tag(s) deleted", images,
               json_integer_value(json_object_get(result, "tags")));
    json_t *skipped = json_object_get(result, "skipped"), *kept = json_object_get(result, "kept"),
           *failed = json_object_get(result, "failed");
    size_t i;
    json_t *x;
    if (json_array_size(skipped)) {
        buf_printf(&b,
                   "; %zu repositor%s skipped, nothing deleted there:", json_array_size(skipped),
                   json_array_size(skipped) == 1 ? "y" : "ies");
        json_array_foreach(skipped, i, x)
        {
            if (i == 3) {
                buf_printf(&b, " ...");
                break;
            }
            buf_printf(&b, "%s %s: %.160s", i ? ";" : "",
                       json_string_value(json_object_get(x, "name")),
                       json_string_value(json_object_get(x, "reason")));
        }
    }
    if (json_array_size(kept)) {
        x = json_array_get(kept, 0);
        buf_printf(&b, "; %zu planned image(s) kept, e.g. in %s: %s", json_array_size(kept),
                   json_string_value(json_object_get(x, "name")),
                   json_string_value(json_object_get(x, "reason")));
    }
    if (json_is_true(json_object_get(result, "refused")))
        buf_printf(&b, "; the registry refuses deletes (storage.delete is off): nothing more was "
                       "tried");
    else if (json_array_size(failed))
        buf_printf(&b, "; %zu could not be deleted (Logs say which)", json_array_size(failed));
    if (images)
        buf_printf(&b, "; the clean-up frees their space");
    snprintf(msg, len, "%s", b.data ? b.data : "the clean-up rules ran");
    str_utf8_cut(msg);
    buf_free(&b);
}

/* Reads what the rules match, plans, deletes what is planned and still
 * true (cleanup_apply), then cleans up (read-only meanwhile) so that the
 * space is freed. */
void mgr_run_retention(struct manager *m)
{
    struct err e = {0};
    char url[128], base[128], msg[1024];
    struct scan_io io = {0};
    struct settings s;
    struct mgr_look lk;
    struct mgr_login lg = {0};
    json_t *rules = mgr_rules_copy(m);
    int copied = mgr_look(m, MGR_EFFECTIVE, &s, &lk) == 0;
    int up = lk.reg.running && lk.reg_healthy;
    if (copied) {
        mgr_probe_url(&s, url, sizeof url);
        mgr_login_of(&s, &lg); /* access.c */
        settings_free(&s);
        snprintf(base, sizeof base, "%.*s", (int)(strlen(url) - 4), url); /* without "/v2/" */
    }
    json_t *repos = NULL, *plan = NULL, *result = NULL;
    if (!rules || !copied) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto fail;
    }
    if (!up) {
        err_set(&e, 409, E_REGISTRY_NOT_RUNNING, NULL,
                "the clean-up rules apply to a running registry: start it first");
        goto fail;
    }
    if (io_open(&io, base, &lg.l, job_stopped, m, &e))
        goto fail;
    mgr_set_phase(m, "reading");
    if (!(repos = cleanup_read(&io, rules, &e)))
        goto fail;
    if (!(plan = retention_plan(rules, repos, (long long)time(NULL)))) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        goto fail;
    }
    mgr_set_phase(m, "deleting");
    if (!(result = cleanup_apply(&io, rules, plan, (long long)time(NULL), &e)))
        goto fail;
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(result, "failed"), i, x)
    {
        log_warn("clean-up rules: deleting %s@%.19s failed: %s",
                 json_string_value(json_object_get(x, "name")),
                 json_string_value(json_object_get(x, "digest")),
                 json_string_value(json_object_get(x, "reason")));
    }
    json_array_foreach(json_object_get(result, "skipped"), i, x)
    {
        log_warn("clean-up rules: %s skipped, nothing deleted there: %s",
                 json_string_value(json_object_get(x, "name")),
                 json_string_value(json_object_get(x, "reason")));
    }
    sentence_of(result, msg, sizeof msg);
    log_info("clean-up rules: %s", msg);
    int ok = json_array_size(json_object_get(result, "failed")) == 0 &&
             json_array_size(json_object_get(result, "skipped")) == 0;
    retention_done(m, ok, result, msg);
    int stopped = job_stopped(m);
    /* the rules may ask the clean-up after them to keep untagged manifests */
    int keep_untagged = json_is_false(json_object_get(rules, "deleteUntagged"));
    io_close(&io, m);
    json_decref(rules);
    json_decref(repos);
    json_decref(plan);
    json_decref(result);
    secret_wipe(&lg, sizeof lg);
    if (!stopped)
        run_gc(m, keep_untagged);
    return;
fail:
    retention_done(m, 0, NULL, e.message[0] ? e.message : "the clean-up rules failed");
    io_close(&io, m);
    json_decref(rules);
    json_decref(repos);
    json_decref(plan);
    secret_wipe(&lg, sizeof lg);
}
