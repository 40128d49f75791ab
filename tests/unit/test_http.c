/* http: the curl-multi-on-libuv engine against a small HTTP/1.1 server
 * running in the same loop: bounded concurrency, connection reuse, the
 * response size cap (a 1 GiB body is an error, not an allocation), retries,
 * cancellation, no connection held once the last pool is gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <uv.h>

#include "http.h"

#define CHUNK (1 << 20)

struct server {
	uv_tcp_t tcp;
	int port;
	int connections, outstanding, max_outstanding, requests;
	int open;                       /* connections the client has not closed */
	char *chunk;
	struct conn *gated[16];         /* /gate: held until `gate` of them wait */
	int n_gated, gate;
};

struct conn {
	uv_tcp_t tcp;
	struct server *srv;
	char req[8192];
	size_t len;
	size_t streamed, stream_limit;
	uv_timer_t delay;
	const char *delayed;            /* reply sent after the delay */
	int closing, open_handles;
};

static uv_loop_t loop;
static struct server srv;

static void
conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->open_handles == 0)
		free(c);
}

static void
conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	c->srv->open--;
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
	uv_close((uv_handle_t *)&c->delay, conn_closed);
}

static void
on_written(uv_write_t *w, int status)
{
	free(w->data);
	free(w);
	(void)status;
}

static void
send_text(struct conn *c, const char *text)
{
	uv_write_t *w = malloc(sizeof(*w));
	char *copy = strdup(text);               /* uv_buf_t holds a char * */
	uv_buf_t b = uv_buf_init(copy, (unsigned)strlen(text));

	assert_non_null(w);
	assert_non_null(copy);
	w->data = copy;
	uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
}

static void stream_more(uv_write_t *w, int status);

static void
stream_chunk(struct conn *c)
{
	uv_write_t *w = malloc(sizeof(*w));
	uv_buf_t b = uv_buf_init(c->srv->chunk, CHUNK);

	w->data = c;
	c->streamed += CHUNK;
	if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, stream_more) < 0)
		free(w);
}

static void
stream_more(uv_write_t *w, int status)
{
	struct conn *c = w->data;

	free(w);
	if (status < 0 || c->closing)
		return;
	if (c->streamed < c->stream_limit)
		stream_chunk(c);
	else
		conn_close(c);
}

static void
on_delay(uv_timer_t *t)
{
	struct conn *c = t->data;

	c->srv->outstanding--;
	send_text(c, c->delayed ? c->delayed : "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow");
	c->delayed = NULL;
}

