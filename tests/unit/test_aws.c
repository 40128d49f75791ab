/* aws: error parsing against AWS's own protocol tests (awsJson1_1 output
 * cases in ../shared/aws-protocol-tests), retry classification, endpoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "aws.h"
#include "awsauth.h"
#include "backoff.h"
#include "om.h"
#include "util.h"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static const char *
header_ci(const cJSON *headers, const char *name)
{
	const cJSON *h;

	cJSON_ArrayForEach(h, headers)
		if (strcasecmp(h->string, name) == 0 && cJSON_IsString(h))
			return h->valuestring;
	return NULL;
}

static void
test_protocol_error_cases(void **state)
{
	char *text = slurp(SHARED_DIR "/aws-protocol-tests/output/json.json");
	cJSON *suites, *suite, *c;
	int checked = 0;

	(void)state;
	assert_non_null(text);
	suites = cJSON_Parse(text);
	assert_true(cJSON_IsArray(suites));
	cJSON_ArrayForEach(suite, suites) {
		cJSON_ArrayForEach(c, cJSON_GetObjectItem(suite, "cases")) {
			const cJSON *code = cJSON_GetObjectItem(c, "errorCode");
			const cJSON *msg = cJSON_GetObjectItem(c, "errorMessage");
			const cJSON *resp = cJSON_GetObjectItem(c, "response");
			const cJSON *body = cJSON_GetObjectItem(resp, "body");
			char got_code[128], got_msg[256];

			if (!cJSON_IsString(code))
				continue;
			aws_parse_error((long)cJSON_GetObjectItem(resp, "status_code")->valuedouble,
			                cJSON_IsString(body) ? body->valuestring : "",
			                header_ci(cJSON_GetObjectItem(resp, "headers"), "X-Amzn-Errortype"),
			                got_code, sizeof(got_code), got_msg, sizeof(got_msg));
			if (strcmp(got_code, code->valuestring) != 0)
				fail_msg("%s: code '%s', expected '%s'",
				         cJSON_GetObjectItem(c, "id")->valuestring, got_code, code->valuestring);
			if (cJSON_IsString(msg) && strcmp(got_msg, msg->valuestring) != 0)
				fail_msg("%s: message '%s', expected '%s'",
				         cJSON_GetObjectItem(c, "id")->valuestring, got_msg, msg->valuestring);
			checked++;
		}
	}
	assert_int_equal(checked, 12);  /* every error case of the suite */
	cJSON_Delete(suites);
	free(text);
}

static void
test_error_fallbacks(void **state)
{
	char code[64], msg[64];

	(void)state;
	aws_parse_error(503, "<html>Service Unavailable</html>", NULL, code, sizeof(code), msg,
	                sizeof(msg));
	assert_string_equal(code, "503");
	assert_string_equal(msg, "");
	aws_parse_error(400, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}",
	                "ThrottlingException", code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "ThrottlingException");
	assert_string_equal(msg, "Rate exceeded");
	/* a message longer than the buffer is cut, not overflowed */
	aws_parse_error(400, "{\"__type\":\"X\",\"Message\":\"0123456789012345678901234567890123456789"
	                "0123456789012345678901234567890123456789\"}", NULL, code, sizeof(code),
	                msg, sizeof(msg));
	assert_int_equal(strlen(msg), sizeof(msg) - 1);
}

static void
test_retry_classes(void **state)
{
	(void)state;
	assert_true(aws_error_is_throttling("ThrottlingException"));
	assert_true(aws_error_is_throttling("Throttling"));
	assert_false(aws_error_is_throttling("EntityNotFoundException"));
	assert_true(aws_error_is_transient(500, "InternalServiceException"));
	assert_true(aws_error_is_transient(503, "503"));
	assert_false(aws_error_is_transient(400, "InvalidInputException"));
	assert_false(aws_error_is_transient(400, NULL));
}

