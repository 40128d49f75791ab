/* awsauth — see include/awsauth.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsauth.h"
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

int
awsauth_resolve(const struct wf *w, struct awsauth_creds *ret, struct gm_err *err)
{
	struct awsauth_creds c = {0};
	const char *home = getenv("HOME"), *profile, *env;
	char creds_path[1024], config_path[1024];
	int r;

	if (w->aws_access_key_id && w->aws_secret_access_key) {
		if ((r = take(&c, w->aws_access_key_id, w->aws_secret_access_key,
		              w->aws_session_token, "workflow file")) < 0)
			return r;
		*ret = c;
		return 0;
	}
	if (!w->profile_name && getenv("AWS_ACCESS_KEY_ID") && getenv("AWS_SECRET_ACCESS_KEY") &&
	    *getenv("AWS_ACCESS_KEY_ID") && *getenv("AWS_SECRET_ACCESS_KEY")) {
		if ((r = take(&c, getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"),
		              getenv("AWS_SESSION_TOKEN"), "environment")) < 0)
			return r;
		*ret = c;
		return 0;
	}
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
	           "aws_access_key_id/aws_secret_access_key in %s or %s (web identity, container "
	           "and instance credentials and assumeRoleArn are not supported yet)",
	           w->profile_name ? "" : " or the environment", profile, creds_path, config_path);
	return -ENOENT;
}
