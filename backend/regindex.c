#include "regindex.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "browse.h"

struct rix {
    sqlite3 *w; /* writes, under wmu */
    sqlite3 *r; /* reads, under rmu */
    pthread_mutex_t wmu, rmu;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS repos(name TEXT PRIMARY KEY, size INTEGER NOT NULL DEFAULT 0,"
    " tags INTEGER NOT NULL DEFAULT 0, pushed INTEGER NOT NULL DEFAULT 0,"
    " pulled INTEGER NOT NULL DEFAULT 0, pulls INTEGER NOT NULL DEFAULT 0,"
    /* whole: the last reading of it was whole (else it is known in part) */
    " whole INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS repos_size ON repos(size);"
    "CREATE INDEX IF NOT EXISTS repos_pushed ON repos(pushed);"
    "CREATE INDEX IF NOT EXISTS repos_pulled ON repos(pulled);"
    /* pushed: when the tag was pushed onto digest (0: before the index
     * knew); seen: when the index first knew it there */
    "CREATE TABLE IF NOT EXISTS tags(repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL,"
    " pushed INTEGER NOT NULL DEFAULT 0, pushed_by TEXT, seen INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(repo, tag)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS tags_digest ON tags(repo, digest);"
    /* facts: JSON as scan_repo's "manifests" hold them (a digest never
     * changes meaning) */
    "CREATE TABLE IF NOT EXISTS manifests(digest TEXT PRIMARY KEY, facts TEXT NOT NULL,"
    " kind TEXT, media_type TEXT, created TEXT, size INTEGER NOT NULL DEFAULT 0, platform TEXT)"
    " WITHOUT ROWID;"
    /* the blobs of a manifest (an index: its platforms' too), so that sizes
     * count each blob once without reading the facts */
    "CREATE TABLE IF NOT EXISTS blobs(digest TEXT NOT NULL, blob TEXT NOT NULL,"
    " size INTEGER NOT NULL, PRIMARY KEY(digest, blob)) WITHOUT ROWID;"
    /* what an index names: its platforms with their platform names */
    "CREATE TABLE IF NOT EXISTS children(parent TEXT NOT NULL, child TEXT NOT NULL,"
    " platform TEXT, ord INTEGER NOT NULL, PRIMARY KEY(parent, child)) WITHOUT ROWID;"
    /* pulls of an image in a repository; first: when the index began to count */
    "CREATE TABLE IF NOT EXISTS pulls(repo TEXT NOT NULL, digest TEXT NOT NULL,"
    " last INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY(repo, digest)) WITHOUT ROWID;";

/* Prepared statements are kept and used again (preparing one costs more
 * than running most of ours): by connection and SQL text, each used by one
 * caller at a time. */
#define CACHED 48
static struct cached {
    sqlite3 *db;
    char *sql;
    sqlite3_stmt *st;
    int busy;
} cache[CACHED];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int free_slot = -1;
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < CACHED; i++) {
        if (cache[i].db == db && !cache[i].busy && strcmp(cache[i].sql, sql) == 0) {
            cache[i].busy = 1;
            st = cache[i].st;
            break;
        }
        if (!cache[i].db && free_slot < 0)
            free_slot = i;
    }
    pthread_mutex_unlock(&cache_mu);
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(db, sql, -1, free_slot >= 0 ? SQLITE_PREPARE_PERSISTENT : 0, &st,
                           NULL) != SQLITE_OK)
        return NULL;
    char *copy = free_slot >= 0 ? strdup(sql) : NULL;
    pthread_mutex_lock(&cache_mu);
    if (copy && !cache[free_slot].db)
        cache[free_slot] = (struct cached){db, copy, st, 1};
    else
        free(copy);
    pthread_mutex_unlock(&cache_mu);
    return st;
}

/* the end of a statement's use: a kept one is reset for the next, any
 * other finalized */
static void done(sqlite3_stmt *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < CACHED; i++)
        if (cache[i].st == st) {
            sqlite3_reset(st);
            cache[i].busy = 0;
            pthread_mutex_unlock(&cache_mu);
            return;
        }
    pthread_mutex_unlock(&cache_mu);
    sqlite3_finalize(st);
}

static void db_close(sqlite3 **db)
{
    if (!*db)
        return;
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < CACHED; i++)
        if (cache[i].db == *db) {
            sqlite3_finalize(cache[i].st);
            free(cache[i].sql);
            cache[i] = (struct cached){0};
        }
    pthread_mutex_unlock(&cache_mu);
    sqlite3_close(*db);
    *db = NULL;
}

/* one connection with the settings every connection needs */
static int db_open(const char *path, sqlite3 **db, int create)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(*db, 5000);
    /* no lookaside slots (100 x 1200 bytes a connection, kept for good):
     * the backend idles far more than it reads */
    sqlite3_db_config(*db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0);
    /* a small page cache: the backend stays small with 50,000 tags; WAL
     * with synchronous NORMAL: a kill -9 loses no committed write (a power
     * cut may lose the last ones, which the next reading brings back) */
    return sqlite3_exec(*db,
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                        "PRAGMA cache_size=-256; PRAGMA mmap_size=0; PRAGMA temp_store=MEMORY;"
                        "PRAGMA foreign_keys=OFF;",
                        NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : -1;
}

