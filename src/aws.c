/* aws — see include/aws.h. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "aws.h"
#include "http.h"
#include "sigv4.h"
#include "util.h"

#define AWS_MAX_ATTEMPTS 3
/* Throttling and 5xx replies get more attempts: the pool halves its
 * concurrency on each, so retrying slows us down rather than piling on,
 * and a run under sustained throttling still completes. */
#define AWS_MAX_ATTEMPTS_THROTTLED 8
#define AWS_MAX_BACKOFF_MS 20000
#define AWS_RETRY_QUOTA 500
#define AWS_RETRY_COST 5
#define AWS_TIMEOUT_RETRY_COST 10

struct aws_client {
	struct http_pool *pool;
	char *service, *target_prefix, *region, *url, *host, *path;
	char *access_key, *secret_key, *session_token;
	int quota;
	long long skew_s;               /* the service's clock minus ours */
};

struct call {
	struct aws_client *c;
	char *op;
	aws_done_cb cb;
	void *arg;
	int quota_taken;
	int skew_retried;
};

char *
aws_endpoint_for(const char *service, const char *region)
{
	const char *suffix = "amazonaws.com";
	struct buf b = {0};
	regex_t rx;
	int ok;

	if (regcomp(&rx, "^[a-z]{2}(-[a-z]+)+-[0-9]+$", REG_EXTENDED | REG_NOSUB) != 0)
		return NULL;
	ok = regexec(&rx, region, 0, NULL, 0) == 0;
	regfree(&rx);
	if (!ok)
		return NULL;
	if (strncmp(region, "cn-", 3) == 0)
		suffix = "amazonaws.com.cn";
	if (buf_printf(&b, "https://%s.%s.%s/", service, region, suffix) < 0)
		return NULL;
	return buf_steal(&b);
}

/* Host as SigV4 signs it and curl sends it: lower case, the port only
 * when it is not the scheme's default. */
int
aws_url_parts(const char *url, char **ret_host, char **ret_path, struct gm_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	struct buf b = {0};
	int r = -EINVAL;
	size_t i;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		gm_err_set(err, "'%s' is not a valid URL", url);
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		gm_err_set(err, "'%s': only http and https are supported", url);
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
	(void)curl_url_get(u, CURLUPART_PATH, &path, 0);
	for (i = 0; host[i]; i++)
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	if (buf_puts(&b, host) < 0 ||
	    (port && buf_printf(&b, ":%s", port) < 0)) {
		r = -ENOMEM;
		goto out;
	}
	*ret_host = buf_steal(&b);
	*ret_path = strdup(path && *path ? path : "/");
	r = *ret_path ? 0 : -ENOMEM;
out:
	buf_clear(&b);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return r;
}

struct aws_client *
aws_client_new(struct http_pool *pool, const char *service, const char *target_prefix,
               const char *region, const char *endpoint_url, const struct aws_creds *creds,
               struct gm_err *err)
{
	struct aws_client *c = calloc(1, sizeof(*c));

	if (!c)
		goto oom;
	c->pool = pool;
	c->quota = AWS_RETRY_QUOTA;
	c->url = endpoint_url ? strdup(endpoint_url) : aws_endpoint_for(service, region);
	if (!c->url) {
		gm_err_set(err, "'%s' is not a valid AWS region name", region);
		return aws_client_free(c);
	}
	if (aws_url_parts(c->url, &c->host, &c->path, err) < 0)
		return aws_client_free(c);
	if (!(c->service = strdup(service)) || !(c->target_prefix = strdup(target_prefix)) ||
	    !(c->region = strdup(region)) || !(c->access_key = strdup(creds->access_key)) ||
	    !(c->secret_key = strdup(creds->secret_key)) ||
	    (creds->session_token && !(c->session_token = strdup(creds->session_token))))
		goto oom;
	return c;
oom:
	gm_err_set(err, "out of memory");
	return aws_client_free(c);
}

struct aws_client *
aws_client_free(struct aws_client *c)
{
	if (!c)
		return NULL;
	free(c->service);
	free(c->target_prefix);
	free(c->region);
	free(c->url);
	free(c->host);
	free(c->path);
	free(c->access_key);
	str_wipe_free(c->secret_key);
	str_wipe_free(c->session_token);
	free(c);
	return NULL;
}

