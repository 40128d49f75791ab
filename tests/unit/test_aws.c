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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocol_error_cases),
		cmocka_unit_test(test_error_fallbacks),
		cmocka_unit_test(test_retry_classes),
		cmocka_unit_test(test_endpoints),
	};

	return cmocka_run_group_tests_name("aws", tests, NULL, NULL);
}
