/* Layer 1 of the manager, above the state (state.c) only. The registry's
 * logins: its users (users.h) in the
 * htpasswd that goes into the registry container (at create, and again on
 * every change while it exists: distribution 3 reads the file again when
 * its modification time changed), the backend's internal credential, and
 * the key pin of a registry with its own TLS certificate (tlscert.h). */
#include "manager_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlscert.h"
#include "users.h"

void mgr_login_of(const struct settings *s, struct mgr_login *out)
{
    memset(out, 0, sizeof *out);
    if (s->registry_password) {
        snprintf(out->password, sizeof out->password, "%s", s->registry_password);
        out->l.user = USERS_INTERNAL_NAME;
        out->l.password = out->password;
    }
    if (s->tls_cert && s->tls_key && tlscert_pin(s->tls_cert, out->pin, sizeof out->pin) == 0)
        out->l.tls_pin = out->pin;
}

void mgr_users_close(struct manager *m)
{
    if (m->users) {
        users_clear(m->users);
        free(m->users);
        m->users = NULL;
    }
}

/* ---- registry users (users.h) -------------------------------------------- */

/* Takes u (malloc'ed; owned from now on) as the users: the settings learn
 * the htpasswd and how many users there are (auth.htpasswd on or off, so
 * the desired hash follows), the probes the internal credential. What runs
 * keeps its configuration until a restart but gets the users of now. 0, or
 * -1 when memory ran out (u freed, nothing changed). */
static int users_apply(struct manager *m, struct users *u)
{
    char *text = users_htpasswd(u), *run_text = xstrdup(text);
    char *pw = xstrdup(u->internal_password), *run_pw = xstrdup(u->internal_password);
    if (!text || !run_text || !pw || !run_pw) {
        secret_free(&text);
        secret_free(&run_text);
        secret_free(&pw);
        secret_free(&run_pw);
        users_clear(u);
        free(u);
        return -1;
    }
    pthread_mutex_lock(&m->mu);
    struct users *old = m->users;
    m->users = u;
    secret_free(&m->settings.htpasswd);
    secret_free(&m->settings.registry_password);
    m->settings.htpasswd = text;
    m->settings.registry_password = pw;
    m->settings.users = u->count;
    if (m->has_run) {
        secret_free(&m->run.htpasswd);
        secret_free(&m->run.registry_password);
        m->run.htpasswd = run_text;
        m->run.registry_password = run_pw;
        run_text = run_pw = NULL;
    }
    mgr_compute_desired_hash(m);
    mgr_unlock_changed(m);
    secret_free(&run_text);
    secret_free(&run_pw);
    if (old) {
        users_clear(old);
        free(old);
    }
    return 0;
}

/* Puts the htpasswd into the registry container when there is one (in any
 * state, as docker cp does), and into the Docker Hub cache's, which asks
 * for the same logins: registry 3 reads it again at the next login, as its
 * modification time changed. 1 when put, 0 when there is no container, -1
 * with e. */
int mgr_users_push(struct manager *m, struct err *e)
{
    char id[72] = "", cache_id[72] = "";
    pthread_mutex_lock(&m->mu);
    if (m->reg.exists)
        snprintf(id, sizeof id, "%s", m->reg.id);
    if (m->reg.exists && m->cache.exists)
        snprintf(cache_id, sizeof cache_id, "%s", m->cache.id);
    char *text = id[0] ? xstrdup(m->settings.htpasswd) : NULL;
    pthread_mutex_unlock(&m->mu);
    if (!text)
        return 0;
    struct buf tar = {0};
    int rc =
        spec_tar_htpasswd(&tar, text) ? err_set(e, 500, E_NO_MEMORY, NULL, "out of memory")
        : docker_put_archive(&m->docker, id, tar.data, tar.len, e) ||
                (cache_id[0] && docker_put_archive(&m->docker, cache_id, tar.data, tar.len, e) &&
                 e->status != 404)
            ? -1
            : 1;
    if (tar.data)
        secret_wipe(tar.data, tar.len);
    buf_free(&tar);
    secret_free(&text);
    return rc;
}

/* Loads the users at start: a new internal credential is saved at once; an
 * htpasswd that cannot be read is kept aside (no user then: a registry
 * that must listen on another address than loopback refuses to start). */
int mgr_users_open(struct manager *m, struct err *e)
{
    struct users *u = malloc(sizeof *u);
    if (!u)
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    int rc = users_load(m->state_dir, u, e);
    if (rc < 0 && e->code == E_STATE_CORRUPT) {
        char from[PATH_MAX + 16], aside[PATH_MAX + 48];
        snprintf(from, sizeof from, "%s/%s", m->state_dir, USERS_FILE);
        snprintf(aside, sizeof aside, "%s.bad-%lld", from, (long long)time(NULL));
        log_warn("registry users unusable (%s): kept as %s, no users", e->message, aside);
        rc = rename(from, aside) == 0 ? users_load(m->state_dir, u, e) : -1;
    }
    if (rc == 1)
        rc = users_save(m->state_dir, u, e);
    if (rc < 0) {
        users_clear(u);
        free(u);
        return -1;
    }
    if (users_apply(m, u))
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    return 0;
}

