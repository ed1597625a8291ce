/* The status view: what GET /api/status shows, as a pure function of what
 * the manager knows (an observation of Docker and the containers, the job
 * at hand, the last outcomes). No locks, no I/O: the manager copies its
 * fields into a status_input under its lock and renders. Every state and
 * its error are decided here, in one place, and tested table-driven
 * (tests/unit/test_status.c). */
#ifndef SR_STATUS_H
#define SR_STATUS_H

#include <jansson.h>

#include "manager.h"
#include "settings.h"
#include "util.h"

/* One managed container as Docker last showed it. */
struct status_container {
    int exists;
    int running;
    int exit_code;
    const char *hash; /* its spec hash label ("" when none) */
};

struct status_input {
    /* the job queued and the one running, and where the running one is */
    enum manager_job pending, running_job;
    const char *phase;      /* "pulling", "starting", "stopping", "removing" or NULL */
    const char *prog_image; /* the image being pulled ("" or NULL when none) */
    long long prog_cur, prog_total;

    /* Docker: looked at at least once, reachable, and why not */
    int observed_once;
    int docker_ok;
    const struct err *docker_err;
    const char *docker_api, *docker_version; /* "" when unknown */

    /* the last job that failed (job_failed), with its error and the hint
     * the case gave ("" or NULL: the error table's) */
    int job_failed;
    const struct err *job_err;
    const char *job_hint;

    /* the containers and the registry's answers */
    struct status_container reg, gw;
    json_t *containers; /* [{role,id,name,image,state,status,health}], borrowed */
    int reg_healthy;
    long reg_http; /* what GET /v2/ answered: 503 while its storage is away */
    /* the Docker Hub cache's container and its answers, the same way */
    struct status_container cache;
    int cache_healthy;
    long cache_http;

    /* settings: those that run (or ran last) and those saved */
    const struct settings *running; /* == saved when what runs is not known */
    const struct settings *saved;
    const char *desired_hash; /* spec hash of the saved settings ("" when none) */

    json_t *last_check; /* borrowed, or NULL */
    long long gc_at;    /* 0: no clean-up yet */
    int gc_ok;
    const char *gc_message;
    const char *settings_problem, *settings_kept_as; /* "" when none */
};

/* The status object. New reference; NULL when out of memory. It shares
 * nothing with the input (containers and last_check are copied): the
 * caller frees it outside the lock that guards the input. */
json_t *status_view(const struct status_input *in);

/* "localhost:9999" (or the bound address) for the settings. */
void status_endpoint(const struct settings *s, char *out, size_t len);

#endif
