/* daemon_job — a workflow's job in the daemon (daemon_int.h): starting
 * and finishing its runs, its memo around each run (memo.h) and its run
 * history (history.h), and what the schedule tells about it (sched_ops).
 * When it fires is sched's; the process around it is daemon.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "calendar.h"
#include "cfg.h"
#include "daemon_int.h"
#include "history.h"
#include "log.h"
#include "log_ids.h"
#include "memo.h"
#include "metrics.h"
#include "run.h"
#include "schedule.h"
#include "util.h"
#include "wf.h"

/* A write of the state file dir/name (the history, a memo) failed with r:
 * counted, kept for status until a run's state is saved again, and logged
 * unless it is the very error logged last, so that a state_dir that stays
 * broken is one line in the journal and not one per run.  "NAME: REASON"
 * goes to why, the run's record ("; " after what is there). */
static void
state_write_failed(struct daemon *d, const struct log_ctx *lg, const char *dir,
                   const char *name, int r, char *why, size_t why_len)
{
	char err[sizeof(d->state_err)], clean[sizeof(d->state_err)];
	size_t len = strlen(why);

	metrics_state_write_error(d->metrics);
	snprintf(err, sizeof(err), "cannot write %s/%s: %s", dir, name, strerror(-r));
	str_sanitize_buf(clean, sizeof(clean), err);
	if (strcmp(clean, d->state_err) != 0)
		log_err(lg, "%s; runs go on, their state unsaved (logged again when the error "
		        "changes or after a successful write)", clean);
	memcpy(d->state_err, clean, sizeof(clean));
	d->state_err_ms = time_now_ms();
	snprintf(why + len, why_len - len, "%s%s: %s", len ? "; " : "", name, strerror(-r));
}

/* A run's state was all written: the error status showed is over. */
static void
state_write_ok(struct daemon *d)
{
	if (!d->state_err[0])
		return;
	log_notice(NULL, "state saved again in %s", d->cfg->state_dir);
	d->state_err[0] = '\0';
	d->state_err_ms = 0;
}

/* Saves the history of every job, removed ones with a run in progress
 * included, in the order of d->jobs.  0, or -1 with the reason added to
 * why (state_write_failed()). */
static int
save_history(struct daemon *d, char *why, size_t why_len)
{
	const struct history **all;
	struct job *j;
	size_t n = 0;
	int r;

	for (j = d->jobs; j; j = j->next)
		n++;
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all) {
		state_write_failed(d, NULL, d->cfg->state_dir, HISTORY_FILE, -ENOMEM, why, why_len);
		return -1;
	}
	n = 0;
	for (j = d->jobs; j; j = j->next)
		all[n++] = &j->hist;
	r = history_save(d->cfg->state_dir, all, n);
	free(all);
	if (r < 0) {
		state_write_failed(d, NULL, d->cfg->state_dir, HISTORY_FILE, r, why, why_len);
		return -1;
	}
	return 0;
}

void
daemon__job_load_history(struct daemon *d, struct job *j)
{
	int r = history_load(d->cfg->state_dir, &j->hist);
	size_t i;

	/* a corrupt file (-EBADMSG) is replaced by the next save, as before */
	if (r < 0 && r != -EBADMSG)
		log_warning(NULL, "cannot read %s/%s: %s; starting without history",
		            d->cfg->state_dir, HISTORY_FILE, strerror(-r));
	/* when the last success was, across restarts: what an alert on
	 * overdue workflows needs right after a restart */
	for (i = 0; i < j->hist.n; i++)
		(void)metrics_run_seen(d->metrics, j->name, j->hist.runs[i].result,
		                       j->hist.runs[i].finished_ms);
}

void
daemon__job_catch_up(struct job *j)
{
	int64_t last = 0;
	time_t missed;
	size_t i;
	char at[32], when[32];

	/* a targeted refresh (trigger event) read a few Glue workflows, not
	 * the file's: it does not stand for a fire */
	for (i = 0; i < j->hist.n; i++)
		if (j->hist.runs[i].started_ms > last &&
		    strcmp(j->hist.runs[i].trigger, DAEMON_TRIGGER_EVENT) != 0)
			last = j->hist.runs[i].started_ms;
	if (!last || !(missed = sched_missed(j->se, (time_t)(last / 1000))))
		return;
	calendar_iso(missed, j->w->timezone, at, sizeof(at));
	calendar_iso((time_t)(last / 1000), j->w->timezone, when, sizeof(when));
	log_notice(&j->lg, "catching up once: the fire at %s passed while it could not run "
	           "(last run started %s)", at, when);
	(void)sched_fire(j->se, SCHED_CATCH_UP);
}

