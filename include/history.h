/* history — the run history of the daemon's workflows: the last
 * HISTORY_MAX runs of each, kept in memory by the daemon and saved to
 * state_dir/history.json (crash-safe, through state_write()) after every
 * run.  The file is
 *   {"workflows": {NAME: [RUN, ...], ...}, "version": 1}
 * with each workflow's runs oldest first.  A run whose state (its memo, the
 * history itself) could not be written has "state_error", and its
 * "result" reads "success (state not saved: REASON)" (history_run_result()),
 * in the file as on the control socket: whoever compares the result with
 * "success" does not take such a run for one.  Stored messages are sanitized
 * text (str_sanitize_buf(), util.h) whether they come from a run or from a
 * file an older version wrote.  history_ does not log: it returns errors
 * and the daemon reports them. */
#ifndef GLUEMETAD_HISTORY_H
#define GLUEMETAD_HISTORY_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define HISTORY_MAX 50
#define HISTORY_FILE "history.json"

/* One finished run.  Plain value type: the strings are NUL-terminated and
 * sanitized. */
struct history_run {
	char id[40];
	char trigger[12];               /* schedule | manual */
	char result[16];                /* success partialSuccess failed interrupted */
	int64_t started_ms, finished_ms;
	unsigned long records, warnings, errors, filtered, pipelines, statuses, deleted;
	char message[256];
	/* why the run's state was not saved ("history.json: Is a directory"),
	 * sanitized; empty when it was */
	char state_error[160];
};

/* The runs of one workflow, oldest first.  name is borrowed (the owner of
 * the history keeps it alive); embed the struct and zero it to start,
 * history_clear() it at the end.  The runs take memory as they come (a
 * thousand workflows without history take none). */
struct history {
	const char *name;
	struct history_run *runs;       /* n of them, room for cap */
	size_t n, cap;
};

/* A zeroed slot at the end of h, dropping the oldest run when full; valid
 * until the next push.  NULL without memory. */
struct history_run *history_push(struct history *h);
/* Frees h's runs; h is empty again. */
void history_clear(struct history *h);

/* The result of r as shown (status, history, the run-finished log line):
 * r->result, followed by " (state not saved: REASON)" when r->state_error
 * is set.  Into out (n bytes, NUL-terminated, cut when too small). */
void history_run_result(const struct history_run *r, char *out, size_t n);

/* Appends r as a JSON object to the array arr (the format of the file and
 * of the control socket's replies); nothing without memory. */
void history_run_to_json(struct cJSON *arr, const struct history_run *r);

/* Writes the histories all[0..n-1] to dir/HISTORY_FILE, replacing it.  0
 * or a negative errno (-ENOMEM without memory). */
int history_save(const char *dir, const struct history *const *all, size_t n);

/* Appends the runs saved for h->name in dir/HISTORY_FILE to h, each
 * run's result without the suffix history_run_result() added.  0 when they
 * were read, or when there is no file yet or no entry for the workflow;
 * -EBADMSG when the file is not JSON (truncated, corrupt): h gets nothing
 * and the next history_save() replaces the file; another negative errno
 * when it cannot be read. */
int history_load(const char *dir, struct history *h);

#endif
