/* awsmeta — credentials from the network without signing: the container
 * credentials endpoint (ECS, EKS Pod Identity) and EC2 instance metadata
 * with IMDSv2 session tokens, falling back to IMDSv1 as botocore does.
 * See include/awsauth_int.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uv.h>

#include "awsauth.h"
#include "awsauth_int.h"
#include "http.h"
#include "util.h"

static void
on_container(const struct http_resp *resp, void *arg)
{
	struct fetch *f = arg;
	char why[1600];

	if (resp->status == 200 && awsauth__take_json(f, resp->body, resp->body_len,
	                                     "container credentials endpoint") == 0) {
		awsauth__base_ready(f);
		return;
	}
	snprintf(why, sizeof(why), "%s; the container credentials endpoint answered %s%ld%s",
	         f->static_why, resp->transport_error ? "" : "HTTP ", resp->status,
	         resp->transport_error ? " (no reply)" : resp->status == 200 ? " without credentials" : "");
	awsauth__fetch_end(f, -EACCES, why);
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

int
awsauth__start_container(struct fetch *f)
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
		awsauth__fetch_end(f, -EINVAL, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to "
		          "a loopback or the ECS/EKS credentials address");
		return 1;
	}
	if (tokfile && *tokfile) {
		FILE *fp = fopen(tokfile, "re");
		size_t n = 0;

		if (!fp) {
			awsauth__fetch_end(f, -errno, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
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
		awsauth__fetch_end(f, -EINVAL, "the container authorization token contains a line break");
		return 1;
	}
	req = http_req_new("GET", url);
	if (!req || http_req_header(req, "Accept", "application/json") < 0 ||
	    (tok[0] && http_req_header(req, "Authorization", tok) < 0)) {
		explicit_bzero(tok, sizeof(tok));
		http_req_free(req);
		awsauth__fetch_end(f, -ENOMEM, "out of memory");
		return 1;
	}
	explicit_bzero(tok, sizeof(tok));
	http_req_timeout(req, 2000);
	if (http_submit(f->pool, req, on_container, f) < 0)
		awsauth__fetch_end(f, -ECANCELED, "shutting down");
	return 1;
}

static void imds_get(struct fetch *f, const char *path, http_done_cb cb);

static void
on_imds_creds(const struct http_resp *resp, void *arg)
{
	struct fetch *f = arg;

	if (resp->status == 200 &&
	    awsauth__take_json(f, resp->body, resp->body_len, "EC2 instance metadata") == 0)
		awsauth__base_ready(f);
	else
		awsauth__fetch_end(f, -EACCES, "EC2 instance metadata gave no credentials for the role");
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
		awsauth__fetch_end(f, -ENOENT, why);
		return;
	}
	n = strcspn(resp->body, "\r\n");
	if (n == 0 || n >= sizeof(role) || strpbrk(resp->body, "/?#%")) {
		awsauth__fetch_end(f, -EINVAL, "EC2 instance metadata sent a malformed role name");
		return;
	}
	memcpy(role, resp->body, n);
	role[n] = '\0';
	snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s", role);
	imds_get(f, path, on_imds_creds);
}

/* method path of the IMDS with header name: value (none when value is
 * NULL), the answer to cb. */
static void
imds_send(struct fetch *f, const char *method, const char *path, const char *name,
          const char *value, http_done_cb cb)
{
	char url[1024];
	struct http_req *req;

	snprintf(url, sizeof(url), "%s%s", f->imds, path);
	req = http_req_new(method, url);
	if (!req || (value && http_req_header(req, name, value) < 0)) {
		http_req_free(req);
		awsauth__fetch_end(f, -ENOMEM, "out of memory");
		return;
	}
	http_req_timeout(req, 1000);
	if (http_submit(f->pool, req, cb, f) < 0)
		awsauth__fetch_end(f, -ECANCELED, "shutting down");
}

static void
imds_get(struct fetch *f, const char *path, http_done_cb cb)
{
	imds_send(f, "GET", path, "X-aws-ec2-metadata-token", f->token, cb);
}

static void
on_imds_token(const struct http_resp *resp, void *arg)
{
	struct fetch *f = arg;

	if (resp->status == 200 && resp->body_len && resp->body_len < 1024 &&
	    !strpbrk(resp->body, "\r\n")) {
		f->token = strdup(resp->body);
	} else if (resp->status == 400) {
		awsauth__fetch_end(f, -EINVAL, "EC2 instance metadata refused the token request");
		return;
	} else if (awsauth__env_true("AWS_EC2_METADATA_V1_DISABLED")) {
		awsauth__fetch_end(f, -ENOENT, "no IMDSv2 token and AWS_EC2_METADATA_V1_DISABLED is set");
		return;
	}
	/* 403/404/405 or no answer: IMDSv1, as botocore falls back */
	imds_get(f, "/latest/meta-data/iam/security-credentials/", on_imds_role);
}

void
awsauth__start_imds(struct fetch *f)
{
	const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	size_t n;

	snprintf(f->imds, sizeof(f->imds), "%s", ep && *ep ? ep
	         : mode && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]"
	         : "http://169.254.169.254");
	n = strlen(f->imds);
	while (n && f->imds[n - 1] == '/')
		f->imds[--n] = '\0';
	imds_send(f, "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds", "21600",
	          on_imds_token);
}