struct job *
daemon__job_find(struct daemon *d, const char *name, int removed)
{
	struct job *j;

	for (j = d->jobs; j; j = j->next)
		if (j->removed == removed && strcmp(j->name, name) == 0)
			return j;
	return NULL;
}

void
daemon__job_free(struct job *j)
{
	struct daemon *d = j->d;
	struct job **pp;

	for (pp = &d->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	sched_entry_free(j->se);
	metrics_workflow_forget(d->metrics, j->name);
	history_clear(&j->hist);
	free(j->name);
	free(j);
}

struct job *
daemon__job_new(struct daemon *d, const struct cfg_workflow *w)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j || !(j->name = strdup(w->name)))
		goto fail;
	j->se = sched_entry_new(d->sched, w, j);
	if (!j->se)
		goto fail;
	j->d = d;
	j->w = w;
	j->lg.workflow = j->name;
	j->hist.name = j->name;
	j->next = d->jobs;
	d->jobs = j;
	return j;
fail:
	if (j)
		free(j->name);
	free(j);
	return NULL;
}

static void
on_run_done(struct run *r, void *arg)
{
	struct job *j = arg;

	(void)r;
	j->run_done = 1;                /* finished in the reaper, outside the run */
	daemon__reap_soon(j->d);
}

static void
memo_file_name(const struct job *j, char *out, size_t n)
{
	snprintf(out, n, "memo-%s.json", j->name);
}

/* The memo of the last run into the run's options; with incremental runs
 * switched off, the memo goes (it would be stale when switched on again). */
static void
job_memo_open(struct job *j, struct run_opts *o)
{
	const struct cfg *c = j->d->cfg;
	char name[128], why[256], path[4096];

	memo_file_name(j, name, sizeof(name));
	if (!c->incremental) {
		snprintf(path, sizeof(path), "%s/%s", c->state_dir, name);
		(void)unlink(path);
		return;
	}
	j->memo = memo_open(c->state_dir, name, j->w->wf->path, &j->memo_settings, why,
	                    sizeof(why));
	if (!j->memo)
		return;
	if (!memo_size(j->memo) && why[0])
		log_info(&j->lg, "full run: no usable record of the last run (%s)", why);
	o->memo = j->memo;
	o->memo_settings = j->memo_settings;
}

/* Saves the memo the run made, if any; a failure is added to why
 * (state_write_failed()). */
static void
job_memo_close(struct job *j, char *why, size_t why_len)
{
	struct memo *next = j->run && !run_stats(j->run)->cancelled ? run_take_memo(j->run) : NULL;
	char name[128];
	int r;

	memo_file_name(j, name, sizeof(name));
	if (next && (r = memo_save(j->run_cfg->state_dir, name, next)) < 0)
		state_write_failed(j->d, &j->lg, j->run_cfg->state_dir, name, r, why, why_len);
	memo_free(next);
	j->memo = memo_free(j->memo);
	free(j->memo_settings);
	j->memo_settings = NULL;
}

void
daemon__run_finish(struct job *j)
{
	const struct run_stats *st = run_stats(j->run);
	unsigned long errors = run_stats_errors(st);
	const char *result = run_result(j->run);
	static struct history_run unkept;
	struct history_run *h;
	char why[sizeof(h->state_error)] = "", shown[256];

	/* without memory the run is told, not kept */
	if (!(h = history_push(&j->hist))) {
		memset(&unkept, 0, sizeof(unkept));
		h = &unkept;
	}
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
	/* the state first, so that the record, the log line and status tell
	 * whether it was saved: a memo that failed is in the history written
	 * next, a history that failed in the one in memory */
	job_memo_close(j, why, sizeof(why));
	str_sanitize_buf(h->state_error, sizeof(h->state_error), why);
	if (save_history(j->d, why, sizeof(why)) < 0)
		str_sanitize_buf(h->state_error, sizeof(h->state_error), why);
	else if (!why[0])
		state_write_ok(j->d);
	history_run_result(h, shown, sizeof(shown));
	log_event(errors || st->cancelled || h->state_error[0] ? LOG_WARNING : LOG_NOTICE, &j->lg,
	          LOG_ID_RUN_FINISHED, "run %s %s in %.1fs: %lu pipelines, %lu statuses, "
	          "%lu marked deleted, %lu filtered, %lu warnings, %lu errors%s%s", j->run_id,
	          shown, (double)(h->finished_ms - h->started_ms) / 1000.0, h->pipelines,
	          h->statuses, h->deleted, h->filtered, h->warnings, errors, st->fatal ? ": " : "",
	          st->fatal ? st->fatal_msg : "");
	daemon__metrics_run_end(j, h);
	daemon__events_run_end(j, h->state_error[0] ? "failed" : h->result);
	j->run = run_free(j->run);
	cfg_unref(j->run_cfg);
	j->run_cfg = NULL;
	j->run_done = 0;
	j->lg.run = NULL;
	sched_entry_done(j->se);
	daemon__metrics_write(j->d);
}

