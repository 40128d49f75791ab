/* glue — see include/glue.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "glue.h"
#include "util.h"

/* Operations of the run: workflows, their graphs, their runs. */

#define GLUE_BATCH 25           /* BatchGetWorkflows Names, ListWorkflows MaxResults */

static const char *
glue_jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The status of a call's result; GLUE_KNOWN when it succeeded. */
static void
glue_status_of(const struct aws_result *res, struct glue_status *st)
{
	memset(st, 0, sizeof(*st));
	if (res->request_id)
		snprintf(st->request_id, sizeof(st->request_id), "%s", res->request_id);
	if (res->ok) {
		st->state = GLUE_KNOWN;
		return;
	}
	st->fail = res->cancelled ? GLUE_FAIL_CANCELLED : GLUE_FAIL_CALL;
	snprintf(st->why, sizeof(st->why), "%s: %s%s%s%s", res->code ? res->code : "error",
	         res->message ? res->message : "", res->request_id ? " (request id " : "",
	         res->request_id ? res->request_id : "", res->request_id ? ")" : "");
}

static void
glue_status_fail(struct glue_status *st, enum glue_fail fail, const char *why)
{
	st->state = GLUE_UNKNOWN;
	st->fail = fail;
	snprintf(st->why, sizeof(st->why), "%s", why);
}

/* A call of one of the operations below until its reply: the caller's
 * callback and its argument. */
struct glue_call {
	union {
		glue_runs_cb runs;
		glue_tags_cb tags;
		glue_jobs_cb jobs;
		glue_connection_cb connection;
	} cb;
	void *arg;
};

/* Sends op with in (taken) when built says the input is complete; the
 * reply goes to on_reply, which gets k back with glue_call_take().
 * -ENOMEM, in freed and nothing called, when in was not built or memory
 * ran out. */
static int
glue_call_send(struct aws_client *c, const char *op, cJSON *in, int built, aws_done_cb on_reply,
               struct glue_call k)
{
	struct glue_call *p = built ? malloc(sizeof(*p)) : NULL;

	if (!p) {
		cJSON_Delete(in);
		return -ENOMEM;
	}
	*p = k;
	aws_call(c, op, in, on_reply, p);
	return 0;
}

/* The call glue_call_send() kept for a reply, freed. */
static struct glue_call
glue_call_take(void *arg)
{
	struct glue_call k = *(struct glue_call *)arg;

	free(arg);
	return k;
}

struct glue_lister {
	struct aws_client *c;
	unsigned max_pages, pages;
	char *token;                    /* that asks for the next page */
	int busy;
	glue_names_cb cb;
	void *arg;
};

struct glue_lister *
glue_lister_new(struct aws_client *c, unsigned max_pages)
{
	struct glue_lister *l = calloc(1, sizeof(*l));

	if (l) {
		l->c = c;
		l->max_pages = max_pages;
	}
	return l;
}

struct glue_lister *
glue_lister_free(struct glue_lister *l)
{
	if (l) {
		free(l->token);
		free(l);
	}
	return NULL;
}

int
glue_lister_busy(const struct glue_lister *l)
{
	return l && l->busy;
}

unsigned
glue_lister_pages(const struct glue_lister *l)
{
	return l ? l->pages : 0;
}

struct glue_names *
glue_names_free(struct glue_names *page)
{
	size_t i;

	if (!page)
		return NULL;
	for (i = 0; i < page->n; i++)
		free(page->names[i]);
	free(page->names);
	free(page);
	return NULL;
}

int
glue_names_decode(const cJSON *reply, const char *token, unsigned page, unsigned max_pages,
                  struct glue_names *out)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(reply, "Workflows");
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(reply, "NextToken");
	const cJSON *n;

	out->page = page;
	if ((names && !cJSON_IsArray(names)) || (tok && !cJSON_IsString(tok) && !cJSON_IsNull(tok))) {
		glue_status_fail(&out->st, GLUE_FAIL_MALFORMED, "malformed reply");
		return 0;
	}
	out->names = calloc((size_t)cJSON_GetArraySize(names) + 1, sizeof(*out->names));
	if (!out->names)
		return -ENOMEM;
	cJSON_ArrayForEach(n, names) {
		if (!cJSON_IsString(n) || !*n->valuestring)
			continue;
		if (!(out->names[out->n] = strdup(n->valuestring)))
			return -ENOMEM;
		out->n++;
	}
	if (!cJSON_IsString(tok) || !*tok->valuestring)
		out->end = GLUE_PAGE_LAST;
	else if (token && strcmp(token, tok->valuestring) == 0)
		out->end = GLUE_PAGE_REPEATED;
	else if (page >= max_pages)
		out->end = GLUE_PAGE_CAPPED;
	else
		out->end = GLUE_PAGE_MORE;
	out->st.state = GLUE_KNOWN;
	return 0;
}

