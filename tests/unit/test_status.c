/*
 * Unit tests for backend/status.c: the status view as a pure function of
 * an observation. Every state the tab shows, with the error and hint it
 * carries, from a table of inputs; then transitions, as sequences of
 * observations a user lives through (a start, storage lost and back, a
 * container stopped outside, Docker gone and back).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "status.h"
#include "testutil.h"

/* A world to render: settings that run and are saved, and the errors the
 * input points at. */
struct world {
    struct settings saved, running;
    struct err docker_err, job_err;
    struct status_input in;
};

static void world_init(struct world *w)
{
    memset(w, 0, sizeof *w);
    assert_int_equal(settings_init(&w->saved), 0);
    w->saved.saved = 1;
    assert_int_equal(settings_copy(&w->running, &w->saved), 0);
    w->in.observed_once = 1;
    w->in.docker_ok = 1;
    w->in.docker_err = &w->docker_err;
    w->in.docker_api = "1.43";
    w->in.docker_version = "28.5.2";
    w->in.job_err = &w->job_err;
    w->in.job_hint = "";
    w->in.reg.hash = "";
    w->in.gw.hash = "";
    w->in.cache.hash = "";
    w->in.running = &w->saved; /* what runs is not known */
    w->in.saved = &w->saved;
    w->in.desired_hash = "";
    w->in.settings_problem = "";
    w->in.settings_kept_as = "";
}

static void world_free(struct world *w)
{
    settings_free(&w->saved);
    settings_free(&w->running);
}

/* The registry runs and answers. */
static void running_healthy(struct world *w)
{
    w->in.reg = (struct status_container){1, 1, 0, "h1"};
    w->in.desired_hash = "h1";
    w->in.reg_healthy = 1;
    w->in.reg_http = 200;
    w->saved.desired_running = 1;
}

/* ---- the table of states ------------------------------------------------ */

struct row {
    const char *name;
    void (*setup)(struct world *w);
    const char *state;
    const char *code; /* NULL: "error" must be null */
    const char *hint; /* a word the hint has; NULL: none expected */
    const char *job;  /* NULL: "job" must be null */
};

static void s_not_observed(struct world *w)
{
    w->in.observed_once = 0;
    w->in.docker_ok = 0;
}
static void s_docker_down(struct world *w)
{
    w->in.docker_ok = 0;
    err_set(&w->docker_err, 503, E_DOCKER_UNREACHABLE, NULL, "cannot reach Docker");
}
static void s_docker_too_new(struct world *w)
{
    w->in.docker_ok = 0;
    err_set(&w->docker_err, 502, E_DOCKER_TOO_NEW, NULL, "the engine needs API 1.44");
}
static void s_docker_down_no_code(struct world *w)
{
    w->in.docker_ok = 0;
}
static void s_not_configured(struct world *w)
{
    w->saved.saved = 0;
}
static void s_stopped(struct world *w)
{
    (void)w;
}
static void s_start_queued(struct world *w)
{
    w->in.pending = JOB_START;
}
static void s_starting(struct world *w)
{
    w->in.running_job = JOB_START;
    w->in.phase = "starting";
}
static void s_restarting(struct world *w)
{
    running_healthy(w);
    w->in.running_job = JOB_RESTART;
}
static void s_pulling(struct world *w)
{
    w->in.running_job = JOB_START;
    w->in.phase = "pulling";
    w->in.prog_image = "registry:3";
    w->in.prog_cur = 10;
    w->in.prog_total = 100;
}
static void s_running(struct world *w)
{
    running_healthy(w);
}
static void s_storage_away(struct world *w)
{
    running_healthy(w);
    w->in.reg_healthy = 0;
    w->in.reg_http = 503;
}
static void s_not_answering(struct world *w)
{
    running_healthy(w);
    w->in.reg_healthy = 0;
    w->in.reg_http = 0;
}
static void s_unhealthy_while_stopping(struct world *w)
{
    s_not_answering(w);
    w->in.running_job = JOB_STOP;
    w->in.phase = "stopping";
}
static void s_gateway_stopped(struct world *w)
{
    running_healthy(w);
    w->in.gw = (struct status_container){1, 0, 2, "h1"};
}
static void s_health_timeout(struct world *w)
{
    w->in.job_failed = 1;
    err_set(&w->job_err, 504, E_HEALTH_TIMEOUT, NULL, "the registry did not answer");
}
static void s_check_failed(struct world *w)
{
    w->in.job_failed = 1;
    err_set(&w->job_err, 502, E_STORAGE_CHECK_FAILED, NULL, "the bucket does not exist");
    w->in.job_hint = "Create the bucket, or press Check with Create bucket.";
}
static void s_port_in_use(struct world *w)
{
    w->in.job_failed = 1;
    err_set(&w->job_err, 502, E_PORT_IN_USE, NULL, "starting the container failed: bind");
}
static void s_failed_no_code(struct world *w)
{
    w->in.job_failed = 1;
    snprintf(w->job_err.message, sizeof w->job_err.message, "something failed");
}
static void s_exited_outside(struct world *w)
{
    w->in.reg = (struct status_container){1, 0, 137, "h1"};
    w->saved.desired_running = 1;
}
static void s_removed_outside(struct world *w)
{
    w->saved.desired_running = 1;
}
static void s_exited_stop_running(struct world *w)
{
    /* a registry the user stopped: no wish to run, so no error */
    w->in.reg = (struct status_container){1, 0, 0, "h1"};
}
static void s_removing(struct world *w)
{
    s_exited_outside(w);
    w->in.running_job = JOB_REMOVE;
}
static void s_gc(struct world *w)
{
    running_healthy(w);
    w->in.running_job = JOB_GC;
}
static void s_check(struct world *w)
{
    w->in.running_job = JOB_CHECK;
}