static void
test_endpoints(void **state)
{
	char *e;

	(void)state;
	e = aws_endpoint_for("glue", "eu-west-1");
	assert_string_equal(e, "https://glue.eu-west-1.amazonaws.com/");
	free(e);
	e = aws_endpoint_for("glue", "cn-north-1");
	assert_string_equal(e, "https://glue.cn-north-1.amazonaws.com.cn/");
	free(e);
	e = aws_endpoint_for("glue", "us-gov-west-1");
	assert_string_equal(e, "https://glue.us-gov-west-1.amazonaws.com/");
	free(e);
	assert_null(aws_endpoint_for("glue", "eu-west-1a/../x"));
	assert_null(aws_endpoint_for("glue", ""));
}

static void
expect_url(const char *id, const char *region, const char *configured, const char *want)
{
	char *e = aws_endpoint_url(id, region, configured);

	assert_non_null(e);
	assert_string_equal(e, want);
	free(e);
}

/* The resolver: a configured URL, then AWS_ENDPOINT_URL_<SERVICE>, then
 * AWS_ENDPOINT_URL, then the partition's endpoint. */
static void
test_endpoint_resolver(void **state)
{
	static const char *const vars[] = { "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_S3",
		"AWS_ENDPOINT_URL_GLUE", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", NULL };
	size_t i;

	(void)state;
	for (i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	/* partitions, and the host name from the service id */
	expect_url("STS", "eu-west-1", NULL, "https://sts.eu-west-1.amazonaws.com/");
	expect_url("Secrets Manager", "cn-north-1", NULL,
	           "https://secretsmanager.cn-north-1.amazonaws.com.cn/");
	expect_url("SSM", "us-gov-west-1", NULL, "https://ssm.us-gov-west-1.amazonaws.com/");
	expect_url("S3", "us-iso-east-1", NULL, "https://s3.us-iso-east-1.c2s.ic.gov/");
	expect_url("Glue", "eu-west-1", "", "https://glue.eu-west-1.amazonaws.com/");
	assert_null(aws_endpoint_url("STS", "not a region", NULL));
	/* the general variable, then the service's own */
	setenv("AWS_ENDPOINT_URL", "http://private.example/", 1);
	expect_url("STS", "eu-west-1", NULL, "http://private.example/");
	expect_url("Secrets Manager", "eu-west-1", NULL, "http://private.example/");
	expect_url("SSM", "bad region", NULL, "http://private.example/");
	setenv("AWS_ENDPOINT_URL_STS", "http://sts.example/", 1);
	setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://sm.example/", 1);
	setenv("AWS_ENDPOINT_URL_SSM", "", 1);          /* empty: unset */
	expect_url("STS", "eu-west-1", NULL, "http://sts.example/");
	expect_url("Secrets Manager", "eu-west-1", NULL, "http://sm.example/");
	expect_url("SSM", "eu-west-1", NULL, "http://private.example/");
	expect_url("S3", "eu-west-1", NULL, "http://private.example/");
	/* the service id upper-cased: "Glue" reads AWS_ENDPOINT_URL_GLUE */
	setenv("AWS_ENDPOINT_URL_GLUE", "http://glue.example/", 1);
	expect_url("Glue", "eu-west-1", NULL, "http://glue.example/");
	/* a configured URL wins over the environment */
	expect_url("Glue", "eu-west-1", "http://configured.example/", "http://configured.example/");
	/* FIPS applies to the partition's endpoint only */
	for (i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	setenv("AWS_USE_FIPS_ENDPOINT", "true", 1);
	expect_url("Secrets Manager", "us-east-1", NULL,
	           "https://secretsmanager-fips.us-east-1.amazonaws.com/");
	unsetenv("AWS_USE_FIPS_ENDPOINT");
}

/* Every region of AWS's partitions.json gets its partition's DNS suffix,
 * plain, FIPS and dual-stack. */
static void
test_partitions(void **state)
{
	char *text = slurp(SHARED_DIR "/aws-models/partitions.json"), *e, want[256];
	cJSON *j = cJSON_Parse(text), *p, *reg;
	int n = 0;

	(void)state;
	assert_non_null(j);
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(j, "partitions")) {
		const cJSON *out = cJSON_GetObjectItem(p, "outputs");
		const char *dns = cJSON_GetObjectItem(out, "dnsSuffix")->valuestring;
		const char *ds = cJSON_GetObjectItem(out, "dualStackDnsSuffix")->valuestring;

		cJSON_ArrayForEach(reg, cJSON_GetObjectItem(p, "regions")) {
			const char *r = reg->string;

			if (strstr(r, "-global"))
				continue;
			e = aws_endpoint_for_opts("glue", r, 0, 0);
			snprintf(want, sizeof(want), "https://glue.%s.%s/", r, dns);
			assert_non_null(e);
			assert_string_equal(e, want);
			free(e);
			e = aws_endpoint_for_opts("glue", r, 1, 0);
			snprintf(want, sizeof(want), "https://glue-fips.%s.%s/", r, dns);
			assert_string_equal(e, want);
			free(e);
			e = aws_endpoint_for_opts("sts", r, 0, 1);
			snprintf(want, sizeof(want), "https://sts.%s.%s/", r, ds);
			assert_string_equal(e, want);
			free(e);
			n++;
		}
	}
	assert_true(n >= 40);
	cJSON_Delete(j);
	free(text);
}

/* The endpoints botocore used for the derived signing cases. */
static void
test_derived_endpoints(void **state)
{
	static const char *const cases[] = { "glue-get-tags-cn", "glue-get-workflow-runs-govcloud",
		"sts-assume-role-token-cn", "sts-assume-role", "secretsmanager-get-secret-value",
		"glue-list-workflows", NULL };
	size_t i;

	(void)state;
	for (i = 0; cases[i]; i++) {
		char path[512], *text, *e;
		cJSON *j;

		snprintf(path, sizeof(path), SHARED_DIR "/aws-sigv4-derived/%s/%s.json", cases[i], cases[i]);
		text = slurp(path);
		assert_non_null(text);
		j = cJSON_Parse(text);
		e = aws_endpoint_for_opts(cJSON_GetObjectItem(j, "service")->valuestring,
		                          cJSON_GetObjectItem(j, "region")->valuestring, 0, 0);
		assert_non_null(e);
		assert_string_equal(e, cJSON_GetObjectItem(j, "endpoint")->valuestring);
		free(e);
		cJSON_Delete(j);
		free(text);
	}
}

/* Expiration as STS, IMDS, containers and credential_process write it. */
static void
test_iso8601(void **state)
{
	(void)state;
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00Z"), 1795546800);
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00.123456Z"), 1795546800);
	assert_int_equal(time_parse_iso8601("2026-11-24T20:30:00+01:30"), 1795546800);
	assert_int_equal(time_parse_iso8601("2026-11-24T17:00:00-02:00"), 1795546800);
	assert_int_equal(time_parse_iso8601("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(time_parse_iso8601("2026-11-24 19:00:00Z"), -1);
	assert_int_equal(time_parse_iso8601("2026-13-24T19:00:00Z"), -1);
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00"), -1);
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00Zjunk"), -1);
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00."), -1);
	assert_int_equal(time_parse_iso8601(""), -1);
	assert_int_equal(time_parse_iso8601(NULL), -1);
}

/* Our AssumeRole body is byte for byte the one of the derived case. */
static void
test_assume_role_form(void **state)
{
	char *req = slurp(SHARED_DIR "/aws-sigv4-derived/sts-assume-role/sts-assume-role.req");
	char *form = awsauth_assume_role_form("arn:aws:iam::123456789012:role/glue-reader",
	                                      "OpenMetadataSession", NULL, "gluemetad", 3600);
	const char *body;

	(void)state;
	assert_non_null(req);
	assert_non_null(form);
	body = strstr(req, "\n\n");
	assert_non_null(body);
	assert_string_equal(form, body + 2);
	free(form);
	form = awsauth_assume_role_form("arn:x", "s p", "id&=", NULL, 0);
	assert_string_equal(form, "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Ax"
	                    "&RoleSessionName=s%20p&ExternalId=id%26%3D");
	free(form);
	free(req);
}

/* The retry budget the README and gluemetad(8) state: server and
 * transport errors end a call at their 3rd failed attempt, throttling
 * does not count against that, 8 attempts of any kind end it. */
static void
test_retry_budget(void **state)
{
	(void)state;
	assert_int_equal(AWS_MAX_ATTEMPTS, 3);
	assert_int_equal(AWS_MAX_ATTEMPTS_THROTTLED, 8);
	/* 500, 500, 500: two retries, then the call fails */
	assert_true(aws_retry_again(0, 1, 1));
	assert_true(aws_retry_again(0, 2, 2));
	assert_false(aws_retry_again(0, 3, 3));
	/* throttled seven times: retried each time, the 8th attempt is the last */
	assert_true(aws_retry_again(1, 0, 1));
	assert_true(aws_retry_again(1, 0, 7));
	assert_false(aws_retry_again(1, 0, 8));
	/* throttled twice, then 500s: the 500s still get their 3 attempts */
	assert_true(aws_retry_again(0, 1, 3));
	assert_true(aws_retry_again(0, 2, 4));
	assert_false(aws_retry_again(0, 3, 5));
	/* never past 8 attempts, whatever the mix */
	assert_false(aws_retry_again(0, 2, 8));
	/* AWS's delays: full jitter below 1 s, 2 s, 4 s ..., never 20 s */
	assert_int_equal(aws_backoff.max_attempts, 8);
	assert_int_equal(aws_backoff.max_failures, 3);
	assert_int_equal(aws_backoff.base_ms, 1000);
	assert_int_equal(aws_backoff.cap_ms, 20000);
	/* OpenMetadata: 3 attempts of any kind, below 0.5 s, 1 s ... 32 s */
	assert_int_equal(om_backoff.max_attempts, 3);
	assert_int_equal(om_backoff.max_failures, 3);
	assert_int_equal(om_backoff.base_ms, 500);
	assert_int_equal(om_backoff.cap_ms, 32000);
	assert_true(backoff_again(&om_backoff, 0, 2, 2));
	assert_false(backoff_again(&om_backoff, 0, 3, 3));
	assert_false(backoff_again(&om_backoff, 1, 0, 3));
	/* STS: 3 attempts of any kind, below 1 s then 2 s */
	assert_int_equal(awsauth_sts_backoff.max_attempts, 3);
	assert_int_equal(awsauth_sts_backoff.max_failures, 3);
	assert_int_equal(awsauth_sts_backoff.base_ms, 1000);
	assert_true(backoff_again(&awsauth_sts_backoff, 0, 2, 2));
	assert_false(backoff_again(&awsauth_sts_backoff, 1, 0, 3));
}

/* The delays: uniform below min(base * 2^(attempts-1), cap). */
static void
test_backoff_delays(void **state)
{
	static const struct backoff b = { .max_attempts = 99, .max_failures = 99,
	                                  .base_ms = 500, .cap_ms = 32000 };
	unsigned a, i;

	(void)state;
	for (a = 1; a < 80; a++) {
		long cap = a > 7 ? 32000 : 500L << (a - 1), top = 0;

		for (i = 0; i < 200; i++) {
			long d = backoff_delay(&b, a);

			assert_true(d >= 0 && d < cap);
			if (d > top)
				top = d;
		}
		assert_true(top >= cap / 2);    /* all of the range is used */
	}
	for (i = 0; i < 200; i++) {
		assert_true(backoff_delay(&aws_backoff, 1) < 1000);
		assert_true(backoff_delay(&aws_backoff, 3) < 4000);
		assert_true(backoff_delay(&aws_backoff, 7) < 20000);
		assert_true(backoff_delay(&awsauth_sts_backoff, 2) < 2000);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocol_error_cases),
		cmocka_unit_test(test_error_fallbacks),
		cmocka_unit_test(test_retry_classes),
		cmocka_unit_test(test_retry_budget),
		cmocka_unit_test(test_backoff_delays),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_endpoint_resolver),
		cmocka_unit_test(test_partitions),
		cmocka_unit_test(test_derived_endpoints),
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_assume_role_form),
	};

	return cmocka_run_group_tests_name("aws", tests, NULL, NULL);
}
