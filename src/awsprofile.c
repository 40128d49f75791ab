/* awsprofile — the synchronous part of the credential chain: the keys of
 * the workflow file and the environment, the shared config and credentials
 * files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE) read as botocore
 * reads them, and the plan made from them: where the base credentials
 * come from and which roles are assumed on top.  See include/awsauth.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "awsauth.h"
#include "awsauth_int.h"
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

int
awsauth__take(struct awsauth_creds *c, const char *ak, const char *sk, const char *tok, const char *src)
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

void
awsauth__plan_clear(struct plan *p)
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

int
awsauth__plan_role(struct plan *p, const char *arn, const char *session, const char *external_id,
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

void
awsauth__files_init(struct awsauth_files *fl)
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
int
awsauth__profile_plan(const struct awsauth_files *fl, const char *profile, int depth, struct plan *p,
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
			r = awsauth__take(&p->creds, ak, sk, section_get(&sec, "aws_session_token"), "");
		} else if (src) {
			r = awsauth__profile_plan(fl, src, depth + 1, p, err);
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
				r = awsauth__take(&p->creds, eak, esk, getenv("AWS_SESSION_TOKEN"), "");
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
			r = awsauth__plan_role(p, arn, section_get(&sec, "role_session_name"),
			              section_get(&sec, "external_id"), NULL);
			if (r == -ELOOP)
				gm_err_set(err, "AWS profile '%s': too many roles to assume", profile);
			r = r < 0 ? r : 1;
		}
	} else if (ak && sk) {
		p->kind = BASE_STATIC;
		r = awsauth__take(&p->creds, ak, sk, section_get(&sec, "aws_session_token"), "") < 0 ? -ENOMEM : 1;
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
int
awsauth__make_plan(const struct wf *w, struct plan *p, struct gm_err *err)
{
	struct awsauth_files fl;
	const char *profile;
	int r;

	if (w->aws_access_key_id && w->aws_secret_access_key) {
		p->kind = BASE_STATIC;
		if (awsauth__take(&p->creds, w->aws_access_key_id, w->aws_secret_access_key,
		         w->aws_session_token, "workflow file") < 0)
			goto oom;
		goto roles;
	}
	if (!w->profile_name && getenv("AWS_ACCESS_KEY_ID") && getenv("AWS_SECRET_ACCESS_KEY") &&
	    *getenv("AWS_ACCESS_KEY_ID") && *getenv("AWS_SECRET_ACCESS_KEY")) {
		p->kind = BASE_STATIC;
		if (awsauth__take(&p->creds, getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"),
		         getenv("AWS_SESSION_TOKEN"), "environment") < 0)
			goto oom;
		goto roles;
	}
	profile = w->profile_name ? w->profile_name
	          : (getenv("AWS_PROFILE") && *getenv("AWS_PROFILE")) ? getenv("AWS_PROFILE")
	          : "default";
	awsauth__files_init(&fl);
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
	r = awsauth__profile_plan(&fl, profile, 0, p, err);
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
	    awsauth__plan_role(p, w->assume_role_arn, w->assume_role_session_name ? w->assume_role_session_name
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
	int r = awsauth__make_plan(w, &p, err);

	if (r == 0 && (p.kind != BASE_STATIC || p.n_roles)) {
		gm_err_set(err, "the AWS credentials need a network call (role, process or metadata)");
		r = -EAGAIN;
	}
	if (r == 0) {
		*ret = p.creds;
		memset(&p.creds, 0, sizeof(p.creds));
	}
	awsauth__plan_clear(&p);
	return r;
}
