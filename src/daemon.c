/* daemon — see include/daemon.h.  Owns the process side of the service:
 * start-up and shutdown order, signals, reload, sd_notify and the control
 * commands.  A workflow's job (its runs, memo and history) is
 * daemon_job.c's, when it fires sched's (schedule.h). */
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
#include "clockwatch.h"
#include "ctl.h"
#include "daemon.h"
#include "daemon_int.h"
#include "events.h"
#include "enrich.h"
#include "history.h"
#include "http.h"
#include "jsonarena.h"
#include "log.h"
#include "log_ids.h"
#include "metrics.h"
#include "run.h"
#include "schedule.h"
#include "state.h"
#include "util.h"

#define STOP_GRACE_MS 10000
/* Refused control commands logged per window; the rest are counted, so
 * that a client asking in a loop cannot flood the journal. */
#define REFUSED_LOG_BURST 10
#define REFUSED_LOG_WINDOW_MS 60000

#ifndef GLUEMETAD_VERSION
#define GLUEMETAD_VERSION "0.1.0"
#endif

/* One message to the service manager.  sd_notify() sends once and gives up
 * on a transient error, and a STOPPING=1 or READY=1 lost there leaves
 * systemd guessing: a transient error is tried again, twice; the first
 * failure is a warning, the rest debug lines. */
static void
notify(const char *msg)
{
	static int warned;
	int r, tries = 0;

	do
		r = sd_notify(0, msg);
	while ((r == -EINTR || r == -EAGAIN || r == -ENOBUFS) && ++tries < 3);
	if (r < 0) {
		log_at(warned ? LOG_DEBUG : LOG_WARNING, NULL,
		       "cannot tell the service manager %.*s: %s",
		       (int)strcspn(msg, "\n"), msg, strerror(-r));
		warned = 1;
	}
}

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

void
daemon__notify_status(struct daemon *d)
{
	struct job *j, *soon = NULL;
	time_t soon_at = 0, at;
	unsigned n = 0, running = sched_running(d->sched);
	char in[32] = "", line[2048], failed[768] = "", reason[640], hm[8] = "";

	for (j = d->jobs; j; j = j->next) {
		if (j->removed)
			continue;
		n++;
		at = sched_entry_view(j->se)->next_fire;
		if (at && (!soon || at < soon_at)) {
			soon = j;
			soon_at = at;
		}
	}
	if (soon)
		fmt_in(in, sizeof(in), soon_at);
	/* until a good reload, the line systemctl status shows says the
	 * running configuration is not the file's; reload_err is one line,
	 * cut here between characters (systemd drops a STATUS= that is not
	 * valid UTF-8) */
	if (d->reload_ms && !d->reload_ok) {
		time_t t = (time_t)(d->reload_ms / 1000);
		struct tm tm;

		if (localtime_r(&t, &tm))
			strftime(hm, sizeof(hm), "%H:%M", &tm);
		str_sanitize_buf(reason, sizeof(reason), d->reload_err);
		snprintf(failed, sizeof(failed), ", reload failed at %s: %s", hm, reason);
	}
	snprintf(line, sizeof(line), "STATUS=%u workflow%s, %u running%s%s%s%s%s", n,
	         n == 1 ? "" : "s", running, soon ? ", next: " : "", soon ? soon->name : "",
	         soon ? " in " : "", soon ? in : "", failed);
	notify(line);
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
			daemon__run_finish(j);
			if (j->removed)
				daemon__job_free(j);
		}
	}
	sched_start_queued(d->sched);
	if (!sched_running(d->sched))
		json_arena_trim();      /* an idle daemon holds no reply's memory */
	daemon__notify_status(d);
	if (d->stopping && !sched_running(d->sched))
		shutdown_finish(d);
}

void
daemon__reap_soon(struct daemon *d)
{
	uv_timer_start(&d->reaper, on_reap, 0, 0);
}

static void
job_remove(struct job *j)
{
	j->removed = 1;
	j->w = NULL;
	daemon__events_forget(j->d, j->name);
	sched_entry_update(j->se, NULL);
	log_notice(&j->lg, "removed from the configuration%s",
	           j->run ? "; its run in progress finishes first" : "");
	if (!j->run)
		daemon__job_free(j);
}

