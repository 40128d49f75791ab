/* log — see include/log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static int max_prio = LOG_INFO;

void
log_setup(int max_priority)
{
	max_prio = max_priority;
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
log_at(int priority, const char *workflow, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (priority > max_prio)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (workflow)
		fprintf(stderr, "%-6s [%s] %s\n", level_name(priority), workflow, msg);
	else
		fprintf(stderr, "%-6s %s\n", level_name(priority), msg);
}
