/* secrets — see include/secrets.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "awsauth.h"
#include "http.h"
#include "log.h"
#include "secrets.h"
#include "util.h"
#include "wf.h"

#define MAX_SECRET_FILE 65536

struct field {
	const char *key;                /* as the workflow file names it */
	size_t offset;                  /* of the char * in struct wf */
};

static const struct field fields[] = {
	{ "awsConfig.awsAccessKeyId", offsetof(struct wf, aws_access_key_id) },
	{ "awsConfig.awsSecretAccessKey", offsetof(struct wf, aws_secret_access_key) },
	{ "awsConfig.awsSessionToken", offsetof(struct wf, aws_session_token) },
	{ "securityConfig.jwtToken", offsetof(struct wf, jwt_token) },
};
#define N_FIELDS (sizeof(fields) / sizeof(*fields))

struct secrets {
	struct wf copy;
	char *resolved[N_FIELDS];       /* owned, wiped at the end */
	struct wf bare;                 /* the chain for the secrets service */
	struct http_pool *pool;
	struct awsauth *auth;
	struct aws_client *client;
	const struct log_ctx *lg;
	secrets_done_cb cb;
	void *arg;
	struct join join;               /* the credentials wait and the lookups */
	int failed, cancelled;
	char why[600];
};

static char **
slot(struct wf *w, size_t i)
{
	return (char **)((char *)w + fields[i].offset);
}

static const char *
value(const struct wf *w, size_t i)
{
	return *(const char *const *)((const char *)w + fields[i].offset);
}

static const char *
credential_name(const char *v)
{
	static const char *const prefixes[] = { "${CREDENTIALS_DIRECTORY}/", "$CREDENTIALS_DIRECTORY/" };
	size_t i;

	for (i = 0; v && i < 2; i++)
		if (strncmp(v, prefixes[i], strlen(prefixes[i])) == 0)
			return v + strlen(prefixes[i]);
	return NULL;
}

static int
provider_ssm(const struct wf *w)
{
	return strcmp(w->secrets_provider, "aws-ssm") == 0 ||
	       strcmp(w->secrets_provider, "managed-aws-ssm") == 0;
}

static int
provider_aws(const struct wf *w)
{
	return provider_ssm(w) || strcmp(w->secrets_provider, "aws") == 0 ||
	       strcmp(w->secrets_provider, "managed-aws") == 0;
}

static int
is_secret_ref(const struct wf *w, const char *v)
{
	return v && provider_aws(w) && strncmp(v, "secret:", 7) == 0;
}

int
secrets_is_reference(const struct wf *w, const char *v)
{
	return credential_name(v) || is_secret_ref(w, v);
}

int
secrets_needed(const struct wf *w)
{
	size_t i;

	for (i = 0; i < N_FIELDS; i++) {
		const char *v = value(w, i);

		if (credential_name(v) || is_secret_ref(w, v))
			return 1;
	}
	return 0;
}

static void
fail(struct secrets *s, const char *fmt, const char *key, const char *detail)
{
	if (!s->failed)
		snprintf(s->why, sizeof(s->why), fmt, key, detail);
	s->failed = 1;
}

/* Runs once, when the last of the join is done. */
static void
settle(struct secrets *s)
{
	size_t i;

	for (i = 0; i < N_FIELDS && !s->failed; i++)
		if (s->resolved[i])
			*slot(&s->copy, i) = s->resolved[i];
	s->cb(s->failed ? (s->cancelled ? -ECANCELED : -EACCES) : 0, s->failed ? s->why : NULL,
	      s->arg);
}

/* A systemd credential: the file's content without trailing newlines. */
static int
read_credential(struct secrets *s, size_t i, const char *name)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char path[4096], *buf;
	FILE *f;
	size_t n;

	if (!dir || !*dir) {
		fail(s, "%s names the systemd credential '%s', but CREDENTIALS_DIRECTORY is not set "
		     "(the unit needs LoadCredential=)", fields[i].key, name);
		return -ENOENT;
	}
	if (!*name || strchr(name, '/')) {
		fail(s, "%s: '%s' is not a credential name", fields[i].key, name);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "re"))) {
		fail(s, "%s: cannot read the systemd credential '%s'", fields[i].key, name);
		return -errno;
	}
	buf = calloc(1, MAX_SECRET_FILE + 1);
	n = buf ? fread(buf, 1, MAX_SECRET_FILE, f) : 0;
	fclose(f);
	if (!buf) {
		fail(s, "%s%s", "out of memory", "");
		return -ENOMEM;
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	s->resolved[i] = buf;
	return 0;
}

struct lookup {
	struct secrets *s;
	size_t i;
};

static void
on_value(const struct aws_result *res, void *arg)
{
	struct lookup *l = arg;
	struct secrets *s = l->s;
	const char *id = *slot(&s->copy, l->i) + 7;
	const cJSON *v = NULL;

	if (res->ok) {
		if (provider_ssm(&s->copy))
			v = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(res->json, "Parameter"), "Value");
		else
			v = cJSON_GetObjectItemCaseSensitive(res->json, "SecretString");
	}
	if (cJSON_IsString(v)) {
		if (!(s->resolved[l->i] = strdup(v->valuestring)))
			fail(s, "%s%s", "out of memory", "");
		explicit_bzero(v->valuestring, strlen(v->valuestring));
	} else if (res->cancelled) {
		s->cancelled = 1;
		fail(s, "%s%s", "cancelled", "");
	} else {
		char detail[400];

		snprintf(detail, sizeof(detail), "%s%s%s", res->ok ? "the reply holds no string value"
		         : res->code, res->ok ? "" : ": ", res->ok ? "" : res->message);
		log_err(s->lg, "%s: %s '%s' cannot be read: %s", fields[l->i].key,
		        provider_ssm(&s->copy) ? "SSM parameter" : "secret", id, detail);
		fail(s, "%s: the secret it names cannot be read (%s)", fields[l->i].key, detail);
	}
	free(l);
	if (join_done(&s->join))
		settle(s);
}

