/* Glue JSON replies as the engine reads them through the public builders:
 * the first byte picks the operation, the rest is the reply body.
 *   0  BatchGetWorkflows: each of "Workflows" through
 *      entity_pipeline_request (as run.c does)
 *   1  GetWorkflow: "Workflow" through entity_pipeline_request
 *   2  GetWorkflowRuns: each of "Runs" through entity_run_started_ms and
 *      entity_pipeline_status
 *   3  an error reply: aws_parse_error with a status and an
 *      X-Amzn-ErrorType header taken from the input
 * Checks: builders return 0 with a body, or -EINVAL with a reason and no
 * body; a pipeline body always has its name and service; error code and
 * message are NUL-terminated within their buffers. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "entity.h"
#include "fuzz.h"
#include "util.h"

static void
workflow(const cJSON *w)
{
	struct gm_err err = {{0}};
	cJSON *req = NULL;
	char *text;
	int r;

	r = entity_pipeline_request(w, "fuzz.service", "us-east-1", &req, &err);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r < 0) {
		FUZZ_CHECK(!req && (r == -ENOMEM || err.msg[0]));
		return;
	}
	FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(req, "name")));
	FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(req, "service")));
	text = cJSON_PrintUnformatted(req);
	FUZZ_CHECK(text);
	free(text);
	cJSON_Delete(req);
}

static void
run(const cJSON *run)
{
	struct gm_err err = {{0}};
	cJSON *st = NULL;
	int64_t started = entity_run_started_ms(run);
	int r;

	FUZZ_CHECK(started >= -1);
	r = entity_pipeline_status(run, &st, &err);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r < 0) {
		FUZZ_CHECK(!st && (r == -ENOMEM || err.msg[0]));
		return;
	}
	FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(st, "executionStatus")));
	FUZZ_CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(st, "timestamp")));
	cJSON_Delete(st);
}

static void
error_reply(const uint8_t *data, size_t size)
{
	char code[128], msg[512], *body, *type = NULL;
	long status;
	const uint8_t *nl;

	if (size < 2)
		return;
	status = 300 + (long)(data[0] | data[1] << 8) % 300;
	data += 2;
	size -= 2;
	/* "header\nbody" gives an X-Amzn-ErrorType header */
	if (size && data[0] == 'H' && (nl = memchr(data, '\n', size))) {
		type = fuzz_cstr(data + 1, (size_t)(nl - data - 1));
		size -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	body = fuzz_cstr(data, size);
	memset(code, 'x', sizeof(code));
	memset(msg, 'x', sizeof(msg));
	aws_parse_error(status, body, type, code, sizeof(code), msg, sizeof(msg));
	FUZZ_CHECK(memchr(code, '\0', sizeof(code)) && memchr(msg, '\0', sizeof(msg)));
	(void)aws_error_is_throttling(code);
	(void)aws_error_is_transient(status, code);
	free(body);
	free(type);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const cJSON *item;
	cJSON *j;

	if (size < 1)
		return 0;
	if (data[0] % 4 == 3) {
		error_reply(data + 1, size - 1);
		return 0;
	}
	j = cJSON_ParseWithLength((const char *)data + 1, size - 1);
	if (!j)
		return 0;
	switch (data[0] % 4) {
	case 0:
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(j, "Workflows"))
			workflow(item);
		break;
	case 1:
		workflow(cJSON_GetObjectItemCaseSensitive(j, "Workflow"));
		break;
	case 2:
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(j, "Runs"))
			run(item);
		break;
	}
	cJSON_Delete(j);
	return 0;
}
