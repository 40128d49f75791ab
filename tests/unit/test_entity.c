/* entity: pipeline and status bodies built from Glue JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "enrich.h"
#include "entity.h"
#include "util.h"
#include "wf.h"

static void
test_quote(void **state)
{
	char *s;

	(void)state;
	s = entity_quote_name("plain");
	assert_string_equal(s, "plain");
	free(s);
	s = entity_quote_name("a.b");
	assert_string_equal(s, "\"a.b\"");
	free(s);
	s = entity_quote_name("\"already.quoted\"");
	assert_string_equal(s, "\"already.quoted\"");
	free(s);
	assert_null(entity_quote_name("bad\"name"));
	s = entity_fqn2("svc.x", "wf.y");
	assert_string_equal(s, "\"svc.x\".\"wf.y\"");
	free(s);
}

static void
test_utf8_prefix(void **state)
{
	char *s;

	(void)state;
	s = entity_utf8_prefix("h\xc3\xa4llo", 2);
	assert_string_equal(s, "h\xc3\xa4");
	free(s);
	s = entity_utf8_prefix("\xe9\x9b\x86\xe8\xa8\x88", 1);
	assert_string_equal(s, "\xe9\x9b\x86");
	free(s);
	s = entity_utf8_prefix("abc", 10);
	assert_string_equal(s, "abc");
	free(s);
}

static const char *WORKFLOW =
	"{\"Name\":\"etl.sales daily\",\"Description\":\"d\",\"Graph\":{"
	"\"Nodes\":[{\"Type\":\"TRIGGER\",\"Name\":\"start\",\"UniqueId\":\"n1\"},"
	"{\"Type\":\"JOB\",\"Name\":\"load\",\"UniqueId\":\"n2\"},"
	"{\"Type\":\"CRAWLER\",\"Name\":\"crawl\",\"UniqueId\":\"n3\"}],"
	"\"Edges\":[{\"SourceId\":\"n1\",\"DestinationId\":\"n2\"},"
	"{\"SourceId\":\"n1\",\"DestinationId\":\"n3\"},"
	"{\"SourceId\":\"n1\",\"DestinationId\":\"gone\"}]}}";

static void
test_pipeline_request(void **state)
{
	cJSON *wf = cJSON_Parse(WORKFLOW), *req = NULL, *tasks, *t0, *down;
	struct gm_err err = {{0}};

	(void)state;
	assert_int_equal(entity_pipeline_request(wf, "svc", "eu-west-1", &req, &err), 0);
	assert_string_equal(cJSON_GetObjectItem(req, "name")->valuestring, "etl.sales daily");
	assert_string_equal(cJSON_GetObjectItem(req, "service")->valuestring, "svc");
	assert_string_equal(cJSON_GetObjectItem(req, "sourceUrl")->valuestring,
	                    "https://eu-west-1.console.aws.amazon.com/glue/home?region=eu-west-1"
	                    "#/v2/etl-configuration/workflows/view/etl.sales%20daily");
	tasks = cJSON_GetObjectItem(req, "tasks");
	assert_int_equal(cJSON_GetArraySize(tasks), 3);
	t0 = cJSON_GetArrayItem(tasks, 0);
	assert_string_equal(cJSON_GetObjectItem(t0, "taskType")->valuestring, "TRIGGER");
	down = cJSON_GetObjectItem(t0, "downstreamTasks");
	assert_int_equal(cJSON_GetArraySize(down), 2);      /* the dangling edge is dropped */
	assert_string_equal(cJSON_GetArrayItem(down, 0)->valuestring, "load");
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(tasks, 1), "downstreamTasks"));
	cJSON_Delete(req);
	cJSON_Delete(wf);
}