static void
glue_on_names(const struct aws_result *res, void *arg)
{
	struct glue_lister *l = arg;
	struct glue_names *page = calloc(1, sizeof(*page));
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(res->json, "NextToken");
	char *next = NULL;

	l->pages++;
	l->busy = 0;
	if (!page)
		goto oom;
	glue_status_of(res, &page->st);
	page->page = l->pages;
	if (res->ok && (glue_names_decode(res->json, l->token, l->pages, l->max_pages, page) < 0 ||
	                (page->st.state == GLUE_KNOWN && page->end == GLUE_PAGE_MORE &&
	                 !(next = strdup(tok->valuestring)))))
		goto oom;
	if (next) {
		free(l->token);
		l->token = next;
	}
	l->cb(page, l->arg);
	return;
oom:
	glue_names_free(page);
	l->cb(NULL, l->arg);
}

void
glue_lister_next(struct glue_lister *l, glue_names_cb cb, void *arg)
{
	cJSON *in = cJSON_CreateObject();

	l->cb = cb;
	l->arg = arg;
	l->busy = 1;
	if (!in || !cJSON_AddNumberToObject(in, "MaxResults", GLUE_BATCH) ||
	    (l->token && !cJSON_AddStringToObject(in, "NextToken", l->token))) {
		cJSON_Delete(in);
		l->pages++;
		l->busy = 0;
		cb(NULL, arg);
		return;
	}
	aws_call_urgent(l->c, "ListWorkflows", in, glue_on_names, l);
}

struct glue_batch {
	struct aws_client *c;
	const char **names;
	void **items;
	size_t n;
	struct glue_batch_ops ops;
	void *arg;
	struct join join;               /* GetWorkflow calls of the fallback */
};

static void
glue_batch_free(struct glue_batch *b)
{
	if (b) {
		free(b->names);
		free(b->items);
		free(b);
	}
}

int
glue_batch_find(const cJSON *reply, const char *name, const cJSON **ret_wf, int *ret_missing)
{
	const cJSON *wfs = cJSON_GetObjectItemCaseSensitive(reply, "Workflows");
	const cJSON *missing = cJSON_GetObjectItemCaseSensitive(reply, "MissingWorkflows");
	const cJSON *w;

	if ((wfs && !cJSON_IsArray(wfs)) || (missing && !cJSON_IsArray(missing)))
		return -EINVAL;
	*ret_wf = NULL;
	*ret_missing = 0;
	cJSON_ArrayForEach(w, wfs)
		if (str_eq(glue_jstr(w, "Name"), name)) {
			*ret_wf = w;
			return 0;
		}
	cJSON_ArrayForEach(w, missing)
		if (cJSON_IsString(w) && strcmp(w->valuestring, name) == 0)
			*ret_missing = 1;
	return 0;
}

static void
glue_batch_settle(struct glue_batch *b)
{
	if (join_done(&b->join)) {
		b->ops.done(b->arg);
		glue_batch_free(b);
	}
}

struct glue_one {
	struct glue_batch *b;
	size_t i;
};

static void
glue_on_workflow(const struct aws_result *res, void *arg)
{
	struct glue_one *o = arg;
	struct glue_batch *b = o->b;
	struct glue_workflow w = { .item = b->items[o->i], .name = b->names[o->i] };
	const cJSON *wf = cJSON_GetObjectItemCaseSensitive(res->json, "Workflow");

	free(o);
	glue_status_of(res, &w.st);
	if (res->ok && cJSON_IsObject(wf)) {
		w.workflow = wf;
	} else if (res->code && strcmp(res->code, "EntityNotFoundException") == 0) {
		memset(&w.st, 0, sizeof(w.st));
		w.st.state = GLUE_KNOWN;                /* known: it is gone */
	} else if (res->ok) {
		glue_status_fail(&w.st, GLUE_FAIL_MALFORMED, "the reply has no Workflow");
	}
	b->ops.workflow(&w, b->arg);
	glue_batch_settle(b);
}

