/* om — see include/om.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backoff.h"
#include "entity.h"
#include "http.h"
#include "jsonarena.h"
#include "om.h"
#include "util.h"

#define OM_MAX_ATTEMPTS 3

/* 3 attempts of any kind; delays of up to 0.5 s, 1 s, ... capped at 32 s */
const struct backoff om_backoff = {
	.max_attempts = OM_MAX_ATTEMPTS, .max_failures = OM_MAX_ATTEMPTS,
	.base_ms = 500, .cap_ms = 32000,
};

struct om_client {
	struct http_pool *pool;
	char *base;
	char *auth;                 /* "Bearer <jwt>" */
};

struct call {
	om_done_cb cb;
	void *arg;
};

struct om_client *
om_client_new(struct http_pool *pool, const char *base, const char *jwt)
{
	struct om_client *c = calloc(1, sizeof(*c));
	struct buf b = {0};
	size_t n;

	if (!c)
		return NULL;
	c->pool = pool;
	c->base = strdup(base);
	if (!c->base || buf_printf(&b, "Bearer %s", jwt ? jwt : "") < 0)
		return om_client_free(c);
	c->auth = buf_steal(&b);
	n = strlen(c->base);
	while (n && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	return c;
}

struct om_client *
om_client_free(struct om_client *c)
{
	if (!c)
		return NULL;
	free(c->base);
	str_wipe_free(c->auth);
	free(c);
	return NULL;
}

static long
on_retry(const struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!resp->transport_error && resp->status != 429 && resp->status != 502 &&
	    resp->status != 503 && resp->status != 504)
		return -1;
	if (!backoff_again(&om_backoff, 0, resp->attempts, resp->attempts))
		return -1;
	return backoff_delay(&om_backoff, resp->attempts);
}

static void
on_done(const struct http_resp *resp, void *arg)
{
	struct call *k = arg;
	struct om_result res = { .status = resp->status, .cancelled = resp->cancelled };
	cJSON *j = NULL;
	char msg[1200];
	size_t mark = 0;

	if (resp->body_len)
		j = json_arena_parse(resp->body, resp->body_len, &mark);
	res.json = j;
	if (resp->transport_error) {
		res.message = resp->error ? resp->error : "transport error";
	} else if (resp->status >= 200 && resp->status < 300 && resp->body_len && !cJSON_IsObject(j)) {
		/* every reply of OpenMetadata's API we read is an object: anything
		 * else (an HTML page from a proxy, a cut body) is a failed read */
		snprintf(msg, sizeof(msg), "HTTP %ld with a reply that is not a JSON object",
		         resp->status);
		res.message = msg;
	} else if (resp->status >= 200 && resp->status < 300) {
		res.ok = 1;
	} else {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");

		snprintf(msg, sizeof(msg), "HTTP %ld%s%.1000s", resp->status,
		         cJSON_IsString(m) ? ": " : "", cJSON_IsString(m) ? m->valuestring : "");
		res.message = msg;
	}
	k->cb(&res, k->arg);
	if (j)
		json_arena_release(j, mark);
	free(k);
}

void
om_call(struct om_client *c, const char *method, const char *path, cJSON *body, om_done_cb cb,
        void *arg)
{
	struct om_result fail = { .message = "out of memory" };
	struct call *k = calloc(1, sizeof(*k));
	struct http_req *req = NULL;
	struct buf url = {0};
	char *text = NULL;

	if (!k || buf_printf(&url, "%s%s", c->base, path) < 0 ||
	    !(req = http_req_new(method, url.data)) ||
	    http_req_header(req, "Authorization", c->auth) < 0 ||
	    http_req_header(req, "Accept", "application/json") < 0)
		goto fail;
	if (body) {
		if (!(text = cJSON_PrintUnformatted(body)) ||
		    http_req_header(req, "Content-Type", strcmp(method, "PATCH") == 0
		                                         ? "application/json-patch+json"
		                                         : "application/json") < 0 ||
		    http_req_body(req, text, strlen(text)) < 0)
			goto fail;
	}
	http_req_hooks(req, NULL, on_retry, NULL);
	http_req_max_attempts(req, OM_MAX_ATTEMPTS);
	http_req_timeout(req, 60000);
	k->cb = cb;
	k->arg = arg;
	free(text);
	buf_clear(&url);
	cJSON_Delete(body);
	if (http_submit(c->pool, req, on_done, k) < 0) {
		free(k);
		fail.message = "shutting down";
		fail.cancelled = 1;
		cb(&fail, arg);
	}
	return;
fail:
	free(k);
	free(text);
	buf_clear(&url);
	http_req_free(req);
	cJSON_Delete(body);
	cb(&fail, arg);
}