/* Puts the workflows of the new config d->cfg in place: the existing keep
 * their job (and its armed fire when the schedule did not change), the
 * removed go once their run ended, the new get a job. */
static void
apply_workflows(struct daemon *d)
{
	const struct cfg *nc = d->cfg;
	struct job *j, *next;
	size_t i;

	for (j = d->jobs; j; j = next) {
		int caught_up;

		next = j->next;
		if (j->removed)
			continue;
		/* j->w is still the old configuration's, alive until the reload ends */
		caught_up = j->w->catch_up && j->w->enabled;
		j->w = cfg_find(nc, j->name);
		if (!j->w) {
			job_remove(j);
			continue;
		}
		sched_entry_update(j->se, j->w);
		if (!caught_up)
			daemon__job_catch_up(j);        /* this reload enables it */
	}
	for (i = 0; i < nc->n_workflows; i++) {
		if (daemon__job_find(d, nc->workflows[i].name, 0))
			continue;
		if ((j = daemon__job_find(d, nc->workflows[i].name, 1))) {
			/* back before its run ended: the same job, its run and history
			 * go on (a second job would run it twice and lose that run) */
			j->removed = 0;
			j->w = &nc->workflows[i];
			log_notice(&j->lg, "added with schedule '%s'; its run in progress goes on",
			           j->w->schedule);
			sched_entry_update(j->se, j->w);
			continue;
		}
		j = daemon__job_new(d, &nc->workflows[i]);
		if (!j)
			continue;
		daemon__job_load_history(d, j);
		log_notice(&j->lg, "added with schedule '%s'", j->w->schedule);
		sched_entry_update(j->se, j->w);
		daemon__job_catch_up(j);
	}
}

/* The errors of a configuration, one a line, joined with "; ": a log
 * record and a control reply are one line each (a newline left in would
 * be shown escaped). */
static void
join_error_lines(char *s, size_t n)
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

/* Whether gid has a number in this process's user namespace.  Under
 * systemd's PrivateUsers=yes only root's and the service's own have: every
 * other user connects as nobody, and control_group cannot be told. */
static int
gid_mapped(gid_t gid)
{
	unsigned long in, out, count;
	FILE *f = fopen("/proc/self/gid_map", "re");
	int found = 0;

	if (!f)
		return 1;               /* cannot tell: no warning */
	while (!found && fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3)
		found = gid >= in && gid - in < count;
	fclose(f);
	return found;
}

static void
check_control_group(const struct cfg *c)
{
	if (c->control_group && !gid_mapped(c->control_gid))
		log_warning(NULL, "control_group '%s' (gid %lu) is not mapped in the daemon's user "
		            "namespace (PrivateUsers=yes?): its members connect as nobody and may "
		            "not run or reload", c->control_group, (unsigned long)c->control_gid);
}

/* What the load let through but an operator should hear of. */
static void
log_cfg_warnings(const struct cfg *c)
{
	size_t i;

	for (i = 0; i < c->n_warnings; i++)
		log_warning(NULL, "%s", c->warnings[i]);
}

