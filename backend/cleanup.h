/* The clean-up rules against a registry: reading what they match, and
 * applying a plan so that only what the plan shows goes, even when the
 * registry changes in between.
 *
 * Reading: the whole catalog, then each repository a rule matches, whole
 * (scan_repo). Applying a plan (retention_plan of that reading), per
 * repository with something to delete: the repository is read again right
 * before its deletes and planned again with the same rules; an image is
 * deleted only when the new plan deletes it too, every tag now on it was on
 * it in the plan (a tag moved onto it meanwhile keeps it), and no tag that
 * stays reaches it (the platforms of an index kept that way stay too). A
 * repository that cannot be read whole again deletes nothing. */
#ifndef SR_CLEANUP_H
#define SR_CLEANUP_H

#include <jansson.h>

#include "scan.h"
#include "util.h"

/* a reading older than this is read again before the next delete of a
 * repository: what moved since is judged within this window, and only
 * the deletes of this window race with pushes */
#define CLEANUP_FRESH_S 30

/* The repositories of the registry that a rule of rules matches, each as
 * scan_repo reads it, in catalog order: the input of retention_plan. New
 * array, or NULL with e (the catalog could not be read, a stop). */
json_t *cleanup_read(struct scan_io *io, json_t *rules, struct err *e);

/* Deletes what plan (retention_plan(rules, ..., now)) deletes and what is
 * still true when it comes to it. Answers
 *   {"images", "tags" (deleted, with the images),
 *    "deleted": [{"name", "digest", "tags"}],
 *    "kept": [{"name", "digest", "reason"}]   (planned, not deleted: why),
 *    "failed": [{"name", "digest", "reason"}] (the registry refused),
 *    "skipped": [{"name", "reason"}]          (the plan's and the new ones),
 *    "refused": true when the registry refuses deletes (405: then nothing
 *               more is tried, and the rest is in "skipped")}
 * New reference, or NULL with e (out of memory). A stop ends it early: the
 * repositories not done are in "skipped". */
json_t *cleanup_apply(struct scan_io *io, json_t *rules, json_t *plan, long long now,
                      struct err *e);

#endif
