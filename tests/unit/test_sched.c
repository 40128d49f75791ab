/* sched: a fake clock and fake timers drive the schedule; the tests fire
 * the timers by hand and check the cron times, the overlap rule, the jitter
 * bounds, the queue order and the next fire after a reload. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cfg.h"
#include "cron.h"
#include "schedule.h"

struct fake_timer {
	struct sched_entry *e;
	int armed, freed;
	uint64_t delay_ms;
};

struct fake {
	int64_t now_ms;
	uint64_t rand_value;
	struct fake_timer timers[8];
	size_t n_timers;
	/* what the daemon would have done */
	char started[16][16];
	size_t n_started;
	int fail_start;
	unsigned events[4];
	struct sched *s;
};

static int64_t
fake_now(void *arg)
{
	return ((struct fake *)arg)->now_ms;
}

static uint64_t
fake_rand(void *arg)
{
	return ((struct fake *)arg)->rand_value;
}

static void *
fake_timer_new(void *arg, struct sched_entry *e)
{
	struct fake *f = arg;
	struct fake_timer *t;

	if (f->n_timers == sizeof(f->timers) / sizeof(f->timers[0]))
		return NULL;
	t = &f->timers[f->n_timers++];
	t->e = e;
	return t;
}

static void
fake_timer_start(void *timer, uint64_t delay_ms)
{
	struct fake_timer *t = timer;

	t->armed = 1;
	t->delay_ms = delay_ms;
}

static void
fake_timer_stop(void *timer)
{
	((struct fake_timer *)timer)->armed = 0;
}

static void
fake_timer_free(void *timer)
{
	((struct fake_timer *)timer)->freed = 1;
}

static int
fake_start(struct sched_entry *e, const char *trigger, void *arg)
{
	struct fake *f = arg;

	(void)trigger;
	if (f->fail_start)
		return -EIO;
	snprintf(f->started[f->n_started++], sizeof(f->started[0]), "%s",
	         (const char *)sched_entry_data(e));
	return 0;
}

static void
fake_event(struct sched_entry *e, enum sched_event ev, void *arg)
{
	(void)e;
	((struct fake *)arg)->events[ev]++;
}

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
	                 .tm_min = mi, .tm_sec = s };

	return timegm(&tm);
}

static void
workflow(struct cfg_workflow *w, char *schedule, unsigned jitter_s)
{
	char why[128] = "";

	memset(w, 0, sizeof(*w));
	w->name = (char *)"wf";
	w->schedule = schedule;
	w->timezone = (char *)"UTC";
	w->enabled = 1;
	w->jitter_s = jitter_s;
	if (cron_parse(schedule, &w->cron, why, sizeof(why)) < 0)
		fail_msg("'%s': %s", schedule, why);
}

static struct fake *
fake_new(time_t now, unsigned max_running)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sched_clock c = { fake_now, fake_rand, fake_timer_new, fake_timer_start,
	                         fake_timer_stop, fake_timer_free, NULL };
	struct sched_ops ops = { fake_start, fake_event };

	assert_non_null(f);
	c.arg = f;
	f->now_ms = (int64_t)now * 1000;
	f->s = sched_new(&c, &ops, f);
	assert_non_null(f->s);
	sched_set_max_running(f->s, max_running);
	return f;
}

static void
fake_free(struct fake *f)
{
	size_t i;

	sched_free(f->s);
	for (i = 0; i < f->n_timers; i++)
		assert_true(f->timers[i].freed);
	free(f);
}

/* Moves the clock to the armed fire time of t and lets the timer go off. */
static void
fire_timer(struct fake *f, struct fake_timer *t)
{
	assert_true(t->armed);
	f->now_ms += (int64_t)t->delay_ms;
	t->armed = 0;
	sched_entry_due(t->e);
}

