/* Layer 3 of the manager: the container steps several jobs share. Pull an
 * image (with progress), create a container and put its files in, give a
 * kept one its files again, remove what is not of the wanted spec, tell
 * whether a started one still runs; find the gateway's S3 endpoint and check
 * the storage through the path the registry uses. Uses only the state
 * (state.c) and the layers below (observe.c, logs.c); knows no job. */
#include "manager_int.h"

#include <string.h>

#include "grant.h"
#include "regconfig.h"
#include "s3check.h"
#include "status.h"

/* Caps the engine's answer when a configuration file is read back from a
 * container: a tar of one file of a few KiB (with TLS, the config only). */
#define CONFIG_READ_MAX (256 * 1024)

/* ---- containers ----------------------------------------------------------- */

/* Publishes the pull's progress; asks to cancel it when a stop came in. */
static int pull_progress(void *ctx, const struct pullprog *p)
{
    struct manager *m = ctx;
    int64_t cur, tot;
    pullprog_totals(p, &cur, &tot);
    return mgr_pull_told(m, cur, tot);
}

static int ensure_image(struct manager *m, const char *image, struct err *e)
{
    int present = docker_image_present(&m->docker, image, e);
    if (present < 0)
        return -1;
    if (present)
        return 0;
    mgr_pull_begin(m, image);
    log_info("pulling %s", image);
    int rc = docker_pull(&m->docker, image, pull_progress, m, e);
    mgr_pull_end(m);
    return rc;
}

/* Removes every container we own that is not of the wanted spec; with a
 * set, writes the ids of those that are (by role) to keep. */
int mgr_remove_stale(struct manager *m, const char *hash, const struct spec_set *set,
                     char keep[SPEC_MAX][72], struct err *e)
{
    json_t *list = docker_list(&m->docker, SPEC_LABEL_MANAGED "=true", e);
    if (!list)
        return -1;
    size_t i;
    json_t *c;
    int rc = 0;
    /* the registry and the cache may live in the gateway's namespace:
     * they go first */
    for (int pass = 0; pass < 2 && rc == 0; pass++)
        json_array_foreach(list, i, c)
        {
            const char *role = mgr_label_of(c, SPEC_LABEL_ROLE);
            const char *h = mgr_label_of(c, SPEC_LABEL_HASH);
            const char *id = json_string_value(json_object_get(c, "Id"));
            int is_reg = !role || strcmp(role, "gateway") != 0;
            if (!id || is_reg != (pass == 0))
                continue;
            if (hash && h && strcmp(h, hash) == 0 && set) {
                int found = 0;
                for (int k = 0; k < set->count; k++)
                    if (role && strcmp(role, set->c[k].role) == 0 && !keep[k][0]) {
                        snprintf(keep[k], 72, "%s", id);
                        found = 1;
                    }
                if (found)
                    continue;
            }
            log_info("removing %s container %.12s (settings changed)", role ? role : "?", id);
            if (docker_remove(&m->docker, id, e)) {
                rc = -1;
                break;
            }
        }
    json_decref(list);
    return rc;
}

/* Creates the container, pulling its image when the engine lacks it, and
 * puts its files in. A name taken by a container of ours (left from an
 * interrupted run) is cleared; one taken by somebody else's is an error. */
int mgr_create_container(struct manager *m, struct spec_container *sc, char id[72], struct err *e)
{
    for (int attempt = 0;; attempt++) {
        if (docker_create(&m->docker, sc->name, sc->create, id, e) == 0)
            break;
        if (attempt >= 2)
            return -1;
        if (e->code == E_NO_SUCH_IMAGE) {
            if (ensure_image(m, sc->image, e))
                return -1;
            mgr_set_phase(m, "starting");
            continue;
        }
        if (e->code != E_CONFLICT)
            return -1;
        json_t *j = docker_inspect(&m->docker, sc->name, e);
        if (!j)
            return -1;
        const char *managed = mgr_label_of(json_object_get(j, "Config"), SPEC_LABEL_MANAGED);
        const char *cid = json_string_value(json_object_get(j, "Id"));
        int ours = managed && strcmp(managed, "true") == 0 && cid;
        int rc = ours ? docker_remove(&m->docker, cid, e) : 0;
        json_decref(j);
        if (!ours)
            return err_set(e, 409, E_NAME_TAKEN, NULL,
                           "a container named %s exists that Storj Registry did not create: "
                           "rename or remove it (docker rm -f %s), then press Start",
                           sc->name, sc->name);
        if (rc)
            return -1;
    }
    log_info("created %s container %.12s", sc->role, id);
    if (docker_put_archive(&m->docker, id, sc->tar.data, sc->tar.len, e)) {
        struct err ignored;
        docker_remove(&m->docker, id, &ignored);
        return -1;
    }
    return 0;
}

