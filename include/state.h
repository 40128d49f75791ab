/* state — files in state_dir, written crash-safe: a temporary file in the
 * same folder, fsync, rename over the old one, fsync of the folder.  A
 * kill -9 at any moment leaves the old or the new content, never a torn
 * one. */
#ifndef GLUEMETAD_STATE_H
#define GLUEMETAD_STATE_H

#include <stddef.h>
#include <sys/types.h>

#define STATE_MAX_FILE ((size_t)16 << 20)

int state_write(const char *dir, const char *name, const void *data, size_t len);
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

#endif
