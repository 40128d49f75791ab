/* awsauth — the provider of a run's AWS credentials and one fetch of the
 * whole chain: it asks awsprofile.c for the plan, starts the source the
 * plan names (awsprocess.c, awsmeta.c, awssts.c), assumes the plan's roles
 * in turn, and keeps the result fresh for aws_client (include/awsauth.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "aws.h"
#include "awsauth.h"
#include "awsauth_int.h"
#include "http.h"
#include "log.h"
#include "util.h"
#include "wf.h"

#define REFRESH_BACKOFF_MIN_S 5
#define REFRESH_BACKOFF_MAX_S 300
#define EXPIRY_SAFETY_S 5               /* never sign with less left than this... */

void
awsauth__fetch_free(struct fetch *f)
{
	str_wipe_free(f->token);
	awsauth_creds_clear(&f->base);
	awsauth__plan_clear(&f->plan);
	buf_wipe(&f->output);
	aws_client_free(f->sts);
	free(f);
}

void
awsauth__fetch_end(struct fetch *f, int r, const char *why)
{
	if (f->slot)
		*f->slot = NULL;
	f->slot = NULL;
	f->cb(r, why, f->arg);
	if (f->handles) {               /* the process's handles close first */
		f->cb = NULL;
		return;
	}
	awsauth__fetch_free(f);
}

int
awsauth__env_true(const char *name)
{
	const char *v = getenv(name);

	return v && (strcmp(v, "true") == 0 || strcmp(v, "TRUE") == 0 || strcmp(v, "1") == 0);
}

/* {"AccessKeyId","SecretAccessKey","Token" or "SessionToken","Expiration"}
 * as the container endpoint, IMDS and credential_process answer. */
int
awsauth__take_json(struct fetch *f, const char *body, size_t len, const char *src)
{
	cJSON *j = cJSON_ParseWithLength(body, len);
	const cJSON *ak = cJSON_GetObjectItemCaseSensitive(j, "AccessKeyId");
	const cJSON *sk = cJSON_GetObjectItemCaseSensitive(j, "SecretAccessKey");
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "Token");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "Expiration");
	int r = -EINVAL;

	if (!cJSON_IsString(tok))
		tok = cJSON_GetObjectItemCaseSensitive(j, "SessionToken");
	if (cJSON_IsString(ak) && cJSON_IsString(sk) && *ak->valuestring && *sk->valuestring &&
	    (!exp || (cJSON_IsString(exp) && time_parse_iso8601(exp->valuestring) > 0))) {
		r = awsauth__take(f->ret, ak->valuestring, sk->valuestring,
		         cJSON_IsString(tok) ? tok->valuestring : NULL, src);
		if (r == 0 && exp)
			f->ret->expires = time_parse_iso8601(exp->valuestring);
	}
	if (j && cJSON_IsString(sk))
		explicit_bzero(sk->valuestring, strlen(sk->valuestring));
	if (j && cJSON_IsString(tok))
		explicit_bzero(tok->valuestring, strlen(tok->valuestring));
	cJSON_Delete(j);
	return r;
}

/* Credentials in f->ret; each role of the plan is assumed in turn, signed
 * with the credentials the previous step gave. */
void
awsauth__base_ready(struct fetch *f)
{
	if (f->role_i == f->plan.n_roles) {
		awsauth__fetch_end(f, 0, NULL);
		return;
	}
	awsauth_creds_clear(&f->base);
	f->base = *f->ret;
	memset(f->ret, 0, sizeof(*f->ret));
	awsauth__sts_call(f, 1);
}

static void
fetch_start(uv_loop_t *loop, struct http_pool *pool, const struct wf *w,
            struct awsauth_creds *ret, awsauth_done_cb cb, void *arg, struct fetch **slot)
{
	struct gm_err err = {{0}};
	struct fetch *f = calloc(1, sizeof(*f));
	int r;

