/* ctl: the control socket's protocol.  ctl_parse_request() splits a line
 * into command and argument; through a real socket on a libuv loop, a
 * request gets one JSON line back (the handler's, or an error), CRLF and
 * a request ended by EOF instead of a newline are answered alike, an
 * overlong request is refused, the reply is sanitized (a text reply line
 * by line), the socket is 0660 and replaces a stale one but never a socket
 * something answers on, a file that is not a socket, a path bind() would
 * cut or one in a missing directory, and closing leaves no handle and no
 * socket file behind.  The handler is told who connected (SO_PEERCRED), and
 * ctl_access_control() decides who may use control commands. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "ctl.h"
#include "util.h"

/* ctl_parse_request() on a copy of text. */
static int
parse(const char *text, char *cmd, char *arg, const char **why)
{
	char line[256], *c = NULL, *a = NULL;
	int r;

	snprintf(line, sizeof(line), "%s", text);
	*why = NULL;
	r = ctl_parse_request(line, &c, &a, why);
	if (r == 0) {
		strcpy(cmd, c);
		strcpy(arg, a ? a : "(none)");
	}
	return r;
}

static void
test_parse_request(void **state)
{
	static const struct {
		const char *line, *cmd, *arg;
	} ok[] = {
		{ "status", "status", "(none)" },
		{ "run nightly", "run", "nightly" },
		{ "   run    nightly", "run", "nightly" },         /* spaces around */
		{ "run nightly etl  ", "run", "nightly etl  " },    /* the rest, as sent */
		{ "status   ", "status", "(none)" },               /* nothing after spaces */
		{ "run\tx", "run\tx", "(none)" },                   /* a tab is not a separator */
		{ "history a\tb", "history", "a\tb" },
		{ "x \xc3\xa9t\xc3\xa9", "x", "\xc3\xa9t\xc3\xa9" },
	};
	char cmd[256], arg[256];
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (parse(ok[i].line, cmd, arg, &why) != 0)
			fail_msg("'%s' refused: %s", ok[i].line, why);
		assert_string_equal(cmd, ok[i].cmd);
		assert_string_equal(arg, ok[i].arg);
	}
	assert_int_equal(parse("", cmd, arg, &why), -EINVAL);
	assert_string_equal(why, "empty request");
	assert_int_equal(parse("    ", cmd, arg, &why), -EINVAL);
	assert_string_equal(why, "empty request");
	assert_int_equal(parse("status\x1b[2J", cmd, arg, &why), -EINVAL);
	assert_string_equal(why, "the request contains control characters");
	assert_int_equal(parse("run a\rb", cmd, arg, &why), -EINVAL);
	assert_string_equal(why, "the request contains control characters");
	assert_int_equal(parse("\x7f", cmd, arg, &why), 0);       /* DEL is left to the reply */
}

static uv_loop_t loop;
static struct ctl *ctl;
static char sock_path[108];
static int calls;
static char seen_cmd[2048], seen_arg[2048];
static struct ctl_peer seen_peer;

static void
handler(const char *command, const char *argument, const struct ctl_peer *peer, void *arg,
        struct ctl_reply *ret)
{
	cJSON *j;

	assert_ptr_equal(arg, &loop);
	seen_peer = *peer;
	assert_null(ret->json);
	assert_null(ret->text);
	calls++;
	snprintf(seen_cmd, sizeof(seen_cmd), "%s", command);
	snprintf(seen_arg, sizeof(seen_arg), "%s", argument ? argument : "(none)");
	if (strcmp(command, "null") == 0)               /* a handler out of memory */
		return;
	if (strcmp(command, "text") == 0) {             /* a text reply, echoing */
		struct buf b = {0};

		assert_int_equal(buf_printf(&b, "first line\necho %s\nlast", argument ? argument
		                                                                     : ""), 0);
		ret->text = buf_steal(&b);
		return;
	}
	j = cJSON_CreateObject();
	cJSON_AddBoolToObject(j, "ok", 1);
	cJSON_AddStringToObject(j, "echo", argument ? argument : "");
	ret->json = j;
}

static int
setup(void **state)
{
	const char *t = getenv("TMPDIR");
	struct gm_err err = {{0}};
	struct stat st;

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "%s/gm-ctl-%ld.sock", t && *t ? t : "/tmp",
	         (long)getpid());
	if (uv_loop_init(&loop) != 0)
		return -1;
	if (ctl_new(&loop, sock_path, handler, &loop, &ctl, &err) < 0) {
		fprintf(stderr, "ctl_new: %s\n", err.msg);
		return -1;
	}
	if (stat(sock_path, &st) != 0 || !S_ISSOCK(st.st_mode) || (st.st_mode & 0777) != 0660) {
		fprintf(stderr, "%s: not a 0660 socket\n", sock_path);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ctl_close(ctl);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (access(sock_path, F_OK) == 0) {
		fprintf(stderr, "%s left behind\n", sock_path);
		return -1;
	}
	return uv_loop_close(&loop) == 0 ? 0 : -1;      /* every handle closed */
}