static const char *
om_jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

enum om_decode { OM_DECODE_NONE, OM_DECODE_VERSION, OM_DECODE_SERVICE, OM_DECODE_PIPELINE,
                 OM_DECODE_DELETED };

/* A call of the API below until its reply: how to decode the reply, the
 * caller's callback and its argument. */
struct om_hop {
	enum om_decode decode;          /* the run's calls */
	int search;                     /* a lookup: a search, not by name */
	int downstream;                 /* a lineage read */
	union {
		om_reply_cb reply;
		om_lookup_cb lookup;
		om_lineage_cb lineage;
	} cb;
	void *arg;
};

/* Calls method path (taken; NULL: out of memory) with body (taken); the
 * reply goes to on_reply, which gets h back with om_hop_take().  -ENOMEM,
 * nothing called, when path is NULL or memory ran out. */
static int
om_hop_call(struct om_client *c, const char *method, char *path, cJSON *body,
            om_done_cb on_reply, struct om_hop h)
{
	struct om_hop *p = path ? malloc(sizeof(*p)) : NULL;

	if (!p) {
		free(path);
		cJSON_Delete(body);
		return -ENOMEM;
	}
	*p = h;
	om_call(c, method, path, body, on_reply, p);
	free(path);
	return 0;
}

/* The call om_hop_call() kept for a reply, freed. */
static struct om_hop
om_hop_take(void *arg)
{
	struct om_hop h = *(struct om_hop *)arg;

	free(arg);
	return h;
}

/* The API of the run: service, pipelines, statuses, usage, ingestion pipeline. */

static void
om_on_reply(const struct om_result *res, void *arg)
{
	struct om_hop h = om_hop_take(arg);
	struct om_reply rep = { .res = res, .major = -1, .minor = -1 };

	switch (h.decode) {
	case OM_DECODE_VERSION:
		rep.version = om_jstr(res->json, "version");
		if (!rep.version || sscanf(rep.version, "%d.%d", &rep.major, &rep.minor) != 2)
			rep.major = rep.minor = -1;
		break;
	case OM_DECODE_SERVICE:
		rep.service_type = om_jstr(res->json, "serviceType");
		break;
	case OM_DECODE_PIPELINE:
		rep.id = om_jstr(res->json, "id");
		rep.fqn = om_jstr(res->json, "fullyQualifiedName");
		rep.entity = res->json;
		break;
	case OM_DECODE_DELETED:
		rep.name = om_jstr(res->json, "name");
		break;
	case OM_DECODE_NONE:
		break;
	}
	h.cb.reply(&rep, h.arg);
}

/* Calls path (taken, may be NULL: out of memory) with body (taken). */
static void
om_run_call(struct om_client *c, const char *method, char *path, cJSON *body,
            enum om_decode decode, om_reply_cb cb, void *arg)
{
	if (om_hop_call(c, method, path, body, om_on_reply,
	                (struct om_hop){ .decode = decode, .cb.reply = cb, .arg = arg }) < 0) {
		struct om_result fail = { .message = "out of memory" };
		struct om_reply rep = { .res = &fail, .major = -1, .minor = -1 };

		cb(&rep, arg);
	}
}

void
om_get_version(struct om_client *c, om_reply_cb cb, void *arg)
{
	om_run_call(c, "GET", strdup("/v1/system/version"), NULL, OM_DECODE_VERSION, cb, arg);
}

