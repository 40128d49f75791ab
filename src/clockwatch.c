/* clockwatch — see include/clockwatch.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "clockwatch.h"
#include "util.h"

struct clockwatch {
	uv_check_t check;
	uv_poll_t poll;
	int fd;                         /* the timerfd; -1 without one */
	int closing;                    /* handles still to close */
	int64_t offset_ms;              /* wall minus monotonic, last seen */
	void (*cb)(int64_t step_ms, void *arg);
	void *arg;
};

static int64_t
offset_now(void)
{
	return time_now_ms() - (int64_t)time_mono_ms();
}

/* Compares the wall clock with the monotonic one: a difference that moved
 * by a step is told once. */
static void
look(struct clockwatch *w)
{
	int64_t now = offset_now(), step = now - w->offset_ms;

	w->offset_ms = now;
	if (step >= CLOCKWATCH_MIN_STEP_MS || step <= -CLOCKWATCH_MIN_STEP_MS)
		w->cb(step, w->arg);
}

/* Arms the timerfd far ahead: it never expires, the kernel cancels it
 * when the wall clock is set. */
static int
arm_fd(int fd)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	its.it_value.tv_sec = now.tv_sec + 10LL * 366 * 86400;
	return timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL);
}

static void
on_fd(uv_poll_t *p, int status, int events)
{
	struct clockwatch *w = p->data;
	uint64_t n;

	(void)status;
	(void)events;
	/* ECANCELED: the clock was set; anything else (EAGAIN) is no news */
	if (read(w->fd, &n, sizeof(n)) < 0 && errno == ECANCELED)
		(void)arm_fd(w->fd);
	look(w);
}

static void
on_check(uv_check_t *c)
{
	look(c->data);
}

struct clockwatch *
clockwatch_new(struct uv_loop_s *loop, void (*cb)(int64_t step_ms, void *arg), void *arg)
{
	struct clockwatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->cb = cb;
	w->arg = arg;
	w->offset_ms = offset_now();
	w->check.data = w;
	uv_check_init(loop, &w->check);
	uv_check_start(&w->check, on_check);
	uv_unref((uv_handle_t *)&w->check);
	w->closing = 1;
	/* without a timerfd (an old kernel, a sandbox), the look at each turn
	 * still sees the step, at the next wake-up */
	w->fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->fd >= 0 && (arm_fd(w->fd) < 0 || uv_poll_init(loop, &w->poll, w->fd) < 0)) {
		close(w->fd);
		w->fd = -1;
	}
	if (w->fd >= 0) {
		w->poll.data = w;
		uv_poll_start(&w->poll, UV_READABLE, on_fd);
		uv_unref((uv_handle_t *)&w->poll);
		w->closing = 2;
	}
	return w;
}

static void
on_closed(uv_handle_t *h)
{
	struct clockwatch *w = h->data;

	if (--w->closing == 0) {
		if (w->fd >= 0)
			close(w->fd);
		free(w);
	}
}

void
clockwatch_free(struct clockwatch *w)
{
	if (!w)
		return;
	uv_close((uv_handle_t *)&w->check, on_closed);
	if (w->fd >= 0)
		uv_close((uv_handle_t *)&w->poll, on_closed);
}
