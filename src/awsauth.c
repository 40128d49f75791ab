/* awsauth — see include/awsauth.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <uv.h>

#include "aws.h"
#include "awsauth.h"
#include "backoff.h"
#include "http.h"
#include "log.h"
#include "util.h"
#include "wf.h"

#define MAX_INI_LINE 4096
#define MAX_ROLES 6                     /* role_arn chain through source_profile */
#define PROCESS_TIMEOUT_MS 60000
#define PROCESS_MAX_OUTPUT 65536
#define REFRESH_BACKOFF_MIN_S 5
#define REFRESH_BACKOFF_MAX_S 300
#define EXPIRY_SAFETY_S 5               /* never sign with less left than this... */

void
awsauth_creds_clear(struct awsauth_creds *c)
{
	free(c->access_key);
	str_wipe_free(c->secret_key);
	str_wipe_free(c->session_token);
	c->access_key = c->secret_key = c->session_token = NULL;
	c->expires = 0;
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

/* ---- shared files: one profile's keys ---- */

struct ini_kv {
	char *key, *value;
};

struct section {
	struct ini_kv kv[32];
	size_t n;
};

static void
section_clear(struct section *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->kv[i].key);
		str_wipe_free(s->kv[i].value);
	}
	s->n = 0;
}

static const char *
section_get(const struct section *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return *s->kv[i].value ? s->kv[i].value : NULL;
	return NULL;
}

/* Reads one section of an AWS INI file into *out (later keys win).  In the
 * config file a named profile's section is "[profile NAME]", the default
 * one "[default]".  Returns 1 when the section exists, 0 when not, -errno. */
static int
ini_section(const char *path, const char *profile, int config_file, struct section *out)
{
	char line[MAX_INI_LINE], want[300];
	FILE *f = fopen(path, "re");
	int in = 0, found = 0, r = 0;

	if (!f)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (config_file && strcmp(profile, "default") != 0)
		snprintf(want, sizeof(want), "profile %s", profile);
	else
		snprintf(want, sizeof(want), "%s", profile);
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq, *k, *v;
		size_t i;

		if (*s == '#' || *s == ';' || !*s)
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (end)
				*end = '\0';
			in = strcmp(trim(s + 1), want) == 0;
			found |= in;
			continue;
		}
		if (!in || !(eq = strchr(s, '=')))
			continue;
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		for (i = 0; i < out->n && strcmp(out->kv[i].key, k) != 0; i++)
			;
		if (i == out->n) {
			if (out->n == sizeof(out->kv) / sizeof(*out->kv))
				continue;
			if (!(out->kv[i].key = strdup(k))) {
				r = -ENOMEM;
				break;
			}
			out->kv[i].value = NULL;
			out->n++;
		}
		str_wipe_free(out->kv[i].value);
		if (!(out->kv[i].value = strdup(v))) {
			out->kv[i].value = strdup("");
			r = -ENOMEM;
			break;
		}
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return r < 0 ? r : found;
}

static int
take(struct awsauth_creds *c, const char *ak, const char *sk, const char *tok, const char *src)
{
	c->access_key = strdup(ak);
	c->secret_key = strdup(sk);
	c->session_token = tok && *tok ? strdup(tok) : NULL;
	c->expires = 0;
	snprintf(c->source, sizeof(c->source), "%s", src);
	if (!c->access_key || !c->secret_key || (tok && *tok && !c->session_token)) {
		awsauth_creds_clear(c);
		return -ENOMEM;
	}
	return 0;
}

/* ---- the plan: where the base credentials come from, roles on top ---- */

enum base_kind { BASE_NONE, BASE_STATIC, BASE_PROCESS, BASE_WEB_IDENTITY, BASE_CONTAINER,
	BASE_IMDS };

struct role {
	char *arn, *session, *external_id, *source_identity;
};

