/* Glue and OpenMetadata replies as the engine consumes them: a whole run
 * (run_start on a libuv loop, through http.c, aws.c and om.c) against a
 * loopback HTTP server in this process that answers each request with the
 * part of the input meant for its kind.  The input is up to 11 records
 * separated by "\n@@\n"; record k answers kind k:
 *   0 ListWorkflows   1 BatchGetWorkflows   2 GetWorkflowRuns
 *   3 any other Glue operation (BatchGetJobs, GetTags, GetConnection)
 *   4 GET /v1/system/version   5 GET the pipeline service by name
 *   6 PUT the pipeline service   7 PUT a pipeline   8 PUT a pipeline status
 *   9 GET the service's pipelines (paging)   10 anything else (DELETE, PATCH,
 *   lineage, tags, lookups, usage; STS GetCallerIdentity, S3 GetObject)
 * A record may start with a three-digit status and a space ("404 {...}");
 * the default is 200, a missing record is "{}".  Statuses the clients
 * retry with a backoff (429, 5xx, throttling codes) are answered as 400 so
 * that each input runs in milliseconds; the retries have their own tests.
 * Checks: the run ends (libFuzzer's timeout catches a hang or endless
 * paging), with a known result; a failed run says why; nothing leaks. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <uv.h>

#include "aws.h"
#include "fuzz.h"
#include "http.h"
#include "log.h"
#include "run.h"
#include "util.h"
#include "wf.h"

#define KINDS 11

static struct {
	pthread_mutex_t lock;
	const char *body[KINDS];
	size_t len[KINDS];
	int status[KINDS];
	unsigned long requests;
	char *copy;                 /* the input; a connection left over from the
	                             * previous input may still be answered */
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int listen_fd;
static struct wf *wf;

static int
kind_of(const char *method, const char *path, const char *target)
{
	if (target) {
		if (strcmp(target, "AWSGlue.ListWorkflows") == 0)
			return 0;
		if (strcmp(target, "AWSGlue.BatchGetWorkflows") == 0)
			return 1;
		if (strcmp(target, "AWSGlue.GetWorkflowRuns") == 0)
			return 2;
		return 3;
	}
	if (strcmp(method, "GET") == 0 && strstr(path, "/v1/system/version"))
		return 4;
	if (strcmp(method, "GET") == 0 && strstr(path, "/v1/services/pipelineServices/name/"))
		return 5;
	if (strcmp(method, "PUT") == 0 && strstr(path, "/v1/services/pipelineServices"))
		return 6;
	if (strcmp(method, "PUT") == 0 && strstr(path, "/status"))
		return 8;
	if (strcmp(method, "PUT") == 0 && strstr(path, "/v1/pipelines"))
		return 7;
	if (strcmp(method, "GET") == 0 && strstr(path, "/v1/pipelines?"))
		return 9;
	return 10;
}

static const char *
header(char *head, const char *name)
{
	char *p = head;
	size_t n = strlen(name);

	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			return p;
		}
	}
	return NULL;
}

static void
serve(int fd)
{
	static char req[1 << 20];
	char method[16] = "", path[4096] = "", target[128], *end, hdr[256];
	const char *v;
	size_t got = 0, need;
	long clen = 0;
	int kind, status;
	ssize_t n;

	for (;;) {
		if (got == sizeof(req) - 1)
			return;
		n = recv(fd, req + got, sizeof(req) - 1 - got, 0);
		if (n <= 0)
			return;
		got += (size_t)n;
		req[got] = '\0';
		if ((end = strstr(req, "\r\n\r\n")))
			break;
	}
	*end = '\0';
	if ((v = header(req, "Content-Length")))
		clen = strtol(v, NULL, 10);
	need = (size_t)(end + 4 - req) + (size_t)(clen > 0 ? clen : 0);
	while (got < need && got < sizeof(req) - 1) {
		n = recv(fd, req + got, sizeof(req) - 1 - got, 0);
		if (n <= 0)
			return;
		got += (size_t)n;
	}
	sscanf(req, "%15s %4095s", method, path);
	target[0] = '\0';
	if ((v = header(req, "X-Amz-Target")))
		sscanf(v, "%127[^\r\n]", target);
	kind = kind_of(method, path, target[0] ? target : NULL);
	pthread_mutex_lock(&srv.lock);
	srv.requests++;
	status = srv.status[kind];
	snprintf(hdr, sizeof(hdr),
	         "HTTP/1.1 %d X\r\nContent-Type: application/%s\r\nContent-Length: %zu\r\n"
	         "Connection: close\r\n\r\n", status, kind < 4 ? "x-amz-json-1.1" : "json",
	         srv.len[kind]);
	if (send(fd, hdr, strlen(hdr), MSG_NOSIGNAL) > 0 && srv.len[kind])
		(void)send(fd, srv.body[kind], srv.len[kind], MSG_NOSIGNAL);
	pthread_mutex_unlock(&srv.lock);
}

static void *
server(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
	return NULL;
}

