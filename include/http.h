/* http — the HTTP engine: one curl multi handle driven by a libuv loop
 * through curl's socket API.  Requests go to a pool (one per endpoint)
 * that bounds how many are in flight; the rest wait in FIFO order.  Each
 * request ends in exactly one completion callback.  Nothing here blocks.
 *
 * Ownership: http_req_new() returns a request owned by the caller until
 * http_submit(), which takes it; the engine frees it after the completion
 * callback returns.  Pools belong to their engine. */
#ifndef GLUEMETAD_HTTP_H
#define GLUEMETAD_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct uv_loop_s;
struct http;
struct http_pool;
struct http_req;

#define HTTP_MAX_BODY ((size_t)64 << 20)        /* response body cap */

struct http_resp {
	long status;                /* 0 when no HTTP reply was received */
	int transport_error;        /* 1: connect/timeout/reset/too large/cancelled */
	int cancelled;
	const char *error;          /* transport error text, or NULL */
	const char *body;           /* NUL-terminated, never NULL */
	size_t body_len;
	unsigned attempts;          /* attempts made, >= 1 */
	const struct http_req *req;
};

typedef void (*http_done_cb)(const struct http_resp *resp, void *arg);
/* Called right before each attempt is sent (sign here).  Return 0, or a
 * negative errno to fail the request without sending it. */
typedef int (*http_start_cb)(struct http_req *req, void *arg);
/* Decides about a failed attempt: return a delay in ms to retry after,
 * or -1 to complete with this response. */
typedef long (*http_retry_cb)(const struct http_resp *resp, void *arg);

struct http_tls {
	int verify;                 /* verify peer and host name */
	const char *ca_file;        /* PEM bundle, or NULL for the system store */
	const char *cert_file;      /* client certificate, or NULL */
	const char *key_file;
};

struct http *http_new(struct uv_loop_s *loop);
struct uv_loop_s *http_loop(const struct http *h);
/* Cancels everything in flight (completions run with cancelled=1) and
 * frees the engine once its libuv handles are closed; the loop must run
 * afterwards for that to finish. */
void http_close(struct http *h);
/* Cancels every queued and running request; completions run. */
void http_cancel_all(struct http *h);

/* A bounded endpoint.  tls may be NULL (verify on, system store).
 * max_in_flight is the most requests in flight at once; the pool adapts
 * below it (AIMD): the limit halves, down to 1, when the endpoint throttles
 * (HTTP 429, any 5xx, or a reply the caller flags with
 * http_resp_throttled()) and grows by one after a window of as many
 * healthy (1xx-3xx) replies as the limit, back up to max_in_flight. */
struct http_pool *http_pool_new(struct http *h, const char *name, unsigned max_in_flight,
                                const struct http_tls *tls);
/* Cancels the pool's queued and running requests; completions run. */
void http_pool_cancel(struct http_pool *p);
/* Frees a pool with no request left (after its completions ran).  The
 * last pool of the engine takes the connections kept for reuse with it:
 * an engine without pools holds no connection. */
void http_pool_free(struct http_pool *p);
/* How many attempts of a pool ended with one HTTP status; code 0 counts
 * the attempts that failed in transport (connect, timeout, reset, a body
 * over the limit).  Attempts cancelled in flight are not counted. */
struct http_code_count {
	long code;
	uint64_t n;
};
/* What a pool shows: owned by the engine, read-only outside, valid while
 * the pool lives (codes until the pool's next completed attempt). */
struct http_pool_view {
	const char *name;               /* as given to http_pool_new() */
	unsigned in_flight;
	unsigned limit, limit_min;      /* the current in-flight bound, its lowest */
	uint64_t requests;              /* attempts sent */
	uint64_t throttled;             /* throttled replies seen */
	const struct http_code_count *codes;    /* by code, ascending */
	size_t n_codes;
};
const struct http_pool_view *http_pool_view(const struct http_pool *p);

struct http_req *http_req_new(const char *method, const char *url);
struct http_req *http_req_free(struct http_req *r);        /* only if never submitted */
int http_req_header(struct http_req *r, const char *name, const char *value);
/* Replaces a header set before (by case-insensitive name), or adds it. */
int http_req_set_header(struct http_req *r, const char *name, const char *value);
int http_req_body(struct http_req *r, const void *data, size_t len);   /* copied */
/* Queued ahead of the pool's requests that are not urgent (behind urgent
 * ones), and completed as soon as its reply is in: for a request that the
 * caller's other work waits on.  The completions of the others run one a
 * loop turn, in the order their replies came, so that a reply the run
 * waits on (a listing page) is not held behind a batch of large ones that
 * arrived with it. */
void http_req_urgent(struct http_req *r);
void http_req_timeout(struct http_req *r, long total_ms);
void http_req_hooks(struct http_req *r, http_start_cb start, http_retry_cb retry, void *arg);
void http_req_max_attempts(struct http_req *r, unsigned n);
const char *http_req_method(const struct http_req *r);
const char *http_req_url(const struct http_req *r);
const void *http_req_body_data(const struct http_req *r, size_t *len);
/* Response header of the last attempt (case-insensitive), or NULL. */
const char *http_resp_header(const struct http_resp *resp, const char *name);

/* Tells the request's pool that this reply means "slow down" although its
 * status does not say so (AWS answers ThrottlingException with a 400).
 * Call it from the retry hook or the completion. */
void http_resp_throttled(const struct http_resp *resp);

int http_submit(struct http_pool *p, struct http_req *r, http_done_cb done, void *arg);

#endif