static const struct row rows[] = {
    {"before Docker was looked at", s_not_observed, "starting", NULL, NULL, NULL},
    {"Docker unreachable", s_docker_down, "failed", "docker_unreachable", "Start Docker", NULL},
    {"Docker too new for the backend", s_docker_too_new, "failed", "docker_too_new", "Update",
     NULL},
    {"Docker unreachable, no code", s_docker_down_no_code, "failed", "docker_unreachable",
     "Start Docker", NULL},
    {"never configured", s_not_configured, "not-configured", NULL, NULL, NULL},
    {"configured, stopped", s_stopped, "stopped", NULL, NULL, NULL},
    {"a start queued", s_start_queued, "starting", NULL, NULL, NULL},
    {"starting", s_starting, "starting", NULL, NULL, "start"},
    {"restarting a running registry", s_restarting, "starting", NULL, NULL, "restart"},
    {"pulling the image", s_pulling, "pulling", NULL, NULL, "start"},
    {"running and answering", s_running, "running", NULL, NULL, NULL},
    {"running, storage away (503)", s_storage_away, "unhealthy", "storage_unreachable",
     "recovers by itself", NULL},
    {"running, not answering", s_not_answering, "unhealthy", "registry_unhealthy", "Restart", NULL},
    {"not answering while a stop runs", s_unhealthy_while_stopping, "running", NULL, NULL, "stop"},
    {"Storj gateway stopped", s_gateway_stopped, "unhealthy", "gateway_stopped", "Restart", NULL},
    {"a start that timed out", s_health_timeout, "failed", "health_timeout", "Logs", NULL},
    {"a storage check that failed", s_check_failed, "failed", "storage_check_failed",
     "Create the bucket", NULL},
    {"a port in use", s_port_in_use, "failed", "port_in_use", "another port", NULL},
    {"a failure without a code", s_failed_no_code, "failed", "error", NULL, NULL},
    {"stopped outside Storj Registry", s_exited_outside, "failed", "container_exited",
     "press Start", NULL},
    {"removed outside Storj Registry", s_removed_outside, "failed", "container_removed",
     "stored images are kept", NULL},
    {"stopped by the user", s_exited_stop_running, "stopped", NULL, NULL, NULL},
    {"removing", s_removing, "stopped", NULL, NULL, "remove"},
    {"cleaning up", s_gc, "running", NULL, NULL, "gc"},
    {"checking the storage", s_check, "stopped", NULL, NULL, "check"},
};

static const char *str_at(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    return json_string_value(v);
}