struct plan {
	enum base_kind kind;
	struct awsauth_creds creds;     /* BASE_STATIC */
	char *process;                  /* BASE_PROCESS: credential_process */
	char profile[96];               /* the profile it came from, for messages */
	struct role roles[MAX_ROLES + 1];
	size_t n_roles;
};

static void
plan_clear(struct plan *p)
{
	size_t i;

	awsauth_creds_clear(&p->creds);
	free(p->process);
	for (i = 0; i < p->n_roles; i++) {
		free(p->roles[i].arn);
		free(p->roles[i].session);
		free(p->roles[i].external_id);
		free(p->roles[i].source_identity);
	}
	memset(p, 0, sizeof(*p));
}

static int
plan_role(struct plan *p, const char *arn, const char *session, const char *external_id,
          const char *source_identity)
{
	struct role *r;
	char def[64];

	if (p->n_roles == sizeof(p->roles) / sizeof(*p->roles))
		return -ELOOP;
	r = &p->roles[p->n_roles];
	snprintf(def, sizeof(def), "botocore-session-%lld", (long long)time(NULL));
	r->arn = strdup(arn);
	r->session = strdup(session ? session : def);
	r->external_id = str_dup(external_id);
	r->source_identity = str_dup(source_identity);
	p->n_roles++;
	if (!r->arn || !r->session || (external_id && !r->external_id) ||
	    (source_identity && !r->source_identity))
		return -ENOMEM;
	return 0;
}

struct files {
	char creds[1024], config[1024];
};

static void
files_init(struct files *fl)
{
	const char *home = getenv("HOME"), *env;

	env = getenv("AWS_SHARED_CREDENTIALS_FILE");
	if (env && *env)
		snprintf(fl->creds, sizeof(fl->creds), "%s", env);
	else
		snprintf(fl->creds, sizeof(fl->creds), "%s/.aws/credentials", home ? home : "");
	env = getenv("AWS_CONFIG_FILE");
	if (env && *env)
		snprintf(fl->config, sizeof(fl->config), "%s", env);
	else
		snprintf(fl->config, sizeof(fl->config), "%s/.aws/config", home ? home : "");
}

/* A profile, as botocore reads it: role_arn (with source_profile or
 * credential_source) first, then keys, then credential_process.  Keys in
 * the credentials file win over the config file's.  Returns 1 with *p
 * filled, 0 when the profile has no credentials, -errno with err set. */
static int
profile_plan(const struct files *fl, const char *profile, int depth, struct plan *p,
             struct gm_err *err)
{
	struct section sec = {0};
	const char *arn, *src, *cs, *ak, *sk, *proc;
	int r, found;