int
om_get_service(struct om_client *c, const char *service, om_reply_cb cb, void *arg)
{
	char *q = entity_quote_name(service);
	char *path = q ? str_urlencode_printf("/v1/services/pipelineServices/name/%s", q) : NULL;

	free(q);
	if (!path)
		return -EINVAL;
	om_run_call(c, "GET", path, NULL, OM_DECODE_SERVICE, cb, arg);
	return 0;
}

void
om_put_service(struct om_client *c, const char *service, const cJSON *connection_config,
               om_reply_cb cb, void *arg)
{
	cJSON *body = entity_service_request(service, connection_config);

	om_run_call(c, "PUT", body ? strdup("/v1/services/pipelineServices") : NULL, body,
	            OM_DECODE_NONE, cb, arg);
}

void
om_put_pipeline(struct om_client *c, cJSON *request, const char *source_hash, om_reply_cb cb,
                void *arg)
{
	char *path = NULL;

	if (cJSON_AddStringToObject(request, "sourceHash", source_hash))
		path = strdup("/v1/pipelines");
	om_run_call(c, "PUT", path, request, OM_DECODE_PIPELINE, cb, arg);
}

void
om_patch_pipeline(struct om_client *c, const char *id, cJSON *ops, om_reply_cb cb, void *arg)
{
	om_run_call(c, "PATCH", str_urlencode_printf("/v1/pipelines/%s", id), ops, OM_DECODE_NONE,
	            cb, arg);
}

void
om_put_pipeline_status(struct om_client *c, const char *fqn, cJSON *status, om_reply_cb cb,
                       void *arg)
{
	om_run_call(c, "PUT", str_urlencode_printf("/v1/pipelines/%s/status", fqn), status,
	            OM_DECODE_NONE, cb, arg);
}

void
om_post_usage(struct om_client *c, const char *id, cJSON *day, om_reply_cb cb, void *arg)
{
	om_run_call(c, "POST", str_urlencode_printf("/v1/usage/pipeline/%s", id), day,
	            OM_DECODE_NONE, cb, arg);
}

void
om_compute_percentile(struct om_client *c, const char *date, om_reply_cb cb, void *arg)
{
	om_run_call(c, "POST", str_urlencode_printf("/v1/usage/compute.percentile/pipeline/%s", date),
	            NULL, OM_DECODE_NONE, cb, arg);
}

void
om_delete_pipeline(struct om_client *c, const char *id, om_reply_cb cb, void *arg)
{
	om_run_call(c, "DELETE",
	            str_urlencode_printf("/v1/pipelines/%s?hardDelete=false&recursive=true", id),
	            NULL, OM_DECODE_DELETED, cb, arg);
}

static cJSON *
om_step_json(const struct om_step *s)
{
	cJSON *o = cJSON_CreateObject();

	if (o && cJSON_AddStringToObject(o, "name", s->name) &&
	    cJSON_AddNumberToObject(o, "records", (double)s->records) &&
	    cJSON_AddNumberToObject(o, "updated_records", (double)s->updated) &&
	    cJSON_AddNumberToObject(o, "warnings", (double)s->warnings) &&
	    cJSON_AddNumberToObject(o, "errors", (double)s->errors) &&
	    cJSON_AddNumberToObject(o, "filtered", (double)s->filtered))
		return o;
	cJSON_Delete(o);
	return NULL;
}

void
om_put_ingestion_status(struct om_client *c, const char *fqn, const struct om_ingestion_run *run,
                        om_reply_cb cb, void *arg)
{
	cJSON *o = cJSON_CreateObject(), *steps;
	char *path = NULL;
	size_t i;

	if (!o || !cJSON_AddStringToObject(o, "runId", run->run_id) ||
	    !cJSON_AddStringToObject(o, "pipelineState", run->state) ||
	    !cJSON_AddNumberToObject(o, "startDate", (double)run->start_ms) ||
	    !cJSON_AddNumberToObject(o, "timestamp", (double)run->start_ms))
		goto out;
	if (strcmp(run->state, "running") != 0) {
		if (!cJSON_AddNumberToObject(o, "endDate", (double)run->end_ms) ||
		    !(steps = cJSON_AddArrayToObject(o, "status")))
			goto out;
		for (i = 0; i < run->n_steps; i++)
			if (!cJSON_AddItemToArray(steps, om_step_json(&run->steps[i])))
				goto out;
	}
	path = str_urlencode_printf("/v1/services/ingestionPipelines/%s/pipelineStatus", fqn);
out:
	om_run_call(c, "PUT", path, o, OM_DECODE_NONE, cb, arg);
}

