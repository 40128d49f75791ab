/* sched — see include/schedule.h.  Owns the fire times, the timers, the
 * overlap rule, the jitter and the run queue; what a run is, is the
 * daemon's business (sched_ops). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cfg.h"
#include "cron.h"
#include "schedule.h"
#include "util.h"

struct sched_entry {
	struct sched *s;
	struct sched_entry *next;       /* every entry of s */
	struct sched_entry *qnext;      /* the queue */
	const struct cfg_workflow *w;   /* NULL: gone from the configuration */
	void *data;
	void *timer;
	struct sched_view v;            /* what the daemon shows of it */
	int yields;                     /* its run gives way to a timer fire */
	int deferred;                   /* a timer fire waits for that run's end */
	char trigger[12];               /* of the fire that queued it */
};

struct sched {
	struct sched_clock clock;
	struct sched_ops ops;
	void *arg;
	struct sched_entry *entries;
	struct sched_entry *q_head, *q_tail;
	unsigned running, max_running;
	int stopping;
};

struct sched *
sched_new(const struct sched_clock *clock, const struct sched_ops *ops, void *arg)
{
	struct sched *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->clock = *clock;
	s->ops = *ops;
	s->arg = arg;
	s->max_running = 1;
	return s;
}

struct sched *
sched_free(struct sched *s)
{
	if (!s)
		return NULL;
	while (s->entries)
		sched_entry_free(s->entries);
	free(s);
	return NULL;
}

void
sched_set_max_running(struct sched *s, unsigned n)
{
	s->max_running = n;
}

unsigned
sched_running(const struct sched *s)
{
	return s->running;
}

static void
event(struct sched_entry *e, enum sched_event ev)
{
	if (e->s->ops.event)
		e->s->ops.event(e, ev, e->s->arg);
}

static void
start(struct sched_entry *e, const char *trigger)
{
	struct sched *s = e->s;

	e->v.running = 1;
	e->v.catching_up = 0;
	s->running++;
	if (s->ops.start(e, trigger, s->arg) < 0) {
		e->v.running = 0;
		s->running--;
	}
}

static void
enqueue(struct sched_entry *e)
{
	struct sched *s = e->s;

	e->v.queued = 1;
	e->v.catching_up = strcmp(e->trigger, SCHED_CATCH_UP) == 0;
	e->qnext = NULL;
	if (s->q_tail)
		s->q_tail->qnext = e;
	else
		s->q_head = e;
	s->q_tail = e;
}

static void
unqueue(struct sched_entry *e)
{
	struct sched *s = e->s;
	struct sched_entry **pp, *q;

	if (!e->v.queued)
		return;
	for (pp = &s->q_head; *pp; pp = &(*pp)->qnext)
		if (*pp == e) {
			*pp = e->qnext;
			break;
		}
	s->q_tail = NULL;
	for (q = s->q_head; q; q = q->qnext)
		s->q_tail = q;
	e->v.queued = 0;
	e->v.catching_up = 0;
	e->qnext = NULL;
}

void
sched_start_queued(struct sched *s)
{
	while (!s->stopping && s->q_head && s->running < s->max_running) {
		struct sched_entry *e = s->q_head;

		s->q_head = e->qnext;
		if (!s->q_head)
			s->q_tail = NULL;
		e->v.queued = 0;
		e->qnext = NULL;
		if (e->w)
			start(e, e->trigger);
	}
}

static void
disarm(struct sched_entry *e)
{
	e->s->clock.timer_stop(e->timer);
	e->v.next_fire = 0;
}

void
sched_stop(struct sched *s)
{
	struct sched_entry *e;

	s->stopping = 1;
	for (e = s->entries; e; e = e->next) {
		disarm(e);
		e->v.queued = 0;
		e->v.catching_up = 0;
		e->qnext = NULL;
	}
	s->q_head = s->q_tail = NULL;
}

/* Arms the timer for the first fire after `after` (or now, if later). */
static void
arm(struct sched_entry *e, time_t after)
{
	struct sched *s = e->s;
	const struct cfg_workflow *w = e->w;
	time_t next, now = (time_t)(s->clock.now_ms(s->clock.arg) / 1000);
	int64_t delay;

	disarm(e);
	if (!w || !w->enabled || s->stopping)
		return;
	if (cron_next(&w->cron, w->timezone, after > now ? after : now, &next) < 0) {
		event(e, SCHED_NEVER_FIRES);
		return;
	}
	if (w->jitter_s)
		next += (time_t)(s->clock.rand(s->clock.arg) % (w->jitter_s + 1));
	e->v.next_fire = next;
	delay = (int64_t)next * 1000 - s->clock.now_ms(s->clock.arg);
	s->clock.timer_start(e->timer, delay > 0 ? (uint64_t)delay : 0);
}

int64_t
sched_longest_gap(const struct cfg_workflow *w, time_t from)
{
	time_t t[SCHED_GAP_FIRES];
	int64_t gap = 0;
	size_t n, i;

	if (!w->enabled)
		return 0;
	n = cron_next_n(&w->cron, w->timezone, from, t, SCHED_GAP_FIRES);
	for (i = 1; i < n; i++)
		if ((int64_t)(t[i] - t[i - 1]) > gap)
			gap = (int64_t)(t[i] - t[i - 1]);
	return gap ? gap + (int64_t)w->jitter_s : 0;
}

struct sched_entry *
sched_entry_new(struct sched *s, const struct cfg_workflow *w, void *data)
{
	struct sched_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->s = s;
	e->w = w;
	e->data = data;
	e->timer = s->clock.timer_new(s->clock.arg, e);
	if (!e->timer) {
		free(e);
		return NULL;
	}
	e->next = s->entries;
	s->entries = e;
	return e;
}

