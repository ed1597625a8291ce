#include "indexer.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "browse.h"
#include "events.h"
#include "lean.h"
#include "regindex.h"
#include "retention.h"
#include "scan.h"

/* repositories named by events, waiting to be read again; past this a
 * whole reconciliation is due instead */
#define QUEUE_MAX 256

static struct {
    struct indexer_opts o;
    char state_dir[512];
    struct rix *x;
    struct events *ev;
    char token[65];
    char url[128];
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int stop;
    int full_due;        /* a whole reading is due */
    long long full_at;   /* when the last whole reading ended (monotonic s) */
    int was_up;          /* the registry answered on the last look */
    unsigned idle_ticks; /* idle waits, for giving memory back */
    char *queue[QUEUE_MAX];
    int queued;
    /* what the status shows, kept in memory (a flood of events or a long
     * reading never makes /api/status wait) */
    char state[16]; /* building, reconciling, ready, waiting, partial */
    char problem[400];
    char rebuilt[400]; /* why the index file was set aside at start */
    char reconciled_at[32];
    char progress_repo[256];
    long long progress_done, progress_total;
    long long repos, tags;
    char own_actor[96];
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static long long mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

static void counts_now(void)
{
    long long r = 0, t = 0;
    if (rix_counts(g.x, &r, &t))
        return;
    pthread_mutex_lock(&g.mu);
    g.repos = r;
    g.tags = t;
    pthread_mutex_unlock(&g.mu);
}

static void set_state(const char *state, const char *problem)
{
    pthread_mutex_lock(&g.mu);
    snprintf(g.state, sizeof g.state, "%s", state);
    if (problem)
        snprintf(g.problem, sizeof g.problem, "%s", problem);
    pthread_mutex_unlock(&g.mu);
}

/* a repository to read again soon; a full queue makes it a whole reading */
static void enqueue(const char *repo)
{
    pthread_mutex_lock(&g.mu);
    for (int i = 0; i < g.queued; i++)
        if (strcmp(g.queue[i], repo) == 0)
            goto out;
    if (g.queued == QUEUE_MAX)
        g.full_due = 1;
    else if ((g.queue[g.queued] = strdup(repo)))
        g.queued++;
out:
    pthread_cond_signal(&g.cond);
    pthread_mutex_unlock(&g.mu);
}

/* events.h's sink: stored before the registry hears 200 */
static int sink(void *ctx, json_t *event)
{
    (void)ctx;
    struct err e = {0};
    int look = 0;
    char actor[96];
    pthread_mutex_lock(&g.mu);
    snprintf(actor, sizeof actor, "%s", g.own_actor);
    pthread_mutex_unlock(&g.mu);
    if (rix_note_events(g.x, (long long)time(NULL)) ||
        rix_event(g.x, event, actor[0] ? actor : NULL, &look, &e)) {
        log_error("index: an event could not be stored: %s", e.message);
        return -1;
    }
    const char *repo =
        json_string_value(json_object_get(json_object_get(event, "target"), "repository"));
    if (look && repo && browse_name_valid(repo))
        enqueue(repo);
    counts_now();
    return 0;
}

static int cancelled(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&g.mu);
    int s = g.stop;
    pthread_mutex_unlock(&g.mu);
    return s;
}

static void told(void *ctx, const char *repo, size_t at, size_t repos, size_t done, size_t total)
{
    (void)ctx;
    (void)done;
    (void)total;
    pthread_mutex_lock(&g.mu);
    snprintf(g.progress_repo, sizeof g.progress_repo, "%s", repo);
    g.progress_done = (long long)at;
    g.progress_total = (long long)repos;
    pthread_mutex_unlock(&g.mu);
}

/* reads repository name and stores what was read; 1 when read whole */
static int read_one(struct scan_io *io, const char *name)
{
    struct err e = {0};
    long long started = (long long)time(NULL) - 1;
    json_t *s = scan_repo(io, name);
    if (!s)
        return 0;
    int whole = json_is_true(json_object_get(s, "complete"));
    if (rix_put_repo(g.x, s, started, &e)) {
        log_error("index: repository %s could not be stored: %s", name, e.message);
        whole = 0;
    }
    json_decref(s);
    return whole;
}

