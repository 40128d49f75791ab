/* daemon — see include/daemon.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "cfg.h"
#include "cron.h"
#include "ctl.h"
#include "daemon.h"
#include "enrich.h"
#include "http.h"
#include "log.h"
#include "log_ids.h"
#include "memo.h"
#include "run.h"
#include "state.h"
#include "util.h"
#include "wf.h"

#define HIST_MAX 50
#define STOP_GRACE_MS 10000
#define STATE_FILE "history.json"

#ifndef GLUEMETAD_VERSION
#define GLUEMETAD_VERSION "0.1.0"
#endif

struct hist {
	char id[40];
	char trigger[12];               /* schedule | manual */
	char result[16];                /* success partialSuccess failed interrupted */
	int64_t started_ms, finished_ms;
	unsigned long records, warnings, errors, filtered, pipelines, statuses, deleted;
	char message[256];
};

struct daemon;

struct job {
	struct daemon *d;
	struct job *next, *qnext;
	char *name;
	const struct cfg_workflow *w;   /* entry of d->cfg; NULL once removed */
	uv_timer_t timer;
	int timer_open;
	time_t next_fire;               /* 0: none armed */
	struct run *run;
	struct cfg *run_cfg;            /* the config the run started with */
	int run_done, queued, removed;
	char run_id[40];
	char trigger[12];
	int64_t run_started_ms;
	unsigned long skipped;
	struct hist hist[HIST_MAX];     /* oldest first */
	size_t n_hist;
	struct log_ctx lg;
	struct memo *memo;              /* what the last run wrote, during a run */
	char *memo_settings;
};

struct daemon {
	uv_loop_t loop;
	struct http *http;
	struct cfg *cfg;
	const char *cfg_path;
	struct job *jobs;
	struct job *q_head, *q_tail;
	unsigned running;
	uv_signal_t sighup, sigterm, sigint;
	uv_timer_t watchdog, reaper, stop_timer;
	uv_timer_t reload_timer;        /* SIGHUPs become one reload per loop turn */
	struct ctl *ctl;
	int stopping, closed;
	unsigned reloads;
	struct enrich_accounts *accounts;       /* for every run, until exit */
};

static void start_run(struct job *j, const char *trigger);
static void arm(struct job *j, time_t after);
static void on_reap(uv_timer_t *t);

/* ---- status line and notifications ---- */

static void
fmt_in(char *out, size_t n, time_t t)
{
	long s = (long)(t - time(NULL));

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, n, "%lds", s);
	else if (s < 7200)
		snprintf(out, n, "%ldm", s / 60);
	else if (s < 172800)
		snprintf(out, n, "%ldh", s / 3600);
	else
		snprintf(out, n, "%ldd", s / 86400);
}

static void
notify_status(struct daemon *d)
{
	struct job *j, *soon = NULL;
	unsigned n = 0;
	char in[32] = "", line[512];

	for (j = d->jobs; j; j = j->next) {
		if (j->removed)
			continue;
		n++;
		if (j->next_fire && (!soon || j->next_fire < soon->next_fire))
			soon = j;
	}
	if (soon)
		fmt_in(in, sizeof(in), soon->next_fire);
	snprintf(line, sizeof(line), "STATUS=%u workflow%s, %u running%s%s%s%s", n,
	         n == 1 ? "" : "s", d->running, soon ? ", next: " : "", soon ? soon->name : "",
	         soon ? " in " : "", soon ? in : "");
	(void)sd_notify(0, line);
}

/* ---- history ---- */