static void test_states(void **state)
{
    static const char *const keys[] = {
        "state",          "mode",      "endpoint",      "configured", "progress",
        "error",          "docker",    "containers",    "job",        "pendingRestart",
        "desiredRunning", "lastCheck", "pendingChange", "phase"};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        const struct row *r = &rows[i];
        struct world w;
        world_init(&w);
        r->setup(&w);
        json_t *st = status_view(&w.in);
        CHECK(st != NULL, "%s: no status", r->name);
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            CHECK(json_object_get(st, keys[k]) != NULL, "%s: no %s", r->name, keys[k]);
        const char *got = str_at(st, "state", NULL);
        CHECK(got && strcmp(got, r->state) == 0, "%s: state %s want %s", r->name,
              got ? got : "(none)", r->state);
        json_t *error = json_object_get(st, "error");
        if (!r->code) {
            CHECK(json_is_null(error), "%s: error %s", r->name,
                  str_at(st, "error", "code") ? str_at(st, "error", "code") : "?");
        } else {
            const char *code = str_at(st, "error", "code");
            CHECK(code && strcmp(code, r->code) == 0, "%s: code %s want %s", r->name,
                  code ? code : "(none)", r->code);
            const char *msg = str_at(st, "error", "message");
            CHECK(msg != NULL, "%s: no message", r->name);
        }
        const char *hint = str_at(st, "error", "hint");
        if (r->hint)
            CHECK(hint && strstr(hint, r->hint), "%s: hint '%s' lacks '%s'", r->name,
                  hint ? hint : "(none)", r->hint);
        const char *job = str_at(st, "job", NULL);
        if (r->job)
            CHECK(job && strcmp(job, r->job) == 0, "%s: job %s want %s", r->name,
                  job ? job : "(none)", r->job);
        else
            CHECK(!job, "%s: job %s", r->name, job);
        json_decref(st);
        world_free(&w);
    }
}

/* ---- details ------------------------------------------------------------ */

static void test_progress_and_docker(void **state)
{
    struct world w;
    world_init(&w);
    s_pulling(&w);
    json_t *st = status_view(&w.in);
    json_t *p = json_object_get(st, "progress");
    assert_string_equal(json_string_value(json_object_get(p, "image")), "registry:3");
    assert_int_equal(json_integer_value(json_object_get(p, "current")), 10);
    assert_int_equal(json_integer_value(json_object_get(p, "total")), 100);
    json_t *d = json_object_get(st, "docker");
    assert_true(json_is_true(json_object_get(d, "reachable")));
    assert_string_equal(json_string_value(json_object_get(d, "apiVersion")), "1.43");
    json_decref(st);

    /* no image: progress is null; unknown versions are left out */
    w.in.prog_image = "";
    w.in.docker_api = "";
    st = status_view(&w.in);
    assert_true(json_is_null(json_object_get(st, "progress")));
    assert_true(json_is_null(json_object_get(json_object_get(st, "docker"), "apiVersion")));
    json_decref(st);
    world_free(&w);
}

/* What runs, not what is saved: the endpoint is the running registry's;
 * a saved change waits as pendingChange with the fields that differ. */
static void test_pending_change(void **state)
{
    struct world w;
    world_init(&w);
    running_healthy(&w);
    w.in.running = &w.running;
    w.saved.port = 5005;
    w.in.desired_hash = "h2";
    json_t *st = status_view(&w.in);
    assert_string_equal(str_at(st, "endpoint", NULL), "localhost:9999");
    assert_true(json_is_true(json_object_get(st, "pendingRestart")));
    json_t *pc = json_object_get(st, "pendingChange");
    assert_string_equal(json_string_value(json_object_get(pc, "endpoint")), "localhost:5005");
    json_t *fields = json_object_get(pc, "fields");
    assert_int_equal(json_array_size(fields), 1);
    assert_string_equal(json_string_value(json_array_get(fields, 0)), "port");
    json_decref(st);

    /* the same hash: nothing pending */
    w.in.desired_hash = "h1";
    st = status_view(&w.in);
    assert_true(json_is_false(json_object_get(st, "pendingRestart")));
    assert_true(json_is_null(json_object_get(st, "pendingChange")));
    json_decref(st);

    /* what runs is unknown: pending, but no field is named */
    w.in.desired_hash = "h2";
    w.in.running = &w.saved;
    st = status_view(&w.in);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(st, "pendingChange"), "fields")), 0);
    json_decref(st);
    world_free(&w);
}

static void test_endpoints(void **state)
{
    static const struct {
        const char *bind, *want;
    } cases[] = {
        {"127.0.0.1", "localhost:9999"},
        {"0.0.0.0", "localhost:9999"},
        {"198.18.0.1", "198.18.0.1:9999"},
        {"::1", "[::1]:9999"},
    };
    struct settings s;
    assert_int_equal(settings_init(&s), 0);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[96];
        snprintf(s.bind, sizeof s.bind, "%s", cases[i].bind);
        status_endpoint(&s, out, sizeof out);
        CHECK(strcmp(out, cases[i].want) == 0, "%s: %s want %s", cases[i].bind, out, cases[i].want);
    }
    settings_free(&s);
}

