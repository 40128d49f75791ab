/* daemon internals shared by daemon.c (start-up, signals, reload, shutdown,
 * control commands), daemon_job.c (a workflow's job: its runs, memo and
 * history), daemon_events.c (the event consumer and the index it maps
 * with) and daemon_metrics.c (what the daemon tells Prometheus); not for
 * other modules. */
#ifndef GLUEMETAD_DAEMON_INT_H
#define GLUEMETAD_DAEMON_INT_H

#include <stdint.h>

#include <uv.h>

#include "history.h"
#include "log.h"
#include "schedule.h"
#include "util.h"

struct cJSON;
struct cfg;
struct events;
struct evindex;
struct cfg_workflow;
struct ctl;
struct filewatch;
struct http;
struct memo;
struct metrics;
struct run;
struct daemon;

/* One workflow of the configuration, owned by d->jobs.  A job a reload
 * removed stays (removed set, w NULL) until its run in progress ends. */
struct job {
	struct daemon *d;
	struct job *next;
	char *name;
	const struct cfg_workflow *w;   /* entry of d->cfg; NULL once removed */
	struct sched_entry *se;
	struct run *run;
	struct cfg *run_cfg;            /* the config the run started with */
	int run_done, removed;
	char run_id[40];
	char trigger[12];
	int64_t run_started_ms;
	struct history hist;
	struct log_ctx lg;
	struct memo *memo;              /* what the last run wrote, during a run */
	char *memo_settings;
	struct strlist only;            /* the Glue workflows of an event refresh */
};

struct daemon {
	uv_loop_t loop;
	struct http *http;
	struct cfg *cfg;
	const char *cfg_path;
	struct sched *sched;
	struct job *jobs;
	uv_signal_t sighup, sigterm, sigint;
	uv_timer_t watchdog, reaper, stop_timer;
	uv_timer_t reload_timer;        /* SIGHUPs become one reload per loop turn */
	struct ctl *ctl;
	struct clockwatch *clockwatch;  /* steps of the wall clock */
	struct evindex *index;          /* which workflow holds which Glue job */
	struct events *events;          /* the event consumer; NULL: none */
	struct cfg *events_cfg;         /* the configuration it runs with */
	struct filewatch *filewatch;    /* reload_on_change; NULL when off */
	int stopping, closed;
	unsigned reloads;
	struct enrich_accounts *accounts;       /* for every run, until exit */
	struct metrics *metrics;
	int64_t start_ms;
	int lock_fd;                    /* state_dir's lock, held until exit */
	uint64_t refused_since_ms;      /* refused control commands: the log's window, */
	unsigned refused_logged, refused_unlogged;      /* and what it logged and left out */
	/* The last history or memo write that failed, until a run's state is
	 * saved again: what status shows, and what was logged (a journal line
	 * per distinct error, not per run). */
	char state_err[512];
	int64_t state_err_ms;           /* when; 0: no error */
	/* The last reload (SIGHUP, the reload command): when, whether it was
	 * applied, and why not. */
	int64_t reload_ms;              /* 0: none yet */
	int reload_ok;
	char reload_err[4096];
};

/* daemon.c */
/* The STATUS= line for systemd: workflows, runs, the next fire. */
void daemon__notify_status(struct daemon *d);
/* Finishes the runs that ended from the reaper timer, outside the run. */
void daemon__reap_soon(struct daemon *d);
/* The reload SIGHUP asks for, at the next loop turn: requests of a burst
 * make one reload.  Nothing once stopping. */
void daemon__reload_soon(struct daemon *d);

/* daemon_watch.c */
/* Watches the files of d->cfg when its reload_on_change is on (and stops
 * watching when it is off); after the start and after each reload, good
 * or not.  A problem is a warning. */
void daemon__watch_update(struct daemon *d);
/* Stops watching; at shutdown. */
void daemon__watch_close(struct daemon *d);

/* The trigger of a targeted refresh that events asked for. */
#define DAEMON_TRIGGER_EVENT "event"

/* daemon_events.c */
/* Starts, restarts (its configuration changed) or stops the event
 * consumer for d->cfg; the index is loaded at the first call. */
void daemon__events_apply(struct daemon *d);
/* Stops the consumer for good (shutdown). */
void daemon__events_stop(struct daemon *d);
/* A run of j ended (j->run still there): the graphs it read go into the
 * index, and the consumer hears of it. */
void daemon__events_run_end(struct job *j, const char *result);
/* j left the configuration. */
void daemon__events_forget(struct daemon *d, const char *name);
/* The consumer for status, NULL without one. */
struct cJSON *daemon__events_json(const struct daemon *d);

/* daemon_job.c */
/* A job for w, first in d->jobs, not armed yet; NULL without memory. */
struct job *daemon__job_new(struct daemon *d, const struct cfg_workflow *w);
/* Fires j once now when its workflow has catch_up and a fire time passed
 * since the last run its history records (sched_catch_up()), and says so. */
void daemon__job_catch_up(struct job *j);
/* Unlinks j from d->jobs and frees it; its run must be over. */
void daemon__job_free(struct job *j);
/* The job of the workflow named name: a configured one, or with removed
 * set, one a reload removed while its run was in progress. */
struct job *daemon__job_find(struct daemon *d, const char *name, int removed);
/* The job's saved runs from state_dir, a warning when they cannot be read. */
void daemon__job_load_history(struct daemon *d, struct job *j);
/* sched_ops of the daemon: start a run, tell what the schedule decided. */
int daemon__run_start(struct sched_entry *e, const char *trigger, void *arg);
void daemon__sched_event(struct sched_entry *e, enum sched_event ev, void *arg);
/* Records the ended run of j in its history and its metrics, saves its
 * memo and the history (a write that failed goes into the run's record as
 * state_error and into d->state_err), releases the run and its config,
 * writes the metrics textfile. */
void daemon__run_finish(struct job *j);

/* daemon_metrics.c */
/* Adds the ended run h of j to the metrics: with j->run still there, what
 * it wrote and its HTTP pools' replies too (a run that could not start
 * has none). */
void daemon__metrics_run_end(struct job *j, const struct history_run *h);
/* Every job's series, with its schedule interval from its current
 * workflow (none for a removed one); after the start and each reload. */
void daemon__metrics_workflows(struct daemon *d);
/* The Prometheus text of the metrics (malloc'd), NULL without memory. */
char *daemon__metrics_text(struct daemon *d);
/* Writes the text to the configured metrics_textfile, if any; a failure
 * is a warning. */
void daemon__metrics_write(struct daemon *d);

#endif