static int int_of(sqlite3 *db, const char *sql, long long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    done(st);
    return rc;
}

/* "" when the file at path is an index this code can use, else why not */
static void check_file(const char *path, char *why, size_t len)
{
    sqlite3 *db = NULL;
    long long v = 0;
    sqlite3_stmt *st = NULL;
    why[0] = '\0';
    if (access(path, F_OK) != 0)
        return;
    if (db_open(path, &db, 0) || int_of(db, "PRAGMA user_version", &v)) {
        snprintf(why, len, "the index file could not be read (%s)",
                 db ? sqlite3_errmsg(db) : "no memory");
        goto out;
    }
    if (v > RIX_VERSION) {
        snprintf(why, len, "the index file was written by a newer version (schema %lld)", v);
        goto out;
    }
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0)
                                                        : "",
               "ok") != 0)
        snprintf(why, len, "the index file is damaged (%s)",
                 sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0)
                                            : sqlite3_errmsg(db));
out:
    done(st);
    db_close(&db);
}

static void set_aside(const char *path)
{
    char to[1200], from[1100];
    long long t = (long long)time(NULL);
    static const char *const ext[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(from, sizeof from, "%s%s", path, ext[i]);
        snprintf(to, sizeof to, "%s.broken-%lld%s", path, t, ext[i]);
        if (rename(from, to) != 0 && errno != ENOENT)
            unlink(from);
    }
}

struct rix *rix_open(const char *path, char *why, size_t why_len, struct err *e)
{
    struct rix *x = calloc(1, sizeof *x);
    if (!x) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }
    check_file(path, why, why_len);
    if (why[0])
        set_aside(path);
    if (db_open(path, &x->w, 1) || sqlite3_exec(x->w, SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(x->w, "PRAGMA user_version=1", NULL, NULL, NULL) != SQLITE_OK ||
        db_open(path, &x->r, 0)) {
        err_set(e, 500, E_INTERNAL, NULL, "the index %s cannot be made: %s", path,
                x->w ? sqlite3_errmsg(x->w) : "out of memory");
        db_close(&x->w);
        db_close(&x->r);
        free(x);
        return NULL;
    }
    pthread_mutex_init(&x->wmu, NULL);
    pthread_mutex_init(&x->rmu, NULL);
    return x;
}

void rix_close(struct rix *x)
{
    if (!x)
        return;
    db_close(&x->w);
    db_close(&x->r);
    pthread_mutex_destroy(&x->wmu);
    pthread_mutex_destroy(&x->rmu);
    free(x);
}

/* ---- small statement helpers ------------------------------------------- */

/* prepares sql and binds the arguments: 's' text (NULL: null), 'i' int64 */
static sqlite3_stmt *stmt(sqlite3 *db, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = prepare(db, sql);
    if (!st)
        return NULL;
    va_list ap;
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 's') {
            const char *v = va_arg(ap, const char *);
            if (v)
                sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(st, i + 1);
        } else {
            sqlite3_bind_int64(st, i + 1, va_arg(ap, long long));
        }
    }
    va_end(ap);
    return st;
}

