/* metrics: the exposition text of a fresh daemon, exactly; what runs,
 * skipped fires, HTTP replies, state write errors and reloads add; the
 * histogram's cumulative buckets; label values escaped as the text format
 * asks (and sanitized first); series sorted and forgotten; and the
 * textfile's write (state_write_path()): readable by others whatever the
 * umask, nothing left beside it, and what a crash left swept at start. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "state.h"
#include "util.h"

static const struct metrics_now now0 = {
	.version = "9.8.7",
	.start_ms = 1764900000123,
	.running = 1,
	.queued = 2,
};

static char *
render(const struct metrics *m, const struct metrics_now *now)
{
	struct buf b = {0};

	assert_int_equal(metrics_render(m, now, &b), 0);
	return buf_steal(&b);
}

/* text has want as one whole line */
static void
assert_line(const char *text, const char *want)
{
	size_t n = strlen(want);
	const char *p = text;

	while ((p = strstr(p, want))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("no line '%s' in:\n%s", want, text);
}

static void
assert_no_text(const char *text, const char *unwanted)
{
	if (strstr(text, unwanted))
		fail_msg("'%s' should not be in:\n%s", unwanted, text);
}

static void
test_fresh_daemon_exactly(void **state)
{
	struct metrics *m = metrics_new();
	char *t;

	(void)state;
	assert_non_null(m);
	metrics_reload(m, 1, 1764900000456);
	t = render(m, &now0);
	assert_string_equal(t,
		"# HELP gluemetad_build_info Always 1, labelled with the version of gluemetad.\n"
		"# TYPE gluemetad_build_info gauge\n"
		"gluemetad_build_info{version=\"9.8.7\"} 1\n"
		"# HELP gluemetad_start_time_seconds When the daemon started, in seconds since the "
		"epoch.\n"
		"# TYPE gluemetad_start_time_seconds gauge\n"
		"gluemetad_start_time_seconds 1764900000.123\n"
		"# HELP gluemetad_runs_total Runs that ended, by workflow and result (success, "
		"partialSuccess, failed, interrupted); a run that could not start counts as "
		"failed.\n"
		"# TYPE gluemetad_runs_total counter\n"
		"# HELP gluemetad_run_duration_seconds Duration of the runs that ended, from start "
		"to end.\n"
		"# TYPE gluemetad_run_duration_seconds histogram\n"
		"# HELP gluemetad_last_run_timestamp_seconds When the last run of each result ended, "
		"in seconds since the epoch (from the run history across restarts).\n"
		"# TYPE gluemetad_last_run_timestamp_seconds gauge\n"
		"# HELP gluemetad_last_success_timestamp_seconds When the last successful run ended, "
		"in seconds since the epoch; absent while there was none.\n"
		"# TYPE gluemetad_last_success_timestamp_seconds gauge\n"
		"# HELP gluemetad_entities_written_total What runs wrote to OpenMetadata: pipelines, "
		"statuses, days of usage, pipelines marked deleted.\n"
		"# TYPE gluemetad_entities_written_total counter\n"
		"# HELP gluemetad_skipped_fires_total Fires skipped because the workflow was still "
		"running or queued.\n"
		"# TYPE gluemetad_skipped_fires_total counter\n"
		"# HELP gluemetad_schedule_interval_seconds Longest time between two fires of the "
		"schedule, jitter included; absent for a disabled workflow or one that never "
		"fires.\n"
		"# TYPE gluemetad_schedule_interval_seconds gauge\n"
		"# HELP gluemetad_http_requests_total HTTP attempts of ended runs by endpoint and "
		"status code; code \"error\" is a transport failure.\n"
		"# TYPE gluemetad_http_requests_total counter\n"
		"# HELP gluemetad_http_throttled_total Replies of ended runs that asked to slow down "
		"(429, 5xx, throttling errors), by endpoint.\n"
		"# TYPE gluemetad_http_throttled_total counter\n"
		"# HELP gluemetad_state_write_errors_total Run history and memo files that could not "
		"be written.\n"
		"# TYPE gluemetad_state_write_errors_total counter\n"
		"gluemetad_state_write_errors_total 0\n"
		"# HELP gluemetad_config_last_reload_successful Whether the last configuration load "
		"or reload succeeded.\n"
		"# TYPE gluemetad_config_last_reload_successful gauge\n"
		"gluemetad_config_last_reload_successful 1\n"
		"# HELP gluemetad_config_last_reload_success_timestamp_seconds When the "
		"configuration was last loaded successfully, in seconds since the epoch.\n"
		"# TYPE gluemetad_config_last_reload_success_timestamp_seconds gauge\n"
		"gluemetad_config_last_reload_success_timestamp_seconds 1764900000.456\n"
		"# HELP gluemetad_running_workflows Workflows with a run in progress.\n"
		"# TYPE gluemetad_running_workflows gauge\n"
		"gluemetad_running_workflows 1\n"
		"# HELP gluemetad_queued_workflows Workflows that fired and wait for a free run slot "
		"(max_concurrent_runs).\n"
		"# TYPE gluemetad_queued_workflows gauge\n"
		"gluemetad_queued_workflows 2\n");
	free(t);
	metrics_free(m);
	assert_null(metrics_free(NULL));
}

static void
test_a_configured_workflow_shows_zeros(void **state)
{
	struct metrics *m = metrics_new();
	char *t;

	(void)state;
	assert_int_equal(metrics_workflow_set(m, "nightly", 86400), 0);
	assert_int_equal(metrics_workflow_set(m, "off", 0), 0);       /* disabled */
	t = render(m, &now0);
	assert_line(t, "gluemetad_runs_total{workflow=\"nightly\",result=\"success\"} 0");
	assert_line(t, "gluemetad_runs_total{workflow=\"nightly\",result=\"partialSuccess\"} 0");
	assert_line(t, "gluemetad_runs_total{workflow=\"nightly\",result=\"failed\"} 0");
	assert_line(t, "gluemetad_runs_total{workflow=\"nightly\",result=\"interrupted\"} 0");
	assert_line(t, "gluemetad_run_duration_seconds_bucket{workflow=\"nightly\",le=\"+Inf\"} 0");
	assert_line(t, "gluemetad_run_duration_seconds_count{workflow=\"nightly\"} 0");
	assert_line(t, "gluemetad_entities_written_total{workflow=\"nightly\",kind=\"usage\"} 0");
	assert_line(t, "gluemetad_skipped_fires_total{workflow=\"off\"} 0");
	assert_line(t, "gluemetad_schedule_interval_seconds{workflow=\"nightly\"} 86400");
	assert_no_text(t, "gluemetad_schedule_interval_seconds{workflow=\"off\"}");
	/* no run yet: no timestamps, so no "overdue since 1970" */
	assert_no_text(t, "gluemetad_last_success_timestamp_seconds{");
	assert_no_text(t, "gluemetad_last_run_timestamp_seconds{");
	/* a load that never succeeded has no success timestamp */
	assert_line(t, "gluemetad_config_last_reload_successful 0");
	assert_no_text(t, "gluemetad_config_last_reload_success_timestamp_seconds 0");
	free(t);
	metrics_free(m);
}

static void
test_runs_and_the_histogram(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_run ok = {
		.result = "success", .started_ms = 1764900000000, .finished_ms = 1764900002500,
		.written = { [METRICS_PIPELINE] = 6, [METRICS_STATUS] = 40, [METRICS_USAGE] = 9,
		             [METRICS_DELETED] = 1 },
	};
	struct metrics_run slow = {
		.result = "failed", .started_ms = 1764900010000, .finished_ms = 1764904010000,
	};
	struct metrics_run mid = {
		.result = "success", .started_ms = 1764900100000, .finished_ms = 1764900160000,
		.written = { [METRICS_PIPELINE] = 1 },
	};
	struct metrics_run back = {         /* the clock stepped back: 0 s */
		.result = "partialSuccess", .started_ms = 1764900200000,
		.finished_ms = 1764900199000,
	};
	char *t;

	(void)state;
	assert_int_equal(metrics_run_add(m, "a", &ok), 0);
	assert_int_equal(metrics_run_add(m, "a", &slow), 0);
	assert_int_equal(metrics_run_add(m, "a", &mid), 0);
	assert_int_equal(metrics_run_add(m, "a", &back), 0);
	t = render(m, &now0);
	assert_line(t, "gluemetad_runs_total{workflow=\"a\",result=\"success\"} 2");
	assert_line(t, "gluemetad_runs_total{workflow=\"a\",result=\"partialSuccess\"} 1");
	assert_line(t, "gluemetad_runs_total{workflow=\"a\",result=\"failed\"} 1");
	assert_line(t, "gluemetad_runs_total{workflow=\"a\",result=\"interrupted\"} 0");
	/* cumulative: 0 s and 2.5 s, then 60 s (le is inclusive), 4000 s only in +Inf */
	assert_line(t, "gluemetad_run_duration_seconds_bucket{workflow=\"a\",le=\"1\"} 1");
	assert_line(t, "gluemetad_run_duration_seconds_bucket{workflow=\"a\",le=\"5\"} 2");
	assert_line(t, "gluemetad_run_duration_seconds_bucket{workflow=\"a\",le=\"30\"} 2");
	assert_line(t, "gluemetad_run_duration_seconds_bucket{workflow=\"a\",le=\"60\"} 3");
	assert_line(t, "gluemetad_run_duration_seconds_bucket{workflow=\"a\",le=\"3600\"} 3");
	assert_line(t, "gluemetad_run_duration_seconds_bucket{workflow=\"a\",le=\"+Inf\"} 4");
	assert_line(t, "gluemetad_run_duration_seconds_sum{workflow=\"a\"} 4062.500");
	assert_line(t, "gluemetad_run_duration_seconds_count{workflow=\"a\"} 4");
	/* the latest end of each result, to the millisecond */
	assert_line(t, "gluemetad_last_run_timestamp_seconds{workflow=\"a\",result=\"success\"} "
	               "1764900160.000");
	assert_line(t, "gluemetad_last_run_timestamp_seconds{workflow=\"a\",result=\"failed\"} "
	               "1764904010.000");
	assert_no_text(t, "result=\"interrupted\"} 1");
	assert_line(t, "gluemetad_last_success_timestamp_seconds{workflow=\"a\"} 1764900160.000");
	assert_line(t, "gluemetad_entities_written_total{workflow=\"a\",kind=\"pipeline\"} 7");
	assert_line(t, "gluemetad_entities_written_total{workflow=\"a\",kind=\"status\"} 40");
	assert_line(t, "gluemetad_entities_written_total{workflow=\"a\",kind=\"usage\"} 9");
	assert_line(t, "gluemetad_entities_written_total{workflow=\"a\",kind=\"deleted\"} 1");
	free(t);
	ok.result = "stopped";              /* not a result of the history */
	assert_int_equal(metrics_run_add(m, "a", &ok), -EINVAL);
	assert_int_equal(metrics_run_seen(m, "a", "weird", 1), -EINVAL);
	metrics_free(m);
}

static void
test_history_gives_timestamps_not_runs(void **state)
{
	struct metrics *m = metrics_new();
	char *t;

	(void)state;
	assert_int_equal(metrics_run_seen(m, "a", "success", 1764800000000), 0);
	assert_int_equal(metrics_run_seen(m, "a", "success", 1764700000000), 0);   /* older */
	assert_int_equal(metrics_run_seen(m, "a", "interrupted", 1764800005000), 0);
	t = render(m, &now0);
	assert_line(t, "gluemetad_last_success_timestamp_seconds{workflow=\"a\"} 1764800000.000");
	assert_line(t, "gluemetad_last_run_timestamp_seconds{workflow=\"a\",result=\"interrupted\"} "
	               "1764800005.000");
	assert_line(t, "gluemetad_runs_total{workflow=\"a\",result=\"success\"} 0");
	assert_line(t, "gluemetad_run_duration_seconds_count{workflow=\"a\"} 0");
	free(t);
	metrics_free(m);
}

static void
test_http_skipped_state_and_reload(void **state)
{
	struct metrics *m = metrics_new();
	char *t;

	(void)state;
	assert_int_equal(metrics_http_add(m, "openmetadata", 200, 5), 0);
	assert_int_equal(metrics_http_add(m, "glue", 400, 1), 0);
	assert_int_equal(metrics_http_add(m, "glue", 200, 3), 0);
	assert_int_equal(metrics_http_add(m, "glue", 0, 2), 0);
	assert_int_equal(metrics_http_add(m, "glue", 200, 4), 0);     /* a second run */
	assert_int_equal(metrics_http_throttled_add(m, "glue", 1), 0);
	assert_int_equal(metrics_http_throttled_add(m, "openmetadata", 0), 0);
	assert_int_equal(metrics_skipped_add(m, "a"), 0);
	assert_int_equal(metrics_skipped_add(m, "a"), 0);
	metrics_state_write_error(m);
	metrics_reload(m, 1, 1764900000000);
	metrics_reload(m, 0, 1764900100000);
	t = render(m, &now0);
	assert_line(t, "gluemetad_http_requests_total{endpoint=\"glue\",code=\"error\"} 2");
	assert_line(t, "gluemetad_http_requests_total{endpoint=\"glue\",code=\"200\"} 7");
	assert_line(t, "gluemetad_http_requests_total{endpoint=\"glue\",code=\"400\"} 1");
	assert_line(t, "gluemetad_http_requests_total{endpoint=\"openmetadata\",code=\"200\"} 5");
	/* sorted: endpoints by name, codes ascending with "error" (0) first */
	assert_true(strstr(t, "code=\"error\"") < strstr(t, "code=\"200\"} 7"));
	assert_true(strstr(t, "code=\"400\"") < strstr(t, "endpoint=\"openmetadata\",code"));
	assert_line(t, "gluemetad_http_throttled_total{endpoint=\"glue\"} 1");
	assert_line(t, "gluemetad_http_throttled_total{endpoint=\"openmetadata\"} 0");
	assert_line(t, "gluemetad_skipped_fires_total{workflow=\"a\"} 2");
	assert_line(t, "gluemetad_state_write_errors_total 1");
	/* the failed reload: 0, and the time of the last good one stays */
	assert_line(t, "gluemetad_config_last_reload_successful 0");
	assert_line(t, "gluemetad_config_last_reload_success_timestamp_seconds 1764900000.000");
	free(t);
	metrics_free(m);
}

static void
test_label_values_escaped(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_now now = now0;
	char *t;

	(void)state;
	/* a quote, a backslash, a newline, a byte that is not UTF-8, and
	 * non-ASCII text kept as it is */
	assert_int_equal(metrics_workflow_set(m, "we\"ird\\name\nx\xff\xc3\xa9", 60), 0);
	now.version = "1.0\"}\n# TYPE x gauge";
	t = render(m, &now);
	/* the newline, sanitized to the text \x0a, has its backslash escaped */
	assert_line(t, "gluemetad_schedule_interval_seconds{workflow=\"we\\\"ird\\\\name\\\\x0ax"
	               "\xef\xbf\xbd\xc3\xa9\"} 60");
	assert_line(t, "gluemetad_build_info{version=\"1.0\\\"}\\\\x0a# TYPE x gauge\"} 1");
	/* no line starts with what the value tried to inject */
	assert_no_text(t, "\n# TYPE x gauge");
	free(t);
	metrics_free(m);
}

static void
test_series_sorted_and_forgotten(void **state)
{
	struct metrics *m = metrics_new();
	char *t;

	(void)state;
	assert_int_equal(metrics_workflow_set(m, "zeta", 60), 0);
	assert_int_equal(metrics_workflow_set(m, "alpha", 60), 0);
	assert_int_equal(metrics_workflow_set(m, "mid", 60), 0);
	assert_int_equal(metrics_workflow_set(m, "alpha", 120), 0);   /* updated, not added */
	t = render(m, &now0);
	assert_true(strstr(t, "interval_seconds{workflow=\"alpha\"} 120") <
	            strstr(t, "interval_seconds{workflow=\"mid\"}"));
	assert_true(strstr(t, "interval_seconds{workflow=\"mid\"}") <
	            strstr(t, "interval_seconds{workflow=\"zeta\"}"));
	free(t);
	metrics_workflow_forget(m, "mid");
	metrics_workflow_forget(m, "never-there");
	t = render(m, &now0);
	assert_no_text(t, "\"mid\"");
	assert_line(t, "gluemetad_schedule_interval_seconds{workflow=\"zeta\"} 60");
	assert_line(t, "gluemetad_skipped_fires_total{workflow=\"alpha\"} 0");
	free(t);
	metrics_free(m);
}

static void
test_textfile_write(void **state)
{
	char dir[64], path[128], sub[160];
	struct stat st;
	mode_t old;
	DIR *d;
	struct dirent *e;
	char *back;
	int n = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gm-metrics-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gluemetad.prom", dir);
	old = umask(027);                    /* the unit file's UMask= */
	assert_int_equal(state_write_path(path, "a 1\n", 4, 0644), 0);
	assert_int_equal(state_write_path(path, "a 2\n", 4, 0644), 0);      /* replaced */
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	back = state_read(dir, "gluemetad.prom");
	assert_string_equal(back, "a 2\n");
	free(back);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || strstr(e->d_name, ".tmp.") != NULL;
	closedir(d);
	assert_int_equal(n, 1);             /* no temporary file left beside it */
	/* what a crash leaves beside it goes at start; other programs' files stay */
	snprintf(sub, sizeof(sub), "%s/.gluemetad.prom.tmp.4242", dir);
	assert_int_equal(state_write(dir, ".gluemetad.prom.tmp.4242", "x", 1), 0);
	assert_int_equal(state_write(dir, ".other.prom.tmp.4242", "x", 1), 0);
	assert_int_equal(state_sweep_path(path), 1);
	assert_int_equal(access(sub, F_OK), -1);
	snprintf(sub, sizeof(sub), "%s/.other.prom.tmp.4242", dir);
	assert_int_equal(unlink(sub), 0);
	/* the folder is node_exporter's: it is not made */
	snprintf(sub, sizeof(sub), "%s/missing/gluemetad.prom", dir);
	assert_int_equal(state_write_path(sub, "a 1\n", 4, 0644), -ENOENT);
	assert_int_equal(state_write_path("gluemetad.prom", "a", 1, 0644), -EINVAL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_daemon_exactly),
		cmocka_unit_test(test_a_configured_workflow_shows_zeros),
		cmocka_unit_test(test_runs_and_the_histogram),
		cmocka_unit_test(test_history_gives_timestamps_not_runs),
		cmocka_unit_test(test_http_skipped_state_and_reload),
		cmocka_unit_test(test_label_values_escaped),
		cmocka_unit_test(test_series_sorted_and_forgotten),
		cmocka_unit_test(test_textfile_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
