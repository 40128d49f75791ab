/* log — the one door for messages.  To the journal (sd_journal_sendv) with
 * structured fields when running under systemd or when the journal socket
 * is there and stderr was not asked for; else one line per event on
 * stderr: "LEVEL [workflow] message", or with the JSON format one JSON
 * object a line (time in RFC 3339, level, msg, workflow, run, message_id:
 * the journal record's fields), which a container's log pipeline parses.
 * The message and the fields go
 * through str_sanitize_buf() (util.h), so whatever they quote is one line
 * of valid UTF-8 without control characters.  Secrets are never passed
 * here. */
#ifndef GLUEMETAD_LOG_H
#define GLUEMETAD_LOG_H

#include <syslog.h>

/* What a message is about; both members may be NULL. */
struct log_ctx {
	const char *workflow;       /* GLUEMETAD_WORKFLOW= */
	const char *run;            /* GLUEMETAD_RUN= */
	const char *event;          /* GLUEMETAD_EVENT_ID=: an EventBridge event's id */
};

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_AUTO };
/* How a line on stderr looks; the journal keeps its own fields either way. */
enum log_format { LOG_FORMAT_HUMAN, LOG_FORMAT_JSON };
/* Who chose the format: the command line's choice outlasts the
 * configuration's (log_format:, set again at each reload). */
enum log_format_source { LOG_FORMAT_FROM_CONFIG, LOG_FORMAT_FROM_COMMAND_LINE };

/* max_priority: LOG_DEBUG shows everything, LOG_ERR only errors. */
void log_setup(int max_priority, enum log_target target);
int log_to_journal(void);
/* Sets the format of stderr lines, unless the command line set one and
 * source is the configuration. */
void log_set_format(enum log_format format, enum log_format_source source);
/* Whether a plain line for a person may go to stderr beside the log (the
 * daemon's start-up errors): not when stderr carries JSON lines, which a
 * log pipeline reads one object a line. */
int log_stderr_plain_ok(void);
/* "human" or "json": 0 with *ret, or -EINVAL. */
int log_format_parse(const char *name, enum log_format *ret);
/* Priority for an OpenMetadata loggerLevel (DEBUG, INFO, WARN, ERROR). */
int log_priority_from_name(const char *level);
/* message_id: one of log_ids.h, or NULL. */
void log_full(int priority, const struct log_ctx *ctx, const char *message_id, const char *file,
              int line, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

#define log_at(prio, ctx, ...) log_full(prio, ctx, NULL, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_event(prio, ctx, id, ...) log_full(prio, ctx, id, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_err(ctx, ...) log_at(LOG_ERR, ctx, __VA_ARGS__)
#define log_warning(ctx, ...) log_at(LOG_WARNING, ctx, __VA_ARGS__)
#define log_notice(ctx, ...) log_at(LOG_NOTICE, ctx, __VA_ARGS__)
#define log_info(ctx, ...) log_at(LOG_INFO, ctx, __VA_ARGS__)
#define log_debug(ctx, ...) log_at(LOG_DEBUG, ctx, __VA_ARGS__)

#endif