/* runs a statement made by stmt to its end; 0 or -1 */
static int run(sqlite3_stmt *st)
{
    if (!st)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int db_fail(sqlite3 *db, struct err *e)
{
    return err_set(e, 500, E_INTERNAL, NULL, "the index could not be written: %s",
                   sqlite3_errmsg(db));
}

static int begin(struct rix *x)
{
    pthread_mutex_lock(&x->wmu);
    if (sqlite3_exec(x->w, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        pthread_mutex_unlock(&x->wmu);
        return -1;
    }
    return 0;
}

/* commits (ok) or rolls back; 0 when committed */
static int end(struct rix *x, int ok, struct err *e)
{
    int rc = 0;
    if (ok && sqlite3_exec(x->w, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        goto out;
    if (ok)
        db_fail(x->w, e);
    sqlite3_exec(x->w, "ROLLBACK", NULL, NULL, NULL);
    rc = -1;
out:
    pthread_mutex_unlock(&x->wmu);
    return rc;
}

static json_t *facts_on(sqlite3 *db, const char *digest)
{
    sqlite3_stmt *st = stmt(db, "SELECT facts FROM manifests WHERE digest=?", "s", digest);
    json_t *f = NULL;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        f = t ? json_loads(t, 0, NULL) : NULL;
    }
    done(st);
    return f;
}

json_t *rix_facts(struct rix *x, const char *digest)
{
    pthread_mutex_lock(&x->rmu);
    json_t *f = facts_on(x->r, digest);
    pthread_mutex_unlock(&x->rmu);
    return f;
}

/* repos row of name from its tags (size: each blob once), or the row gone
 * when it has no tag */
static int recompute(sqlite3 *db, const char *name)
{
    long long n = 0, pushed = 0, pulled = 0, pulls = 0, size = 0;
    sqlite3_stmt *st =
        stmt(db, "SELECT count(*), coalesce(max(pushed),0) FROM tags WHERE repo=?", "s", name);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        done(st);
        return -1;
    }
    n = sqlite3_column_int64(st, 0);
    pushed = sqlite3_column_int64(st, 1);
    done(st);
    if (n == 0)
        return run(stmt(db, "DELETE FROM repos WHERE name=?", "s", name));
    st = stmt(db,
              "SELECT coalesce(max(last),0), coalesce(sum(count),0) FROM pulls WHERE repo=?1 AND "
              "digest IN (SELECT digest FROM tags WHERE repo=?1)",
              "s", name);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        pulled = sqlite3_column_int64(st, 0);
        pulls = sqlite3_column_int64(st, 1);
    }
    done(st);
    /* the blobs of every image a tag reaches, each once */
    st = stmt(db,
              "SELECT coalesce(sum(size),0) FROM (SELECT DISTINCT b.blob, b.size FROM blobs b "
              "WHERE b.digest IN (SELECT DISTINCT digest FROM tags WHERE repo=?))",
              "s", name);
    if (st && sqlite3_step(st) == SQLITE_ROW)
        size = sqlite3_column_int64(st, 0);
    done(st);
    return run(stmt(db,
                    "INSERT INTO repos(name,size,tags,pushed,pulled,pulls) VALUES(?,?,?,?,?,?) "
                    "ON CONFLICT(name) DO UPDATE SET size=excluded.size, tags=excluded.tags, "
                    "pushed=excluded.pushed, pulled=excluded.pulled, pulls=excluded.pulls",
                    "siiiii", name, size, n, pushed, pulled, pulls));
}

/* what an event changes of a repository's row without reading every image
 * of it (a big repository would cost a pass over all its facts per event):
 * the tag count and the last push; its size follows with the reading the
 * event asks for */
static int recount(sqlite3 *db, const char *name)
{
    long long n = 0;
    sqlite3_stmt *st = stmt(db, "SELECT count(*) FROM tags WHERE repo=?", "s", name);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        done(st);
        return -1;
    }
    n = sqlite3_column_int64(st, 0);
    done(st);
    if (n == 0)
        return run(stmt(db, "DELETE FROM repos WHERE name=?", "s", name));
    return run(stmt(db,
                    "INSERT INTO repos(name,tags,pushed) VALUES(?1,?2,(SELECT "
                    "coalesce(max(pushed),0) FROM tags WHERE repo=?1)) ON CONFLICT(name) DO "
                    "UPDATE SET tags=excluded.tags, pushed=excluded.pushed",
                    "si", name, n));
}

static json_int_t blob_sum(json_t *facts)
{
    json_int_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(facts, "blobs"), k, v)
    {
        n += json_integer_value(v);
    }
    return n;
}

/* a digest's facts, once: they never change */
static int put_facts(sqlite3 *db, const char *digest, json_t *facts)
{
    sqlite3_stmt *st = stmt(db, "SELECT 1 FROM manifests WHERE digest=?", "s", digest);
    int known = st && sqlite3_step(st) == SQLITE_ROW;
    done(st);
    if (known)
        return 0;
    char *t = json_dumps(facts, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = t ? run(stmt(db,
                          "INSERT INTO manifests(digest,facts,kind,media_type,created,size,"
                          "platform) VALUES(?,?,?,?,?,?,?)",
                          "sssssis", digest, t, json_string_value(json_object_get(facts, "kind")),
                          json_string_value(json_object_get(facts, "mediaType")),
                          json_string_value(json_object_get(facts, "created")),
                          (long long)blob_sum(facts),
                          json_string_value(json_object_get(facts, "platform"))))
               : -1;
    free(t);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(facts, "blobs"), k, v)
    {
        if (!rc && browse_digest_valid(k))
            rc = run(stmt(db, "INSERT OR IGNORE INTO blobs(digest,blob,size) VALUES(?,?,?)", "ssi",
                          digest, k, (long long)json_integer_value(v)));
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(facts, "children"), i, c)
    {
        const char *cd = json_string_value(c), *pl = NULL;
        size_t j;
        json_t *p;
        json_array_foreach(json_object_get(facts, "platforms"), j, p)
        {
            if (cd && str_eq(json_string_value(json_object_get(p, "digest")), cd))
                pl = json_string_value(json_object_get(p, "platform"));
        }
        if (!rc && cd && browse_digest_valid(cd))
            rc = run(stmt(db,
                          "INSERT OR IGNORE INTO children(parent,child,platform,ord) "
                          "VALUES(?,?,?,?)",
                          "sssi", digest, cd, pl, (long long)i));
    }
    return rc;
}

