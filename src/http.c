/* http — curl multi on libuv, the multi-uv.c way; see include/http.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <uv.h>

#include "http.h"
#include "http_int.h"
#include "log.h"
#include "util.h"

#define HTTP_USER_AGENT "gluemetad/" GLUEMETAD_VERSION
#define HTTP_MAX_IDLE_S 60L     /* a connection idle longer is closed, not reused */

#ifndef GLUEMETAD_VERSION
#define GLUEMETAD_VERSION "0.1.0"
#endif

static void check_multi_info(struct http *h);
static void pool_release(struct http_pool *p);
static void start_attempt(struct http_req *r);
static void ready_unlink(struct http *h, struct http_req *r);

/* See http_int.h. */
void
http__handle_gone(struct http *h)
{
	if (--h->handles == 0 && h->closing) {
		struct http_pool *p, *n;

		for (p = h->pools; p; p = n) {
			n = p->next;
			pool_release(p);
		}
		free(h);
	}
}

static void
handle_closed(uv_handle_t *hd)
{
	http__handle_gone(hd->data);
}

static void
sock_closed(uv_handle_t *hd)
{
	struct sock_ctx *c = hd->data;
	struct http *h = c->h;

	free(c);
	http__handle_gone(h);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct sock_ctx *c = p->data;
	struct http *h = c->h;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, c->fd, flags, &running);
	check_multi_info(h);
}

static void
sock_close(struct sock_ctx *c)
{
	struct http *h = c->h;

	DLIST_UNLINK(h->socks, c);
	uv_poll_stop(&c->poll);
	uv_close((uv_handle_t *)&c->poll, sock_closed);
}

static int
on_socket(CURL *easy, curl_socket_t s, int action, void *userp, void *socketp)
{
	struct http *h = userp;
	struct sock_ctx *c = socketp;
	int events = 0;

	(void)easy;
	if (action == CURL_POLL_REMOVE) {
		if (c) {
			curl_multi_assign(h->multi, s, NULL);
			sock_close(c);
		}
		return 0;
	}
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return -1;
		c->fd = s;
		c->h = h;
		if (uv_poll_init_socket(h->loop, &c->poll, s) < 0) {
			free(c);
			return -1;
		}
		c->poll.data = c;
		h->handles++;
		DLIST_PUSH(h->socks, c);
		curl_multi_assign(h->multi, s, c);
	}
	if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
		events |= UV_READABLE;
	if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
		events |= UV_WRITABLE;
	uv_poll_start(&c->poll, events, on_poll);
	return 0;
}

static void
on_timeout(uv_timer_t *t)
{
	struct http *h = t->data;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info(h);
}

static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&h->timer);
	else
		uv_timer_start(&h->timer, on_timeout, (uint64_t)timeout_ms, 0);
	return 0;
}

uv_loop_t *
http_loop(const struct http *h)
{
	return h->loop;
}

/* GLUEMETAD_HTTP_TIMEOUT_MS caps the time any one attempt of any request
 * may take (connecting included): 100 to 3600000.  Unset, requests keep
 * their own timeouts (60 s for Glue and OpenMetadata). */
static long
http_timeout_from_env(void)
{
	const char *v = getenv("GLUEMETAD_HTTP_TIMEOUT_MS");
	char *end;
	long ms;

	if (!v || !*v)
		return 0;
	errno = 0;
	ms = strtol(v, &end, 10);
	if (errno || *end || ms < 100 || ms > 3600000) {
		log_warning(NULL, "ignoring GLUEMETAD_HTTP_TIMEOUT_MS='%.40s': not a number of "
		            "milliseconds from 100 to 3600000", v);
		return 0;
	}
	return ms;
}

/* A multi handle calling back into h; NULL without memory. */
static CURLM *
multi_new(struct http *h)
{
	CURLM *m = curl_multi_init();

	if (!m)
		return NULL;
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(m, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 256L);
	return m;
}

/* Frees h's multi handle and with it the connections curl keeps for
 * reuse: first we stop watching their sockets, then curl closes them
 * without calling back into us.  No transfer may be left on it. */
static void
multi_free(struct http *h)
{
	while (h->socks)
		sock_close(h->socks);
	uv_timer_stop(&h->timer);
	if (!h->multi)
		return;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, NULL);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, NULL);
	curl_multi_cleanup(h->multi);
	h->multi = NULL;
}

/* With no pool left no run is going on, and libcurl has no call that
 * closes the idle connections of a multi handle: a daemon would hold
 * them (and the servers' sockets) until its next run, hours later.  A
 * fresh multi handle lets the old one go with its connections.  During
 * a run they stay for reuse; CURLOPT_MAXAGE_CONN closes one that went
 * unused while other runs keep the engine busy. */
