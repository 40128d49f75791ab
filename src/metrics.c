/* metrics — see include/metrics.h.  The format is Prometheus' text
 * exposition format 0.0.4 (prometheus/docs content/docs/instrumenting/
 * exposition_formats.md): "# HELP name text", "# TYPE name type", then
 * one "name{label="value",...} number" line per series; a histogram is
 * its _bucket series (cumulative, le ascending, +Inf last), _sum and
 * _count.  Names follow Prometheus' naming practices: the gluemetad_
 * prefix, base units (seconds), _total on counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

static const double bucket_le[] = { METRICS_DURATION_BUCKETS };
#define N_BUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

/* The history's results, in the order they are rendered. */
static const char *const results[] = { "success", "partialSuccess", "failed", "interrupted" };
#define N_RESULTS (sizeof(results) / sizeof(results[0]))

static const char *const kinds[METRICS_N_KINDS] = {
	[METRICS_PIPELINE] = "pipeline",
	[METRICS_STATUS] = "status",
	[METRICS_USAGE] = "usage",
	[METRICS_DELETED] = "deleted",
};

struct mwf {
	char *name;
	int64_t interval_s;
	uint64_t runs[N_RESULTS];
	int64_t last_ms[N_RESULTS];             /* 0: no such run yet */
	uint64_t buckets[N_BUCKETS];            /* not cumulative; +Inf is count */
	double duration_sum;
	uint64_t written[METRICS_N_KINDS];
	uint64_t skipped;
};

struct mcode {
	long code;                              /* 0: a transport failure */
	uint64_t n;
};

struct mendpoint {
	char *name;
	struct mcode *codes;                    /* ascending by code */
	size_t n_codes;
	uint64_t throttled;
};

/* Entries sorted by name, each starting with its char *name. */
struct named {
	void **v;
	size_t n;
};

/* Events: the detail-types counted by name (others as "other"), the
 * reasons an event is ignored, and the lag histogram's bounds (seconds). */
static const char *const detail_types[] = { "Glue Job State Change",
	"Glue Crawler State Change", "Glue Job Run Status", "other" };
#define N_DETAIL_TYPES (sizeof(detail_types) / sizeof(detail_types[0]))
static const char *const ignore_reasons[] = { "unmapped", "other_event", "unparseable" };
#define N_IGNORE_REASONS (sizeof(ignore_reasons) / sizeof(ignore_reasons[0]))
static const double lag_le[] = { METRICS_LAG_BUCKETS };
#define N_LAG_BUCKETS (sizeof(lag_le) / sizeof(lag_le[0]))

struct mevents {
	int on;                                 /* a consumer is configured */
	uint64_t received[N_DETAIL_TYPES];
	uint64_t ignored[N_IGNORE_REASONS];
	uint64_t applied;
	uint64_t lag_buckets[N_LAG_BUCKETS];    /* not cumulative */
	uint64_t lag_count;                     /* applied with a known lag */
	double lag_sum;
};

struct metrics {
	struct named wf;                        /* struct mwf */
	struct named ep;                        /* struct mendpoint */
	struct mevents ev;
	uint64_t state_write_errors;
	int reload_ok;
	int64_t reload_ok_ms;                   /* 0: no successful load yet */
};

#define WF(m, i) ((struct mwf *)(m)->wf.v[i])
#define EP(m, i) ((struct mendpoint *)(m)->ep.v[i])

struct metrics *
metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

struct metrics *
metrics_free(struct metrics *m)
{
	size_t i;

	if (!m)
		return NULL;
	for (i = 0; i < m->wf.n; i++) {
		free(WF(m, i)->name);
		free(WF(m, i));
	}
	for (i = 0; i < m->ep.n; i++) {
		free(EP(m, i)->name);
		free(EP(m, i)->codes);
		free(EP(m, i));
	}
	free(m->wf.v);
	free(m->ep.v);
	free(m);
	return NULL;
}