static int
reload(struct daemon *d, char *why, size_t why_len)
{
	struct cfg *nc = NULL, *old = d->cfg;
	struct gm_err err = {{0}};
	char msg[64];

	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	         (unsigned long long)time_mono_ms() * 1000ULL);
	notify(msg);
	d->reloads++;
	if (cfg_load_checked(d->cfg_path, &nc, &err) < 0) {
		join_error_lines(err.msg, sizeof(err.msg));
		log_event(LOG_ERR, NULL, LOG_ID_RELOAD_FAILED, "reload failed, keeping the running "
		          "configuration: %s", err.msg);
		snprintf(why, why_len, "%s", err.msg);
		d->reload_ms = time_now_ms();
		d->reload_ok = 0;
		str_sanitize_buf(d->reload_err, sizeof(d->reload_err), err.msg);
		metrics_reload(d->metrics, 0, d->reload_ms);
		daemon__metrics_write(d);
		notify("READY=1");
		daemon__notify_status(d);
		daemon__watch_update(d);
		return -EINVAL;
	}
	if (strcmp(nc->socket, old->socket) != 0 || strcmp(nc->state_dir, old->state_dir) != 0)
		log_notice(NULL, "socket and state_dir changes take effect at the next restart");
	free(nc->socket);
	free(nc->state_dir);
	nc->socket = strdup(old->socket);
	nc->state_dir = strdup(old->state_dir);
	log_cfg_warnings(nc);
	d->cfg = nc;
	log_set_format(nc->log_format, LOG_FORMAT_FROM_CONFIG);
	sched_set_max_running(d->sched, nc->max_concurrent_runs);
	check_control_group(nc);
	apply_workflows(d);
	daemon__events_apply(d);
	cfg_unref(old);
	d->reload_ms = time_now_ms();
	d->reload_ok = 1;
	d->reload_err[0] = '\0';
	metrics_reload(d->metrics, 1, d->reload_ms);
	daemon__metrics_workflows(d);
	daemon__metrics_write(d);
	log_event(LOG_NOTICE, NULL, LOG_ID_RELOAD_OK, "configuration reloaded: %zu workflows",
	          nc->n_workflows);
	notify("READY=1");
	sched_start_queued(d->sched);
	daemon__notify_status(d);
	daemon__watch_update(d);
	return 0;
}

static cJSON *
job_json(const struct job *j)
{
	cJSON *o = cJSON_CreateObject(), *last;
	const struct sched_view *v = sched_entry_view(j->se);
	int running = v->running, queued = v->queued;
	time_t next_fire = v->next_fire;
	int64_t refresh_ms;
	const char *state;

	if (!o)
		return NULL;
	state = running ? "running" : queued ? "queued" : !j->w->enabled ? "disabled" : "idle";
	if ((running && strcmp(j->trigger, SCHED_CATCH_UP) == 0) || v->catching_up)
		state = running ? "running (catch-up)" : "waiting (catch-up)";
	cJSON_AddStringToObject(o, "name", j->name);
	cJSON_AddStringToObject(o, "schedule", j->w->schedule);
	if (j->w->timezone)
		cJSON_AddStringToObject(o, "timezone", j->w->timezone);
	cJSON_AddBoolToObject(o, "enabled", j->w->enabled);
	cJSON_AddStringToObject(o, "state", state);
	if (next_fire)
		json_add_int(o, "next_fire", (long long)next_fire);
	if (running)
		cJSON_AddStringToObject(o, "run_id", j->run_id);
	json_add_int(o, "skipped", (long long)v->skipped);
	cJSON_AddBoolToObject(o, "catch_up", j->w->catch_up);
	if (j->d->events && (refresh_ms = events_last_refresh_ms(j->d->events, j->name)))
		cJSON_AddNumberToObject(o, "last_event_refresh", (double)refresh_ms / 1000.0);
	if (v->catching_up)
		cJSON_AddBoolToObject(o, "catch_up_waiting", 1);
	json_add_int(o, "runs", (long long)j->hist.n);
	if (j->hist.n && (last = cJSON_AddArrayToObject(o, "last")))
		history_run_to_json(last, &j->hist.runs[j->hist.n - 1]);
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

/* The last reload, once there was one, and the last state write that
 * failed, while no run's state was saved since; times in seconds since
 * the epoch, as the metrics give them. */
static void
add_health(const struct daemon *d, cJSON *o)
{
	cJSON *x;

	if (d->reload_ms && (x = cJSON_AddObjectToObject(o, "reload"))) {
		cJSON_AddNumberToObject(x, "at", (double)d->reload_ms / 1000.0);
		cJSON_AddBoolToObject(x, "ok", d->reload_ok);
		if (!d->reload_ok)
			cJSON_AddStringToObject(x, "error", d->reload_err);
	}
	if (d->state_err_ms && (x = cJSON_AddObjectToObject(o, "state_error"))) {
		cJSON_AddNumberToObject(x, "at", (double)d->state_err_ms / 1000.0);
		cJSON_AddStringToObject(x, "error", d->state_err);
	}
}

static cJSON *
cmd_status(struct daemon *d, struct job *unused, const char *arg)
{
	unsigned n = 0, queued = 0;
	cJSON *o, *arr, *ev;
	struct job *j, **order;
	size_t i;

	(void)unused;
	(void)arg;
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddStringToObject(o, "version", GLUEMETAD_VERSION);
	json_add_int(o, "pid", getpid());
	cJSON_AddStringToObject(o, "config", d->cfg_path);
	json_add_int(o, "running", sched_running(d->sched));
	json_add_int(o, "max_concurrent_runs", d->cfg->max_concurrent_runs);
	json_add_int(o, "reloads", d->reloads);
	add_health(d, o);
	if ((ev = daemon__events_json(d)))
		cJSON_AddItemToObject(o, "events", ev);
	arr = cJSON_AddArrayToObject(o, "workflows");
	/* in the configuration's order: each job's workflow is an entry of
	 * d->cfg, so its place is its index there (no search per workflow) */
	if (!(order = calloc(d->cfg->n_workflows ? d->cfg->n_workflows : 1, sizeof(*order)))) {
		cJSON_Delete(o);
		return NULL;
	}
	for (j = d->jobs; j; j = j->next)
		if (!j->removed && j->w && j->w >= d->cfg->workflows &&
		    j->w < d->cfg->workflows + d->cfg->n_workflows)
			order[j->w - d->cfg->workflows] = j;
	for (i = 0; i < d->cfg->n_workflows; i++) {
		if (!(j = order[i]))
			continue;
		n++;
		queued += (unsigned)sched_entry_view(j->se)->queued;
		cJSON_AddItemToArray(arr, job_json(j));
	}
	free(order);
	json_add_int(o, "queued", queued);
	json_add_int(o, "workflows_total", n);
	return o;
}

static cJSON *
cmd_history(struct daemon *d, struct job *j, const char *arg)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	size_t i;

	(void)d;
	(void)arg;
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddStringToObject(o, "name", j->name);
	arr = cJSON_AddArrayToObject(o, "runs");
	for (i = j->hist.n; i > 0; i--)
		history_run_to_json(arr, &j->hist.runs[i - 1]);
	return o;
}

