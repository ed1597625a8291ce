/* Garbage collection: the registry stops, a container with its spec runs
 * `registry garbage-collect`, the registry starts again. */
#include "manager_int.h"

#include <string.h>
#include <unistd.h>

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

static void gc_done(struct manager *m, int ok, const char *message)
{
    pthread_mutex_lock(&m->mu);
    m->gc_at = (long long)time(NULL);
    m->gc_ok = ok;
    snprintf(m->gc_message, sizeof m->gc_message, "%s", message);
    mgr_unlock_changed(m);
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
void mgr_run_gc(struct manager *m)
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
    const struct settings *eff = mgr_effective_locked(m);
    int from_run = eff == &m->run;
    int copied = settings_copy(&s, eff);
    int running = m->reg.running;
    snprintf(reg_id, sizeof reg_id, "%s", m->reg.id);
    pthread_mutex_unlock(&m->mu);
    if (copied) {
        err_set(&e, 500, E_NO_MEMORY, NULL, "out of memory");
        mgr_job_fail(m, &e, NULL);
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
    mgr_set_phase(m, "collecting");
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
    /* unknown is taken as 3, the default image */
    int major = image_major(m, create);
    int untagged = major == 0 || major >= 3;
    if (!untagged) {
        json_decref(create);
        create = spec_gc_container(r->create, 0);
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
        mgr_last_log_line(m, id, line, sizeof line);
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
    mgr_run_start(m, from_run); /* the same container again, then wait until it answers */
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
        mgr_run_start(m, from_run); /* back up as it was; a stop that cancelled us runs next */
}
