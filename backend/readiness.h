/* readiness: whether a grant suits a registry in a given storage mode, in
 * the words of the tab (its mode labels, what to do). Reads the offline
 * report of grant.h; pure, no I/O. */
#ifndef SR_READINESS_H
#define SR_READINESS_H

#include <jansson.h>

#include "settings.h"

/* The label the tab shows for a mode ("Storj (recommended)", ...). Static. */
const char *readiness_mode_label(enum mode m);

/*
 * The verdict for a grant: {"ready": b, "mode": "<mode>", "findings":
 * [{"code", "severity": "error"|"warning"|"info", "message", "fix"?,
 * "action"?}]}. report is grant_report's object (its warnings were worked
 * out for bucket at the current time); bucket is the bucket the registry
 * will use (NULL or "": none set); unencrypted_keys is the setting. ready
 * is false when any finding is an error. New reference; NULL when memory
 * runs out.
 */
json_t *readiness_verdict(const json_t *report, enum mode mode, const char *bucket,
                          int unencrypted_keys);

/* The bucket a grant names when it names exactly one (report "buckets"),
 * else NULL. Owned by report. */
const char *readiness_suggested_bucket(const json_t *report);

/* The findings of a verdict that need attention (errors and warnings) as
 * the [{"code","message"}] list of the "warnings" field. New reference. */
json_t *readiness_warnings(const json_t *verdict);

#endif
