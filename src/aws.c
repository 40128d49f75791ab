/* aws — see include/aws.h. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "aws.h"
#include "backoff.h"
#include "http.h"
#include "jsonarena.h"
#include "sigv4.h"
#include "util.h"

#define AWS_MAX_BACKOFF_MS 20000
#define AWS_RETRY_QUOTA 500
#define AWS_RETRY_COST 5
#define AWS_TIMEOUT_RETRY_COST 10

struct aws_client {
	struct http_pool *pool;
	char *service, *target_prefix, *region, *url, *host, *path;
	const char *content_type;       /* of JSON calls */
	struct aws_creds_source src;    /* get NULL: requests go unsigned */
	const struct backoff *backoff;
	long timeout_ms;
	int quota;
	long long skew_s;               /* the service's clock minus ours */
};

enum call_kind { CALL_JSON, CALL_QUERY, CALL_S3_GET };

struct call {
	struct aws_client *c;
	enum call_kind kind;
	char *op;                       /* JSON: the operation; S3: the URL */
	char *body;                     /* JSON, QUERY: the body; S3: the path to sign */
	aws_done_cb cb;
	void *arg;
	int quota_taken;
	int failures;                   /* failed attempts that were not throttled */
	int skew_retried;
	int need_creds;                 /* the attempt found no usable credentials */
	int refresh_retried;            /* retried once after ExpiredToken */
	unsigned waits;                 /* refreshes waited for */
	unsigned gen;                   /* credentials generation that signed */
	int urgent;                     /* aws_call_urgent() */
};

#define AWS_MAX_CRED_WAITS 3

/* The partitions of AWS's partitions.json, most specific first; a region
 * that matches none belongs to "aws", as the endpoint rules say. */