	if (depth > MAX_ROLES) {
		gm_err_set(err, "AWS profile '%s': source_profile chain is too long or loops", profile);
		return -ELOOP;
	}
	/* config first, then the credentials file over it */
	if ((r = ini_section(fl->config, profile, 1, &sec)) < 0 ||
	    (found = ini_section(fl->creds, profile, 0, &sec)) < 0) {
		gm_err_set(err, "cannot read the AWS shared files for profile '%s': %s", profile,
		           strerror(-(r < 0 ? r : found)));
		section_clear(&sec);
		return r < 0 ? r : found;
	}
	found |= r;
	arn = section_get(&sec, "role_arn");
	src = section_get(&sec, "source_profile");
	cs = section_get(&sec, "credential_source");
	ak = section_get(&sec, "aws_access_key_id");
	sk = section_get(&sec, "aws_secret_access_key");
	proc = section_get(&sec, "credential_process");
	if (depth == 0 || !p->profile[0])
		snprintf(p->profile, sizeof(p->profile), "%.60s", profile);
	r = 0;
	if (arn) {
		if (src && strcmp(src, profile) == 0) {
			if (!ak || !sk) {
				gm_err_set(err, "AWS profile '%s': source_profile names itself but the "
				           "profile has no keys", profile);
				r = -EINVAL;
				goto out;
			}
			p->kind = BASE_STATIC;
			r = take(&p->creds, ak, sk, section_get(&sec, "aws_session_token"), "");
		} else if (src) {
			r = profile_plan(fl, src, depth + 1, p, err);
			if (r == 0) {
				gm_err_set(err, "AWS profile '%s': source_profile '%s' has no credentials",
				           profile, src);
				r = -ENOENT;
			}
		} else if (cs && strcmp(cs, "Environment") == 0) {
			const char *eak = getenv("AWS_ACCESS_KEY_ID"), *esk = getenv("AWS_SECRET_ACCESS_KEY");

			if (!eak || !*eak || !esk || !*esk) {
				gm_err_set(err, "AWS profile '%s': credential_source Environment but "
				           "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set", profile);
				r = -ENOENT;
			} else {
				p->kind = BASE_STATIC;
				r = take(&p->creds, eak, esk, getenv("AWS_SESSION_TOKEN"), "");
			}
		} else if (cs && strcmp(cs, "EcsContainer") == 0) {
			p->kind = BASE_CONTAINER;
		} else if (cs && strcmp(cs, "Ec2InstanceMetadata") == 0) {
			p->kind = BASE_IMDS;
		} else {
			gm_err_set(err, "AWS profile '%s': role_arn needs source_profile or "
			           "credential_source (Environment, EcsContainer or Ec2InstanceMetadata)%s%s",
			           profile, cs ? ", not " : "", cs ? cs : "");
			r = -EINVAL;
		}
		if (r >= 0) {
			r = plan_role(p, arn, section_get(&sec, "role_session_name"),
			              section_get(&sec, "external_id"), NULL);
			if (r == -ELOOP)
				gm_err_set(err, "AWS profile '%s': too many roles to assume", profile);
			r = r < 0 ? r : 1;
		}
	} else if (ak && sk) {
		p->kind = BASE_STATIC;
		r = take(&p->creds, ak, sk, section_get(&sec, "aws_session_token"), "") < 0 ? -ENOMEM : 1;
	} else if (proc) {
		p->kind = BASE_PROCESS;
		r = (p->process = strdup(proc)) ? 1 : -ENOMEM;
	}
	if (r == -ENOMEM)
		gm_err_set(err, "out of memory");
out:
	section_clear(&sec);
	(void)found;
	return r;
}

/* The synchronous part of the chain: awsConfig keys, environment, web
 * identity (only noted here), the profile.  Returns 0 with *p filled or
 * -ENOENT when the asynchronous sources remain to be tried. */
static int
make_plan(const struct wf *w, struct plan *p, struct gm_err *err)
{
	struct files fl;
	const char *profile;
	int r;

	if (w->aws_access_key_id && w->aws_secret_access_key) {
		p->kind = BASE_STATIC;
		if (take(&p->creds, w->aws_access_key_id, w->aws_secret_access_key,
		         w->aws_session_token, "workflow file") < 0)
			goto oom;
		goto roles;
	}
	if (!w->profile_name && getenv("AWS_ACCESS_KEY_ID") && getenv("AWS_SECRET_ACCESS_KEY") &&
	    *getenv("AWS_ACCESS_KEY_ID") && *getenv("AWS_SECRET_ACCESS_KEY")) {
		p->kind = BASE_STATIC;
		if (take(&p->creds, getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"),
		         getenv("AWS_SESSION_TOKEN"), "environment") < 0)
			goto oom;
		goto roles;
	}
	profile = w->profile_name ? w->profile_name
	          : (getenv("AWS_PROFILE") && *getenv("AWS_PROFILE")) ? getenv("AWS_PROFILE")
	          : "default";
	files_init(&fl);
	/* botocore: a profile's role_arn comes before web identity */
	if (!w->profile_name && getenv("AWS_ROLE_ARN") && *getenv("AWS_ROLE_ARN") &&
	    getenv("AWS_WEB_IDENTITY_TOKEN_FILE") && *getenv("AWS_WEB_IDENTITY_TOKEN_FILE")) {
		struct section sec = {0};
		int has_role = ini_section(fl.config, profile, 1, &sec) > 0 &&
		               section_get(&sec, "role_arn");

		section_clear(&sec);
		if (!has_role) {
			p->kind = BASE_WEB_IDENTITY;
			snprintf(p->creds.source, sizeof(p->creds.source), "web identity (STS)");
			goto roles;
		}
	}
	r = profile_plan(&fl, profile, 0, p, err);
	if (r < 0)
		return r;
	if (r == 1) {
		snprintf(p->creds.source, sizeof(p->creds.source), "profile '%.60s'", profile);
		goto roles;
	}
	gm_err_set(err, "no AWS credentials: none in awsConfig%s, and profile '%s' has no "
	           "aws_access_key_id/aws_secret_access_key, role_arn or credential_process in %s "
	           "or %s", w->profile_name ? "" : " or the environment", profile, fl.creds, fl.config);
	return -ENOENT;
roles:
	if (w->assume_role_arn &&
	    plan_role(p, w->assume_role_arn, w->assume_role_session_name ? w->assume_role_session_name
	              : "OpenMetadataSession", NULL, w->assume_role_source_identity) < 0)
		goto oom;
	return 0;
oom:
	gm_err_set(err, "out of memory");
	return -ENOMEM;
}

