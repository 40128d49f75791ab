/* gluemetactl — asks a running gluemetad over its control socket:
 * status, list, run NAME, history NAME, reload, metrics.  --json prints the
 * reply's JSON; metrics prints the daemon's Prometheus text as it is;
 * otherwise status and list print a table whose columns stay aligned
 * (long names shortened), with times in each workflow's own zone.  What
 * it prints goes through str_sanitize() first, so a reply quoting raw
 * control bytes (from a history an older version wrote, or an older
 * daemon) cannot drive the terminal or forge a line. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
	size_t len = 0, cap = 256 << 10;     /* a larger reply grows by mremap */
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

/* The reply's tree lives in one arena, mapped and populated at once before
 * it is parsed: the status of 1,000 workflows is some 20,000 small pieces
 * (about ten bytes of tree for each byte of reply) that malloc would take
 * from the kernel page by page, which was half of what `status` cost;
 * the table's rows and the --json text come from it too.
 * Nothing is given back before exit; a piece the arena cannot hold comes
 * from malloc, and is freed as usual. */
static struct {
	char *base;
	size_t cap, used;
} arena;

static void *
arena_alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (arena.base && n <= arena.cap - arena.used) {
		arena.used += n;
		return arena.base + arena.used - n;
	}
	return malloc(n);
}

static int
in_arena(const void *p)
{
	return arena.base && (const char *)p >= arena.base && (const char *)p < arena.base + arena.cap;
}

/* Zeroed: the arena's pages are fresh from the kernel and never reused. */
static void *
arena_calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	if ((p = arena_alloc(n * size)) && !in_arena(p))
		memset(p, 0, n * size);
	return p;
}

