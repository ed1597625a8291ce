/* Clean-up rules: which tags to keep per repository pattern, and which
 * images therefore go. Pure: validation of the rules, the plan from what
 * the registry holds, the schedule's time of day. The rules live in
 * retention.json in the state folder (file_write_atomic).
 *
 * The rules document:
 *   {"rules": [{"repositories": "team/\u002a", "keepLast": 5,
 *               "keepTags": ["latest", "v*"],
 *               "keepPulledWithin": 30 | null, "keepPushedWithin": 7 | null}],
 *    "deleteUntagged": true,
 *    "schedule": "03:00" | null}                  (UTC, daily)
 * A repository follows the first rule whose pattern matches its name
 * (fnmatch: a star also crosses '/'); repositories no rule matches are left
 * alone. In a repository the keepLast most recent tags (by the image's
 * creation time) and the tags matching a keepTags pattern stay; so does a
 * tag whose creation time is unknown. An image (digest) goes only when
 * every tag pointing at it goes: deleting by digest removes all its tags. */
#ifndef SR_RETENTION_H
#define SR_RETENTION_H

#include <jansson.h>

#include "util.h"

#define RETENTION_MAX_RULES 50
#define RETENTION_MAX_PATTERNS 20
#define RETENTION_MAX_KEEP 10000
/* keepPulledWithin, keepPushedWithin: at most this many days */
#define RETENTION_MAX_DAYS 3650

/* The rules with nothing to do: no rule, untagged manifests deleted by a
 * clean-up, no schedule. New reference. */
json_t *retention_default(void);

/* Validates a rules document (a PUT body); missing fields take the
 * defaults. New reference (normalised: every field present), or NULL with
 * e: 400 naming the field ("rules[2].keepLast"), nothing changed. */
json_t *retention_parse(json_t *body, struct err *e);

/* The plan for repos, what the registry holds as scan_repo reads it
 * (scan.h):
 *   [{"name", "complete", "problem", "tags": [{"tag", "digest", "created",
 *     "size", "pushed"?, "seen"?, "lastPulled"?, "pullsSince"?}],
 *     "children": {index digest: [digest, ...]}}]
 * (the four optional times come from the index, RFC 3339 UTC or null:
 * when the tag was pushed onto its image, when the index first saw it
 * there, when the image was last pulled in this repository, and since when
 * the index counts that image's pulls there)
 * now: seconds since the epoch (a creation time more than a day after it
 * is implausible).
 *
 * What the plan promises, in order:
 *  - a repository no rule matches is not listed; one that was not read
 *    whole ("complete" not true) deletes nothing: it is listed with
 *    "skipped" (its problem) and every tag kept as "not read whole";
 *  - a tag matching a keepTags pattern stays ("pattern");
 *  - with keepPushedWithin N (days): a tag pushed within N days of now
 *    stays ("pushed recently"); one with no valid push time stays ("push
 *    time unknown") unless its valid "seen" time is more than N days ago
 *    (it was pushed before that);
 *  - with keepPulledWithin N: a tag whose image was last pulled within N
 *    days stays ("pulled recently"); one whose "lastPulled" is there but no
 *    valid time stays ("pull time unknown"); one not pulled since (null
 *    "lastPulled") is kept ("pull time unknown") when "pullsSince" is not
 *    a valid time or is less than N days ago (pulls before the index
 *    counted are unknown, never "not pulled");
 *  - a tag whose age is unknown stays ("age unknown"): no creation time, a
 *    time that is no RFC 3339 UTC time, before 2000-01-01, more than a day
 *    in the future, or the same time as a candidate of another build
 *    (fixed build timestamps) when the push order cannot tell them apart.
 *    The images at one time are one build when one of them (an index)
 *    reaches all the others; then the index counts as newer than its
 *    platforms. Several builds at one creation time are ordered by push
 *    time instead when every candidate at that time (a tag no keepTags
 *    pattern matches) has a valid "pushed" (the same validity as a
 *    creation time) and no two of them on different digests have the same
 *    "pushed": the later push is the newer; otherwise every candidate at
 *    that time stays ("age unknown");
 *  - of the other tags the keepLast newest stay ("recent"; null keepLast:
 *    all of them);
 *  - every manifest reachable from a kept tag's digest through "children"
 *    (index children, nested indexes) stays: a tag on such a manifest is
 *    kept as "same image" (the digest of a kept tag) or "in a kept index";
 *  - what is left goes, by digest, each image once with all its tags.
 * Answers {"repositories": [{"name", "rule" (index), "skipped" (only when
 * not read whole), "delete": [{"digest", "tags": [...], "created",
 * "size"}], "keep": [{"tag", "reason"}]}], "images" (to delete), "tags"
 * (that go with them), "bytes" (at most this much is freed: layers that
 * kept images share stay), "skipped": [{"name", "reason"}],
 * "deleteUntagged"}. New reference, NULL when out of memory. */
json_t *retention_plan(json_t *rules, json_t *repos, long long now);

/* Marks digest and every manifest reachable from it through children
 * (index digest -> the digests it names, nested; scan_repo's "children")
 * as keys of the object reach. 0, or -1 when out of memory (reach is then
 * short of some). */
int retention_reach(json_t *children, const char *digest, json_t *reach);

/* The index of the first rule whose pattern matches name, or -1. */
int retention_rule_of(json_t *rules, const char *name);

/* Minutes after midnight UTC of the schedule, or -1 when there is none. */
int retention_schedule_minute(json_t *rules);
/* Whether a schedule at minute (retention_schedule_minute) is due at now
 * (seconds since the epoch) when it last ran, or was last due, on day
 * last_day (days since the epoch, UTC): once a day, at or after its time.
 * -1 minute: never. */
int retention_due(int minute, long last_day, long long now);

/* How many runs of each kind (the rules', the free-space clean-up's) the
 * history keeps. */
#define RETENTION_HISTORY_MAX 10
/* Puts entry (taken) first in *history (an array, newest first, made when
 * NULL) and drops the oldest past max. 0, or -1 when memory ran out (entry
 * freed, the history as it was). */
int retention_history_add(json_t **history, json_t *entry, size_t max);

/* Reads path (a missing file gives the defaults). 0 with *out, or -1 with e
 * (a file that is not a valid rules document: 500 state_corrupt). */
int retention_load(const char *path, json_t **out, struct err *e);
/* Writes rules to path atomically (0600). 0, or -1 with e (the old file kept). */
int retention_save(const char *path, json_t *rules, struct err *e);

#endif