void
sched_entry_free(struct sched_entry *e)
{
	struct sched_entry **pp;

	if (!e)
		return;
	unqueue(e);
	for (pp = &e->s->entries; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	e->s->clock.timer_stop(e->timer);
	e->s->clock.timer_free(e->timer);
	free(e);
}

/* Whether a new workflow entry leaves the armed fire as it is. */
static int
same_schedule(const struct cfg_workflow *a, const struct cfg_workflow *b)
{
	return a && b && a->schedule && b->schedule && strcmp(a->schedule, b->schedule) == 0 &&
	       a->jitter_s == b->jitter_s && a->enabled == b->enabled &&
	       (a->timezone ? b->timezone && strcmp(a->timezone, b->timezone) == 0 : !b->timezone);
}

void
sched_entry_update(struct sched_entry *e, const struct cfg_workflow *w)
{
	const struct cfg_workflow *old = e->w;

	e->w = w;
	if (!w) {
		disarm(e);
		unqueue(e);
		return;
	}
	if (!e->v.next_fire || !same_schedule(old, w))
		arm(e, 0);
}

int
sched_fire(struct sched_entry *e, const char *trigger)
{
	struct sched *s = e->s;

	if (e->v.running || e->v.queued)
		return -EBUSY;
	snprintf(e->trigger, sizeof(e->trigger), "%s", trigger);
	if (s->running >= s->max_running) {
		enqueue(e);
		event(e, SCHED_QUEUED);
		return 1;
	}
	start(e, trigger);
	return 0;
}

void
sched_entry_due(struct sched_entry *e)
{
	struct sched *s = e->s;
	int64_t now = s->clock.now_ms(s->clock.arg);
	time_t fired = e->v.next_fire;

	if (fired && now < (int64_t)fired * 1000) {
		/* woke early (timer rounding, clock stepped): wait the rest */
		s->clock.timer_start(e->timer, (uint64_t)((int64_t)fired * 1000 - now));
		return;
	}
	e->v.next_fire = 0;
	if (sched_fire(e, "schedule") == -EBUSY) {
		if (e->yields && e->v.running) {
			e->deferred = 1;        /* runs when the yielding run ends */
		} else {
			e->v.skipped++;
			event(e, SCHED_SKIPPED);
		}
	}
	arm(e, fired);
	event(e, SCHED_FIRED);
}

time_t
sched_missed(const struct sched_entry *e, time_t last_start)
{
	const struct cfg_workflow *w = e->w;
	time_t now = (time_t)(e->s->clock.now_ms(e->s->clock.arg) / 1000), missed;

	if (!w || !w->enabled || !w->catch_up || last_start <= 0 || e->s->stopping ||
	    e->v.running || e->v.queued)
		return 0;
	if (cron_next(&w->cron, w->timezone, last_start, &missed) < 0 || missed > now)
		return 0;
	return missed;
}

void
sched_clock_stepped(struct sched *s)
{
	struct sched_entry *e, *next;
	int64_t now = s->clock.now_ms(s->clock.arg);

	for (e = s->entries; e; e = next) {
		next = e->next;
		if (!e->v.next_fire)
			continue;
		if ((int64_t)e->v.next_fire * 1000 <= now)
			sched_entry_due(e);     /* passed over: fires once, armed anew */
		else
			s->clock.timer_start(e->timer, (uint64_t)((int64_t)e->v.next_fire * 1000 - now));
	}
}

void
sched_entry_yields(struct sched_entry *e)
{
	if (e->v.running)
		e->yields = 1;
}

void
sched_entry_done(struct sched_entry *e)
{
	if (!e->v.running)
		return;
	e->v.running = 0;
	e->yields = 0;
	e->s->running--;
	if (e->deferred) {
		e->deferred = 0;
		if (e->w && !e->s->stopping) {
			snprintf(e->trigger, sizeof(e->trigger), "schedule");
			enqueue(e);
			event(e, SCHED_QUEUED);
		}
	}
}

void *
sched_entry_data(const struct sched_entry *e)
{
	return e->data;
}

const struct sched_view *
sched_entry_view(const struct sched_entry *e)
{
	return &e->v;
}

static int64_t
real_now_ms(void *arg)
{
	(void)arg;
	return time_now_ms();
}

static uint64_t
real_rand(void *arg)
{
	(void)arg;
	return rand_u64();
}

static void
real_timer_fired(uv_timer_t *t)
{
	sched_entry_due(t->data);
}

static void *
real_timer_new(void *arg, struct sched_entry *e)
{
	uv_timer_t *t = malloc(sizeof(*t));

	if (!t)
		return NULL;
	uv_timer_init(arg, t);
	t->data = e;
	return t;
}

static void
real_timer_start(void *timer, uint64_t delay_ms)
{
	uv_timer_t *t = timer;

	/* uv_timer_start() counts from the loop's cached now, which may be old */
	uv_update_time(t->loop);
	uv_timer_start(t, real_timer_fired, delay_ms, 0);
}

static void
real_timer_stop(void *timer)
{
	uv_timer_stop(timer);
}

static void
real_timer_closed(uv_handle_t *h)
{
	free(h);
}

static void
real_timer_free(void *timer)
{
	uv_close(timer, real_timer_closed);
}

void
sched_clock_uv(struct sched_clock *ret, struct uv_loop_s *loop)
{
	*ret = (struct sched_clock){
		.now_ms = real_now_ms, .rand = real_rand, .timer_new = real_timer_new,
		.timer_start = real_timer_start, .timer_stop = real_timer_stop,
		.timer_free = real_timer_free, .arg = loop,
	};
}
