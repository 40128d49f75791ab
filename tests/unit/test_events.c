/* events' pure parts: the EventBridge envelope, SQS replies and queue
 * URLs, and the index that maps a job or crawler to workflows. */
#include <errno.h>
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

#include "eventbridge.h"
#include "evindex.h"
#include "sqs.h"

static void
test_envelope(void **state)
{
	struct glue_event ev;
	char why[128];

	(void)state;
	assert_int_equal(eventbridge_parse("{\"version\":\"0\",\"id\":\"e-1\",\"detail-type\":"
	                                   "\"Glue Job State Change\",\"source\":\"aws.glue\","
	                                   "\"account\":\"123456789012\",\"time\":"
	                                   "\"2026-12-04T10:15:30Z\",\"region\":\"us-east-1\","
	                                   "\"resources\":[],\"detail\":{\"jobName\":\"load_orders\","
	                                   "\"state\":\"SUCCEEDED\",\"extra\":[1,2]},\"new\":true}",
	                                   &ev, why, sizeof(why)), 0);
	assert_int_equal(ev.kind, GLUE_EVENT_JOB);
	assert_string_equal(ev.name, "load_orders");
	assert_string_equal(ev.state, "SUCCEEDED");
	assert_string_equal(ev.region, "us-east-1");
	assert_string_equal(ev.account, "123456789012");
	assert_string_equal(ev.id, "e-1");
	assert_int_equal(ev.time_s, 1796379330);
	assert_int_equal(eventbridge_parse("{\"detail-type\":\"Glue Crawler State Change\","
	                                   "\"source\":\"aws.glue\",\"detail\":{\"crawlerName\":"
	                                   "\"c1\",\"state\":\"Succeeded\"}}", &ev, why,
	                                   sizeof(why)), 0);
	assert_int_equal(ev.kind, GLUE_EVENT_CRAWLER);
	assert_string_equal(ev.name, "c1");
	assert_int_equal(ev.time_s, 0);
	/* tolerated, but not about a job or crawler */
	assert_int_equal(eventbridge_parse("{\"detail-type\":\"Glue Data Catalog Table State "
	                                   "Change\",\"source\":\"aws.glue\",\"detail\":{}}", &ev,
	                                   why, sizeof(why)), 0);
	assert_int_equal(ev.kind, GLUE_EVENT_OTHER);
	assert_int_equal(eventbridge_parse("{\"detail-type\":\"Glue Job State Change\",\"source\":"
	                                   "\"aws.s3\",\"detail\":{\"jobName\":\"x\"}}", &ev, why,
	                                   sizeof(why)), 0);
	assert_int_equal(ev.kind, GLUE_EVENT_OTHER);
	assert_int_equal(eventbridge_parse("{\"detail-type\":\"Glue Job State Change\",\"source\":"
	                                   "\"aws.glue\",\"detail\":{\"jobName\":\"\"}}", &ev, why,
	                                   sizeof(why)), 0);
	assert_int_equal(ev.kind, GLUE_EVENT_OTHER);
	/* hostile text is sanitized in what is shown */
	assert_int_equal(eventbridge_parse("{\"detail-type\":\"x\\u001b[31m\",\"id\":\"a\\nb\"}",
	                                   &ev, why, sizeof(why)), 0);
	assert_null(strchr(ev.detail_type, 0x1b));
	assert_null(strchr(ev.id, '\n'));
	/* not events */
	assert_int_equal(eventbridge_parse("not json", &ev, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "not JSON");
	assert_int_equal(eventbridge_parse("[1]", &ev, why, sizeof(why)), -EINVAL);
	assert_int_equal(eventbridge_parse("{\"id\":\"x\"}", &ev, why, sizeof(why)), -EINVAL);
	assert_int_equal(eventbridge_parse(NULL, &ev, why, sizeof(why)), -EINVAL);
}

static void
test_receive_reply(void **state)
{
	/* MD5 of "hello" is 5d41402abc4b2a76b9719d911017c592 */
	cJSON *j = cJSON_Parse("{\"Messages\":[{\"MessageId\":\"m1\",\"ReceiptHandle\":\"r1\","
	                       "\"MD5OfBody\":\"5d41402abc4b2a76b9719d911017c592\",\"Body\":"
	                       "\"hello\",\"Attributes\":{\"ApproximateReceiveCount\":\"3\"}},"
	                       "{\"MessageId\":\"m2\",\"ReceiptHandle\":\"r2\",\"MD5OfBody\":"
	                       "\"00000000000000000000000000000000\",\"Body\":\"hello\"}]}");
	struct sqs_received r = {0};

	(void)state;
	assert_int_equal(sqs_received_decode(j, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.bad_md5, 1);
	assert_string_equal(r.msgs[0].id, "m1");
	assert_string_equal(r.msgs[0].receipt, "r1");
	assert_int_equal(r.msgs[0].receive_count, 3);
	sqs_received_clear(&r);
	assert_null(r.msgs);
	assert_int_equal(r.n, 0);
	cJSON_Delete(j);
	j = cJSON_Parse("{}");
	assert_int_equal(sqs_received_decode(j, &r), 0);
	assert_int_equal(r.n, 0);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"Messages\":\"x\"}");
	assert_int_equal(sqs_received_decode(j, &r), -EINVAL);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"Messages\":[{\"MessageId\":\"m\"}]}");
	assert_int_equal(sqs_received_decode(j, &r), -EINVAL);
	sqs_received_clear(&r);
	cJSON_Delete(j);
}