static void
test_pipeline_request_rejects_malformed(void **state)
{
	const char *bad[] = {
		"{}",
		"{\"Name\":5}",
		"{\"Name\":\"a::b\"}",
		"{\"Name\":\"x\",\"Graph\":[]}",
		"{\"Name\":\"x\",\"Graph\":{\"Nodes\":[{\"Type\":\"JOB\",\"Name\":\"j\"}]}}",
		"{\"Name\":\"x\",\"Graph\":{\"Nodes\":[],\"Edges\":[{\"SourceId\":1}]}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cJSON *wf = cJSON_Parse(bad[i]), *req = NULL;
		struct gm_err err = {{0}};

		assert_int_equal(entity_pipeline_request(wf, "svc", "eu-west-1", &req, &err), -22);
		assert_null(req);
		assert_true(err.msg[0] != '\0');
		cJSON_Delete(wf);
	}
}

/* A run with one job node whose last attempt ended in the given state. */
static cJSON *
run_with(const char *run_status, const char *job_state, int completed)
{
	char text[1024];

	snprintf(text, sizeof(text),
	         "{\"WorkflowRunId\":\"wr_1\",\"Status\":\"%s\",\"StartedOn\":1.7e9%s,"
	         "\"Graph\":{\"Nodes\":[{\"Type\":\"JOB\",\"Name\":\"j\",\"UniqueId\":\"n\","
	         "\"JobDetails\":{\"JobRuns\":[{\"Id\":\"old\",\"JobRunState\":\"FAILED\","
	         "\"StartedOn\":1699999000.5,\"CompletedOn\":1699999001},"
	         "{\"Id\":\"jr\",\"JobRunState\":\"%s\",\"StartedOn\":1700000000.25%s}]}},"
	         "{\"Type\":\"JOB\",\"Name\":\"never\",\"UniqueId\":\"m\",\"JobDetails\":{}}]}}",
	         run_status, completed ? ",\"CompletedOn\":1700000100.5" : "", job_state,
	         completed ? ",\"CompletedOn\":1.7000001E9" : "");
	return cJSON_Parse(text);
}