/* readers of a whole reading: repositories read at once, each with
 * READER_THREADS of scan's workers (the pacing caps them together) */
#define READERS 4
#define READER_THREADS (SCAN_THREADS / READERS)

struct readers {
    struct scan_io *io;
    json_t *names;
    pthread_mutex_t mu;
    size_t next, done, partial;
    char problem[400];
};

struct reader {
    struct readers *rs;
    int k;
};

static void *reader(void *arg)
{
    struct reader *r = arg;
    struct readers *rs = r->rs;
    struct scan_io io = *rs->io;
    io.worker_base = r->k * READER_THREADS;
    io.threads = READER_THREADS;
    io.repos = json_array_size(rs->names);
    io.progress = NULL; /* told per repository done, below */
    for (;;) {
        pthread_mutex_lock(&rs->mu);
        size_t i = rs->next < json_array_size(rs->names) ? rs->next++ : (size_t)-1;
        pthread_mutex_unlock(&rs->mu);
        if (i == (size_t)-1 || cancelled(NULL))
            break;
        const char *name = json_string_value(json_array_get(rs->names, i));
        io.repo_at = i;
        int whole = read_one(&io, name);
        pthread_mutex_lock(&rs->mu);
        rs->done++;
        if (!whole && !rs->partial++)
            snprintf(rs->problem, sizeof rs->problem, "repository %.200s was not read whole", name);
        size_t done = rs->done;
        pthread_mutex_unlock(&rs->mu);
        told(NULL, name, done, io.repos, 0, 0);
    }
    return NULL;
}

/* a whole reading: the catalog, every repository, what is gone removed */
static void reconcile(struct scan_io *io)
{
    struct err e = {0};
    char problem[400] = "";
    set_state(g.reconciled_at[0] ? "reconciling" : "building", NULL);
    json_t *names = scan_catalog(io, &e);
    if (!names) {
        snprintf(problem, sizeof problem, "the catalog could not be read whole: %.300s", e.message);
        goto out;
    }
    struct readers rs = {.io = io, .names = names};
    pthread_mutex_init(&rs.mu, NULL);
    struct reader args[READERS];
    pthread_t tids[READERS];
    int started = 0;
    for (int k = 1; k < READERS; k++) {
        args[k] = (struct reader){&rs, k};
        if (pthread_create(&tids[started], NULL, reader, &args[k]) == 0)
            started++;
    }
    args[0] = (struct reader){&rs, 0};
    reader(&args[0]);
    for (int k = 0; k < started; k++)
        pthread_join(tids[k], NULL);
    pthread_mutex_destroy(&rs.mu);
    if (cancelled(NULL)) {
        json_decref(names);
        return;
    }
    snprintf(problem, sizeof problem, "%s", rs.problem);
    if (rix_keep_only(g.x, names, &e))
        snprintf(problem, sizeof problem, "%.390s", e.message);
    json_decref(names);
    if (rs.partial > 1)
        snprintf(problem + strlen(problem), sizeof problem - strlen(problem), " (and %zu more)",
                 rs.partial - 1);
out:
    counts_now();
    pthread_mutex_lock(&g.mu);
    g.progress_repo[0] = '\0';
    g.progress_done = g.progress_total = 0;
    g.full_at = mono_s();
    if (problem[0]) {
        /* never a success when a part was not read: the next try is soon */
        snprintf(g.state, sizeof g.state, "partial");
        snprintf(g.problem, sizeof g.problem, "%s", problem);
        g.full_at -= g.o.period_s - 30 > 0 ? g.o.period_s - 30 : 0;
    } else {
        format_time_utc((long long)time(NULL), g.reconciled_at, sizeof g.reconciled_at);
        snprintf(g.state, sizeof g.state, "ready");
        g.problem[0] = '\0';
    }
    char at[32];
    snprintf(at, sizeof at, "%s", g.reconciled_at);
    pthread_mutex_unlock(&g.mu);
    if (!problem[0])
        rix_meta_set(g.x, "reconciledAt", at);
}