int
aws_sign_post(struct http_req *req, const char *host, const char *path, const char *region,
              const char *service, const struct aws_creds *creds, const char *content_type,
              const char *target, long long epoch)
{
	struct sigv4_header hs[5];
	struct sigv4_result sig = {0};
	char date[17];
	const void *body;
	size_t len, n = 0;
	int r;

	sigv4_amz_date(epoch, date);
	body = http_req_body_data(req, &len);
	hs[n++] = (struct sigv4_header){ "Content-Type", content_type };
	hs[n++] = (struct sigv4_header){ "Host", host };
	hs[n++] = (struct sigv4_header){ "X-Amz-Date", date };
	if (target)
		hs[n++] = (struct sigv4_header){ "X-Amz-Target", target };
	if (creds->session_token)
		hs[n++] = (struct sigv4_header){ "X-Amz-Security-Token", creds->session_token };
	struct sigv4_input in = {
		.method = "POST", .path = path, .headers = hs, .n_headers = n,
		.body = body, .body_len = len, .region = region, .service = service,
		.access_key = creds->access_key, .secret_key = creds->secret_key, .amz_date = date,
		.normalize_path = 1,
	};
	if ((r = sigv4_sign(&in, &sig)) < 0)
		return r;
	if ((r = http_req_set_header(req, "Content-Type", content_type)) < 0 ||
	    (r = http_req_set_header(req, "X-Amz-Date", date)) < 0 ||
	    (target && (r = http_req_set_header(req, "X-Amz-Target", target)) < 0) ||
	    (creds->session_token &&
	     (r = http_req_set_header(req, "X-Amz-Security-Token", creds->session_token)) < 0))
		;
	else
		r = http_req_set_header(req, "Authorization", sig.authorization);
	sigv4_result_clear(&sig);
	return r < 0 ? r : 0;
}

/* Signs the request for this attempt with the current (skew-corrected) time. */
static int
on_start(struct http_req *req, void *arg)
{
	struct call *k = arg;
	struct aws_client *c = k->c;
	struct aws_creds creds = { c->access_key, c->secret_key, c->session_token };
	char target[256];

	snprintf(target, sizeof(target), "%s.%s", c->target_prefix, k->op);
	return aws_sign_post(req, c->host, c->path, c->region, c->service, &creds,
	                     "application/x-amz-json-1.1", target, (long long)time(NULL) + c->skew_s);
}

static const char *const throttling_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
	"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException", NULL
};
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	"InternalServiceException", "InternalFailure", "ServiceUnavailable", NULL
};