static void test_last_gc_and_settings_problem(void **state)
{
    struct world w;
    world_init(&w);
    json_t *st = status_view(&w.in);
    assert_null(json_object_get(st, "lastGc"));
    assert_null(json_object_get(st, "settingsProblem"));
    assert_true(json_is_null(json_object_get(st, "lastCheck")));
    json_decref(st);

    json_t *check = json_pack("{s:b}", "ok", 1);
    w.in.last_check = check;
    w.in.gc_at = 1764633600; /* 2025-12-02T00:00:00Z */
    w.in.gc_ok = 0;
    w.in.gc_message = "the registry was stopped";
    w.in.settings_problem = "not JSON at line 1";
    w.in.settings_kept_as = "settings.json.unreadable-1";
    st = status_view(&w.in);
    json_t *gc = json_object_get(st, "lastGc");
    assert_string_equal(json_string_value(json_object_get(gc, "at")), "2025-12-02T00:00:00Z");
    assert_true(json_is_false(json_object_get(gc, "ok")));
    assert_true(json_is_true(json_object_get(json_object_get(st, "lastCheck"), "ok")));
    /* nothing shared with the input: the answer is freed outside the lock */
    assert_true(json_object_get(st, "lastCheck") != check);
    assert_int_equal(check->refcount, 1);
    json_t *sp = json_object_get(st, "settingsProblem");
    assert_string_equal(json_string_value(json_object_get(sp, "code")), "settings_reset");
    assert_string_equal(json_string_value(json_object_get(sp, "keptAs")),
                        "settings.json.unreadable-1");
    assert_non_null(json_object_get(sp, "hint"));
    /* a failed clean-up is the clean-up's, not the registry's state */
    assert_string_equal(str_at(st, "state", NULL), "stopped");
    json_decref(st);
    json_decref(check);
    world_free(&w);
}

/* ---- transitions -------------------------------------------------------- */

/* Each step changes the world, then the status must say state/code. */
struct step {
    void (*apply)(struct world *w);
    const char *state, *code;
};

static void t_start(struct world *w)
{
    w->in.pending = JOB_START;
}
static void t_job_runs(struct world *w)
{
    w->in.pending = JOB_NONE;
    w->in.running_job = JOB_START;
    w->in.phase = "pulling";
    w->in.prog_image = "registry:3";
}
static void t_pulled(struct world *w)
{
    w->in.phase = "starting";
    w->in.prog_image = "";
}
static void t_container_up(struct world *w)
{
    w->in.reg = (struct status_container){1, 1, 0, "h1"};
    w->in.desired_hash = "h1";
    w->saved.desired_running = 1;
}
static void t_job_done(struct world *w)
{
    w->in.running_job = JOB_NONE;
    w->in.phase = NULL;
}
static void t_answers(struct world *w)
{
    w->in.reg_healthy = 1;
    w->in.reg_http = 200;
}
static void t_storage_lost(struct world *w)
{
    w->in.reg_healthy = 0;
    w->in.reg_http = 503;
}
static void t_storage_back(struct world *w)
{
    t_answers(w);
}
static void t_killed_outside(struct world *w)
{
    w->in.reg.running = 0;
    w->in.reg.exit_code = 137;
    w->in.reg_healthy = 0;
    w->in.reg_http = 0;
}
static void t_docker_gone(struct world *w)
{
    w->in.docker_ok = 0;
    err_set(&w->docker_err, 503, E_DOCKER_UNREACHABLE, NULL, "cannot reach Docker");
}
static void t_docker_back_resume(struct world *w)
{
    w->in.docker_ok = 1;
    w->in.pending = JOB_START;
}
static void t_resumed(struct world *w)
{
    w->in.pending = JOB_NONE;
    w->in.reg.running = 1;
    t_answers(w);
}
static void t_start_times_out(struct world *w)
{
    w->in.running_job = JOB_NONE;
    w->in.job_failed = 1;
    err_set(&w->job_err, 504, E_HEALTH_TIMEOUT, NULL, "the registry did not answer");
}
static void t_stop_requested(struct world *w)
{
    w->in.job_failed = 0; /* a new job clears the failure */
    w->in.running_job = JOB_STOP;
    w->in.phase = "stopping";
}
static void t_stopped(struct world *w)
{
    w->in.running_job = JOB_NONE;
    w->in.phase = NULL;
    w->in.reg.running = 0;
    w->in.reg.exit_code = 0;
    w->saved.desired_running = 0;
    w->in.reg_healthy = 0;
}