static void
hist_to_json(cJSON *arr, const struct hist *h)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return;
	cJSON_AddStringToObject(o, "run_id", h->id);
	cJSON_AddStringToObject(o, "trigger", h->trigger);
	cJSON_AddStringToObject(o, "result", h->result);
	cJSON_AddNumberToObject(o, "started_ms", (double)h->started_ms);
	cJSON_AddNumberToObject(o, "finished_ms", (double)h->finished_ms);
	cJSON_AddNumberToObject(o, "records", (double)h->records);
	cJSON_AddNumberToObject(o, "warnings", (double)h->warnings);
	cJSON_AddNumberToObject(o, "errors", (double)h->errors);
	cJSON_AddNumberToObject(o, "filtered", (double)h->filtered);
	cJSON_AddNumberToObject(o, "pipelines", (double)h->pipelines);
	cJSON_AddNumberToObject(o, "statuses", (double)h->statuses);
	cJSON_AddNumberToObject(o, "deleted", (double)h->deleted);
	if (h->message[0])
		cJSON_AddStringToObject(o, "message", h->message);
	cJSON_AddItemToArray(arr, o);
}

/* A zeroed slot at the end of the history, dropping the oldest when full. */
static struct hist *
hist_push(struct job *j)
{
	struct hist *h;

	if (j->n_hist == HIST_MAX) {
		memmove(j->hist, j->hist + 1, sizeof(*j->hist) * (HIST_MAX - 1));
		j->n_hist--;
	}
	h = &j->hist[j->n_hist++];
	memset(h, 0, sizeof(*h));
	return h;
}

static void
copy_str(char *dst, size_t n, const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	/* a history written by an older version may hold raw control bytes */
	str_sanitize_buf(dst, n, cJSON_IsString(v) ? v->valuestring : "");
}

static unsigned long
get_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (unsigned long)v->valuedouble : 0;
}

static void
state_save(struct daemon *d)
{
	cJSON *root = cJSON_CreateObject(), *wfs;
	struct job *j;
	char *text = NULL;
	size_t i;
	int r;

	if (!root || !(wfs = cJSON_AddObjectToObject(root, "workflows")))
		goto out;
	cJSON_AddNumberToObject(root, "version", 1);
	for (j = d->jobs; j; j = j->next) {
		cJSON *arr = cJSON_AddArrayToObject(wfs, j->name);

		for (i = 0; arr && i < j->n_hist; i++)
			hist_to_json(arr, &j->hist[i]);
	}
	text = cJSON_Print(root);
	if (text && (r = state_write(d->cfg->state_dir, STATE_FILE, text, strlen(text))) < 0)
		log_err(NULL, "cannot write %s/%s: %s", d->cfg->state_dir, STATE_FILE, strerror(-r));
out:
	free(text);
	cJSON_Delete(root);
}

static void
state_load(struct daemon *d, struct job *j)
{
	char *text = state_read(d->cfg->state_dir, STATE_FILE);
	cJSON *root, *arr, *h;

	if (!text) {
		if (errno != ENOENT)
			log_warning(NULL, "cannot read %s/%s: %s; starting without history",
			            d->cfg->state_dir, STATE_FILE, strerror(errno));
		return;
	}
	root = cJSON_Parse(text);
	free(text);
	arr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "workflows"),
	                                       j->name);
	cJSON_ArrayForEach(h, arr) {
		struct hist *x;

		if (!cJSON_IsObject(h))
			continue;
		x = hist_push(j);
		copy_str(x->id, sizeof(x->id), h, "run_id");
		copy_str(x->trigger, sizeof(x->trigger), h, "trigger");
		copy_str(x->result, sizeof(x->result), h, "result");
		copy_str(x->message, sizeof(x->message), h, "message");
		x->started_ms = (int64_t)get_num(h, "started_ms");
		x->finished_ms = (int64_t)get_num(h, "finished_ms");
		x->records = get_num(h, "records");
		x->warnings = get_num(h, "warnings");
		x->errors = get_num(h, "errors");
		x->filtered = get_num(h, "filtered");
		x->pipelines = get_num(h, "pipelines");
		x->statuses = get_num(h, "statuses");
		x->deleted = get_num(h, "deleted");
	}
	cJSON_Delete(root);
}

/* ---- jobs ---- */

static struct job *
job_find(struct daemon *d, const char *name)
{
	struct job *j;

	for (j = d->jobs; j; j = j->next)
		if (!j->removed && strcmp(j->name, name) == 0)
			return j;
	return NULL;
}

