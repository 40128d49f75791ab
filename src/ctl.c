/* ctl — see include/ctl.h.  The bind sequence follows ntpd's control.c:
 * unlink a stale socket, bind under a tight umask, chmod 0660, listen;
 * a socket is stale only when a connect() to it is refused. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "ctl.h"
#include "util.h"

/* What bind() takes of a path, its terminating NUL included. */
#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)

struct client;

struct ctl {
	uv_pipe_t server;
	char *path;
	ctl_handler handler;
	void *arg;
	struct client *clients;
	unsigned n_clients, handles;
	int closing;
};

struct client {
	uv_pipe_t pipe;
	uv_timer_t timer;
	struct ctl *ctl;
	struct client *next;
	char buf[CTL_MAX_REQUEST + 1];
	size_t len;
	int handles, done;
	uv_write_t wr;
	char *reply;
	uint64_t seen_ms;               /* last progress: connected, answered, reply taken */
	size_t unsent;                  /* of the reply, when last looked at */
	struct ctl_peer peer;           /* who connected, from SO_PEERCRED */
};

static void
ctl_handle_gone(struct ctl *c)
{
	if (--c->handles == 0 && c->closing) {
		free(c->path);
		free(c);
	}
}

static void
server_closed(uv_handle_t *h)
{
	ctl_handle_gone(h->data);
}

static void
client_handle_closed(uv_handle_t *h)
{
	struct client *cl = h->data;
	struct ctl *c = cl->ctl;

	if (--cl->handles == 0) {
		free(cl->reply);
		free(cl);
		ctl_handle_gone(c);
	}
}

static void
client_close(struct client *cl)
{
	struct ctl *c = cl->ctl;
	struct client **pp;

	if (cl->done)
		return;
	cl->done = 1;
	for (pp = &c->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	c->n_clients--;
	uv_close((uv_handle_t *)&cl->pipe, client_handle_closed);
	uv_close((uv_handle_t *)&cl->timer, client_handle_closed);
}

static void
on_written(uv_write_t *w, int status)
{
	(void)status;
	client_close(w->data);
}

/* Whether the client has taken some of its reply since last looked at.
 * The queue only shrinks when the loop gets to the socket, so a busy loop
 * would make a reading client look stuck: a socket that takes more bytes
 * now (its buffer drained by the reader) counts as progress too. */
static int
reply_moved(struct client *cl)
{
	struct pollfd pfd = { .events = POLLOUT };
	uv_os_fd_t fd;
	size_t q;

	if (!cl->reply)
		return 0;
	q = uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe);
	if (q < cl->unsent) {
		cl->unsent = q;
		return 1;
	}
	if (uv_fileno((uv_handle_t *)&cl->pipe, &fd) < 0)
		return 0;
	pfd.fd = fd;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT);
}

static void
on_timeout(uv_timer_t *t)
{
	struct client *cl = t->data;

	/* a reply still being read gets more time; one not read is cut off */
	if (reply_moved(cl)) {
		cl->seen_ms = uv_now(t->loop);
		uv_timer_start(&cl->timer, on_timeout, CTL_TIMEOUT_MS, 0);
		return;
	}
	client_close(cl);
}

/* text, each line through str_sanitize(), into out; 0 or -ENOMEM. */
static int
sanitize_lines(struct buf *out, const char *text)
{
	const char *p = text, *nl;
	char *line, *clean;
	int r = 0;

	while (*p && r == 0) {
		nl = strchr(p, '\n');
		if (!(line = strndup(p, nl ? (size_t)(nl - p) : strlen(p))))
			return -ENOMEM;
		clean = str_sanitize(line);
		free(line);
		if (!clean)
			return -ENOMEM;
		r = buf_printf(out, "%s\n", clean);
		free(clean);
		p = nl ? nl + 1 : p + strlen(p);
	}
	return r;
}