static void
engine_idle(struct http *h)
{
	CURLM *m;

	if (h->pools || h->all || h->closing)
		return;
	m = multi_new(h);
	if (!m)
		return;         /* the old handle serves on, connections and all */
	multi_free(h);
	h->multi = m;
}

struct http *
http_new(uv_loop_t *loop)
{
	struct http *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->loop = loop;
	h->max_timeout_ms = http_timeout_from_env();
	h->multi = multi_new(h);
	if (!h->multi || uv_timer_init(loop, &h->timer) < 0 || uv_check_init(loop, &h->check) < 0 ||
	    uv_idle_init(loop, &h->idle) < 0) {
		/* libuv's init of these handles fails only on a bad loop, before
		 * any is registered */
		if (h->multi)
			curl_multi_cleanup(h->multi);
		free(h);
		return NULL;
	}
	h->timer.data = h;
	h->check.data = h;
	h->idle.data = h;
	h->handles = 3;
	return h;
}

struct http_pool *
http_pool_new(struct http *h, const char *name, unsigned max_in_flight,
              const struct http_tls *tls)
{
	struct http_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->h = h;
	p->max = max_in_flight ? max_in_flight : 1;
	p->v.limit = p->v.limit_min = p->max;
	p->verify = tls ? tls->verify : 1;
	p->name = strdup(name);
	if (!p->name || (tls && tls->ca_file && !(p->ca_file = strdup(tls->ca_file))) ||
	    (tls && tls->cert_file && !(p->cert_file = strdup(tls->cert_file))) ||
	    (tls && tls->key_file && !(p->key_file = strdup(tls->key_file)))) {
		free(p->name);
		free(p->ca_file);
		free(p->cert_file);
		free(p);
		return NULL;
	}
	p->v.name = p->name;
	p->next = h->pools;
	h->pools = p;
	return p;
}

const struct http_pool_view *
http_pool_view(const struct http_pool *p)
{
	return &p->v;
}

/* One more attempt of p ended with code (0: in transport), kept in
 * ascending order of code.  Without memory the attempt goes uncounted:
 * a count is not worth failing a request for. */
static void
pool_count_code(struct http_pool *p, long code)
{
	size_t i;

	for (i = 0; i < p->v.n_codes && p->codes[i].code < code; i++)
		;
	if (i < p->v.n_codes && p->codes[i].code == code) {
		p->codes[i].n++;
		return;
	}
	if (p->v.n_codes == p->codes_cap) {
		size_t cap = p->codes_cap ? p->codes_cap * 2 : 4;
		struct http_code_count *c = realloc(p->codes, cap * sizeof(*c));

		if (!c)
			return;
		p->codes = c;
		p->codes_cap = cap;
		p->v.codes = c;
	}
	memmove(&p->codes[i + 1], &p->codes[i], (p->v.n_codes - i) * sizeof(*p->codes));
	p->codes[i].code = code;
	p->codes[i].n = 1;
	p->v.n_codes++;
}

/* Multiplicative decrease: halve the limit, at most once per window.
 * Every request in flight when the endpoint started refusing tends to be
 * refused too; those replies belong to the congestion already answered,
 * so only a request started after the last decrease may cause another
 * (TCP's one reduction per round trip). */
static void
pool_congested(struct http_pool *p, uint64_t epoch)
{
	p->v.throttled++;
	if (epoch != p->epoch)
		return;
	p->epoch++;
	p->healthy = 0;
	p->v.limit = p->v.limit > 1 ? p->v.limit / 2 : 1;
	if (p->v.limit < p->v.limit_min)
		p->v.limit_min = p->v.limit;
}

/* Additive increase: one more after a window of `limit` healthy replies,
 * up to the configured bound. */
static void
pool_healthy(struct http_pool *p)
{
	if (p->v.limit >= p->max)
		return;
	if (++p->healthy >= p->v.limit) {
		p->healthy = 0;
		p->v.limit++;
	}
}

void
http_resp_throttled(const struct http_resp *resp)
{
	struct http_pool *p = resp->req->pool;

	if (p)
		pool_congested(p, resp->req->epoch);
}

static size_t
on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_req *r = userdata;

	if (buf_append(&r->resp_body, ptr, size * nmemb) < 0) {
		r->too_large = 1;
		return 0;
	}
	return size * nmemb;
}

/* Stores "name: value" lines; each value is followed by "\0\n" so that
 * http_resp_header() can hand out a C string in place. */
static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_req *r = userdata;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
		r->resp_headers.len = 0;        /* a new reply (after 100, redirects) */
	while (n && (ptr[n - 1] == '\n' || ptr[n - 1] == '\r'))
		n--;
	if (n && memchr(ptr, ':', n)) {
		if (buf_append(&r->resp_headers, ptr, n) < 0 ||
		    buf_append(&r->resp_headers, "\0\n", 2) < 0)
			return 0;
	}
	return size * nmemb;
}