int rix_put_repo(struct rix *x, json_t *scan, long long started, struct err *e)
{
    const char *name = json_string_value(json_object_get(scan, "name"));
    int complete = json_is_true(json_object_get(scan, "complete"));
    if (!name || !browse_name_valid(name))
        return err_set(e, 400, E_INVALID_VALUE, NULL, "not a repository name");
    if (begin(x))
        return db_fail(x->w, e);
    int ok = 1;
    const char *d;
    json_t *f, *t;
    size_t i;
    json_object_foreach(json_object_get(scan, "manifests"), d, f)
    {
        ok = ok && browse_digest_valid(d) && put_facts(x->w, d, f) == 0;
    }
    /* the tags read: new ones, moved ones (unless an event moved the tag
     * after this reading began) */
    if (ok && complete)
        ok = run(stmt(x->w, "CREATE TEMP TABLE IF NOT EXISTS seen(tag TEXT PRIMARY KEY)", "")) ==
                 0 &&
             run(stmt(x->w, "DELETE FROM temp.seen", "")) == 0;
    json_array_foreach(json_object_get(scan, "tags"), i, t)
    {
        const char *tag = json_string_value(json_object_get(t, "tag"));
        const char *dg = json_string_value(json_object_get(t, "digest"));
        if (!ok || !tag || !dg || !browse_digest_valid(dg))
            continue;
        ok = run(stmt(x->w,
                      "INSERT INTO tags(repo,tag,digest,pushed,pushed_by,seen) "
                      "VALUES(?1,?2,?3,0,NULL,?5) ON CONFLICT(repo,tag) DO UPDATE SET "
                      "digest=excluded.digest, pushed=0, pushed_by=NULL, seen=excluded.seen "
                      "WHERE tags.digest<>excluded.digest AND tags.pushed<=?4",
                      "sssii", name, tag, dg, started, (long long)time(NULL))) == 0;
        if (ok && complete)
            ok = run(stmt(x->w, "INSERT OR IGNORE INTO temp.seen(tag) VALUES(?)", "s", tag)) == 0;
    }
    /* a complete reading: tags it did not see are gone, unless pushed
     * after it began */
    if (ok && complete)
        ok = run(stmt(x->w,
                      "DELETE FROM tags WHERE repo=? AND pushed<=? AND tag NOT IN (SELECT tag "
                      "FROM temp.seen)",
                      "si", name, started)) == 0;
    ok = ok && recompute(x->w, name) == 0;
    ok = ok && run(stmt(x->w, "UPDATE repos SET whole=? WHERE name=?", "is", (long long)complete,
                        name)) == 0;
    return end(x, ok, e);
}

int rix_keep_only(struct rix *x, json_t *names, struct err *e)
{
    if (begin(x))
        return db_fail(x->w, e);
    int ok =
        run(stmt(x->w, "CREATE TEMP TABLE IF NOT EXISTS keep(name TEXT PRIMARY KEY)", "")) == 0 &&
        run(stmt(x->w, "DELETE FROM temp.keep", "")) == 0;
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        ok = ok && run(stmt(x->w, "INSERT OR IGNORE INTO temp.keep VALUES(?)", "s",
                            json_string_value(n))) == 0;
    }
    ok = ok &&
         run(stmt(x->w, "DELETE FROM tags WHERE repo NOT IN (SELECT name FROM temp.keep)", "")) ==
             0 &&
         run(stmt(x->w, "DELETE FROM repos WHERE name NOT IN (SELECT name FROM temp.keep)", "")) ==
             0;
    return end(x, ok, e);
}

int rix_forget_image(struct rix *x, const char *repo, const char *digest, struct err *e)
{
    if (begin(x))
        return db_fail(x->w, e);
    int ok =
        run(stmt(x->w, "DELETE FROM tags WHERE repo=? AND digest=?", "ss", repo, digest)) == 0 &&
        recompute(x->w, repo) == 0;
    return end(x, ok, e);
}

/* "2026-12-07T14:24:04.123456789Z" (any fraction, or an offset) as Unix
 * seconds; 0 when it is no time */
static long long event_time(const char *s)
{
    struct tm tm = {0};
    if (!s)
        return 0;
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return 0;
    long long t = (long long)timegm(&tm);
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
        int h = (p[1] - '0') * 10 + (p[2] - '0'), m = (p[4] - '0') * 10 + (p[5] - '0');
        t += (*p == '+' ? -1 : 1) * (h * 3600LL + m * 60LL);
    }
    return t > 0 ? t : 0;
}

/* the event names a manifest (its URL is .../manifests/...), not a blob */
static int about_manifest(json_t *target)
{
    const char *url = json_string_value(json_object_get(target, "url"));
    const char *mt = json_string_value(json_object_get(target, "mediaType"));
    if (url)
        return strstr(url, "/manifests/") != NULL;
    return mt && (strstr(mt, "manifest") || strstr(mt, "index"));
}

