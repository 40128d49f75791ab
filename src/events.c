/* events — see include/events.h.  Owns the SQS client and its pool and
 * credentials, the poll, the messages waiting for their refresh, the
 * debounce and the deletes.
 *
 * A message waits in x->msgs until every refresh it asked for ended; a
 * refresh is a struct pend of one owner: its Glue workflows and the
 * messages it answers.  An owner has at most two pends: one running, one
 * gathering events (its debounce running, or due while the owner runs). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "aws.h"
#include "awsauth.h"
#include "backoff.h"
#include "cfg.h"
#include "eventbridge.h"
#include "events.h"
#include "evindex.h"
#include "http.h"
#include "log.h"
#include "sqs.h"
#include "util.h"
#include "wf.h"

#define EVENTS_WAIT_S 20                /* ReceiveMessage's WaitTimeSeconds */


/* The wait after failed polls: from a second, doubling, capped at a
 * minute.  The consumer retries for ever; a single call is not retried
 * (the client's budget is one attempt), so that status and the log say at
 * once that polling fails. */
static const struct backoff events_backoff = {
	.max_attempts = 1, .max_failures = 1, .base_ms = 1000, .cap_ms = 60000,
};
/* A poll is held EVENTS_WAIT_S by SQS: its time limit leaves room for that. */
#define EVENTS_CALL_TIMEOUT_MS ((EVENTS_WAIT_S + 15) * 1000L)

struct msg {
	struct msg *next;
	char *id, *receipt;
	unsigned refs;                  /* refreshes it waits for */
	int failed;                     /* one of them did not write */
	int64_t received_ms;
	int64_t event_s;                /* the event's time, 0 unknown */
};

enum pend_state {
	PEND_GATHERING,                 /* the debounce runs */
	PEND_DUE,                       /* due, the owner runs: wait for its end */
	PEND_RUNNING,                   /* the refresh runs */
};

struct pend {
	struct pend *next;
	char *owner;
	enum pend_state state;
	struct strlist names;           /* Glue workflows, each once */
	struct msg **msgs;
	size_t n_msgs;
	int64_t due_ms;                 /* end of the debounce */
	int64_t last_msg_ms;            /* arrival of its newest message */
};

enum poll_state {
	POLL_CREDS,                     /* waiting for credentials */
	POLL_RECEIVING,                 /* a ReceiveMessage in flight */
	POLL_BACKOFF,                   /* waiting after a failure */
	POLL_STOPPED,
};

struct events {
	struct http *h;
	const struct cfg_events *cfg;
	const struct evindex *index;
	struct events_ops ops;
	void *arg;
	struct log_ctx lg;
	struct http_pool *pool;
	struct awsauth *auth;
	struct aws_client *sqs;
	enum poll_state poll;
	uv_timer_t retry, debounce;
	int timers_open;
	struct msg *msgs;               /* waiting for their refreshes */
	struct msg *doomed;             /* to delete */
	struct sqs_delete_entry del[SQS_MAX_BATCH];
	struct msg *deleting[SQS_MAX_BATCH];
	size_t n_deleting;
	struct pend *pends;
	struct strmap last_refresh;     /* owner -> ms of the last refresh asked */
	struct events_view v;
	int stopping;
	int creds_waiting;
	void (*done)(void *arg);
	void *done_arg;
};

static void poll_next(struct events *x);
static void flush_deletes(struct events *x);

static void
msg_free(struct msg *m)
{
	if (!m)
		return;
	free(m->id);
	free(m->receipt);
	free(m);
}

static void
msgs_free(struct msg *m)
{
	while (m) {
		struct msg *next = m->next;

		msg_free(m);
		m = next;
	}
}

static void
pend_free(struct pend *p)
{
	size_t i;

	for (i = 0; i < p->names.n; i++)
		free(p->names.v[i]);
	free(p->names.v);
	free(p->msgs);
	free(p->owner);
	free(p);
}

/* Everything settled after events_stop(): free and tell. */
static void
maybe_finished(struct events *x)
{
	void (*done)(void *) = x->done;
	void *arg = x->done_arg;

	if (!x->stopping || x->poll == POLL_RECEIVING || x->n_deleting || x->creds_waiting ||
	    x->timers_open)
		return;
	while (x->pends) {
		struct pend *p = x->pends;

		x->pends = p->next;
		pend_free(p);
	}
	msgs_free(x->msgs);
	msgs_free(x->doomed);
	aws_client_free(x->sqs);
	if (x->auth)
		awsauth_free(x->auth);
	if (x->pool)
		http_pool_free(x->pool);
	strmap_clear(&x->last_refresh);
	free(x);
	if (done)
		done(arg);
}

