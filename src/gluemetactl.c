/* gluemetactl — asks a running gluemetad over its control socket:
 * status, list, run NAME, history NAME, reload, metrics.  --json prints the
 * reply's JSON; metrics prints the daemon's Prometheus text as it is.  What it prints goes through str_sanitize() first, so a reply
 * quoting raw control bytes (from a history an older version wrote, or an
 * older daemon) cannot drive the terminal or forge a line. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util.h"

#define DEFAULT_SOCKET "/run/gluemetad/gluemetad.sock"
#define MAX_REPLY (4 << 20)

static void
usage(FILE *f)
{
	fprintf(f, "usage: gluemetactl [--socket PATH] [--json] status | list | run NAME | "
	           "history NAME | reload | metrics\n");
}

static char *
ask(const char *path, const char *request, char *why, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 65536;
	char *buf = NULL;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, n, "socket path too long");
		return NULL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, n, "cannot connect to %s: %s (is gluemetad running?)", path,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) != (ssize_t)strlen(request)) {
		snprintf(why, n, "cannot send the request: %s", errno == EPIPE
		         ? "the daemon closed the connection" : strerror(errno));
		close(fd);
		return NULL;
	}
	buf = malloc(cap);
	while (buf) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 30000) <= 0) {
			snprintf(why, n, "no reply within 30 s");
			goto fail;
		}
		if (len + 1 >= cap) {
			char *nb = cap < MAX_REPLY ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				snprintf(why, n, "reply too large");
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, n, "read: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (buf)
		buf[len] = '\0';
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void
when(char *out, size_t n, double epoch_s)
{
	time_t t = (time_t)epoch_s;
	struct tm tm;

	if (epoch_s <= 0) {
		snprintf(out, n, "-");
		return;
	}
	localtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void
print_run(const cJSON *h)
{
	char a[32];

	when(a, sizeof(a), num(h, "started_ms") / 1000.0);
	printf("  %s  %-11s %-8s %6.1fs  pipelines %.0f, statuses %.0f, deleted %.0f, "
	       "errors %.0f  %s%s%s\n", a, str(h, "result"), str(h, "trigger"),
	       (num(h, "finished_ms") - num(h, "started_ms")) / 1000.0, num(h, "pipelines"),
	       num(h, "statuses"), num(h, "deleted"), num(h, "errors"), str(h, "run_id"),
	       *str(h, "message") ? ": " : "", str(h, "message"));
}

/* What status says of the daemon itself: the last reload, and a state
 * write that failed. */
static void
print_health(const cJSON *j)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "reload");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "state_error");
	char at[32];

	if (cJSON_IsObject(r)) {
		when(at, sizeof(at), num(r, "at"));
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")))
			printf("last reload: %s, applied\n", at);
		else
			printf("last reload: %s, failed (the previous configuration runs): %s\n", at,
			       str(r, "error"));
	}
	if (cJSON_IsObject(s)) {
		when(at, sizeof(at), num(s, "at"));
		printf("state not saved: %s (last at %s)\n", str(s, "error"), at);
	}
}

static void
print_human(const char *cmd, const cJSON *j)
{
	const cJSON *w, *h;

	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "list") == 0) {
		printf("gluemetad %s (pid %.0f): %.0f workflows, %.0f running, %.0f queued\n",
		       str(j, "version"), num(j, "pid"), num(j, "workflows_total"), num(j, "running"),
		       num(j, "queued"));
		printf("  %-24s %-9s %-22s %-19s %s\n", "WORKFLOW", "STATE", "SCHEDULE", "NEXT",
		       "LAST RUN");
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(j, "workflows")) {
			char next[32], last[64] = "-";
			const cJSON *l = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(w, "last"), 0);

			when(next, sizeof(next), num(w, "next_fire"));
			if (l)
				snprintf(last, sizeof(last), "%s", str(l, "result"));
			printf("  %-24s %-9s %-22s %-19s %s\n", str(w, "name"), str(w, "state"),
			       str(w, "schedule"), next, last);
		}
		print_health(j);
	} else if (strcmp(cmd, "history") == 0) {
		printf("%s:\n", str(j, "name"));
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(j, "runs"))
			print_run(h);
	} else if (strcmp(cmd, "run") == 0) {
		printf("%s: %s%s%s\n", str(j, "name"), str(j, "state"), *str(j, "run_id") ? ", run " : "",
		       str(j, "run_id"));
	} else if (strcmp(cmd, "reload") == 0) {
		printf("reloaded: %.0f workflows\n", num(j, "workflows"));
	}
}

