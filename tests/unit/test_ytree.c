/* ytree: YAML documents into nodes that know their line and column, scalars
 * typed as PyYAML's safe_load (YAML 1.1) types them, anchors and aliases
 * copied (and bounded), and every error naming name:line:column. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"
#include "ytree.h"

static struct ynode *
load(const char *text)
{
	struct gm_err err = {{0}};
	struct ynode *root = NULL;

	if (ytree_load_string("t.yaml", text, strlen(text), &root, &err) < 0)
		fail_msg("'%s' did not load: %s", text, err.msg);
	return root;
}

/* Loading text fails with r and a message starting with want. */
static void
expect_error(const char *text, int r, const char *want)
{
	struct gm_err err = {{0}};
	struct ynode *root = NULL;
	int got = ytree_load_string("t.yaml", text, strlen(text), &root, &err);

	if (got != r || strncmp(err.msg, want, strlen(want)) != 0)
		fail_msg("'%s': %d '%s', want %d '%s...'", text, got, err.msg, r, want);
	assert_null(root);
}

static void
test_scalar_types(void **state)
{
	static const struct {
		const char *text;
		enum yscalar type;
	} t[] = {
		{ "v:", YS_NULL }, { "v: ~", YS_NULL }, { "v: null", YS_NULL },
		{ "v: Null", YS_NULL }, { "v: NULL", YS_NULL }, { "v: nULL", YS_STR },
		{ "v: yes", YS_BOOL }, { "v: No", YS_BOOL }, { "v: ON", YS_BOOL },
		{ "v: off", YS_BOOL }, { "v: True", YS_BOOL }, { "v: FALSE", YS_BOOL },
		{ "v: tRUE", YS_STR }, { "v: y", YS_STR },      /* PyYAML: y is a string */
		{ "v: 0", YS_INT }, { "v: -17", YS_INT }, { "v: +3", YS_INT },
		{ "v: 1_000", YS_INT }, { "v: 0x1F", YS_INT }, { "v: 0b101", YS_INT },
		{ "v: 017", YS_INT },                           /* octal in YAML 1.1 */
		{ "v: 08", YS_STR },                            /* neither octal nor decimal */
		{ "v: 1.5", YS_FLOAT }, { "v: .5", YS_FLOAT }, { "v: -1.0e+3", YS_FLOAT },
		{ "v: .inf", YS_FLOAT }, { "v: .NaN", YS_FLOAT },
		{ "v: 1e3", YS_STR }, { "v: 1.0e3", YS_STR },   /* 1.1 wants the dot and a sign */
		{ "v: \"true\"", YS_STR }, { "v: '12'", YS_STR }, { "v: !!str 12", YS_STR },
		{ "v: \"\"", YS_STR },                          /* quoted empty is not null */
		{ "v: |\n  12\n", YS_STR },                     /* block scalar */
		{ "v: etl_daily", YS_STR },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ynode *root = load(t[i].text);
		const struct ynode *v = ytree_get(root, "v");

		assert_non_null(v);
		if (ytree_scalar_type(v) != t[i].type)
			fail_msg("'%s': type %d, want %d", t[i].text, ytree_scalar_type(v), t[i].type);
		ytree_free(root);
	}
}

static void
test_bools_and_kind_names(void **state)
{
	struct ynode *root = load("a: yes\nb: No\nc: on\nd: OFF\ne: True\nf: false\n"
	                          "g: [1]\nh: {x: 1}\ni: 1.5\nj: ~\nk: 7\nl: s\n");

	(void)state;
	assert_true(ytree_bool(ytree_get(root, "a")));
	assert_false(ytree_bool(ytree_get(root, "b")));
	assert_true(ytree_bool(ytree_get(root, "c")));
	assert_false(ytree_bool(ytree_get(root, "d")));
	assert_true(ytree_bool(ytree_get(root, "e")));
	assert_false(ytree_bool(ytree_get(root, "f")));
	assert_string_equal(ytree_kind_name(ytree_get(root, "g")), "a list");
	assert_string_equal(ytree_kind_name(ytree_get(root, "h")), "a mapping");
	assert_string_equal(ytree_kind_name(ytree_get(root, "i")), "a number");
	assert_string_equal(ytree_kind_name(ytree_get(root, "j")), "null");
	assert_string_equal(ytree_kind_name(ytree_get(root, "k")), "an integer");
	assert_string_equal(ytree_kind_name(ytree_get(root, "a")), "a boolean");
	assert_string_equal(ytree_kind_name(ytree_get(root, "l")), "a string");
	ytree_free(root);
}