/* Sends the reply and takes ownership of what it holds. */
static void
reply(struct client *cl, struct ctl_reply rep)
{
	struct buf out = {0};
	char *text = NULL;
	int r;
	uv_buf_t b;

	if (rep.json || !rep.text) {
		if (!rep.json)
			rep.json = cJSON_CreateObject();
		/* a reply is valid UTF-8 JSON whatever the request, the history or
		 * a run's error quoted: cJSON checks neither */
		text = rep.json && json_sanitize(rep.json) == 0
		       ? cJSON_PrintUnformatted(rep.json) : NULL;
		r = text ? buf_append(&out, text, strlen(text)) : -ENOMEM;
		if (r == 0)
			r = buf_puts(&out, "\n");
	} else {
		r = sanitize_lines(&out, rep.text);
	}
	cJSON_Delete(rep.json);
	free(rep.text);
	free(text);
	if (r < 0 || !out.data) {
		buf_clear(&out);
		client_close(cl);
		return;
	}
	cl->reply = buf_steal(&out);
	b = uv_buf_init(cl->reply, (unsigned)strlen(cl->reply));
	uv_read_stop((uv_stream_t *)&cl->pipe);
	/* a client that does not read a reply larger than the socket buffer
	 * is cut off like one that does not ask */
	uv_timer_start(&cl->timer, on_timeout, CTL_TIMEOUT_MS, 0);
	cl->wr.data = cl;
	if (uv_write(&cl->wr, (uv_stream_t *)&cl->pipe, &b, 1, on_written) < 0) {
		client_close(cl);
		return;
	}
	cl->seen_ms = uv_now(cl->pipe.loop);
	cl->unsent = uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe);
}

/* The client that made no progress for the longest: a full table pushes it
 * out, so a client reading its reply is not pushed out by clients that
 * connect, send nothing or do not read, however fast they come. */
static struct client *
stalest(struct ctl *c, const struct client *except, uint64_t now)
{
	struct client *old = NULL, *p;

	for (p = c->clients; p; p = p->next) {         /* newest first */
		if (p == except)
			continue;
		if (reply_moved(p))
			p->seen_ms = now;
		if (!old || p->seen_ms <= old->seen_ms)
			old = p;
	}
	return old;
}

static struct ctl_reply
error_reply(const char *msg)
{
	struct ctl_reply rep = { .json = cJSON_CreateObject() };

	if (rep.json) {
		cJSON_AddBoolToObject(rep.json, "ok", 0);
		cJSON_AddStringToObject(rep.json, "error", msg);
	}
	return rep;
}

int
ctl_parse_request(char *line, char **ret_command, char **ret_argument, const char **reterr)
{
	char *cmd = line, *arg = NULL, *sp;
	size_t i;

	for (i = 0; line[i]; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
			*reterr = "the request contains control characters";
			return -EINVAL;
		}
	while (*cmd == ' ')
		cmd++;
	sp = strchr(cmd, ' ');
	if (sp) {
		*sp = '\0';
		arg = sp + 1;
		while (*arg == ' ')
			arg++;
		if (!*arg)
			arg = NULL;
	}
	if (!*cmd) {
		*reterr = "empty request";
		return -EINVAL;
	}
	*ret_command = cmd;
	*ret_argument = arg;
	return 0;
}

static void
handle_line(struct client *cl, char *line)
{
	struct ctl_reply rep = {0};
	const char *why = NULL;
	char *cmd = NULL, *arg = NULL;

	if (ctl_parse_request(line, &cmd, &arg, &why) < 0) {
		reply(cl, error_reply(why));
		return;
	}
	cl->ctl->handler(cmd, arg, &cl->peer, cl->ctl->arg, &rep);
	reply(cl, rep);
}

int
ctl_access_control(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                   uid_t daemon_uid, const gid_t *control_gid)
{
	size_t i;

	if (uid == 0)
		return 1;
	if (uid == CTL_NOBODY_ID)
		return 0;
	if (uid == daemon_uid)
		return 1;
	if (!control_gid)
		return 0;
	if (gid == *control_gid)
		return 1;
	for (i = 0; i < n_groups; i++)
		if (groups[i] == *control_gid)
			return 1;
	return 0;
}

/* The groups of the user named by uid, gid among them, from the group
 * database (getgrouplist()): *ret_groups is malloc'd.  0, -ENOENT for a
 * uid without a passwd entry, -ENOMEM, or -E2BIG past 64 Ki groups. */