static void
test_fires_at_cron_times(void **state)
{
	struct fake *f = fake_new(utc(2026, 3, 1, 10, 7, 30), 4);
	struct cfg_workflow w;
	struct sched_entry *e;

	(void)state;
	workflow(&w, "*/15 * * * *", 0);
	e = sched_entry_new(f->s, &w, (void *)"a");
	assert_non_null(e);
	assert_int_equal(sched_entry_view(e)->next_fire, 0);
	sched_entry_update(e, &w);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 10, 15, 0));
	assert_int_equal(f->timers[0].delay_ms, 7 * 60 * 1000 + 30 * 1000);
	fire_timer(f, &f->timers[0]);
	assert_int_equal(f->n_started, 1);
	assert_string_equal(f->started[0], "a");
	assert_int_equal(f->events[SCHED_FIRED], 1);
	/* re-armed for the next cron time, one-shot */
	assert_true(f->timers[0].armed);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 10, 30, 0));
	assert_int_equal(f->timers[0].delay_ms, 15 * 60 * 1000);
	sched_entry_done(e);
	fire_timer(f, &f->timers[0]);
	assert_int_equal(f->n_started, 2);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 10, 45, 0));
	fake_free(f);
}

static void
test_early_wake_waits(void **state)
{
	struct fake *f = fake_new(utc(2026, 3, 1, 10, 0, 0), 4);
	struct cfg_workflow w;
	struct sched_entry *e;

	(void)state;
	workflow(&w, "0 * * * *", 0);
	e = sched_entry_new(f->s, &w, (void *)"a");
	sched_entry_update(e, &w);
	/* the timer goes off 2 s early: nothing fires, it waits the rest */
	f->now_ms += 3600 * 1000 - 2000;
	sched_entry_due(e);
	assert_int_equal(f->n_started, 0);
	assert_true(f->timers[0].armed);
	assert_int_equal(f->timers[0].delay_ms, 2000);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 11, 0, 0));
	fire_timer(f, &f->timers[0]);
	assert_int_equal(f->n_started, 1);
	fake_free(f);
}

static void
test_overlap_skips(void **state)
{
	struct fake *f = fake_new(utc(2026, 3, 1, 10, 0, 0), 4);
	struct cfg_workflow w;
	struct sched_entry *e;

	(void)state;
	workflow(&w, "* * * * *", 0);
	e = sched_entry_new(f->s, &w, (void *)"a");
	sched_entry_update(e, &w);
	fire_timer(f, &f->timers[0]);
	assert_true(sched_entry_view(e)->running);
	assert_int_equal(sched_running(f->s), 1);
	/* still running at the next fire: skipped and counted, not queued */
	fire_timer(f, &f->timers[0]);
	assert_int_equal(f->n_started, 1);
	assert_int_equal(sched_entry_view(e)->skipped, 1);
	assert_int_equal(f->events[SCHED_SKIPPED], 1);
	assert_false(sched_entry_view(e)->queued);
	assert_true(f->timers[0].armed);
	/* a manual fire while running is refused, and is not a skipped fire */
	assert_int_equal(sched_fire(e, "manual"), -EBUSY);
	assert_int_equal(sched_entry_view(e)->skipped, 1);
	assert_int_equal(f->events[SCHED_SKIPPED], 1);
	sched_entry_done(e);
	assert_int_equal(sched_running(f->s), 0);
	assert_int_equal(sched_fire(e, "manual"), 0);
	assert_int_equal(f->n_started, 2);
	fake_free(f);
}