static cJSON *
cmd_run(struct daemon *d, struct job *j, const char *arg)
{
	cJSON *o;

	(void)arg;
	if (d->stopping)
		return reply_error("shutting down%s", "");
	/* refused, not skipped: skipped counts the schedule's fires only */
	if (sched_fire(j->se, "manual") == -EBUSY)
		return reply_error(sched_entry_view(j->se)->running ?
		                   "already running: '%s' has a run in progress" :
		                   "already running: '%s' is queued, waiting for a free run slot",
		                   j->name);
	daemon__notify_status(d);
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddStringToObject(o, "name", j->name);
	cJSON_AddStringToObject(o, "state", j->run ? "running" : "queued");
	if (j->run)
		cJSON_AddStringToObject(o, "run_id", j->run_id);
	return o;
}

static cJSON *
cmd_reload(struct daemon *d, struct job *unused, const char *arg)
{
	char why[4096] = "";
	cJSON *o;

	(void)unused;
	(void)arg;
	if (reload(d, why, sizeof(why)) < 0)
		return reply_error("reload failed: %s", why);
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddNumberToObject(o, "workflows", (double)d->cfg->n_workflows);
	return o;
}

#define CMD_WORKFLOW 0x1        /* the argument names a configured workflow */
#define CMD_CONTROL 0x2         /* root, the daemon's user and control_group only */

/* The control commands, as OpenBSD's control code and systemd's verb tables
 * keep them.  A CMD_WORKFLOW handler gets the workflow's job; the other
 * commands take no argument, and one sent anyway is refused rather than
 * ignored (`reload now` would read as if it meant something).  A command
 * answers JSON (handler) or text (text: the metrics).  Two levels: anyone
 * who can connect (the socket is 0660: its owner and group) reads; a
 * CMD_CONTROL command changes what the daemon does and is refused, before
 * its argument is looked at, to a client without control access. */