static void
job_timer_closed(uv_handle_t *h)
{
	struct job *j = h->data;

	free(j->name);
	free(j);
}

static void
job_unlink_free(struct job *j)
{
	struct daemon *d = j->d;
	struct job **pp;

	for (pp = &d->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	uv_close((uv_handle_t *)&j->timer, job_timer_closed);
}

static void
enqueue(struct job *j)
{
	struct daemon *d = j->d;

	j->queued = 1;
	j->qnext = NULL;
	if (d->q_tail)
		d->q_tail->qnext = j;
	else
		d->q_head = j;
	d->q_tail = j;
}

static void
dequeue_start(struct daemon *d)
{
	while (!d->stopping && d->q_head && d->running < d->cfg->max_concurrent_runs) {
		struct job *j = d->q_head;

		d->q_head = j->qnext;
		if (!d->q_head)
			d->q_tail = NULL;
		j->queued = 0;
		if (!j->removed)
			start_run(j, j->trigger);
	}
}

/* Fires a workflow now; returns 0 started, 1 queued, -EBUSY already
 * running or queued. */
static int
fire(struct job *j, const char *trigger)
{
	struct daemon *d = j->d;

	if (j->run || j->queued) {
		j->skipped++;
		log_event(LOG_WARNING, &j->lg, LOG_ID_RUN_SKIPPED, "still %s from the previous fire, "
		          "skipping this one (%lu skipped so far)", j->run ? "running" : "queued",
		          j->skipped);
		return -EBUSY;
	}
	snprintf(j->trigger, sizeof(j->trigger), "%s", trigger);
	if (d->running >= d->cfg->max_concurrent_runs) {
		enqueue(j);
		log_info(&j->lg, "queued: %u %s in progress (max_concurrent_runs)", d->running,
		         PLURAL(d->running, "run", "runs"));
		return 1;
	}
	start_run(j, trigger);
	return 0;
}

static void
on_timer(uv_timer_t *t)
{
	struct job *j = t->data;
	int64_t now = time_now_ms();
	time_t fired = j->next_fire;

	if (fired && now < (int64_t)fired * 1000) {
		uv_timer_start(&j->timer, on_timer, (uint64_t)((int64_t)fired * 1000 - now), 0);
		return;         /* woke early (timer rounding, clock stepped): wait the rest */
	}
	j->next_fire = 0;
	(void)fire(j, "schedule");
	arm(j, fired);
	notify_status(j->d);
}

/* Arms the timer for the first fire after `after` (or now, if later). */
static void
arm(struct job *j, time_t after)
{
	time_t next, now = time(NULL);
	int64_t delay;

	uv_timer_stop(&j->timer);
	j->next_fire = 0;
	if (j->removed || !j->w || !j->w->enabled || j->d->stopping)
		return;
	if (cron_next(&j->w->cron, j->w->timezone, after > now ? after : now, &next) < 0) {
		log_warning(&j->lg, "schedule '%s' never fires again", j->w->schedule);
		return;
	}
	if (j->w->jitter_s)
		next += (time_t)(rand_u64() % (j->w->jitter_s + 1));
	j->next_fire = next;
	delay = (int64_t)next * 1000 - time_now_ms();
	uv_update_time(&j->d->loop);
	uv_timer_start(&j->timer, on_timer, delay > 0 ? (uint64_t)delay : 0, 0);
}

static struct job *
job_new(struct daemon *d, const struct cfg_workflow *w)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j || !(j->name = strdup(w->name))) {
		free(j);
		return NULL;
	}
	j->d = d;
	j->w = w;
	j->lg.workflow = j->name;
	uv_timer_init(&d->loop, &j->timer);
	j->timer.data = j;
	j->next = d->jobs;
	d->jobs = j;
	return j;
}

/* ---- runs ---- */

static void
on_run_done(struct run *r, void *arg)
{
	struct job *j = arg;

	(void)r;
	j->run_done = 1;                /* finished in the reaper, outside the run */
	uv_timer_start(&j->d->reaper, on_reap, 0, 0);
}