static void
test_queue_order(void **state)
{
	struct fake *f = fake_new(utc(2026, 3, 1, 10, 0, 0), 1);
	struct cfg_workflow w;
	struct sched_entry *a, *b, *c;

	(void)state;
	workflow(&w, "0 0 1 1 *", 0);
	a = sched_entry_new(f->s, &w, (void *)"a");
	b = sched_entry_new(f->s, &w, (void *)"b");
	c = sched_entry_new(f->s, &w, (void *)"c");
	assert_int_equal(sched_fire(a, "manual"), 0);
	assert_int_equal(sched_fire(c, "manual"), 1);
	assert_int_equal(sched_fire(b, "manual"), 1);
	assert_int_equal(f->events[SCHED_QUEUED], 2);
	assert_true(sched_entry_view(c)->queued);
	/* a fire while queued is refused too, not counted as skipped */
	assert_int_equal(sched_fire(c, "manual"), -EBUSY);
	assert_int_equal(sched_entry_view(c)->skipped, 0);
	assert_int_equal(f->events[SCHED_SKIPPED], 0);
	sched_start_queued(f->s);
	assert_int_equal(f->n_started, 1);
	sched_entry_done(a);
	sched_start_queued(f->s);
	assert_int_equal(f->n_started, 2);
	assert_string_equal(f->started[1], "c");
	sched_entry_done(c);
	sched_start_queued(f->s);
	assert_int_equal(f->n_started, 3);
	assert_string_equal(f->started[2], "b");
	assert_false(sched_entry_view(b)->queued);
	fake_free(f);
}

static void
test_removed_leaves_queue(void **state)
{
	struct fake *f = fake_new(utc(2026, 3, 1, 10, 0, 0), 1);
	struct cfg_workflow w;
	struct sched_entry *a, *b, *c;

	(void)state;
	workflow(&w, "0 0 1 1 *", 0);
	a = sched_entry_new(f->s, &w, (void *)"a");
	b = sched_entry_new(f->s, &w, (void *)"b");
	c = sched_entry_new(f->s, &w, (void *)"c");
	sched_entry_update(a, &w);
	sched_entry_update(b, &w);
	sched_entry_update(c, &w);
	assert_int_equal(sched_fire(a, "manual"), 0);
	assert_int_equal(sched_fire(b, "manual"), 1);
	assert_int_equal(sched_fire(c, "manual"), 1);
	/* the last in the queue goes: the tail must follow */
	sched_entry_update(c, NULL);
	assert_false(sched_entry_view(c)->queued);
	assert_int_equal(sched_entry_view(c)->next_fire, 0);
	assert_false(f->timers[2].armed);
	sched_entry_free(c);
	sched_entry_done(a);
	sched_start_queued(f->s);
	assert_string_equal(f->started[1], "b");
	assert_int_equal(sched_fire(a, "manual"), 1);
	sched_entry_done(b);
	sched_start_queued(f->s);
	assert_string_equal(f->started[2], "a");
	fake_free(f);
}

static void
test_failed_start_is_not_running(void **state)
{
	struct fake *f = fake_new(utc(2026, 3, 1, 10, 0, 0), 1);
	struct cfg_workflow w;
	struct sched_entry *e;

	(void)state;
	workflow(&w, "0 0 1 1 *", 0);
	e = sched_entry_new(f->s, &w, (void *)"a");
	f->fail_start = 1;
	assert_int_equal(sched_fire(e, "manual"), 0);
	assert_false(sched_entry_view(e)->running);
	assert_int_equal(sched_running(f->s), 0);
	fake_free(f);
}

static void
test_jitter_within_bounds(void **state)
{
	static const uint64_t draws[] = { 0, 1, 29, 30, 31, 12345, UINT64_MAX };
	time_t t0 = utc(2026, 3, 1, 10, 0, 5), base = utc(2026, 3, 1, 10, 1, 0);
	struct cfg_workflow w;
	size_t i;

	(void)state;
	workflow(&w, "* * * * *", 30);
	for (i = 0; i < sizeof(draws) / sizeof(draws[0]); i++) {
		struct fake *f = fake_new(t0, 1);
		struct sched_entry *e = sched_entry_new(f->s, &w, (void *)"a");
		time_t at;

		f->rand_value = draws[i];
		sched_entry_update(e, &w);
		at = sched_entry_view(e)->next_fire;
		assert_true(at >= base && at <= base + 30);
		assert_int_equal(at, base + (time_t)(draws[i] % 31));
		assert_int_equal(f->timers[0].delay_ms, (uint64_t)(at - t0) * 1000);
		fake_free(f);
	}
}