static int
in_list(const char *const *l, const char *s)
{
	for (; s && *l; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

int
aws_error_is_throttling(const char *code)
{
	return in_list(throttling_codes, code);
}

int
aws_error_is_transient(long status, const char *code)
{
	return status == 500 || status == 502 || status == 503 || status == 504 ||
	       in_list(transient_codes, code);
}

static void
copy_trunc(char *dst, size_t n, const char *src, size_t len)
{
	if (!n)
		return;
	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void
aws_parse_error(long status, const char *body, const char *error_type_header, char *code,
                size_t code_len, char *message, size_t message_len)
{
	cJSON *j = cJSON_Parse(body ? body : "");
	const cJSON *t = NULL, *m = NULL;
	const char *raw = NULL, *p;
	size_t len;

	code[0] = message[0] = '\0';
	if (cJSON_IsObject(j)) {
		t = cJSON_GetObjectItemCaseSensitive(j, "__type");
		if (!cJSON_IsString(t))
			t = cJSON_GetObjectItemCaseSensitive(j, "code");
		if (cJSON_IsString(t))
			raw = t->valuestring;
		m = cJSON_GetObjectItemCaseSensitive(j, "message");
		if (!cJSON_IsString(m))
			m = cJSON_GetObjectItemCaseSensitive(j, "Message");
		if (cJSON_IsString(m))
			copy_trunc(message, message_len, m->valuestring, strlen(m->valuestring));
	}
	if (!raw || !*raw)
		raw = error_type_header;
	if (raw && *raw) {
		len = strcspn(raw, ":");
		p = raw;
		for (size_t i = 0; i < len; i++)
			if (raw[i] == '#')
				p = raw + i + 1;
		copy_trunc(code, code_len, p, len - (size_t)(p - raw));
		/* header values may carry trailing whitespace */
		while (*code && (code[strlen(code) - 1] == ' ' || code[strlen(code) - 1] == '\r'))
			code[strlen(code) - 1] = '\0';
	}
	if (!code[0])
		snprintf(code, code_len, "%ld", status);
	cJSON_Delete(j);
}

/* A request refused because our clock is off: RequestTimeTooSkewed, or a
 * signature "expired"/"not yet current".  The service's Date header says by
 * how much; the client adjusts and the call retries once, as the SDKs do. */
static int
adjust_skew(struct call *k, const struct http_resp *resp, const char *code, const char *msg)
{
	const char *date = http_resp_header(resp, "Date");
	time_t server;

	if (k->skew_retried || !date)
		return 0;
	if (strcmp(code, "RequestTimeTooSkewed") != 0 && strcmp(code, "RequestExpired") != 0 &&
	    !(strcmp(code, "InvalidSignatureException") == 0 &&
	      (strstr(msg, "Signature expired") || strstr(msg, "Signature not yet current"))))
		return 0;
	server = curl_getdate(date, NULL);
	if (server < 0)
		return 0;
	k->c->skew_s = (long long)server - (long long)time(NULL);
	k->skew_retried = 1;
	return 1;
}

static long
on_retry(const struct http_resp *resp, void *arg)
{
	struct call *k = arg;
	char code[128], msg[256];
	int cost;
	double jitter;
	long cap;

	if (resp->status >= 200 && resp->status < 300)
		return -1;
	if (resp->transport_error) {
		if (resp->attempts >= AWS_MAX_ATTEMPTS)
			return -1;
		cost = strstr(resp->error ? resp->error : "", "imed out") ? AWS_TIMEOUT_RETRY_COST
		                                                          : AWS_RETRY_COST;
	} else {
		aws_parse_error(resp->status, resp->body, http_resp_header(resp, "X-Amzn-ErrorType"),
		                code, sizeof(code), msg, sizeof(msg));
		if (adjust_skew(k, resp, code, msg))
			return 0;
		if (aws_error_is_throttling(code))
			http_resp_throttled(resp);
		if (!aws_error_is_throttling(code) && !aws_error_is_transient(resp->status, code) &&
		    resp->status != 429)
			return -1;
		if (!aws_error_is_throttling(code) && resp->status < 500 && resp->status != 429 &&
		    resp->attempts >= AWS_MAX_ATTEMPTS)
			return -1;
		cost = AWS_RETRY_COST;
	}
	if (k->c->quota < cost)
		return -1;
	k->c->quota -= cost;
	k->quota_taken += cost;
	/* delay = random(0,1) * min(2^(attempt-1) s, 20 s), AWS's full jitter */
	cap = 1000L << (resp->attempts - 1 < 10 ? resp->attempts - 1 : 10);
	if (cap > AWS_MAX_BACKOFF_MS)
		cap = AWS_MAX_BACKOFF_MS;
	jitter = (double)(rand_u64() >> 11) / (double)(1ULL << 53);
	return (long)(jitter * (double)cap);
}

static void
on_done(const struct http_resp *resp, void *arg)
{
	struct call *k = arg;
	struct aws_result res = { .status = resp->status, .attempts = resp->attempts,
	                          .cancelled = resp->cancelled };
	char code[128], message[1024];
	cJSON *j = NULL;

	res.request_id = http_resp_header(resp, "x-amzn-RequestId");
	if (resp->transport_error) {
		res.code = resp->cancelled ? "Cancelled" : "TransportError";
		res.message = resp->error ? resp->error : "transport error";
	} else if (resp->status >= 200 && resp->status < 300) {
		j = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len)
		                   : cJSON_CreateObject();
		if (!cJSON_IsObject(j)) {
			res.code = "InvalidResponse";
			res.message = "the reply is not a JSON object";
		} else {
			res.ok = 1;
			res.json = j;
		}
	} else {
		aws_parse_error(resp->status, resp->body, http_resp_header(resp, "X-Amzn-ErrorType"),
		                code, sizeof(code), message, sizeof(message));
		res.code = code;
		res.message = message[0] ? message : "no message";
		/* the retry hook saw every attempt but the last */
		if (resp->attempts >= AWS_MAX_ATTEMPTS_THROTTLED && aws_error_is_throttling(code))
			http_resp_throttled(resp);
	}
	/* a success gives back the retry cost, as the standard mode does */
	if (res.ok && k->quota_taken) {
		k->c->quota += k->quota_taken;
		if (k->c->quota > AWS_RETRY_QUOTA)
			k->c->quota = AWS_RETRY_QUOTA;
	}
	k->cb(&res, k->arg);
	cJSON_Delete(j);
	free(k->op);
	free(k);
}

void
aws_call(struct aws_client *c, const char *op, cJSON *input, aws_done_cb cb, void *arg)
{
	struct call *k = calloc(1, sizeof(*k));
	struct http_req *req = NULL;
	char *body = NULL;
	struct aws_result fail = { .code = "ClientError", .message = "out of memory" };

	if (!k || !(k->op = strdup(op)))
		goto fail;
	k->c = c;
	k->cb = cb;
	k->arg = arg;
	body = input ? cJSON_PrintUnformatted(input) : strdup("{}");
	if (!body || !(req = http_req_new("POST", c->url)) ||
	    http_req_body(req, body, strlen(body)) < 0)
		goto fail;
	http_req_hooks(req, on_start, on_retry, k);
	http_req_max_attempts(req, AWS_MAX_ATTEMPTS_THROTTLED);
	http_req_timeout(req, 60000);
	free(body);
	cJSON_Delete(input);
	if (http_submit(c->pool, req, on_done, k) < 0) {
		fail.message = "shutting down";
		fail.cancelled = 1;
		req = NULL;
		goto fail2;
	}
	return;
fail:
	http_req_free(req);
	free(body);
	cJSON_Delete(input);
fail2:
	if (k)
		free(k->op);
	free(k);
	cb(&fail, arg);
}