/* sched_ops.start: a run of the job's workflow, on the current config. */
int
daemon__run_start(struct sched_entry *e, const char *trigger, void *arg)
{
	struct daemon *d = arg;
	struct job *j = sched_entry_data(e);
	struct run_opts o = {0};
	struct gm_err err = {{0}};
	char why[8] = "";

	str_uuid4(j->run_id);           /* as OpenMetadata's run ids */
	snprintf(j->trigger, sizeof(j->trigger), "%s", trigger);
	j->lg.run = j->run_id;
	o.glue_concurrency = d->cfg->glue_concurrency;
	o.om_concurrency = d->cfg->om_concurrency;
	o.owner_tag = d->cfg->owner_tag;
	o.accounts = d->accounts;
	job_memo_open(j, &o);
	o.log_workflow = j->name;
	o.run_id = j->run_id;
	if (strcmp(trigger, DAEMON_TRIGGER_EVENT) == 0) {
		/* a targeted refresh; a fire of the schedule meanwhile waits for it */
		o.only = (const char *const *)j->only.v;
		o.n_only = j->only.n;
		sched_entry_yields(e);
	}
	j->run_cfg = cfg_ref(d->cfg);
	j->run_started_ms = time_now_ms();
	j->run_done = 0;
	log_event(LOG_NOTICE, &j->lg, LOG_ID_RUN_STARTED, "run %s started (%s) from %s", j->run_id,
	          trigger, j->w->file);
	if (run_start(d->http, j->w->wf, &o, on_run_done, j, &j->run, &err) < 0) {
		struct history_run failed = { .result = "failed" };

		log_err(&j->lg, "run %s cannot start: %s", j->run_id, err.msg);
		j->run = NULL;
		job_memo_close(j, why, sizeof(why));    /* frees the memo; no run to save */
		cfg_unref(j->run_cfg);
		j->run_cfg = NULL;
		j->lg.run = NULL;
		/* not in the history (nothing ran), but a failure to alert on */
		failed.started_ms = j->run_started_ms;
		failed.finished_ms = time_now_ms();
		daemon__metrics_run_end(j, &failed);
		daemon__metrics_write(d);
		return -EIO;
	}
	return 0;
}

/* sched_ops.event: what the schedule decided, told to the operator. */
void
daemon__sched_event(struct sched_entry *e, enum sched_event ev, void *arg)
{
	struct daemon *d = arg;
	struct job *j = sched_entry_data(e);
	unsigned running = sched_running(d->sched);

	switch (ev) {
	case SCHED_SKIPPED:
		(void)metrics_skipped_add(d->metrics, j->name);
		log_event(LOG_WARNING, &j->lg, LOG_ID_RUN_SKIPPED, "still %s from the previous "
		          "fire, skipping this one (%lu skipped so far)",
		          sched_entry_view(e)->running ? "running" : "queued", sched_entry_view(e)->skipped);
		break;
	case SCHED_QUEUED:
		log_info(&j->lg, "queued: %u %s in progress (max_concurrent_runs)", running,
		         PLURAL(running, "run", "runs"));
		break;
	case SCHED_NEVER_FIRES:
		log_warning(&j->lg, "schedule '%s' never fires again", j->w->schedule);
		break;
	case SCHED_FIRED:
		daemon__notify_status(d);
		break;
	}
}