static int
peer_groups(uid_t uid, gid_t gid, gid_t **ret_groups, size_t *ret_n)
{
	struct passwd pw, *found = NULL;
	size_t cap = 1024;
	char *buf = NULL, *bigger;
	gid_t *groups = NULL, *more;
	int n = 32, r;

	for (;;) {
		if (!(bigger = realloc(buf, cap))) {
			r = -ENOMEM;
			goto out;
		}
		buf = bigger;
		r = getpwuid_r(uid, &pw, buf, cap, &found);
		if (r != ERANGE || cap >= 1 << 20)
			break;
		cap *= 2;
	}
	if (r != 0 || !found) {
		r = r ? -r : -ENOENT;
		goto out;
	}
	for (;;) {
		int want = n;

		if (!(more = realloc(groups, (size_t)n * sizeof(*groups)))) {
			r = -ENOMEM;
			goto out;
		}
		groups = more;
		/* too small: -1, and n set to the number needed */
		if (getgrouplist(pw.pw_name, gid, groups, &n) >= 0)
			break;
		if (n <= want)
			n = want * 2;
		if (n > 65536) {
			r = -E2BIG;
			goto out;
		}
	}
	*ret_groups = groups;
	*ret_n = (size_t)n;
	groups = NULL;
	r = 0;
out:
	free(groups);
	free(buf);
	return r;
}

int
ctl_peer_may_control(const struct ctl_peer *peer, uid_t daemon_uid, const gid_t *control_gid)
{
	gid_t *groups = NULL;
	size_t n = 0;
	int r;

	if (!peer->known)
		return 0;
	r = ctl_access_control(peer->uid, peer->gid, NULL, 0, daemon_uid, control_gid);
	/* only a control group can change the answer, and not for nobody */
	if (r || !control_gid || peer->uid == CTL_NOBODY_ID)
		return r;
	if (peer_groups(peer->uid, peer->gid, &groups, &n) < 0)
		return 0;
	r = ctl_access_control(peer->uid, peer->gid, groups, n, daemon_uid, control_gid);
	free(groups);
	return r;
}

/* Who is at the other end of cl, from the kernel: the credentials of the
 * process that called connect(), which a client cannot choose. */
static void
peer_identify(struct client *cl)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	uv_os_fd_t fd;

	cl->peer = (struct ctl_peer){ .uid = (uid_t)-1, .gid = (gid_t)-1, .pid = 0, .known = 0 };
	if (uv_fileno((uv_handle_t *)&cl->pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || len != sizeof(uc))
		return;
	cl->peer = (struct ctl_peer){ .uid = uc.uid, .gid = uc.gid, .pid = uc.pid, .known = 1 };
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct client *cl = h->data;

	(void)hint;
	*b = uv_buf_init(cl->buf + cl->len, (unsigned)(CTL_MAX_REQUEST - cl->len));
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct client *cl = s->data;
	char *nl;

	(void)b;
	if (cl->done || cl->reply)
		return;
	if (n == UV_EOF && cl->len > 0) {
		/* the client shut down its sending side after the request (its
		 * reading side stays open for the reply): the end of the stream
		 * ends the line as a newline would */
		nl = cl->buf + cl->len;
		if (nl[-1] == '\r')
			nl[-1] = '\0';
		handle_line(cl, cl->buf);
		return;
	}
	if (n < 0) {
		client_close(cl);
		return;
	}
	cl->len += (size_t)n;
	cl->buf[cl->len] = '\0';
	if ((nl = memchr(cl->buf, '\n', cl->len))) {
		*nl = '\0';
		if (nl > cl->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		handle_line(cl, cl->buf);
	} else if (cl->len >= CTL_MAX_REQUEST) {
		reply(cl, error_reply("request longer than 1024 bytes"));
	}
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct ctl *c = server->data;
	struct client *cl;

	if (status < 0)
		return;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return;
	cl->ctl = c;
	uv_pipe_init(server->loop, &cl->pipe, 0);
	uv_timer_init(server->loop, &cl->timer);
	cl->pipe.data = cl->timer.data = cl;
	cl->handles = 2;
	c->handles++;
	cl->next = c->clients;
	c->clients = cl;
	c->n_clients++;
	if (uv_accept(server, (uv_stream_t *)&cl->pipe) < 0) {
		client_close(cl);
		return;
	}
	peer_identify(cl);
	cl->seen_ms = uv_now(server->loop);
	if (c->n_clients > CTL_MAX_CLIENTS) {
		struct client *old = stalest(c, cl, cl->seen_ms);

		client_close(old ? old : cl);
		if (!old)
			return;
	}
	uv_timer_start(&cl->timer, on_timeout, CTL_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&cl->pipe, on_alloc, on_read);
}

/* Whether something answers on the socket file path: 1 when a connect()
 * is accepted (or would be: a full backlog), 0 when it is refused, which is
 * what a socket left by a process that died answers, or a negative errno
 * when that cannot be told. */
static int
socket_answers(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, r;

	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 || errno == EAGAIN ||
	    errno == EINPROGRESS)
		r = 1;
	else if (errno == ECONNREFUSED)
		r = 0;
	else
		r = -errno;
	close(fd);
	return r;
}