/* ---- incremental runs: a memo per workflow in state_dir ---- */

static void
memo_name(const struct job *j, char *out, size_t n)
{
	snprintf(out, n, "memo-%s.json", j->name);
}

/* The memo of the last run into the run's options; with incremental runs
 * switched off, the memo goes (it would be stale when switched on again). */
static void
memo_load(struct job *j, struct run_opts *o)
{
	const struct cfg *c = j->d->cfg;
	char name[128], why[256], path[4096];

	memo_name(j, name, sizeof(name));
	if (!c->incremental) {
		snprintf(path, sizeof(path), "%s/%s", c->state_dir, name);
		(void)unlink(path);
		return;
	}
	if (!(j->memo_settings = state_memo_settings(j->w->wf->path)))
		return;
	j->memo = state_memo_load(c->state_dir, name, j->memo_settings, why, sizeof(why));
	if (j->memo && !memo_size(j->memo) && why[0])
		log_info(&j->lg, "full run: no usable record of the last run (%s)", why);
	o->memo = j->memo;
	o->memo_settings = j->memo_settings;
}

static void
memo_save(struct job *j)
{
	struct memo *next = j->run && !run_stats(j->run)->cancelled ? run_take_memo(j->run) : NULL;
	char name[128];
	int r;

	memo_name(j, name, sizeof(name));
	if (next && (r = state_memo_save(j->run_cfg->state_dir, name, next)) < 0)
		log_err(&j->lg, "cannot write %s/%s: %s", j->run_cfg->state_dir, name, strerror(-r));
	memo_free(next);
	j->memo = memo_free(j->memo);
	free(j->memo_settings);
	j->memo_settings = NULL;
}

static void
finish_run(struct job *j)
{
	struct daemon *d = j->d;
	const struct run_stats *st = run_stats(j->run);
	unsigned long errors = run_stats_errors(st);
	const char *result = run_result(j->run);
	struct hist *h;

	h = hist_push(j);
	snprintf(h->id, sizeof(h->id), "%s", j->run_id);
	snprintf(h->trigger, sizeof(h->trigger), "%s", j->trigger);
	snprintf(h->result, sizeof(h->result), "%s",
	         strcmp(result, "stopped") == 0 ? "interrupted" : result);
	if (st->fatal)
		str_sanitize_buf(h->message, sizeof(h->message), st->fatal_msg);
	h->started_ms = j->run_started_ms;
	h->finished_ms = time_now_ms();
	h->records = st->source.records + st->sink.records;
	h->warnings = st->source.warnings + st->sink.warnings;
	h->errors = errors;
	h->filtered = st->source.filtered;
	h->pipelines = st->pipelines_written;
	h->statuses = st->statuses_written;
	h->deleted = st->pipelines_deleted;
	log_event(errors || st->cancelled ? LOG_WARNING : LOG_NOTICE, &j->lg, LOG_ID_RUN_FINISHED,
	          "run %s %s in %.1fs: %lu pipelines, %lu statuses, %lu marked deleted, "
	          "%lu filtered, %lu warnings, %lu errors%s%s", j->run_id, h->result,
	          (double)(h->finished_ms - h->started_ms) / 1000.0, h->pipelines, h->statuses,
	          h->deleted, h->filtered, h->warnings, errors, st->fatal ? ": " : "",
	          st->fatal ? st->fatal_msg : "");
	memo_save(j);
	j->run = run_free(j->run);
	cfg_unref(j->run_cfg);
	j->run_cfg = NULL;
	j->run_done = 0;
	j->lg.run = NULL;
	d->running--;
	state_save(d);
}

static void shutdown_finish(struct daemon *d);

static void
on_reap(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct job *j, *next;

	for (j = d->jobs; j; j = next) {
		next = j->next;
		if (j->run && j->run_done) {
			finish_run(j);
			if (j->removed)
				job_unlink_free(j);
		}
	}
	dequeue_start(d);
	notify_status(d);
	if (d->stopping && !d->running)
		shutdown_finish(d);
}