int
awsauth_resolve(const struct wf *w, struct awsauth_creds *ret, struct gm_err *err)
{
	struct plan p = {0};
	int r = make_plan(w, &p, err);

	if (r == 0 && (p.kind != BASE_STATIC || p.n_roles)) {
		gm_err_set(err, "the AWS credentials need a network call (role, process or metadata)");
		r = -EAGAIN;
	}
	if (r == 0) {
		*ret = p.creds;
		memset(&p.creds, 0, sizeof(p.creds));
	}
	plan_clear(&p);
	return r;
}

/* ---- one fetch of the whole chain, through the engine ---- */

struct fetch {
	const struct wf *w;
	uv_loop_t *loop;
	struct http_pool *pool;
	struct awsauth_creds *ret;
	awsauth_done_cb cb;
	void *arg;
	struct plan plan;
	size_t role_i;                  /* next role to assume */
	char imds[512];                 /* IMDS endpoint without a trailing '/' */
	char *token;                    /* IMDSv2 session token */
	char static_why[1024];
	int sts_action;                 /* 1 AssumeRole, 2 AssumeRoleWithWebIdentity */
	char *sts_host, *sts_path;
	struct awsauth_creds base;      /* AssumeRole's source credentials */
	/* credential_process */
	uv_process_t proc;
	uv_pipe_t out;
	uv_timer_t timer;
	struct buf output;
	int handles, exited, eof, timed_out;
	int64_t exit_status;
	int term_signal;
	struct fetch **slot;            /* cleared when the fetch ends */
};

static void base_ready(struct fetch *f);

static void
fetch_free(struct fetch *f)
{
	str_wipe_free(f->token);
	awsauth_creds_clear(&f->base);
	plan_clear(&f->plan);
	buf_wipe(&f->output);
	free(f->sts_host);
	free(f->sts_path);
	free(f);
}

static void
fetch_end(struct fetch *f, int r, const char *why)
{
	if (f->slot)
		*f->slot = NULL;
	f->slot = NULL;
	f->cb(r, why, f->arg);
	if (f->handles) {               /* the process's handles close first */
		f->cb = NULL;
		return;
	}
	fetch_free(f);
}

static int
env_true(const char *name)
{
	const char *v = getenv(name);

	return v && (strcmp(v, "true") == 0 || strcmp(v, "TRUE") == 0 || strcmp(v, "1") == 0);
}

/* {"AccessKeyId","SecretAccessKey","Token" or "SessionToken","Expiration"}
 * as the container endpoint, IMDS and credential_process answer. */
