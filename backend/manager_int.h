/* What the manager's modules share: its state (struct manager) and the
 * calls one layer makes into a lower one. Private to the manager's files;
 * others use manager.h. The layers, bottom up (docs/architecture.md); a file
 * calls only into layers below its own, so no two files call each other
 * (scripts/file-cycles.py, run by make lint):
 *   0 state.c      the state that status shows and its bookkeeping
 *   1 access.c     the registry's users and the backend's login to it
 *     logs.c       container logs, redacted
 *   2 observe.c    looking at Docker and probing; the monitor thread
 *   3 steps.c      the container steps the jobs share; the storage check
 *   4 lifecycle.c  the jobs start, stop, remove (and the repair at start)
 *     check.c      the storage check job
 *   5 gc.c         the clean-up jobs (they end with a start)
 *   6 manager.c    the job queue, its worker, the public calls */
#ifndef SR_MANAGER_INT_H
#define SR_MANAGER_INT_H

#include <limits.h>
#include <pthread.h>

#include "browse.h"
#include "docker.h"
#include "manager.h"
#include "settings.h"

#define STOP_TIMEOUT_S 10
#define GATEWAY_READY_S 30
#define GC_TIMEOUT_S 3600
#define GC_NAME SPEC_REGISTRY_NAME "-gc"

struct mgr_login; /* access.c */

struct observed {
    int exists;
    int running;
    int exit_code;
    char id[72];
    char hash[65];
};

struct manager {
    pthread_mutex_t mu;
    pthread_cond_t job_cv;     /* a job was queued, or shutdown */
    pthread_cond_t monitor_cv; /* look at Docker now, or shutdown */
    pthread_mutex_t put_mu;    /* serialises settings changes end to end */
    pthread_mutex_t save_mu;   /* orders writes of the settings file; taken before mu */
    pthread_t worker, monitor;
    int shutdown;

    struct docker docker;
    struct spec_opts sopts;
    char *reg_image, *gw_image, *native_image;
    int interval_ms;
    char settings_path[PATH_MAX];
    char running_path[PATH_MAX];

    /* all below under mu */
    struct settings settings;
    int desired_on_disk; /* settings.desired_running as the file has it */
    char desired_hash[65];
    /* what runs: the settings the containers were last created or started
     * with (also in running.json), and their spec hash; they count while
     * the registry container carries that hash */
    struct settings run;
    int has_run;
    char run_hash[65];

    enum manager_job pending;
    int pending_purge;
    enum manager_job running_job;
    int cancel_start;  /* a stop or remove came in while starting: give up */
    const char *phase; /* "pulling", "starting", "stopping", "removing" or NULL */
    char prog_image[256];
    long long prog_cur, prog_total;

    int job_failed;
    struct err job_err;
    char job_hint[256];

    int observed_once;
    int docker_ok;
    struct err docker_err;
    json_t *containers; /* [{role,id,name,image,state,health}] */
    struct observed reg, gw;
    int reg_healthy;
    long reg_http; /* what GET /v2/ answered: 503 while its storage is away */
    /* the Docker Hub cache's container and its answers, the same way */
    struct observed cache;
    int cache_healthy;
    long cache_http;

    /* the last storage check (s3check.h, with at/mode/bucket), or NULL */
    json_t *last_check;
    int check_create; /* the queued check may create a missing bucket */

    /* the last garbage collection: when, how it ended, what it said */
    long long gc_at;
    int gc_ok;
    char gc_message[512];

    /* observations are numbered so that a slow one cannot overwrite a newer */
    unsigned obs_taken, obs_applied;
    /* the secrets of the containers as last created, redacted from their
     * logs even after the settings changed */
    char *live_secrets[SETTINGS_SECRETS];

    /* a settings file that could not be read at start, kept aside: what
     * status tells the user (empty when there was none) */
    char settings_problem[512];
    char settings_kept_as[96]; /* the file name it was kept under */

    /* the clean-up rules (retention.h), their file, the last application
     * ({at, ok, images, tags, message} or NULL), the day (days since the
     * epoch, UTC) the schedule last ran */
    char retention_path[PATH_MAX];
    json_t *retention;
    json_t *last_retention;
    /* the last runs, newest first (RETENTION_HISTORY_MAX each): the rules'
     * {at,ok,images,tags,message} and the free-space clean-up's {at,ok,message} */
    json_t *retention_runs;
    json_t *gc_runs;
    /* how far the clean-up rules' reading is (a preview's or an apply's),
     * for GET /api/retention: readings under way, and the last told */
    int reading;
    char reading_repo[256];
    size_t reading_at, reading_repos, reading_done, reading_total;
    long sched_day;

