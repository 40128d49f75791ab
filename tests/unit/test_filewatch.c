/* filewatch on a real loop and real files in a temporary folder: a file
 * renamed over, written in place, or swapped the way the kubelet updates a
 * ConfigMap (..data symlink renamed) is told once; another file of the
 * folder is not; a folder that is not there is named; the loop closes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "filewatch.h"
#include "util.h"

struct fixture {
	uv_loop_t loop;
	uv_timer_t deadline;
	struct filewatch *w;
	char dir[256];
	int calls, timed_out;
};

static void
on_change(void *arg)
{
	struct fixture *f = arg;

	f->calls++;
	uv_stop(&f->loop);
}

static void
on_deadline(uv_timer_t *t)
{
	struct fixture *f = t->data;

	f->timed_out = 1;
	uv_stop(&f->loop);
}

/* Runs the loop until the callback or ms passed. */
static void
run_for(struct fixture *f, uint64_t ms)
{
	f->timed_out = 0;
	uv_timer_start(&f->deadline, on_deadline, ms, 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	uv_timer_stop(&f->deadline);
}

static void
put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fh;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fh = fopen(path, "w");
	assert_non_null(fh);
	fputs(text, fh);
	fclose(fh);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_filewatch.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir) || uv_loop_init(&f->loop) < 0)
		return -1;
	uv_timer_init(&f->loop, &f->deadline);
	f->deadline.data = f;
	f->w = filewatch_new(&f->loop, on_change, f);
	*state = f;
	return f->w ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];

	filewatch_free(f->w);
	uv_close((uv_handle_t *)&f->deadline, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
test_rename_in_place_and_unrelated(void **state)
{
	struct fixture *f = *state;
	struct gm_err err = {{0}};
	char a[512], tmp[512];
	const char *paths[1] = { a };

	put(f->dir, "a.yaml", "one\n");
	snprintf(a, sizeof(a), "%s/a.yaml", f->dir);
	assert_int_equal(filewatch_set(f->w, paths, 1, &err), 0);
	/* another file of the folder: looked at, nothing told */
	put(f->dir, "notes.txt", "x\n");
	run_for(f, 4 * FILEWATCH_DEBOUNCE_MS);
	assert_true(f->timed_out);
	assert_int_equal(f->calls, 0);
	/* an editor's save: a new file renamed over */
	put(f->dir, ".a.yaml.swp", "two\n");
	snprintf(tmp, sizeof(tmp), "%s/.a.yaml.swp", f->dir);
	assert_int_equal(rename(tmp, a), 0);
	run_for(f, 10000);
	assert_int_equal(f->calls, 1);
	/* the watch set again, as after a reload: a write in place */
	assert_int_equal(filewatch_set(f->w, paths, 1, &err), 0);
	put(f->dir, "a.yaml", "three, longer\n");
	run_for(f, 10000);
	assert_int_equal(f->calls, 2);
	/* removed: a change too */
	assert_int_equal(unlink(a), 0);
	run_for(f, 10000);
	assert_int_equal(f->calls, 3);
}

static void
test_configmap_swap(void **state)
{
	struct fixture *f = *state;
	struct gm_err err = {{0}};
	char p[512], q[512], cfg[512];
	const char *paths[1] = { cfg };

	snprintf(p, sizeof(p), "%s/..2026_01", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	put(p, "gluemetad.yaml", "one\n");
	snprintf(p, sizeof(p), "%s/..data", f->dir);
	assert_int_equal(symlink("..2026_01", p), 0);
	snprintf(cfg, sizeof(cfg), "%s/gluemetad.yaml", f->dir);
	assert_int_equal(symlink("..data/gluemetad.yaml", cfg), 0);
	assert_int_equal(filewatch_set(f->w, paths, 1, &err), 0);
	/* the same content in a new folder is a new file all the same */
	snprintf(p, sizeof(p), "%s/..2026_02", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	put(p, "gluemetad.yaml", "two\n");
	snprintf(p, sizeof(p), "%s/..data_tmp", f->dir);
	assert_int_equal(symlink("..2026_02", p), 0);
	snprintf(q, sizeof(q), "%s/..data", f->dir);
	assert_int_equal(rename(p, q), 0);
	run_for(f, 10000);
	assert_int_equal(f->calls, 1);
}

static void
test_missing_folder_named(void **state)
{
	struct fixture *f = *state;
	struct gm_err err = {{0}};
	char a[512], b[512];
	const char *paths[2] = { a, b };

	snprintf(a, sizeof(a), "%s/gone/a.yaml", f->dir);
	snprintf(b, sizeof(b), "%s/b.yaml", f->dir);
	put(f->dir, "b.yaml", "b\n");
	assert_true(filewatch_set(f->w, paths, 2, &err) < 0);
	assert_non_null(strstr(err.msg, "cannot watch "));
	assert_non_null(strstr(err.msg, "/gone: "));
	/* the other folder is watched all the same */
	put(f->dir, "b.yaml", "b, changed\n");
	run_for(f, 10000);
	assert_int_equal(f->calls, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rename_in_place_and_unrelated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configmap_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_folder_named, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
