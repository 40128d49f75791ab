/* state — files in state_dir, written crash-safe: a temporary file in the
 * same folder, fsync, rename over the old one, fsync of the folder.  A
 * kill -9 at any moment leaves the old or the new content, never a torn
 * one. */
#ifndef GLUEMETAD_STATE_H
#define GLUEMETAD_STATE_H

#include <stddef.h>

struct memo;

#define STATE_MAX_FILE ((size_t)16 << 20)

int state_write(const char *dir, const char *name, const void *data, size_t len);
/* Removes the temporary files of writes a crash interrupted; how many. */
int state_sweep(const char *dir);
/* Returns the content (malloc'd, NUL-terminated) or NULL with errno set
 * (ENOENT when there is none yet). */
char *state_read(const char *dir, const char *name);

/* The settings a memo belongs to: gluemetad's version and the workflow
 * file's text (malloc'd), NULL when the file cannot be read. */
char *state_memo_settings(const char *wf_path);
/* The memo in dir/name made under settings; an empty one when there is
 * none or it does not fit, with why (n bytes) saying so ("" when it was
 * read).  NULL only without memory. */
struct memo *state_memo_load(const char *dir, const char *name, const char *settings, char *why,
                             size_t n);
int state_memo_save(const char *dir, const char *name, const struct memo *m);

#endif