/* The checks before binding path: bind() would truncate a path too long
 * for sun_path, and libuv reports a missing directory as "permission
 * denied" (it maps ENOENT to EACCES), so both are told here.  A socket
 * file left behind is removed only when nothing answers on it. */
static int
check_path(const char *path, struct gm_err *reterr)
{
	const char *slash = strrchr(path, '/');
	char dir[SUN_PATH_SIZE];
	struct stat st;
	int r = 0;

	if (strlen(path) >= SUN_PATH_SIZE) {
		gm_err_set(reterr, "socket %s: %zu bytes long; a unix socket path has at most "
		           "%zu", path, strlen(path), SUN_PATH_SIZE - 1);
		return -ENAMETOOLONG;
	}
	if (slash && slash != path) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		if (stat(dir, &st) < 0)
			r = -errno;
		else if (!S_ISDIR(st.st_mode))
			r = -ENOTDIR;
		if (r < 0) {
			gm_err_set(reterr, "socket %s: directory %s: %s", path, dir, uv_strerror(r));
			return r;
		}
	}
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		gm_err_set(reterr, "socket %s: exists and is not a socket", path);
		return -EEXIST;
	}
	r = socket_answers(path);
	if (r > 0) {
		gm_err_set(reterr, "another gluemetad is answering on %s", path);
		return -EADDRINUSE;
	}
	if (r < 0) {
		gm_err_set(reterr, "socket %s: cannot tell whether it is in use: %s", path,
		           uv_strerror(r));
		return r;
	}
	(void)unlink(path);
	return 0;
}

int
ctl_new(uv_loop_t *loop, const char *path, ctl_handler handler, void *arg, struct ctl **ret,
        struct gm_err *reterr)
{
	struct ctl *c;
	mode_t old;
	int r;

	r = check_path(path, reterr);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		free(c);
		gm_err_set(reterr, "out of memory");
		return -ENOMEM;
	}
	c->handler = handler;
	c->arg = arg;
	uv_pipe_init(loop, &c->server, 0);
	c->server.data = c;
	c->handles = 1;
	old = umask(0117);
	r = uv_pipe_bind(&c->server, path);
	umask(old);
	if (r == 0 && chmod(path, 0660) < 0)
		r = -errno;
	if (r == 0)
		r = uv_listen((uv_stream_t *)&c->server, 16, on_connection);
	if (r < 0) {
		gm_err_set(reterr, "socket %s: %s", path, uv_strerror(r));
		c->closing = 1;
		uv_close((uv_handle_t *)&c->server, server_closed);
		return r;
	}
	*ret = c;
	return 0;
}

void
ctl_close(struct ctl *c)
{
	if (!c)
		return;
	c->closing = 1;
	while (c->clients)
		client_close(c->clients);
	(void)unlink(c->path);
	uv_close((uv_handle_t *)&c->server, server_closed);
}