static int
take_json(struct fetch *f, const char *body, size_t len, const char *src)
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
		r = take(f->ret, ak->valuestring, sk->valuestring,
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

/* ---- credential_process: run without a shell, JSON on stdout ---- */

/* Splits a command line as POSIX shlex does (botocore's rule): blanks
 * separate words, '...' and "..." quote, backslash escapes.  Returns a
 * NULL-terminated vector in one allocation, or NULL. */
static char **
split_command(const char *cmd)
{
	size_t len = strlen(cmd), max_words = len / 2 + 2;
	char **argv = calloc(1, (max_words + 1) * sizeof(char *) + len + 1);
	char *out = argv ? (char *)(argv + max_words + 1) : NULL;
	size_t n = 0;
	const char *s = cmd;

	if (!argv)
		return NULL;
	for (;;) {
		char q = 0;
		int word = 0;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		argv[n++] = out;
		for (; *s; s++) {
			if (q == '\'') {
				if (*s == '\'')
					q = 0;
				else
					*out++ = *s;
			} else if (q == '"') {
				if (*s == '"')
					q = 0;
				else if (*s == '\\' && (s[1] == '"' || s[1] == '\\' || s[1] == '$'))
					*out++ = *++s;
				else
					*out++ = *s;
			} else if (*s == '\'' || *s == '"') {
				q = *s;
			} else if (*s == '\\' && s[1]) {
				*out++ = *++s;
			} else if (*s == ' ' || *s == '\t' || *s == '\n') {
				break;
			} else {
				*out++ = *s;
			}
			word = 1;
		}
		(void)word;
		*out++ = '\0';
		if (q) {
			free(argv);
			return NULL;    /* unterminated quote */
		}
	}
	if (!n) {
		free(argv);
		return NULL;
	}
	argv[n] = NULL;
	return argv;
}

static void
process_handle_closed(uv_handle_t *h)
{
	struct fetch *f = h->data;

	if (--f->handles == 0 && !f->cb)
		fetch_free(f);
}

static void
process_settle(struct fetch *f)
{
	char why[1400];

	if (!f->exited || !f->eof)
		return;
	if (!uv_is_closing((uv_handle_t *)&f->timer))
		uv_close((uv_handle_t *)&f->timer, process_handle_closed);
	if (f->timed_out)
		snprintf(why, sizeof(why), "credential_process of profile '%s' did not finish in %d s",
		         f->plan.profile, PROCESS_TIMEOUT_MS / 1000);
	else if (f->term_signal)
		snprintf(why, sizeof(why), "credential_process of profile '%s' was killed by signal %d",
		         f->plan.profile, f->term_signal);
	else if (f->exit_status)
		snprintf(why, sizeof(why), "credential_process of profile '%s' exited with status %lld",
		         f->plan.profile, (long long)f->exit_status);
	else {
		cJSON *j = cJSON_ParseWithLength(f->output.data ? f->output.data : "", f->output.len);
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "Version");
		int ok = cJSON_IsNumber(v) && v->valuedouble == 1;

		cJSON_Delete(j);
		if (ok && take_json(f, f->output.data, f->output.len, f->plan.creds.source) == 0) {
			buf_wipe(&f->output);
			base_ready(f);
			return;
		}
		snprintf(why, sizeof(why), "credential_process of profile '%s' printed no valid "
		         "credentials (want JSON with Version 1, AccessKeyId, SecretAccessKey)",
		         f->plan.profile);
	}
	buf_wipe(&f->output);
	fetch_end(f, -EACCES, why);
}

static void
on_process_exit(uv_process_t *p, int64_t status, int sig)
{
	struct fetch *f = p->data;

	f->exited = 1;
	f->exit_status = status;
	f->term_signal = sig;
	uv_close((uv_handle_t *)p, process_handle_closed);
	process_settle(f);
}

static void
on_process_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char chunk[4096];

	(void)h;
	(void)hint;
	*b = uv_buf_init(chunk, sizeof(chunk));
}

