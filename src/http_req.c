/* http_req — one HTTP request as the modules build it (method, URL,
 * headers, body, timeout, attempts, hooks) and the reply's headers as they
 * read them; the engine (http.c) sends it.  See include/http.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <uv.h>

#include "http.h"
#include "http_int.h"
#include "util.h"

struct http_req *
http_req_new(const char *method, const char *url)
{
	struct http_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->method = strdup(method);
	r->url = strdup(url);
	r->max_attempts = 1;
	r->timeout_ms = 60000;
	r->resp_body.max = HTTP_MAX_BODY;
	r->resp_headers.max = HTTP_MAX_HEADER_BYTES;
	if (!r->method || !r->url)
		return http_req_free(r);
	return r;
}

static void
req_release(struct http_req *r)
{
	size_t i;

	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->slist);
	for (i = 0; i < r->n_headers; i++)
		str_wipe_free(r->headers[i]);   /* may carry credentials */
	free(r->headers);
	free(r->method);
	free(r->url);
	buf_wipe(&r->body);
	buf_clear(&r->resp_body);
	buf_clear(&r->resp_headers);
	free(r);
}

static void
retry_timer_closed(uv_handle_t *hd)
{
	struct http_req *r = hd->data;
	struct http *h = r->h;

	r->retry_timer = NULL;
	req_release(r);
	free(hd);
	http__handle_gone(h);
}

struct http_req *
http_req_free(struct http_req *r)
{
	if (!r)
		return NULL;
	if (r->retry_timer) {
		r->retry_timer->data = r;
		uv_close((uv_handle_t *)r->retry_timer, retry_timer_closed);
		return NULL;
	}
	req_release(r);
	return NULL;
}

int
http__header_index(const struct http_req *r, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < r->n_headers; i++)
		if (strncasecmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
			return (int)i;
	return -1;
}

static char *
header_line(const char *name, const char *value)
{
	struct buf b = {0};

	if (buf_printf(&b, "%s:%s%s", name, *value ? " " : "", value) < 0)
		return NULL;
	return buf_steal(&b);
}

int
http_req_header(struct http_req *r, const char *name, const char *value)
{
	char **v;
	char *line;

	if (strpbrk(value, "\r\n") || strpbrk(name, "\r\n:"))
		return -EINVAL;
	line = header_line(name, value);
	if (!line)
		return -ENOMEM;
	v = realloc(r->headers, (r->n_headers + 1) * sizeof(*v));
	if (!v) {
		free(line);
		return -ENOMEM;
	}
	r->headers = v;
	v[r->n_headers++] = line;
	return 0;
}

int
http_req_set_header(struct http_req *r, const char *name, const char *value)
{
	int i = http__header_index(r, name);
	char *line;

	if (i < 0)
		return http_req_header(r, name, value);
	if (strpbrk(value, "\r\n"))
		return -EINVAL;
	if (!(line = header_line(name, value)))
		return -ENOMEM;
	str_wipe_free(r->headers[i]);
	r->headers[i] = line;
	return 0;
}

int
http_req_body(struct http_req *r, const void *data, size_t len)
{
	buf_wipe(&r->body);
	r->body.max = HTTP_MAX_BODY;
	if (buf_append(&r->body, data, len) < 0)
		return -ENOMEM;
	return 0;
}

void
http_req_timeout(struct http_req *r, long total_ms)
{
	r->timeout_ms = total_ms;
}

void
http_req_hooks(struct http_req *r, http_start_cb start, http_retry_cb retry, void *arg)
{
	r->start = start;
	r->retry = retry;
	r->hook_arg = arg;
}

void
http_req_max_attempts(struct http_req *r, unsigned n)
{
	r->max_attempts = n ? n : 1;
}

const char *
http_req_method(const struct http_req *r)
{
	return r->method;
}

const char *
http_req_url(const struct http_req *r)
{
	return r->url;
}

const void *
http_req_body_data(const struct http_req *r, size_t *len)
{
	*len = r->body.len;
	return r->body.data ? r->body.data : "";
}

const char *
http_resp_header(const struct http_resp *resp, const char *name)
{
	const struct buf *h = &resp->req->resp_headers;
	const char *p = h->data, *end;
	size_t n = strlen(name);

	if (!p)
		return NULL;            /* no header received */
	end = p + h->len;

	/* lines are "name: value\0\n", see on_header */
	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if ((size_t)(end - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}