static void
test_next_fire_after_reload(void **state)
{
	struct fake *f = fake_new(utc(2026, 3, 1, 10, 0, 5), 1);
	struct cfg_workflow w, same, changed, disabled;
	struct sched_entry *e;

	(void)state;
	workflow(&w, "0 * * * *", 600);
	f->rand_value = 100;
	e = sched_entry_new(f->s, &w, (void *)"a");
	sched_entry_update(e, &w);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 11, 1, 40));
	/* an unchanged schedule keeps its fire: the jitter is not rolled anew */
	workflow(&same, "0 * * * *", 600);
	f->rand_value = 7;
	sched_entry_update(e, &same);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 11, 1, 40));
	/* a changed one is armed from now */
	workflow(&changed, "30 * * * *", 0);
	sched_entry_update(e, &changed);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 10, 30, 0));
	assert_int_equal(f->timers[0].delay_ms, (30 * 60 - 5) * 1000);
	/* a disabled one is not armed; enabled again, it is */
	workflow(&disabled, "30 * * * *", 0);
	disabled.enabled = 0;
	sched_entry_update(e, &disabled);
	assert_int_equal(sched_entry_view(e)->next_fire, 0);
	assert_false(f->timers[0].armed);
	sched_entry_update(e, &changed);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 10, 30, 0));
	/* removed, then back: armed again */
	sched_entry_update(e, NULL);
	assert_int_equal(sched_entry_view(e)->next_fire, 0);
	sched_entry_update(e, &same);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 11, 0, 7));
	fake_free(f);
}

static void
test_never_fires_and_stop(void **state)
{
	struct fake *f = fake_new(utc(2026, 3, 1, 10, 0, 0), 1);
	struct cfg_workflow w, never;
	struct sched_entry *a, *b;

	(void)state;
	workflow(&never, "0 0 30 2 *", 0);
	a = sched_entry_new(f->s, &never, (void *)"a");
	sched_entry_update(a, &never);
	assert_int_equal(f->events[SCHED_NEVER_FIRES], 1);
	assert_int_equal(sched_entry_view(a)->next_fire, 0);
	workflow(&w, "* * * * *", 0);
	b = sched_entry_new(f->s, &w, (void *)"b");
	sched_entry_update(b, &w);
	assert_int_equal(sched_fire(a, "manual"), 0);
	assert_int_equal(sched_fire(b, "manual"), 1);
	sched_stop(f->s);
	assert_false(f->timers[1].armed);
	assert_false(sched_entry_view(b)->queued);
	assert_int_equal(sched_entry_view(b)->next_fire, 0);
	/* stopping: nothing starts or is armed any more */
	sched_entry_done(a);
	sched_start_queued(f->s);
	assert_int_equal(f->n_started, 1);
	sched_entry_update(b, &w);
	assert_int_equal(sched_entry_view(b)->next_fire, 0);
	fake_free(f);
}

static void
test_longest_gap(void **state)
{
	time_t from = utc(2026, 3, 4, 10, 0, 0);        /* a Wednesday */
	struct cfg_workflow w;

	(void)state;
	workflow(&w, "*/5 * * * *", 0);
	assert_int_equal(sched_longest_gap(&w, from), 300);
	workflow(&w, "*/5 * * * *", 90);                 /* the jitter may delay a fire */
	assert_int_equal(sched_longest_gap(&w, from), 390);
	/* weekdays at 9: the weekend's gap, not a day */
	workflow(&w, "0 9 * * 1-5", 0);
	assert_int_equal(sched_longest_gap(&w, from), 3 * 86400);
	workflow(&w, "@hourly", 0);
	assert_int_equal(sched_longest_gap(&w, from), 3600);
	workflow(&w, "0 0 30 2 *", 0);                   /* never fires */
	assert_int_equal(sched_longest_gap(&w, from), 0);
	workflow(&w, "@daily", 0);
	w.enabled = 0;
	assert_int_equal(sched_longest_gap(&w, from), 0);
}

/* Clock steps: forward over two fire times fires once and arms the next
 * from the new now; back keeps the armed fire and its jitter, repeats
 * nothing; a step within the armed delay just sets the timer again. */