static void
test_queue_region(void **state)
{
	char region[32];

	(void)state;
	assert_int_equal(sqs_queue_region("https://sqs.eu-west-1.amazonaws.com/123456789012/q",
	                                  region, sizeof(region)), 0);
	assert_string_equal(region, "eu-west-1");
	assert_int_equal(sqs_queue_region("https://sqs.cn-north-1.amazonaws.com.cn/1/q", region,
	                                  sizeof(region)), 0);
	assert_string_equal(region, "cn-north-1");
	assert_int_equal(sqs_queue_region("https://us-east-2.queue.amazonaws.com/1/q", region,
	                                  sizeof(region)), 0);
	assert_string_equal(region, "us-east-2");
	assert_int_equal(sqs_queue_region("http://127.0.0.1:4566/000000000000/q", region,
	                                  sizeof(region)), -ENOENT);
	assert_int_equal(sqs_queue_region("https://sqs.eu-west-1.amazonaws.com/q", region,
	                                  sizeof(region)), -EINVAL);
	assert_int_equal(sqs_queue_region("https://sqs.eu-west-1.amazonaws.com/1/q/x", region,
	                                  sizeof(region)), -EINVAL);
	assert_int_equal(sqs_queue_region("sqs.eu-west-1.amazonaws.com/1/q", region,
	                                  sizeof(region)), -EINVAL);
}

struct found {
	char v[8][64];
	size_t n;
};

static void
on_found(const char *owner, const char *wf, void *arg)
{
	struct found *f = arg;

	snprintf(f->v[f->n++], sizeof(f->v[0]), "%s/%s", owner, wf);
}

static size_t
find(const struct evindex *x, enum evindex_kind k, const char *region, const char *name,
     struct found *f)
{
	memset(f, 0, sizeof(*f));
	return evindex_find(x, k, region, name, on_found, f);
}

static void
test_index(void **state)
{
	const char *j1[] = { "load", "shared" }, *c1[] = { "crawl" }, *j2[] = { "shared" };
	const char *j3[] = { "other" };
	char dir[] = "/tmp/evindex-XXXXXX", path[64];
	struct evindex *x = evindex_new(), *y = evindex_new();
	struct found f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(evindex_begin(x, "a", "eu-west-1", 1), 0);
	assert_int_equal(evindex_set(x, "wf1", j1, 2, c1, 1), 0);
	assert_int_equal(evindex_set(x, "wf2", j2, 1, NULL, 0), 0);
	assert_int_equal(evindex_end(x), 1);
	assert_int_equal(evindex_begin(x, "b", "us-east-1", 1), 0);
	assert_int_equal(evindex_set(x, "wf9", j2, 1, NULL, 0), 0);
	assert_int_equal(evindex_end(x), 1);
	assert_int_equal(find(x, EVINDEX_JOB, "eu-west-1", "shared", &f), 2);
	assert_int_equal(find(x, EVINDEX_JOB, NULL, "shared", &f), 3);
	assert_int_equal(find(x, EVINDEX_CRAWLER, "eu-west-1", "crawl", &f), 1);
	assert_string_equal(f.v[0], "a/wf1");
	assert_int_equal(find(x, EVINDEX_JOB, "eu-west-1", "crawl", &f), 0);  /* kinds apart */
	assert_int_equal(find(x, EVINDEX_JOB, "eu-west-1", "loa", &f), 0);    /* whole names */
	/* the same again: unchanged */
	assert_int_equal(evindex_begin(x, "a", "eu-west-1", 0), 0);
	assert_int_equal(evindex_set(x, "wf1", j1, 2, c1, 1), 0);
	assert_int_equal(evindex_end(x), 0);
	/* a partial read replaces what it read and keeps the rest */
	assert_int_equal(evindex_begin(x, "a", "eu-west-1", 0), 0);
	assert_int_equal(evindex_set(x, "wf2", j3, 1, NULL, 0), 0);
	assert_int_equal(evindex_end(x), 1);
	assert_int_equal(find(x, EVINDEX_JOB, "eu-west-1", "shared", &f), 1);
	assert_int_equal(evindex_count(x, "a"), 2);
	/* a complete read replaces all: wf2 is gone from Glue */
	assert_int_equal(evindex_begin(x, "a", "eu-west-1", 1), 0);
	assert_int_equal(evindex_set(x, "wf1", j1, 2, c1, 1), 0);
	assert_int_equal(evindex_end(x), 1);
	assert_int_equal(evindex_count(x, "a"), 1);
	assert_int_equal(find(x, EVINDEX_JOB, "eu-west-1", "other", &f), 0);
	/* across a restart */
	assert_int_equal(evindex_save(x, dir), 0);
	assert_int_equal(evindex_load(y, dir), 0);
	assert_int_equal(find(y, EVINDEX_JOB, NULL, "shared", &f), 2);
	assert_int_equal(find(y, EVINDEX_CRAWLER, "eu-west-1", "crawl", &f), 1);
	evindex_forget(y, "b");
	assert_int_equal(find(y, EVINDEX_JOB, NULL, "shared", &f), 1);
	evindex_free(y);
	/* a file that is not an index */
	snprintf(path, sizeof(path), "%s/%s", dir, EVINDEX_FILE);
	{
		FILE *fh = fopen(path, "w");

		assert_non_null(fh);
		fputs("[1,2]", fh);
		fclose(fh);
	}
	y = evindex_new();
	assert_int_equal(evindex_load(y, dir), -EBADMSG);
	evindex_free(y);
	unlink(path);
	y = evindex_new();
	assert_int_equal(evindex_load(y, dir), 0);     /* none yet */
	evindex_free(y);
	rmdir(dir);
	evindex_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_receive_reply),
		cmocka_unit_test(test_queue_region),
		cmocka_unit_test(test_index),
	};

	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