struct om_lister {
	struct om_client *c;
	char *service;
	int with_hash;
	char *after;                    /* the cursor of the next page */
	unsigned pages;
	om_pipelines_cb cb;
	void *arg;
};

struct om_lister *
om_lister_new(struct om_client *c, const char *service, int with_hash)
{
	struct om_lister *l = calloc(1, sizeof(*l));

	if (!l || !(l->service = strdup(service)))
		return om_lister_free(l);
	l->c = c;
	l->with_hash = with_hash;
	return l;
}

struct om_lister *
om_lister_free(struct om_lister *l)
{
	if (l) {
		free(l->service);
		free(l->after);
		free(l);
	}
	return NULL;
}

const char *
om_pipelines_after(const cJSON *reply)
{
	const char *after = om_jstr(cJSON_GetObjectItemCaseSensitive(reply, "paging"), "after");

	return after && *after ? after : NULL;
}

int
om_pipelines_decode(const cJSON *reply, const char *cursor, unsigned page,
                    struct om_pipelines *out)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(reply, "data"), *p;
	const char *after = om_pipelines_after(reply);

	if (!cJSON_IsArray(data)) {
		out->malformed = 1;
		return 0;
	}
	out->v = calloc((size_t)cJSON_GetArraySize(data) + 1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	cJSON_ArrayForEach(p, data) {
		struct om_pipeline_entry *e = &out->v[out->n];

		e->name = om_jstr(p, "name");
		e->id = om_jstr(p, "id");
		e->source_hash = om_jstr(p, "sourceHash");
		e->deleted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "deleted"));
		if (e->name && e->id)
			out->n++;
	}
	if (!after)
		out->end = OM_PAGE_LAST;
	else if (cursor && strcmp(cursor, after) == 0)
		out->end = OM_PAGE_REPEATED;
	else if (page >= OM_LIST_MAX_PAGES)
		out->end = OM_PAGE_CAPPED;
	else
		out->end = OM_PAGE_MORE;
	return 0;
}

static void
om_on_pipelines(const struct om_result *res, void *arg)
{
	struct om_lister *l = arg;
	struct om_pipelines page = { .res = res };
	struct om_result oom = { .message = "out of memory" };
	const char *after = om_pipelines_after(res->json);
	char *next = NULL;

	l->pages++;
	if (res->ok && (om_pipelines_decode(res->json, l->after, l->pages, &page) < 0 ||
	                (!page.malformed && page.end == OM_PAGE_MORE && !(next = strdup(after))))) {
		free(page.v);
		page = (struct om_pipelines){ .res = &oom };
	}
	free(l->after);
	l->after = next;
	l->cb(&page, l->arg);
	free(page.v);
}

void
om_lister_next(struct om_lister *l, om_pipelines_cb cb, void *arg)
{
	char *svc = str_urlencode(l->service);
	char *after = l->after ? str_urlencode(l->after) : NULL;
	struct buf path = {0};

	l->cb = cb;
	l->arg = arg;
	if (!svc || (l->after && !after) ||
	    buf_printf(&path, "/v1/pipelines?service=%s&include=all%s&limit=%d%s%s", svc,
	               l->with_hash ? "&fields=sourceHash" : "", OM_LIST_PAGE,
	               after ? "&after=" : "", after ? after : "") < 0) {
		struct om_result oom = { .message = "out of memory" };
		struct om_pipelines page = { .res = &oom };

		buf_clear(&path);
		free(svc);
		free(after);
		cb(&page, arg);
		return;
	}
	free(svc);
	free(after);
	om_call(l->c, "GET", path.data, NULL, om_on_pipelines, l);
	buf_clear(&path);
}


