/* aws — calls to AWS JSON 1.1 services (Glue, Secrets Manager):
 * endpoint resolution, SigV4 signing at send time, error parsing as
 * botocore does, and AWS's standard retry mode (3 attempts, jittered
 * exponential backoff capped at 20 s, a 500-token retry quota), with up to
 * 8 attempts for throttling, which also makes the pool lower its
 * concurrency (http_resp_throttled()). */
#ifndef GLUEMETAD_AWS_H
#define GLUEMETAD_AWS_H

#include <stddef.h>

struct backoff;
struct cJSON;
struct http_pool;
struct http_req;
struct gm_err;
struct aws_client;

struct aws_creds {
	const char *access_key;
	const char *secret_key;
	const char *session_token;      /* or NULL */
};

/* Where a client takes its credentials from at each attempt, so that
 * temporary ones can be refreshed under it (awsauth provides one). */
typedef void (*aws_creds_ready_cb)(int r, const char *why, void *arg);
struct aws_creds_source {
	/* 0 and *out (valid until the next refresh) when the credentials may
	 * sign a request sent at epoch second now; -EAGAIN when the caller
	 * must wait() for a refresh first.  *gen tells refreshes apart. */
	int (*get)(void *ctx, long long now, struct aws_creds *out, unsigned *gen);
	/* Runs cb once credentials were refreshed (r 0) or cannot be (r < 0,
	 * why).  One refresh serves every waiter. */
	void (*wait)(void *ctx, aws_creds_ready_cb cb, void *arg);
	/* The service called credentials of generation gen expired. */
	void (*expired)(void *ctx, unsigned gen);
	void *ctx;
};

struct aws_result {
	int ok;                         /* 2xx with a JSON object body */
	long status;                    /* HTTP status, 0 on transport errors */
	const char *code;               /* error code ("ThrottlingException"), or NULL */
	const char *message;            /* error message, or transport error text */
	const char *request_id;         /* x-amzn-RequestId, or NULL */
	const struct cJSON *json;       /* parsed body on success; borrowed */
	const char *body;               /* aws_call_query(), aws_get_object(): the raw
	                                 * body on success (NUL-terminated), and for
	                                 * aws_call_query() of an error reply; borrowed */
	size_t body_len;
	unsigned attempts;
	int cancelled;
};

typedef void (*aws_done_cb)(const struct aws_result *res, void *arg);

/* 1 when region has the form of an AWS region name ("eu-west-1",
 * "us-gov-west-1", "cn-north-1"), 0 otherwise (NULL included).  The one
 * check of a region's form: the endpoint resolver applies it, and so does
 * the validation of a workflow file (wf_load()), so that `check` refuses
 * what a run would. */
int aws_region_valid(const char *region);

/* The default endpoint URL of a service in a region, by the partition
 * the region belongs to (aws, aws-cn, aws-us-gov, aws-iso*, aws-eusc:
 * "https://glue.cn-north-1.amazonaws.com.cn/"), with "-fips" and/or the
 * dual-stack suffix when asked; malloc'd, NULL for a malformed region. */
char *aws_endpoint_for_opts(const char *service, const char *region, int fips, int dualstack);
/* The same with FIPS and dual-stack from AWS_USE_FIPS_ENDPOINT and
 * AWS_USE_DUALSTACK_ENDPOINT, as the AWS CLI reads them. */
char *aws_endpoint_for(const char *service, const char *region);

/* The one endpoint resolver: the URL a call to a service goes to,
 * malloc'd (NULL for a malformed region or without memory).  In the order
 * of the AWS SDKs: configured when it is set (a URL the workflow file
 * gives, such as awsConfig.endPointURL for Glue; may be NULL), then
 * AWS_ENDPOINT_URL_<SERVICE>, where SERVICE is service_id upper-cased with
 * spaces as underscores ("Secrets Manager": AWS_ENDPOINT_URL_SECRETS_MANAGER),
 * then AWS_ENDPOINT_URL, then the region's endpoint by aws_endpoint_for(),
 * whose host name starts with the id in lower case without spaces.
 * service_id is the SDK's: "Glue", "STS", "S3", "SSM", "Secrets Manager".
 * Empty variables count as unset. */