static void
handle_request(struct conn *c)
{
	struct server *s = c->srv;

	s->requests++;
	if (strncmp(c->req, "GET /ok ", 8) == 0) {
		send_text(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-First: 1\r\n"
		             "X-Amzn-RequestId: abc-123\r\nX-Last:  tail \r\n\r\nok");
	} else if (strncmp(c->req, "GET /slow ", 10) == 0) {
		if (++s->outstanding > s->max_outstanding)
			s->max_outstanding = s->outstanding;
		uv_timer_start(&c->delay, on_delay, 50, 0);
	} else if (strncmp(c->req, "GET /gate ", 10) == 0) {
		int i;

		assert_true(s->n_gated < (int)(sizeof(s->gated) / sizeof(s->gated[0])));
		s->gated[s->n_gated++] = c;
		if (s->n_gated == s->gate) {
			/* every reply written at once: the client finds all of its
			 * sockets readable in the same loop turn */
			for (i = 0; i < s->n_gated; i++)
				send_text(s->gated[i], "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngate");
			s->n_gated = 0;
		}
	} else if (strncmp(c->req, "GET /busy503 ", 13) == 0 ||
	           strncmp(c->req, "GET /busy429 ", 13) == 0) {
		if (++s->outstanding > s->max_outstanding)
			s->max_outstanding = s->outstanding;
		c->delayed = c->req[9] == '5' ? "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"
		                              : "HTTP/1.1 429 Slow Down\r\nContent-Length: 0\r\n\r\n";
		uv_timer_start(&c->delay, on_delay, 30, 0);
	} else if (strncmp(c->req, "GET /throttle400 ", 17) == 0) {
		send_text(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 32\r\n\r\n"
		             "{\"__type\":\"ThrottlingException\"}");
	} else if (strncmp(c->req, "GET /huge ", 10) == 0) {
		send_text(c, "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n");
		c->stream_limit = (size_t)1 << 30;
		stream_chunk(c);
	} else if (strncmp(c->req, "GET /stream ", 12) == 0) {
		send_text(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
		c->stream_limit = (size_t)80 << 20;
		stream_chunk(c);
	} else if (strncmp(c->req, "GET /flaky ", 11) == 0) {
		if (s->requests % 2)
			send_text(c, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
		else
			send_text(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	} else {
		send_text(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	}
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct conn *c = h->data;

	(void)hint;
	*b = uv_buf_init(c->req + c->len, (unsigned)(sizeof(c->req) - 1 - c->len));
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = st->data;
	char *end;

	(void)b;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	while ((end = strstr(c->req, "\r\n\r\n"))) {
		size_t used = (size_t)(end + 4 - c->req);

		handle_request(c);
		memmove(c->req, c->req + used, c->len - used + 1);
		c->len -= used;
	}
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct conn *c = calloc(1, sizeof(*c));

	assert_int_equal(status, 0);
	c->srv = &srv;
	uv_tcp_init(&loop, &c->tcp);
	uv_timer_init(&loop, &c->delay);
	c->tcp.data = c->delay.data = c;
	c->open_handles = 2;
	srv.connections++;
	srv.open++;
	assert_int_equal(uv_accept(server, (uv_stream_t *)&c->tcp), 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static int
setup(void **state)
{
	struct sockaddr_in addr;
	struct sockaddr_storage name;
	int len = sizeof(name);

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	uv_loop_init(&loop);
	memset(&srv, 0, sizeof(srv));
	srv.chunk = calloc(1, CHUNK);
	memset(srv.chunk, 'x', CHUNK);
	uv_tcp_init(&loop, &srv.tcp);
	uv_ip4_addr("127.0.0.1", 0, &addr);
	assert_int_equal(uv_tcp_bind(&srv.tcp, (const struct sockaddr *)&addr, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&srv.tcp, 64, on_connection), 0);
	uv_tcp_getsockname(&srv.tcp, (struct sockaddr *)&name, &len);
	srv.port = ntohs(((struct sockaddr_in *)&name)->sin_port);
	return 0;
}

static void
close_all(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h)) {
		if ((h->type == UV_TCP && h != (uv_handle_t *)&srv.tcp) ||
		    (h->type == UV_TIMER && h->data && h->data != &srv)) {
			conn_close(h->data);
			return;
		}
		uv_close(h, NULL);
	}
}

static int
teardown(void **state)
{
	(void)state;
	uv_walk(&loop, close_all, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(srv.chunk);
	curl_global_cleanup();
	return 0;
}

struct result {
	int done;
	char request_id[32], last[16];
	int no_such;
	long status;
	int transport, cancelled;
	char body[64];
	char error[256];
	unsigned attempts;
};

static void
on_done(const struct http_resp *resp, void *arg)
{
	struct result *r = arg;

	r->done = 1;
	r->status = resp->status;
	r->transport = resp->transport_error;
	r->cancelled = resp->cancelled;
	r->attempts = resp->attempts;
	snprintf(r->body, sizeof(r->body), "%s", resp->body);
	snprintf(r->error, sizeof(r->error), "%s", resp->error ? resp->error : "");
	snprintf(r->request_id, sizeof(r->request_id), "%s",
	         http_resp_header(resp, "x-amzn-requestid") ? http_resp_header(resp, "x-amzn-requestid") : "");
	snprintf(r->last, sizeof(r->last), "%s",
	         http_resp_header(resp, "X-Last") ? http_resp_header(resp, "X-Last") : "");
	r->no_such = http_resp_header(resp, "X-Missing") == NULL;
}

static void
url(char *out, size_t n, const char *path)
{
	snprintf(out, n, "http://127.0.0.1:%d%s", srv.port, path);
}

static void
run_until(struct result *rs, size_t n)
{
	size_t i, done;

	do {
		uv_run(&loop, UV_RUN_ONCE);
		for (done = 0, i = 0; i < n; i++)
			done += rs[i].done;
	} while (done < n);
}

static void
finish_engine(struct http *h)
{
	http_close(h);
	uv_run(&loop, UV_RUN_NOWAIT);
}

static void
test_bounded_and_reused(void **state)
{
	struct http *h = http_new(&loop);
	struct http_pool *p = http_pool_new(h, "t", 3, NULL);
	struct result rs[12] = {{0}};
	char u[128];
	int i;

	(void)state;
	url(u, sizeof(u), "/slow");
	for (i = 0; i < 12; i++)
		assert_int_equal(http_submit(p, http_req_new("GET", u), on_done, &rs[i]), 0);
	assert_int_equal(http_pool_view(p)->in_flight, 3);
	run_until(rs, 12);
	for (i = 0; i < 12; i++) {
		assert_int_equal(rs[i].status, 200);
		assert_string_equal(rs[i].body, "slow");
	}
	assert_int_equal(srv.max_outstanding, 3);       /* in flight together, never more */
	assert_true(srv.connections <= 3);              /* connections were reused */
	assert_int_equal(http_pool_view(p)->requests, 12);
	finish_engine(h);
}

static struct result *ordered_base;
static int done_order[8], n_done;

static void
on_done_ordered(const struct http_resp *resp, void *arg)
{
	on_done(resp, arg);
	done_order[n_done++] = (int)((struct result *)arg - ordered_base);
}

/* Urgent requests go ahead of the queued ones that are not, and behind
 * urgent ones queued before them. */
static void
test_urgent_first(void **state)
{
	struct http *h = http_new(&loop);
	struct http_pool *p = http_pool_new(h, "t", 1, NULL);
	struct result rs[5] = {{0}};
	const int want[5] = { 0, 3, 4, 1, 2 };
	char u[128];
	int i;

	(void)state;
	ordered_base = rs;
	n_done = 0;
	url(u, sizeof(u), "/slow");
	for (i = 0; i < 5; i++) {
		struct http_req *r = http_req_new("GET", u);

		if (i >= 3)
			http_req_urgent(r);
		assert_int_equal(http_submit(p, r, on_done_ordered, &rs[i]), 0);
	}
	run_until(rs, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(rs[i].status, 200);
		assert_int_equal(done_order[i], want[i]);
	}
	finish_engine(h);
}

/* Replies that come in together complete urgent first: a listing page is
 * not held behind a batch of large replies that arrived with it; the
 * others complete in the order they were asked for. */
static void
test_urgent_completes_first(void **state)
{
	struct http *h = http_new(&loop);
	struct http_pool *p = http_pool_new(h, "t", 8, NULL);
	struct result rs[6] = {{0}};
	char u[128];
	int i;

	(void)state;
	ordered_base = rs;
	n_done = 0;
	srv.gate = 6;
	url(u, sizeof(u), "/gate");
	for (i = 0; i < 6; i++) {
		struct http_req *r = http_req_new("GET", u);

		if (i == 5)
			http_req_urgent(r);
		assert_int_equal(http_submit(p, r, on_done_ordered, &rs[i]), 0);
	}
	run_until(rs, 6);
	assert_int_equal(done_order[0], 5);
	for (i = 0; i < 6; i++)
		assert_int_equal(rs[i].status, 200);
	finish_engine(h);
}

static void
test_size_cap(void **state)
{
	struct http *h = http_new(&loop);
	struct http_pool *p = http_pool_new(h, "t", 2, NULL);
	struct result rs[2] = {{0}};
	char u[128];

	(void)state;
	url(u, sizeof(u), "/huge");
	http_submit(p, http_req_new("GET", u), on_done, &rs[0]);
	url(u, sizeof(u), "/stream");
	http_submit(p, http_req_new("GET", u), on_done, &rs[1]);
	run_until(rs, 2);
	assert_true(rs[0].transport);
	assert_string_equal(rs[0].error, "response body larger than the limit");
	assert_true(rs[1].transport);
	assert_string_equal(rs[1].error, "response body larger than the limit");
	finish_engine(h);
}

static long
retry_5xx(const struct http_resp *resp, void *arg)
{
	(void)arg;
	return resp->status >= 500 ? 10 : -1;
}

static int starts;

static int
count_start(struct http_req *req, void *arg)
{
	(void)arg;
	starts++;
	return http_req_set_header(req, "X-Attempt", starts % 2 ? "odd" : "even");
}

static void
test_retry(void **state)
{
	struct http *h = http_new(&loop);
	struct http_pool *p = http_pool_new(h, "t", 1, NULL);
	const struct http_pool_view *v;
	struct result r = {0};
	struct http_req *req;
	char u[128];

	(void)state;
	srv.requests = 0;
	starts = 0;
	url(u, sizeof(u), "/flaky");
	req = http_req_new("GET", u);
	http_req_hooks(req, count_start, retry_5xx, NULL);
	http_req_max_attempts(req, 3);
	http_submit(p, req, on_done, &r);
	run_until(&r, 1);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(starts, 2);            /* prepared (signed) again for the retry */
	/* every attempt counted under its status, ascending, by pool name */
	v = http_pool_view(p);
	assert_string_equal(v->name, "t");
	assert_int_equal(v->n_codes, 2);
	assert_int_equal(v->codes[0].code, 200);
	assert_int_equal(v->codes[0].n, 1);
	assert_int_equal(v->codes[1].code, 503);
	assert_int_equal(v->codes[1].n, 1);
	assert_int_equal(v->requests, 2);
	finish_engine(h);
}

static void
test_cancel(void **state)
{
	struct http *h = http_new(&loop);
	struct http_pool *p = http_pool_new(h, "t", 2, NULL);
	struct result rs[5] = {{0}};
	char u[128];
	int i;

	(void)state;
	url(u, sizeof(u), "/slow");
	for (i = 0; i < 5; i++)
		http_submit(p, http_req_new("GET", u), on_done, &rs[i]);
	uv_run(&loop, UV_RUN_NOWAIT);
	http_pool_cancel(p);
	for (i = 0; i < 5; i++) {
		assert_true(rs[i].done);
		assert_true(rs[i].cancelled);
	}
	assert_int_equal(http_pool_view(p)->in_flight, 0);
	assert_int_equal(http_pool_view(p)->n_codes, 0);       /* cancelled: not counted */
	http_pool_free(p);
	finish_engine(h);
}

static void
test_response_headers(void **state)
{
	struct http *h = http_new(&loop);
	struct http_pool *p = http_pool_new(h, "t", 1, NULL);
	struct result r = {0};
	char u[128];

	(void)state;
	url(u, sizeof(u), "/ok");
	http_submit(p, http_req_new("GET", u), on_done, &r);
	run_until(&r, 1);
	assert_string_equal(r.body, "ok");
	assert_string_equal(r.request_id, "abc-123");  /* any header, any case */
	assert_string_equal(r.last, "tail ");
	assert_true(r.no_such);
	finish_engine(h);
}

static void
test_connect_refused(void **state)
{
	struct http *h = http_new(&loop);
	struct http_pool *p = http_pool_new(h, "t", 1, NULL);
	struct result r = {0};

	(void)state;
	http_submit(p, http_req_new("GET", "http://127.0.0.1:1/"), on_done, &r);
	run_until(&r, 1);
	assert_true(r.transport);
	assert_int_equal(r.status, 0);
	assert_true(r.error[0]);
	/* a transport failure counts under code 0 */
	assert_int_equal(http_pool_view(p)->n_codes, 1);
	assert_int_equal(http_pool_view(p)->codes[0].code, 0);
	assert_int_equal(http_pool_view(p)->codes[0].n, 1);
	finish_engine(h);
}

static void
submit_n(struct http_pool *p, const char *path, struct result *rs, int n)
{
	char u[128];
	int i;

	url(u, sizeof(u), path);
	for (i = 0; i < n; i++)
		assert_int_equal(http_submit(p, http_req_new("GET", u), on_done, &rs[i]), 0);
}

static void
flag_throttled(const struct http_resp *resp, void *arg)
{
	on_done(resp, arg);
	http_resp_throttled(resp);
}

/* AIMD: the in-flight bound halves once per window of throttled replies,
 * never below 1, and grows back by one per window of healthy replies. */
static void
test_adaptive_limit(void **state)
{
	struct http *h = http_new(&loop);
	struct http_pool *p = http_pool_new(h, "t", 8, NULL);
	struct result rs[40] = {{0}};
	char u[128];

	(void)state;
	assert_int_equal(http_pool_view(p)->limit, 8);
	/* a window of 8 refusals: one decrease, not eight */
	submit_n(p, "/busy503", rs, 8);
	assert_int_equal(http_pool_view(p)->in_flight, 8);
	run_until(rs, 8);
	assert_int_equal(rs[0].status, 503);
	assert_int_equal(http_pool_view(p)->limit, 4);
	assert_int_equal(http_pool_view(p)->throttled, 8);
	assert_int_equal(srv.max_outstanding, 8);

	/* 429s: the server sees at most 4 at once, and the limit bottoms at 1 */
	memset(rs, 0, sizeof(rs));
	srv.max_outstanding = 0;
	submit_n(p, "/busy429", rs, 12);
	assert_int_equal(http_pool_view(p)->in_flight, 4);
	run_until(rs, 12);
	assert_int_equal(rs[11].status, 429);
	assert_int_equal(srv.max_outstanding, 4);
	assert_int_equal(http_pool_view(p)->limit, 1);
	assert_int_equal(http_pool_view(p)->limit_min, 1);

	/* healthy again: 1+2+...+7 = 28 replies bring it back to 8, no further */
	memset(rs, 0, sizeof(rs));
	srv.max_outstanding = 0;
	submit_n(p, "/slow", rs, 40);
	assert_int_equal(http_pool_view(p)->in_flight, 1);
	run_until(rs, 40);
	assert_int_equal(rs[39].status, 200);
	assert_int_equal(http_pool_view(p)->limit, 8);
	assert_true(srv.max_outstanding > 1 && srv.max_outstanding <= 8);
	assert_int_equal(http_pool_view(p)->limit_min, 1);

	/* a 400 the caller knows to be throttling (AWS ThrottlingException) */
	memset(rs, 0, sizeof(rs));
	url(u, sizeof(u), "/throttle400");
	http_submit(p, http_req_new("GET", u), flag_throttled, &rs[0]);
	run_until(rs, 1);
	assert_int_equal(rs[0].status, 400);
	assert_int_equal(http_pool_view(p)->limit, 4);
	finish_engine(h);
}

static void
on_deadline(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* An engine without pools (no run) holds no connection: the last pool
 * takes the connections curl kept for reuse with it.  While a pool is
 * left they stay and are reused, and after the last one a new pool opens
 * new connections. */
static void
test_idle_closes_connections(void **state)
{
	struct http *h = http_new(&loop);
	struct http_pool *a = http_pool_new(h, "a", 2, NULL);
	struct http_pool *b = http_pool_new(h, "b", 2, NULL);
	struct result rs[5] = {{0}};
	uv_timer_t deadline;
	int expired = 0, i;
	char u[128];

	(void)state;
	url(u, sizeof(u), "/slow");
	for (i = 0; i < 2; i++)         /* at once: two connections */
		assert_int_equal(http_submit(a, http_req_new("GET", u), on_done, &rs[i]), 0);
	run_until(rs, 2);
	assert_int_equal(srv.connections, 2);
	assert_int_equal(srv.open, 2);
	http_pool_free(b);              /* a is left: the connections stay */
	for (i = 2; i < 4; i++)
		assert_int_equal(http_submit(a, http_req_new("GET", u), on_done, &rs[i]), 0);
	run_until(rs + 2, 2);
	assert_int_equal(rs[3].status, 200);
	assert_int_equal(srv.connections, 2);   /* reused */
	http_pool_free(a);              /* the last pool: the server sees both closed */
	uv_timer_init(&loop, &deadline);
	deadline.data = &expired;
	uv_timer_start(&deadline, on_deadline, 10000, 0);
	while (srv.open > 0 && !expired)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&deadline, NULL);
	assert_int_equal(srv.open, 0);
	a = http_pool_new(h, "a", 2, NULL);
	assert_int_equal(http_submit(a, http_req_new("GET", u), on_done, &rs[4]), 0);
	run_until(rs + 4, 1);
	assert_int_equal(rs[4].status, 200);
	assert_string_equal(rs[4].body, "slow");
	assert_int_equal(srv.connections, 3);
	finish_engine(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bounded_and_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_urgent_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_urgent_completes_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adaptive_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_closes_connections, setup, teardown),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