static void
start_run(struct job *j, const char *trigger)
{
	struct daemon *d = j->d;
	struct run_opts o = {0};
	struct gm_err err = {{0}};

	str_uuid4(j->run_id);           /* as OpenMetadata's run ids */
	snprintf(j->trigger, sizeof(j->trigger), "%s", trigger);
	j->lg.run = j->run_id;
	o.glue_concurrency = d->cfg->glue_concurrency;
	o.om_concurrency = d->cfg->om_concurrency;
	o.owner_tag = d->cfg->owner_tag;
	o.accounts = d->accounts;
	memo_load(j, &o);
	o.log_workflow = j->name;
	o.run_id = j->run_id;
	j->run_cfg = cfg_ref(d->cfg);
	j->run_started_ms = time_now_ms();
	j->run_done = 0;
	d->running++;
	log_event(LOG_NOTICE, &j->lg, LOG_ID_RUN_STARTED, "run %s started (%s) from %s", j->run_id,
	          trigger, j->w->file);
	if (run_start(d->http, j->w->wf, &o, on_run_done, j, &j->run, &err) < 0) {
		log_err(&j->lg, "run %s cannot start: %s", j->run_id, err.msg);
		j->run = NULL;
		memo_save(j);           /* frees the memo; there is no run to save */
		cfg_unref(j->run_cfg);
		j->run_cfg = NULL;
		j->lg.run = NULL;
		d->running--;
		return;
	}
}

/* ---- reload ---- */

/* Whether a reload leaves a workflow's armed fire as it is. */
static int
same_schedule(const struct cfg_workflow *a, const struct cfg_workflow *b)
{
	return a->schedule && b->schedule && strcmp(a->schedule, b->schedule) == 0 &&
	       a->jitter_s == b->jitter_s && a->enabled == b->enabled &&
	       (a->timezone ? b->timezone && strcmp(a->timezone, b->timezone) == 0 : !b->timezone);
}

/* A job a reload removed while its run was in progress. */
static struct job *
job_find_removed(struct daemon *d, const char *name)
{
	struct job *j;

	for (j = d->jobs; j; j = j->next)
		if (j->removed && strcmp(j->name, name) == 0)
			return j;
	return NULL;
}

/* The errors of a configuration, one a line, joined with "; ": a log
 * record and a control reply are one line each (a newline left in would
 * be shown escaped). */
static void
join_lines(char *s, size_t n)
{
	char *nl;

	while ((nl = strchr(s, '\n'))) {
		size_t rest = strlen(nl + 1);

		/* a trailing newline, or no room left: the list ends here */
		if (!rest || (size_t)(nl - s) + 2 + rest + 1 > n) {
			*nl = '\0';
			break;
		}
		memmove(nl + 2, nl + 1, rest + 1);
		nl[0] = ';';
		nl[1] = ' ';
	}
}

