/* ctl — the status and control socket: a unix stream socket; a client
 * sends one line "COMMAND [ARGUMENT]" (at most 1 KiB, within 5 s; ended by
 * a newline, or by the client shutting down its side), gets one JSON
 * object and a newline back (or, for a command whose answer is text, such
 * as metrics, that text), and the connection closes.  At most
 * CTL_MAX_CLIENTS at a time (a new client pushes out the one that made no
 * progress for the longest: connecting, being answered or taking some of its
 * reply); a slow or silent client, or one that does not read its reply, is
 * cut off after CTL_TIMEOUT_MS.  Every string of a reply goes through
 * str_sanitize() (util.h): the reply is valid UTF-8 without control
 * characters in its values, whatever bytes the request held; a text reply
 * does, line by line.  Each client is identified when it is accepted
 * (SO_PEERCRED) and its handler told who it is; which commands it may use
 * is the handler's decision, with ctl_peer_may_control(). */
#ifndef GLUEMETAD_CTL_H
#define GLUEMETAD_CTL_H

#include <stddef.h>
#include <sys/types.h>

struct uv_loop_s;
struct cJSON;
struct gm_err;
struct ctl;

#define CTL_MAX_REQUEST 1024
#define CTL_MAX_CLIENTS 32
#define CTL_TIMEOUT_MS 5000

/* A handler's answer: json, a JSON object sent as one line; or, when
 * json is NULL, text sent as it is (lines ending in a newline).  Both
 * NULL (out of memory): an empty object.  Ownership passes to ctl. */
struct ctl_reply {
	struct cJSON *json;
	char *text;
};
/* The process at the other end of a connection, as the kernel gave it
 * (SO_PEERCRED) when the connection was accepted: who called connect(), not
 * whoever holds the socket later.  known is 0 when the kernel did not tell;
 * such a peer has no control access. */
struct ctl_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int known;
};

/* The overflow uid and gid (nobody, nogroup): what the kernel reports for
 * a process whose ids are not mapped into the daemon's user namespace
 * (systemd's PrivateUsers=yes), so any number of users may show as it. */
#define CTL_NOBODY_ID 65534

/* Fills *ret, which comes zeroed.  peer is the client, valid for the call. */
typedef void (*ctl_handler)(const char *command, const char *argument,
                            const struct ctl_peer *peer, void *arg, struct ctl_reply *ret);

/* One request line (NUL-terminated, its newline and a CR before it already
 * cut; edited in place) split as the socket does it: leading spaces
 * skipped, the command up to the first space, the argument from the next
 * character that is not a space to the end (NULL when nothing is left).
 * Returns 0, or -EINVAL with *reterr the text of the error reply (a
 * control character other than tab, an empty request).  Pure, so that the
 * protocol can be tested without a socket. */
int ctl_parse_request(char *line, char **ret_command, char **ret_argument,
                      const char **reterr);

/* Whether a client with uid, primary gid and supplementary groups has
 * control access: root, the daemon's own user (daemon_uid), or a member of
 * *control_gid (its primary gid or one of groups); control_gid NULL: no
 * control group.  A client with uid CTL_NOBODY_ID never has it, even when
 * the daemon runs as that uid or it is in the group: it may stand for any
 * user outside the daemon's user namespace.  Pure, so that the rule can be
 * tested without users and sockets. */
int ctl_access_control(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                       uid_t daemon_uid, const gid_t *control_gid);
/* ctl_access_control() for a connected peer.  Its supplementary groups are
 * looked up (getgrouplist() for the name of its uid, which may block on
 * NSS) only when they decide: a control group is set and the peer is
 * neither root, the daemon's user nor in the group by its primary gid.  A
 * uid without a passwd entry counts with its primary gid only.  1 or 0. */
int ctl_peer_may_control(const struct ctl_peer *peer, uid_t daemon_uid,
                         const gid_t *control_gid);

/* Binds path (0660) and answers on it; *ret belongs to the caller, who
 * ends it with ctl_close().  A socket file already at path is replaced only
 * when a connect() to it is refused (left by a process that died).
 * Returns 0, or a negative errno with *reterr the message: -EADDRINUSE
 * when something answers on path, -EEXIST when path is not a socket,
 * -ENAMETOOLONG past 107 bytes (bind() would cut it), -ENOENT or -ENOTDIR
 * for a missing directory. */
int ctl_new(struct uv_loop_s *loop, const char *path, ctl_handler handler, void *arg,
            struct ctl **ret, struct gm_err *reterr);
/* Stops listening, drops clients, unlinks the socket; frees itself once
 * its handles are closed (run the loop). */
void ctl_close(struct ctl *c);

#endif
