/* clockwatch — tells the daemon when the wall clock was stepped (an
 * operator's `date -s`, NTP stepping, a resume from suspend), so that the
 * schedule can set its timers again from the wall clock (libuv's timers
 * count monotonic time, which a step does not move).  Two signals, no
 * polling: a timerfd armed with TFD_TIMER_CANCEL_ON_SET, which the kernel
 * cancels when CLOCK_REALTIME is set, and at each turn of the loop a look
 * at how far the wall clock moved against the monotonic one (for steps the
 * kernel does not announce: a resume, or a clock a test fakes with
 * libfaketime).  Owns its two handles. */
#ifndef GLUEMETAD_CLOCKWATCH_H
#define GLUEMETAD_CLOCKWATCH_H

#include <stdint.h>

struct uv_loop_s;
struct clockwatch;

/* A step smaller than this is drift, not a step. */
#define CLOCKWATCH_MIN_STEP_MS 1000

/* cb gets the step in milliseconds (positive: forward).  The handles do
 * not keep the loop alive.  NULL without memory or handles. */
struct clockwatch *clockwatch_new(struct uv_loop_s *loop,
                                  void (*cb)(int64_t step_ms, void *arg), void *arg);
/* Closes the handles (freed when the loop has closed them); accepts NULL. */
void clockwatch_free(struct clockwatch *w);

#endif