static const struct partition {
	const char *prefix;             /* region prefix, "" for aws */
	const char *dns, *dualstack_dns;
} partitions[] = {
	{ "cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn" },
	{ "us-gov-", "amazonaws.com", "api.aws" },
	{ "us-isob-", "sc2s.sgov.gov", "api.aws.scloud" },
	{ "us-isof-", "csp.hci.ic.gov", "api.aws.hci.ic.gov" },
	{ "us-iso-", "c2s.ic.gov", "api.aws.ic.gov" },
	{ "eu-isoe-", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk" },
	{ "eusc-", "amazonaws.eu", "api.amazonwebservices.eu" },
	{ "", "amazonaws.com", "api.aws" },
};

int
aws_region_valid(const char *region)
{
	return region && re_match_literal("^[a-z]{2,4}(-[a-z]+)+-[0-9]+$", region);
}

char *
aws_endpoint_for_opts(const char *service, const char *region, int fips, int dualstack)
{
	const struct partition *p = partitions;
	struct buf b = {0};

	if (!aws_region_valid(region))
		return NULL;
	while (p->prefix[0] && strncmp(region, p->prefix, strlen(p->prefix)) != 0)
		p++;
	if (buf_printf(&b, "https://%s%s.%s.%s/", service, fips ? "-fips" : "", region,
	               dualstack ? p->dualstack_dns : p->dns) < 0)
		return NULL;
	return buf_steal(&b);
}

static int
env_flag(const char *name)
{
	const char *v = getenv(name);

	return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

char *
aws_endpoint_for(const char *service, const char *region)
{
	return aws_endpoint_for_opts(service, region, env_flag("AWS_USE_FIPS_ENDPOINT"),
	                             env_flag("AWS_USE_DUALSTACK_ENDPOINT"));
}

/* The SDK service ids of the services we call, by signing name, where the
 * two differ by more than case (botocore's serviceId), and the JSON
 * protocol version of those that do not speak 1.1 (the model's
 * jsonVersion). */
static const struct service_name {
	const char *signing, *id, *content_type;
} service_names[] = {
	{ "secretsmanager", "Secrets Manager", NULL },
	{ "sqs", "SQS", "application/x-amz-json-1.0" },
};

/* The endpoint variable of a service id: "AWS_ENDPOINT_URL_" and the id
 * upper-cased with spaces as underscores, as the SDKs derive it. */
static void
endpoint_var(const char *service_id, char *out, size_t n)
{
	size_t i, k = (size_t)snprintf(out, n, "AWS_ENDPOINT_URL_");

	for (i = 0; service_id[i] && k + 1 < n; i++, k++)
		out[k] = service_id[i] == ' ' ? '_'
		         : (service_id[i] >= 'a' && service_id[i] <= 'z')
		         ? (char)(service_id[i] - 'a' + 'A') : service_id[i];
	out[k < n ? k : n - 1] = '\0';
}

char *
aws_endpoint_url(const char *service_id, const char *region, const char *configured)
{
	char var[96], prefix[64];
	const char *v;
	size_t i, k = 0;

	if (configured && *configured)
		return strdup(configured);
	endpoint_var(service_id, var, sizeof(var));
	v = getenv(var);
	if (!v || !*v)
		v = getenv("AWS_ENDPOINT_URL");
	if (v && *v)
		return strdup(v);
	/* the host name prefix: the id in lower case without spaces
	 * ("Secrets Manager" is secretsmanager.REGION.amazonaws.com) */
	for (i = 0; service_id[i] && k + 1 < sizeof(prefix); i++)
		if (service_id[i] != ' ')
			prefix[k++] = (service_id[i] >= 'A' && service_id[i] <= 'Z')
			              ? (char)(service_id[i] - 'A' + 'a') : service_id[i];
	prefix[k] = '\0';
	return aws_endpoint_for(prefix, region);
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
               const char *region, const char *endpoint_url, const struct aws_creds_source *src,
               struct gm_err *err)
{
	struct aws_client *c = calloc(1, sizeof(*c));
	const char *id = service;
	size_t i;

	if (!c)
		goto oom;
	c->pool = pool;
	c->quota = AWS_RETRY_QUOTA;
	c->content_type = "application/x-amz-json-1.1";
	for (i = 0; i < sizeof(service_names) / sizeof(*service_names); i++)
		if (strcmp(service, service_names[i].signing) == 0) {
			id = service_names[i].id;
			if (service_names[i].content_type)
				c->content_type = service_names[i].content_type;
		}
	c->url = aws_endpoint_url(id, region, endpoint_url);
	if (!c->url) {
		gm_err_set(err, "'%s' is not a valid AWS region name", region);
		return aws_client_free(c);
	}
	if (aws_url_parts(c->url, &c->host, &c->path, err) < 0)
		return aws_client_free(c);
	if (!(c->service = strdup(service)) || !(c->target_prefix = strdup(target_prefix)) ||
	    !(c->region = strdup(region)))
		goto oom;
	if (src)
		c->src = *src;
	c->backoff = &aws_backoff;
	c->timeout_ms = 60000;
	return c;
oom:
	gm_err_set(err, "out of memory");
	return aws_client_free(c);
}

void
aws_client_set_retry(struct aws_client *c, const struct backoff *b, long timeout_ms)
{
	c->backoff = b;
	c->timeout_ms = timeout_ms;
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
	free(c);
	return NULL;
}

/* Signs in and sets its headers on req in their order, Host aside (it
 * comes from the URL), then the signature's Authorization. */
static int
sign_headers(struct http_req *req, const struct sigv4_input *in)
{
	struct sigv4_result sig = {0};
	size_t i;
	int r;

	if ((r = sigv4_sign(in, &sig)) < 0)
		return r;
	for (i = 0; i < in->n_headers && r >= 0; i++)
		if (strcmp(in->headers[i].name, "Host") != 0)
			r = http_req_set_header(req, in->headers[i].name, in->headers[i].value);
	if (r >= 0)
		r = http_req_set_header(req, "Authorization", sig.authorization);
	sigv4_result_clear(&sig);
	return r < 0 ? r : 0;
}

int
aws_sign_post(struct http_req *req, const char *host, const char *path, const char *region,
              const char *service, const struct aws_creds *creds, const char *content_type,
              const char *target, long long epoch)
{
	struct sigv4_header hs[5];
	char date[17];
	const void *body;
	size_t len, n = 0;

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
	return sign_headers(req, &in);
}

/* S3 GET: the path signed as sent, encoded once (S3 is the one service
 * without the double encoding), and the payload hash in its own header. */
static int
sign_s3_get(struct http_req *req, const struct aws_client *c, const char *raw_path,
            const struct aws_creds *creds, long long epoch)
{
	static const char empty_sha[] =
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	struct sigv4_header hs[4];
	char date[17];
	size_t n = 0;

	sigv4_amz_date(epoch, date);
	hs[n++] = (struct sigv4_header){ "Host", c->host };
	hs[n++] = (struct sigv4_header){ "X-Amz-Content-Sha256", empty_sha };
	hs[n++] = (struct sigv4_header){ "X-Amz-Date", date };
	if (creds->session_token)
		hs[n++] = (struct sigv4_header){ "X-Amz-Security-Token", creds->session_token };
	struct sigv4_input in = {
		.method = "GET", .path = raw_path, .headers = hs, .n_headers = n,
		.region = c->region, .service = c->service, .access_key = creds->access_key,
		.secret_key = creds->secret_key, .amz_date = date, .normalize_path = 0,
	};
	return sign_headers(req, &in);
}

/* Signs the request for this attempt with the current (skew-corrected)
 * time.  Credentials about to expire are never used: the attempt is not
 * sent and the call waits for a refresh instead (see on_done). */
static int
on_start(struct http_req *req, void *arg)
{
	struct call *k = arg;
	struct aws_client *c = k->c;
	struct aws_creds creds = {0};
	long long now = (long long)time(NULL);
	char target[256];

	if (!c->src.get)                /* AssumeRoleWithWebIdentity */
		return http_req_set_header(req, "Content-Type", k->kind == CALL_QUERY
		                           ? "application/x-www-form-urlencoded; charset=utf-8"
		                           : c->content_type);
	if (c->src.get(c->src.ctx, now, &creds, &k->gen) < 0) {
		k->need_creds = 1;
		return -EKEYEXPIRED;
	}
	if (k->kind == CALL_QUERY)
		return aws_sign_post(req, c->host, c->path, c->region, c->service, &creds,
		                     "application/x-www-form-urlencoded; charset=utf-8", NULL,
		                     now + c->skew_s);
	if (k->kind == CALL_S3_GET)
		return sign_s3_get(req, c, k->body, &creds, now + c->skew_s);
	snprintf(target, sizeof(target), "%s.%s", c->target_prefix, k->op);
	return aws_sign_post(req, c->host, c->path, c->region, c->service, &creds,
	                     c->content_type, target, now + c->skew_s);
}

static const char *const throttling_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
	"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException", NULL
};
/* IDPCommunicationError: STS could not reach a web identity provider */
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	"InternalServiceException", "InternalFailure", "ServiceUnavailable",
	"IDPCommunicationError", NULL
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
aws_error_is_expired_creds(const char *code)
{
	static const char *const codes[] = { "ExpiredToken", "ExpiredTokenException",
		"InvalidClientTokenId", "UnrecognizedClientException", NULL };

	return in_list(codes, code);
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
	} else if (body && strstr(body, "<Code>")) {    /* query protocol and REST-XML */
		char *xc = str_xml_leaf(body, "Code"), *xm = str_xml_leaf(body, "Message");

		if (xc)
			copy_trunc(code, code_len, xc, strlen(xc));
		if (xm)
			copy_trunc(message, message_len, xm, strlen(xm));
		free(xc);
		free(xm);
		if (code[0]) {
			cJSON_Delete(j);
			return;
		}
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

/* The error of a reply.  A service with awsQueryCompatible (SQS) names
 * its query-protocol code in x-amzn-query-error ("AWS.SimpleQueueService.
 * NonExistentQueue;Sender"), which botocore reports instead of the JSON
 * __type. */
static void
parse_error(const struct http_resp *resp, char *code, size_t code_len, char *message,
            size_t message_len)
{
	const char *q = http_resp_header(resp, "x-amzn-query-error");
	size_t n;

	aws_parse_error(resp->status, resp->body, http_resp_header(resp, "X-Amzn-ErrorType"), code,
	                code_len, message, message_len);
	if (q && (n = strcspn(q, ";")) > 0 && n < code_len) {
		memcpy(code, q, n);
		code[n] = '\0';
	}
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

/* AWS's standard retry mode: delay = random(0,1) * min(2^(attempt-1) s,
 * 20 s) */
const struct backoff aws_backoff = {
	.max_attempts = AWS_MAX_ATTEMPTS_THROTTLED, .max_failures = AWS_MAX_ATTEMPTS,
	.base_ms = 1000, .cap_ms = AWS_MAX_BACKOFF_MS,
};

int
aws_retry_again(int throttled, int failures, int attempts)
{
	return backoff_again(&aws_backoff, throttled, failures < 0 ? 0 : (unsigned)failures,
	                     attempts < 0 ? 0 : (unsigned)attempts);
}

static long
on_retry(const struct http_resp *resp, void *arg)
{
	struct call *k = arg;
	char code[128], msg[256];
	int cost, throttled;

	if (resp->status >= 200 && resp->status < 300)
		return -1;
	if (resp->transport_error) {
		if (!backoff_again(k->c->backoff, 0, (unsigned)++k->failures, resp->attempts))
			return -1;
		cost = strstr(resp->error ? resp->error : "", "imed out") ? AWS_TIMEOUT_RETRY_COST
		                                                          : AWS_RETRY_COST;
	} else {
		parse_error(resp, code, sizeof(code), msg, sizeof(msg));
		if (adjust_skew(k, resp, code, msg))
			return 0;
		throttled = aws_error_is_throttling(code) || resp->status == 429;
		if (aws_error_is_throttling(code))
			http_resp_throttled(resp);
		if (!throttled && !aws_error_is_transient(resp->status, code))
			return -1;
		if (!backoff_again(k->c->backoff, throttled,
		                   (unsigned)(throttled ? k->failures : ++k->failures), resp->attempts))
			return -1;
		cost = AWS_RETRY_COST;
	}
	if (k->c->quota < cost)
		return -1;
	k->c->quota -= cost;
	k->quota_taken += cost;
	return backoff_delay(k->c->backoff, resp->attempts);
}

static void call_submit(struct call *k);

static void
call_free(struct call *k)
{
	free(k->op);
	str_wipe_free(k->body);         /* a query may hold a web identity token */
	free(k);
}

static void
call_fail(struct call *k, const char *code, const char *message, int cancelled)
{
	struct aws_result res = { .code = code, .message = message, .cancelled = cancelled };

	k->cb(&res, k->arg);
	call_free(k);
}

static void
on_creds_ready(int r, const char *why, void *arg)
{
	struct call *k = arg;

	if (r == -ECANCELED)
		call_fail(k, "Cancelled", "cancelled", 1);
	else if (r < 0)
		call_fail(k, "CredentialsError", why ? why : "no AWS credentials", 0);
	else
		call_submit(k);
}

/* Waits for fresh credentials, then sends the call again from scratch. */
static int
wait_creds(struct call *k)
{
	if (k->waits >= AWS_MAX_CRED_WAITS || !k->c->src.wait)
		return 0;
	k->waits++;
	k->c->src.wait(k->c->src.ctx, on_creds_ready, k);
	return 1;
}

static void
on_done(const struct http_resp *resp, void *arg)
{
	struct call *k = arg;
	struct aws_result res = { .status = resp->status, .attempts = resp->attempts,
	                          .cancelled = resp->cancelled };
	char code[128], message[1024];
	cJSON *j = NULL;
	size_t mark = 0;
	int arena = 0;

	if (k->need_creds && !resp->cancelled) {
		k->need_creds = 0;
		if (wait_creds(k))
			return;
		call_fail(k, "CredentialsError", "the AWS credentials expired and were not refreshed", 0);
		return;
	}
	res.request_id = http_resp_header(resp, "x-amzn-RequestId");
	if (!res.request_id)
		res.request_id = http_resp_header(resp, "x-amz-request-id");
	if (resp->transport_error) {
		res.code = resp->cancelled ? "Cancelled" : "TransportError";
		res.message = resp->error ? resp->error : "transport error";
	} else if (resp->status >= 200 && resp->status < 300 && k->kind != CALL_JSON) {
		res.ok = 1;
		res.body = resp->body;
		res.body_len = resp->body_len;
	} else if (resp->status >= 200 && resp->status < 300) {
		if (resp->body_len)
			arena = (j = json_arena_parse(resp->body, resp->body_len, &mark)) != NULL;
		else
			j = cJSON_CreateObject();
		if (!cJSON_IsObject(j)) {
			res.code = "InvalidResponse";
			res.message = "the reply is not a JSON object";
		} else {
			res.ok = 1;
			res.json = j;
		}
	} else {
		parse_error(resp, code, sizeof(code), message, sizeof(message));
		/* credentials refused as expired: one refresh, one retry */
		if (aws_error_is_expired_creds(code) && !k->refresh_retried && k->c->src.expired) {
			k->refresh_retried = 1;
			k->c->src.expired(k->c->src.ctx, k->gen);
			if (wait_creds(k))
				return;
		}
		res.code = code;
		res.message = message[0] ? message : "no message";
		if (k->kind == CALL_QUERY) {
			res.body = resp->body;
			res.body_len = resp->body_len;
		}
		/* the retry hook saw every attempt but the last */
		if (resp->attempts >= k->c->backoff->max_attempts && aws_error_is_throttling(code))
			http_resp_throttled(resp);
	}
	/* a success gives back the retry cost, as the standard mode does */
	if (res.ok && k->quota_taken) {
		k->c->quota += k->quota_taken;
		if (k->c->quota > AWS_RETRY_QUOTA)
			k->c->quota = AWS_RETRY_QUOTA;
	}
	k->cb(&res, k->arg);
	if (arena)
		json_arena_release(j, mark);
	else
		cJSON_Delete(j);
	call_free(k);
}

static void
call_submit(struct call *k)
{
	struct aws_client *c = k->c;
	struct aws_creds creds;
	struct http_req *req;
	unsigned gen;

	if (c->src.get && c->src.get(c->src.ctx, (long long)time(NULL), &creds, &gen) < 0) {
		if (!wait_creds(k))
			call_fail(k, "CredentialsError", "no usable AWS credentials", 0);
		return;
	}
	if (k->kind == CALL_S3_GET)
		req = http_req_new("GET", k->op);
	else if ((req = http_req_new("POST", c->url)) &&
	         http_req_body(req, k->body, strlen(k->body)) < 0)
		req = http_req_free(req);
	if (!req) {
		call_fail(k, "ClientError", "out of memory", 0);
		return;
	}
	if (k->urgent)
		http_req_urgent(req);
	http_req_hooks(req, on_start, on_retry, k);
	http_req_max_attempts(req, c->backoff->max_attempts);
	http_req_timeout(req, c->timeout_ms);
	if (http_submit(c->pool, req, on_done, k) < 0)
		call_fail(k, "ClientError", "shutting down", 1);
}

static void
json_call(struct aws_client *c, const char *op, cJSON *input, int urgent, aws_done_cb cb,
          void *arg)
{
	struct call *k = calloc(1, sizeof(*k));
	struct aws_result fail = { .code = "ClientError", .message = "out of memory" };

	if (!k || !(k->op = strdup(op)) ||
	    !(k->body = input ? cJSON_PrintUnformatted(input) : strdup("{}"))) {
		cJSON_Delete(input);
		if (k)
			call_free(k);
		cb(&fail, arg);
		return;
	}
	cJSON_Delete(input);
	k->c = c;
	k->cb = cb;
	k->arg = arg;
	k->urgent = urgent;
	call_submit(k);
}

void
aws_call(struct aws_client *c, const char *op, cJSON *input, aws_done_cb cb, void *arg)
{
	json_call(c, op, input, 0, cb, arg);
}

void
aws_call_urgent(struct aws_client *c, const char *op, cJSON *input, aws_done_cb cb, void *arg)
{
	json_call(c, op, input, 1, cb, arg);
}

void
aws_call_query(struct aws_client *c, const char *form, aws_done_cb cb, void *arg)
{
	struct call *k = calloc(1, sizeof(*k));
	struct aws_result fail = { .code = "ClientError", .message = "out of memory" };

	if (!k || !(k->body = strdup(form)) || !(k->op = strdup("query"))) {
		if (k)
			call_free(k);
		cb(&fail, arg);
		return;
	}
	k->kind = CALL_QUERY;
	k->c = c;
	k->cb = cb;
	k->arg = arg;
	call_submit(k);
}

/* Appends s percent-encoded, '/' kept (an S3 key's path form). */
static int
put_key(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int e = 0;

	for (; *s && !e; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '/')
			e = buf_append(b, s, 1);
		else
			e = buf_printf(b, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
	}
	return e;
}

void
aws_get_object(struct aws_client *c, const char *bucket, const char *key, aws_done_cb cb,
               void *arg)
{
	struct call *k = calloc(1, sizeof(*k));
	struct aws_result fail = { .code = "ClientError", .message = "out of memory" };
	const char *base = c->path[strlen(c->path) - 1] == '/' ? "" : "/";
	struct buf url = {0}, path = {0};
	int e = 0;

	while (*key == '/')
		key++;
	e |= buf_printf(&url, "%.*s", (int)strcspn(c->url, "?#"), c->url);
	if (!e && url.len && url.data[url.len - 1] == '/')
		url.data[--url.len] = '\0';
	e |= buf_puts(&url, "/");
	e |= put_key(&url, bucket);
	e |= buf_puts(&url, "/");
	e |= put_key(&url, key);
	e |= buf_printf(&path, "%s%s%s/%s", c->path, base, bucket, key);
	if (!k || e) {
		buf_clear(&url);
		buf_clear(&path);
		free(k);
		cb(&fail, arg);
		return;
	}
	k->kind = CALL_S3_GET;
	k->op = buf_steal(&url);
	k->body = buf_steal(&path);
	k->c = c;
	k->cb = cb;
	k->arg = arg;
	call_submit(k);
}