/* Sends n bytes on a new connection (then shuts down its side when eof),
 * runs the loop until the server closes; the reply into out (cap bytes). */
static size_t
ask(const char *data, size_t n, int eof, char *out, size_t cap)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t got = 0, sent = 0;
	int fd, done = 0, spins = 0;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	if (n == 0 && eof)
		shutdown(fd, SHUT_WR);
	while (!done) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | (sent < n ? POLLOUT : 0) };
		ssize_t k;

		uv_run(&loop, UV_RUN_NOWAIT);
		if (poll(&pfd, 1, 1) < 0)
			continue;
		if (sent < n && (pfd.revents & POLLOUT)) {
			k = send(fd, data + sent, n - sent, MSG_NOSIGNAL);
			if (k > 0)
				sent += (size_t)k;
			else if (k < 0 && errno != EAGAIN)
				sent = n;               /* the server stopped reading */
			if (sent == n && eof)
				shutdown(fd, SHUT_WR);
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			k = recv(fd, out + got, cap - 1 - got, 0);
			if (k > 0)
				got += (size_t)k;
			else if (k == 0 || errno != EAGAIN)
				done = 1;
		}
		assert_true(got < cap - 1);
		if (++spins > 20000)
			fail_msg("no answer within about 20 s");
	}
	close(fd);
	uv_run(&loop, UV_RUN_NOWAIT);
	out[got] = '\0';
	return got;
}

static void
expect_reply(const char *request, int eof, const char *want)
{
	char reply[8192];

	ask(request, strlen(request), eof, reply, sizeof(reply));
	if (strcmp(reply, want) != 0)
		fail_msg("'%s':\n got '%s'\nwant '%s'", request, reply, want);
}

static void
test_one_json_line_per_request(void **state)
{
	(void)state;
	calls = 0;
	expect_reply("status\n", 0, "{\"ok\":true,\"echo\":\"\"}\n");
	assert_string_equal(seen_cmd, "status");
	assert_string_equal(seen_arg, "(none)");
	expect_reply("run  nightly\r\n", 0, "{\"ok\":true,\"echo\":\"nightly\"}\n");     /* CRLF */
	assert_string_equal(seen_cmd, "run");
	assert_string_equal(seen_arg, "nightly");
	expect_reply("run a\nrun b\n", 0, "{\"ok\":true,\"echo\":\"a\"}\n");   /* one per connection */
	assert_int_equal(calls, 3);
	expect_reply("null\n", 0, "{}\n");             /* no reply object: an empty one */
	assert_int_equal(calls, 4);
}

static void
test_handler_is_told_who_connected(void **state)
{
	(void)state;
	memset(&seen_peer, 0xff, sizeof(seen_peer));
	expect_reply("status\n", 0, "{\"ok\":true,\"echo\":\"\"}\n");
	assert_int_equal(seen_peer.known, 1);
	assert_int_equal(seen_peer.uid, geteuid());
	assert_int_equal(seen_peer.gid, getegid());
	assert_int_equal(seen_peer.pid, getpid());         /* this process connected */
}

/* The access rule, on made-up users: root 0, the daemon's user 998,
 * control_group 1500. */
