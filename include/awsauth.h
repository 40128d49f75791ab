/* awsauth — where the AWS credentials of a run come from, in the order
 * OpenMetadata's client (boto3) looks: the keys in awsConfig; then, when
 * awsConfig.profileName is not set, the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); a profile's role_arn (with
 * source_profile or credential_source); web identity (AWS_ROLE_ARN +
 * AWS_WEB_IDENTITY_TOKEN_FILE, STS AssumeRoleWithWebIdentity); the
 * profile's keys or credential_process in the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials) and config file
 * (AWS_CONFIG_FILE, default ~/.aws/config) for awsConfig.profileName,
 * AWS_PROFILE or "default"; the container credentials endpoint
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI with
 * AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]); EC2 instance metadata with
 * IMDSv2 tokens (AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED,
 * AWS_EC2_METADATA_V1_DISABLED).  awsConfig.assumeRoleArn is assumed on top
 * of whatever was found.  Everything that needs the network or a process
 * runs on the loop without blocking.
 *
 * A provider (struct awsauth) holds a run's credentials and refreshes
 * temporary ones before they expire: one refresh at a time, shared by all
 * calls that wait for it; a failed refresh keeps still-valid credentials
 * and is tried again after a backoff; expired credentials never sign. */
#ifndef GLUEMETAD_AWSAUTH_H
#define GLUEMETAD_AWSAUTH_H

#include "aws.h"

struct wf;
struct gm_err;
struct http_pool;
struct log_ctx;
struct uv_loop_s;

struct awsauth_creds {
	char *access_key;
	char *secret_key;           /* secret */
	char *session_token;        /* secret, may be NULL */
	char source[96];            /* "workflow file", "environment", "profile 'p'" */
	long long expires;          /* epoch seconds; 0 = does not expire */
};

/* The sources that need no network: 0 and *ret filled, -ENOENT when none
 * has credentials (err says which were tried), -EAGAIN when they need a
 * network call or a process, -errno otherwise. */
int awsauth_resolve(const struct wf *w, struct awsauth_creds *ret, struct gm_err *err);

typedef void (*awsauth_done_cb)(int r, const char *why, void *arg);
struct awsauth;
/* w and lg must outlive the provider; requests go to pool. */
struct awsauth *awsauth_new(struct uv_loop_s *loop, struct http_pool *pool, const struct wf *w,
                            const struct log_ctx *lg);
/* Fetches credentials if there are none usable; cb runs once (maybe
 * before this returns) with 0, or a negative errno and a reason. */
void awsauth_wait(struct awsauth *a, awsauth_done_cb cb, void *arg);
/* For aws_client_new(). */
const struct aws_creds_source *awsauth_source(struct awsauth *a);
const char *awsauth_source_name(const struct awsauth *a);
unsigned awsauth_refreshes(const struct awsauth *a);
/* Waiters complete with -ECANCELED; so does every later wait. */
void awsauth_cancel(struct awsauth *a);
/* Only once nothing waits and no fetch is in flight. */
void awsauth_free(struct awsauth *a);

/* The body of STS AssumeRole (query protocol, form-encoded), as botocore
 * writes it; malloc'd.  external_id and source_identity may be NULL. */
char *awsauth_assume_role_form(const char *arn, const char *session, const char *external_id,
                               const char *source_identity, int duration_s);

/* The retry budget of STS AssumeRole and AssumeRoleWithWebIdentity
 * (backoff.h): transport errors, 5xx, Throttling and IDPCommunicationError
 * are retried, 3 attempts in all. */
struct backoff;
extern const struct backoff awsauth_sts_backoff;

/* Wipes and frees the members. */
void awsauth_creds_clear(struct awsauth_creds *c);

#endif