    /* GET /api/status answers from this text, rebuilt only when gen moved */
    unsigned gen, status_gen;
    char *status_text;

    /* the registry's users (users.h; access.c): changed under put_mu,
     * swapped under mu */
    struct users *users;
    char state_dir[PATH_MAX];
};

/* ---- layer 0, state.c: the state and its bookkeeping ------------------------ */

/* Unlocks m->mu after a change that status shows. */
void mgr_unlock_changed(struct manager *m);
/* The spec hash of the saved settings, into m->desired_hash; caller holds m->mu. */
void mgr_compute_desired_hash(struct manager *m);
const struct settings *mgr_effective_locked(struct manager *m);

/* Which settings a job works with. */
enum mgr_which {
    MGR_SAVED,     /* the saved ones */
    MGR_LAST_RUN,  /* those the containers were last started with, else the saved */
    MGR_EFFECTIVE, /* those the registry container runs with (mgr_effective_locked) */
};
/* What a job reads of the state as it begins, in the same look as its
 * settings. */
struct mgr_look {
    int docker_ok;
    struct observed reg; /* the registry container as last observed */
    int reg_healthy;
    int from_run;     /* the settings copied are those that run, or ran last */
    int check_create; /* the queued storage check may create a missing bucket */
};
/* Copies the settings which names into s (settings_free it) and, with out,
 * what a job reads of the state, under one lock. 0, or -1 when memory ran
 * out (s then holds nothing). */
int mgr_look(struct manager *m, enum mgr_which which, struct settings *s, struct mgr_look *out);

void mgr_forget_run(struct manager *m);
void mgr_record_run(struct manager *m, const struct settings *s, const char *hash);
/* Whether the user wants the registry running: shown at once, not written
 * (the start that shows it writes it once the containers run). */
void mgr_set_desired_shown(struct manager *m, int on);
void mgr_set_desired_running(struct manager *m, int on);
/* The secrets the containers about to run know, redacted from their logs
 * even after the settings change (logs.c); takes live. */
void mgr_set_live_secrets(struct manager *m, char *live[SETTINGS_SECRETS]);

/* The job at hand: a job outside the queue (the repair before the worker's
 * first job) begins in phase, clearing the last failure, and ends; the
 * queue's worker does the same itself. */
void mgr_job_begin(struct manager *m, enum manager_job job, const char *phase);
void mgr_job_end(struct manager *m, enum manager_job job);
void mgr_job_fail(struct manager *m, const struct err *e, const char *hint);
/* 1 when the job has not failed and is not asked to give up. */
int mgr_job_ok(struct manager *m);
void mgr_set_phase(struct manager *m, const char *phase);
/* 1 when the job is asked to give up: a stop or remove came in, or a
 * shutdown. */
int mgr_cancelled(struct manager *m);
int mgr_shutting_down(struct manager *m);
/* A pull's progress: begins (phase "pulling"), told (returns 1 when the
 * pull should be cancelled), ends. */
void mgr_pull_begin(struct manager *m, const char *image);
int mgr_pull_told(struct manager *m, long long cur, long long total);
void mgr_pull_end(struct manager *m);

/* The last outcomes: lastCheck (takes result), lastGc, the clean-up rules'
 * lastRun (takes last), and how far their reading is. */
void mgr_set_last_check(struct manager *m, json_t *result);
void mgr_gc_done(struct manager *m, int ok, const char *message);
/* A copy of the clean-up rules (new reference), or NULL when memory ran out. */
json_t *mgr_rules_copy(struct manager *m);
void mgr_set_last_retention(struct manager *m, json_t *last);
void mgr_reading_begin(struct manager *m);
void mgr_reading_told(struct manager *m, const char *repo, size_t at, size_t repos, size_t done,
                      size_t total);
void mgr_reading_end(struct manager *m);

/* ---- layers 1 and 2: logging in, logs, looking -------------------------- */