/* The index of name in t, or where it would go (with *found 0). */
static size_t
named_find(const struct named *t, const char *name, int *found)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(*(char *const *)t->v[mid], name);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

/* The entry of t named name; made (size bytes, zeroed but for its name)
 * when missing.  NULL without memory. */
static void *
named_get(struct named *t, const char *name, size_t size)
{
	int found;
	size_t i = named_find(t, name, &found);
	void **nv;
	char **e;

	if (found)
		return t->v[i];
	nv = realloc(t->v, (t->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	t->v = nv;
	e = calloc(1, size);
	if (!e || !(*e = strdup(name))) {
		free(e);
		return NULL;
	}
	memmove(&nv[i + 1], &nv[i], (t->n - i) * sizeof(*nv));
	nv[i] = e;
	t->n++;
	return e;
}

static struct mwf *
wf_get(struct metrics *m, const char *name)
{
	return named_get(&m->wf, name, sizeof(struct mwf));
}

static struct mendpoint *
ep_get(struct metrics *m, const char *name)
{
	return named_get(&m->ep, name, sizeof(struct mendpoint));
}

static int
result_index(const char *result)
{
	size_t i;

	for (i = 0; result && i < N_RESULTS; i++)
		if (strcmp(result, results[i]) == 0)
			return (int)i;
	return -1;
}

int
metrics_workflow_set(struct metrics *m, const char *workflow, int64_t interval_s)
{
	struct mwf *w = wf_get(m, workflow);

	if (!w)
		return -ENOMEM;
	w->interval_s = interval_s > 0 ? interval_s : 0;
	return 0;
}

void
metrics_workflow_forget(struct metrics *m, const char *workflow)
{
	int found;
	size_t i = named_find(&m->wf, workflow, &found);

	if (!found)
		return;
	free(WF(m, i)->name);
	free(WF(m, i));
	memmove(&m->wf.v[i], &m->wf.v[i + 1], (m->wf.n - i - 1) * sizeof(*m->wf.v));
	m->wf.n--;
}

int
metrics_run_seen(struct metrics *m, const char *workflow, const char *result,
                 int64_t finished_ms)
{
	int k = result_index(result);
	struct mwf *w;

	if (k < 0)
		return -EINVAL;
	if (!(w = wf_get(m, workflow)))
		return -ENOMEM;
	if (finished_ms > w->last_ms[k])
		w->last_ms[k] = finished_ms;
	return 0;
}

int
metrics_run_add(struct metrics *m, const char *workflow, const struct metrics_run *r)
{
	int k = result_index(r->result);
	struct mwf *w;
	double s;
	size_t i;

	if (k < 0)
		return -EINVAL;
	if (!(w = wf_get(m, workflow)))
		return -ENOMEM;
	w->runs[k]++;
	if (r->finished_ms > w->last_ms[k])
		w->last_ms[k] = r->finished_ms;
	/* a clock stepped back during the run does not make it negative */
	s = r->finished_ms > r->started_ms ? (double)(r->finished_ms - r->started_ms) / 1000.0 : 0;
	w->duration_sum += s;
	for (i = 0; i < N_BUCKETS && s > bucket_le[i]; i++)
		;
	if (i < N_BUCKETS)
		w->buckets[i]++;
	for (i = 0; i < METRICS_N_KINDS; i++)
		w->written[i] += r->written[i];
	return 0;
}

int
metrics_skipped_add(struct metrics *m, const char *workflow)
{
	struct mwf *w = wf_get(m, workflow);

	if (!w)
		return -ENOMEM;
	w->skipped++;
	return 0;
}

int
metrics_http_add(struct metrics *m, const char *endpoint, long code, uint64_t n)
{
	struct mendpoint *e = ep_get(m, endpoint);
	size_t i;

	if (!e)
		return -ENOMEM;
	for (i = 0; i < e->n_codes && e->codes[i].code < code; i++)
		;
	if (i == e->n_codes || e->codes[i].code != code) {
		struct mcode *c = realloc(e->codes, (e->n_codes + 1) * sizeof(*c));

		if (!c)
			return -ENOMEM;
		e->codes = c;
		memmove(&c[i + 1], &c[i], (e->n_codes - i) * sizeof(*c));
		c[i].code = code;
		c[i].n = 0;
		e->n_codes++;
	}
	e->codes[i].n += n;
	return 0;
}

int
metrics_http_throttled_add(struct metrics *m, const char *endpoint, uint64_t n)
{
	struct mendpoint *e = ep_get(m, endpoint);

	if (!e)
		return -ENOMEM;
	e->throttled += n;
	return 0;
}

void
metrics_state_write_error(struct metrics *m)
{
	m->state_write_errors++;
}

void
metrics_reload(struct metrics *m, int ok, int64_t now_ms)
{
	m->reload_ok = ok != 0;
	if (ok)
		m->reload_ok_ms = now_ms;
}

/* A label value: sanitized (valid UTF-8, control characters as \xNN
 * text), then escaped as the format asks. */
static int put_family(struct buf *b, const char *name, const char *type, const char *help);
static int put_series(struct buf *b, const char *name, const char *k1, const char *v1,
                      const char *k2, const char *v2);
static int put_u64(struct buf *b, uint64_t v);

void
metrics_events_on(struct metrics *m, int on)
{
	m->ev.on = on;
}

int
metrics_event_received(struct metrics *m, const char *detail_type)
{
	size_t i;

	for (i = 0; i + 1 < N_DETAIL_TYPES; i++)
		if (detail_type && strcmp(detail_type, detail_types[i]) == 0)
			break;
	m->ev.received[i]++;
	return 0;
}

int
metrics_event_ignored(struct metrics *m, const char *reason)
{
	size_t i;

	for (i = 0; i < N_IGNORE_REASONS; i++)
		if (strcmp(reason, ignore_reasons[i]) == 0) {
			m->ev.ignored[i]++;
			return 0;
		}
	return -EINVAL;
}

void
metrics_event_applied(struct metrics *m, double lag_s)
{
	size_t k;

	m->ev.applied++;
	if (lag_s < 0)
		return;
	for (k = 0; k < N_LAG_BUCKETS; k++)
		if (lag_s <= lag_le[k]) {
			m->ev.lag_buckets[k]++;
			break;
		}
	m->ev.lag_count++;
	m->ev.lag_sum += lag_s;
}

static int
render_events(const struct metrics *m, struct buf *b)
{
	char le[32];
	uint64_t cum = 0;
	size_t k;
	int r;

	if (!m->ev.on)
		return 0;
	r = put_family(b, "gluemetad_events_received_total", "counter",
	               "Glue events received from the queue, by detail-type (others as other).");
	for (k = 0; r == 0 && k < N_DETAIL_TYPES; k++)
		if ((r = put_series(b, "gluemetad_events_received_total", "detail_type",
		                    detail_types[k], NULL, NULL)) == 0)
			r = put_u64(b, m->ev.received[k]);
	if (r == 0 && (r = put_family(b, "gluemetad_events_applied_total", "counter",
	                              "Events whose targeted refresh wrote to OpenMetadata.")) == 0 &&
	    (r = put_series(b, "gluemetad_events_applied_total", NULL, NULL, NULL, NULL)) == 0)
		r = put_u64(b, m->ev.applied);
	if (r == 0)
		r = put_family(b, "gluemetad_events_ignored_total", "counter",
		               "Messages deleted without a refresh: unmapped (no configured workflow "
		               "holds the job or crawler), other_event, unparseable.");
	for (k = 0; r == 0 && k < N_IGNORE_REASONS; k++)
		if ((r = put_series(b, "gluemetad_events_ignored_total", "reason", ignore_reasons[k],
		                    NULL, NULL)) == 0)
			r = put_u64(b, m->ev.ignored[k]);
	if (r == 0)
		r = put_family(b, "gluemetad_event_lag_seconds", "histogram",
		               "From an event's time to its refresh written to OpenMetadata.");
	for (k = 0; r == 0 && k <= N_LAG_BUCKETS; k++) {
		if (k < N_LAG_BUCKETS) {
			cum += m->ev.lag_buckets[k];
			snprintf(le, sizeof(le), "%g", lag_le[k]);
		} else {
			snprintf(le, sizeof(le), "+Inf");
		}
		if ((r = put_series(b, "gluemetad_event_lag_seconds_bucket", "le", le, NULL,
		                    NULL)) == 0)
			r = put_u64(b, k < N_LAG_BUCKETS ? cum : m->ev.lag_count);
	}
	if (r == 0 && (r = put_series(b, "gluemetad_event_lag_seconds_sum", NULL, NULL, NULL,
	                              NULL)) == 0)
		r = buf_printf(b, "%.3f\n", m->ev.lag_sum);
	if (r == 0 && (r = put_series(b, "gluemetad_event_lag_seconds_count", NULL, NULL, NULL,
	                              NULL)) == 0)
		r = put_u64(b, m->ev.lag_count);
	return r;
}

static int
put_value(struct buf *b, const char *v)
{
	char *s = str_sanitize(v);
	const char *p;
	int r = 0;

	if (!s)
		return -ENOMEM;
	for (p = s; *p && r == 0; p++) {
		if (*p == '\\')
			r = buf_puts(b, "\\\\");
		else if (*p == '"')
			r = buf_puts(b, "\\\"");
		else if (*p == '\n')
			r = buf_puts(b, "\\n");
		else
			r = buf_append(b, p, 1);
	}
	free(s);
	return r;
}

/* name{k1="v1",k2="v2"} with up to two labels (k2 NULL: one, k1 NULL:
 * none), then a space. */
static int
put_series(struct buf *b, const char *name, const char *k1, const char *v1, const char *k2,
           const char *v2)
{
	int r = buf_puts(b, name);

	if (r == 0 && k1) {
		r = buf_printf(b, "{%s=\"", k1);
		if (r == 0)
			r = put_value(b, v1);
		if (r == 0 && k2) {
			r = buf_printf(b, "\",%s=\"", k2);
			if (r == 0)
				r = put_value(b, v2);
		}
		if (r == 0)
			r = buf_puts(b, "\"}");
	}
	return r < 0 ? r : buf_puts(b, " ");
}

static int
put_family(struct buf *b, const char *name, const char *type, const char *help)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
put_u64(struct buf *b, uint64_t v)
{
	return buf_printf(b, "%llu\n", (unsigned long long)v);
}

/* Seconds since the epoch from ms, exact to the millisecond. */
static int
put_ms_as_s(struct buf *b, int64_t ms)
{
	return buf_printf(b, "%lld.%03lld\n", (long long)(ms / 1000), (long long)(ms % 1000));
}

static uint64_t
runs_of(const struct mwf *w)
{
	uint64_t n = 0;
	size_t k;

	for (k = 0; k < N_RESULTS; k++)
		n += w->runs[k];
	return n;
}

static int
render_runs(const struct metrics *m, struct buf *b)
{
	char le[32];
	size_t i, k;
	int r;

	r = put_family(b, "gluemetad_runs_total", "counter",
	               "Runs that ended, by workflow and result (success, partialSuccess, failed, "
	               "interrupted); a run that could not start counts as failed.");
	for (i = 0; r == 0 && i < m->wf.n; i++)
		for (k = 0; r == 0 && k < N_RESULTS; k++)
			if ((r = put_series(b, "gluemetad_runs_total", "workflow", WF(m, i)->name,
			                    "result", results[k])) == 0)
				r = put_u64(b, WF(m, i)->runs[k]);
	if (r == 0)
		r = put_family(b, "gluemetad_run_duration_seconds", "histogram",
		               "Duration of the runs that ended, from start to end.");
	for (i = 0; r == 0 && i < m->wf.n; i++) {
		const struct mwf *w = WF(m, i);
		uint64_t cum = 0;

		for (k = 0; r == 0 && k <= N_BUCKETS; k++) {
			if (k < N_BUCKETS) {
				cum += w->buckets[k];
				snprintf(le, sizeof(le), "%g", bucket_le[k]);
			} else {
				snprintf(le, sizeof(le), "+Inf");
			}
			if ((r = put_series(b, "gluemetad_run_duration_seconds_bucket", "workflow",
			                    w->name, "le", le)) == 0)
				r = put_u64(b, k < N_BUCKETS ? cum : runs_of(w));
		}
		if (r == 0 && (r = put_series(b, "gluemetad_run_duration_seconds_sum", "workflow",
		                              w->name, NULL, NULL)) == 0)
			r = buf_printf(b, "%.3f\n", w->duration_sum);
		if (r == 0 && (r = put_series(b, "gluemetad_run_duration_seconds_count", "workflow",
		                              w->name, NULL, NULL)) == 0)
			r = put_u64(b, runs_of(w));
	}
	return r;
}

static int
render_last(const struct metrics *m, struct buf *b)
{
	size_t i, k;
	int r;

	r = put_family(b, "gluemetad_last_run_timestamp_seconds", "gauge",
	               "When the last run of each result ended, in seconds since the epoch (from "
	               "the run history across restarts).");
	for (i = 0; r == 0 && i < m->wf.n; i++)
		for (k = 0; r == 0 && k < N_RESULTS; k++)
			if (WF(m, i)->last_ms[k] &&
			    (r = put_series(b, "gluemetad_last_run_timestamp_seconds", "workflow",
			                    WF(m, i)->name, "result", results[k])) == 0)
				r = put_ms_as_s(b, WF(m, i)->last_ms[k]);
	if (r == 0)
		r = put_family(b, "gluemetad_last_success_timestamp_seconds", "gauge",
		               "When the last successful run ended, in seconds since the epoch; "
		               "absent while there was none.");
	for (i = 0; r == 0 && i < m->wf.n; i++)
		if (WF(m, i)->last_ms[0] &&
		    (r = put_series(b, "gluemetad_last_success_timestamp_seconds", "workflow",
		                    WF(m, i)->name, NULL, NULL)) == 0)
			r = put_ms_as_s(b, WF(m, i)->last_ms[0]);
	return r;
}

static int
render_workflows(const struct metrics *m, struct buf *b)
{
	size_t i, k;
	int r;

	r = put_family(b, "gluemetad_entities_written_total", "counter",
	               "What runs wrote to OpenMetadata: pipelines, statuses, days of usage, "
	               "pipelines marked deleted.");
	for (i = 0; r == 0 && i < m->wf.n; i++)
		for (k = 0; r == 0 && k < METRICS_N_KINDS; k++)
			if ((r = put_series(b, "gluemetad_entities_written_total", "workflow",
			                    WF(m, i)->name, "kind", kinds[k])) == 0)
				r = put_u64(b, WF(m, i)->written[k]);
	if (r == 0)
		r = put_family(b, "gluemetad_skipped_fires_total", "counter",
		               "Fires skipped because the workflow was still running or queued.");
	for (i = 0; r == 0 && i < m->wf.n; i++)
		if ((r = put_series(b, "gluemetad_skipped_fires_total", "workflow", WF(m, i)->name,
		                    NULL, NULL)) == 0)
			r = put_u64(b, WF(m, i)->skipped);
	if (r == 0)
		r = put_family(b, "gluemetad_schedule_interval_seconds", "gauge",
		               "Longest time between two fires of the schedule, jitter included; "
		               "absent for a disabled workflow or one that never fires.");
	for (i = 0; r == 0 && i < m->wf.n; i++)
		if (WF(m, i)->interval_s &&
		    (r = put_series(b, "gluemetad_schedule_interval_seconds", "workflow",
		                    WF(m, i)->name, NULL, NULL)) == 0)
			r = buf_printf(b, "%lld\n", (long long)WF(m, i)->interval_s);
	return r;
}

static int
render_http(const struct metrics *m, struct buf *b)
{
	char code[24];
	size_t i, k;
	int r;

	r = put_family(b, "gluemetad_http_requests_total", "counter",
	               "HTTP attempts of ended runs by endpoint and status code; code \"error\" "
	               "is a transport failure.");
	for (i = 0; r == 0 && i < m->ep.n; i++)
		for (k = 0; r == 0 && k < EP(m, i)->n_codes; k++) {
			if (EP(m, i)->codes[k].code)
				snprintf(code, sizeof(code), "%ld", EP(m, i)->codes[k].code);
			else
				snprintf(code, sizeof(code), "error");
			if ((r = put_series(b, "gluemetad_http_requests_total", "endpoint",
			                    EP(m, i)->name, "code", code)) == 0)
				r = put_u64(b, EP(m, i)->codes[k].n);
		}
	if (r == 0)
		r = put_family(b, "gluemetad_http_throttled_total", "counter",
		               "Replies of ended runs that asked to slow down (429, 5xx, throttling "
		               "errors), by endpoint.");
	for (i = 0; r == 0 && i < m->ep.n; i++)
		if ((r = put_series(b, "gluemetad_http_throttled_total", "endpoint", EP(m, i)->name,
		                    NULL, NULL)) == 0)
			r = put_u64(b, EP(m, i)->throttled);
	return r;
}

int
metrics_render(const struct metrics *m, const struct metrics_now *now, struct buf *out)
{
	int r;

	r = put_family(out, "gluemetad_build_info", "gauge",
	               "Always 1, labelled with the version of gluemetad.");
	if (r == 0 && (r = put_series(out, "gluemetad_build_info", "version", now->version, NULL,
	                              NULL)) == 0)
		r = buf_puts(out, "1\n");
	if (r == 0 && (r = put_family(out, "gluemetad_start_time_seconds", "gauge",
	                              "When the daemon started, in seconds since the epoch.")) == 0 &&
	    (r = put_series(out, "gluemetad_start_time_seconds", NULL, NULL, NULL, NULL)) == 0)
		r = put_ms_as_s(out, now->start_ms);
	if (r == 0)
		r = render_runs(m, out);
	if (r == 0)
		r = render_last(m, out);
	if (r == 0)
		r = render_workflows(m, out);
	if (r == 0)
		r = render_http(m, out);
	if (r == 0)
		r = render_events(m, out);
	if (r == 0 && (r = put_family(out, "gluemetad_state_write_errors_total", "counter",
	                              "Run history and memo files that could not be written.")) == 0)
		r = buf_printf(out, "gluemetad_state_write_errors_total %llu\n",
		               (unsigned long long)m->state_write_errors);
	if (r == 0 && (r = put_family(out, "gluemetad_config_last_reload_successful", "gauge",
	                              "Whether the last configuration load or reload succeeded.")) == 0)
		r = buf_printf(out, "gluemetad_config_last_reload_successful %d\n", m->reload_ok);
	if (r == 0 && m->reload_ok_ms &&
	    (r = put_family(out, "gluemetad_config_last_reload_success_timestamp_seconds", "gauge",
	                    "When the configuration was last loaded successfully, in seconds "
	                    "since the epoch.")) == 0 &&
	    (r = put_series(out, "gluemetad_config_last_reload_success_timestamp_seconds", NULL,
	                    NULL, NULL, NULL)) == 0)
		r = put_ms_as_s(out, m->reload_ok_ms);
	if (r == 0 && (r = put_family(out, "gluemetad_running_workflows", "gauge",
	                              "Workflows with a run in progress.")) == 0)
		r = buf_printf(out, "gluemetad_running_workflows %u\n", now->running);
	if (r == 0 && (r = put_family(out, "gluemetad_queued_workflows", "gauge",
	                              "Workflows that fired and wait for a free run slot "
	                              "(max_concurrent_runs).")) == 0)
		r = buf_printf(out, "gluemetad_queued_workflows %u\n", now->queued);
	return r;
}
