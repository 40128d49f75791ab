/* log — the one door for messages.  stderr for now: one line per event,
 * "LEVEL [workflow] message".  Secrets are never passed here. */
#ifndef GLUEMETAD_LOG_H
#define GLUEMETAD_LOG_H

#include <syslog.h>

/* max_priority: LOG_DEBUG shows everything, LOG_ERR only errors. */
void log_setup(int max_priority);
/* Priority for an OpenMetadata loggerLevel (DEBUG, INFO, WARN, ERROR). */
int log_priority_from_name(const char *level);
void log_at(int priority, const char *workflow, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(wf, ...) log_at(LOG_ERR, wf, __VA_ARGS__)
#define log_warning(wf, ...) log_at(LOG_WARNING, wf, __VA_ARGS__)
#define log_notice(wf, ...) log_at(LOG_NOTICE, wf, __VA_ARGS__)
#define log_info(wf, ...) log_at(LOG_INFO, wf, __VA_ARGS__)
#define log_debug(wf, ...) log_at(LOG_DEBUG, wf, __VA_ARGS__)

#endif