/* Reads workflow i alone; counted in the batch's join. */
static void
glue_get_one(struct glue_batch *b, size_t i)
{
	struct glue_one *o = malloc(sizeof(*o));
	cJSON *in = cJSON_CreateObject();

	join_add(&b->join, 1);
	if (!o || !in || !cJSON_AddStringToObject(in, "Name", b->names[i]) ||
	    !cJSON_AddBoolToObject(in, "IncludeGraph", 1)) {
		struct glue_workflow w = { .item = b->items[i], .name = b->names[i] };

		free(o);
		cJSON_Delete(in);
		glue_status_fail(&w.st, GLUE_FAIL_NOMEM, "out of memory");
		b->ops.workflow(&w, b->arg);
		glue_batch_settle(b);
		return;
	}
	o->b = b;
	o->i = i;
	aws_call(b->c, "GetWorkflow", in, glue_on_workflow, o);
}

static void
glue_on_batch(const struct aws_result *res, void *arg)
{
	struct glue_batch *b = arg;
	struct glue_status st;
	const cJSON *wf;
	size_t i, left = 0;
	int missing;

	glue_status_of(res, &st);
	/* any name tells whether the reply's two lists are lists */
	if (res->ok && glue_batch_find(res->json, "", &wf, &missing) < 0)
		glue_status_fail(&st, GLUE_FAIL_MALFORMED, "malformed reply");
	if (st.state == GLUE_UNKNOWN) {
		if (b->ops.fallback(b->n, &st, b->arg))
			for (i = 0; i < b->n; i++)
				glue_get_one(b, i);
		glue_batch_settle(b);
		return;
	}
	for (i = 0; i < b->n; i++) {
		struct glue_workflow w = { .item = b->items[i], .name = b->names[i] };

		glue_batch_find(res->json, b->names[i], &wf, &missing);
		if (!wf && !missing) {
			left++;
			continue;
		}
		w.st.state = GLUE_KNOWN;
		w.workflow = wf;
		b->ops.workflow(&w, b->arg);
		b->items[i] = NULL;
	}
	if (left && b->ops.fallback(left, NULL, b->arg))
		for (i = 0; i < b->n; i++)
			if (b->items[i])        /* neither returned nor missing: ask alone */
				glue_get_one(b, i);
	glue_batch_settle(b);
}

void
glue_get_workflows(struct aws_client *c, const char *const *names, void *const *items, size_t n,
                   const struct glue_batch_ops *ops, void *arg)
{
	struct glue_batch *b = calloc(1, sizeof(*b));
	cJSON *in = cJSON_CreateObject(), *list;
	size_t i;

	if (!b || !(b->names = calloc(n, sizeof(*b->names))) ||
	    !(b->items = calloc(n, sizeof(*b->items))) || !in ||
	    !(list = cJSON_AddArrayToObject(in, "Names")) ||
	    !cJSON_AddBoolToObject(in, "IncludeGraph", 1))
		goto oom;
	b->c = c;
	b->n = n;
	b->ops = *ops;
	b->arg = arg;
	join_add(&b->join, 1);          /* the batch call's */
	for (i = 0; i < n; i++) {
		b->names[i] = names[i];
		b->items[i] = items[i];
		if (!cJSON_AddItemToArray(list, cJSON_CreateString(names[i])))
			goto oom;
	}
	aws_call(c, "BatchGetWorkflows", in, glue_on_batch, b);
	return;
oom:
	glue_batch_free(b);
	cJSON_Delete(in);
	for (i = 0; i < n; i++) {
		struct glue_workflow w = { .item = items[i], .name = names[i] };

		glue_status_fail(&w.st, GLUE_FAIL_NOMEM, "out of memory");
		ops->workflow(&w, arg);
	}
	ops->done(arg);
}

void
glue_runs_decode(const cJSON *reply, struct glue_runs *out)
{
	const cJSON *runs = cJSON_GetObjectItemCaseSensitive(reply, "Runs");
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(reply, "NextToken");

	if ((runs && !cJSON_IsArray(runs)) || (tok && !cJSON_IsString(tok) && !cJSON_IsNull(tok))) {
		glue_status_fail(&out->st, GLUE_FAIL_MALFORMED, "malformed reply");
		return;
	}
	out->runs = runs;
	out->next_token = cJSON_IsString(tok) ? tok->valuestring : NULL;
	out->st.state = GLUE_KNOWN;
}

static void
glue_on_runs(const struct aws_result *res, void *arg)
{
	struct glue_call k = glue_call_take(arg);
	struct glue_runs page = { .runs = NULL };

	glue_status_of(res, &page.st);
	if (res->ok)
		glue_runs_decode(res->json, &page);
	k.cb.runs(&page, k.arg);
}