static void *run(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&g.mu);
        while (!g.stop && !g.full_due && !g.queued) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 2;
            if (pthread_cond_timedwait(&g.cond, &g.mu, &ts) == ETIMEDOUT)
                break;
        }
        /* idle: the page caches, the heap and the code pages go back (every 16 s
         * without work) */
        if (!g.stop && !g.full_due && !g.queued && ++g.idle_ticks % 8 == 0) {
            pthread_mutex_unlock(&g.mu);
            rix_release(g.x);
            malloc_trim(64 * 1024);
            lean_file_pages(); /* SQLite's code the last work touched (lean.h) */
            pthread_mutex_lock(&g.mu);
        }
        int stop = g.stop;
        pthread_mutex_unlock(&g.mu);
        if (stop)
            break;
        struct indexer_access a;
        memset(&a, 0, sizeof a);
        pthread_mutex_lock(&g.mu);
        void *actx = g.o.access_ctx;
        pthread_mutex_unlock(&g.mu);
        if (!actx || g.o.access(actx, &a)) {
            pthread_mutex_lock(&g.mu);
            /* it comes back: events may have been lost meanwhile */
            if (g.was_up)
                g.full_due = 1;
            g.was_up = 0;
            if (strcmp(g.state, "building") != 0 && strcmp(g.state, "reconciling") != 0)
                snprintf(g.state, sizeof g.state, "%s", "waiting");
            pthread_mutex_unlock(&g.mu);
            secret_wipe(&a, sizeof a);
            continue;
        }
        pthread_mutex_lock(&g.mu);
        int full = g.full_due || !g.was_up || mono_s() - g.full_at >= g.o.period_s;
        g.was_up = 1;
        snprintf(g.own_actor, sizeof g.own_actor, "%s", a.user);
        pthread_mutex_unlock(&g.mu);
        struct scan_io io;
        struct scan_io_login l = {a.user[0] ? a.user : NULL, a.password[0] ? a.password : NULL,
                                  a.pin[0] ? a.pin : NULL};
        if (scan_io_http_init(&io, a.base, &l, cancelled, NULL)) {
            secret_wipe(&a, sizeof a);
            continue;
        }
        scan_io_http_pace(&io, g.o.rate);
        io.threads = 4;
        io.progress = told;
        if (full) {
            pthread_mutex_lock(&g.mu);
            g.full_due = 0;
            /* a whole reading covers what was queued */
            for (int i = 0; i < g.queued; i++)
                free(g.queue[i]);
            g.queued = 0;
            pthread_mutex_unlock(&g.mu);
            reconcile(&io);
        } else {
            for (;;) {
                pthread_mutex_lock(&g.mu);
                char *name = g.queued ? g.queue[0] : NULL;
                if (name)
                    memmove(g.queue, g.queue + 1, (size_t)--g.queued * sizeof *g.queue);
                pthread_mutex_unlock(&g.mu);
                if (!name)
                    break;
                read_one(&io, name);
                free(name);
                counts_now();
            }
        }
        scan_io_http_free(&io);
        secret_wipe(&a, sizeof a);
    }
    return NULL;
}

/* the token and port of the events listener, kept in events.json (0600)
 * so that the registry's configuration stays the same across restarts */
static int load_events_file(char *token, size_t len, int *port)
{
    char path[600];
    snprintf(path, sizeof path, "%s/events.json", g.state_dir);
    json_t *j = json_load_file(path, 0, NULL);
    const char *t = json_string_value(json_object_get(j, "token"));
    int ok = t && strlen(t) == 64 && strspn(t, "0123456789abcdef") == 64;
    if (ok) {
        snprintf(token, len, "%s", t);
        *port = (int)json_integer_value(json_object_get(j, "port"));
    }
    json_decref(j);
    return ok ? 0 : -1;
}

