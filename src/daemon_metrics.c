/* daemon_metrics — the daemon's side of its Prometheus metrics
 * (metrics.h): what an ended run adds (its result, duration, what it
 * wrote, its HTTP pools' replies), each workflow's schedule interval, the
 * text for the control socket's metrics command, and the metrics_textfile
 * written after each run and each reload. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "daemon_int.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "run.h"
#include "schedule.h"
#include "state.h"
#include "util.h"

#ifndef GLUEMETAD_VERSION
#define GLUEMETAD_VERSION "0.1.0"
#endif

/* Enough for every pool a run makes (run_pools()). */
#define MAX_RUN_POOLS 8

void
daemon__metrics_run_end(struct job *j, const struct history_run *h)
{
	struct metrics *m = j->d->metrics;
	struct metrics_run mr = {
		.result = h->result,
		.started_ms = h->started_ms,
		.finished_ms = h->finished_ms,
	};
	const struct http_pool *pools[MAX_RUN_POOLS];
	size_t i, k, n;

	if (j->run) {
		const struct run_stats *st = run_stats(j->run);

		mr.written[METRICS_PIPELINE] = st->pipelines_written;
		mr.written[METRICS_STATUS] = st->statuses_written;
		mr.written[METRICS_USAGE] = st->usage_written;
		mr.written[METRICS_DELETED] = st->pipelines_deleted;
		n = run_pools(j->run, pools, MAX_RUN_POOLS);
		for (i = 0; i < n; i++) {
			const struct http_pool_view *v = http_pool_view(pools[i]);

			for (k = 0; k < v->n_codes; k++)
				(void)metrics_http_add(m, v->name, v->codes[k].code, v->codes[k].n);
			(void)metrics_http_throttled_add(m, v->name, v->throttled);
		}
	}
	(void)metrics_run_add(m, j->name, &mr);
}

void
daemon__metrics_workflows(struct daemon *d)
{
	time_t now = (time_t)(time_now_ms() / 1000);
	struct strmap seen = {0};       /* schedule, zone, jitter -> gap: computed once */
	const struct strmap_entry *e;
	struct job *j;
	char key[512], gap[24];
	int64_t g;

	for (j = d->jobs; j; j = j->next) {
		g = 0;
		if (j->w && j->w->enabled) {
			snprintf(key, sizeof(key), "%s\x1f%s\x1f%u", j->w->schedule,
			         j->w->timezone ? j->w->timezone : "", j->w->jitter_s);
			if ((e = strmap_get(&seen, key)) && e->value) {
				g = strtoll(e->value, NULL, 10);
			} else {
				g = sched_longest_gap(j->w, now);
				snprintf(gap, sizeof(gap), "%lld", (long long)g);
				(void)strmap_put(&seen, key, gap);
			}
		}
		(void)metrics_workflow_set(d->metrics, j->name, g);
	}
	strmap_clear(&seen);
}

char *
daemon__metrics_text(struct daemon *d)
{
	struct metrics_now now = {
		.version = GLUEMETAD_VERSION,
		.start_ms = d->start_ms,
		.running = d->sched ? sched_running(d->sched) : 0,
	};
	struct buf out = {0};
	struct job *j;

	for (j = d->jobs; j; j = j->next)
		now.queued += (unsigned)sched_entry_view(j->se)->queued;
	if (metrics_render(d->metrics, &now, &out) < 0) {
		buf_clear(&out);
		return NULL;
	}
	return buf_steal(&out);
}

void
daemon__metrics_write(struct daemon *d)
{
	const char *path = d->cfg->metrics_textfile;
	char *text;
	int r;

	if (!path)
		return;
	text = daemon__metrics_text(d);
	/* 0644: node_exporter runs as another user and reads it */
	r = text ? state_write_path(path, text, strlen(text), 0644) : -ENOMEM;
	if (r < 0)
		log_warning(NULL, "cannot write the metrics textfile %s: %s, skipping", path,
		            strerror(-r));
	free(text);
}