static void
on_process_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct fetch *f = s->data;

	if (n > 0) {
		if (f->output.len + (size_t)n > PROCESS_MAX_OUTPUT || buf_append(&f->output, b->base, (size_t)n) < 0) {
			buf_wipe(&f->output);
			f->output.max = 1;      /* refuse the rest */
		}
		explicit_bzero(b->base, (size_t)n);
		return;
	}
	if (n < 0) {
		f->eof = 1;
		uv_close((uv_handle_t *)s, process_handle_closed);
		process_settle(f);
	}
}

static void
on_process_timeout(uv_timer_t *t)
{
	struct fetch *f = t->data;

	f->timed_out = 1;
	if (!f->exited)
		uv_process_kill(&f->proc, SIGKILL);
}

static void
start_process(struct fetch *f)
{
	uv_process_options_t o = {0};
	uv_stdio_container_t io[3];
	char **argv = split_command(f->plan.process);
	int e;

	if (!argv) {
		char why[300];

		snprintf(why, sizeof(why), "credential_process of profile '%s' is empty or has an "
		         "unterminated quote", f->plan.profile);
		fetch_end(f, -EINVAL, why);
		return;
	}
	uv_pipe_init(f->loop, &f->out, 0);
	f->out.data = f;
	f->handles++;
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[1].data.stream = (uv_stream_t *)&f->out;
	io[2].flags = UV_INHERIT_FD;
	io[2].data.fd = 2;
	o.file = argv[0];
	o.args = argv;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = on_process_exit;
	f->proc.data = f;
	f->handles++;                   /* the process handle, closed even on failure */
	e = uv_spawn(f->loop, &f->proc, &o);
	free(argv);
	if (e < 0) {
		char why[400];

		snprintf(why, sizeof(why), "credential_process of profile '%s' cannot be started: %s",
		         f->plan.profile, uv_strerror(e));
		uv_close((uv_handle_t *)&f->out, process_handle_closed);
		uv_close((uv_handle_t *)&f->proc, process_handle_closed);
		fetch_end(f, -ENOEXEC, why);
		return;
	}
	uv_timer_init(f->loop, &f->timer);
	f->timer.data = f;
	f->handles++;
	uv_timer_start(&f->timer, on_process_timeout, PROCESS_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&f->out, on_process_alloc, on_process_read);
}

/* ---- container and instance metadata ---- */

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

/* 3 attempts of any kind, throttling included; delays of up to 1 s, 2 s */
const struct backoff awsauth_sts_backoff = {
	.max_attempts = 3, .max_failures = 3, .base_ms = 1000, .cap_ms = 20000,
};

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
	if (!resp->transport_error && resp->status < 500 &&
	    !strstr(resp->body, "<Code>Throttling</Code>") &&
	    !strstr(resp->body, "<Code>IDPCommunicationError</Code>"))
		return -1;
	if (!backoff_again(&awsauth_sts_backoff, 0, resp->attempts, resp->attempts))
		return -1;
	return backoff_delay(&awsauth_sts_backoff, resp->attempts);
}

