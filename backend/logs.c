/* Layer 1 of the manager, above the state (state.c) only: the containers'
 * logs for the tab, with every secret redacted, and a stopped container's
 * last words for the jobs' errors. */
#include "manager_int.h"

#include <string.h>

#include "status.h"

struct log_ctx {
    json_t *lines;
    const char *role;
    const char *const *secrets;
    int nsecrets;
    struct buf tmp;
};

/* Every secret a container's output may show: those of the saved settings
 * (settings_secrets) and those the containers were created with. */
#define NSECRETS (2 * SETTINGS_SECRETS)

/* Copies them into out; 0, or -1 (nothing left allocated) when memory ran
 * out. Takes m->mu for the copies only: deriving a grant runs outside. */
static int copy_secrets(struct manager *m, char *out[NSECRETS])
{
    struct settings saved;
    memset(out, 0, NSECRETS * sizeof *out);
    pthread_mutex_lock(&m->mu);
    int rc = settings_copy(&saved, &m->settings); /* frees what it took on failure */
    int copied = rc == 0;
    for (int i = 0; rc == 0 && i < SETTINGS_SECRETS; i++)
        if (m->live_secrets[i] && !(out[SETTINGS_SECRETS + i] = strdup(m->live_secrets[i])))
            rc = -1;
    pthread_mutex_unlock(&m->mu);
    if (rc == 0)
        rc = settings_secrets(&saved, out);
    if (copied)
        settings_free(&saved);
    if (rc)
        settings_secrets_free(out + SETTINGS_SECRETS);
    return rc;
}

static void free_secrets(char *s[NSECRETS])
{
    settings_secrets_free(s);
    settings_secrets_free(s + SETTINGS_SECRETS);
}

static void collect_line(void *ctx, enum demux_stream stream, const char *line, size_t len)
{
    struct log_ctx *lc = ctx;
    buf_reset(&lc->tmp);
    if (str_redact(&lc->tmp, line, len, lc->secrets, lc->nsecrets))
        return;
    str_utf8_clean(lc->tmp.data, lc->tmp.len); /* JSON strings must be UTF-8 */
    json_array_append_new(lc->lines, json_pack("{s:s, s:s, s:s%}", "container", lc->role, "stream",
                                               stream == DEMUX_STDERR ? "stderr" : "stdout", "text",
                                               lc->tmp.data ? lc->tmp.data : "", lc->tmp.len));
}

/* The line of the container's last words that best says why it stopped: a
 * panic or fatal line (Go prints its stack trace after it), else the last
 * line with "error", else the last line. Secrets redacted. */
void mgr_last_log_line(struct manager *m, const char *id, char *out, size_t len)
{
    static const char *const marks[] = {"panic:", "level=fatal", "fatal", "error", "Error"};
    struct err e;
    json_t *logs = json_array();
    char *copies[NSECRETS];
    int copied = copy_secrets(m, copies);
    struct log_ctx lc = {
        .lines = logs, .role = "", .secrets = (const char *const *)copies, .nsecrets = NSECRETS};
    out[0] = '\0';
    if (copied == 0 && docker_logs(&m->docker, id, 60, 0, collect_line, &lc, NULL, &e) == 0) {
        const char *best = NULL;
        size_t n = json_array_size(logs);
        for (size_t k = 0; k < sizeof marks / sizeof *marks && !best; k++)
            for (size_t i = n; i-- > 0 && !best;) {
                const char *t = json_string_value(json_object_get(json_array_get(logs, i), "text"));
                if (t && strstr(t, marks[k]))
                    best = t;
            }
        for (size_t i = n; i-- > 0 && !best;) {
            const char *t = json_string_value(json_object_get(json_array_get(logs, i), "text"));
            if (t && *t)
                best = t;
        }
        if (best) {
            while (*best == ' ' || *best == '\t')
                best++;
            snprintf(out, len, "%s", best);
        }
    }
    if (copied == 0)
        free_secrets(copies);
    buf_free(&lc.tmp);
    json_decref(logs);
}

json_t *manager_logs(struct manager *m, int tail, struct err *e)
{
    char ids[3][72], *copies[NSECRETS];
    const char *roles[3] = {"gateway", "registry", "cache"};
    pthread_mutex_lock(&m->mu);
    snprintf(ids[0], sizeof ids[0], "%s", m->gw.exists ? m->gw.id : "");
    snprintf(ids[1], sizeof ids[1], "%s", m->reg.exists ? m->reg.id : "");
    snprintf(ids[2], sizeof ids[2], "%s", m->cache.exists ? m->cache.id : "");
    int ok = m->docker_ok;
    pthread_mutex_unlock(&m->mu);
    int copied = copy_secrets(m, copies);
    if (copied) {
        err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
        return NULL;
    }

    json_t *lines = json_array(), *out = NULL;
    struct log_ctx lc = {
        .lines = lines, .secrets = (const char *const *)copies, .nsecrets = NSECRETS};
    if (!ok) {
        err_set(e, 503, E_DOCKER_UNREACHABLE, NULL,
                "the Docker engine does not answer: start Docker and try again");
        goto out;
    }
    int truncated = 0;
    for (int i = 0; i < 3; i++) {
        int cut = 0;
        if (!ids[i][0])
            continue;
        lc.role = roles[i];
        if (docker_logs(&m->docker, ids[i], tail, 0, collect_line, &lc, &cut, e) &&
            e->status != 404)
            goto out;
        truncated |= cut;
    }
    out = json_pack("{s:O, s:b}", "lines", lines, "truncated", truncated);
out:
    free_secrets(copies);
    buf_free(&lc.tmp);
    json_decref(lines);
    return out;
}