static void
arena_free(void *p)
{
	if (!in_arena(p))
		free(p);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  /* Linux 5.14 */
#endif
#define HUGE_PAGE (2u << 20)

/* The arena in 2 MiB pieces the kernel may back with huge pages, one page
 * fault each rather than one per 4 KiB (a third of the parse was TLB
 * misses); populated at once where the kernel can, else as it is used. */
static void
arena_open(size_t reply_len)
{
	cJSON_Hooks hooks = { arena_alloc, arena_free };
	size_t cap = (reply_len * 10 + (256 << 10) + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	char *m = mmap(NULL, cap + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	               -1, 0), *a;

	if (m == MAP_FAILED)
		return;                 /* malloc serves it all */
	a = (char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	(void)madvise(a, cap, MADV_HUGEPAGE);
	(void)madvise(a, cap, MADV_POPULATE_WRITE);
	arena.base = a;
	arena.cap = cap;
	cJSON_InitHooks(&hooks);
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

/* A zone name from the reply that may go into TZ: an installed IANA zone
 * ("Europe/Berlin"), as the daemon's configuration check accepts it, and
 * nothing that TZ would read as a rule or a path of its own. */
static int
zone_usable(const char *tz)
{
	return tz_check(tz) == 0 &&
	       strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") ==
	       strlen(tz);
}

/* The zone the table's times are shown in, switched to once per zone
 * rather than once per time (a switch reads the zone's file): zone_time()
 * moves it, zone_restore() puts the process's own back. */
static struct tz_switch shown_sw;
static char shown_tz[256];
static int shown_switched;

static void
zone_restore(void)
{
	if (shown_switched)
		tz_switch_leave(&shown_sw);
	shown_switched = 0;
	shown_tz[0] = '\0';
}

static void
zone_use(const char *tz)
{
	if (shown_switched && strcmp(shown_tz, tz) == 0)
		return;
	zone_restore();
	tz_switch_enter(&shown_sw, tz);
	snprintf(shown_tz, sizeof(shown_tz), "%s", tz);
	shown_switched = 1;
}

/* t as wall-clock time in zone tz ("" or NULL: the local zone) with the
 * zone's abbreviation: "2026-12-06 03:00 CET", seconds only when not
 * zero.  A zone not installed here is shown as UTC. */
static void
zone_time(char *out, size_t n, time_t t, const char *tz)
{
	int zoned = tz && *tz, utc = 0;
	const char *fmt;
	struct tm tm = {0};
	int ok;

	if (zoned && !(shown_switched && strcmp(shown_tz, tz) == 0) && !zone_usable(tz)) {
		zoned = 0;
		utc = 1;
	}
	if (zoned)
		zone_use(tz);
	else if (!utc)
		zone_restore();
	ok = utc ? gmtime_r(&t, &tm) != NULL : localtime_r(&t, &tm) != NULL;
	if (utc)
		fmt = tm.tm_sec ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%d %H:%M UTC";
	else
		fmt = tm.tm_sec ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M %Z";
	if (!ok || !strftime(out, n, fmt, &tm))
		snprintf(out, n, "-");
}

/* A span of seconds as its two largest units: "45s", "12m 5s", "5h 12m",
 * "3d 4h"; a zero second unit is left out ("5h"). */
static void
span(char *out, size_t n, long long s)
{
	static const struct { long long secs; char unit; } u[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t i;

	if (s < 0)
		s = 0;
	for (i = 0; i + 1 < sizeof(u) / sizeof(u[0]) && s < u[i].secs; i++)
		;
	if (i + 1 < sizeof(u) / sizeof(u[0]) && s % u[i].secs / u[i + 1].secs)
		snprintf(out, n, "%lld%c %lld%c", s / u[i].secs, u[i].unit,
		         s % u[i].secs / u[i + 1].secs, u[i + 1].unit);
	else
		snprintf(out, n, "%lld%c", s / u[i].secs, u[i].unit);
}

/* Columns of the status table, measured in code points: a reply's text is
 * sanitized, valid UTF-8 without control characters. */
enum { COL_NAME, COL_STATE, COL_SCHEDULE, COL_NEXT, COL_LAST, N_COLS };

#define ELLIPSIS "\xe2\x80\xa6"         /* U+2026, one column */

static const struct {
	const char *title;
	size_t max;                     /* wider text is shortened with ELLIPSIS */
} cols[N_COLS] = {
	[COL_NAME] = { "WORKFLOW", 32 },
	[COL_STATE] = { "STATE", 18 },
	[COL_SCHEDULE] = { "SCHEDULE", 32 },
	[COL_NEXT] = { "NEXT", 64 },
	[COL_LAST] = { "LAST RUN", 0 }, /* the last column: as it is */
};

struct row {
	const char *cell[N_COLS];
	size_t cw[N_COLS];              /* each cell's width in code points */
	char next[128], last[160];
	const cJSON *w;                 /* its workflow in the reply */
	const char *tz;                 /* its time zone ("": the local one) */
	int timed;                      /* next and last filled in */
};

/* Code points of valid UTF-8: the bytes that do not continue one. */
static size_t
text_cols(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void
put_spaces(size_t n)
{
	static const char sp[] = "                                                                ";

	for (; n >= sizeof(sp) - 1; n -= sizeof(sp) - 1)
		fwrite(sp, 1, sizeof(sp) - 1, stdout);
	fwrite(sp, 1, n, stdout);
}

/* s, w code points long, in a column `width` wide: cut to width - 1 code
 * points and ELLIPSIS when longer, then padded with spaces unless it is
 * the last column. */
static void
put_cell(const char *s, size_t w, size_t width, int last)
{
	size_t len = strlen(s), i = 0, k;
	uint32_t cp;

	if (last) {
		fwrite(s, 1, len, stdout);
		return;
	}
	if (w > width) {
		for (k = 0; k + 1 < width; k++)
			i += utf8_decode(s + i, len - i, &cp);
		fwrite(s, 1, i, stdout);
		fputs(ELLIPSIS, stdout);
		w = width;
	} else {
		fwrite(s, 1, len, stdout);
	}
	put_spaces(width - w);
}

/* What status says of the daemon itself: the last reload, a state write
 * that failed, and the event consumer. */
static void
print_health(const cJSON *j)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "reload");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "state_error");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "events");
	char at[32], last[32];

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
	if (cJSON_IsObject(e)) {
		double received = num(e, "received"), applied = num(e, "applied");

		when(at, sizeof(at), num(e, "last_poll"));
		when(last, sizeof(last), num(e, "last_event"));
		printf("events: %s: last poll %s, last event %s, %.0f received, %.0f applied, "
		       "%.0f ignored, %.0f waiting", str(e, "queue_url"), at, last, received, applied,
		       num(e, "ignored"), num(e, "pending"));
		if (cJSON_GetObjectItemCaseSensitive(e, "last_lag_seconds"))
			printf(", last lag %.1fs", num(e, "last_lag_seconds"));
		printf("\n");
		if (*str(e, "error"))
			printf("events: polling fails (%.0f in a row): %s\n",
			       num(e, "consecutive_errors"), str(e, "error"));
	}
}

static void
put_row(const char *const cell[N_COLS], const size_t cw[N_COLS], const size_t width[N_COLS])
{
	size_t c;

	fputs("  ", stdout);
	for (c = 0; c < N_COLS; c++) {
		put_cell(cell[c], cw[c], width[c], c + 1 == N_COLS);
		if (c + 1 < N_COLS)
			fputs("  ", stdout);
	}
	fputc('\n', stdout);
}

/* NEXT and LAST RUN of workflow w, in the workflow's time zone. */
static void
row_times(struct row *r, time_t now)
{
	const cJSON *w = r->w;
	const cJSON *l = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(w, "last"), 0);
	const char *tz = r->tz;
	char at[64], rel[32];
	double t = num(w, "next_fire");

	snprintf(r->next, sizeof(r->next), "-");
	if (t > 0) {
		zone_time(at, sizeof(at), (time_t)t, tz);
		span(rel, sizeof(rel), (long long)((time_t)t - now));
		if ((time_t)t > now)
			snprintf(r->next, sizeof(r->next), "%s (in %s)", at, rel);
		else
			snprintf(r->next, sizeof(r->next), "%s (due)", at);
	}
	snprintf(r->last, sizeof(r->last), "-");
	if (!l)
		return;
	t = num(l, "finished_ms") > 0 ? num(l, "finished_ms") : num(l, "started_ms");
	t /= 1000.0;
	if (t <= 0) {
		snprintf(r->last, sizeof(r->last), "%s", str(l, "result"));
		return;
	}
	zone_time(at, sizeof(at), (time_t)t, tz);
	span(rel, sizeof(rel), (long long)(now - (time_t)t));
	snprintf(r->last, sizeof(r->last), "%s, %s (%s ago)", str(l, "result"), at, rel);
}

/* status and list: a header line, then one aligned row per workflow. */
static int
print_table(const cJSON *j)
{
	const cJSON *ws = cJSON_GetObjectItemCaseSensitive(j, "workflows"), *w;
	const char *title[N_COLS];
	size_t width[N_COLS], title_w[N_COLS], c, n = 0, i = 0;
	double total = num(j, "workflows_total");
	time_t now = time(NULL);
	struct row *rows;

	printf("gluemetad %s (pid %.0f): %.0f %s, %.0f running, %.0f queued\n",
	       str(j, "version"), num(j, "pid"), total, PLURAL(total, "workflow", "workflows"),
	       num(j, "running"), num(j, "queued"));
	cJSON_ArrayForEach(w, ws)
		n++;
	rows = arena_calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, "gluemetactl: out of memory\n");
		return 2;
	}
	cJSON_ArrayForEach(w, ws) {
		struct row *r = &rows[i++];

		r->cell[COL_NAME] = str(w, "name");
		r->cell[COL_STATE] = str(w, "state");
		r->cell[COL_SCHEDULE] = str(w, "schedule");
		r->cell[COL_NEXT] = r->next;
		r->cell[COL_LAST] = r->last;
		r->w = w;
		r->tz = str(w, "timezone");
	}
	/* the times zone by zone: a zone is switched to once, not per row */
	for (i = 0; i < n; i++) {
		size_t k;

		if (rows[i].timed)
			continue;
		for (k = i; k < n; k++)
			if (!rows[k].timed && strcmp(rows[k].tz, rows[i].tz) == 0) {
				row_times(&rows[k], now);
				rows[k].timed = 1;
			}
	}
	for (c = 0; c < N_COLS; c++) {
		title[c] = cols[c].title;
		title_w[c] = width[c] = text_cols(title[c]);
		for (i = 0; i < n; i++)
			if ((rows[i].cw[c] = text_cols(rows[i].cell[c])) > width[c])
				width[c] = rows[i].cw[c];
		if (cols[c].max && width[c] > cols[c].max)
			width[c] = cols[c].max;
	}
	zone_restore();
	put_row(title, title_w, width);
	for (i = 0; i < n; i++)
		put_row(rows[i].cell, rows[i].cw, width);
	arena_free(rows);
	return 0;
}

