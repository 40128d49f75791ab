/* state — files in state_dir, written crash-safe: a temporary file in the
 * same folder, fsync, rename over the old one, fsync of the folder.  A
 * kill -9 at any moment leaves the old or the new content, never a torn
 * one. */
#ifndef GLUEMETAD_STATE_H
#define GLUEMETAD_STATE_H

#include <stddef.h>
#include <sys/types.h>

/* The largest state file read or written: a memo of 5,000 workflows with
 * 20 runs each is 17 MB; this is room for some 75,000. */
#define STATE_MAX_FILE ((size_t)256 << 20)

int state_write(const char *dir, const char *name, const void *data, size_t len);
/* The same, the content written in pieces by fill(arg, o) through
 * state_out_write() (a large file need not be held whole in memory); a
 * negative errno from fill() abandons the write and is returned. */
struct state_out;
int state_write_with(const char *dir, const char *name,
                     int (*fill)(void *arg, struct state_out *o), void *arg);
int state_out_write(struct state_out *o, const void *data, size_t len);
/* The same for a file outside state_dir (the metrics textfile): path
 * names a file in a folder that exists (it is not made), the file gets
 * exactly mode, whatever the umask, so that another service (node_exporter)
 * can read it.  The temporary file is ".NAME.tmp.PID" beside it.  0 or a
 * negative errno. */
int state_write_path(const char *path, const void *data, size_t len, mode_t mode);
/* Removes the temporary files of writes a crash interrupted; how many. */
int state_sweep(const char *dir);
/* The same for state_write_path(path): only path's own temporary files,
 * since its folder may hold other programs' files. */
int state_sweep_path(const char *path);
/* Returns the content (malloc'd, NUL-terminated) or NULL with errno set
 * (ENOENT when there is none yet). */
char *state_read(const char *dir, const char *name);

#define STATE_LOCK_FILE "gluemetad.lock"

/* One daemon per state_dir: takes flock(LOCK_EX | LOCK_NB) on
 * dir/gluemetad.lock (created, and dir too, when missing) and writes our
 * pid into it once the lock is held.  Returns 0 with *ret_fd the open file
 * (O_CLOEXEC; the lock holds until it is closed or the process ends), or
 * -EWOULDBLOCK when another process holds it, *reterr_pid then the pid in
 * the file (0 when it cannot be read), or another negative errno. */
int state_lock(const char *dir, int *ret_fd, long *reterr_pid);

#endif