static void
pump(struct http_pool *p)
{
	while (p->v.in_flight < p->v.limit && p->q_head && !p->h->closing) {
		struct http_req *r = p->q_head;

		p->q_head = r->q_next;
		if (!p->q_head)
			p->q_tail = NULL;
		r->q_next = NULL;
		r->queued = 0;
		p->v.in_flight++;
		start_attempt(r);
	}
}

/* Ends a request: runs its completion and frees it. */
static void
finish(struct http_req *r, long status, int transport, int cancelled, const char *error)
{
	struct http_pool *p = r->pool;
	struct http_resp resp = {
		.status = status,
		.transport_error = transport,
		.cancelled = cancelled,
		.error = error,
		.body = r->resp_body.data ? r->resp_body.data : "",
		.body_len = r->resp_body.len,
		.attempts = r->attempts,
		.req = r,
	};

	if (r->finished)
		return;
	r->finished = 1;
	if (r->ready)
		ready_unlink(p->h, r);
	if (r->queued) {
		struct http_req **pp = &p->q_head, *prev = NULL;

		while (*pp && *pp != r) {
			prev = *pp;
			pp = &(*pp)->q_next;
		}
		if (*pp)
			*pp = r->q_next;
		if (p->q_tail == r)
			p->q_tail = prev;
		r->queued = 0;
	} else {
		p->v.in_flight--;
	}
	if (r->easy) {
		curl_multi_remove_handle(p->h->multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	if (r->retry_timer)
		uv_timer_stop(r->retry_timer);
	DLIST_UNLINK(p->h->all, r);
	if (r->done)
		r->done(&resp, r->done_arg);
	http_req_free(r);
	pump(p);
}

static void
on_retry_timer(uv_timer_t *t)
{
	start_attempt(t->data);
}

static void
start_attempt(struct http_req *r)
{
	struct http_pool *p = r->pool;
	CURL *e;
	long timeout;
	size_t i;
	int rc;

	r->attempts++;
	r->epoch = p->epoch;
	r->too_large = 0;
	r->errbuf[0] = '\0';
	r->resp_body.len = 0;
	r->resp_headers.len = 0;
	if (r->resp_body.data)
		r->resp_body.data[0] = '\0';
	if (r->start && (rc = r->start(r, r->hook_arg)) < 0) {
		finish(r, 0, 1, 0, "request could not be prepared");
		return;
	}
	curl_slist_free_all(r->slist);
	r->slist = NULL;
	for (i = 0; i < r->n_headers; i++) {
		struct curl_slist *s = curl_slist_append(r->slist, r->headers[i]);

		if (!s) {
			finish(r, 0, 1, 0, "out of memory");
			return;
		}
		r->slist = s;
	}
	if (http__header_index(r, "Expect") < 0) {
		struct curl_slist *s = curl_slist_append(r->slist, "Expect:");

		if (s)
			r->slist = s;
	}
	e = curl_easy_init();
	if (!e) {
		finish(r, 0, 1, 0, "out of memory");
		return;
	}
	r->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->slist);
	curl_easy_setopt(e, CURLOPT_USERAGENT, HTTP_USER_AGENT);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	timeout = r->timeout_ms;
	if (p->h->max_timeout_ms && (timeout <= 0 || timeout > p->h->max_timeout_ms))
		timeout = p->h->max_timeout_ms;
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout > 0 && timeout < 10000 ? timeout
	                                                                             : 10000L);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_BODY);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, HTTP_MAX_IDLE_S);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, p->verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, p->verify ? 2L : 0L);
	if (p->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, p->ca_file);
	if (p->cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, p->cert_file);
	if (p->key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, p->key_file);
	if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(r->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
		if (r->body.len || strcmp(r->method, "DELETE") != 0) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body.data ? r->body.data : "");
		}
	}
	p->v.requests++;
	if (curl_multi_add_handle(p->h->multi, e) != CURLM_OK)
		finish(r, 0, 1, 0, "could not start the transfer");
}