/* The API of enrichment: tags, classifications, owners, lineage, search. */



void
om_decode_lookup(const cJSON *json, int search, struct om_lookup *ret)
{
	const cJSON *outer, *hits, *total, *h;
	const char *id = NULL;

	ret->state = OM_LOOKUP_ABSENT;
	ret->id = NULL;
	ret->hits = NULL;
	ret->hits_complete = 0;
	if (!search) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, "id");

		ret->state = OM_LOOKUP_FOUND;
		ret->id = cJSON_IsString(v) ? v->valuestring : NULL;
		return;
	}
	/* deleted=false is a filter only newer servers apply, and size is not
	 * a parameter of /search/fieldQuery: up to 10 hits come back, deleted
	 * entities among them, and the first one that is not deleted is it */
	outer = cJSON_GetObjectItemCaseSensitive(json, "hits");
	hits = cJSON_GetObjectItemCaseSensitive(outer, "hits");
	if (!cJSON_IsArray(hits))
		return;
	total = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(outer, "total"),
	                                         "value");
	ret->hits = hits;
	ret->hits_complete = cJSON_IsNumber(total) &&
	                     total->valuedouble <= (double)cJSON_GetArraySize(hits);
	cJSON_ArrayForEach(h, hits) {
		const cJSON *src = cJSON_GetObjectItemCaseSensitive(h, "_source");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, "id");

		if (cJSON_IsObject(src) &&
		    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(src, "deleted")) &&
		    cJSON_IsString(v)) {
			id = v->valuestring;
			break;
		}
	}
	if (id) {
		ret->state = OM_LOOKUP_FOUND;
		ret->id = id;
	}
}

static void
on_lookup(const struct om_result *res, void *arg)
{
	struct om_hop h = om_hop_take(arg);
	struct om_lookup out = { .status = res->status, .message = res->message,
	                         .cancelled = res->cancelled };

	if (res->ok)
		om_decode_lookup(res->json, h.search, &out);
	else if (res->status == 404 && !res->cancelled)
		out.state = OM_LOOKUP_ABSENT;
	h.cb.lookup(&out, h.arg);
}

/* GET path (malloc'd, taken; NULL: out of memory) decoded as a lookup. */
static void
lookup(struct om_client *c, char *path, int search, om_lookup_cb cb, void *arg)
{
	if (om_hop_call(c, "GET", path, NULL, on_lookup,
	                (struct om_hop){ .search = search, .cb.lookup = cb, .arg = arg }) < 0) {
		struct om_lookup fail = { .message = "out of memory" };

		cb(&fail, arg);
	}
}

/* The paths of om_get_by_name(), by kind. */
static const char *const by_name[] = {
	[OM_CLASSIFICATION] = "/v1/classifications/name/%s",
	[OM_TAG] = "/v1/tags/name/%s",
	[OM_USER] = "/v1/users/name/%s",
	[OM_TEAM] = "/v1/teams/name/%s",
	[OM_TABLE] = "/v1/tables/name/%s",
};

void
om_get_by_name(struct om_client *c, enum om_entity kind, const char *name, om_lookup_cb cb,
               void *arg)
{
	lookup(c, str_urlencode_printf(by_name[kind], name), 0, cb, arg);
}

char *
om_wild_escape(const char *s)
{
	struct buf b = {0};

	for (; s && *s; s++)
		if ((strchr("\\*?", *s) && buf_puts(&b, "\\") < 0) || buf_append(&b, s, 1) < 0) {
			buf_clear(&b);
			return NULL;
		}
	return b.data ? buf_steal(&b) : strdup("");
}

/* /v1/search/fieldQuery for one field of one index; value is a wildcard
 * query, percent-encoded here. */