static int
reload(struct daemon *d, char *why, size_t why_len)
{
	struct cfg *nc = NULL, *old = d->cfg;
	const struct cfg_workflow *ow;
	struct gm_err err = {{0}};
	struct job *j, *next;
	char msg[64];
	size_t i;

	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	         (unsigned long long)time_mono_ms() * 1000ULL);
	(void)sd_notify(0, msg);
	d->reloads++;
	if (cfg_load(d->cfg_path, &nc, &err) < 0) {
		join_lines(err.msg, sizeof(err.msg));
		log_event(LOG_ERR, NULL, LOG_ID_RELOAD_FAILED, "reload failed, keeping the running "
		          "configuration: %s", err.msg);
		snprintf(why, why_len, "%s", err.msg);
		(void)sd_notify(0, "READY=1");
		notify_status(d);
		return -EINVAL;
	}
	if (strcmp(nc->socket, old->socket) != 0 || strcmp(nc->state_dir, old->state_dir) != 0)
		log_notice(NULL, "socket and state_dir changes take effect at the next restart");
	free(nc->socket);
	free(nc->state_dir);
	nc->socket = strdup(old->socket);
	nc->state_dir = strdup(old->state_dir);
	d->cfg = nc;
	for (j = d->jobs; j; j = next) {
		next = j->next;
		if (j->removed)
			continue;
		ow = j->w;
		j->w = cfg_find(nc, j->name);
		if (!j->w) {
			j->removed = 1;
			uv_timer_stop(&j->timer);
			j->next_fire = 0;
			log_notice(&j->lg, "removed from the configuration%s",
			           j->run ? "; its run in progress finishes first" : "");
			if (j->queued) {
				struct job **pp;

				for (pp = &d->q_head; *pp; pp = &(*pp)->qnext)
					if (*pp == j) {
						*pp = j->qnext;
						break;
					}
				d->q_tail = NULL;
				for (struct job *q = d->q_head; q; q = q->qnext)
					d->q_tail = q;
				j->queued = 0;
			}
			if (!j->run)
				job_unlink_free(j);
			continue;
		}
		/* an unchanged schedule keeps its armed fire: arming it again would
		 * roll the jitter anew, or skip a fire that is due but not yet run */
		if (!j->next_fire || !same_schedule(ow, j->w))
			arm(j, 0);
	}
	for (i = 0; i < nc->n_workflows; i++) {
		if (job_find(d, nc->workflows[i].name))
			continue;
		if ((j = job_find_removed(d, nc->workflows[i].name))) {
			/* back before its run ended: the same job, its run and history
			 * go on (a second job would run it twice and lose that run) */
			j->removed = 0;
			j->w = &nc->workflows[i];
			log_notice(&j->lg, "added with schedule '%s'; its run in progress goes on",
			           j->w->schedule);
			arm(j, 0);
			continue;
		}
		j = job_new(d, &nc->workflows[i]);
		if (!j)
			continue;
		state_load(d, j);
		log_notice(&j->lg, "added with schedule '%s'", j->w->schedule);
		arm(j, 0);
	}
	cfg_unref(old);
	log_event(LOG_NOTICE, NULL, LOG_ID_RELOAD_OK, "configuration reloaded: %zu workflows",
	          nc->n_workflows);
	(void)sd_notify(0, "READY=1");
	dequeue_start(d);
	notify_status(d);
	return 0;
}

/* ---- control socket ---- */

static cJSON *
job_json(const struct job *j)
{
	cJSON *o = cJSON_CreateObject(), *last;
	const char *state;

	if (!o)
		return NULL;
	state = j->run ? "running" : j->queued ? "queued" : !j->w->enabled ? "disabled" : "idle";
	cJSON_AddStringToObject(o, "name", j->name);
	cJSON_AddStringToObject(o, "schedule", j->w->schedule);
	if (j->w->timezone)
		cJSON_AddStringToObject(o, "timezone", j->w->timezone);
	cJSON_AddBoolToObject(o, "enabled", j->w->enabled);
	cJSON_AddStringToObject(o, "state", state);
	if (j->next_fire)
		cJSON_AddNumberToObject(o, "next_fire", (double)j->next_fire);
	if (j->run)
		cJSON_AddStringToObject(o, "run_id", j->run_id);
	cJSON_AddNumberToObject(o, "skipped", (double)j->skipped);
	cJSON_AddNumberToObject(o, "runs", (double)j->n_hist);
	if (j->n_hist && (last = cJSON_AddArrayToObject(o, "last")))
		hist_to_json(last, &j->hist[j->n_hist - 1]);
	return o;
}

static cJSON *
reply_error(const char *fmt, const char *arg)
{
	cJSON *o = cJSON_CreateObject();
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
	cJSON_AddBoolToObject(o, "ok", 0);
	cJSON_AddStringToObject(o, "error", msg);
	return o;
}

