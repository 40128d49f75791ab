/* filewatch — tells its owner once when a set of files changed: the
 * daemon's configuration and the workflow files it names, for
 * reload_on_change.  It watches the folder of each file (libuv fs events,
 * inotify), not the file: an editor that saves by renaming a new file over
 * the old one, and Kubernetes, which swaps the `..data` symlink of a
 * mounted ConfigMap to a new folder in one rename, both replace the file a
 * watch on it would follow.  Events wait FILEWATCH_DEBOUNCE_MS for the rest
 * of a burst; then each file is looked at (stat(2) through symlinks:
 * device, inode, size, modification time) and the callback runs only when
 * one differs from what the last look saw, so a file written in several
 * steps, or an unrelated file of the same folder, makes no call.  Owns its
 * handles; logs nothing (the owner does). */
#ifndef GLUEMETAD_FILEWATCH_H
#define GLUEMETAD_FILEWATCH_H

#include <stddef.h>

struct gm_err;
struct uv_loop_s;
struct filewatch;

#define FILEWATCH_DEBOUNCE_MS 300
#define FILEWATCH_MAX_FILES 1024

typedef void (*filewatch_cb)(void *arg);

/* A watcher on loop that watches nothing yet; NULL without memory. */
struct filewatch *filewatch_new(struct uv_loop_s *loop, filewatch_cb cb, void *arg);
/* Watches these files (paths borrowed for the call) from now on, in place
 * of the set before: the folders' watches are opened anew, so a folder a
 * swap replaced is watched under its new identity.  A file of the set
 * before keeps what the last look saw of it (a change made since that
 * look is still told); a new one is looked at now.  0, or a negative errno
 * with err naming the first folder that cannot be watched (the others
 * are). */
int filewatch_set(struct filewatch *w, const char *const *paths, size_t n, struct gm_err *err);
/* Closes the handles (the memory goes when the loop has closed them);
 * accepts NULL. */
void filewatch_free(struct filewatch *w);

#endif
