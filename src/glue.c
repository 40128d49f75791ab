/* glue — see include/glue.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "glue.h"
#include "util.h"

/* ==== operations of the run: workflows, their graphs, their runs ==== */



/* ==== operations of enrichment: jobs, tags, connections ==== */



static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void
glue_tags_result_clear(struct glue_tags_result *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

int
glue_decode_tags(const cJSON *json, struct glue_tags_result *ret)
{
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(json, "Tags"), *t;

	ret->v = NULL;
	ret->n = 0;
	if (tags && !cJSON_IsObject(tags))
		return -EINVAL;
	if (!(ret->v = calloc((size_t)cJSON_GetArraySize(tags) + 1, sizeof(*ret->v))))
		return -ENOMEM;
	cJSON_ArrayForEach(t, tags) {
		if (!t->string || !*t->string || !cJSON_IsString(t))
			continue;
		ret->v[ret->n].key = t->string;
		ret->v[ret->n].value = t->valuestring;
		ret->n++;
	}
	ret->state = GLUE_KNOWN;
	return 0;
}

struct tags_call {
	glue_tags_cb cb;
	void *arg;
};

static void
on_tags(const struct aws_result *res, void *arg)
{
	struct tags_call *k = arg;
	struct glue_tags_result out = { .code = res->code, .message = res->message,
	                                .cancelled = res->cancelled };
	int r = res->ok ? glue_decode_tags(res->json, &out) : -EIO;

	if (r == -ENOMEM) {
		out.code = "out of memory";
		out.message = NULL;
	}
	if (r < 0)
		out.state = GLUE_UNKNOWN;
	k->cb(&out, k->arg);
	glue_tags_result_clear(&out);
	free(k);
}

void
glue_get_tags(struct aws_client *glue, const char *resource_arn, glue_tags_cb cb, void *arg)
{
	struct glue_tags_result fail = { .code = "out of memory" };
	struct tags_call *k = calloc(1, sizeof(*k));
	cJSON *in = cJSON_CreateObject();

	if (!k || !in || !cJSON_AddStringToObject(in, "ResourceArn", resource_arn)) {
		free(k);
		cJSON_Delete(in);
		cb(&fail, arg);
		return;
	}
	k->cb = cb;
	k->arg = arg;
	aws_call(glue, "GetTags", in, on_tags, k);
}

void
glue_jobs_result_clear(struct glue_jobs_result *r)
{
	free(r->jobs);
	free(r->missing);
	r->jobs = NULL;
	r->missing = NULL;
	r->n_jobs = r->n_missing = 0;
}

int
glue_decode_jobs(const cJSON *json, struct glue_jobs_result *ret)
{
	const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(json, "Jobs");
	const cJSON *missing = cJSON_GetObjectItemCaseSensitive(json, "JobsNotFound"), *j;

	memset(ret, 0, sizeof(*ret));
	if (jobs && !cJSON_IsArray(jobs))
		return -EINVAL;
	ret->jobs = calloc((size_t)cJSON_GetArraySize(jobs) + 1, sizeof(*ret->jobs));
	ret->missing = calloc((size_t)cJSON_GetArraySize(missing) + 1, sizeof(*ret->missing));
	if (!ret->jobs || !ret->missing) {
		glue_jobs_result_clear(ret);
		return -ENOMEM;
	}
	cJSON_ArrayForEach(j, jobs)
		ret->jobs[ret->n_jobs++] = j;
	cJSON_ArrayForEach(j, missing)
		if (cJSON_IsString(j))
			ret->missing[ret->n_missing++] = j->valuestring;
	ret->state = GLUE_KNOWN;
	return 0;
}

struct jobs_call {
	glue_jobs_cb cb;
	void *arg;
};

static void
on_jobs(const struct aws_result *res, void *arg)
{
	struct jobs_call *k = arg;
	struct glue_jobs_result out = {0};
	int r = res->ok ? glue_decode_jobs(res->json, &out) : -EIO;

	if (r < 0) {
		out.state = GLUE_UNKNOWN;
		out.code = r == -ENOMEM ? "out of memory" : res->code;
		out.message = r == -ENOMEM ? NULL : res->message;
	}
	out.cancelled = res->cancelled;
	k->cb(&out, k->arg);
	glue_jobs_result_clear(&out);
	free(k);
}

void
glue_batch_get_jobs(struct aws_client *glue, const char *const *names, size_t n, glue_jobs_cb cb,
                    void *arg)
{
	struct glue_jobs_result fail = { .code = "out of memory" };
	struct jobs_call *k = calloc(1, sizeof(*k));
	cJSON *in = cJSON_CreateObject(), *list = in ? cJSON_AddArrayToObject(in, "JobNames") : NULL;
	size_t i;

	for (i = 0; list && i < n; i++)
		if (!cJSON_AddItemToArray(list, cJSON_CreateString(names[i])))
			list = NULL;
	if (!k || !list) {
		free(k);
		cJSON_Delete(in);
		cb(&fail, arg);
		return;
	}
	k->cb = cb;
	k->arg = arg;
	aws_call(glue, "BatchGetJobs", in, on_jobs, k);
}

void
glue_decode_connection(const cJSON *json, struct glue_connection_result *ret)
{
	const cJSON *conn = cJSON_GetObjectItemCaseSensitive(json, "Connection");
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(conn, "ConnectionProperties");

	ret->state = GLUE_KNOWN;
	ret->found = 1;
	ret->jdbc_url = jstr(props, "JDBC_CONNECTION_URL");
}

struct conn_call {
	glue_connection_cb cb;
	void *arg;
};

static void
on_connection(const struct aws_result *res, void *arg)
{
	struct conn_call *k = arg;
	struct glue_connection_result out = { .code = res->code, .message = res->message,
	                                      .cancelled = res->cancelled };

	if (res->ok)
		glue_decode_connection(res->json, &out);
	else if (!res->cancelled && res->code && strcmp(res->code, "EntityNotFoundException") == 0)
		out.state = GLUE_KNOWN;         /* found 0: known not to be there */
	k->cb(&out, k->arg);
	free(k);
}

void
glue_get_connection(struct aws_client *glue, const char *name, glue_connection_cb cb, void *arg)
{
	struct glue_connection_result fail = { .code = "out of memory" };
	struct conn_call *k = calloc(1, sizeof(*k));
	cJSON *in = cJSON_CreateObject();

	if (!k || !in || !cJSON_AddStringToObject(in, "Name", name) ||
	    !cJSON_AddBoolToObject(in, "HidePassword", 1)) {
		free(k);
		cJSON_Delete(in);
		cb(&fail, arg);
		return;
	}
	k->cb = cb;
	k->arg = arg;
	aws_call(glue, "GetConnection", in, on_connection, k);
}