static void save_events_file(const char *token, int port)
{
    char path[600];
    struct err e = {0};
    snprintf(path, sizeof path, "%s/events.json", g.state_dir);
    json_t *j = json_pack("{s:s, s:i}", "token", token, "port", port);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (!text || file_write_atomic(path, text, strlen(text), "the events token", &e))
        log_error("index: events.json could not be saved: %s", text ? e.message : "no memory");
    if (text)
        secret_wipe(text, strlen(text));
    free(text);
    json_decref(j);
}

static json_t *facts(void *ctx, const char *digest)
{
    (void)ctx;
    return rix_facts(g.x, digest);
}

int indexer_start(const struct indexer_opts *o, struct err *e)
{
    char why[300], path[600];
    g.o = *o;
    if (g.o.rate <= 0)
        g.o.rate = 50;
    if (g.o.period_s <= 0)
        g.o.period_s = 300;
    snprintf(g.state_dir, sizeof g.state_dir, "%s", o->state_dir);
    snprintf(path, sizeof path, "%s/index.db", o->state_dir);
    if (!(g.x = rix_open(path, why, sizeof why, e)))
        return -1;
    if (why[0]) {
        log_error("index: %s; it was set aside and is rebuilt from the registry", why);
        snprintf(g.rebuilt, sizeof g.rebuilt,
                 "%s; it was set aside and is rebuilt from the "
                 "registry",
                 why);
    }
    rix_meta_get(g.x, "reconciledAt", g.reconciled_at, sizeof g.reconciled_at);
    snprintf(g.state, sizeof g.state, "%s", g.reconciled_at[0] ? "waiting" : "building");
    counts_now();
    scan_facts_source(facts, NULL);
    /* the listener: same token and port as before when they still work */
    int port = 0;
    if (load_events_file(g.token, sizeof g.token, &port) && random_hex(g.token, 32)) {
        err_set(e, 500, E_INTERNAL, NULL, "no random token for the events listener");
        g.token[0] = '\0';
    }
    if (o->events_port > 0)
        port = o->events_port;
    if (g.token[0] && o->events_ip && *o->events_ip) {
        struct err le = {0};
        g.ev = events_start(o->events_ip, port, g.token, sink, NULL, &le);
        if (!g.ev && port)
            g.ev = events_start(o->events_ip, 0, g.token, sink, NULL, &le);
        if (g.ev) {
            snprintf(g.url, sizeof g.url, "http://%s:%d/events", o->events_ip, events_port(g.ev));
            save_events_file(g.token, events_port(g.ev));
        } else {
            log_error("index: %s; pushes show after the next reading instead", le.message);
        }
    }
    g.full_due = 1;
    if (pthread_create(&g.thread, NULL, run, NULL)) {
        err_set(e, 500, E_INTERNAL, NULL, "the index thread could not start");
        events_stop(g.ev);
        g.ev = NULL;
        scan_facts_source(NULL, NULL);
        rix_close(g.x);
        g.x = NULL;
        return -1;
    }
    g.started = 1;
    return 0;
}

void indexer_stop(void)
{
    if (!g.started)
        return;
    pthread_mutex_lock(&g.mu);
    g.stop = 1;
    pthread_cond_signal(&g.cond);
    pthread_mutex_unlock(&g.mu);
    pthread_join(g.thread, NULL);
    events_stop(g.ev);
    g.ev = NULL;
    scan_facts_source(NULL, NULL);
    rix_close(g.x);
    g.x = NULL;
    for (int i = 0; i < g.queued; i++)
        free(g.queue[i]);
    g.queued = 0;
    g.started = 0;
    secret_wipe(g.token, sizeof g.token);
}

void indexer_set_access_ctx(void *ctx)
{
    pthread_mutex_lock(&g.mu);
    g.o.access_ctx = ctx;
    pthread_cond_signal(&g.cond);
    pthread_mutex_unlock(&g.mu);
}

int indexer_ready(void)
{
    return g.started;
}

void indexer_events(char *url, size_t url_len, char *token, size_t token_len)
{
    int on = g.started && g.ev;
    snprintf(url, url_len, "%s", on ? g.url : "");
    snprintf(token, token_len, "%s", on ? g.token : "");
}