/* observe.c (layer 2): looking at Docker and the registry; the monitor thread */
const char *mgr_label_of(json_t *c, const char *key);
void *mgr_monitor_main(void *arg);
void mgr_observe(struct manager *m);
void mgr_probe_url(const struct settings *s, char *out, size_t len);
/* Where the backend reaches the Docker Hub cache (its /v2/). */
void mgr_cache_url(const struct settings *s, char *out, size_t len);
int mgr_registry_answers(const char *url, const struct mgr_login *lg, long timeout_ms);

/* access.c (layer 1): the registry's users, and how the backend logs in to it */
struct mgr_login {
    char password[96];
    char pin[80];          /* the TLS certificate's key pin, or "" */
    struct browse_login l; /* points into this struct: do not copy it */
};
/* How the backend logs in to a registry run with s (a copy of the
 * internal credential; wipe it with secret_wipe after use). */
void mgr_login_of(const struct settings *s, struct mgr_login *out);
/* Loads the users at start (manager_new), puts them into the settings. */
int mgr_users_open(struct manager *m, struct err *e);
/* Puts the htpasswd into the registry container when one exists: 1, 0
 * when none exists, -1 with e. */
int mgr_users_push(struct manager *m, struct err *e);
void mgr_users_close(struct manager *m);

/* logs.c (layer 1): container logs, redacted */
void mgr_last_log_line(struct manager *m, const char *id, char *out, size_t len);

/* ---- layer 3, steps.c: the container steps the jobs share ------------------ */

/* Puts a kept container's files in again before it starts (a running one
 * whose configuration is not its own: and stops it). 0, or -1 with e. */
int mgr_configure_existing(struct manager *m, const struct spec_container *sc, const char *id,
                           struct err *e);
/* How the configuration in container id compares with the one sc puts in
 * (spec.h), read back through the engine's archive API; a missing file is
 * SPEC_CONFIG_OTHER. 0 with *out, or -1 with e when the engine could not
 * tell. */
int mgr_config_in(struct manager *m, const struct spec_container *sc, const char *id,
                  enum spec_config *out, struct err *e);
int mgr_create_container(struct manager *m, struct spec_container *sc, char id[72], struct err *e);
int mgr_remove_stale(struct manager *m, const char *hash, const struct spec_set *set,
                     char keep[SPEC_MAX][72], struct err *e);
/* 0 when the container is running; -1 (with its exit code and last log line
 * in e) when it stopped. */
int mgr_still_running(struct manager *m, const char *id, const char *role, struct err *e);
int mgr_check_storage(struct manager *m, const struct settings *s, const char *gw_endpoint,
                      int create, struct err *e, char *hint, size_t hlen);
/* Records result as lastCheck (taking it) and, when it failed, fills e
 * with storage_check_failed and the failing step's message, hint with its
 * fix. Returns 0 when the check passed. */
int mgr_record_check(struct manager *m, const struct settings *s, json_t *result, struct err *e,
                     char *hint, size_t hlen);
int mgr_gateway_endpoint(struct manager *m, const char *id, char *out, size_t len, struct err *e);

/* ---- layers 4 and 5: the jobs ------------------------------------------------- */

/* lifecycle.c: start, stop and remove */
void mgr_run_remove(struct manager *m, int purge);
/* A clean-up the last backend did not finish (stopped, killed or updated
 * while the registry ran read-only: gc.c) leaves the registry running with
 * the read-only configuration, and the gc container; the spec hash still
 * matches, so nothing else would restart it. Removes such a gc container
 * and restarts a registry whose configuration is not its own, saying so in
 * the log and in lastGc (phase "repairing", job "start" meanwhile). On the
 * worker thread, before its first job. */
void mgr_repair_leftover(struct manager *m);
void mgr_run_start(struct manager *m, int from_run);
void mgr_run_stop(struct manager *m);

/* check.c: the storage check job */
void mgr_run_check(struct manager *m);

/* gc.c (layer 5): the clean-up jobs (above lifecycle.c: they end with a start) */
void mgr_run_gc(struct manager *m);
/* Applies the clean-up rules: deletes what they say, then cleans up. */
void mgr_run_retention(struct manager *m);
/* The plan of rules for the registry at base (cleanup_read, then
 * retention_plan): every repository a rule matches read whole, or listed as
 * skipped. A shutdown stops it. New reference, or NULL with e. */
json_t *mgr_retention_preview_plan(struct manager *m, const char *base,
                                   const struct browse_login *login, json_t *rules, struct err *e);

#endif
