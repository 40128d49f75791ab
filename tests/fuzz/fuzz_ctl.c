/* The control socket protocol, through the real ctl module on a libuv loop:
 * each input is what a client sends on one connection (then it closes its
 * sending side); the loop runs until the server has answered and closed.
 * Checks: the handler sees a non-empty command without leading spaces or
 * control characters and an argument that does not start with a space; the
 * client gets at most one line, a JSON object of valid UTF-8 without
 * control characters (the handler echoes what it was given); an answer
 * always comes for a request of at least one byte (ended by a newline, by
 * 1024 bytes or by the client shutting down its side). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "ctl.h"
#include "fuzz.h"
#include "util.h"

static uv_loop_t loop;
static struct ctl *ctl;
static struct sockaddr_un addr;
static int handled;

static void
handler(const char *command, const char *argument, const struct ctl_peer *peer, void *arg,
        struct ctl_reply *ret)
{
	const char *p;
	cJSON *j = cJSON_CreateObject();

	(void)arg;
	FUZZ_CHECK(peer && peer->known);
	handled++;
	FUZZ_CHECK(command && *command && *command != ' ');
	FUZZ_CHECK(!strchr(command, ' '));
	FUZZ_CHECK(!argument || (*argument && *argument != ' '));
	for (p = command; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 || *p == '\t');
	for (p = argument; p && *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 || *p == '\t');
	cJSON_AddBoolToObject(j, "ok", 1);
	cJSON_AddStringToObject(j, "command", command);
	if (argument)
		cJSON_AddStringToObject(j, "argument", argument);
	ret->json = j;
}

/* The socket goes when the process ends. */
static void
cleanup(void)
{
	(void)unlink(addr.sun_path);
}

static void
setup(void)
{
	struct gm_err err = {{0}};

	FUZZ_CHECK(uv_loop_init(&loop) == 0);
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "/dev/shm/gm-fuzz-ctl-%ld.sock",
	         (long)getpid());
	if (ctl_new(&loop, addr.sun_path, handler, NULL, &ctl, &err) < 0) {
		fprintf(stderr, "ctl_new: %s\n", err.msg);
		abort();
	}
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reply[8192];
	size_t got = 0, sent = 0;
	int fd, eof = 0, spins = 0;

	if (!ctl)
		setup();
	if (size > 4096)
		return 0;
	handled = 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	while (!eof) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | (sent < size ? POLLOUT : 0) };
		ssize_t n;

		uv_run(&loop, UV_RUN_NOWAIT);
		if (poll(&pfd, 1, 1) < 0)
			continue;
		if (sent < size && (pfd.revents & POLLOUT)) {
			n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN)
				sent = size;    /* the server stopped reading */
			if (sent == size)
				shutdown(fd, SHUT_WR);
		} else if (sent == size && size == 0) {
			shutdown(fd, SHUT_WR);
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
			if (n > 0)
				got += (size_t)n;
			else if (n == 0 || errno != EAGAIN)
				eof = 1;
		}
		FUZZ_CHECK(got < sizeof(reply) - 1);
		FUZZ_CHECK(++spins < 20000);    /* about 20 s: the server hangs */
	}
	close(fd);
	uv_run(&loop, UV_RUN_NOWAIT);
	reply[got] = '\0';
	FUZZ_CHECK(handled <= 1);
	if (got) {
		char *nl = strchr(reply, '\n'), *clean;
		cJSON *j;

		FUZZ_CHECK(nl && nl[1] == '\0');
		*nl = '\0';
		j = cJSON_Parse(reply);
		FUZZ_CHECK(cJSON_IsObject(j));
		cJSON_Delete(j);
		clean = str_sanitize(reply);
		FUZZ_CHECK(clean && strcmp(clean, reply) == 0);
		free(clean);
	}
	if (size > 0)
		FUZZ_CHECK(got > 0);
	return 0;
}