json_t *manager_users(struct manager *m)
{
    pthread_mutex_lock(&m->mu);
    json_t *j = users_public_json(m->users);
    /* whether the running registry asks for a login (null: none runs) */
    int known = m->has_run && m->reg.exists && strcmp(m->reg.hash, m->run_hash) == 0;
    if (j)
        json_object_update_new(
            j, json_pack("{s:b, s:o, s:s, s:b, s:i}", "authEnabled", m->settings.users > 0,
                         "authRunning", known ? json_boolean(m->run.users > 0) : json_null(),
                         "bind", m->settings.bind, "loopback",
                         settings_bind_loopback(m->settings.bind), "port", m->settings.port));
    pthread_mutex_unlock(&m->mu);
    return j;
}

json_t *manager_users_change(struct manager *m, enum manager_users_op op, const char *name,
                             const char *password, struct err *e)
{
    char generated[USERS_GENERATED_LEN + 1] = "";
    json_t *out = NULL;
    struct users *next = malloc(sizeof *next);
    if (!next)
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory"), NULL;
    pthread_mutex_lock(&m->put_mu); /* users and settings change one at a time */
    pthread_mutex_lock(&m->mu);
    memcpy(next, m->users, sizeof *next);
    char bind[sizeof m->settings.bind];
    snprintf(bind, sizeof bind, "%s", m->settings.bind);
    pthread_mutex_unlock(&m->mu);
    if (op != USERS_OP_REMOVE && !password) {
        if (users_generate_password(generated, sizeof generated)) {
            err_set(e, 500, E_NO_RANDOM, NULL, "no random bytes from the kernel");
            goto out;
        }
        password = generated;
    }
    int rc = op == USERS_OP_ADD ? users_add(next, name, password, USERS_BCRYPT_COST, e)
             : op == USERS_OP_PASSWORD
                 ? users_set_password(next, name, password, USERS_BCRYPT_COST, e)
                 : users_remove(next, name, e);
    if (rc)
        goto out;
    if (next->count == 0 && !settings_bind_loopback(bind)) {
        err_set(e, 409, E_USERS_REQUIRED, "name",
                "the registry is set to listen on %s, where other machines reach it, so it keeps "
                "at least one user: set the listen address to 127.0.0.1 first",
                bind);
        goto out;
    }
    if (users_save(m->state_dir, next, e))
        goto out;
    if (users_apply(m, next)) {
        next = NULL;
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory (the users were saved: restart)");
        goto out;
    }
    next = NULL;
    struct err pe = {0};
    int pushed = mgr_users_push(m, &pe);
    if (pushed < 0)
        log_warn("could not update the registry's users in its container: %s", pe.message);
    pthread_mutex_lock(&m->mu);
    int known = m->has_run && m->reg.exists && strcmp(m->reg.hash, m->run_hash) == 0;
    int restart = known ? (m->run.users > 0) != (m->settings.users > 0)
                        : m->reg.exists && strcmp(m->reg.hash, m->desired_hash) != 0;
    int count = m->settings.users;
    pthread_mutex_unlock(&m->mu);
    /* live: the registry has the new users now; restart: it turns logins
     * on or off, which its configuration says; next-start: none exists */
    const char *applied = pushed == 0 ? "next-start" : restart ? "restart" : "live";
    if (pushed < 0)
        applied = "restart";
    out = json_pack("{s:s, s:s, s:i}", "name", name, "applied", applied, "count", count);
    if (out && generated[0])
        json_object_set_new(out, "password", json_string(generated));
    log_info("registry user %s %s (%s)", name,
             op == USERS_OP_ADD      ? "added"
             : op == USERS_OP_REMOVE ? "removed"
                                     : "given a new password",
             applied);
    if (!out)
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
out:
    pthread_mutex_unlock(&m->put_mu);
    secret_wipe(generated, sizeof generated);
    if (next) {
        users_clear(next);
        free(next);
    }
    return out;
}

char *manager_users_htpasswd(struct manager *m)
{
    struct buf b = {0};
    int failed = 0;
    pthread_mutex_lock(&m->mu);
    /* the users' own lines: the backend's credential stays on this desktop */
    for (int i = 0; m->users && i < m->users->count; i++)
        failed |= buf_printf(&b, "%s:%s\n", m->users->u[i].name, m->users->u[i].hash);
    pthread_mutex_unlock(&m->mu);
    if (failed || !b.data) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}