static void
test_access_control(void **state)
{
	static const gid_t none[] = { 0 }, other[] = { 100, 1001, 27 },
	                   member[] = { 100, 1500, 27 }, nogroup[] = { CTL_NOBODY_ID };
	static const gid_t grp = 1500, grp_nobody = CTL_NOBODY_ID, grp_root = 0;
	static const struct {
		uid_t uid;
		gid_t gid;
		const gid_t *groups;
		size_t n;
		uid_t daemon;
		const gid_t *control;
		int want;
		const char *what;
	} t[] = {
		{ 0, 0, NULL, 0, 998, NULL, 1, "root, no control group" },
		{ 0, 0, NULL, 0, 998, &grp, 1, "root, not in the group" },
		{ 998, 998, NULL, 0, 998, NULL, 1, "the daemon's user" },
		{ 998, 998, other, 3, 998, &grp, 1, "the daemon's user, not in the group" },
		{ 1001, 1001, other, 3, 998, NULL, 0, "a user, no control group" },
		{ 1001, 1001, member, 3, 998, NULL, 0, "a member, but no control group set" },
		{ 1001, 1001, other, 3, 998, &grp, 0, "a user not in the group" },
		{ 1001, 1001, member, 3, 998, &grp, 1, "a member by a supplementary group" },
		{ 1001, 1500, other, 3, 998, &grp, 1, "a member by its primary gid" },
		{ 1001, 1500, NULL, 0, 998, &grp, 1, "primary gid, groups not looked up" },
		{ 1001, 998, none, 1, 998, &grp, 0, "the daemon's group is not control" },
		{ 1001, 0, none, 1, 998, NULL, 0, "gid 0 is not root" },
		{ 1001, 0, none, 1, 998, &grp_root, 1, "control_group root: its members" },
		{ CTL_NOBODY_ID, CTL_NOBODY_ID, nogroup, 1, 998, &grp_nobody, 0,
		  "nobody, even with control_group nogroup" },
		{ CTL_NOBODY_ID, 1500, member, 3, 998, &grp, 0, "nobody in the group" },
		{ CTL_NOBODY_ID, CTL_NOBODY_ID, NULL, 0, CTL_NOBODY_ID, NULL, 0,
		  "nobody, even when the daemon runs as nobody" },
		{ 0, 0, NULL, 0, CTL_NOBODY_ID, NULL, 1, "root, the daemon running as nobody" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ctl_access_control(t[i].uid, t[i].gid, t[i].groups, t[i].n, t[i].daemon,
		                       t[i].control) != t[i].want)
			fail_msg("%s: expected %s", t[i].what, t[i].want ? "allowed" : "refused");
}

/* ctl_peer_may_control() on this very process, whose groups are the
 * database's: an unidentified peer never, root and the daemon's user
 * always, others through the group. */
static void
test_peer_may_control(void **state)
{
	struct ctl_peer me = { geteuid(), getegid(), getpid(), 1 }, p;
	gid_t g = getegid(), nobody = CTL_NOBODY_ID;

	(void)state;
	p = me;
	p.known = 0;
	assert_false(ctl_peer_may_control(&p, p.uid, NULL));   /* not identified */
	assert_true(ctl_peer_may_control(&me, me.uid, NULL));   /* the daemon's user */
	p = me;
	p.uid = 0;
	assert_true(ctl_peer_may_control(&p, 4242, NULL));      /* root */
	p = (struct ctl_peer){ 3999999, 3999999, 1, 1 };
	assert_false(ctl_peer_may_control(&p, me.uid, NULL));
	assert_false(ctl_peer_may_control(&p, me.uid, &g));     /* no such user: gid only */
	p.gid = g;
	assert_true(ctl_peer_may_control(&p, me.uid, &g));
	p = (struct ctl_peer){ CTL_NOBODY_ID, CTL_NOBODY_ID, 1, 1 };
	assert_false(ctl_peer_may_control(&p, me.uid, &nobody));
}

static void
test_errors_are_replies(void **state)
{
	char big[CTL_MAX_REQUEST + 100], reply[512];

	(void)state;
	calls = 0;
	expect_reply("\n", 0, "{\"ok\":false,\"error\":\"empty request\"}\n");
	expect_reply("  \r\n", 0, "{\"ok\":false,\"error\":\"empty request\"}\n");
	expect_reply("run \x1b]0;x\x07\n", 0,
	             "{\"ok\":false,\"error\":\"the request contains control characters\"}\n");
	memset(big, 'a', sizeof(big));
	ask(big, sizeof(big), 0, reply, sizeof(reply));
	assert_string_equal(reply, "{\"ok\":false,\"error\":\"request longer than 1024 bytes\"}\n");
	/* 1023 bytes and a newline are a request */
	memset(big, 'a', CTL_MAX_REQUEST - 1);
	big[CTL_MAX_REQUEST - 1] = '\n';
	ask(big, CTL_MAX_REQUEST, 0, reply, sizeof(reply));
	assert_string_equal(reply, "{\"ok\":true,\"echo\":\"\"}\n");
	assert_int_equal(strlen(seen_cmd), CTL_MAX_REQUEST - 1);
	/* a client that sends nothing and closes gets nothing and is let go */
	assert_int_equal(ask("", 0, 1, reply, sizeof(reply)), 0);
	assert_int_equal(calls, 1);
}

static void
test_eof_ends_a_request_like_a_newline(void **state)
{
	(void)state;
	calls = 0;
	expect_reply("status", 1, "{\"ok\":true,\"echo\":\"\"}\n");
	assert_string_equal(seen_cmd, "status");
	assert_string_equal(seen_arg, "(none)");
	expect_reply("run nightly\r", 1, "{\"ok\":true,\"echo\":\"nightly\"}\n");
	assert_string_equal(seen_arg, "nightly");
	expect_reply("  ", 1, "{\"ok\":false,\"error\":\"empty request\"}\n");
	assert_int_equal(calls, 2);
}

static void
test_reply_is_sanitized(void **state)
{
	char reply[512];

	(void)state;
	/* what the handler quotes back cannot reach the terminal raw */
	ask("run \x7f\xff\n", 7, 0, reply, sizeof(reply));
	assert_string_equal(reply, "{\"ok\":true,\"echo\":\"\\\\x7f\xef\xbf\xbd\"}\n");
}

static void
test_text_reply_as_it_is_line_by_line_sanitized(void **state)
{
	(void)state;
	/* a text reply is not JSON: its lines as the handler wrote them, a
	 * newline after the last, the same sanitizing within each line */
	expect_reply("text a\n", 0, "first line\necho a\nlast\n");
	expect_reply("text \x7f\xff\n", 0, "first line\necho \\x7f\xef\xbf\xbd\nlast\n");
}

static void
test_path_that_is_not_a_socket(void **state)
{
	struct gm_err err = {{0}};
	struct ctl *c = NULL;
	char path[160];
	uv_loop_t l;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s.file", sock_path);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(uv_loop_init(&l), 0);
	assert_int_equal(ctl_new(&l, path, handler, &l, &c, &err), -EEXIST);
	assert_null(c);
	assert_non_null(strstr(err.msg, "exists and is not a socket"));
	assert_int_equal(access(path, F_OK), 0);        /* left alone */
	assert_int_equal(unlink(path), 0);
	uv_run(&l, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&l), 0);
}

