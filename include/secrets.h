/* secrets — values of a workflow file that name a secret instead of
 * holding it, resolved before a run and only in memory:
 *   "secret:ID"     from AWS Secrets Manager (GetSecretValue, with
 *                   secretsManagerProvider aws or managed-aws) or from SSM
 *                   Parameter Store (GetParameter with decryption, with
 *                   aws-ssm or managed-aws-ssm), as OpenMetadata's client
 *                   resolves them; with the default provider "db" the
 *                   value stays as written.
 *   "${CREDENTIALS_DIRECTORY}/NAME" (or "$CREDENTIALS_DIRECTORY/NAME")
 *                   the systemd credential NAME (LoadCredential=), read
 *                   from the directory systemd gives the service.
 * They apply to the AWS keys and session token and to the JWT.  The
 * secrets service itself is reached with the credential chain of
 * awsauth.h without the workflow's awsConfig (environment, profile,
 * container, instance metadata), in AWS_REGION / AWS_DEFAULT_REGION or
 * the awsConfig region; AWS_ENDPOINT_URL_SECRETS_MANAGER and
 * AWS_ENDPOINT_URL_SSM, then AWS_ENDPOINT_URL, override the endpoints
 * (aws_endpoint_url()). */
#ifndef GLUEMETAD_SECRETS_H
#define GLUEMETAD_SECRETS_H

struct wf;
struct http;
struct http_pool;
struct log_ctx;
struct secrets;

/* 1 when v, a value of w, names a secret rather than holding one. */
int secrets_is_reference(const struct wf *w, const char *v);
/* 1 when w has values to resolve. */
int secrets_needed(const struct wf *w);

/* cb runs once, maybe before this returns: r 0 and secrets_wf() usable,
 * or r < 0 and why (which never holds a secret). */
typedef void (*secrets_done_cb)(int r, const char *why, void *arg);
struct secrets *secrets_resolve(struct http *h, const struct wf *w, const struct log_ctx *lg,
                                secrets_done_cb cb, void *arg);
/* A copy of the workflow with the values resolved (w's other members are
 * shared); valid until secrets_free(). */
const struct wf *secrets_wf(const struct secrets *s);
void secrets_cancel(struct secrets *s);
/* The pool of the requests to the secrets service (borrowed, valid until
 * secrets_free()); NULL when no secret was remote, or for a NULL s. */
const struct http_pool *secrets_pool(const struct secrets *s);
/* Wipes the resolved values.  Only after cb ran. */
void secrets_free(struct secrets *s);

#endif
