/* http_int — what the engine (http.c) and the request object (http_req.c)
 * share: the engine, its pools and a request with its transfer state.  Not
 * for other modules: they see include/http.h. */
#ifndef GLUEMETAD_HTTP_INT_H
#define GLUEMETAD_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <uv.h>

#include "http.h"
#include "util.h"

#define HTTP_MAX_HEADER_BYTES (64 * 1024)

struct http {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	uv_check_t check;               /* runs the completions that wait, one a turn */
	uv_idle_t idle;                 /* keeps the loop from sleeping while they wait */
	struct http_req *ready_head, *ready_tail;
	struct http_pool *pools;
	struct http_req *all;           /* every submitted, unfinished request */
	struct sock_ctx *socks;
	unsigned handles;               /* open libuv handles */
	int closing;
	long max_timeout_ms;            /* GLUEMETAD_HTTP_TIMEOUT_MS, or 0 */
};

struct sock_ctx {
	uv_poll_t poll;
	curl_socket_t fd;
	struct http *h;
	struct sock_ctx *prev, *next;   /* the engine's open sockets */
};

struct http_pool {
	struct http *h;
	struct http_pool *next;
	char *name;
	unsigned max;
	struct http_pool_view v;        /* in flight, the AIMD limit, counts */
	struct http_code_count *codes;  /* v.codes, owned; cap entries */
	size_t codes_cap;
	unsigned healthy;               /* healthy replies since the last change */
	uint64_t epoch;                 /* decreases so far; see http_resp_throttled() */
	struct http_req *q_head, *q_tail;
	int verify;
	char *ca_file, *cert_file, *key_file;
};

struct http_req {
	char *method, *url;
	char **headers;                 /* "Name: value" */
	size_t n_headers;
	struct buf body;
	long timeout_ms;
	unsigned max_attempts, attempts;
	uint64_t epoch;                 /* the pool's epoch when this attempt started */
	http_start_cb start;
	http_retry_cb retry;
	void *hook_arg;
	http_done_cb done;
	void *done_arg;

	struct http *h;
	struct http_pool *pool;
	struct http_req *q_next;        /* pool queue */
	struct http_req *prev, *next;   /* engine's list */
	CURL *easy;
	struct curl_slist *slist;
	struct buf resp_body;
	struct buf resp_headers;        /* "name: value\n" lines of the last reply */
	uv_timer_t *retry_timer;
	int queued, too_large, finished;
	int urgent;                     /* queued and completed ahead of requests that are not */
	int ready;                      /* its reply is in, its completion waits in h->ready_* */
	CURLcode result;                /* the transfer's, while ready */
	struct http_req *ready_next;
	char errbuf[CURL_ERROR_SIZE];
};

/* One of the engine's libuv handles is gone; the last one frees the
 * engine (http.c). */
void http__handle_gone(struct http *h);
/* The index of r's header name (any case), or -1 (http_req.c). */
int http__header_index(const struct http_req *r, const char *name);

#endif