static void
test_clock_steps(void **state)
{
	struct fake *f = fake_new(utc(2026, 3, 1, 10, 30, 0), 4);
	struct cfg_workflow w;
	struct sched_entry *e;

	(void)state;
	workflow(&w, "0 * * * *", 120);
	f->rand_value = 7;                      /* jitter 7 s */
	e = sched_entry_new(f->s, &w, (void *)"a");
	sched_entry_update(e, &w);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 11, 0, 7));

	/* forward 2 h: 11:00 and 12:00 passed over */
	f->now_ms += 2 * 3600 * 1000;
	f->rand_value = 9;
	sched_clock_stepped(f->s);
	assert_int_equal(f->n_started, 1);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 13, 0, 9));
	assert_int_equal(f->timers[0].delay_ms, 30 * 60 * 1000 + 9 * 1000);
	sched_entry_done(e);

	/* back 1 h: the armed 13:00:09 stays, with its jitter; nothing fires */
	f->now_ms -= 3600 * 1000;
	f->rand_value = 50;
	sched_clock_stepped(f->s);
	assert_int_equal(f->n_started, 1);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 13, 0, 9));
	assert_int_equal(f->timers[0].delay_ms, 90 * 60 * 1000 + 9 * 1000);
	fire_timer(f, &f->timers[0]);
	assert_int_equal(f->n_started, 2);
	assert_int_equal(sched_entry_view(e)->next_fire, utc(2026, 3, 1, 14, 0, 50));
	fake_free(f);
}

/* Catch-up: only with catch_up, only with a recorded start, only when a
 * fire time passed since it, and the first one missed is named. */
static void
test_missed(void **state)
{
	struct fake *f = fake_new(utc(2026, 3, 2, 9, 0, 0), 4);
	struct cfg_workflow w;
	struct sched_entry *e;

	(void)state;
	workflow(&w, "30 2 * * *", 0);
	e = sched_entry_new(f->s, &w, (void *)"a");
	sched_entry_update(e, &w);
	/* last start before three fires: without catch_up, nothing */
	assert_int_equal(sched_missed(e, utc(2026, 2, 27, 2, 30, 1)), 0);
	w.catch_up = 1;
	assert_int_equal(sched_missed(e, 0), 0);                       /* no history */
	assert_int_equal(sched_missed(e, utc(2026, 2, 27, 2, 30, 1)), utc(2026, 2, 28, 2, 30, 0));
	assert_int_equal(sched_missed(e, utc(2026, 3, 2, 2, 30, 0)), 0);  /* ran at the fire */
	assert_int_equal(sched_missed(e, utc(2026, 3, 2, 2, 29, 59)), utc(2026, 3, 2, 2, 30, 0));
	w.enabled = 0;
	assert_int_equal(sched_missed(e, utc(2026, 2, 27, 2, 30, 1)), 0);
	w.enabled = 1;
	/* fired as a catch-up and queued: shown as waiting, not asked again */
	sched_set_max_running(f->s, 0);
	assert_int_equal(sched_fire(e, SCHED_CATCH_UP), 1);
	assert_true(sched_entry_view(e)->catching_up);
	assert_int_equal(sched_missed(e, utc(2026, 2, 27, 2, 30, 1)), 0);
	sched_set_max_running(f->s, 1);
	sched_start_queued(f->s);
	assert_false(sched_entry_view(e)->catching_up);
	assert_int_equal(f->n_started, 1);
	sched_entry_done(e);
	fake_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires_at_cron_times),
		cmocka_unit_test(test_early_wake_waits),
		cmocka_unit_test(test_overlap_skips),
		cmocka_unit_test(test_queue_order),
		cmocka_unit_test(test_removed_leaves_queue),
		cmocka_unit_test(test_failed_start_is_not_running),
		cmocka_unit_test(test_jitter_within_bounds),
		cmocka_unit_test(test_next_fire_after_reload),
		cmocka_unit_test(test_never_fires_and_stop),
		cmocka_unit_test(test_longest_gap),
		cmocka_unit_test(test_clock_steps),
		cmocka_unit_test(test_missed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