static void
test_status_mapping(void **state)
{
	static const struct { const char *run, *job, *want_run, *want_task; int completed; } cases[] = {
		{ "COMPLETED", "SUCCEEDED", "Successful", "Successful", 1 },
		{ "COMPLETED", "FAILED", "Failed", "Failed", 1 },
		{ "COMPLETED", "TIMEOUT", "Failed", "Failed", 1 },
		{ "COMPLETED", "ERROR", "Failed", "Failed", 1 },
		{ "COMPLETED", "EXPIRED", "Failed", "Failed", 1 },
		{ "STOPPED", "STOPPED", "Failed", "Failed", 1 },
		{ "ERROR", "SUCCEEDED", "Failed", "Successful", 1 },
		{ "RUNNING", "RUNNING", "Pending", "Pending", 0 },
		{ "RUNNING", "STARTING", "Pending", "Pending", 0 },
		{ "RUNNING", "WAITING", "Pending", "Pending", 0 },
		{ "STOPPING", "STOPPING", "Pending", "Pending", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		cJSON *run = run_with(cases[i].run, cases[i].job, cases[i].completed), *st = NULL;
		struct gm_err err = {{0}};
		const cJSON *ts, *t;

		assert_non_null(run);
		assert_int_equal(entity_pipeline_status(run, &st, &err), 0);
		assert_string_equal(cJSON_GetObjectItem(st, "executionStatus")->valuestring,
		                    cases[i].want_run);
		assert_int_equal((int64_t)cJSON_GetObjectItem(st, "timestamp")->valuedouble,
		                 1700000000000LL);
		assert_string_equal(cJSON_GetObjectItem(st, "executionId")->valuestring, "wr_1");
		ts = cJSON_GetObjectItem(st, "taskStatus");
		assert_int_equal(cJSON_GetArraySize(ts), 1);    /* "never" did not run */
		t = cJSON_GetArrayItem(ts, 0);
		assert_string_equal(cJSON_GetObjectItem(t, "name")->valuestring, "j");
		assert_string_equal(cJSON_GetObjectItem(t, "executionStatus")->valuestring,
		                    cases[i].want_task);
		assert_int_equal((int64_t)cJSON_GetObjectItem(t, "startTime")->valuedouble,
		                 1700000000250LL);
		if (cases[i].completed) {
			assert_int_equal((int64_t)cJSON_GetObjectItem(t, "endTime")->valuedouble,
			                 1700000100000LL);
			assert_non_null(cJSON_GetObjectItem(st, "endTime"));
		} else {
			assert_null(cJSON_GetObjectItem(t, "endTime"));
			assert_null(cJSON_GetObjectItem(st, "endTime"));
		}
		cJSON_Delete(st);
		cJSON_Delete(run);
	}
}

static void
test_status_rejects_malformed(void **state)
{
	const char *bad[] = { "{}", "{\"Status\":\"COMPLETED\"}",
	                      "{\"Status\":\"COMPLETED\",\"StartedOn\":\"yesterday\"}",
	                      "{\"Status\":\"COMPLETED\",\"StartedOn\":-5}",
	                      "{\"Status\":\"COMPLETED\",\"StartedOn\":1,\"Graph\":5}" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cJSON *run = cJSON_Parse(bad[i]), *st = NULL;
		struct gm_err err = {{0}};

		assert_int_equal(entity_pipeline_status(run, &st, &err), -22);
		assert_null(st);
		cJSON_Delete(run);
	}
}

static void
test_job_names(void **state)
{
	cJSON *wf = cJSON_Parse("{\"Graph\":{\"Nodes\":["
		"{\"Type\":\"TRIGGER\",\"Name\":\"t\"},{\"Type\":\"JOB\",\"Name\":\"a\"},"
		"{\"Type\":\"CRAWLER\",\"Name\":\"c\"},{\"Type\":\"JOB\",\"Name\":\"b\"},"
		"{\"Type\":\"JOB\",\"Name\":\"a\"},{\"Type\":\"JOB\",\"Name\":7},{\"Type\":\"JOB\"}]}}");
	cJSON *names = entity_job_names(wf);
	char *text = cJSON_PrintUnformatted(names);

	(void)state;
	assert_string_equal(text, "[\"a\",\"b\"]");
	free(text);
	cJSON_Delete(names);
	names = entity_job_names(NULL);
	assert_int_equal(cJSON_GetArraySize(names), 0);
	cJSON_Delete(names);
	cJSON_Delete(wf);
}

static void
test_usage_counts(void **state)
{
	/* 2026-11-30T23:59:59Z, 2026-12-01T00:00:00Z and 10:00Z */
	cJSON *st = cJSON_Parse("["
		"{\"timestamp\":1,\"taskStatus\":[{\"name\":\"a\",\"startTime\":1796083199000},"
		"{\"name\":\"b\",\"startTime\":1796083200000}]},"
		"{\"timestamp\":2,\"taskStatus\":[{\"name\":\"a\",\"startTime\":1796119200000},"
		"{\"name\":\"c\"},{\"name\":\"d\",\"startTime\":\"x\"}]},"
		"{\"timestamp\":3}]");
	cJSON *u = entity_usage_counts(st);
	char *text = cJSON_PrintUnformatted(u);

	(void)state;
	assert_string_equal(text, "[{\"date\":\"2026-11-30\",\"count\":1},"
	                          "{\"date\":\"2026-12-01\",\"count\":2}]");
	free(text);
	cJSON_Delete(u);
	cJSON_Delete(st);
}

static char *
patch_known(const char *entity, const char *tags, enum enrich_known known, const char *owner,
            const char *desc, int ovr)
{
	cJSON *e = cJSON_Parse(entity), *t = tags ? cJSON_Parse(tags) : NULL;
	cJSON *o = owner ? cJSON_Parse(owner) : NULL;
	struct enrich_want want = { t, o, known };
	cJSON *ops = enrich_patch(e, &want, desc, ovr);
	char *text = ops ? cJSON_PrintUnformatted(ops) : NULL;

	cJSON_Delete(ops);
	cJSON_Delete(e);
	cJSON_Delete(t);
	cJSON_Delete(o);
	return text;
}

/* tags from a read that completed */
static char *
patch_text(const char *entity, const char *tags, const char *owner, const char *desc, int ovr)
{
	return patch_known(entity, tags, ENRICH_KNOWN, owner, desc, ovr);
}

static void
test_patch(void **state)
{
	const char *stored = "{\"id\":\"p\",\"description\":\"set by a person\","
		"\"owners\":[{\"id\":\"u-person\",\"type\":\"user\"}],"
		"\"tags\":[{\"tagFQN\":\"PII.Sensitive\"},{\"tagFQN\":\"GlueTags.team.a\"},"
		"{\"tagFQN\":\"GlueTags.env.prod\"}]}";
	const char *want = "[{\"tagFQN\":\"GlueTags.env.prod\"}]";
	const char *owner = "{\"id\":\"u-glue\",\"type\":\"user\"}";
	char *t;

	(void)state;
	/* without override: a person's owner and description stay; the
	 * Glue tag no longer on the workflow goes, PII stays */
	t = patch_text(stored, want, owner, "from glue", 0);
	assert_string_equal(t, "[{\"op\":\"remove\",\"path\":\"/tags/1\"}]");
	free(t);
	/* with override: the source wins for owner and description */
	t = patch_text(stored, want, owner, "from glue", 1);
	assert_string_equal(t, "[{\"op\":\"remove\",\"path\":\"/tags/1\"},"
	                       "{\"op\":\"replace\",\"path\":\"/owners\",\"value\":[{\"id\":\"u-glue\","
	                       "\"type\":\"user\"}]},"
	                       "{\"op\":\"replace\",\"path\":\"/description\",\"value\":\"from glue\"}]");
	free(t);
	/* an empty owner is filled either way */
	t = patch_text("{\"id\":\"p\",\"owners\":[]}", NULL, owner, NULL, 0);
	assert_string_equal(t, "[{\"op\":\"replace\",\"path\":\"/owners\",\"value\":[{\"id\":\"u-glue\","
	                       "\"type\":\"user\"}]}]");
	free(t);
	t = patch_text("{\"id\":\"p\"}", NULL, owner, NULL, 0);
	assert_string_equal(t, "[{\"op\":\"add\",\"path\":\"/owners\",\"value\":[{\"id\":\"u-glue\","
	                       "\"type\":\"user\"}]}]");
	free(t);
	/* nothing to change */
	assert_null(patch_text("{\"id\":\"p\",\"owners\":[{\"id\":\"u-glue\",\"type\":\"user\"}],"
	                       "\"description\":\"d\",\"tags\":[{\"tagFQN\":\"GlueTags.env.prod\"}]}",
	                       want, owner, "d", 1));
	assert_null(patch_text("{\"id\":\"p\"}", NULL, NULL, "d", 0));
	/* tags unknown (GetTags failed, the account unknown, a tag lookup
	 * failed): no GlueTags label is removed, whatever the rest */
	assert_null(patch_known(stored, NULL, ENRICH_UNKNOWN, NULL, NULL, 0));
	assert_null(patch_known(stored, want, ENRICH_UNKNOWN, NULL, NULL, 0));
	t = patch_known(stored, NULL, ENRICH_UNKNOWN, owner, "from glue", 1);
	assert_string_equal(t, "[{\"op\":\"replace\",\"path\":\"/owners\",\"value\":[{\"id\":\"u-glue\","
	                       "\"type\":\"user\"}]},"
	                       "{\"op\":\"replace\",\"path\":\"/description\",\"value\":\"from glue\"}]");
	free(t);
	/* known and empty: every GlueTags label goes, PII stays */
	t = patch_known(stored, NULL, ENRICH_KNOWN, NULL, NULL, 0);
	assert_string_equal(t, "[{\"op\":\"remove\",\"path\":\"/tags/2\"},"
	                       "{\"op\":\"remove\",\"path\":\"/tags/1\"}]");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_utf8_prefix),
		cmocka_unit_test(test_pipeline_request),
		cmocka_unit_test(test_pipeline_request_rejects_malformed),
		cmocka_unit_test(test_status_mapping),
		cmocka_unit_test(test_status_rejects_malformed),
		cmocka_unit_test(test_job_names),
		cmocka_unit_test(test_usage_counts),
		cmocka_unit_test(test_patch),
	};

	return cmocka_run_group_tests_name("entity", tests, NULL, NULL);
}