static const struct step life[] = {
    {t_start, "starting", NULL},
    {t_job_runs, "pulling", NULL},
    {t_pulled, "starting", NULL},
    {t_container_up, "starting", NULL},
    {t_job_done, "unhealthy", "registry_unhealthy"},
    {t_answers, "running", NULL},
    {t_storage_lost, "unhealthy", "storage_unreachable"},
    {t_storage_back, "running", NULL},
    {t_killed_outside, "failed", "container_exited"},
    {t_docker_gone, "failed", "docker_unreachable"},
    {t_docker_back_resume, "starting", NULL},
    {t_resumed, "running", NULL},
    {t_stop_requested, "running", NULL},
    {t_stopped, "stopped", NULL},
};

static const struct step timeout[] = {
    {t_start, "starting", NULL},         {t_job_runs, "pulling", NULL},
    {t_pulled, "starting", NULL},        {t_start_times_out, "failed", "health_timeout"},
    {t_stop_requested, "stopped", NULL},
};

static void run_steps(const char *name, const struct step *steps, size_t n)
{
    struct world w;
    world_init(&w);
    for (size_t i = 0; i < n; i++) {
        steps[i].apply(&w);
        json_t *st = status_view(&w.in);
        const char *state = str_at(st, "state", NULL);
        const char *code = str_at(st, "error", "code");
        const char *want = steps[i].state;
        CHECK(state && strcmp(state, want) == 0, "%s step %zu: state %s want %s", name, i,
              state ? state : "(none)", want);
        if (steps[i].code)
            CHECK(code && strcmp(code, steps[i].code) == 0, "%s step %zu: code %s want %s", name, i,
                  code ? code : "(none)", steps[i].code);
        else
            CHECK(!code, "%s step %zu: unexpected error %s", name, i, code);
        json_decref(st);
    }
    world_free(&w);
}

/* The Docker Hub cache: null when off everywhere; its own state, error,
 * endpoint, mirror and storage otherwise; the registry's state unmoved. */
static void c_off(struct world *w)
{
    running_healthy(w);
}
static void c_running(struct world *w)
{
    running_healthy(w);
    w->saved.cache_enabled = 1;
    w->in.cache = (struct status_container){1, 1, 0, "h1"};
    w->in.cache_healthy = 1;
    w->in.cache_http = 200;
}
static void c_not_answering(struct world *w)
{
    c_running(w);
    w->in.cache_healthy = 0;
    w->in.cache_http = 0;
}
static void c_storage_away(struct world *w)
{
    c_running(w);
    w->in.cache_healthy = 0;
    w->in.cache_http = 503;
}
static void c_exited(struct world *w)
{
    c_running(w);
    w->in.cache = (struct status_container){1, 0, 2, "h1"};
}
static void c_removed(struct world *w)
{
    c_running(w);
    w->in.cache = (struct status_container){0, 0, 0, ""};
}
static void c_stopped(struct world *w)
{
    w->saved.cache_enabled = 1;
    w->in.cache = (struct status_container){1, 0, 0, "h1"};
    w->in.reg = (struct status_container){1, 0, 0, "h1"};
}
static void c_starting(struct world *w)
{
    w->saved.cache_enabled = 1;
    w->in.running_job = JOB_START;
}
static void c_s3_tls(struct world *w)
{
    c_running(w);
    w->saved.mode = MODE_S3;
    w->saved.bucket = xstrdup("images");
    w->saved.cache_port = 5998;
    w->saved.tls_cert = xstrdup("cert");
    w->saved.tls_key = xstrdup("key");
    snprintf(w->saved.bind, sizeof w->saved.bind, "198.18.0.1");
}

static void c_wildcard(struct world *w)
{
    c_running(w);
    snprintf(w->saved.bind, sizeof w->saved.bind, "0.0.0.0");
}