int rix_event(struct rix *x, json_t *ev, const char *own_actor, int *look, struct err *e)
{
    int dummy;
    if (!look)
        look = &dummy;
    *look = 0;
    const char *action = json_string_value(json_object_get(ev, "action"));
    json_t *target = json_object_get(ev, "target");
    const char *repo = json_string_value(json_object_get(target, "repository"));
    const char *digest = json_string_value(json_object_get(target, "digest"));
    const char *tag = json_string_value(json_object_get(target, "tag"));
    json_t *req = json_object_get(ev, "request");
    const char *method = json_string_value(json_object_get(req, "method"));
    const char *agent = json_string_value(json_object_get(req, "useragent"));
    const char *actor = json_string_value(json_object_get(json_object_get(ev, "actor"), "name"));
    long long at = event_time(json_string_value(json_object_get(ev, "timestamp")));
    long long now = (long long)time(NULL);
    if (!action || !repo || !browse_name_valid(repo))
        return 0;
    if (digest && !browse_digest_valid(digest))
        digest = NULL;
    if (tag && (!*tag || strlen(tag) > 128))
        tag = NULL;
    if (actor && (!*actor || strlen(actor) > 128))
        actor = NULL;
    /* a time far off is the registry's clock or a forgery: now instead */
    if (at <= 0 || at > now + 300)
        at = now;
    int ok = 1;
    if (strcmp(action, "push") == 0) {
        if (!about_manifest(target))
            return 0;
        *look = 1;
        if (!tag || !digest)
            return 0; /* a platform pushed by digest: the reading finds it */
        if (begin(x))
            return db_fail(x->w, e);
        ok = run(stmt(x->w,
                      "INSERT INTO tags(repo,tag,digest,pushed,pushed_by,seen) "
                      "VALUES(?1,?2,?3,?4,?5,?4) ON CONFLICT(repo,tag) DO UPDATE SET "
                      "digest=excluded.digest, pushed=excluded.pushed, "
                      "pushed_by=excluded.pushed_by, seen=CASE WHEN tags.digest=excluded.digest "
                      "THEN min(tags.seen, excluded.seen) ELSE excluded.seen END WHERE "
                      "tags.pushed<=excluded.pushed",
                      "sssis", repo, tag, digest, at, actor)) == 0 &&
             recount(x->w, repo) == 0;
        return end(x, ok, e);
    }
    if (strcmp(action, "pull") == 0) {
        /* a pull is a manifest GET by someone else than the backend: Docker
         * resolves a tag with HEAD first, which is not a pull */
        if (!about_manifest(target) || !digest || !method || strcmp(method, "GET") != 0 ||
            (agent && strncmp(agent, "storj-registryd/", 16) == 0) ||
            (own_actor && actor && strcmp(actor, own_actor) == 0))
            return 0;
        if (begin(x))
            return db_fail(x->w, e);
        ok = run(stmt(x->w,
                      "INSERT INTO pulls(repo,digest,last,count) VALUES(?,?,?,1) ON "
                      "CONFLICT(repo,digest) DO UPDATE SET count=count+1, last=max(last, "
                      "excluded.last)",
                      "ssi", repo, digest, at)) == 0 &&
             run(stmt(x->w,
                      "UPDATE repos SET pulls=pulls+1, pulled=max(pulled, ?3) WHERE name=?1 AND "
                      "EXISTS (SELECT 1 FROM tags WHERE repo=?1 AND digest=?2)",
                      "ssi", repo, digest, at)) == 0;
        return end(x, ok, e);
    }
    if (strcmp(action, "delete") == 0) {
        if (digest && !about_manifest(target))
            return 0; /* a blob */
        *look = 1;
        if (begin(x))
            return db_fail(x->w, e);
        if (digest)
            ok = run(stmt(x->w, "DELETE FROM tags WHERE repo=? AND digest=? AND pushed<=?", "ssi",
                          repo, digest, at)) == 0;
        else if (tag)
            ok = run(stmt(x->w, "DELETE FROM tags WHERE repo=? AND tag=? AND pushed<=?", "ssi",
                          repo, tag, at)) == 0;
        else
            ok =
                run(stmt(x->w, "DELETE FROM tags WHERE repo=? AND pushed<=?", "si", repo, at)) == 0;
        ok = ok && recompute(x->w, repo) == 0;
        return end(x, ok, e);
    }
    if (strcmp(action, "mount") == 0)
        return 0; /* a blob mounted: no image yet */
    return 0;
}

/* ---- reading ----------------------------------------------------------- */

static json_t *time_json(long long t)
{
    if (t <= 0)
        return json_null();
    char s[32];
    format_time_utc(t, s, sizeof s);
    return json_string(s);
}

/* the platforms of an image (its own) or an index (what it names), with
 * their sizes */
