/* log — see include/log.h. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "util.h"

static int max_prio = LOG_INFO;
static int journal;

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

void
log_full(int priority, const struct log_ctx *ctx, const char *message_id, const char *file,
         int line, const char *func, const char *fmt, ...)
{
	char raw[2048], msg[2048], wf[256] = "", run[128] = "", f[10][2200];
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
	for (i = 0; i < n; i++) {
		iov[i].iov_base = f[i];
		iov[i].iov_len = strlen(f[i]);
	}
	(void)sd_journal_sendv(iov, n);
}