void
glue_get_runs(struct aws_client *c, const char *name, const char *token, unsigned max,
              glue_runs_cb cb, void *arg)
{
	cJSON *in = cJSON_CreateObject();
	int built = in && cJSON_AddStringToObject(in, "Name", name) &&
	            cJSON_AddBoolToObject(in, "IncludeGraph", 1) &&
	            cJSON_AddNumberToObject(in, "MaxResults", max) &&
	            (!token || cJSON_AddStringToObject(in, "NextToken", token));

	if (glue_call_send(c, "GetWorkflowRuns", in, built, glue_on_runs,
	                   (struct glue_call){ .cb.runs = cb, .arg = arg }) < 0) {
		struct glue_runs oom = { .runs = NULL };

		glue_status_fail(&oom.st, GLUE_FAIL_NOMEM, "out of memory");
		cb(&oom, arg);
	}
}

/* Operations of enrichment: jobs, tags, connections. */

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

static void
on_tags(const struct aws_result *res, void *arg)
{
	struct glue_call k = glue_call_take(arg);
	struct glue_tags_result out = { .code = res->code, .message = res->message,
	                                .cancelled = res->cancelled };
	int r = res->ok ? glue_decode_tags(res->json, &out) : -EIO;

	if (r == -ENOMEM) {
		out.code = "out of memory";
		out.message = NULL;
	}
	if (r < 0)
		out.state = GLUE_UNKNOWN;
	k.cb.tags(&out, k.arg);
	glue_tags_result_clear(&out);
}

void
glue_get_tags(struct aws_client *glue, const char *resource_arn, glue_tags_cb cb, void *arg)
{
	cJSON *in = cJSON_CreateObject();
	int built = in && cJSON_AddStringToObject(in, "ResourceArn", resource_arn);

	if (glue_call_send(glue, "GetTags", in, built, on_tags,
	                   (struct glue_call){ .cb.tags = cb, .arg = arg }) < 0) {
		struct glue_tags_result fail = { .code = "out of memory" };

		cb(&fail, arg);
	}
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

static void
on_jobs(const struct aws_result *res, void *arg)
{
	struct glue_call k = glue_call_take(arg);
	struct glue_jobs_result out = {0};
	int r = res->ok ? glue_decode_jobs(res->json, &out) : -EIO;

	if (r < 0) {
		out.state = GLUE_UNKNOWN;
		out.code = r == -ENOMEM ? "out of memory" : res->code;
		out.message = r == -ENOMEM ? NULL : res->message;
	}
	out.cancelled = res->cancelled;
	k.cb.jobs(&out, k.arg);
	glue_jobs_result_clear(&out);
}

void
glue_batch_get_jobs(struct aws_client *glue, const char *const *names, size_t n, glue_jobs_cb cb,
                    void *arg)
{
	cJSON *in = cJSON_CreateObject(), *list = in ? cJSON_AddArrayToObject(in, "JobNames") : NULL;
	size_t i;

	for (i = 0; list && i < n; i++)
		if (!cJSON_AddItemToArray(list, cJSON_CreateString(names[i])))
			list = NULL;
	if (glue_call_send(glue, "BatchGetJobs", in, list != NULL, on_jobs,
	                   (struct glue_call){ .cb.jobs = cb, .arg = arg }) < 0) {
		struct glue_jobs_result fail = { .code = "out of memory" };

		cb(&fail, arg);
	}
}

void
glue_decode_connection(const cJSON *json, struct glue_connection_result *ret)
{
	const cJSON *conn = cJSON_GetObjectItemCaseSensitive(json, "Connection");
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(conn, "ConnectionProperties");

	ret->state = GLUE_KNOWN;
	ret->found = 1;
	ret->jdbc_url = glue_jstr(props, "JDBC_CONNECTION_URL");
}

static void
on_connection(const struct aws_result *res, void *arg)
{
	struct glue_call k = glue_call_take(arg);
	struct glue_connection_result out = { .code = res->code, .message = res->message,
	                                      .cancelled = res->cancelled };

	if (res->ok)
		glue_decode_connection(res->json, &out);
	else if (!res->cancelled && res->code && strcmp(res->code, "EntityNotFoundException") == 0)
		out.state = GLUE_KNOWN;         /* found 0: known not to be there */
	k.cb.connection(&out, k.arg);
}

void
glue_get_connection(struct aws_client *glue, const char *name, glue_connection_cb cb, void *arg)
{
	cJSON *in = cJSON_CreateObject();
	int built = in && cJSON_AddStringToObject(in, "Name", name) &&
	            cJSON_AddBoolToObject(in, "HidePassword", 1);

	if (glue_call_send(glue, "GetConnection", in, built, on_connection,
	                   (struct glue_call){ .cb.connection = cb, .arg = arg }) < 0) {
		struct glue_connection_result fail = { .code = "out of memory" };

		cb(&fail, arg);
	}
}