static cJSON *
on_ctl(const char *cmd, const char *arg, void *ud)
{
	struct daemon *d = ud;
	cJSON *o, *arr;
	struct job *j;
	size_t i;

	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "list") == 0) {
		unsigned n = 0, queued = 0;

		o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddStringToObject(o, "version", GLUEMETAD_VERSION);
		cJSON_AddNumberToObject(o, "pid", (double)getpid());
		cJSON_AddStringToObject(o, "config", d->cfg_path);
		cJSON_AddNumberToObject(o, "running", d->running);
		cJSON_AddNumberToObject(o, "max_concurrent_runs", d->cfg->max_concurrent_runs);
		cJSON_AddNumberToObject(o, "reloads", d->reloads);
		arr = cJSON_AddArrayToObject(o, "workflows");
		for (i = 0; i < d->cfg->n_workflows; i++) {
			j = job_find(d, d->cfg->workflows[i].name);
			if (!j)
				continue;
			n++;
			queued += j->queued;
			cJSON_AddItemToArray(arr, job_json(j));
		}
		cJSON_AddNumberToObject(o, "queued", queued);
		cJSON_AddNumberToObject(o, "workflows_total", n);
		return o;
	}
	if (strcmp(cmd, "run") == 0 || strcmp(cmd, "history") == 0) {
		if (!arg)
			return reply_error("%s needs a workflow name", cmd);
		if (!(j = job_find(d, arg)))
			return reply_error("no workflow named '%s'", arg);
		o = cJSON_CreateObject();
		if (strcmp(cmd, "history") == 0) {
			cJSON_AddBoolToObject(o, "ok", 1);
			cJSON_AddStringToObject(o, "name", j->name);
			arr = cJSON_AddArrayToObject(o, "runs");
			for (i = j->n_hist; i > 0; i--)
				hist_to_json(arr, &j->hist[i - 1]);
			return o;
		}
		if (d->stopping) {
			cJSON_Delete(o);
			return reply_error("shutting down%s", "");
		}
		if (fire(j, "manual") == -EBUSY) {
			cJSON_Delete(o);
			return reply_error("'%s' is already running or queued", arg);
		}
		notify_status(d);
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddStringToObject(o, "name", j->name);
		cJSON_AddStringToObject(o, "state", j->run ? "running" : "queued");
		if (j->run)
			cJSON_AddStringToObject(o, "run_id", j->run_id);
		return o;
	}
	if (strcmp(cmd, "reload") == 0) {
		char why[4096] = "";

		if (reload(d, why, sizeof(why)) < 0)
			return reply_error("reload failed: %s", why);
		o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddNumberToObject(o, "workflows", (double)d->cfg->n_workflows);
		return o;
	}
	return reply_error("unknown command '%s' (status, list, run NAME, history NAME, reload)",
	                   cmd);
}

/* ---- signals, watchdog, shutdown ---- */

static void
on_watchdog(uv_timer_t *t)
{
	(void)t;
	(void)sd_notify(0, "WATCHDOG=1");
}

static void
shutdown_finish(struct daemon *d)
{
	struct job *j;

	if (d->closed)
		return;
	d->closed = 1;
	for (j = d->jobs; j; j = j->next)
		uv_timer_stop(&j->timer);
	while (d->jobs)
		job_unlink_free(d->jobs);
	ctl_close(d->ctl);
	d->ctl = NULL;
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->watchdog, NULL);
	uv_close((uv_handle_t *)&d->reaper, NULL);
	uv_close((uv_handle_t *)&d->stop_timer, NULL);
	uv_close((uv_handle_t *)&d->reload_timer, NULL);
	http_close(d->http);
	d->http = NULL;
	log_notice(NULL, "stopped");
}

static void
on_stop_timeout(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct job *j;

	log_warning(NULL, "runs did not stop within %d s, dropping them", STOP_GRACE_MS / 1000);
	for (j = d->jobs; j; j = j->next)
		if (j->run) {
			j->run = run_free(j->run);
			cfg_unref(j->run_cfg);
			j->run_cfg = NULL;
		}
	d->running = 0;
	shutdown_finish(d);
}

