/* log: the lines on stderr, human and JSON.  stderr is pointed at a
 * temporary file for each test and read back; every JSON line must parse
 * (cJSON) and carry the journal record's fields, whatever the message
 * holds (quotes, backslashes, control characters, invalid UTF-8, a message
 * longer than a line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "log.h"
#include "log_ids.h"

static int saved_fd = -1;
static FILE *capture;

static int
setup(void **state)
{
	(void)state;
	fflush(stderr);
	saved_fd = dup(2);
	capture = tmpfile();
	if (saved_fd < 0 || !capture || dup2(fileno(capture), 2) < 0)
		return -1;
	log_setup(LOG_DEBUG, LOG_TARGET_STDERR);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	fclose(capture);
	log_set_format(LOG_FORMAT_HUMAN, LOG_FORMAT_FROM_COMMAND_LINE);
	return 0;
}

/* What was written to stderr since the test began (malloc'd). */
static char *
captured(void)
{
	long n;
	char *s;

	fflush(stderr);
	n = lseek(fileno(capture), 0, SEEK_END);
	assert_true(n >= 0);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(pread(fileno(capture), s, (size_t)n, 0), n);
	return s;
}

/* Line i (from 0) of text as JSON. */
static cJSON *
json_line(const char *text, int i)
{
	const char *p = text, *nl;
	char *line;
	cJSON *o;

	while (i-- > 0) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	nl = strchr(p, '\n');
	assert_non_null(nl);
	line = strndup(p, (size_t)(nl - p));
	o = cJSON_Parse(line);
	if (!o)
		fail_msg("not JSON: %s", line);
	free(line);
	return o;
}

static const char *
field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
test_json_fields(void **state)
{
	struct log_ctx ctx = { .workflow = "sales", .run = "20261205-0001" };
	struct log_ctx ev = { .event = "e-\x1b" "1" };
	cJSON *o;
	char *out;
	const char *t;

	(void)state;
	log_set_format(LOG_FORMAT_JSON, LOG_FORMAT_FROM_COMMAND_LINE);
	log_event(LOG_NOTICE, &ctx, LOG_ID_RUN_STARTED, "run %s started", ctx.run);
	log_warning(NULL, "plain");
	log_info(&ev, "an event");
	out = captured();
	o = json_line(out, 0);
	assert_string_equal(field(o, "level"), "NOTICE");
	assert_string_equal(field(o, "msg"), "run 20261205-0001 started");
	assert_string_equal(field(o, "workflow"), "sales");
	assert_string_equal(field(o, "run"), "20261205-0001");
	assert_string_equal(field(o, "message_id"), LOG_ID_RUN_STARTED);
	t = field(o, "time");
	assert_non_null(t);
	/* 2026-12-05T11:27:10.123Z */
	assert_int_equal(strlen(t), 24);
	assert_true(t[4] == '-' && t[10] == 'T' && t[19] == '.' && t[23] == 'Z');
	assert_int_equal(cJSON_GetArraySize(o), 6);
	cJSON_Delete(o);
	o = json_line(out, 1);
	assert_string_equal(field(o, "level"), "WARN");
	assert_null(field(o, "workflow"));
	assert_null(field(o, "message_id"));
	assert_int_equal(cJSON_GetArraySize(o), 3);
	cJSON_Delete(o);
	/* an event's id, sanitized */
	o = json_line(out, 2);
	assert_string_equal(field(o, "event_id"), "e-\\x1b1");
	cJSON_Delete(o);
	free(out);
}

static void
test_json_text_from_outside(void **state)
{
	struct log_ctx ctx = { .workflow = "w\"f\\1" };
	char big[6000];
	cJSON *o;
	char *out;
	const char *m;

	(void)state;
	log_set_format(LOG_FORMAT_JSON, LOG_FORMAT_FROM_COMMAND_LINE);
	log_err(&ctx, "quote \" backslash \\ newline \n tab \t esc \x1b bad \xff euro \xe2\x82\xac");
	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info(NULL, "%s", big);
	out = captured();
	o = json_line(out, 0);
	m = field(o, "msg");
	/* the sanitizer's escapes, then JSON's: one line, the text readable */
	assert_string_equal(m, "quote \" backslash \\ newline \\x0a tab \\x09 esc \\x1b bad "
	                    "\xef\xbf\xbd euro \xe2\x82\xac");
	assert_string_equal(field(o, "workflow"), "w\"f\\1");
	cJSON_Delete(o);
	/* a message longer than the line: cut, still one JSON object */
	o = json_line(out, 1);
	m = field(o, "msg");
	assert_non_null(m);
	assert_true(strlen(m) > 1000);
	assert_true(strspn(m, "\"") == strlen(m));
	cJSON_Delete(o);
	assert_null(strchr(strchr(strchr(out, '\n') + 1, '\n') + 1, '\n'));
	free(out);
}

static void
test_command_line_wins_and_human_default(void **state)
{
	char *out;

	(void)state;
	log_set_format(LOG_FORMAT_HUMAN, LOG_FORMAT_FROM_COMMAND_LINE);
	log_set_format(LOG_FORMAT_JSON, LOG_FORMAT_FROM_CONFIG);
	log_notice(NULL, "stays human");
	out = captured();
	assert_string_equal(out, "NOTICE stays human\n");
	free(out);
}

static void
test_parse(void **state)
{
	enum log_format f = LOG_FORMAT_HUMAN;

	(void)state;
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("human", &f), 0);
	assert_int_equal(f, LOG_FORMAT_HUMAN);
	assert_int_equal(log_format_parse("JSON", &f), -22);
	assert_int_equal(log_format_parse("", &f), -22);
	assert_int_equal(f, LOG_FORMAT_HUMAN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_json_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_text_from_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_line_wins_and_human_default, setup,
		                                teardown),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