static void
test_stale_socket_is_replaced(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct gm_err err = {{0}};
	struct ctl *c;
	uv_loop_t l;
	int fd;

	(void)state;
	/* a socket file left by a daemon that died */
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s.stale", sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	assert_int_equal(uv_loop_init(&l), 0);
	if (ctl_new(&l, addr.sun_path, handler, &l, &c, &err) < 0)
		fail_msg("ctl_new: %s", err.msg);
	ctl_close(c);
	uv_run(&l, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&l), 0);
	assert_int_not_equal(access(addr.sun_path, F_OK), 0);
}

static void
test_live_socket_is_left_alone(void **state)
{
	struct gm_err err = {{0}};
	struct ctl *c = NULL;
	uv_loop_t l;
	char msg[256];

	(void)state;
	/* the socket of setup() answers: a second ctl on it is refused, and
	 * the first one keeps its socket file and keeps answering */
	assert_int_equal(uv_loop_init(&l), 0);
	assert_int_equal(ctl_new(&l, sock_path, handler, &l, &c, &err), -EADDRINUSE);
	assert_null(c);
	snprintf(msg, sizeof(msg), "another gluemetad is answering on %s", sock_path);
	assert_string_equal(err.msg, msg);
	uv_run(&l, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&l), 0);
	calls = 0;
	expect_reply("status\n", 0, "{\"ok\":true,\"echo\":\"\"}\n");
	assert_int_equal(calls, 1);
}

static void
test_paths_refused_before_bind(void **state)
{
	size_t n = sizeof(((struct sockaddr_un *)0)->sun_path);
	struct gm_err err = {{0}};
	struct ctl *c = NULL;
	char path[256], want[512];
	uv_loop_t l;

	(void)state;
	assert_int_equal(uv_loop_init(&l), 0);
	/* 108 bytes: bind() would take the first 107 */
	memset(path, 'x', n);
	path[0] = '/';
	path[n] = '\0';
	assert_int_equal(ctl_new(&l, path, handler, &l, &c, &err), -ENAMETOOLONG);
	snprintf(want, sizeof(want), "socket %s: 108 bytes long; a unix socket path has at most "
	         "107", path);
	assert_string_equal(err.msg, want);
	/* a missing directory is told as such, not as libuv's EACCES */
	memset(&err, 0, sizeof(err));
	snprintf(path, sizeof(path), "%s.none/gm.sock", sock_path);
	assert_int_equal(ctl_new(&l, path, handler, &l, &c, &err), -ENOENT);
	snprintf(want, sizeof(want), "socket %s: directory %s.none: no such file or directory",
	         path, sock_path);
	assert_string_equal(err.msg, want);
	assert_null(c);
	uv_run(&l, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&l), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_request),
		cmocka_unit_test(test_one_json_line_per_request),
		cmocka_unit_test(test_handler_is_told_who_connected),
		cmocka_unit_test(test_access_control),
		cmocka_unit_test(test_peer_may_control),
		cmocka_unit_test(test_errors_are_replies),
		cmocka_unit_test(test_eof_ends_a_request_like_a_newline),
		cmocka_unit_test(test_reply_is_sanitized),
		cmocka_unit_test(test_text_reply_as_it_is_line_by_line_sanitized),
		cmocka_unit_test(test_path_that_is_not_a_socket),
		cmocka_unit_test(test_stale_socket_is_replaced),
		cmocka_unit_test(test_live_socket_is_left_alone),
		cmocka_unit_test(test_paths_refused_before_bind),
	};

	return cmocka_run_group_tests_name("ctl", tests, setup, teardown);
}