static const struct command {
	const char *name;
	cJSON *(*handler)(struct daemon *d, struct job *j, const char *arg);
	char *(*text)(struct daemon *d);
	unsigned flags;
} commands[] = {
	{ "status", cmd_status, NULL, 0 },
	{ "list", cmd_status, NULL, 0 },
	{ "run", cmd_run, NULL, CMD_WORKFLOW | CMD_CONTROL },
	{ "history", cmd_history, NULL, CMD_WORKFLOW },
	{ "reload", cmd_reload, NULL, CMD_CONTROL },
	{ "metrics", NULL, daemon__metrics_text, 0 },
};

/* A record of a refused command, at most REFUSED_LOG_BURST a window and
 * then how many were left out.  cmd is the table's name for it: no text of
 * the request is logged. */
static void
log_refused(struct daemon *d, const char *cmd, const struct ctl_peer *p)
{
	uint64_t now = time_mono_ms();

	if (!d->refused_since_ms || now - d->refused_since_ms >= REFUSED_LOG_WINDOW_MS) {
		if (d->refused_unlogged)
			log_warning(NULL, "%u more refused control commands were not logged",
			            d->refused_unlogged);
		d->refused_since_ms = now;
		d->refused_logged = d->refused_unlogged = 0;
	}
	if (d->refused_logged >= REFUSED_LOG_BURST) {
		d->refused_unlogged++;
		return;
	}
	d->refused_logged++;
	if (p->known)
		log_event(LOG_WARNING, NULL, LOG_ID_CTL_REFUSED, "refused %s from uid %lu gid %lu "
		          "pid %ld: no control access%s", cmd, (unsigned long)p->uid,
		          (unsigned long)p->gid, (long)p->pid,
		          d->refused_logged == REFUSED_LOG_BURST ? "; further refusals within a "
		          "minute are counted, not logged" : "");
	else
		log_event(LOG_WARNING, NULL, LOG_ID_CTL_REFUSED, "refused %s from a client the "
		          "kernel did not identify: no control access", cmd);
}

static cJSON *
refuse_control(struct daemon *d, const char *cmd, const struct ctl_peer *p)
{
	const char *group = d->cfg->control_group;
	char msg[512];

	if (!p->known)
		snprintf(msg, sizeof(msg), "%s needs control access: the client's credentials are "
		         "unknown", cmd);
	else if (p->uid == CTL_NOBODY_ID)
		snprintf(msg, sizeof(msg), "%s needs control access: uid %lu (nobody, or a user "
		         "outside the daemon's user namespace) has none", cmd, (unsigned long)p->uid);
	else if (group)
		snprintf(msg, sizeof(msg), "%s needs control access: uid %lu is not root, the "
		         "daemon's user or in control_group '%s'", cmd, (unsigned long)p->uid, group);
	else
		snprintf(msg, sizeof(msg), "%s needs control access: uid %lu is not root or the "
		         "daemon's user, and no control_group is set", cmd, (unsigned long)p->uid);
	log_refused(d, cmd, p);
	return reply_error("%s", msg);
}

static void
on_ctl(const char *cmd, const char *arg, const struct ctl_peer *peer, void *ud,
       struct ctl_reply *ret)
{
	struct daemon *d = ud;
	struct job *j = NULL;
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		if ((commands[i].flags & CMD_CONTROL) &&
		    !ctl_peer_may_control(peer, geteuid(), d->cfg->control_group
		                          ? &d->cfg->control_gid : NULL)) {
			ret->json = refuse_control(d, commands[i].name, peer);
			return;
		}
		if (commands[i].flags & CMD_WORKFLOW) {
			if (!arg) {
				ret->json = reply_error("%s needs a workflow name", cmd);
				return;
			}
			if (!(j = daemon__job_find(d, arg, 0))) {
				ret->json = reply_error("no workflow named '%s'", arg);
				return;
			}
		} else if (arg) {
			ret->json = reply_error("%s takes no argument", cmd);
			return;
		}
		if (commands[i].text)
			ret->text = commands[i].text(d);
		else
			ret->json = commands[i].handler(d, j, arg);
		return;
	}
	ret->json = reply_error("unknown command '%s' (status, list, run NAME, history NAME, "
	                        "reload, metrics)", cmd);
}

static void
on_watchdog(uv_timer_t *t)
{
	(void)t;
	notify("WATCHDOG=1");
}

