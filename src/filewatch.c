/* filewatch — see include/filewatch.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include "filewatch.h"
#include "util.h"

/* What a look at one file saw: its identity and times, or why it could
 * not be seen. */
struct look {
	char *path;
	int err;                        /* 0, or the errno of stat(2) */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

/* A watch on one folder, freed in its close callback. */
struct dirwatch {
	uv_fs_event_t ev;
	struct filewatch *w;
	struct dirwatch *next;
};

enum filewatch_state { FILEWATCH_RUNNING, FILEWATCH_CLOSING };

struct filewatch {
	uv_loop_t *loop;
	uv_timer_t debounce;
	struct dirwatch *dirs;
	struct look *files;
	size_t n_files;
	filewatch_cb cb;
	void *arg;
	enum filewatch_state state;
	unsigned handles;               /* open or closing; w goes with the last */
};

static void
look_at(struct look *l)
{
	struct stat st;

	if (stat(l->path, &st) < 0) {
		l->err = errno;
		l->dev = 0;
		l->ino = 0;
		l->size = 0;
		memset(&l->mtim, 0, sizeof(l->mtim));
		memset(&l->ctim, 0, sizeof(l->ctim));
		return;
	}
	l->err = 0;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->size = st.st_size;
	l->mtim = st.st_mtim;
	l->ctim = st.st_ctim;
}

static int
look_same(const struct look *a, const struct look *b)
{
	return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
	       a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

static void
files_free(struct look *files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(files[i].path);
	free(files);
}

static void
release(struct filewatch *w)
{
	if (--w->handles == 0 && w->state == FILEWATCH_CLOSING) {
		files_free(w->files, w->n_files);
		free(w);
	}
}

static void
on_timer_closed(uv_handle_t *h)
{
	release(h->data);
}

static void
on_dir_closed(uv_handle_t *h)
{
	struct dirwatch *dw = h->data;
	struct filewatch *w = dw->w;

	free(dw);
	release(w);
}

static void
dirs_close(struct filewatch *w)
{
	struct dirwatch *dw, *next;

	for (dw = w->dirs; dw; dw = next) {
		next = dw->next;
		uv_close((uv_handle_t *)&dw->ev, on_dir_closed);
	}
	w->dirs = NULL;
}

/* The end of a burst: a look at every file, a call when one changed. */
static void
on_debounce(uv_timer_t *t)
{
	struct filewatch *w = t->data;
	struct look now;
	size_t i;
	int changed = 0;

	for (i = 0; i < w->n_files; i++) {
		now = w->files[i];
		look_at(&now);
		changed |= !look_same(&now, &w->files[i]);
		w->files[i] = now;
	}
	if (changed)
		w->cb(w->arg);
}

static void
on_event(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct dirwatch *dw = h->data;
	struct filewatch *w = dw->w;

	(void)name;
	(void)events;
	(void)status;
	/* from the first event of a burst: a folder written to without end
	 * still gets its look every FILEWATCH_DEBOUNCE_MS */
	if (w->state == FILEWATCH_RUNNING && !uv_is_active((uv_handle_t *)&w->debounce))
		uv_timer_start(&w->debounce, on_debounce, FILEWATCH_DEBOUNCE_MS, 0);
}

struct filewatch *
filewatch_new(uv_loop_t *loop, filewatch_cb cb, void *arg)
{
	struct filewatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->loop = loop;
	w->cb = cb;
	w->arg = arg;
	w->state = FILEWATCH_RUNNING;
	uv_timer_init(loop, &w->debounce);
	w->debounce.data = w;
	w->handles = 1;
	return w;
}

/* The folder of path, malloc'd: "." for a bare name, "/" for a file in
 * the root. */
static char *
folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int
watch_folder(struct filewatch *w, const char *dir, struct gm_err *err, int *first_err)
{
	struct dirwatch *dw = calloc(1, sizeof(*dw));
	int r;

	if (!dw)
		return -ENOMEM;
	dw->w = w;
	dw->ev.data = dw;
	uv_fs_event_init(w->loop, &dw->ev);
	w->handles++;
	dw->next = w->dirs;
	w->dirs = dw;
	r = uv_fs_event_start(&dw->ev, on_event, dir, 0);
	if (r < 0 && !*first_err) {
		*first_err = r;
		gm_err_set(err, "cannot watch %s: %s", dir, uv_strerror(r));
	}
	return 0;
}

int
filewatch_set(struct filewatch *w, const char *const *paths, size_t n, struct gm_err *err)
{
	struct look *files = NULL;
	char **dirs = NULL;
	size_t i, j, n_dirs = 0;
	int r = 0, first_err = 0;

	if (n > FILEWATCH_MAX_FILES) {
		gm_err_set(err, "more than %d files to watch", FILEWATCH_MAX_FILES);
		return -E2BIG;
	}
	files = calloc(n ? n : 1, sizeof(*files));
	dirs = calloc(n ? n : 1, sizeof(*dirs));
	if (!files || !dirs) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		char *dir;

		if (!(files[i].path = strdup(paths[i])) || !(dir = folder_of(paths[i]))) {
			r = -ENOMEM;
			goto out;
		}
		for (j = 0; j < w->n_files && strcmp(w->files[j].path, paths[i]) != 0; j++)
			;
		if (j < w->n_files) {
			char *p = files[i].path;

			files[i] = w->files[j];
			files[i].path = p;
		} else {
			look_at(&files[i]);
		}
		for (j = 0; j < n_dirs && strcmp(dirs[j], dir) != 0; j++)
			;
		if (j < n_dirs)
			free(dir);
		else
			dirs[n_dirs++] = dir;
	}
	dirs_close(w);
	for (i = 0; i < n_dirs && r == 0; i++)
		r = watch_folder(w, dirs[i], err, &first_err);
	files_free(w->files, w->n_files);
	w->files = files;
	w->n_files = n;
	files = NULL;
	if (r == 0)
		r = first_err;
out:
	if (r == -ENOMEM)
		gm_err_set(err, "out of memory");
	if (files)
		files_free(files, n);
	for (i = 0; i < n_dirs; i++)
		free(dirs[i]);
	free(dirs);
	return r;
}

void
filewatch_free(struct filewatch *w)
{
	if (!w)
		return;
	w->state = FILEWATCH_CLOSING;
	dirs_close(w);
	uv_close((uv_handle_t *)&w->debounce, on_timer_closed);
}
