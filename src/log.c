/* log — see include/log.h. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "util.h"

static int max_prio = LOG_INFO;
static int journal;
static enum log_format format = LOG_FORMAT_HUMAN;
static int format_from_command_line;

void
log_setup(int max_priority, enum log_target target)
{
	max_prio = max_priority;
	journal = target == LOG_TARGET_AUTO &&
	          (getenv("JOURNAL_STREAM") || access("/run/systemd/journal/socket", W_OK) == 0);
}

int
log_to_journal(void)
{
	return journal;
}

void
log_set_format(enum log_format f, enum log_format_source source)
{
	if (source == LOG_FORMAT_FROM_COMMAND_LINE)
		format_from_command_line = 1;
	else if (format_from_command_line)
		return;
	format = f;
}

int
log_stderr_plain_ok(void)
{
	return journal || format != LOG_FORMAT_JSON;
}

int
log_format_parse(const char *name, enum log_format *ret)
{
	if (strcmp(name, "human") == 0)
		*ret = LOG_FORMAT_HUMAN;
	else if (strcmp(name, "json") == 0)
		*ret = LOG_FORMAT_JSON;
	else
		return -EINVAL;
	return 0;
}

int
log_priority_from_name(const char *level)
{
	if (!level)
		return LOG_INFO;
	if (strcmp(level, "DEBUG") == 0)
		return LOG_DEBUG;
	if (strcmp(level, "WARN") == 0)
		return LOG_WARNING;
	if (strcmp(level, "ERROR") == 0)
		return LOG_ERR;
	return LOG_INFO;
}

static const char *
level_name(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR: return "ERROR";
	case LOG_WARNING: return "WARN";
	case LOG_NOTICE: return "NOTICE";
	case LOG_INFO: return "INFO";
	default: return "DEBUG";
	}
}

/* s as the inside of a JSON string, appended at *len of out (cap bytes,
 * NUL kept).  s was sanitized, so a control character here would be a bug;
 * it is escaped all the same.  What does not fit is dropped whole: a
 * character is never cut. */
static void
json_str(char *out, size_t cap, size_t *len, const char *s)
{
	char esc[8];
	const char *add;
	size_t n;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			esc[2] = '\0';
			add = esc;
		} else if (ch < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
			add = esc;
		} else {
			/* a UTF-8 sequence goes whole or not at all */
			n = 1;
			while ((s[n] & 0xc0) == 0x80)
				n++;
			if (*len + n + 1 > cap)
				return;
			memcpy(out + *len, s, n);
			*len += n;
			out[*len] = '\0';
			s += n - 1;
			continue;
		}
		n = strlen(add);
		if (*len + n + 1 > cap)
			return;
		memcpy(out + *len, add, n + 1);
		*len += n;
	}
}

/* ,"key":"value" */
static void
json_field(char *out, size_t cap, size_t *len, const char *key, const char *value)
{
	int n = snprintf(out + *len, cap - *len, ",\"%s\":\"", key);

	if (n < 0 || (size_t)n + 3 > cap - *len)
		return;
	*len += (size_t)n;
	json_str(out, cap - 2, len, value);
	out[(*len)++] = '"';
	out[*len] = '\0';
}

/* One line of JSON on stderr, written with one call so that lines of
 * processes sharing stderr do not interleave. */
static void
json_line(int priority, const char *msg, const char *wf, const char *run, const char *event,
          const char *message_id)
{
	char out[8192], stamp[40];
	struct timespec ts;
	struct tm tm;
	size_t len;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm))
		memset(&tm, 0, sizeof(tm));
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	len = (size_t)snprintf(out, sizeof(out), "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\"",
	                       stamp, ts.tv_nsec / 1000000, level_name(priority));
	/* room kept for the closing brace and the newline */
	json_field(out, sizeof(out) - 2, &len, "msg", msg);
	if (wf)
		json_field(out, sizeof(out) - 2, &len, "workflow", wf);
	if (run)
		json_field(out, sizeof(out) - 2, &len, "run", run);
	if (event)
		json_field(out, sizeof(out) - 2, &len, "event_id", event);
	if (message_id)
		json_field(out, sizeof(out) - 2, &len, "message_id", message_id);
	out[len++] = '}';
	out[len++] = '\n';
	(void)fwrite(out, 1, len, stderr);
}

void
log_full(int priority, const struct log_ctx *ctx, const char *message_id, const char *file,
         int line, const char *func, const char *fmt, ...)
{
	char raw[2048], msg[2048], wf[256] = "", run[128] = "", event[128] = "", f[10][2200];
	struct iovec iov[10];
	va_list ap;
	int n = 0, i;

	if (priority > max_prio)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* Every line and journal field passes here, so this is where text from
	 * outside (an error body, a Glue name, a script) is made harmless: a
	 * newline in it cannot start a record of its own, an escape sequence
	 * cannot reach a terminal, and the journal gets valid UTF-8. */
	str_sanitize_buf(msg, sizeof(msg), raw);
	if (ctx && ctx->workflow)
		str_sanitize_buf(wf, sizeof(wf), ctx->workflow);
	if (ctx && ctx->run)
		str_sanitize_buf(run, sizeof(run), ctx->run);
	if (ctx && ctx->event)
		str_sanitize_buf(event, sizeof(event), ctx->event);
	if (!journal && format == LOG_FORMAT_JSON) {
		json_line(priority, msg, ctx && ctx->workflow ? wf : NULL,
		          ctx && ctx->run ? run : NULL, ctx && ctx->event ? event : NULL, message_id);
		return;
	}
	if (!journal) {
		if (ctx && ctx->workflow)
			fprintf(stderr, "%-6s [%s] %s\n", level_name(priority), wf, msg);
		else
			fprintf(stderr, "%-6s %s\n", level_name(priority), msg);
		return;
	}
	snprintf(f[n++], sizeof(f[0]), "MESSAGE=%s", msg);
	snprintf(f[n++], sizeof(f[0]), "PRIORITY=%d", priority);
	snprintf(f[n++], sizeof(f[0]), "SYSLOG_IDENTIFIER=gluemetad");
	snprintf(f[n++], sizeof(f[0]), "CODE_FILE=%s", file);
	snprintf(f[n++], sizeof(f[0]), "CODE_LINE=%d", line);
	snprintf(f[n++], sizeof(f[0]), "CODE_FUNC=%s", func);
	if (message_id)
		snprintf(f[n++], sizeof(f[0]), "MESSAGE_ID=%s", message_id);
	if (ctx && ctx->workflow)
		snprintf(f[n++], sizeof(f[0]), "GLUEMETAD_WORKFLOW=%s", wf);
	if (ctx && ctx->run)
		snprintf(f[n++], sizeof(f[0]), "GLUEMETAD_RUN=%s", run);
	if (ctx && ctx->event)
		snprintf(f[n++], sizeof(f[0]), "GLUEMETAD_EVENT_ID=%s", event);
	for (i = 0; i < n; i++) {
		iov[i].iov_base = f[i];
		iov[i].iov_len = strlen(f[i]);
	}
	(void)sd_journal_sendv(iov, n);
}