static void
shutdown_finish(struct daemon *d)
{
	if (d->closed)
		return;
	d->closed = 1;
	if (d->sched)
		sched_stop(d->sched);
	while (d->jobs)
		daemon__job_free(d->jobs);
	d->sched = sched_free(d->sched);
	clockwatch_free(d->clockwatch);
	d->clockwatch = NULL;
	daemon__events_stop(d);
	daemon__watch_close(d);
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
			sched_entry_done(j->se);
		}
	shutdown_finish(d);
}

static void
begin_stop(struct daemon *d, const char *why)
{
	struct job *j;

	if (d->stopping)
		return;
	d->stopping = 1;
	notify("STOPPING=1");
	log_notice(NULL, "%s: stopping%s", why,
	           sched_running(d->sched) ? ", interrupting runs in progress" : "");
	sched_stop(d->sched);
	daemon__events_stop(d);         /* the poll held open is cancelled */
	uv_timer_start(&d->stop_timer, on_stop_timeout, STOP_GRACE_MS, 0);
	for (j = d->jobs; j; j = j->next)
		if (j->run && !j->run_done)
			run_cancel(j->run);
	daemon__reap_soon(d);
}

static void
on_reload_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	char why[16];

	if (!d->stopping)
		(void)reload(d, why, sizeof(why));
}