	if (!f) {
		cb(-ENOMEM, "out of memory", arg);
		return;
	}
	f->w = w;
	f->loop = loop;
	f->pool = pool;
	f->ret = ret;
	f->cb = cb;
	f->arg = arg;
	f->slot = slot;
	*slot = f;
	/* boto3's order: explicit keys, environment, a profile's role, web
	 * identity, the profile's keys or credential_process, container,
	 * instance metadata */
	r = awsauth__make_plan(w, &f->plan, &err);
	if (r == 0) {
		switch (f->plan.kind) {
		case BASE_STATIC:
			*ret = f->plan.creds;
			memset(&f->plan.creds, 0, sizeof(f->plan.creds));
			awsauth__base_ready(f);
			return;
		case BASE_PROCESS:
			snprintf(f->plan.creds.source, sizeof(f->plan.creds.source),
			         "credential_process of profile '%.60s'", f->plan.profile);
			awsauth__start_process(f);
			return;
		case BASE_WEB_IDENTITY:
			awsauth__sts_call(f, 2);
			return;
		case BASE_CONTAINER:
			snprintf(f->static_why, sizeof(f->static_why), "credential_source EcsContainer");
			if (!awsauth__start_container(f))
				awsauth__fetch_end(f, -ENOENT, "credential_source EcsContainer, but no "
				          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI is set");
			return;
		case BASE_IMDS:
			snprintf(f->static_why, sizeof(f->static_why), "credential_source Ec2InstanceMetadata");
			awsauth__start_imds(f);
			return;
		case BASE_NONE:
			break;
		}
	}
	if (r != -ENOENT) {
		awsauth__fetch_end(f, r, err.msg);
		return;
	}
	snprintf(f->static_why, sizeof(f->static_why), "%s", err.msg);
	if (w->assume_role_arn &&
	    awsauth__plan_role(&f->plan, w->assume_role_arn, w->assume_role_session_name
	              ? w->assume_role_session_name : "OpenMetadataSession", NULL,
	              w->assume_role_source_identity) < 0) {
		awsauth__fetch_end(f, -ENOMEM, "out of memory");
		return;
	}
	if (awsauth__start_container(f))
		return;
	if (awsauth__env_true("AWS_EC2_METADATA_DISABLED")) {
		char why[1200];

		snprintf(why, sizeof(why), "%s; AWS_EC2_METADATA_DISABLED is set", f->static_why);
		awsauth__fetch_end(f, -ENOENT, why);
		return;
	}
	awsauth__start_imds(f);
}

struct waiter {
	aws_creds_ready_cb cb;
	void *arg;
	struct waiter *next;
};

struct awsauth {
	uv_loop_t *loop;
	struct http_pool *pool;
	const struct wf *w;
	const struct log_ctx *lg;
	struct awsauth_creds cur, next;
	long long obtained;             /* when cur was fetched */
	unsigned gen;                   /* 0: nothing fetched yet */
	int fetching, cancelled;
	long long retry_after;          /* after a failed refresh */
	unsigned failures, refreshes;
	struct waiter *waiters, **tail;
	struct fetch *inflight;
	struct aws_creds_source src;
};

/* How long before expiry a refresh is due: a quarter of the credentials'
 * lifetime, at most 15 minutes (the SDKs' advisory window). */
static long long
refresh_margin(const struct awsauth *a)
{
	long long life = a->cur.expires - a->obtained, m = life / 4;

	return m > 900 ? 900 : m < 1 ? 1 : m;
}

/* ...or than half the refresh margin, for credentials that live seconds */
static long long
expiry_safety(const struct awsauth *a)
{
	long long m = refresh_margin(a) / 2;

	return m > EXPIRY_SAFETY_S ? EXPIRY_SAFETY_S : m;
}

static int
src_get(void *ctx, long long now, struct aws_creds *out, unsigned *gen)
{
	struct awsauth *a = ctx;

	if (!a->gen || !a->cur.access_key)
		return -EAGAIN;
	if (a->cur.expires) {
		if (now >= a->cur.expires - expiry_safety(a))
			return -EAGAIN;             /* never sign with expired ones */
		/* due for a refresh, unless one failed a moment ago */
		if (now >= a->cur.expires - refresh_margin(a) && now >= a->retry_after)
			return -EAGAIN;
	}
	out->access_key = a->cur.access_key;
	out->secret_key = a->cur.secret_key;
	out->session_token = a->cur.session_token;
	*gen = a->gen;
	return 0;
}

static void
wake_waiters(struct awsauth *a, int r, const char *why)
{
	struct waiter *w = a->waiters, *next;

	a->waiters = NULL;
	a->tail = &a->waiters;
	for (; w; w = next) {
		next = w->next;
		w->cb(r, why, w->arg);
		free(w);
	}
}

static void
on_refreshed(int r, const char *why, void *arg)
{
	struct awsauth *a = arg;
	long long now = (long long)time(NULL);

	a->fetching = 0;
	if (a->cancelled) {
		awsauth_creds_clear(&a->next);
		wake_waiters(a, -ECANCELED, "cancelled");
		return;
	}
	if (r == 0) {
		awsauth_creds_clear(&a->cur);
		a->cur = a->next;
		memset(&a->next, 0, sizeof(a->next));
		a->obtained = now;
		a->gen++;
		a->failures = 0;
		a->retry_after = 0;
		if (a->gen > 1)
			a->refreshes++;
		if (a->cur.expires)
			log_at(a->gen > 1 ? LOG_INFO : LOG_DEBUG, a->lg, "AWS credentials %s from the %s, "
			       "valid for %lld s", a->gen > 1 ? "refreshed" : "obtained", a->cur.source,
			       a->cur.expires - now);
		else
			log_debug(a->lg, "AWS credentials from the %s", a->cur.source);
		wake_waiters(a, 0, NULL);
		return;
	}
	awsauth_creds_clear(&a->next);
	a->failures++;
	{
		long long backoff = REFRESH_BACKOFF_MIN_S << (a->failures < 7 ? a->failures - 1 : 6);

		a->retry_after = now + (backoff > REFRESH_BACKOFF_MAX_S ? REFRESH_BACKOFF_MAX_S : backoff);
	}
	if (a->gen && a->cur.expires && now < a->cur.expires - expiry_safety(a)) {
		/* the old ones still work: keep them, try again after the backoff */
		log_warning(a->lg, "AWS credentials could not be refreshed (%s); the current ones "
		            "expire in %lld s, next attempt in %lld s", why ? why : "unknown error",
		            a->cur.expires - now, a->retry_after - now);
		wake_waiters(a, 0, NULL);
		return;
	}
	if (a->gen)
		log_err(a->lg, "AWS credentials expired and could not be refreshed: %s",
		        why ? why : "unknown error");
	wake_waiters(a, r, why);
}

static void
src_wait(void *ctx, aws_creds_ready_cb cb, void *arg)
{
	struct awsauth *a = ctx;
	struct waiter *w;

	if (a->cancelled) {
		cb(-ECANCELED, "cancelled", arg);
		return;
	}
	if (!(w = calloc(1, sizeof(*w)))) {
		cb(-ENOMEM, "out of memory", arg);
		return;
	}
	w->cb = cb;
	w->arg = arg;
	*a->tail = w;
	a->tail = &w->next;
	if (a->fetching)
		return;
	{
		struct aws_creds c;
		unsigned g;
		long long now = (long long)time(NULL);

		/* someone else's refresh already happened, or a failed one is in backoff */
		if (src_get(a, now, &c, &g) == 0 ||
		    (a->gen && now < a->retry_after && a->cur.expires &&
		     now < a->cur.expires - expiry_safety(a))) {
			wake_waiters(a, 0, NULL);
			return;
		}
	}
	a->fetching = 1;
	fetch_start(a->loop, a->pool, a->w, &a->next, on_refreshed, a, &a->inflight);
}

static void
src_expired(void *ctx, unsigned gen)
{
	struct awsauth *a = ctx;

	if (gen != a->gen || !a->gen)
		return;                 /* already replaced */
	log_warning(a->lg, "AWS refused the credentials from the %s as expired or invalid; "
	            "fetching them again", a->cur.source);
	/* make them due now; a plain key pair is simply read again */
	a->cur.expires = (long long)time(NULL);
	a->retry_after = 0;
}

struct awsauth *
awsauth_new(uv_loop_t *loop, struct http_pool *pool, const struct wf *w,
            const struct log_ctx *lg)
{
	struct awsauth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->loop = loop;
	a->pool = pool;
	a->w = w;
	a->lg = lg;
	a->tail = &a->waiters;
	a->src = (struct aws_creds_source){ src_get, src_wait, src_expired, a };
	return a;
}

const struct aws_creds_source *
awsauth_source(struct awsauth *a)
{
	return &a->src;
}

void
awsauth_wait(struct awsauth *a, awsauth_done_cb cb, void *arg)
{
	src_wait(a, cb, arg);
}

const char *
awsauth_source_name(const struct awsauth *a)
{
	return a->cur.source;
}

unsigned
awsauth_refreshes(const struct awsauth *a)
{
	return a->refreshes;
}

void
awsauth_cancel(struct awsauth *a)
{
	if (!a)
		return;
	a->cancelled = 1;
	if (!a->fetching)
		wake_waiters(a, -ECANCELED, "cancelled");
	/* a fetch in flight ends through the pool's cancellation, or here */
	if (a->inflight && a->inflight->handles && !a->inflight->exited)
		uv_process_kill(&a->inflight->proc, SIGTERM);
}

void
awsauth_free(struct awsauth *a)
{
	if (!a)
		return;
	awsauth_creds_clear(&a->cur);
	awsauth_creds_clear(&a->next);
	free(a);
}