static void
search(struct om_client *c, const char *field, const char *index, const char *value,
       om_lookup_cb cb, void *arg)
{
	struct buf fmt = {0};
	char *path = NULL;

	if (buf_printf(&fmt, "/v1/search/fieldQuery?fieldName=%s&fieldValue=%%s&from=0&size=1"
	               "&index=%s&deleted=false", field, index) == 0)
		path = str_urlencode_printf(fmt.data, value);
	buf_clear(&fmt);
	lookup(c, path, 1, cb, arg);
}

/* search() for the literal value. */
static void
search_literal(struct om_client *c, const char *field, const char *index, const char *value,
               om_lookup_cb cb, void *arg)
{
	char *lit = om_wild_escape(value);

	if (!lit) {
		lookup(c, NULL, 1, cb, arg);
		return;
	}
	search(c, field, index, lit, cb, arg);
	free(lit);
}

void
om_search_user_by_email(struct om_client *c, const char *email, om_lookup_cb cb, void *arg)
{
	search_literal(c, "email.keyword", "user_search_index", email, cb, arg);
}

void
om_search_container_by_path(struct om_client *c, const char *path, om_lookup_cb cb, void *arg)
{
	search_literal(c, "fullPath", "container_search_index", path, cb, arg);
}

void
om_search_tables(struct om_client *c, const char *fqn_pattern, om_lookup_cb cb, void *arg)
{
	search(c, "fullyQualifiedName", "table_search_index", fqn_pattern, cb, arg);
}

void
om_put_classification(struct om_client *c, const char *name, const char *description,
                      int mutually_exclusive, om_done_cb cb, void *arg)
{
	struct om_result fail = { .message = "out of memory" };
	cJSON *body = cJSON_CreateObject();

	if (!body || !cJSON_AddStringToObject(body, "name", name) ||
	    !cJSON_AddStringToObject(body, "description", description) ||
	    !cJSON_AddBoolToObject(body, "mutuallyExclusive", mutually_exclusive)) {
		cJSON_Delete(body);
		cb(&fail, arg);
		return;
	}
	om_call(c, "PUT", "/v1/classifications", body, cb, arg);
}

void
om_put_tag(struct om_client *c, const char *name, const char *classification, const char *parent,
           const char *description, om_done_cb cb, void *arg)
{
	struct om_result fail = { .message = "out of memory" };
	cJSON *body = cJSON_CreateObject();

	if (!body || !cJSON_AddStringToObject(body, "name", name) ||
	    !cJSON_AddStringToObject(body, "classification", classification) ||
	    !cJSON_AddStringToObject(body, "description", description) ||
	    (parent && !cJSON_AddStringToObject(body, "parent", parent))) {
		cJSON_Delete(body);
		cb(&fail, arg);
		return;
	}
	om_call(c, "PUT", "/v1/tags", body, cb, arg);
}

static cJSON *
node_json(struct om_node n)
{
	cJSON *o = cJSON_CreateObject();

	if (o && cJSON_AddStringToObject(o, "id", n.id) && cJSON_AddStringToObject(o, "type", n.type))
		return o;
	cJSON_Delete(o);
	return NULL;
}

void
om_put_lineage(struct om_client *c, struct om_node from, struct om_node to,
               const char *pipeline_id, const char *source, om_done_cb cb, void *arg)
{
	struct om_result fail = { .message = "out of memory" };
	struct om_node pipe = { pipeline_id, "pipeline" };
	cJSON *body = cJSON_CreateObject(), *edge, *det;

	if (!body || !(edge = cJSON_AddObjectToObject(body, "edge")) ||
	    !cJSON_AddItemToObject(edge, "fromEntity", node_json(from)) ||
	    !cJSON_AddItemToObject(edge, "toEntity", node_json(to)) ||
	    !(det = cJSON_AddObjectToObject(edge, "lineageDetails")) ||
	    !cJSON_AddItemToObject(det, "pipeline", node_json(pipe)) ||
	    !cJSON_AddStringToObject(det, "source", source)) {
		cJSON_Delete(body);
		cb(&fail, arg);
		return;
	}
	om_call(c, "PUT", "/v1/lineage", body, cb, arg);
}

/* "/v1/lineage" and the n parts, each percent-encoded, joined by '/',
 * then query; malloc'd. */