char *aws_endpoint_url(const char *service_id, const char *region, const char *configured);

/* Host as SigV4 signs it (lower case, ":port" only when not the scheme's
 * default) and the path of url; both malloc'd.  -EINVAL on a bad URL. */
int aws_url_parts(const char *url, char **ret_host, char **ret_path, struct gm_err *err);

/* Signs a POST for this attempt and sets its Content-Type, X-Amz-Date,
 * X-Amz-Target (when target is not NULL), X-Amz-Security-Token (with a
 * session token) and Authorization headers.  host and path as
 * aws_url_parts() gives them; epoch is the signing time. */
int aws_sign_post(struct http_req *req, const char *host, const char *path, const char *region,
                  const char *service, const struct aws_creds *creds, const char *content_type,
                  const char *target, long long epoch);

/* endpoint_url is the configured URL of aws_endpoint_url(); NULL means
 * the environment's or else the service's regional endpoint.  The source is
 * copied (its ctx must outlive the client); with src NULL the client sends
 * its requests unsigned (STS AssumeRoleWithWebIdentity); a source without
 * wait and expired is never refreshed.  target_prefix is "AWSGlue"
 * for Glue, "secretsmanager" for Secrets Manager. */
struct aws_client *aws_client_new(struct http_pool *pool, const char *service,
                                  const char *target_prefix, const char *region,
                                  const char *endpoint_url, const struct aws_creds_source *src,
                                  struct gm_err *err);
struct aws_client *aws_client_free(struct aws_client *c);
/* The client's retry budget (b must outlive it) and the time limit of a
 * request, instead of aws_backoff and 60 s (STS as awsauth calls it). */
void aws_client_set_retry(struct aws_client *c, const struct backoff *b, long timeout_ms);

/* Calls op with input (takes ownership; NULL sends {}).  The callback runs
 * exactly once, also on failure to submit (then before returning). */
void aws_call(struct aws_client *c, const char *op, struct cJSON *input, aws_done_cb cb,
              void *arg);
/* The same, queued ahead of the pool's other calls (http_req_urgent()):
 * a listing's next page, which the rest of a run waits on. */
void aws_call_urgent(struct aws_client *c, const char *op, struct cJSON *input,
                     aws_done_cb cb, void *arg);

/* A query-protocol call (STS): form is the whole form-encoded body
 * ("Action=GetCallerIdentity&Version=2011-06-15"); the reply's XML is in
 * res.body.  Errors are parsed from the XML <Code> and <Message>. */
void aws_call_query(struct aws_client *c, const char *form, aws_done_cb cb, void *arg);
/* S3 GetObject, path-style (endpoint/bucket/key), signed with the payload
 * hash header S3 wants; the object is in res.body (capped at HTTP_MAX_BODY). */
void aws_get_object(struct aws_client *c, const char *bucket, const char *key, aws_done_cb cb,
                    void *arg);

/* Exposed for tests: botocore's error code normalisation (JSON bodies,
 * X-Amzn-ErrorType, and the XML of the query and REST protocols). */
void aws_parse_error(long status, const char *body, const char *error_type_header,
                     char *code, size_t code_len, char *message, size_t message_len);
int aws_error_is_throttling(const char *code);

/* The retry budget of one call.  Server errors (5xx), transient codes and
 * transport errors: AWS_MAX_ATTEMPTS failed attempts end the call.
 * Throttling (a throttling code or HTTP 429) does not count against that;
 * AWS_MAX_ATTEMPTS_THROTTLED attempts of any kind end it. */
#define AWS_MAX_ATTEMPTS 3
#define AWS_MAX_ATTEMPTS_THROTTLED 8
/* That budget as backoff.h's policy, with AWS's delays (full jitter,
 * 1 s doubling, capped at 20 s). */
extern const struct backoff aws_backoff;

/* Whether a call is tried again after a retryable failed attempt:
 * throttled says whether that attempt was throttled, failures counts the
 * call's failed attempts that were not throttled (this one included),
 * attempts all of its attempts so far. */
int aws_retry_again(int throttled, int failures, int attempts);
int aws_error_is_transient(long status, const char *code);
/* ExpiredToken and its kin: the credentials need a refresh. */
int aws_error_is_expired_creds(const char *code);

#endif