static void
test_structure_and_positions(void **state)
{
	struct ynode *root = load("# comment\n"
	                          "source:\n"
	                          "  type: gluepipeline\n"
	                          "  list:\n"
	                          "    - a\n"
	                          "    -   b\n"
	                          "flow: {x: 1, y: [2, 3]}\n");
	const struct ynode *src, *list, *flow;

	(void)state;
	assert_int_equal(root->kind, YNODE_MAP);
	assert_int_equal(root->n, 2);
	assert_string_equal(root->keys[0]->str, "source");      /* file order kept */
	assert_string_equal(root->keys[1]->str, "flow");
	assert_int_equal(root->keys[0]->line, 2);
	assert_int_equal(root->keys[0]->col, 1);
	src = ytree_get(root, "source");
	assert_int_equal(ytree_get(src, "type")->line, 3);
	assert_int_equal(ytree_get(src, "type")->col, 9);
	assert_string_equal(ytree_get(src, "type")->str, "gluepipeline");
	list = ytree_get(src, "list");
	assert_int_equal(list->kind, YNODE_SEQ);
	assert_int_equal(list->n, 2);
	assert_null(list->keys);
	assert_string_equal(list->items[1]->str, "b");
	assert_int_equal(list->items[1]->line, 6);
	assert_int_equal(list->items[1]->col, 9);
	flow = ytree_get(root, "flow");
	assert_int_equal(ytree_get(flow, "y")->items[1]->col, 21);
	assert_null(ytree_get(root, "missing"));
	assert_null(ytree_get(list, "a"));              /* not a mapping */
	assert_null(ytree_get(NULL, "a"));
	ytree_free(root);
	assert_null(ytree_free(NULL));
}

static void
test_anchors_and_aliases(void **state)
{
	struct ynode *root = load("base: &b\n  region: eu-west-1\n  tags: [x, y]\n"
	                          "name: &n etl\n"
	                          "copy: *b\n"
	                          "again: *n\n"
	                          "redefined: &n other\n"
	                          "latest: *n\n");
	const struct ynode *copy, *base;

	(void)state;
	base = ytree_get(root, "base");
	copy = ytree_get(root, "copy");
	assert_non_null(copy);
	assert_ptr_not_equal(copy, base);       /* a copy: each node has one owner */
	assert_int_equal(copy->kind, YNODE_MAP);
	assert_string_equal(ytree_get(copy, "region")->str, "eu-west-1");
	assert_string_equal(ytree_get(copy, "tags")->items[1]->str, "y");
	assert_string_equal(ytree_get(root, "again")->str, "etl");
	assert_string_equal(ytree_get(root, "latest")->str, "other");   /* the newest anchor */
	ytree_free(root);
	expect_error("a: *nope\n", -EINVAL, "t.yaml:1:4: unknown alias 'nope'");
}

static void
test_alias_bomb_is_bounded(void **state)
{
	/* ten levels of ten aliases each: 10^9 nodes if copied without a bound */
	struct buf b = {0};
	int i, j;

	(void)state;
	assert_int_equal(buf_puts(&b, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"), 0);
	for (i = 1; i < 10; i++) {
		assert_int_equal(buf_printf(&b, "l%d: &l%d [", i, i), 0);
		for (j = 0; j < 10; j++)
			assert_int_equal(buf_printf(&b, "%s*l%d", j ? ", " : "", i - 1), 0);
		assert_int_equal(buf_puts(&b, "]\n"), 0);
	}
	expect_error(b.data, -EINVAL, "t.yaml:");
	{
		struct gm_err err = {{0}};
		struct ynode *root = NULL;

		assert_int_equal(ytree_load_string("t.yaml", b.data, b.len, &root, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "more than 100000 nodes"));
	}
	buf_clear(&b);
}

static void
test_errors_name_the_place(void **state)
{
	(void)state;
	expect_error("a: 1\nb: 2\na: 3\n", -EINVAL, "t.yaml:3:1: a: duplicate key (first at line 1)");
	expect_error("x:\n  k: 1\n  k: 2\n", -EINVAL, "t.yaml:3:3: k: duplicate key (first at line 2)");
	expect_error("? [a, b]\n: 1\n", -EINVAL,
	             "t.yaml:1:3: only plain scalar mapping keys are supported");
	expect_error("a: 1\n---\nb: 2\n", -EINVAL, "t.yaml:2:1: more than one YAML document");
	expect_error("", -EINVAL, "t.yaml:1:1: the document is empty");
	expect_error("# only a comment\n", -EINVAL, "t.yaml:1:1: the document is empty");
	expect_error("a: [1, 2\n", -EINVAL, "t.yaml:2:1: ");
	expect_error("a: b: c\n", -EINVAL, "t.yaml:1:5: mapping values are not allowed");
	expect_error("a:\n\tb: 1\n", -EINVAL, "t.yaml:2:1: ");     /* a tab indents */
}

static void
test_files(void **state)
{
	const char *tmpdir = getenv("TMPDIR");
	char dir[256], path[300], missing[300];
	struct gm_err err = {{0}};
	struct ynode *root = NULL;
	FILE *f;
	size_t i;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/gm-ytree-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	snprintf(missing, sizeof(missing), "%s/none.yaml", dir);
	assert_int_equal(ytree_load_file(missing, &root, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "none.yaml: No such file or directory"));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("a: 1\n", f);
	fclose(f);
	assert_int_equal(ytree_load_file(path, &root, &err), 0);
	assert_string_equal(ytree_get(root, "a")->str, "1");
	root = ytree_free(root);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < YTREE_MAX_FILE / 16 + 1; i++)
		fputs("# 13 more bytes\n", f);
	fclose(f);
	assert_int_equal(ytree_load_file(path, &root, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "big.yaml: file larger than 1 MiB"));
	assert_null(root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalar_types),
		cmocka_unit_test(test_bools_and_kind_names),
		cmocka_unit_test(test_structure_and_positions),
		cmocka_unit_test(test_anchors_and_aliases),
		cmocka_unit_test(test_alias_bomb_is_bounded),
		cmocka_unit_test(test_errors_name_the_place),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests_name("ytree", tests, NULL, NULL);
}
