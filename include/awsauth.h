/* awsauth — where the AWS credentials of a run come from, in the order
 * OpenMetadata's client (boto3) looks: the keys in awsConfig; then, when
 * awsConfig.profileName is not set, the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); then the shared credentials
 * file (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials) and the
 * config file (AWS_CONFIG_FILE, default ~/.aws/config) for the profile
 * awsConfig.profileName, AWS_PROFILE or "default".  Web identity, container
 * and instance-metadata credentials and AssumeRole are not handled yet. */
#ifndef GLUEMETAD_AWSAUTH_H
#define GLUEMETAD_AWSAUTH_H

struct wf;
struct gm_err;

struct awsauth_creds {
	char *access_key;
	char *secret_key;           /* secret */
	char *session_token;        /* secret, may be NULL */
	char source[96];            /* "workflow file", "environment", "~/.aws/credentials [p]" */
};

/* Returns 0 and fills *ret, or -ENOENT when no source has credentials
 * (err says which were tried) or -ENOMEM. */
int awsauth_resolve(const struct wf *w, struct awsauth_creds *ret, struct gm_err *err);
/* Wipes and frees the members. */
void awsauth_creds_clear(struct awsauth_creds *c);

#endif