void
daemon__reload_soon(struct daemon *d)
{
	if (!d->stopping)
		uv_timer_start(&d->reload_timer, on_reload_timer, 0, 0);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (signum == SIGHUP) {
		/* the SIGHUPs of a burst that arrive before the next loop turn
		 * make one reload, and requests on the socket are answered in
		 * between: a reload reads every workflow file */
		daemon__reload_soon(d);
		return;
	}
	begin_stop(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* The wall clock was stepped: the timers count from it again. */
static void
on_clock_step(int64_t step_ms, void *arg)
{
	struct daemon *d = arg;

	if (d->stopping)
		return;
	/* to the nearest second: the step is measured against the monotonic
	 * clock a few milliseconds after it happened */
	log_notice(NULL, "the wall clock was stepped %s %lld s; schedules set again from it",
	           step_ms > 0 ? "forward" : "back",
	           ((long long)(step_ms > 0 ? step_ms : -step_ms) + 500) / 1000);
	sched_clock_stepped(d->sched);
	daemon__notify_status(d);
}

/* The jobs of the configuration, with their history, armed (and caught
 * up, where asked). */
static void
start_jobs(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->cfg->n_workflows; i++) {
		struct job *j = daemon__job_new(d, &d->cfg->workflows[i]);

		if (j) {
			daemon__job_load_history(d, j);
			sched_entry_update(j->se, j->w);
			daemon__job_catch_up(j);
		}
	}
}

/* One daemon per state_dir, before the socket is bound or anything is
 * read from state_dir: two would run every workflow twice and write the
 * same history and memos.  Returns 0, or the exit status. */
static int
take_lock(struct daemon *d)
{
	const char *dir = d->cfg->state_dir;
	long pid = 0;
	int r;

	r = state_lock(dir, &d->lock_fd, &pid);
	if (r == -EWOULDBLOCK) {
		char who[48] = "";

		if (pid > 0)
			snprintf(who, sizeof(who), " (pid %ld)", pid);
		if (log_stderr_plain_ok())
			fprintf(stderr, "gluemetad: another gluemetad%s is running with %s\n", who, dir);
		log_err(NULL, "cannot start: another gluemetad%s is running with %s", who, dir);
		return 2;
	}
	if (r < 0) {
		if (log_stderr_plain_ok())
			fprintf(stderr, "gluemetad: cannot lock %s/%s: %s\n", dir, STATE_LOCK_FILE,
			        strerror(-r));
		log_err(NULL, "cannot start: cannot lock %s/%s: %s", dir, STATE_LOCK_FILE,
		        strerror(-r));
		return 1;
	}
	return 0;
}

int
daemon_main(const char *config_path, int debug)
{
	static const struct sched_ops ops = { daemon__run_start, daemon__sched_event };
	struct daemon *d = calloc(1, sizeof(*d));
	struct sched_clock clock;
	struct gm_err err = {{0}};
	uint64_t wd_usec = 0;
	int rc = 0, r, swept;

	if (!d)
		return 1;
	d->lock_fd = -1;
	log_setup(debug ? LOG_DEBUG : LOG_INFO, debug ? LOG_TARGET_STDERR : LOG_TARGET_AUTO);
	d->cfg_path = config_path;
	d->start_ms = time_now_ms();
	if (cfg_load_checked(config_path, &d->cfg, &err) < 0) {
		if (log_stderr_plain_ok())
			fprintf(stderr, "%s\n", err.msg);
		join_error_lines(err.msg, sizeof(err.msg));
		log_err(NULL, "cannot start: %s", err.msg);
		free(d);
		return 2;
	}
	log_set_format(d->cfg->log_format, LOG_FORMAT_FROM_CONFIG);
	log_cfg_warnings(d->cfg);
	rc = take_lock(d);
	if (rc != 0) {
		cfg_unref(d->cfg);
		free(d);
		return rc;
	}
	uv_loop_init(&d->loop);
	sched_clock_uv(&clock, &d->loop);
	d->sched = sched_new(&clock, &ops, d);
	d->http = http_new(&d->loop);
	d->accounts = enrich_accounts_new();
	d->metrics = metrics_new();
	r = ctl_new(&d->loop, d->cfg->socket, on_ctl, d, &d->ctl, &err);
	if (!d->sched || !d->http || !d->accounts || !d->metrics || r < 0) {
		if (log_stderr_plain_ok())
			fprintf(stderr, "gluemetad: %s\n", err.msg[0] ? err.msg : "cannot start");
		log_err(NULL, "cannot start: %s", err.msg[0] ? err.msg : "out of memory");
		/* a second daemon on the socket is a configuration mistake */
		rc = r == -EADDRINUSE ? 2 : 1;
		d->stopping = 1;
	}
	uv_signal_init(&d->loop, &d->sighup);
	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	uv_timer_init(&d->loop, &d->watchdog);
	uv_timer_init(&d->loop, &d->reaper);
	uv_timer_init(&d->loop, &d->stop_timer);
	uv_timer_init(&d->loop, &d->reload_timer);
	swept = state_sweep(d->cfg->state_dir);
	if (swept > 0)
		log_notice(NULL, "removed %d temporary files of interrupted writes from %s", swept,
		           d->cfg->state_dir);
	if (d->cfg->metrics_textfile &&
	    (swept = state_sweep_path(d->cfg->metrics_textfile)) > 0)
		log_notice(NULL, "removed %d temporary files of interrupted writes of %s", swept,
		           d->cfg->metrics_textfile);
	d->sighup.data = d->sigterm.data = d->sigint.data = d;
	d->watchdog.data = d->reaper.data = d->stop_timer.data = d->reload_timer.data = d;
	uv_signal_start(&d->sighup, on_signal, SIGHUP);
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	if (rc == 0) {
		sched_set_max_running(d->sched, d->cfg->max_concurrent_runs);
		check_control_group(d->cfg);
		d->clockwatch = clockwatch_new(&d->loop, on_clock_step, d);
		if (!d->clockwatch)
			log_warning(NULL, "cannot watch the wall clock: a step of it delays "
			            "fires until their timers expire");
		start_jobs(d);
		daemon__events_apply(d);
		daemon__watch_update(d);
		metrics_reload(d->metrics, 1, d->start_ms);
		daemon__metrics_workflows(d);
		daemon__metrics_write(d);
		if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000)
			uv_timer_start(&d->watchdog, on_watchdog, wd_usec / 2000, wd_usec / 2000);
		log_notice(NULL, "started: %zu workflows, socket %s", d->cfg->n_workflows,
		           d->cfg->socket);
		notify("READY=1");
		daemon__notify_status(d);
	} else {
		shutdown_finish(d);
	}
	uv_run(&d->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&d->loop) == UV_EBUSY)
		log_warning(NULL, "event loop still had handles at exit");
	cfg_unref(d->cfg);
	enrich_accounts_free(d->accounts);
	metrics_free(d->metrics);
	/* the lock goes last: until here this process still had the socket */
	close(d->lock_fd);
	free(d);
	return rc;
}
