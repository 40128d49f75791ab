/* evindex — which configured workflow holds which Glue job or crawler: the
 * graphs the daemon's runs last read, by owner (a workflow of the
 * configuration, one workflow file), its AWS region, and Glue workflow.
 * The event consumer asks it where an event's job or crawler belongs.
 * Kept in state_dir/EVINDEX_FILE across restarts (crash-safe, through
 * state_write()), so that events map before the first run after a start.
 * A run that read every workflow of its listing replaces its owner's
 * graphs; any other run (a targeted refresh, a listing that failed) only
 * replaces the graphs it read: a failed read takes nothing away. */
#ifndef GLUEMETAD_EVINDEX_H
#define GLUEMETAD_EVINDEX_H

#include <stddef.h>

#define EVINDEX_FILE "event-index.json"

enum evindex_kind { EVINDEX_JOB, EVINDEX_CRAWLER };

struct evindex;

struct evindex *evindex_new(void);
void evindex_free(struct evindex *x);

/* Starts an update of owner's graphs in region (replace: forget the
 * graphs not set again before evindex_end()).  0 or -ENOMEM. */
int evindex_begin(struct evindex *x, const char *owner, const char *region, int replace);
/* The graph of Glue workflow wf of the owner being updated. */
int evindex_set(struct evindex *x, const char *wf, const char *const *jobs, size_t n_jobs,
                const char *const *crawlers, size_t n_crawlers);
/* Ends the update; 1 when the index changed, 0 when not. */
int evindex_end(struct evindex *x);
/* An owner gone from the configuration. */
void evindex_forget(struct evindex *x, const char *owner);

/* For each Glue workflow holding job or crawler name in region (NULL: any),
 * each(owner, wf, arg); returns how many. */
typedef void (*evindex_cb)(const char *owner, const char *wf, void *arg);
size_t evindex_find(const struct evindex *x, enum evindex_kind kind, const char *region,
                    const char *name, evindex_cb each, void *arg);
/* How many Glue workflows the index holds for owner (all: NULL). */
size_t evindex_count(const struct evindex *x, const char *owner);

/* dir/EVINDEX_FILE: 0, or a negative errno (-EBADMSG: not an index;
 * no file is not an error). */
int evindex_load(struct evindex *x, const char *dir);
int evindex_save(const struct evindex *x, const char *dir);

#endif