static void
print_run(const cJSON *h)
{
	double p = num(h, "pipelines"), s = num(h, "statuses"), e = num(h, "errors");
	char a[32];

	when(a, sizeof(a), num(h, "started_ms") / 1000.0);
	printf("  %s  %-11s %-8s %6.1fs  %.0f %s, %.0f %s, %.0f deleted, %.0f %s  %s%s%s\n", a,
	       str(h, "result"), str(h, "trigger"),
	       (num(h, "finished_ms") - num(h, "started_ms")) / 1000.0,
	       p, PLURAL(p, "pipeline", "pipelines"), s, PLURAL(s, "status", "statuses"),
	       num(h, "deleted"), e, PLURAL(e, "error", "errors"), str(h, "run_id"),
	       *str(h, "message") ? ": " : "", str(h, "message"));
}

static int
print_human(const char *cmd, const cJSON *j)
{
	const cJSON *h, *runs;
	double n;

	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "list") == 0) {
		int r = print_table(j);

		print_health(j);
		return r;
	}
	if (strcmp(cmd, "history") == 0) {
		runs = cJSON_GetObjectItemCaseSensitive(j, "runs");
		n = cJSON_GetArraySize(runs);
		printf("%s: %.0f %s\n", str(j, "name"), n, PLURAL(n, "run", "runs"));
		cJSON_ArrayForEach(h, runs)
			print_run(h);
	} else if (strcmp(cmd, "run") == 0) {
		printf("%s: %s%s%s\n", str(j, "name"), str(j, "state"), *str(j, "run_id") ? ", run " : "",
		       str(j, "run_id"));
	} else if (strcmp(cmd, "reload") == 0) {
		n = num(j, "workflows");
		printf("reloaded: %.0f %s\n", n, PLURAL(n, "workflow", "workflows"));
	}
	return 0;
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
	/* a table of 1,000 workflows in a few writes, not one per 4 KiB; a
	 * terminal keeps its line buffering */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
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
	arena_open(strlen(reply));
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
		rc = print_human(argv[optind], j);
	cJSON_free(text);
	free(reply);
	cJSON_Delete(j);
	return rc;
}