/* The metrics reply: Prometheus text, printed line by line through
 * str_sanitize(); a JSON object instead is the daemon's error (an older
 * daemon does not know the command). */
static int
print_metrics(const char *reply)
{
	const char *p = reply, *nl;
	cJSON *j;

	if (*reply == '{') {
		j = cJSON_Parse(reply);
		if (j && json_sanitize(j) == 0)
			fprintf(stderr, "gluemetactl: %s\n", str(j, "error"));
		else
			fprintf(stderr, "gluemetactl: the daemon sent a reply that is not metrics\n");
		cJSON_Delete(j);
		return 1;
	}
	while (*p) {
		char *line, *clean;

		nl = strchr(p, '\n');
		line = strndup(p, nl ? (size_t)(nl - p) : strlen(p));
		clean = line ? str_sanitize(line) : NULL;
		free(line);
		if (!clean) {
			fprintf(stderr, "gluemetactl: out of memory\n");
			return 2;
		}
		printf("%s\n", clean);
		free(clean);
		p = nl ? nl + 1 : p + strlen(p);
	}
	return fflush(stdout) == 0 ? 0 : 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = getenv("GLUEMETAD_SOCKET") ? getenv("GLUEMETAD_SOCKET") : DEFAULT_SOCKET;
	char request[1100], why[512];
	int c, json = 0, rc;
	char *reply, *text = NULL;
	cJSON *j;

	while ((c = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "run") == 0 || strcmp(argv[optind], "history") == 0) {
		if (argc - optind != 2 || strpbrk(argv[optind + 1], "\r\n") ||
		    strlen(argv[optind + 1]) > 255) {
			fprintf(stderr, "gluemetactl: %s needs one workflow name\n", argv[optind]);
			return 2;
		}
		snprintf(request, sizeof(request), "%s %s\n", argv[optind], argv[optind + 1]);
	} else if (strcmp(argv[optind], "status") == 0 || strcmp(argv[optind], "list") == 0 ||
	           strcmp(argv[optind], "reload") == 0 || strcmp(argv[optind], "metrics") == 0) {
		if (argc - optind != 1) {
			usage(stderr);
			return 2;
		}
		if (json && strcmp(argv[optind], "metrics") == 0) {
			fprintf(stderr, "gluemetactl: metrics prints Prometheus text; --json does "
			        "not apply\n");
			return 2;
		}
		snprintf(request, sizeof(request), "%s\n", argv[optind]);
	} else {
		fprintf(stderr, "gluemetactl: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	reply = ask(sock, request, why, sizeof(why));
	if (!reply) {
		fprintf(stderr, "gluemetactl: %s\n", why);
		return 2;
	}
	if (strcmp(argv[optind], "metrics") == 0) {
		rc = print_metrics(reply);
		free(reply);
		return rc;
	}
	j = cJSON_Parse(reply);
	if (!cJSON_IsObject(j)) {
		fprintf(stderr, "gluemetactl: the daemon sent a reply that is not JSON\n");
		free(reply);
		cJSON_Delete(j);
		return 1;
	}
	rc = json_sanitize(j);
	if (rc == 0 && json)
		text = cJSON_PrintUnformatted(j);
	if (rc < 0 || (json && !text)) {
		fprintf(stderr, "gluemetactl: out of memory\n");
		free(reply);
		cJSON_Delete(j);
		return 2;
	}
	rc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")) ? 0 : 1;
	if (json)
		printf("%s\n", text);
	else if (rc)
		fprintf(stderr, "gluemetactl: %s\n", str(j, "error"));
	else
		print_human(argv[optind], j);
	free(text);
	free(reply);
	cJSON_Delete(j);
	return rc;
}
