/* daemon_events — the daemon's side of events (events.h): the consumer's
 * life across reloads and shutdown, the index of Glue graphs it maps
 * events with (evindex.h, fed by every run's graphs and kept in
 * state_dir), and the targeted refreshes it asks for, which run as the
 * job's runs with trigger "event" and give way to the schedule. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "daemon_int.h"
#include "events.h"
#include "evindex.h"
#include "metrics.h"
#include "run.h"
#include "schedule.h"
#include "wf.h"

static void
only_clear(struct job *j)
{
	size_t i;

	for (i = 0; i < j->only.n; i++)
		free(j->only.v[i]);
	free(j->only.v);
	j->only.v = NULL;
	j->only.n = 0;
}

/* events_ops.refresh: the job's run with trigger "event". */
static int
on_refresh(const char *owner, const char *const *names, size_t n, void *arg)
{
	struct daemon *d = arg;
	struct job *j = daemon__job_find(d, owner, 0);
	const struct sched_view *v;
	size_t i;
	int r;

	if (!j || !j->w || d->stopping)
		return -ENOENT;
	v = sched_entry_view(j->se);
	if (v->running || v->queued)
		return -EBUSY;
	only_clear(j);
	if (!(j->only.v = calloc(n ? n : 1, sizeof(char *))))
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if ((j->only.v[j->only.n] = strdup(names[i])))
			j->only.n++;
	r = sched_fire(j->se, DAEMON_TRIGGER_EVENT);
	if (r == -EBUSY) {
		only_clear(j);
		return -EBUSY;
	}
	if (r == 0 && !v->running) {    /* it could not start: run_start said why */
		only_clear(j);
		return -EIO;
	}
	return 0;
}

static void
on_received(const char *detail_type, void *arg)
{
	struct daemon *d = arg;

	(void)metrics_event_received(d->metrics, detail_type);
}

static void
on_applied(double lag_s, void *arg)
{
	struct daemon *d = arg;

	metrics_event_applied(d->metrics, lag_s);
}

static void
on_ignored(enum events_ignored why, void *arg)
{
	struct daemon *d = arg;
	static const char *const reasons[EVENTS_N_IGNORED] = {
		[EVENTS_IGNORED_UNMAPPED] = "unmapped",
		[EVENTS_IGNORED_OTHER] = "other_event",
		[EVENTS_IGNORED_UNPARSEABLE] = "unparseable",
	};

	(void)metrics_event_ignored(d->metrics, reasons[why]);
}

static const struct events_ops ops = { on_refresh, on_received, on_applied, on_ignored };

/* events_stop()'s end: the configuration it ran with may go. */
static void
on_stopped(void *arg)
{
	cfg_unref(arg);
}

static void
stop(struct daemon *d)
{
	struct events *x = d->events;
	struct cfg *c = d->events_cfg;

	if (!x)
		return;
	d->events = NULL;
	d->events_cfg = NULL;
	events_stop(x, on_stopped, c);
}

void
daemon__events_apply(struct daemon *d)
{
	const struct cfg_events *want = d->cfg->events;
	char err[512];
	int r;

	if (!d->index) {
		if (!(d->index = evindex_new()))
			return;
		if ((r = evindex_load(d->index, d->cfg->state_dir)) < 0)
			log_warning(NULL, "cannot read %s/%s: %s; events map once runs read the "
			            "graphs again", d->cfg->state_dir, EVINDEX_FILE, strerror(-r));
	}
	if (d->events && want && str_eq(d->events_cfg->events->fingerprint, want->fingerprint))
		return;                 /* unchanged: the consumer goes on */
	if (d->events)
		log_notice(NULL, "events: %s, stopping the consumer of %s",
		           want ? "configuration changed" : "no longer configured",
		           d->events_cfg->events->queue_url);
	stop(d);
	metrics_events_on(d->metrics, want != NULL);
	if (!want || d->stopping)
		return;
	d->events = events_new(d->http, want, d->index, &ops, d, err, sizeof(err));
	if (!d->events) {
		log_err(NULL, "events: cannot consume %s: %s", want->queue_url, err);
		return;
	}
	d->events_cfg = cfg_ref(d->cfg);
	log_notice(NULL, "events: consuming %s (region %s, debounce %u ms); %zu Glue workflows "
	           "known to map events to", want->queue_url, want->region, want->debounce_ms,
	           evindex_count(d->index, NULL));
}

void
daemon__events_stop(struct daemon *d)
{
	stop(d);
	evindex_free(d->index);
	d->index = NULL;
}

/* run_graphs()' callback: one graph into the index. */
static void
on_graph(const char *wf, const char *const *jobs, size_t n_jobs, const char *const *crawlers,
         size_t n_crawlers, void *arg)
{
	(void)evindex_set(arg, wf, jobs, n_jobs, crawlers, n_crawlers);
}

void
daemon__events_run_end(struct job *j, const char *result)
{
	struct daemon *d = j->d;
	int refresh = strcmp(j->trigger, DAEMON_TRIGGER_EVENT) == 0, r;

	/* a complete read replaces the owner's graphs, any other only those it read */
	if (d->index && j->run && j->w) {
		if (evindex_begin(d->index, j->name, j->w->wf->aws_region,
		                  run_graphs_complete(j->run)) == 0) {
			run_graphs(j->run, on_graph, d->index);
			if (evindex_end(d->index) &&
			    (r = evindex_save(d->index, j->run_cfg->state_dir)) < 0)
				log_warning(&j->lg, "cannot write %s/%s: %s", j->run_cfg->state_dir,
				            EVINDEX_FILE, strerror(-r));
		}
	}
	only_clear(j);
	if (d->events)
		events_run_ended(d->events, j->name, refresh, strcmp(result, "success") == 0,
		                 j->run_started_ms);
}

void
daemon__events_forget(struct daemon *d, const char *name)
{
	int r;

	if (d->events)
		events_forget(d->events, name);
	if (d->index) {
		evindex_forget(d->index, name);
		if ((r = evindex_save(d->index, d->cfg->state_dir)) < 0)
			log_warning(NULL, "cannot write %s/%s: %s", d->cfg->state_dir, EVINDEX_FILE,
			            strerror(-r));
	}
}

cJSON *
daemon__events_json(const struct daemon *d)
{
	const struct events_view *v;
	cJSON *o;

	if (!d->events)
		return NULL;
	v = events_view(d->events);
	if (!(o = cJSON_CreateObject()))
		return NULL;
	cJSON_AddStringToObject(o, "queue_url", v->queue_url);
	if (v->last_poll_ms)
		cJSON_AddNumberToObject(o, "last_poll", (double)v->last_poll_ms / 1000.0);
	if (v->last_event_ms)
		cJSON_AddNumberToObject(o, "last_event", (double)v->last_event_ms / 1000.0);
	if (v->last_lag_s >= 0)
		cJSON_AddNumberToObject(o, "last_lag_seconds", v->last_lag_s);
	cJSON_AddNumberToObject(o, "received", (double)v->received);
	cJSON_AddNumberToObject(o, "applied", (double)v->applied);
	cJSON_AddNumberToObject(o, "ignored", (double)v->ignored);
	cJSON_AddNumberToObject(o, "pending", (double)v->pending);
	if (v->last_error[0]) {
		cJSON_AddStringToObject(o, "error", v->last_error);
		cJSON_AddNumberToObject(o, "consecutive_errors", v->consecutive_errors);
	}
	return o;
}