static json_t *platforms_of(sqlite3 *db, const char *digest, const char *kind, const char *platform,
                            long long size)
{
    json_t *out = json_array();
    if (platform && kind && strcmp(kind, "image") == 0) {
        json_array_append_new(out, json_pack("{s:s, s:s, s:I}", "platform", platform, "digest",
                                             digest, "size", (json_int_t)size));
        return out;
    }
    if (!kind || strcmp(kind, "index") != 0)
        return out;
    sqlite3_stmt *st = stmt(db,
                            "SELECT c.child, coalesce(c.platform,'unknown'), coalesce(m.size,0) "
                            "FROM children c LEFT JOIN manifests m ON m.digest=c.child WHERE "
                            "c.parent=? ORDER BY c.ord",
                            "s", digest);
    while (st && out && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(out, json_pack("{s:s, s:s, s:I}", "platform",
                                             (const char *)sqlite3_column_text(st, 1), "digest",
                                             (const char *)sqlite3_column_text(st, 0), "size",
                                             (json_int_t)sqlite3_column_int64(st, 2)));
    done(st);
    return out;
}

/* the tags of one repository (only those like `like`, when given), with
 * what the index knows of each image; their digests go into page */
static json_t *tags_of(sqlite3 *db, const char *name, const char *like, json_t *page)
{
    sqlite3_stmt *st =
        stmt(db,
             "SELECT t.tag, t.digest, t.pushed, t.pushed_by, coalesce(p.last,0), "
             "coalesce(p.count,0), m.kind, m.media_type, m.created, m.size, m.platform, "
             "m.digest IS NOT NULL FROM tags t LEFT JOIN pulls p ON p.repo=t.repo AND "
             "p.digest=t.digest LEFT JOIN manifests m ON m.digest=t.digest WHERE t.repo=?1 AND "
             "(?2 IS NULL OR t.tag LIKE ?2 ESCAPE '\\') ORDER BY t.tag",
             "ss", name, like);
    json_t *out = json_array();
    while (st && out && sqlite3_step(st) == SQLITE_ROW) {
        const char *digest = (const char *)sqlite3_column_text(st, 1);
        const char *kind = (const char *)sqlite3_column_text(st, 6);
        long long size = sqlite3_column_int64(st, 9);
        int known = sqlite3_column_int(st, 11);
        json_t *t = json_pack(
            "{s:s, s:s, s:s?, s:s?, s:o, s:s?, s:o, s:s?, s:o, s:I, s:o}", "tag",
            (const char *)sqlite3_column_text(st, 0), "digest", digest, "kind", kind, "mediaType",
            (const char *)sqlite3_column_text(st, 7), "size",
            known ? json_integer(size) : json_null(), "created",
            (const char *)sqlite3_column_text(st, 8), "pushed",
            time_json(sqlite3_column_int64(st, 2)), "pushedBy",
            (const char *)sqlite3_column_text(st, 3), "lastPulled",
            time_json(sqlite3_column_int64(st, 4)), "pulls",
            (json_int_t)sqlite3_column_int64(st, 5), "platforms",
            platforms_of(db, digest, kind, (const char *)sqlite3_column_text(st, 10), size));
        if (!t)
            continue;
        if (!json_object_get(t, "created"))
            json_object_set_new(t, "created", json_null());
        if (!json_object_get(t, "kind"))
            json_object_set_new(t, "kind", json_null());
        if (!json_object_get(t, "mediaType"))
            json_object_set_new(t, "mediaType", json_null());
        json_object_set_new(page, digest, json_true());
        json_array_append_new(out, t);
    }
    done(st);
    return out;
}

/* the blobs of the images in page (digests as keys), each once */
static long long page_size(sqlite3 *db, json_t *page)
{
    long long size = 0;
    if (run(stmt(db, "CREATE TEMP TABLE IF NOT EXISTS page(digest TEXT PRIMARY KEY)", "")) ||
        run(stmt(db, "DELETE FROM temp.page", "")))
        return 0;
    sqlite3_exec(db, "SAVEPOINT page", NULL, NULL, NULL);
    const char *d;
    json_t *v;
    json_object_foreach(page, d, v)
    {
        run(stmt(db, "INSERT OR IGNORE INTO temp.page VALUES(?)", "s", d));
    }
    sqlite3_stmt *st = stmt(db,
                            "SELECT coalesce(sum(size),0) FROM (SELECT DISTINCT b.blob, b.size "
                            "FROM blobs b WHERE b.digest IN (SELECT digest FROM temp.page))",
                            "");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        size = sqlite3_column_int64(st, 0);
    done(st);
    sqlite3_exec(db, "RELEASE page", NULL, NULL, NULL);
    return size;
}

/* q as a LIKE pattern ("%q%", with % _ \ escaped), or NULL for none */
static char *like_of(const char *q)
{
    if (!q || !*q)
        return NULL;
    size_t n = strlen(q);
    char *p = malloc(2 * n + 3), *o = p;
    if (!p)
        return NULL;
    *o++ = '%';
    for (const char *c = q; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '\\')
            *o++ = '\\';
        *o++ = *c;
    }
    *o++ = '%';
    *o = '\0';
    return p;
}