static void test_cache(void **state)
{
    static const struct {
        const char *name;
        void (*setup)(struct world *w);
        const char *state; /* NULL: "cache" is null */
        const char *code;  /* NULL: no error */
        const char *reg_state;
        const char *endpoint, *mirror, *storage, *bind;
    } rows_[] = {
        {"off", c_off, NULL, NULL, "running", NULL, NULL, NULL, NULL},
        {"running", c_running, "running", NULL, "running", "localhost:9998",
         "http://localhost:9998", "volume storj-registry-cache", "127.0.0.1"},
        {"on every address", c_wildcard, "running", NULL, "running", "localhost:9998",
         "http://localhost:9998", "volume storj-registry-cache", "0.0.0.0"},
        {"not answering", c_not_answering, "unhealthy", "registry_unhealthy", "running", NULL, NULL,
         NULL, NULL},
        {"storage away", c_storage_away, "unhealthy", "storage_unreachable", "running", NULL, NULL,
         NULL, NULL},
        {"exited outside", c_exited, "unhealthy", "container_exited", "running", NULL, NULL, NULL,
         NULL},
        {"removed outside", c_removed, "unhealthy", "container_removed", "running", NULL, NULL,
         NULL, NULL},
        {"stopped with the registry", c_stopped, "stopped", NULL, "stopped", NULL, NULL, NULL,
         NULL},
        {"starting", c_starting, "starting", NULL, "starting", NULL, NULL, NULL, NULL},
        {"s3 with TLS on another address", c_s3_tls, "running", NULL, "running", "198.18.0.1:5998",
         "https://198.18.0.1:5998", "bucket images, prefix docker-hub-cache/", "198.18.0.1"},
    };
    for (size_t i = 0; i < sizeof rows_ / sizeof *rows_; i++) {
        struct world w;
        world_init(&w);
        rows_[i].setup(&w);
        json_t *st = status_view(&w.in);
        assert_non_null(st);
        const char *n = rows_[i].name;
        json_t *c = json_object_get(st, "cache");
        CHECK(strcmp(str_at(st, "state", NULL), rows_[i].reg_state) == 0, "%s: registry %s", n,
              str_at(st, "state", NULL));
        if (!rows_[i].state) {
            CHECK(json_is_null(c), "%s: cache not null", n);
        } else {
            CHECK(strcmp(str_at(c, "state", NULL), rows_[i].state) == 0, "%s: state %s", n,
                  str_at(c, "state", NULL));
            const char *code = str_at(c, "error", "code");
            CHECK(rows_[i].code ? code && strcmp(code, rows_[i].code) == 0 : !code, "%s: code %s",
                  n, code ? code : "(none)");
            if (rows_[i].code)
                CHECK(str_at(c, "error", "hint") != NULL, "%s: no hint", n);
            CHECK(json_is_true(json_object_get(c, "healthy")) ==
                      (strcmp(rows_[i].state, "running") == 0),
                  "%s: healthy", n);
            if (rows_[i].endpoint) {
                CHECK(strcmp(str_at(c, "endpoint", NULL), rows_[i].endpoint) == 0,
                      "%s: endpoint %s", n, str_at(c, "endpoint", NULL));
                CHECK(strcmp(str_at(c, "mirror", NULL), rows_[i].mirror) == 0, "%s: mirror %s", n,
                      str_at(c, "mirror", NULL));
                CHECK(strcmp(str_at(c, "storage", NULL), rows_[i].storage) == 0, "%s: storage %s",
                      n, str_at(c, "storage", NULL));
                /* where it listens: the endpoint says localhost for 0.0.0.0 too */
                CHECK(str_at(c, "bind", NULL) &&
                          strcmp(str_at(c, "bind", NULL), rows_[i].bind) == 0,
                      "%s: bind %s", n, str_at(c, "bind", NULL));
                CHECK(strcmp(str_at(c, "upstream", NULL), "https://registry-1.docker.io") == 0,
                      "%s: upstream", n);
                CHECK(strcmp(str_at(c, "ttl", NULL), "168h") == 0, "%s: ttl", n);
            }
        }
        json_decref(st);
        world_free(&w);
    }

    /* a change of the cache's settings waits for a restart, and says so */
    struct world w;
    world_init(&w);
    running_healthy(&w);
    w.in.running = &w.running;
    w.saved.cache_enabled = 1;
    w.in.desired_hash = "h2";
    json_t *st = status_view(&w.in);
    json_t *fields = json_object_get(json_object_get(st, "pendingChange"), "fields");
    CHECK(json_array_size(fields) == 1 &&
              strcmp(json_string_value(json_array_get(fields, 0)), "cache") == 0,
          "pending fields");
    json_decref(st);
    world_free(&w);
}

static void test_transitions(void **state)
{
    run_steps("a life", life, sizeof life / sizeof *life);
    run_steps("a start that timed out", timeout, sizeof timeout / sizeof *timeout);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_progress_and_docker),
        cmocka_unit_test(test_pending_change),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_last_gc_and_settings_problem),
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
