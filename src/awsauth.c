/* awsauth — see include/awsauth.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "aws.h"
#include "awsauth.h"
#include "http.h"
#include "util.h"
#include "wf.h"

#define MAX_INI_LINE 4096

void
awsauth_creds_clear(struct awsauth_creds *c)
{
	free(c->access_key);
	str_wipe_free(c->secret_key);
	str_wipe_free(c->session_token);
	c->access_key = c->secret_key = c->session_token = NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Reads the three keys of one section of an AWS INI file.  In the config
 * file a named profile's section is "[profile NAME]", the default one
 * "[default]".  Returns 1 when both keys were found, 0 when not, -errno. */
static int
ini_profile(const char *path, const char *profile, int config_file, struct awsauth_creds *c)
{
	char line[MAX_INI_LINE], want[300];
	FILE *f = fopen(path, "re");
	int in = 0, r = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (config_file && strcmp(profile, "default") != 0)
		snprintf(want, sizeof(want), "profile %s", profile);
	else
		snprintf(want, sizeof(want), "%s", profile);
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq, *k, *v, **dst = NULL;

		if (*s == '#' || *s == ';' || !*s)
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (end)
				*end = '\0';
			in = strcmp(trim(s + 1), want) == 0;
			continue;
		}
		if (!in || !(eq = strchr(s, '=')))
			continue;
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (strcmp(k, "aws_access_key_id") == 0)
			dst = &c->access_key;
		else if (strcmp(k, "aws_secret_access_key") == 0)
			dst = &c->secret_key;
		else if (strcmp(k, "aws_session_token") == 0)
			dst = &c->session_token;
		if (dst && *v) {
			str_wipe_free(*dst);
			if (!(*dst = strdup(v))) {
				r = -ENOMEM;
				break;
			}
		}
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	if (r < 0)
		return r;
	if (c->access_key && c->secret_key)
		return 1;
	awsauth_creds_clear(c);
	return 0;
}

static int
take(struct awsauth_creds *c, const char *ak, const char *sk, const char *tok, const char *src)
{
	c->access_key = strdup(ak);
	c->secret_key = strdup(sk);
	c->session_token = tok && *tok ? strdup(tok) : NULL;
	snprintf(c->source, sizeof(c->source), "%s", src);
	if (!c->access_key || !c->secret_key || (tok && *tok && !c->session_token)) {
		awsauth_creds_clear(c);
		return -ENOMEM;
	}
	return 0;
}

/* stage 0: awsConfig keys and the environment; stage 1: the shared files */
static int
resolve_stage(const struct wf *w, int stage, struct awsauth_creds *ret, struct gm_err *err);

int
awsauth_resolve(const struct wf *w, struct awsauth_creds *ret, struct gm_err *err)
{
	int r = resolve_stage(w, 0, ret, err);

	return r == -ENOENT ? resolve_stage(w, 1, ret, err) : r;
}

static int
resolve_stage(const struct wf *w, int stage, struct awsauth_creds *ret, struct gm_err *err)
{
	struct awsauth_creds c = {0};
	const char *home = getenv("HOME"), *profile, *env;
	char creds_path[1024], config_path[1024];
	int r;

	if (stage == 0 && w->aws_access_key_id && w->aws_secret_access_key) {
		if ((r = take(&c, w->aws_access_key_id, w->aws_secret_access_key,
		              w->aws_session_token, "workflow file")) < 0)
			return r;
		*ret = c;
		return 0;
	}
	if (stage == 0 && !w->profile_name && getenv("AWS_ACCESS_KEY_ID") &&
	    getenv("AWS_SECRET_ACCESS_KEY") &&
	    *getenv("AWS_ACCESS_KEY_ID") && *getenv("AWS_SECRET_ACCESS_KEY")) {
		if ((r = take(&c, getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"),
		              getenv("AWS_SESSION_TOKEN"), "environment")) < 0)
			return r;
		*ret = c;
		return 0;
	}
	if (stage == 0)
		return -ENOENT;
	profile = w->profile_name ? w->profile_name
	          : (getenv("AWS_PROFILE") && *getenv("AWS_PROFILE")) ? getenv("AWS_PROFILE")
	          : "default";
	env = getenv("AWS_SHARED_CREDENTIALS_FILE");
	snprintf(creds_path, sizeof(creds_path), "%s", env && *env ? env : "");
	if (!creds_path[0])
		snprintf(creds_path, sizeof(creds_path), "%s/.aws/credentials", home ? home : "");
	env = getenv("AWS_CONFIG_FILE");
	snprintf(config_path, sizeof(config_path), "%s", env && *env ? env : "");
	if (!config_path[0])
		snprintf(config_path, sizeof(config_path), "%s/.aws/config", home ? home : "");
	if ((r = ini_profile(creds_path, profile, 0, &c)) == 1 ||
	    (r == 0 && (r = ini_profile(config_path, profile, 1, &c)) == 1)) {
		snprintf(c.source, sizeof(c.source), "profile '%.60s'", profile);
		*ret = c;
		return 0;
	}
	if (r < 0) {
		gm_err_set(err, "cannot read the AWS shared files for profile '%s': %s", profile,
		           strerror(-r));
		return r;
	}
	gm_err_set(err, "no AWS credentials: none in awsConfig%s, and profile '%s' has no "
	           "aws_access_key_id/aws_secret_access_key in %s or %s",
	           w->profile_name ? "" : " or the environment", profile, creds_path, config_path);
	return -ENOENT;
}

