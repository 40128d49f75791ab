/* om — see include/om.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "om.h"
#include "util.h"

#define OM_MAX_ATTEMPTS 3

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
	long cap;

	(void)arg;
	if (resp->transport_error || resp->status == 429 || resp->status == 502 ||
	    resp->status == 503 || resp->status == 504) {
		cap = 500L << (resp->attempts - 1 < 6 ? resp->attempts - 1 : 6);
		return (long)(rand_u64() % (uint64_t)cap);
	}
	return -1;
}

static void
on_done(const struct http_resp *resp, void *arg)
{
	struct call *k = arg;
	struct om_result res = { .status = resp->status, .cancelled = resp->cancelled };
	cJSON *j = NULL;
	char msg[1200];

	if (resp->body_len)
		j = cJSON_ParseWithLength(resp->body, resp->body_len);
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
	cJSON_Delete(j);
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

/* ==== the API of the run: service, pipelines, statuses, usage, ingestion pipeline ==== */



/* ==== the API of enrichment: tags, classifications, owners, lineage, search ==== */



struct lookup_call {
	int search;
	om_lookup_cb cb;
	void *arg;
};

void
om_decode_lookup(const cJSON *json, int search, struct om_lookup *ret)
{
	const cJSON *hits, *h;
	const char *id = NULL;

	ret->state = OM_LOOKUP_ABSENT;
	ret->id = NULL;
	if (!search) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, "id");

		ret->state = OM_LOOKUP_FOUND;
		ret->id = cJSON_IsString(v) ? v->valuestring : NULL;
		return;
	}
	/* deleted=false is a filter only newer servers apply, and size is not
	 * a parameter of /search/fieldQuery: up to 10 hits come back, deleted
	 * entities among them, and the first one that is not deleted is it */
	hits = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(json, "hits"), "hits");
	if (!cJSON_IsArray(hits))
		return;
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
	struct lookup_call *k = arg;
	struct om_lookup out = { .status = res->status, .message = res->message,
	                         .cancelled = res->cancelled };

	if (res->ok)
		om_decode_lookup(res->json, k->search, &out);
	else if (res->status == 404 && !res->cancelled)
		out.state = OM_LOOKUP_ABSENT;
	k->cb(&out, k->arg);
	free(k);
}

/* GET path (malloc'd, taken; NULL: out of memory) decoded as a lookup. */
static void
lookup(struct om_client *c, char *path, int search, om_lookup_cb cb, void *arg)
{
	struct om_lookup fail = { .message = "out of memory" };
	struct lookup_call *k = path ? calloc(1, sizeof(*k)) : NULL;

	if (!k) {
		free(path);
		cb(&fail, arg);
		return;
	}
	k->search = search;
	k->cb = cb;
	k->arg = arg;
	om_call(c, "GET", path, NULL, on_lookup, k);
	free(path);
}

void
om_get_classification(struct om_client *c, const char *name, om_lookup_cb cb, void *arg)
{
	lookup(c, str_urlencode_printf("/v1/classifications/name/%s", name), 0, cb, arg);
}

void
om_get_tag(struct om_client *c, const char *fqn, om_lookup_cb cb, void *arg)
{
	lookup(c, str_urlencode_printf("/v1/tags/name/%s", fqn), 0, cb, arg);
}

void
om_get_user(struct om_client *c, const char *name, om_lookup_cb cb, void *arg)
{
	lookup(c, str_urlencode_printf("/v1/users/name/%s", name), 0, cb, arg);
}

void
om_get_team(struct om_client *c, const char *name, om_lookup_cb cb, void *arg)
{
	lookup(c, str_urlencode_printf("/v1/teams/name/%s", name), 0, cb, arg);
}

void
om_get_table(struct om_client *c, const char *fqn, om_lookup_cb cb, void *arg)
{
	lookup(c, str_urlencode_printf("/v1/tables/name/%s", fqn), 0, cb, arg);
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

void
om_search_user_by_email(struct om_client *c, const char *email, om_lookup_cb cb, void *arg)
{
	char *lit = om_wild_escape(email);

	if (!lit) {
		lookup(c, NULL, 1, cb, arg);
		return;
	}
	search(c, "email.keyword", "user_search_index", lit, cb, arg);
	free(lit);
}

void
om_search_container_by_path(struct om_client *c, const char *path, om_lookup_cb cb, void *arg)
{
	char *lit = om_wild_escape(path);

	if (!lit) {
		lookup(c, NULL, 1, cb, arg);
		return;
	}
	search(c, "fullPath", "container_search_index", lit, cb, arg);
	free(lit);
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

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
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
		const char *from = jstr(e, "fromEntity"), *to = jstr(e, "toEntity");

		if (!from || !to)
			continue;
		v[n].from.id = from;
		v[n].from.type = node_type(json, from);
		v[n].to.id = to;
		v[n].to.type = node_type(json, to);
		v[n].pipeline_id = jstr(cJSON_GetObjectItemCaseSensitive(d, "pipeline"), "id");
		v[n].source = jstr(d, "source");
		n++;
	}
	ret->known = 1;
	ret->v = v;
	ret->n = n;
	return 0;
}

struct lineage_call {
	int downstream;
	om_lineage_cb cb;
	void *arg;
};

static void
on_lineage(const struct om_result *res, void *arg)
{
	struct lineage_call *k = arg;
	struct om_lineage out = { .message = res->message, .cancelled = res->cancelled };
	const char *why = NULL;

	if (res->cancelled)
		out.message = "cancelled";
	else if (res->ok && om_decode_lineage(res->json, k->downstream, &out, &why) < 0)
		out.message = why;
	k->cb(&out, k->arg);
	free(out.v);
	free(k);
}

void
om_get_lineage(struct om_client *c, struct om_node of, int downstream, om_lineage_cb cb,
               void *arg)
{
	struct om_lineage fail = { .message = "out of memory" };
	const char *part[2] = { of.type, of.id };
	struct lineage_call *k = calloc(1, sizeof(*k));
	char *path = lineage_path(part, 2, downstream ? "?upstreamDepth=0&downstreamDepth=1"
	                                              : "?upstreamDepth=1&downstreamDepth=0");

	if (!k || !path) {
		free(k);
		free(path);
		cb(&fail, arg);
		return;
	}
	k->downstream = downstream;
	k->cb = cb;
	k->arg = arg;
	om_call(c, "GET", path, NULL, on_lineage, k);
	free(path);
}