static void
setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct gm_err err = {{0}};
	char path[64], text[2048];
	pthread_t t;
	int n;

	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(listen_fd >= 0 && bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	           listen(listen_fd, 64) == 0 &&
	           getsockname(listen_fd, (struct sockaddr *)&a, &alen) == 0);
	FUZZ_CHECK(pthread_create(&t, NULL, server, NULL) == 0);
	n = snprintf(text, sizeof(text),
	        "source:\n  type: gluepipeline\n  serviceName: fuzz_glue\n"
	        "  serviceConnection:\n    config:\n      type: GluePipeline\n"
	        "      awsConfig:\n        awsAccessKeyId: AKIDEXAMPLE\n"
	        "        awsSecretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
	        "        awsRegion: us-east-1\n        endPointURL: http://127.0.0.1:%d/\n"
	        "  sourceConfig:\n    config:\n      type: PipelineMetadata\n"
	        "      markDeletedPipelines: true\n      statusLookbackDays: 3650\n"
	        "      overrideLineage: true\n"
	        "sink:\n  type: metadata-rest\n  config: {}\n"
	        "workflowConfig:\n  openMetadataServerConfig:\n"
	        "    hostPort: http://127.0.0.1:%d/api\n    authProvider: openmetadata\n"
	        "    securityConfig:\n      jwtToken: token\n",
	        ntohs(a.sin_port), ntohs(a.sin_port));
	/* STS (the account for tags) and S3 (job scripts) come here too */
	snprintf(path, sizeof(path), "http://127.0.0.1:%d/", ntohs(a.sin_port));
	setenv("AWS_ENDPOINT_URL", path, 1);
	snprintf(path, sizeof(path), "/dev/shm/gm-fuzz-run-%ld.yaml", (long)getpid());
	fuzz_write_file(path, (const uint8_t *)text, (size_t)n);
	if (wf_load(path, &wf, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	unlink(path);
	/* FUZZ_RUN_DEBUG=1 shows the run's messages, to see what an input does */
	log_setup(getenv("FUZZ_RUN_DEBUG") ? LOG_DEBUG : LOG_CRIT, LOG_TARGET_STDERR);
}

/* Splits the input into the records; settles their statuses. */
static void
load(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n@@\n";
	const char *p, *e;
	int k;

	pthread_mutex_lock(&srv.lock);
	free(srv.copy);
	srv.copy = fuzz_cstr(data, size);
	p = srv.copy;
	e = p + size;
	for (k = 0; k < KINDS; k++) {
		const char *next = p < e ? memmem(p, (size_t)(e - p), sep, 4) : NULL;
		const char *stop = next ? next : e;
		int status = 200;

		if (p >= e) {
			srv.body[k] = "{}";
			srv.len[k] = 2;
			srv.status[k] = 200;
			continue;
		}
		if (stop - p >= 4 && p[0] >= '1' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' &&
		    p[2] >= '0' && p[2] <= '9' && p[3] == ' ') {
			status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
			p += 4;
		}
		if (status < 200 || status == 429 || status >= 500)
			status = 400;
		srv.body[k] = p;
		srv.len[k] = (size_t)(stop - p);
		if (k < 4 && (status < 200 || status >= 300)) {
			char code[128], msg[256], *body = fuzz_cstr((const uint8_t *)p, srv.len[k]);

			aws_parse_error(status, body, NULL, code, sizeof(code), msg, sizeof(msg));
			if (aws_error_is_throttling(code) || aws_error_is_transient(status, code) ||
			    strstr(code, "Skewed") || strstr(code, "Expired") ||
			    strstr(code, "Signature"))
				status = 403;
			free(body);
		}
		srv.status[k] = status;
		p = next ? next + 4 : e;
	}
	srv.requests = 0;
	pthread_mutex_unlock(&srv.lock);
}

struct done {
	int done;
};

static void
on_done(struct run *r, void *arg)
{
	(void)r;
	((struct done *)arg)->done = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct run_opts opts = { .now_ms = 1764000000000LL, .run_id = "fuzz" };
	struct gm_err err = {{0}};
	struct done d = {0};
	const struct run_stats *st;
	struct run *r = NULL;
	struct http *h;
	const char *result;
	uv_loop_t loop;

	if (!wf)
		setup();
	if (size > 256 * 1024)
		return 0;
	load(data, size);
	/* odd sizes know the account (tags without STS); even ones ask STS */
	if (size % 2)
		setenv("AWS_ACCOUNT_ID", "123456789012", 1);
	else
		unsetenv("AWS_ACCOUNT_ID");
	FUZZ_CHECK(uv_loop_init(&loop) == 0);
	h = http_new(&loop);
	FUZZ_CHECK(h);
	FUZZ_CHECK(run_start(h, wf, &opts, on_done, &d, &r, &err) == 0);
	while (!d.done)
		uv_run(&loop, UV_RUN_ONCE);
	st = run_stats(r);
	result = run_result(r);
	FUZZ_CHECK(strcmp(result, "success") == 0 || strcmp(result, "partialSuccess") == 0 ||
	           strcmp(result, "failed") == 0);
	FUZZ_CHECK(!st->fatal || st->fatal_msg[0]);
	FUZZ_CHECK(!st->fatal || strcmp(result, "failed") == 0);
	FUZZ_CHECK(!strstr(st->fatal_msg, "wJalrXUtnFEMI"));
	run_free(r);
	http_close(h);
	uv_run(&loop, UV_RUN_DEFAULT);
	FUZZ_CHECK(uv_loop_close(&loop) == 0);
	return 0;
}