/* ---- container and instance metadata, through the engine ---- */

struct fetch {
	const struct wf *w;
	struct http_pool *pool;
	struct awsauth_creds *ret;
	awsauth_done_cb cb;
	void *arg;
	char imds[512];                 /* IMDS endpoint without a trailing '/' */
	char *token;                    /* IMDSv2 session token */
	char static_why[1024];
	int sts_action;                 /* 1 AssumeRole, 2 AssumeRoleWithWebIdentity */
	char *sts_host, *sts_path;
	struct awsauth_creds base;      /* AssumeRole's source credentials */
};

static void base_ready(struct fetch *f);

static void
fetch_end(struct fetch *f, int r, const char *why)
{
	f->cb(r, why, f->arg);
	str_wipe_free(f->token);
	awsauth_creds_clear(&f->base);
	free(f->sts_host);
	free(f->sts_path);
	free(f);
}

static int
env_true(const char *name)
{
	const char *v = getenv(name);

	return v && (strcmp(v, "true") == 0 || strcmp(v, "TRUE") == 0 || strcmp(v, "1") == 0);
}

/* {"AccessKeyId","SecretAccessKey","Token","Expiration"} as the container
 * endpoint and IMDS answer. */
static int
take_json(struct fetch *f, const char *body, size_t len, const char *src)
{
	cJSON *j = cJSON_ParseWithLength(body, len);
	const cJSON *ak = cJSON_GetObjectItemCaseSensitive(j, "AccessKeyId");
	const cJSON *sk = cJSON_GetObjectItemCaseSensitive(j, "SecretAccessKey");
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "Token");
	int r = -EINVAL;

	if (cJSON_IsString(ak) && cJSON_IsString(sk) && *ak->valuestring && *sk->valuestring)
		r = take(f->ret, ak->valuestring, sk->valuestring,
		         cJSON_IsString(tok) ? tok->valuestring : NULL, src);
	if (j && cJSON_IsString(sk))
		explicit_bzero(sk->valuestring, strlen(sk->valuestring));
	if (j && cJSON_IsString(tok))
		explicit_bzero(tok->valuestring, strlen(tok->valuestring));
	cJSON_Delete(j);
	return r;
}

static void
on_container(const struct http_resp *resp, void *arg)
{
	struct fetch *f = arg;
	char why[1600];

	if (resp->status == 200 && take_json(f, resp->body, resp->body_len,
	                                     "container credentials endpoint") == 0) {
		base_ready(f);
		return;
	}
	snprintf(why, sizeof(why), "%s; the container credentials endpoint answered %s%ld%s",
	         f->static_why, resp->transport_error ? "" : "HTTP ", resp->status,
	         resp->transport_error ? " (no reply)" : resp->status == 200 ? " without credentials" : "");
	fetch_end(f, -EACCES, why);
}

/* botocore's rule: https anywhere; http only to loopback or the ECS/EKS
 * link-local hosts. */
static int
container_url_allowed(const char *url)
{
	static const char *const hosts[] = { "127.", "localhost", "[::1]", "169.254.170.2",
		"169.254.170.23", "[fd00:ec2::23]", NULL };
	size_t i;

	if (strncmp(url, "https://", 8) == 0)
		return 1;
	if (strncmp(url, "http://", 7) != 0)
		return 0;
	for (i = 0; hosts[i]; i++)
		if (strncmp(url + 7, hosts[i], strlen(hosts[i])) == 0)
			return url[7 + strlen(hosts[i])] == '/' || url[7 + strlen(hosts[i])] == ':' ||
			       url[7 + strlen(hosts[i])] == '\0' || hosts[i][strlen(hosts[i]) - 1] == '.';
	return 0;
}

