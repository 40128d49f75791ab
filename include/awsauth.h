/* awsauth — where the AWS credentials of a run come from, in the order
 * OpenMetadata's client (boto3) looks: the keys in awsConfig; then, when
 * awsConfig.profileName is not set, the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); then the shared credentials
 * file (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials) and the
 * config file (AWS_CONFIG_FILE, default ~/.aws/config) for the profile
 * awsConfig.profileName, AWS_PROFILE or "default"; then, asked through the
 * HTTP engine without blocking, the container credentials endpoint
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI with
 * AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]) and EC2 instance metadata with
 * IMDSv2 tokens (AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED,
 * AWS_EC2_METADATA_V1_DISABLED).  Web identity and AssumeRole are not
 * handled yet. */
#ifndef GLUEMETAD_AWSAUTH_H
#define GLUEMETAD_AWSAUTH_H

struct wf;
struct gm_err;
struct http_pool;

struct awsauth_creds {
	char *access_key;
	char *secret_key;           /* secret */
	char *session_token;        /* secret, may be NULL */
	char source[96];            /* "workflow file", "environment", "~/.aws/credentials [p]" */
};

/* Returns 0 and fills *ret, or -ENOENT when no source has credentials
 * (err says which were tried) or -ENOMEM. */
int awsauth_resolve(const struct wf *w, struct awsauth_creds *ret, struct gm_err *err);
/* The whole chain.  cb runs once (maybe before this returns) with 0 and
 * *ret filled, or a negative errno and a reason. */
typedef void (*awsauth_done_cb)(int r, const char *why, void *arg);
void awsauth_fetch(struct http_pool *pool, const struct wf *w, struct awsauth_creds *ret,
                   awsauth_done_cb cb, void *arg);

/* Wipes and frees the members. */
void awsauth_creds_clear(struct awsauth_creds *c);

#endif
