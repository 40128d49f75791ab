/* om — see include/om.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backoff.h"
#include "http.h"
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