json_t *rix_repositories(struct rix *x, const char *q, const char *sort, int desc, long offset,
                         long limit, struct err *e)
{
    const char *col = !sort || strcmp(sort, "name") == 0 ? "name"
                      : strcmp(sort, "pushed") == 0      ? "pushed"
                      : strcmp(sort, "pulled") == 0      ? "pulled"
                      : strcmp(sort, "size") == 0        ? "size"
                                                         : NULL;
    if (!col) {
        err_set(e, 400, E_INVALID_VALUE, "sort", "sort must be name, pushed, pulled or size");
        return NULL;
    }
    char *like = like_of(q);
    if (q && *q && !like) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }
    /* one pass: the page and, by a window, how many match in all; the
     * repositories with a matching tag are found by one scan of the tags */
    char sql[700];
    snprintf(sql, sizeof sql,
             "SELECT name, size, tags, pushed, pulled, pulls, (?1 IS NULL OR name LIKE ?1 ESCAPE "
             "'\\'), count(*) OVER () FROM repos WHERE ?1 IS NULL OR name LIKE ?1 ESCAPE '\\' "
             "OR name IN (SELECT repo FROM tags WHERE tag LIKE ?1 ESCAPE '\\') ORDER BY %s %s, "
             "name LIMIT ?2 OFFSET ?3",
             col, desc ? "DESC" : "ASC");
    pthread_mutex_lock(&x->rmu);
    json_t *repos = json_array(), *page = json_object();
    long long total = -1;
    sqlite3_stmt *st = stmt(x->r, sql, "sii", like, (long long)limit, (long long)offset);
    while (st && repos && page && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int name_hit = sqlite3_column_int(st, 6);
        total = sqlite3_column_int64(st, 7);
        json_t *r = json_pack("{s:s, s:I, s:I, s:o, s:o, s:I, s:o}", "name", name, "size",
                              (json_int_t)sqlite3_column_int64(st, 1), "tagCount",
                              (json_int_t)sqlite3_column_int64(st, 2), "pushed",
                              time_json(sqlite3_column_int64(st, 3)), "lastPulled",
                              time_json(sqlite3_column_int64(st, 4)), "pulls",
                              (json_int_t)sqlite3_column_int64(st, 5), "tags",
                              tags_of(x->r, name, name_hit ? NULL : like, page));
        if (r)
            json_array_append_new(repos, r);
    }
    int failed = !st || !repos || !page;
    done(st);
    /* a page past the end still says how many there are */
    if (!failed && total < 0) {
        st = stmt(x->r,
                  "SELECT count(*) FROM repos WHERE ?1 IS NULL OR name LIKE ?1 ESCAPE '\\' OR "
                  "name IN (SELECT repo FROM tags WHERE tag LIKE ?1 ESCAPE '\\')",
                  "s", like);
        if (st && sqlite3_step(st) == SQLITE_ROW)
            total = sqlite3_column_int64(st, 0);
        else
            failed = 1;
        done(st);
    }
    long long size = failed ? 0 : page_size(x->r, page);
    pthread_mutex_unlock(&x->rmu);
    free(like);
    json_decref(page);
    if (failed) {
        json_decref(repos);
        err_set(e, 500, E_INTERNAL, NULL, "the index could not be read");
        return NULL;
    }
    long long next = offset + (long long)json_array_size(repos);
    return json_pack("{s:o, s:I, s:b, s:I, s:o, s:I, s:b}", "repositories", repos, "total",
                     (json_int_t)total, "totalKnown", 1, "offset", (json_int_t)offset, "nextOffset",
                     next < total ? json_integer(next) : json_null(), "totalSize", (json_int_t)size,
                     "truncated", next < total);
}

int rix_counts(struct rix *x, long long *repos, long long *tags)
{
    pthread_mutex_lock(&x->rmu);
    int rc = int_of(x->r, "SELECT count(*) FROM repos", repos) ||
                     int_of(x->r, "SELECT count(*) FROM tags", tags)
                 ? -1
                 : 0;
    pthread_mutex_unlock(&x->rmu);
    return rc;
}

int rix_meta_set(struct rix *x, const char *key, const char *value)
{
    pthread_mutex_lock(&x->wmu);
    int rc = run(stmt(x->w, "INSERT OR REPLACE INTO meta(k,v) VALUES(?,?)", "ss", key, value));
    pthread_mutex_unlock(&x->wmu);
    return rc;
}

int rix_meta_get(struct rix *x, const char *key, char *out, size_t len)
{
    pthread_mutex_lock(&x->rmu);
    sqlite3_stmt *st = stmt(x->r, "SELECT v FROM meta WHERE k=?", "s", key);
    int rc = -1;
    out[0] = '\0';
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    }
    done(st);
    pthread_mutex_unlock(&x->rmu);
    return rc;
}

/* ---- the clean-up's input ------------------------------------------------ */

/* t as RFC 3339 UTC into the object o at key, or null */
static void put_time(json_t *o, const char *key, long long t)
{
    json_object_set_new(o, key, time_json(t));
}

/* pulls of an image in a repository are counted since the later of when
 * the index first heard the registry and when it first saw the tag there */
static void annotate_tag(json_t *t, long long pushed, long long seen, long long pulled,
                         long long since)
{
    put_time(t, "pushed", pushed);
    put_time(t, "seen", seen);
    put_time(t, "lastPulled", pulled);
    put_time(t, "pullsSince", since > 0 ? (seen > since ? seen : since) : 0);
}

static long long meta_time(sqlite3 *db, const char *key)
{
    sqlite3_stmt *st = stmt(db, "SELECT v FROM meta WHERE k=?", "s", key);
    long long t = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        t = sqlite3_column_int64(st, 0);
    done(st);
    return t;
}

int rix_annotate(struct rix *x, json_t *repo)
{
    const char *name = json_string_value(json_object_get(repo, "name"));
    if (!name)
        return -1;
    pthread_mutex_lock(&x->rmu);
    long long since = meta_time(x->r, "pullsSince");
    size_t i;
    json_t *t;
    int rc = 0;
    json_array_foreach(json_object_get(repo, "tags"), i, t)
    {
        const char *tag = json_string_value(json_object_get(t, "tag"));
        const char *digest = json_string_value(json_object_get(t, "digest"));
        sqlite3_stmt *st = tag && digest
                               ? stmt(x->r,
                                      "SELECT t.pushed, t.seen, coalesce(p.last,0) FROM tags t "
                                      "LEFT JOIN pulls p ON p.repo=t.repo AND p.digest=t.digest "
                                      "WHERE t.repo=? AND t.tag=? AND t.digest=?",
                                      "sss", name, tag, digest)
                               : NULL;
        /* the index knows this tag on this image, or nothing of it */
        if (st && sqlite3_step(st) == SQLITE_ROW)
            annotate_tag(t, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                         sqlite3_column_int64(st, 2), since);
        else
            annotate_tag(t, 0, 0, 0, 0);
        if (!st)
            rc = -1;
        done(st);
    }
    pthread_mutex_unlock(&x->rmu);
    return rc;
}