static void
on_sts(const struct http_resp *resp, void *arg)
{
	struct fetch *f = arg;
	const char *what = f->sts_action == 1 ? "AssumeRole" : "AssumeRoleWithWebIdentity";
	char *ak = NULL, *sk = NULL, *tok = NULL, *exp = NULL, why[1200];
	int r;

	if (resp->status == 200) {
		ak = str_xml_leaf(resp->body, "AccessKeyId");
		sk = str_xml_leaf(resp->body, "SecretAccessKey");
		tok = str_xml_leaf(resp->body, "SessionToken");
		exp = str_xml_leaf(resp->body, "Expiration");
	}
	if (ak && sk && tok && *ak && *sk && *tok && exp && time_parse_iso8601(exp) > 0) {
		awsauth_creds_clear(f->ret);
		r = take(f->ret, ak, sk, tok, f->sts_action == 1 ? "assumed role (STS AssumeRole)"
		                                                : "web identity (STS)");
		f->ret->expires = time_parse_iso8601(exp);
		free(ak);
		free(exp);
		str_wipe_free(sk);
		str_wipe_free(tok);
		if (r < 0)
			fetch_end(f, r, "out of memory");
		else
			base_ready(f);          /* and maybe more roles on top */
		return;
	}
	free(ak);
	free(exp);
	str_wipe_free(sk);
	str_wipe_free(tok);
	{
		char *code = str_xml_leaf(resp->body, "Code"), *msg = str_xml_leaf(resp->body, "Message");

		snprintf(why, sizeof(why), "STS %s%s%s failed: %s%s%s", what,
		         f->sts_action == 1 ? " " : "",
		         f->sts_action == 1 ? f->plan.roles[f->role_i - 1].arn : "",
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

static void
sts_call(struct fetch *f, int action)
{
	char *url = aws_endpoint_url("STS", f->w->aws_region, NULL);
	struct gm_err err = {{0}};
	struct http_req *req = NULL;
	struct buf body = {0};
	char sess[64], tokbuf[8192];
	int e = 0;

	f->sts_action = action;
	free(f->sts_host);
	free(f->sts_path);
	f->sts_host = f->sts_path = NULL;
	if (!url || aws_url_parts(url, &f->sts_host, &f->sts_path, &err) < 0) {
		free(url);
		fetch_end(f, -EINVAL, err.msg[0] ? err.msg : "no STS endpoint for the region");
		return;
	}
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
	http_req_max_attempts(req, awsauth_sts_backoff.max_attempts);
	http_req_timeout(req, 10000);
	if (http_submit(f->pool, req, on_sts, f) < 0)
		fetch_end(f, -ECANCELED, "shutting down");
}

/* Credentials in f->ret; each role of the plan is assumed in turn, signed
 * with the credentials the previous step gave. */
static void
base_ready(struct fetch *f)
{
	if (f->role_i == f->plan.n_roles) {
		fetch_end(f, 0, NULL);
		return;
	}
	awsauth_creds_clear(&f->base);
	f->base = *f->ret;
	memset(f->ret, 0, sizeof(*f->ret));
	sts_call(f, 1);
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
	r = make_plan(w, &f->plan, &err);
	if (r == 0) {
		switch (f->plan.kind) {
		case BASE_STATIC:
			*ret = f->plan.creds;
			memset(&f->plan.creds, 0, sizeof(f->plan.creds));
			base_ready(f);
			return;
		case BASE_PROCESS:
			snprintf(f->plan.creds.source, sizeof(f->plan.creds.source),
			         "credential_process of profile '%.60s'", f->plan.profile);
			start_process(f);
			return;
		case BASE_WEB_IDENTITY:
			sts_call(f, 2);
			return;
		case BASE_CONTAINER:
			snprintf(f->static_why, sizeof(f->static_why), "credential_source EcsContainer");
			if (!start_container(f))
				fetch_end(f, -ENOENT, "credential_source EcsContainer, but no "
				          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI is set");
			return;
		case BASE_IMDS:
			snprintf(f->static_why, sizeof(f->static_why), "credential_source Ec2InstanceMetadata");
			start_imds(f);
			return;
		case BASE_NONE:
			break;
		}
	}
	if (r != -ENOENT) {
		fetch_end(f, r, err.msg);
		return;
	}
	snprintf(f->static_why, sizeof(f->static_why), "%s", err.msg);
	if (w->assume_role_arn &&
	    plan_role(&f->plan, w->assume_role_arn, w->assume_role_session_name
	              ? w->assume_role_session_name : "OpenMetadataSession", NULL,
	              w->assume_role_source_identity) < 0) {
		fetch_end(f, -ENOMEM, "out of memory");
		return;
	}
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

/* ---- the provider: credentials of one run, refreshed before they expire ---- */

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