static int
start_container(struct fetch *f)
{
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tokfile = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tokenv = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	struct http_req *req;
	char url[2048], tok[4096] = "";

	if (rel && *rel)
		snprintf(url, sizeof(url), "http://169.254.170.2%s", rel);
	else if (full && *full)
		snprintf(url, sizeof(url), "%s", full);
	else
		return 0;
	if (!container_url_allowed(url)) {
		fetch_end(f, -EINVAL, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to "
		          "a loopback or the ECS/EKS credentials address");
		return 1;
	}
	if (tokfile && *tokfile) {
		FILE *fp = fopen(tokfile, "re");
		size_t n = 0;

		if (!fp) {
			fetch_end(f, -errno, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
			return 1;
		}
		n = fread(tok, 1, sizeof(tok) - 1, fp);
		fclose(fp);
		tok[n] = '\0';
		while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
			tok[--n] = '\0';
	} else if (tokenv) {
		snprintf(tok, sizeof(tok), "%s", tokenv);
	}
	if (strpbrk(tok, "\r\n")) {
		explicit_bzero(tok, sizeof(tok));
		fetch_end(f, -EINVAL, "the container authorization token contains a line break");
		return 1;
	}
	req = http_req_new("GET", url);
	if (!req || http_req_header(req, "Accept", "application/json") < 0 ||
	    (tok[0] && http_req_header(req, "Authorization", tok) < 0)) {
		explicit_bzero(tok, sizeof(tok));
		http_req_free(req);
		fetch_end(f, -ENOMEM, "out of memory");
		return 1;
	}
	explicit_bzero(tok, sizeof(tok));
	http_req_timeout(req, 2000);
	if (http_submit(f->pool, req, on_container, f) < 0)
		fetch_end(f, -ECANCELED, "shutting down");
	return 1;
}

static void imds_get(struct fetch *f, const char *path, http_done_cb cb);

static void
on_imds_creds(const struct http_resp *resp, void *arg)
{
	struct fetch *f = arg;

	if (resp->status == 200 &&
	    take_json(f, resp->body, resp->body_len, "EC2 instance metadata") == 0)
		base_ready(f);
	else
		fetch_end(f, -EACCES, "EC2 instance metadata gave no credentials for the role");
}

static void
on_imds_role(const struct http_resp *resp, void *arg)
{
	struct fetch *f = arg;
	char path[512], role[256];
	size_t n;

	if (resp->status != 200 || !resp->body_len) {
		char why[1600];

		snprintf(why, sizeof(why), "%s; %s", f->static_why, resp->transport_error
		         ? "no EC2 instance metadata service answered"
		         : "EC2 instance metadata has no IAM role for this instance");
		fetch_end(f, -ENOENT, why);
		return;
	}
	n = strcspn(resp->body, "\r\n");
	if (n == 0 || n >= sizeof(role) || strpbrk(resp->body, "/?#%")) {
		fetch_end(f, -EINVAL, "EC2 instance metadata sent a malformed role name");
		return;
	}
	memcpy(role, resp->body, n);
	role[n] = '\0';
	snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s", role);
	imds_get(f, path, on_imds_creds);
}

static void
imds_get(struct fetch *f, const char *path, http_done_cb cb)
{
	char url[1024];
	struct http_req *req;

	snprintf(url, sizeof(url), "%s%s", f->imds, path);
	req = http_req_new("GET", url);
	if (!req || (f->token && http_req_header(req, "X-aws-ec2-metadata-token", f->token) < 0)) {
		http_req_free(req);
		fetch_end(f, -ENOMEM, "out of memory");
		return;
	}
	http_req_timeout(req, 1000);
	if (http_submit(f->pool, req, cb, f) < 0)
		fetch_end(f, -ECANCELED, "shutting down");
}

static void
on_imds_token(const struct http_resp *resp, void *arg)
{
	struct fetch *f = arg;

	if (resp->status == 200 && resp->body_len && resp->body_len < 1024 &&
	    !strpbrk(resp->body, "\r\n")) {
		f->token = strdup(resp->body);
	} else if (resp->status == 400) {
		fetch_end(f, -EINVAL, "EC2 instance metadata refused the token request");
		return;
	} else if (env_true("AWS_EC2_METADATA_V1_DISABLED")) {
		fetch_end(f, -ENOENT, "no IMDSv2 token and AWS_EC2_METADATA_V1_DISABLED is set");
		return;
	}
	/* 403/404/405 or no answer: IMDSv1, as botocore falls back */
	imds_get(f, "/latest/meta-data/iam/security-credentials/", on_imds_role);
}

static void
start_imds(struct fetch *f)
{
	const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	struct http_req *req;
	size_t n;

	snprintf(f->imds, sizeof(f->imds), "%s", ep && *ep ? ep
	         : mode && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]"
	         : "http://169.254.169.254");
	n = strlen(f->imds);
	while (n && f->imds[n - 1] == '/')
		f->imds[--n] = '\0';
	{
		char url[600];

		snprintf(url, sizeof(url), "%s/latest/api/token", f->imds);
		req = http_req_new("PUT", url);
	}
	if (!req || http_req_header(req, "X-aws-ec2-metadata-token-ttl-seconds", "21600") < 0) {
		http_req_free(req);
		fetch_end(f, -ENOMEM, "out of memory");
		return;
	}
	http_req_timeout(req, 1000);
	if (http_submit(f->pool, req, on_imds_token, f) < 0)
		fetch_end(f, -ECANCELED, "shutting down");
}