static void
begin_stop(struct daemon *d, const char *why)
{
	struct job *j;

	if (d->stopping)
		return;
	d->stopping = 1;
	(void)sd_notify(0, "STOPPING=1");
	log_notice(NULL, "%s: stopping%s", why, d->running ? ", interrupting runs in progress" : "");
	for (j = d->jobs; j; j = j->next) {
		uv_timer_stop(&j->timer);
		j->next_fire = 0;
		j->queued = 0;
	}
	d->q_head = d->q_tail = NULL;
	uv_timer_start(&d->stop_timer, on_stop_timeout, STOP_GRACE_MS, 0);
	for (j = d->jobs; j; j = j->next)
		if (j->run && !j->run_done)
			run_cancel(j->run);
	uv_timer_start(&d->reaper, on_reap, 0, 0);
}

static void
on_reload_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	char why[16];

	if (!d->stopping)
		(void)reload(d, why, sizeof(why));
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (signum == SIGHUP) {
		/* the SIGHUPs of a burst that arrive before the next loop turn
		 * make one reload, and requests on the socket are answered in
		 * between: a reload reads every workflow file */
		if (!d->stopping)
			uv_timer_start(&d->reload_timer, on_reload_timer, 0, 0);
		return;
	}
	begin_stop(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

int
daemon_main(const char *config_path, int debug)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct gm_err err = {{0}};
	uint64_t wd_usec = 0;
	size_t i;
	int rc = 0;

	if (!d)
		return 1;
	log_setup(debug ? LOG_DEBUG : LOG_INFO, debug ? LOG_TARGET_STDERR : LOG_TARGET_AUTO);
	d->cfg_path = config_path;
	if (cfg_load(config_path, &d->cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		join_lines(err.msg, sizeof(err.msg));
		log_err(NULL, "cannot start: %s", err.msg);
		free(d);
		return 2;
	}
	uv_loop_init(&d->loop);
	d->http = http_new(&d->loop);
	d->accounts = enrich_accounts_new();    /* NULL: each run keeps its own */
	d->ctl = ctl_new(&d->loop, d->cfg->socket, on_ctl, d, &err);
	if (!d->http || !d->ctl) {
		fprintf(stderr, "gluemetad: %s\n", err.msg[0] ? err.msg : "cannot start");
		log_err(NULL, "cannot start: %s", err.msg);
		rc = 1;
		d->stopping = 1;
	}
	uv_signal_init(&d->loop, &d->sighup);
	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	uv_timer_init(&d->loop, &d->watchdog);
	uv_timer_init(&d->loop, &d->reaper);
	uv_timer_init(&d->loop, &d->stop_timer);
	uv_timer_init(&d->loop, &d->reload_timer);
	{
		int swept = state_sweep(d->cfg->state_dir);

		if (swept > 0)
			log_notice(NULL, "removed %d temporary files of interrupted writes from %s",
			           swept, d->cfg->state_dir);
	}
	d->sighup.data = d->sigterm.data = d->sigint.data = d;
	d->watchdog.data = d->reaper.data = d->stop_timer.data = d->reload_timer.data = d;
	uv_signal_start(&d->sighup, on_signal, SIGHUP);
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	if (rc == 0) {
		for (i = 0; i < d->cfg->n_workflows; i++) {
			struct job *j = job_new(d, &d->cfg->workflows[i]);

			if (j) {
				state_load(d, j);
				arm(j, 0);
			}
		}
		if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000)
			uv_timer_start(&d->watchdog, on_watchdog, wd_usec / 2000, wd_usec / 2000);
		log_notice(NULL, "started: %zu workflows, socket %s", d->cfg->n_workflows,
		           d->cfg->socket);
		(void)sd_notify(0, "READY=1");
		notify_status(d);
	} else {
		shutdown_finish(d);
	}
	uv_run(&d->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&d->loop) == UV_EBUSY)
		log_warning(NULL, "event loop still had handles at exit");
	cfg_unref(d->cfg);
	enrich_accounts_free(d->accounts);
	free(d);
	return rc;
}