int mgr_config_in(struct manager *m, const struct spec_container *sc, const char *id,
                  enum spec_config *out, struct err *e)
{
    char path[512];
    long status = 0;
    struct buf b = {.max = CONFIG_READ_MAX};
    size_t n = (size_t)snprintf(path, sizeof path, "/containers/%.72s/archive?path=", id);
    for (const char *c = spec_config_path(sc); *c && n < sizeof path - 4; c++) {
        if (*c == '/') {
            memcpy(path + n, "%2F", 3);
            n += 3;
        } else {
            path[n++] = *c;
        }
    }
    path[n] = '\0';
    int rc = docker_call(&m->docker, "GET", path, NULL, NULL, 0, &status, &b, 30, e);
    if (rc == 0 && status == 200)
        *out = spec_config_compare(sc, b.data, b.len);
    else if (rc == 0 && status == 404)
        *out = SPEC_CONFIG_OTHER;
    else if (rc == 0)
        rc = err_set(e, 502, E_DOCKER_BAD_ANSWER, NULL,
                     "the Docker engine answered %ld when asked for the %s container's "
                     "configuration",
                     status, sc->role);
    if (b.data) /* it holds the container's secrets */
        secret_wipe(b.data, b.len);
    buf_free(&b);
    return rc;
}

/* A container kept from an earlier run gets its files again before it
 * starts, whatever it holds: the backend may have been killed between
 * create and upload, or in the middle of a clean-up that had put a
 * read-only configuration in (gc.c), and the spec hash says nothing about
 * the files. A running one gets them only when its configuration is not
 * its own, and is then stopped, so that the start that follows reads them;
 * a running gateway is left alone (only its create puts files in, and the
 * registry lives in its network namespace). 0, or -1 with e. */
int mgr_configure_existing(struct manager *m, const struct spec_container *sc, const char *id,
                           struct err *e)
{
    json_t *j = docker_inspect(&m->docker, id, e);
    if (!j)
        return -1;
    int running = json_is_true(json_object_get(json_object_get(j, "State"), "Running"));
    json_decref(j);
    if (!running)
        return docker_put_archive(&m->docker, id, sc->tar.data, sc->tar.len, e);
    if (strcmp(sc->role, "gateway") == 0)
        return 0;
    enum spec_config c;
    if (mgr_config_in(m, sc, id, &c, e))
        return -1;
    if (c == SPEC_CONFIG_OWN)
        return 0;
    log_warn("the %s container %.12s runs with %s: writing its own and restarting it", sc->role, id,
             c == SPEC_CONFIG_READONLY ? "the read-only configuration of an interrupted clean-up"
                                       : "another configuration than its settings'");
    return docker_put_archive(&m->docker, id, sc->tar.data, sc->tar.len, e) ||
                   docker_stop(&m->docker, id, STOP_TIMEOUT_S, e)
               ? -1
               : 0;
}

int mgr_still_running(struct manager *m, const char *id, const char *role, struct err *e)
{
    json_t *j = docker_inspect(&m->docker, id, e);
    if (!j)
        return -1;
    json_t *st = json_object_get(j, "State");
    int running = json_is_true(json_object_get(st, "Running"));
    int code = (int)json_integer_value(json_object_get(st, "ExitCode"));
    json_decref(j);
    if (running)
        return 0;
    char line[300];
    mgr_last_log_line(m, id, line, sizeof line);
    return err_set(e, 502, strcmp(role, "gateway") == 0 ? E_GATEWAY_EXITED : E_CONTAINER_EXITED,
                   NULL, "the %s container stopped at start (exit code %d)%s%s", role, code,
                   line[0] ? ": " : "", line);
}

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

int mgr_record_check(struct manager *m, const struct settings *s, json_t *result, struct err *e,
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
    mgr_set_last_check(m, result);
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
    return mgr_record_check(m, s, s3check_run(&t), e, hint, hlen);
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