/* ---- STS: AssumeRole and AssumeRoleWithWebIdentity (query protocol) ---- */

/* The text of the first <tag>...</tag>, XML entities decoded. */
static char *
xml_leaf(const char *body, const char *tag)
{
	char open[64], close[64];
	const char *a, *b;
	struct buf out = {0};

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if (!(a = strstr(body, open)) || !(b = strstr(a, close)))
		return NULL;
	for (a += strlen(open); a < b; a++) {
		static const struct { const char *ent; char c; } ents[] = {
			{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
			{ "&apos;", '\'' },
		};
		size_t i;
		char c = *a;

		if (*a == '&') {
			for (i = 0; i < sizeof(ents) / sizeof(*ents); i++)
				if (strncmp(a, ents[i].ent, strlen(ents[i].ent)) == 0) {
					c = ents[i].c;
					a += strlen(ents[i].ent) - 1;
					break;
				}
			if (i == sizeof(ents) / sizeof(*ents) && a[1] == '#') {
				char *end;
				long v = strtol(a + 2 + (a[2] == 'x'), &end, a[2] == 'x' ? 16 : 10);

				if (*end == ';' && v > 0 && v < 128) {
					c = (char)v;
					a = end;
				}
			}
		}
		if (buf_append(&out, &c, 1) < 0) {
			buf_wipe(&out);
			return NULL;
		}
	}
	return buf_steal(&out);
}

static int
sts_sign(struct http_req *req, void *arg)
{
	struct fetch *f = arg;
	struct aws_creds creds = { f->base.access_key, f->base.secret_key, f->base.session_token };

	if (f->sts_action != 1)
		return 0;               /* web identity is not signed */
	return aws_sign_post(req, f->sts_host, f->sts_path, f->w->aws_region, "sts", &creds,
	                     "application/x-www-form-urlencoded; charset=utf-8", NULL,
	                     (long long)time(NULL));
}

static long
sts_retry(const struct http_resp *resp, void *arg)
{
	(void)arg;
	if (resp->transport_error || resp->status >= 500 ||
	    strstr(resp->body, "<Code>Throttling</Code>") ||
	    strstr(resp->body, "<Code>IDPCommunicationError</Code>"))
		return (long)(rand_u64() % (500UL << resp->attempts));
	return -1;
}

static void
on_sts(const struct http_resp *resp, void *arg)
{
	struct fetch *f = arg;
	const char *what = f->sts_action == 1 ? "AssumeRole" : "AssumeRoleWithWebIdentity";
	char *ak = NULL, *sk = NULL, *tok = NULL, why[1200];
	int r;

	if (resp->status == 200) {
		ak = xml_leaf(resp->body, "AccessKeyId");
		sk = xml_leaf(resp->body, "SecretAccessKey");
		tok = xml_leaf(resp->body, "SessionToken");
	}
	if (ak && sk && tok) {
		awsauth_creds_clear(f->ret);
		r = take(f->ret, ak, sk, tok, f->sts_action == 1 ? "assumed role (STS AssumeRole)"
		                                                : "web identity (STS)");
		free(ak);
		str_wipe_free(sk);
		str_wipe_free(tok);
		if (r < 0)
			fetch_end(f, r, "out of memory");
		else if (f->sts_action == 2)
			base_ready(f);          /* and maybe assumeRoleArn on top */
		else
			fetch_end(f, 0, NULL);
		return;
	}
	free(ak);
	str_wipe_free(sk);
	str_wipe_free(tok);
	{
		char *code = xml_leaf(resp->body, "Code"), *msg = xml_leaf(resp->body, "Message");

		snprintf(why, sizeof(why), "STS %s failed: %s%s%s", what,
		         resp->transport_error ? (resp->error ? resp->error : "no reply")
		                               : code ? code : "malformed reply",
		         msg ? ": " : "", msg ? msg : "");
		free(code);
		free(msg);
	}
	fetch_end(f, -EACCES, why);
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

static void
sts_call(struct fetch *f, int action)
{
	const char *ep = getenv("AWS_ENDPOINT_URL_STS");
	char *url = ep && *ep ? strdup(ep) : aws_endpoint_for("sts", f->w->aws_region);
	const char *session = f->w->assume_role_session_name;
	struct gm_err err = {{0}};
	struct http_req *req = NULL;
	struct buf body = {0};
	char sess[64], tokbuf[8192];
	int e = 0;

	f->sts_action = action;
	if (!url || aws_url_parts(url, &f->sts_host, &f->sts_path, &err) < 0) {
		free(url);
		fetch_end(f, -EINVAL, err.msg[0] ? err.msg : "no STS endpoint for the region");
		return;
	}
	if (action == 1) {
		e |= buf_puts(&body, "Action=AssumeRole&Version=2011-06-15");
		e |= form_add(&body, "RoleArn", f->w->assume_role_arn);
		e |= form_add(&body, "RoleSessionName", session ? session : "OpenMetadataSession");
		if (f->w->assume_role_source_identity)
			e |= form_add(&body, "SourceIdentity", f->w->assume_role_source_identity);
	} else {
		const char *tf = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
		FILE *fp = fopen(tf, "re");       /* re-read at every fetch: kubelet rotates it */
		size_t n;

		if (!fp) {
			free(url);
			fetch_end(f, -errno, "cannot read AWS_WEB_IDENTITY_TOKEN_FILE");
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
	if (e || !(req = http_req_new("POST", url)) ||
	    http_req_header(req, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8") < 0 ||
	    http_req_body(req, body.data, body.len) < 0) {
		free(url);
		buf_wipe(&body);
		http_req_free(req);
		fetch_end(f, -ENOMEM, "out of memory");
		return;
	}
	free(url);
	buf_wipe(&body);
	http_req_hooks(req, sts_sign, sts_retry, f);
	http_req_max_attempts(req, 3);
	http_req_timeout(req, 10000);
	if (http_submit(f->pool, req, on_sts, f) < 0)
		fetch_end(f, -ECANCELED, "shutting down");
}

/* Source credentials found; with assumeRoleArn they only sign AssumeRole. */
static void
base_ready(struct fetch *f)
{
	if (!f->w->assume_role_arn || f->sts_action == 1) {
		fetch_end(f, 0, NULL);
		return;
	}
	f->base = *f->ret;
	memset(f->ret, 0, sizeof(*f->ret));
	sts_call(f, 1);
}

void
awsauth_fetch(struct http_pool *pool, const struct wf *w, struct awsauth_creds *ret,
              awsauth_done_cb cb, void *arg)
{
	struct gm_err err = {{0}};
	struct fetch *f = calloc(1, sizeof(*f));
	int r;

	if (!f) {
		cb(-ENOMEM, "out of memory", arg);
		return;
	}
	f->w = w;
	f->pool = pool;
	f->ret = ret;
	f->cb = cb;
	f->arg = arg;
	/* boto3's order: explicit keys, environment, web identity, shared
	 * files, container, instance metadata */
	r = resolve_stage(w, 0, ret, &err);
	if (r == 0) {
		base_ready(f);
		return;
	}
	if (r == -ENOENT && !w->profile_name && getenv("AWS_ROLE_ARN") && *getenv("AWS_ROLE_ARN") &&
	    getenv("AWS_WEB_IDENTITY_TOKEN_FILE") && *getenv("AWS_WEB_IDENTITY_TOKEN_FILE")) {
		sts_call(f, 2);
		return;
	}
	if (r == -ENOENT)
		r = resolve_stage(w, 1, ret, &err);
	if (r == 0) {
		base_ready(f);
		return;
	}
	if (r != -ENOENT) {
		fetch_end(f, r, err.msg);
		return;
	}
	snprintf(f->static_why, sizeof(f->static_why), "%s", err.msg);
	if (start_container(f))
		return;
	if (env_true("AWS_EC2_METADATA_DISABLED")) {
		char why[1200];

		snprintf(why, sizeof(why), "%s; AWS_EC2_METADATA_DISABLED is set", f->static_why);
		fetch_end(f, -ENOENT, why);
		return;
	}
	start_imds(f);
}