char *indexer_status_text(void)
{
    if (!g.started)
        return NULL;
    long long taken = 0, refused = 0;
    events_counts(g.ev, &taken, &refused);
    pthread_mutex_lock(&g.mu);
    json_t *j =
        json_pack("{s:s, s:I, s:I, s:s?, s:o, s:s?, s:s?, s:{s:b, s:I, s:I}}", "state", g.state,
                  "repositories", (json_int_t)g.repos, "tags", (json_int_t)g.tags, "reconciledAt",
                  g.reconciled_at[0] ? g.reconciled_at : NULL, "progress",
                  g.progress_total ? json_pack("{s:s, s:I, s:I}", "repository", g.progress_repo,
                                               "done", (json_int_t)g.progress_done, "total",
                                               (json_int_t)g.progress_total)
                                   : json_null(),
                  "problem", g.problem[0] ? g.problem : NULL, "rebuilt",
                  g.rebuilt[0] ? g.rebuilt : NULL, "events", "listening", g.ev != NULL, "received",
                  (json_int_t)taken, "refused", (json_int_t)refused);
    pthread_mutex_unlock(&g.mu);
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return t;
}

void indexer_refresh(void)
{
    pthread_mutex_lock(&g.mu);
    g.full_due = 1;
    pthread_cond_signal(&g.cond);
    pthread_mutex_unlock(&g.mu);
}

void indexer_forget(const char *repo, const char *digest)
{
    struct err e = {0};
    if (g.started && rix_forget_image(g.x, repo, digest, &e))
        log_error("index: %s", e.message);
    if (g.started)
        counts_now();
}

json_t *indexer_repositories(const char *q, const char *sort, const char *order, const char *offset,
                             const char *limit, struct err *e)
{
    long off = 0, lim = 0;
    if (!g.started) {
        err_set(e, 409, E_NOT_APPLICABLE, NULL,
                "the index is not open (Logs say why): browsing reads the registry");
        return NULL;
    }
    if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
        err_set(e, 400, E_INVALID_VALUE, "order", "order must be asc or desc");
        return NULL;
    }
    if (q && strlen(q) > 256) {
        err_set(e, 400, E_INVALID_VALUE, "q", "q must be at most 256 characters");
        return NULL;
    }
    if (browse_page_args(offset, limit, &off, &lim, e))
        return NULL;
    /* names ascending; times and sizes newest, biggest first */
    int desc = order ? strcmp(order, "desc") == 0 : sort && strcmp(sort, "name") != 0;
    json_t *r = rix_repositories(g.x, q, sort, desc, off, lim, e);
    if (!r)
        return NULL;
    pthread_mutex_lock(&g.mu);
    json_object_set_new(r, "index",
                        json_pack("{s:s, s:s?}", "state", g.state, "reconciledAt",
                                  g.reconciled_at[0] ? g.reconciled_at : NULL));
    pthread_mutex_unlock(&g.mu);
    return r;
}

static void annotate(void *ctx, json_t *repo)
{
    (void)ctx;
    if (rix_annotate(g.x, repo))
        log_error("index: the push and pull times of %s could not all be read: they count as "
                  "unknown",
                  json_string_value(json_object_get(repo, "name")));
}

void indexer_io(struct scan_io *io)
{
    if (g.started) {
        io->annotate = annotate;
        io->actx = NULL;
    }
}

struct wanted {
    json_t *rules;
};

static int wanted(void *ctx, const char *name)
{
    struct wanted *w = ctx;
    return retention_rule_of(w->rules, name) >= 0;
}

json_t *indexer_plan_input(json_t *rules, char *as_of, size_t len)
{
    as_of[0] = '\0';
    pthread_mutex_lock(&g.mu);
    int ok = g.started && g.reconciled_at[0];
    snprintf(as_of, len, "%s", g.reconciled_at);
    pthread_mutex_unlock(&g.mu);
    if (!ok)
        return NULL;
    struct wanted w = {rules};
    return rix_plan_input(g.x, wanted, &w);
}