static void
on_creds(int r, const char *why, void *arg)
{
	struct secrets *s = arg;
	struct gm_err err = {{0}};
	size_t i;

	/* this wait's count is held while the lookups are submitted, so that
	 * one that fails at once cannot settle before the others started */
	if (r < 0) {
		fail(s, "the secrets manager needs AWS credentials: %s%s", why ? why : "none found", "");
		if (r == -ECANCELED)
			s->cancelled = 1;
		if (join_done(&s->join))
			settle(s);
		return;
	}
	/* no configured URL: aws_endpoint_url() takes AWS_ENDPOINT_URL_SSM or
	 * _SECRETS_MANAGER, then AWS_ENDPOINT_URL, then the region's */
	s->client = provider_ssm(&s->copy)
	            ? aws_client_new(s->pool, "ssm", "AmazonSSM", s->bare.aws_region, NULL,
	                             awsauth_source(s->auth), &err)
	            : aws_client_new(s->pool, "secretsmanager", "secretsmanager", s->bare.aws_region,
	                             NULL, awsauth_source(s->auth), &err);
	if (!s->client) {
		fail(s, "secrets manager: %s%s", err.msg, "");
		if (join_done(&s->join))
			settle(s);
		return;
	}
	for (i = 0; i < N_FIELDS && !s->failed; i++) {
		const char *v = *slot(&s->copy, i);
		struct lookup *l;
		cJSON *in;

		if (!is_secret_ref(&s->copy, v) || s->resolved[i])
			continue;
		if (!(l = calloc(1, sizeof(*l))) || !(in = cJSON_CreateObject()) ||
		    !cJSON_AddStringToObject(in, provider_ssm(&s->copy) ? "Name" : "SecretId", v + 7) ||
		    (provider_ssm(&s->copy) && !cJSON_AddTrueToObject(in, "WithDecryption"))) {
			free(l);
			fail(s, "%s%s", "out of memory", "");
			break;
		}
		l->s = s;
		l->i = i;
		join_add(&s->join, 1);
		log_debug(s->lg, "%s: reading %s '%s'", fields[i].key,
		          provider_ssm(&s->copy) ? "SSM parameter" : "secret", v + 7);
		aws_call(s->client, provider_ssm(&s->copy) ? "GetParameter" : "GetSecretValue", in,
		         on_value, l);
	}
	if (join_done(&s->join))
		settle(s);
}

struct secrets *
secrets_resolve(struct http *h, const struct wf *w, const struct log_ctx *lg,
                secrets_done_cb cb, void *arg)
{
	struct secrets *s = calloc(1, sizeof(*s));
	char *region;
	int remote = 0;
	size_t i;

	if (!s) {
		cb(-ENOMEM, "out of memory", arg);
		return NULL;
	}
	s->copy = *w;
	s->lg = lg;
	s->cb = cb;
	s->arg = arg;
	join_add(&s->join, 1);          /* held while we start */
	for (i = 0; i < N_FIELDS; i++) {
		const char *v = *slot(&s->copy, i), *name = credential_name(v);

		if (name)
			(void)read_credential(s, i, name);
		else if (is_secret_ref(w, v))
			remote = 1;
	}
	if (remote && !s->failed) {
		/* the secrets service's own credentials: not the workflow's keys */
		s->bare = *w;
		s->bare.aws_access_key_id = s->bare.aws_secret_access_key = NULL;
		s->bare.aws_session_token = NULL;
		s->bare.profile_name = NULL;
		s->bare.assume_role_arn = NULL;
		region = getenv("AWS_REGION");
		if (!region || !*region)
			region = getenv("AWS_DEFAULT_REGION");
		if (region && *region)
			s->bare.aws_region = region;
		s->pool = http_pool_new(h, "secrets", 4, NULL);
		s->auth = s->pool ? awsauth_new(http_loop(h), s->pool, &s->bare, lg) : NULL;
		if (!s->auth) {
			fail(s, "%s%s", "out of memory", "");
		} else {
			join_add(&s->join, 1);
			awsauth_wait(s->auth, on_creds, s);
		}
	}
	if (join_done(&s->join))
		settle(s);
	return s;
}

const struct http_pool *
secrets_pool(const struct secrets *s)
{
	return s ? s->pool : NULL;
}

const struct wf *
secrets_wf(const struct secrets *s)
{
	return &s->copy;
}

void
secrets_cancel(struct secrets *s)
{
	if (!s)
		return;
	if (s->auth)
		awsauth_cancel(s->auth);
	if (s->pool)
		http_pool_cancel(s->pool);
}

void
secrets_free(struct secrets *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < N_FIELDS; i++)
		str_wipe_free(s->resolved[i]);
	aws_client_free(s->client);
	awsauth_free(s->auth);
	if (s->pool)
		http_pool_free(s->pool);
	free(s);
}
