/* metrics — what the daemon counts for Prometheus, and its rendering in
 * the text exposition format, version 0.0.4 (the control socket's metrics
 * command and the metrics_textfile of node_exporter's textfile collector).
 * The daemon feeds it: a run's end, a skipped fire, a failed state write,
 * a reload, the HTTP replies of a run's pools; what is true right now
 * (runs in progress, queued) comes with each rendering.  Counters live as
 * long as the process; a workflow's series go when the workflow leaves the
 * configuration (metrics_workflow_forget()).
 *
 * Label values (workflow names come from the configuration) go through
 * str_sanitize() (util.h) and are then escaped as the format asks: a
 * backslash as \\, a double quote as \", a newline as \n.  metrics_ does
 * not log. */
#ifndef GLUEMETAD_METRICS_H
#define GLUEMETAD_METRICS_H

#include <stdint.h>

struct buf;
struct metrics;

/* The upper bounds (seconds) of gluemetad_run_duration_seconds' buckets:
 * from a run of a second to one of an hour, and +Inf after them. */
#define METRICS_DURATION_BUCKETS 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600

/* The upper bounds (seconds) of gluemetad_event_lag_seconds' buckets. */
#define METRICS_LAG_BUCKETS 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600

/* The kinds of gluemetad_entities_written_total. */
enum metrics_kind {
	METRICS_PIPELINE,
	METRICS_STATUS,
	METRICS_USAGE,
	METRICS_DELETED,
	METRICS_N_KINDS,
};

/* One run that ended.  result is one of success, partialSuccess, failed
 * and interrupted (the history's results). */
struct metrics_run {
	const char *result;
	int64_t started_ms, finished_ms;        /* wall clock, ms since the epoch */
	unsigned long written[METRICS_N_KINDS];
};

/* What is true at the moment of a rendering. */
struct metrics_now {
	const char *version;            /* gluemetad_build_info */
	int64_t start_ms;               /* when the daemon started */
	unsigned running, queued;       /* workflows running, waiting for a slot */
};

/* NULL without memory; free with metrics_free(), which accepts NULL. */
struct metrics *metrics_new(void);
struct metrics *metrics_free(struct metrics *m);

/* Makes the workflow's series exist (its counters at 0 until a run ends)
 * and sets its gluemetad_schedule_interval_seconds: the longest time
 * between two fires, 0 for none (a disabled workflow, a schedule that
 * never fires: no interval series, so no alert compares against it).
 * 0 or -ENOMEM. */
int metrics_workflow_set(struct metrics *m, const char *workflow, int64_t interval_s);
/* Drops the workflow's series (it left the configuration). */
void metrics_workflow_forget(struct metrics *m, const char *workflow);
/* A run of the workflow ended: its result, duration and what it wrote.
 * 0, -EINVAL for an unknown result, or -ENOMEM. */
int metrics_run_add(struct metrics *m, const char *workflow, const struct metrics_run *r);
/* The workflow's last run as an earlier process recorded it (the run
 * history read at start-up): its timestamps only, not counted as a run.
 * 0, -EINVAL for an unknown result, or -ENOMEM. */
int metrics_run_seen(struct metrics *m, const char *workflow, const char *result,
                     int64_t finished_ms);
/* A fire of the workflow was skipped: it was still running or queued. */
int metrics_skipped_add(struct metrics *m, const char *workflow);
/* n more attempts to endpoint (an HTTP pool's name) ended with code, 0
 * meaning a transport failure (rendered code="error"); and n more replies
 * from it said "slow down".  0 or -ENOMEM. */
int metrics_http_add(struct metrics *m, const char *endpoint, long code, uint64_t n);
int metrics_http_throttled_add(struct metrics *m, const char *endpoint, uint64_t n);
/* A history or memo file could not be written. */
void metrics_state_write_error(struct metrics *m);
/* A configuration load (the start's or a reload) succeeded or failed. */
void metrics_reload(struct metrics *m, int ok, int64_t now_ms);

/* Events (events.h): whether a consumer is configured (the families are
 * rendered only then), an event received (its detail-type; unknown ones
 * count as "other"), one ignored (reason unmapped, other_event or
 * unparseable; -EINVAL for another), one applied with its lag (-1:
 * unknown, not observed in the histogram). */
void metrics_events_on(struct metrics *m, int on);
int metrics_event_received(struct metrics *m, const char *detail_type);
int metrics_event_ignored(struct metrics *m, const char *reason);
void metrics_event_applied(struct metrics *m, double lag_s);
/* Appends the exposition to out: every family with HELP and TYPE lines,
 * families in a fixed order, series sorted by their labels.  0 or a
 * negative errno of buf_ (-ENOMEM, -EFBIG). */
int metrics_render(const struct metrics *m, const struct metrics_now *now, struct buf *out);

#endif