/* Unlinks m from the waiting messages and queues it for deletion. */
static void
doom(struct events *x, struct msg *m)
{
	m->next = x->doomed;
	x->doomed = m;
	x->v.pending = x->v.pending ? x->v.pending - 1 : 0;
}

static void
unlink_msg(struct events *x, struct msg *m)
{
	struct msg **pp;

	for (pp = &x->msgs; *pp; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			m->next = NULL;
			return;
		}
}

/* A pend ended: its messages are answered (ok) or left to come back. */
static void
pend_finish(struct events *x, struct pend *p, int ok)
{
	struct pend **pp;
	int64_t now = time_now_ms();
	size_t i;

	for (pp = &x->pends; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	for (i = 0; i < p->n_msgs; i++) {
		struct msg *m = p->msgs[i];

		if (!ok)
			m->failed = 1;
		if (--m->refs)
			continue;
		unlink_msg(x, m);
		if (m->failed) {
			x->v.pending = x->v.pending ? x->v.pending - 1 : 0;
			log_info(&x->lg, "message %s stays in the queue: its refresh did not "
			         "complete; it comes back after its visibility timeout", m->id);
			msg_free(m);
			continue;
		}
		x->v.applied++;
		x->v.last_lag_s = m->event_s ? (double)now / 1000.0 - (double)m->event_s : -1;
		if (x->ops.applied)
			x->ops.applied(x->v.last_lag_s, x->arg);
		doom(x, m);
	}
	pend_free(p);
	flush_deletes(x);
}

static struct pend *
pend_of(struct events *x, const char *owner, int running)
{
	struct pend *p;

	for (p = x->pends; p; p = p->next)
		if (strcmp(p->owner, owner) == 0 && (p->state == PEND_RUNNING) == running)
			return p;
	return NULL;
}

static void arm_debounce(struct events *x);
static void pend_start(struct events *x, struct pend *p);

static void
on_debounce(uv_timer_t *t)
{
	struct events *x = t->data;
	int64_t now = time_now_ms();
	struct pend *p, *next;

	for (p = x->pends; p; p = next) {
		next = p->next;
		if (p->state == PEND_GATHERING && p->due_ms <= now)
			pend_start(x, p);
	}
	arm_debounce(x);
}

/* The debounce timer, for the pend that is due first. */
static void
arm_debounce(struct events *x)
{
	const struct pend *p;
	int64_t soonest = 0, now = time_now_ms();

	for (p = x->pends; p; p = p->next)
		if (p->state == PEND_GATHERING && (!soonest || p->due_ms < soonest))
			soonest = p->due_ms;
	uv_timer_stop(&x->debounce);
	if (!soonest || x->stopping)
		return;
	uv_update_time(x->debounce.loop);
	uv_timer_start(&x->debounce, on_debounce,
	               soonest > now ? (uint64_t)(soonest - now) : 0, 0);
}

/* Asks the daemon for the refresh of p. */
static void
pend_start(struct events *x, struct pend *p)
{
	char ms[24];
	int r;

	if (pend_of(x, p->owner, 1)) {
		p->state = PEND_DUE;            /* after the refresh running now */
		return;
	}
	r = x->ops.refresh(p->owner, (const char *const *)p->names.v, p->names.n, x->arg);
	if (r == -EBUSY) {
		p->state = PEND_DUE;
		return;
	}
	if (r < 0) {
		pend_finish(x, p, 0);
		return;
	}
	p->state = PEND_RUNNING;
	snprintf(ms, sizeof(ms), "%lld", (long long)time_now_ms());
	(void)strmap_put(&x->last_refresh, p->owner, ms);
}

static int
strlist_add_once(struct strlist *l, const char *s)
{
	char **v;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 0;
	if (!(v = realloc(l->v, (l->n + 1) * sizeof(*v))))
		return -ENOMEM;
	l->v = v;
	if (!(v[l->n] = strdup(s)))
		return -ENOMEM;
	l->n++;
	return 0;
}

/* What one message maps to, while it is being mapped. */
struct mapping {
	struct events *x;
	struct msg *m;
	int failed;
};

static void
on_target(const char *owner, const char *wf, void *arg)
{
	struct mapping *mp = arg;
	struct events *x = mp->x;
	struct pend *p = pend_of(x, owner, 0);
	struct msg **v;
	size_t i;

	if (!p) {
		if (!(p = calloc(1, sizeof(*p))) || !(p->owner = strdup(owner))) {
			free(p);
			mp->failed = 1;
			return;
		}
		p->state = PEND_GATHERING;
		p->due_ms = time_now_ms() + x->cfg->debounce_ms;
		p->next = x->pends;
		x->pends = p;
	}
	p->last_msg_ms = mp->m->received_ms;
	if (strlist_add_once(&p->names, wf) < 0) {
		mp->failed = 1;
		return;
	}
	for (i = 0; i < p->n_msgs; i++)
		if (p->msgs[i] == mp->m)
			return;
	if (!(v = realloc(p->msgs, (p->n_msgs + 1) * sizeof(*v)))) {
		mp->failed = 1;
		return;
	}
	p->msgs = v;
	v[p->n_msgs++] = mp->m;
	mp->m->refs++;
}

static void
ignore(struct events *x, struct msg *m, enum events_ignored why)
{
	x->v.ignored++;
	if (x->ops.ignored)
		x->ops.ignored(why, x->arg);
	x->v.pending++;                 /* doom() counts it down */
	doom(x, m);
}

/* One received message: mapped to refreshes, or ignored and deleted. */
static void
take_message(struct events *x, const struct sqs_message *sm)
{
	struct glue_event ev;
	struct mapping mp = { .x = x };
	struct log_ctx lg = {0};
	char why[128], id[96];
	struct msg *m;

	str_sanitize_buf(id, sizeof(id), sm->id);
	for (m = x->msgs; m; m = m->next)
		if (strcmp(m->id, sm->id) == 0) {
			/* delivered again while its refresh runs: only the newest
			 * receipt handle deletes it */
			char *rh = strdup(sm->receipt);

			if (rh) {
				free(m->receipt);
				m->receipt = rh;
			}
			log_debug(&x->lg, "message %s delivered again (receive %u)", id,
			          sm->receive_count);
			return;
		}
	if (!(m = calloc(1, sizeof(*m))) || !(m->id = strdup(sm->id)) ||
	    !(m->receipt = strdup(sm->receipt))) {
		msg_free(m);
		return;                 /* comes back after its visibility timeout */
	}
	m->received_ms = time_now_ms();
	if (eventbridge_parse(sm->body, &ev, why, sizeof(why)) < 0) {
		log_warning(&x->lg, "message %.64s is not an EventBridge event (%s); deleting it", id,
		            why);
		ignore(x, m, EVENTS_IGNORED_UNPARSEABLE);
		return;
	}
	lg.event = ev.id;
	x->v.received++;
	x->v.last_event_ms = m->received_ms;
	m->event_s = ev.time_s;
	if (x->ops.received)
		x->ops.received(ev.detail_type, x->arg);
	if (ev.kind == GLUE_EVENT_OTHER) {
		log_debug(&lg, "event %s (%s): not about a Glue job or crawler; deleting it",
		          ev.id, ev.detail_type);
		ignore(x, m, EVENTS_IGNORED_OTHER);
		return;
	}
	m->next = x->msgs;
	x->msgs = m;
	x->v.pending++;
	mp.m = m;
	(void)evindex_find(x->index, ev.kind == GLUE_EVENT_JOB ? EVINDEX_JOB : EVINDEX_CRAWLER,
	                   ev.region[0] ? ev.region : NULL, ev.name, on_target, &mp);
	str_sanitize_buf(why, sizeof(why), ev.name);
	if (mp.failed || !m->refs) {
		unlink_msg(x, m);
		x->v.pending--;
		if (mp.failed) {
			log_warning(&lg, "event %s: out of memory; it comes back", ev.id);
			/* the pends that took it wait for it: mark it failed */
			m->failed = 1;
			if (m->refs) {
				m->next = x->msgs;
				x->msgs = m;
				x->v.pending++;
			} else {
				msg_free(m);
			}
			return;
		}
		log_info(&lg, "event %s: %s '%s' %s is in no configured workflow's Glue "
		         "graph; deleting it", ev.id, ev.kind == GLUE_EVENT_JOB ? "job" : "crawler",
		         why, ev.state);
		ignore(x, m, EVENTS_IGNORED_UNMAPPED);
		return;
	}
	log_info(&lg, "event %s: %s '%s' %s; refreshing in %u ms", ev.id,
	         ev.kind == GLUE_EVENT_JOB ? "job" : "crawler", why, ev.state,
	         x->cfg->debounce_ms);
	arm_debounce(x);
}

static void
on_poll_retry(uv_timer_t *t)
{
	struct events *x = t->data;

	if (x->poll == POLL_BACKOFF)
		poll_next(x);
}

static void
poll_failed(struct events *x, const char *why)
{
	long delay;

	x->v.consecutive_errors++;
	if (strcmp(x->v.last_error, why) != 0 || x->v.consecutive_errors == 1)
		log_warning(&x->lg, "polling %s failed: %s; trying again with backoff",
		            x->cfg->queue_url, why);
	str_sanitize_buf(x->v.last_error, sizeof(x->v.last_error), why);
	delay = 1000 + backoff_delay(&events_backoff, x->v.consecutive_errors);
	x->poll = POLL_BACKOFF;
	uv_update_time(x->retry.loop);
	uv_timer_start(&x->retry, on_poll_retry, (uint64_t)delay, 0);
}

static void
on_received(struct sqs_received *res, void *arg)
{
	struct events *x = arg;
	size_t i;

	x->poll = POLL_STOPPED;
	if (x->stopping || (res && res->st.cancelled)) {
		sqs_received_free(res);
		maybe_finished(x);
		return;
	}
	if (!res || !res->st.ok) {
		poll_failed(x, res ? res->st.why : "out of memory");
		sqs_received_free(res);
		return;
	}
	x->v.last_poll_ms = time_now_ms();
	if (x->v.consecutive_errors)
		log_notice(&x->lg, "polling %s works again", x->cfg->queue_url);
	x->v.consecutive_errors = 0;
	x->v.last_error[0] = '\0';
	if (res->bad_md5)
		log_warning(&x->lg, "%zu %s whose body does not match its MD5OfBody left in the "
		            "queue", res->bad_md5, PLURAL(res->bad_md5, "message", "messages"));
	for (i = 0; i < res->n; i++)
		take_message(x, &res->msgs[i]);
	sqs_received_free(res);
	flush_deletes(x);
	poll_next(x);
}

static void
poll_next(struct events *x)
{
	if (x->stopping || x->poll == POLL_RECEIVING || x->poll == POLL_CREDS)
		return;
	x->poll = POLL_RECEIVING;
	sqs_receive(x->sqs, x->cfg->queue_url, SQS_MAX_BATCH, EVENTS_WAIT_S, on_received, x);
}

static void
on_creds(int r, const char *why, void *arg)
{
	struct events *x = arg;

	x->creds_waiting = 0;
	x->poll = POLL_STOPPED;
	if (x->stopping) {
		maybe_finished(x);
		return;
	}
	if (r < 0) {
		poll_failed(x, why ? why : "no AWS credentials");
		return;
	}
	poll_next(x);
}

static void
on_deleted(const struct sqs_status *st, struct sqs_delete_entry *e, size_t n, void *arg)
{
	struct events *x = arg;
	size_t i;

	for (i = 0; i < n; i++) {
		char id[96];

		str_sanitize_buf(id, sizeof(id), x->deleting[i]->id);
		if (st->ok && e[i].deleted) {
			x->v.deleted++;
		} else if (!st->cancelled) {
			x->v.delete_failed++;
			log_warning(&x->lg, "message %s was not deleted (%s); it comes back and is "
			            "applied again, which writes nothing new", id,
			            st->ok ? e[i].why : st->why);
		}
		msg_free(x->deleting[i]);
		x->deleting[i] = NULL;
	}
	x->n_deleting = 0;
	if (x->stopping) {
		maybe_finished(x);
		return;
	}
	flush_deletes(x);
}

static void
flush_deletes(struct events *x)
{
	size_t n = 0;

	if (x->n_deleting || !x->doomed || x->stopping)
		return;
	while (x->doomed && n < SQS_MAX_BATCH) {
		struct msg *m = x->doomed;

		x->doomed = m->next;
		x->deleting[n] = m;
		memset(&x->del[n], 0, sizeof(x->del[n]));
		x->del[n].receipt = m->receipt;
		n++;
	}
	x->n_deleting = n;
	sqs_delete_batch(x->sqs, x->cfg->queue_url, x->del, n, on_deleted, x);
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct events *x = h->data;

	x->timers_open--;
	maybe_finished(x);
}

struct events *
events_new(struct http *h, const struct cfg_events *cfg, const struct evindex *index,
           const struct events_ops *ops, void *arg, char *err, size_t err_len)
{
	struct events *x = calloc(1, sizeof(*x));
	struct gm_err e = {{0}};

	if (!x) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	x->h = h;
	x->cfg = cfg;
	x->index = index;
	x->ops = *ops;
	x->arg = arg;
	x->v.queue_url = cfg->queue_url;
	x->v.last_lag_s = -1;
	x->pool = http_pool_new(h, "sqs", 2, NULL);
	x->auth = x->pool ? awsauth_new(http_loop(h), x->pool, cfg->aws, &x->lg) : NULL;
	if (x->auth)
		x->sqs = aws_client_new(x->pool, "sqs", "AmazonSQS", cfg->region, cfg->aws->endpoint_url,
		                        awsauth_source(x->auth), &e);
	if (!x->sqs) {
		snprintf(err, err_len, "%s", e.msg[0] ? e.msg : "out of memory");
		if (x->auth)
			awsauth_free(x->auth);
		if (x->pool)
			http_pool_free(x->pool);
		free(x);
		return NULL;
	}
	aws_client_set_retry(x->sqs, &events_backoff, EVENTS_CALL_TIMEOUT_MS);
	uv_timer_init(http_loop(h), &x->retry);
	uv_timer_init(http_loop(h), &x->debounce);
	x->retry.data = x->debounce.data = x;
	x->timers_open = 2;
	x->poll = POLL_CREDS;
	x->creds_waiting = 1;
	awsauth_wait(x->auth, on_creds, x);
	return x;
}

void
events_stop(struct events *x, void (*done)(void *arg), void *arg)
{
	x->stopping = 1;
	x->done = done;
	x->done_arg = arg;
	if (x->creds_waiting)
		awsauth_cancel(x->auth);
	http_pool_cancel(x->pool);
	uv_timer_stop(&x->retry);
	uv_timer_stop(&x->debounce);
	uv_close((uv_handle_t *)&x->retry, on_timer_closed);
	uv_close((uv_handle_t *)&x->debounce, on_timer_closed);
	if (x->poll != POLL_RECEIVING)
		x->poll = POLL_STOPPED;
	maybe_finished(x);
}

void
events_run_ended(struct events *x, const char *owner, int refresh, int ok, int64_t started_ms)
{
	struct pend *p;

	if (refresh && (p = pend_of(x, owner, 1))) {
		pend_finish(x, p, ok);
	} else if (!refresh && ok && (p = pend_of(x, owner, 0)) && started_ms > p->last_msg_ms) {
		/* a full run that began after the last of them arrived read what
		 * they announced */
		log_info(&x->lg, "%zu %s for '%s' answered by its run", p->n_msgs,
		         PLURAL(p->n_msgs, "event", "events"), owner);
		pend_finish(x, p, 1);
	}
	/* the refresh that waited is asked for again at the next turn of the
	 * loop, once the run that ended has left the schedule */
	if ((p = pend_of(x, owner, 0)) && p->state == PEND_DUE) {
		p->state = PEND_GATHERING;
		p->due_ms = time_now_ms();
	}
	arm_debounce(x);
}

void
events_forget(struct events *x, const char *owner)
{
	struct pend *p;

	while ((p = pend_of(x, owner, 0)) || (p = pend_of(x, owner, 1)))
		pend_finish(x, p, 0);
	arm_debounce(x);
}

const struct events_view *
events_view(const struct events *x)
{
	return &x->v;
}

int64_t
events_last_refresh_ms(const struct events *x, const char *owner)
{
	const struct strmap_entry *e = strmap_get(&x->last_refresh, owner);

	return e && e->value ? strtoll(e->value, NULL, 10) : 0;
}
