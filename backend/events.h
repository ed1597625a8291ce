/* The registry's notifications: a small HTTP listener the registry posts
 * its events to (distribution's notifications.endpoints), protected by a
 * random bearer token, with a cap on bodies. An envelope is acknowledged
 * (200) only after every event in it was handed to the sink and the sink
 * said it is stored; otherwise 503, and the registry sends it again.
 *
 * Facts (distribution v3.0.0, notifications/): the body is
 * {"events":[{id, timestamp, action, target{mediaType, digest, size,
 * repository, url, tag}, request{method, useragent}, actor{name}}]},
 * Content-Type application/vnd.docker.distribution.events.v2+json. */
#ifndef SR_EVENTS_H
#define SR_EVENTS_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

/* the largest envelope taken; larger ones get 413 */
#define EVENTS_MAX_BODY (1024 * 1024)
/* the most events one envelope may hold */
#define EVENTS_MAX_PER_BODY 1000

/* stores one event (borrowed); 0 when stored, -1 when it could not be */
typedef int (*events_sink)(void *ctx, json_t *event);

/* Parses an envelope and hands each event that is an object to sink, in
 * order. 0 when all were stored; -1 when the body is not an envelope (400);
 * -2 when the sink failed (503). Never trusts the body: any bytes. */
int events_parse(const char *body, size_t len, events_sink sink, void *ctx);

struct events;

/* Listens on ip:port (port 0: any free one) for POST /events with
 * "Authorization: Bearer <token>". NULL with e. */
struct events *events_start(const char *ip, int port, const char *token, events_sink sink,
                            void *ctx, struct err *e);
/* the port it listens on */
int events_port(const struct events *ev);
/* envelopes taken, refused (bad token, too big, not an envelope) */
void events_counts(const struct events *ev, long long *taken, long long *refused);
void events_stop(struct events *ev);

#endif