/* children[d] = what index d names, for d and everything it reaches;
 * -1 when an index reached has no facts in the index */
static int reach_children(sqlite3 *db, const char *digest, json_t *children, int depth)
{
    if (depth > 8 || json_object_get(children, digest))
        return 0;
    sqlite3_stmt *st =
        stmt(db, "SELECT child FROM children WHERE parent=? ORDER BY ord", "s", digest);
    json_t *list = json_array();
    while (st && list && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(list, json_string((const char *)sqlite3_column_text(st, 0)));
    done(st);
    if (!st || !list) {
        json_decref(list);
        return -1;
    }
    if (!json_array_size(list)) {
        json_decref(list);
        return 0;
    }
    json_object_set_new(children, digest, list);
    size_t i;
    json_t *c;
    int rc = 0;
    json_array_foreach(list, i, c)
    {
        if (reach_children(db, json_string_value(c), children, depth + 1))
            rc = -1;
    }
    return rc;
}

json_t *rix_plan_input(struct rix *x, int (*wanted)(void *ctx, const char *name), void *ctx)
{
    json_t *repos = json_array();
    pthread_mutex_lock(&x->rmu);
    long long since = meta_time(x->r, "pullsSince");
    sqlite3_stmt *rs = stmt(x->r, "SELECT name, whole FROM repos ORDER BY name", "");
    int failed = !rs || !repos;
    while (!failed && sqlite3_step(rs) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(rs, 0);
        if (!wanted(ctx, name))
            continue;
        int whole = sqlite3_column_int(rs, 1);
        json_t *tags = json_array(), *children = json_object();
        json_t *r = json_pack("{s:s, s:b, s:o, s:o}", "name", name, "complete", whole, "tags", tags,
                              "children", children);
        if (!r || json_array_append_new(repos, r)) {
            failed = 1;
            break;
        }
        const char *problem = whole ? NULL
                                    : "the index has not read it whole yet: Refresh, then "
                                      "preview again";
        sqlite3_stmt *ts =
            stmt(x->r,
                 "SELECT t.tag, t.digest, t.pushed, t.seen, coalesce(p.last,0), m.created, "
                 "coalesce(m.size,0), m.digest IS NOT NULL, m.kind FROM tags t LEFT JOIN pulls p "
                 "ON p.repo=t.repo AND p.digest=t.digest LEFT JOIN manifests m ON "
                 "m.digest=t.digest WHERE t.repo=? ORDER BY t.tag",
                 "s", name);
        while (ts && sqlite3_step(ts) == SQLITE_ROW) {
            const char *digest = (const char *)sqlite3_column_text(ts, 1);
            const char *created = (const char *)sqlite3_column_text(ts, 5);
            const char *kind = (const char *)sqlite3_column_text(ts, 8);
            json_t *t =
                json_pack("{s:s, s:s, s:o, s:I}", "tag", (const char *)sqlite3_column_text(ts, 0),
                          "digest", digest, "created", created ? json_string(created) : json_null(),
                          "size", (json_int_t)sqlite3_column_int64(ts, 6));
            if (!t || json_array_append_new(tags, t)) {
                failed = 1;
                break;
            }
            annotate_tag(t, sqlite3_column_int64(ts, 2), sqlite3_column_int64(ts, 3),
                         sqlite3_column_int64(ts, 4), since);
            /* an image the index has no facts of, or an index whose
             * platforms it does not all know: not known whole */
            if (!sqlite3_column_int(ts, 7))
                problem = "the index does not know all its images yet: Refresh, then preview "
                          "again";
            else if (kind && strcmp(kind, "index") == 0 &&
                     reach_children(x->r, digest, children, 0))
                problem = "the index does not know all its images yet: Refresh, then preview "
                          "again";
        }
        if (!ts)
            failed = 1;
        done(ts);
        if (problem) {
            json_object_set_new(r, "complete", json_false());
            json_object_set_new(r, "problem", json_string(problem));
        }
    }
    done(rs);
    pthread_mutex_unlock(&x->rmu);
    if (failed) {
        json_decref(repos);
        return NULL;
    }
    return repos;
}

int rix_note_events(struct rix *x, long long now)
{
    char v[32];
    if (rix_meta_get(x, "pullsSince", v, sizeof v) == 0 && v[0])
        return 0;
    snprintf(v, sizeof v, "%lld", now);
    return rix_meta_set(x, "pullsSince", v);
}

/* finalizes the kept statements of db that nobody uses (they are
 * prepared again when next needed) */
static void forget_statements(sqlite3 *db)
{
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < CACHED; i++)
        if (cache[i].db == db && !cache[i].busy) {
            sqlite3_finalize(cache[i].st);
            free(cache[i].sql);
            cache[i] = (struct cached){0};
        }
    pthread_mutex_unlock(&cache_mu);
}

void rix_release(struct rix *x)
{
    pthread_mutex_lock(&x->rmu);
    forget_statements(x->r);
    sqlite3_db_release_memory(x->r);
    pthread_mutex_unlock(&x->rmu);
    pthread_mutex_lock(&x->wmu);
    forget_statements(x->w);
    sqlite3_db_release_memory(x->w);
    pthread_mutex_unlock(&x->wmu);
}
