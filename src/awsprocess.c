/* awsprocess — a profile's credential_process: the command run without a
 * shell (split as botocore splits it), its JSON read from stdout, with a
 * time limit and a cap on the output.  The handles belong to the fetch
 * and close before it is freed.  See include/awsauth_int.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "awsauth.h"
#include "awsauth_int.h"
#include "util.h"

#define PROCESS_TIMEOUT_MS 60000
#define PROCESS_MAX_OUTPUT 65536

/* Splits a command line as POSIX shlex does (botocore's rule): blanks
 * separate words, '...' and "..." quote, backslash escapes.  Returns a
 * NULL-terminated vector in one allocation, or NULL. */
static char **
split_command(const char *cmd)
{
	size_t len = strlen(cmd), max_words = len / 2 + 2;
	char **argv = calloc(1, (max_words + 1) * sizeof(char *) + len + 1);
	char *out = argv ? (char *)(argv + max_words + 1) : NULL;
	size_t n = 0;
	const char *s = cmd;

	if (!argv)
		return NULL;
	for (;;) {
		char q = 0;
		int word = 0;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		argv[n++] = out;
		for (; *s; s++) {
			if (q == '\'') {
				if (*s == '\'')
					q = 0;
				else
					*out++ = *s;
			} else if (q == '"') {
				if (*s == '"')
					q = 0;
				else if (*s == '\\' && (s[1] == '"' || s[1] == '\\' || s[1] == '$'))
					*out++ = *++s;
				else
					*out++ = *s;
			} else if (*s == '\'' || *s == '"') {
				q = *s;
			} else if (*s == '\\' && s[1]) {
				*out++ = *++s;
			} else if (*s == ' ' || *s == '\t' || *s == '\n') {
				break;
			} else {
				*out++ = *s;
			}
			word = 1;
		}
		(void)word;
		*out++ = '\0';
		if (q) {
			free(argv);
			return NULL;    /* unterminated quote */
		}
	}
	if (!n) {
		free(argv);
		return NULL;
	}
	argv[n] = NULL;
	return argv;
}

static void
process_handle_closed(uv_handle_t *h)
{
	struct fetch *f = h->data;

	if (--f->handles == 0 && !f->cb)
		awsauth__fetch_free(f);
}

/* Runs once the process exited and its output ended, in either order. */
static void
process_settle(struct fetch *f)
{
	char why[1400];

	if (!uv_is_closing((uv_handle_t *)&f->timer))
		uv_close((uv_handle_t *)&f->timer, process_handle_closed);
	if (f->timed_out)
		snprintf(why, sizeof(why), "credential_process of profile '%s' did not finish in %d s",
		         f->plan.profile, PROCESS_TIMEOUT_MS / 1000);
	else if (f->term_signal)
		snprintf(why, sizeof(why), "credential_process of profile '%s' was killed by signal %d",
		         f->plan.profile, f->term_signal);
	else if (f->exit_status)
		snprintf(why, sizeof(why), "credential_process of profile '%s' exited with status %lld",
		         f->plan.profile, (long long)f->exit_status);
	else {
		cJSON *j = cJSON_ParseWithLength(f->output.data ? f->output.data : "", f->output.len);
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "Version");
		int ok = cJSON_IsNumber(v) && v->valuedouble == 1;

		cJSON_Delete(j);
		if (ok && awsauth__take_json(f, f->output.data, f->output.len, f->plan.creds.source) == 0) {
			buf_wipe(&f->output);
			awsauth__base_ready(f);
			return;
		}
		snprintf(why, sizeof(why), "credential_process of profile '%s' printed no valid "
		         "credentials (want JSON with Version 1, AccessKeyId, SecretAccessKey)",
		         f->plan.profile);
	}
	buf_wipe(&f->output);
	awsauth__fetch_end(f, -EACCES, why);
}

static void
on_process_exit(uv_process_t *p, int64_t status, int sig)
{
	struct fetch *f = p->data;

	f->exited = 1;
	f->exit_status = status;
	f->term_signal = sig;
	uv_close((uv_handle_t *)p, process_handle_closed);
	if (join_done(&f->ended))
		process_settle(f);
}

static void
on_process_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char chunk[4096];

	(void)h;
	(void)hint;
	*b = uv_buf_init(chunk, sizeof(chunk));
}

static void
on_process_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct fetch *f = s->data;

	if (n > 0) {
		if (f->output.len + (size_t)n > PROCESS_MAX_OUTPUT || buf_append(&f->output, b->base, (size_t)n) < 0) {
			buf_wipe(&f->output);
			f->output.max = 1;      /* refuse the rest */
		}
		explicit_bzero(b->base, (size_t)n);
		return;
	}
	if (n < 0) {
		uv_close((uv_handle_t *)s, process_handle_closed);
		if (join_done(&f->ended))
			process_settle(f);
	}
}

static void
on_process_timeout(uv_timer_t *t)
{
	struct fetch *f = t->data;

	f->timed_out = 1;
	if (!f->exited)
		uv_process_kill(&f->proc, SIGKILL);
}

void
awsauth__start_process(struct fetch *f)
{
	uv_process_options_t o = {0};
	uv_stdio_container_t io[3];
	char **argv = split_command(f->plan.process);
	int e;

	if (!argv) {
		char why[300];

		snprintf(why, sizeof(why), "credential_process of profile '%s' is empty or has an "
		         "unterminated quote", f->plan.profile);
		awsauth__fetch_end(f, -EINVAL, why);
		return;
	}
	uv_pipe_init(f->loop, &f->out, 0);
	f->out.data = f;
	f->handles++;
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[1].data.stream = (uv_stream_t *)&f->out;
	io[2].flags = UV_INHERIT_FD;
	io[2].data.fd = 2;
	o.file = argv[0];
	o.args = argv;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = on_process_exit;
	f->proc.data = f;
	f->handles++;                   /* the process handle, closed even on failure */
	e = uv_spawn(f->loop, &f->proc, &o);
	free(argv);
	if (e < 0) {
		char why[400];

		snprintf(why, sizeof(why), "credential_process of profile '%s' cannot be started: %s",
		         f->plan.profile, uv_strerror(e));
		uv_close((uv_handle_t *)&f->out, process_handle_closed);
		uv_close((uv_handle_t *)&f->proc, process_handle_closed);
		awsauth__fetch_end(f, -ENOEXEC, why);
		return;
	}
	join_add(&f->ended, 2);         /* the exit and the end of the output */
	uv_timer_init(f->loop, &f->timer);
	f->timer.data = f;
	f->handles++;
	uv_timer_start(&f->timer, on_process_timeout, PROCESS_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&f->out, on_process_alloc, on_process_read);
}