static void
attempt_done(struct http_req *r, CURLcode result)
{
	long status = 0;
	int transport = result != CURLE_OK;
	const char *error = NULL;
	long delay = -1;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(r->pool->h->multi, r->easy);
	curl_easy_cleanup(r->easy);
	r->easy = NULL;
	pool_count_code(r->pool, transport ? 0 : status);
	if (transport) {
		status = 0;
		if (r->too_large || result == CURLE_FILESIZE_EXCEEDED)
			error = "response body larger than the limit";
		else
			error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(result);
	} else if (status == 429 || status >= 500) {
		pool_congested(r->pool, r->epoch);
	} else if (status < 400) {
		pool_healthy(r->pool);
	}
	if (r->retry && r->attempts < r->max_attempts && !r->pool->h->closing &&
	    !r->too_large && result != CURLE_FILESIZE_EXCEEDED) {
		struct http_resp resp = {
			.status = status, .transport_error = transport, .error = error,
			.body = r->resp_body.data ? r->resp_body.data : "",
			.body_len = r->resp_body.len, .attempts = r->attempts, .req = r,
		};

		delay = r->retry(&resp, r->hook_arg);
	}
	if (delay >= 0) {
		if (!r->retry_timer) {
			r->retry_timer = calloc(1, sizeof(*r->retry_timer));
			if (!r->retry_timer || uv_timer_init(r->pool->h->loop, r->retry_timer) < 0) {
				free(r->retry_timer);
				r->retry_timer = NULL;
				finish(r, status, transport, 0, error);
				return;
			}
			r->pool->h->handles++;
		}
		r->retry_timer->data = r;
		uv_timer_start(r->retry_timer, on_retry_timer, (uint64_t)delay, 0);
		return;
	}
	finish(r, status, transport, 0, error);
}

/* A request whose reply is in, taken off the queue of those waiting for
 * their completion (finish() takes a cancelled one off too). */
static void
ready_unlink(struct http *h, struct http_req *r)
{
	struct http_req **pp = &h->ready_head, *prev = NULL;

	while (*pp && *pp != r) {
		prev = *pp;
		pp = &(*pp)->ready_next;
	}
	if (*pp)
		*pp = r->ready_next;
	if (h->ready_tail == r)
		h->ready_tail = prev;
	r->ready_next = NULL;
	r->ready = 0;
	if (!h->ready_head) {
		uv_check_stop(&h->check);
		uv_idle_stop(&h->idle);
	}
}

static void
on_idle(uv_idle_t *i)
{
	(void)i;
}

/* One waiting completion a loop turn: between two, the loop polls, and an
 * urgent reply that came in the meantime completes first. */
static void
on_check(uv_check_t *c)
{
	struct http *h = c->data;
	struct http_req *r = h->ready_head;

	if (!r)
		return;
	ready_unlink(h, r);
	attempt_done(r, r->result);
}

static void
check_multi_info(struct http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		struct http_req *r = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r->urgent || h->closing) {
			attempt_done(r, msg->data.result);
			continue;
		}
		r->result = msg->data.result;
		r->ready = 1;
		if (h->ready_tail)
			h->ready_tail->ready_next = r;
		else
			h->ready_head = r;
		h->ready_tail = r;
		uv_check_start(&h->check, on_check);
		uv_idle_start(&h->idle, on_idle);
	}
}

void
http_req_urgent(struct http_req *r)
{
	r->urgent = 1;
}

int
http_submit(struct http_pool *p, struct http_req *r, http_done_cb done, void *arg)
{
	if (p->h->closing) {
		http_req_free(r);
		return -ECANCELED;
	}
	r->h = p->h;
	r->pool = p;
	r->done = done;
	r->done_arg = arg;
	r->queued = 1;
	if (r->urgent && p->q_head && !p->q_tail->urgent) {
		struct http_req **pp = &p->q_head;

		while ((*pp)->urgent)           /* behind the urgent ones already queued */
			pp = &(*pp)->q_next;
		r->q_next = *pp;
		*pp = r;
	} else {
		if (p->q_tail)
			p->q_tail->q_next = r;
		else
			p->q_head = r;
		p->q_tail = r;
	}
	DLIST_PUSH(p->h->all, r);
	pump(p);
	return 0;
}

void
http_pool_cancel(struct http_pool *p)
{
	struct http_req *r, *next;

	for (r = p->h->all; r; r = next) {
		next = r->next;
		if (r->pool == p) {
			finish(r, 0, 1, 1, "cancelled");
			next = p->h->all;       /* completions may have changed the list */
		}
	}
}

static void
pool_release(struct http_pool *p)
{
	free(p->name);
	free(p->ca_file);
	free(p->cert_file);
	free(p->key_file);
	free(p->codes);
	free(p);
}

void
http_pool_free(struct http_pool *p)
{
	struct http_pool **pp;
	struct http *h;

	if (!p)
		return;
	h = p->h;
	http_pool_cancel(p);
	for (pp = &h->pools; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pool_release(p);
	engine_idle(h);
}

void
http_cancel_all(struct http *h)
{
	while (h->all)
		finish(h->all, 0, 1, 1, "cancelled");
}

void
http_close(struct http *h)
{
	if (!h)
		return;
	h->closing = 1;
	http_cancel_all(h);
	multi_free(h);
	uv_close((uv_handle_t *)&h->timer, handle_closed);
	uv_close((uv_handle_t *)&h->check, handle_closed);
	uv_close((uv_handle_t *)&h->idle, handle_closed);
}
