/* awssts — STS AssumeRole (signed with the credentials of the step
 * before) and AssumeRoleWithWebIdentity (unsigned, with the token file
 * read afresh each time), sent through aws_client's query-protocol path
 * (aws_call_query()) with STS's own retry budget.  See
 * include/awsauth_int.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "awsauth.h"
#include "awsauth_int.h"
#include "backoff.h"
#include "util.h"
#include "wf.h"

/* 3 attempts of any kind, throttling included; delays of up to 1 s, 2 s */
const struct backoff awsauth_sts_backoff = {
	.max_attempts = 3, .max_failures = 3, .base_ms = 1000, .cap_ms = 20000,
};

/* AssumeRole is signed with the credentials of the step before, which do
 * not change while the call lasts and are never refreshed under it. */
static int
base_get(void *ctx, long long now, struct aws_creds *out, unsigned *gen)
{
	struct fetch *f = ctx;

	(void)now;
	out->access_key = f->base.access_key;
	out->secret_key = f->base.secret_key;
	out->session_token = f->base.session_token;
	*gen = 1;
	return 0;
}

static void
on_sts(const struct aws_result *res, void *arg)
{
	struct fetch *f = arg;
	const char *what = f->sts_action == 1 ? "AssumeRole" : "AssumeRoleWithWebIdentity";
	char *ak = NULL, *sk = NULL, *tok = NULL, *exp = NULL, why[1200];
	int r;

	f->sts = aws_client_free(f->sts);   /* nothing of it is used after this */
	if (res->ok) {
		ak = str_xml_leaf(res->body, "AccessKeyId");
		sk = str_xml_leaf(res->body, "SecretAccessKey");
		tok = str_xml_leaf(res->body, "SessionToken");
		exp = str_xml_leaf(res->body, "Expiration");
	}
	if (ak && sk && tok && *ak && *sk && *tok && exp && time_parse_iso8601(exp) > 0) {
		awsauth_creds_clear(f->ret);
		r = awsauth__take(f->ret, ak, sk, tok, f->sts_action == 1
		                  ? "assumed role (STS AssumeRole)" : "web identity (STS)");
		f->ret->expires = time_parse_iso8601(exp);
		free(ak);
		free(exp);
		str_wipe_free(sk);
		str_wipe_free(tok);
		if (r < 0)
			awsauth__fetch_end(f, r, "out of memory");
		else
			awsauth__base_ready(f);          /* and maybe more roles on top */
		return;
	}
	free(ak);
	free(exp);
	str_wipe_free(sk);
	str_wipe_free(tok);
	if (res->cancelled && !res->status && str_eq(res->code, "ClientError")) {
		awsauth__fetch_end(f, -ECANCELED, res->message);        /* never sent */
		return;
	}
	{
		char *code = res->status ? str_xml_leaf(res->body, "Code") : NULL;
		char *msg = res->status ? str_xml_leaf(res->body, "Message") : NULL;

		snprintf(why, sizeof(why), "STS %s%s%s failed: %s%s%s", what,
		         f->sts_action == 1 ? " " : "",
		         f->sts_action == 1 ? f->plan.roles[f->role_i - 1].arn : "",
		         !res->status ? (res->message ? res->message : "no reply")
		                      : code ? code : "malformed reply",
		         msg ? ": " : "", msg ? msg : "");
		free(code);
		free(msg);
	}
	awsauth__fetch_end(f, -EACCES, why);
}

static int
form_add(struct buf *b, const char *k, const char *v)
{
	char *enc = str_urlencode(v);
	int r;

	if (!enc)
		return -ENOMEM;
	r = buf_printf(b, "&%s=%s", k, enc);
	str_wipe_free(enc);
	return r;
}

char *
awsauth_assume_role_form(const char *arn, const char *session, const char *external_id,
                         const char *source_identity, int duration_s)
{
	struct buf b = {0};
	int e = 0;

	e |= buf_puts(&b, "Action=AssumeRole&Version=2011-06-15");
	e |= form_add(&b, "RoleArn", arn);
	e |= form_add(&b, "RoleSessionName", session);
	if (external_id)
		e |= form_add(&b, "ExternalId", external_id);
	if (source_identity)
		e |= form_add(&b, "SourceIdentity", source_identity);
	if (duration_s > 0)
		e |= buf_printf(&b, "&DurationSeconds=%d", duration_s);
	if (e) {
		buf_clear(&b);
		return NULL;
	}
	return buf_steal(&b);
}

void
awsauth__sts_call(struct fetch *f, int action)
{
	static const struct aws_creds_source none = {0};
	struct aws_creds_source base = { .get = base_get, .ctx = f };
	char *url = aws_endpoint_url("STS", f->w->aws_region, NULL);
	struct gm_err err = {{0}};
	struct buf body = {0};
	char sess[64], tokbuf[8192];
	int e = 0;

	f->sts_action = action;
	f->sts = aws_client_free(f->sts);
	if (url)
		f->sts = aws_client_new(f->pool, "sts", "", f->w->aws_region, url,
		                        action == 1 ? &base : &none, &err);
	free(url);
	if (!f->sts) {
		awsauth__fetch_end(f, -EINVAL, err.msg[0] ? err.msg : "no STS endpoint for the region");
		return;
	}
	aws_client_set_retry(f->sts, &awsauth_sts_backoff, 10000);
	if (action == 1) {
		const struct role *ro = &f->plan.roles[f->role_i++];
		char *form = awsauth_assume_role_form(ro->arn, ro->session, ro->external_id,
		                                      ro->source_identity, 3600);

		e |= form ? buf_puts(&body, form) : -ENOMEM;
		free(form);
	} else {
		const char *tf = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
		FILE *fp = fopen(tf, "re");       /* re-read at every fetch: kubelet rotates it */
		size_t n;

		if (!fp) {
			awsauth__fetch_end(f, -errno, "cannot read AWS_WEB_IDENTITY_TOKEN_FILE");
			return;
		}
		n = fread(tokbuf, 1, sizeof(tokbuf) - 1, fp);
		fclose(fp);
		tokbuf[n] = '\0';
		while (n && (tokbuf[n - 1] == '\n' || tokbuf[n - 1] == '\r'))
			tokbuf[--n] = '\0';
		if (getenv("AWS_ROLE_SESSION_NAME") && *getenv("AWS_ROLE_SESSION_NAME"))
			snprintf(sess, sizeof(sess), "%s", getenv("AWS_ROLE_SESSION_NAME"));
		else
			snprintf(sess, sizeof(sess), "gluemetad-%lld", (long long)time(NULL));
		e |= buf_puts(&body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15");
		e |= form_add(&body, "RoleArn", getenv("AWS_ROLE_ARN"));
		e |= form_add(&body, "RoleSessionName", sess);
		e |= form_add(&body, "WebIdentityToken", tokbuf);
		explicit_bzero(tokbuf, sizeof(tokbuf));
	}
	if (e) {
		buf_wipe(&body);
		awsauth__fetch_end(f, -ENOMEM, "out of memory");
		return;
	}
	/* the fetch ends in on_sts, which runs exactly once */
	aws_call_query(f->sts, body.data, on_sts, f);
	buf_wipe(&body);
}