static char *
lineage_path(const char *const *part, size_t n, const char *query)
{
	struct buf b = {0};
	size_t i;

	if (buf_puts(&b, "/v1/lineage") < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		char *enc = str_urlencode(part[i]);

		if (!enc || buf_puts(&b, "/") < 0 || buf_puts(&b, enc) < 0) {
			free(enc);
			buf_clear(&b);
			return NULL;
		}
		free(enc);
	}
	if (query && buf_puts(&b, query) < 0) {
		buf_clear(&b);
		return NULL;
	}
	return buf_steal(&b);
}

void
om_delete_lineage(struct om_client *c, struct om_node from, struct om_node to, om_done_cb cb,
                  void *arg)
{
	struct om_result fail = { .message = "out of memory" };
	const char *part[4] = { from.type, from.id, to.type, to.id };
	char *path = lineage_path(part, 4, NULL);

	if (!path) {
		cb(&fail, arg);
		return;
	}
	om_call(c, "DELETE", path, NULL, cb, arg);
	free(path);
}

/* The type of node id in a lineage reply's nodes (the last one that says),
 * or NULL. */
static const char *
node_type(const cJSON *json, const char *id)
{
	const cJSON *n;
	const char *type = NULL;

	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(json, "nodes")) {
		const cJSON *i = cJSON_GetObjectItemCaseSensitive(n, "id");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(n, "type");

		if (cJSON_IsString(i) && cJSON_IsString(t) && strcmp(i->valuestring, id) == 0)
			type = t->valuestring;
	}
	return type;
}

int
om_decode_lineage(const cJSON *json, int downstream, struct om_lineage *ret, const char **reterr)
{
	const cJSON *edges = cJSON_GetObjectItemCaseSensitive(json, downstream ? "downstreamEdges"
	                                                                        : "upstreamEdges");
	const cJSON *e;
	struct om_lineage_edge *v;
	size_t n = 0;

	if (edges && !cJSON_IsArray(edges)) {
		*reterr = "a malformed lineage reply";
		return -EINVAL;
	}
	if (!(v = calloc((size_t)cJSON_GetArraySize(edges) + 1, sizeof(*v)))) {
		*reterr = "out of memory";
		return -ENOMEM;
	}
	cJSON_ArrayForEach(e, edges) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "lineageDetails");
		const char *from = om_jstr(e, "fromEntity"), *to = om_jstr(e, "toEntity");

		if (!from || !to)
			continue;
		v[n].from.id = from;
		v[n].from.type = node_type(json, from);
		v[n].to.id = to;
		v[n].to.type = node_type(json, to);
		v[n].pipeline_id = om_jstr(cJSON_GetObjectItemCaseSensitive(d, "pipeline"), "id");
		v[n].source = om_jstr(d, "source");
		n++;
	}
	ret->known = 1;
	ret->v = v;
	ret->n = n;
	return 0;
}

static void
on_lineage(const struct om_result *res, void *arg)
{
	struct om_hop h = om_hop_take(arg);
	struct om_lineage out = { .message = res->message, .cancelled = res->cancelled };
	const char *why = NULL;

	if (res->cancelled)
		out.message = "cancelled";
	else if (res->ok && om_decode_lineage(res->json, h.downstream, &out, &why) < 0)
		out.message = why;
	h.cb.lineage(&out, h.arg);
	free(out.v);
}

void
om_get_lineage(struct om_client *c, struct om_node of, int downstream, om_lineage_cb cb,
               void *arg)
{
	const char *part[2] = { of.type, of.id };
	char *path = lineage_path(part, 2, downstream ? "?upstreamDepth=0&downstreamDepth=1"
	                                              : "?upstreamDepth=1&downstreamDepth=0");

	if (om_hop_call(c, "GET", path, NULL, on_lineage,
	                (struct om_hop){ .downstream = downstream, .cb.lineage = cb, .arg = arg }) < 0) {
		struct om_lineage fail = { .message = "out of memory" };

		cb(&fail, arg);
	}
}
