/* ytree — libyaml events into a node tree; see include/ytree.h. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "util.h"
#include "ytree.h"

struct anchor {
	char *name;
	struct ynode *node;
};

struct loader {
	yaml_parser_t parser;
	const char *name;
	struct gm_err *err;
	size_t nodes;
	struct anchor *anchors;
	size_t n_anchors;
};

static struct ynode *
node_new(struct loader *l, enum ynode_kind kind, const yaml_mark_t *m)
{
	struct ynode *n;

	if (++l->nodes > YTREE_MAX_NODES) {
		gm_err_set(l->err, "%s:%zu:%zu: document has more than %d nodes",
		           l->name, m->line + 1, m->column + 1, YTREE_MAX_NODES);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		gm_err_set(l->err, "%s: out of memory", l->name);
		return NULL;
	}
	n->kind = kind;
	n->line = (unsigned)m->line + 1;
	n->col = (unsigned)m->column + 1;
	return n;
}

struct ynode *
ytree_free(struct ynode *n)
{
	size_t i;

	if (!n)
		return NULL;
	for (i = 0; i < n->n; i++) {
		if (n->keys)
			ytree_free(n->keys[i]);
		if (n->items)
			ytree_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	if (n->str) {
		/* workflow files hold secrets */
		memset(n->str, 0, n->len);
		free(n->str);
	}
	free(n);
	return NULL;
}

static struct ynode *
node_clone(struct loader *l, const struct ynode *src)
{
	yaml_mark_t m = { .line = src->line - 1, .column = src->col - 1 };
	struct ynode *n = node_new(l, src->kind, &m);
	size_t i;

	if (!n)
		return NULL;
	n->quoted = src->quoted;
	if (src->str) {
		n->str = malloc(src->len + 1);
		if (!n->str)
			goto fail;
		memcpy(n->str, src->str, src->len + 1);
		n->len = src->len;
	}
	if (src->n) {
		n->items = calloc(src->n, sizeof(*n->items));
		if (!n->items)
			goto fail;
		if (src->keys) {
			n->keys = calloc(src->n, sizeof(*n->keys));
			if (!n->keys)
				goto fail;
		}
		for (i = 0; i < src->n; i++) {
			n->n = i + 1;
			if (src->keys && !(n->keys[i] = node_clone(l, src->keys[i])))
				goto fail;
			if (!(n->items[i] = node_clone(l, src->items[i])))
				goto fail;
		}
	}
	return n;
fail:
	if (!l->err->msg[0])
		gm_err_set(l->err, "%s: out of memory", l->name);
	ytree_free(n);
	return NULL;
}

static int
next_event(struct loader *l, yaml_event_t *ev)
{
	if (yaml_parser_parse(&l->parser, ev))
		return 0;
	gm_err_set(l->err, "%s:%zu:%zu: %s%s%s", l->name,
	           l->parser.problem_mark.line + 1, l->parser.problem_mark.column + 1,
	           l->parser.problem ? l->parser.problem : "invalid YAML",
	           l->parser.context ? " " : "", l->parser.context ? l->parser.context : "");
	return -EINVAL;
}

static int
add_anchor(struct loader *l, const yaml_char_t *name, struct ynode *n)
{
	struct anchor *a;

	if (!name)
		return 0;
	a = realloc(l->anchors, (l->n_anchors + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	l->anchors = a;
	a[l->n_anchors].name = strdup((const char *)name);
	if (!a[l->n_anchors].name)
		return -ENOMEM;
	a[l->n_anchors++].node = n;
	return 0;
}

static int
push(struct ynode *parent, struct ynode *key, struct ynode *val)
{
	struct ynode **items = realloc(parent->items, (parent->n + 1) * sizeof(*items));

	if (!items)
		return -ENOMEM;
	parent->items = items;
	if (parent->kind == YNODE_MAP) {
		struct ynode **keys = realloc(parent->keys, (parent->n + 1) * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		parent->keys = keys;
		keys[parent->n] = key;
	}
	items[parent->n++] = val;
	return 0;
}

static int parse_node(struct loader *l, yaml_event_t *ev, struct ynode **ret);

/* Parses children of a collection until its end event. */
static int
parse_children(struct loader *l, struct ynode *parent)
{
	yaml_event_t ev;
	struct ynode *key = NULL, *val = NULL;
	int r;

	for (;;) {
		if ((r = next_event(l, &ev)) < 0)
			goto fail;      /* a key may be waiting for its value */
		if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		r = parse_node(l, &ev, parent->kind == YNODE_MAP && !key ? &key : &val);
		yaml_event_delete(&ev);
		if (r < 0)
			goto fail;
		if (parent->kind == YNODE_MAP && !val)
			continue;
		if (parent->kind == YNODE_MAP) {
			size_t i;

			if (key->kind != YNODE_SCALAR) {
				gm_err_set(l->err, "%s:%u:%u: only plain scalar mapping keys are supported",
				           l->name, key->line, key->col);
				r = -EINVAL;
				goto fail;
			}
			for (i = 0; i < parent->n; i++)
				if (strcmp(parent->keys[i]->str, key->str) == 0) {
					gm_err_set(l->err, "%s:%u:%u: %s: duplicate key (first at line %u)",
					           l->name, key->line, key->col, key->str, parent->keys[i]->line);
					r = -EINVAL;
					goto fail;
				}
		}
		if ((r = push(parent, key, val)) < 0) {
			gm_err_set(l->err, "%s: out of memory", l->name);
			goto fail;
		}
		key = val = NULL;
	}
fail:
	ytree_free(key);
	ytree_free(val);
	return r;
}

static int
parse_node(struct loader *l, yaml_event_t *ev, struct ynode **ret)
{
	struct ynode *n = NULL;
	const yaml_char_t *anchor = NULL;
	size_t i;
	int r;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		for (i = l->n_anchors; i > 0; i--)
			if (strcmp(l->anchors[i - 1].name, (const char *)ev->data.alias.anchor) == 0)
				break;
		if (i == 0) {
			gm_err_set(l->err, "%s:%zu:%zu: unknown alias '%s'", l->name,
			           ev->start_mark.line + 1, ev->start_mark.column + 1,
			           (const char *)ev->data.alias.anchor);
			return -EINVAL;
		}
		n = node_clone(l, l->anchors[i - 1].node);
		if (!n)
			return -EINVAL;
		*ret = n;
		return 0;
	case YAML_SCALAR_EVENT:
		if (!(n = node_new(l, YNODE_SCALAR, &ev->start_mark)))
			return -EINVAL;
		n->len = ev->data.scalar.length;
		n->str = malloc(n->len + 1);
		if (!n->str) {
			ytree_free(n);
			return -ENOMEM;
		}
		memcpy(n->str, ev->data.scalar.value, n->len);
		n->str[n->len] = '\0';
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		if (ev->data.scalar.tag && strcmp((const char *)ev->data.scalar.tag, "tag:yaml.org,2002:str") == 0)
			n->quoted = 1;
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n = node_new(l, ev->type == YAML_MAPPING_START_EVENT ? YNODE_MAP : YNODE_SEQ,
		             &ev->start_mark);
		if (!n)
			return -EINVAL;
		anchor = ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.anchor
		                                              : ev->data.sequence_start.anchor;
		if ((r = parse_children(l, n)) < 0) {
			ytree_free(n);
			return r;
		}
		break;
	default:
		gm_err_set(l->err, "%s:%zu:%zu: unexpected YAML event", l->name,
		           ev->start_mark.line + 1, ev->start_mark.column + 1);
		return -EINVAL;
	}
	if ((r = add_anchor(l, anchor, n)) < 0) {
		ytree_free(n);
		return r;
	}
	*ret = n;
	return 0;
}

int
ytree_load_string(const char *name, const char *text, size_t len, struct ynode **ret,
                  struct gm_err *err)
{
	struct loader l = { .name = name, .err = err };
	yaml_event_t ev;
	struct ynode *root = NULL;
	int r, done = 0;
	size_t i;

	if (!yaml_parser_initialize(&l.parser)) {
		gm_err_set(err, "%s: out of memory", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)text, len);
	while (!done) {
		if ((r = next_event(&l, &ev)) < 0)
			goto out;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (root) {
				gm_err_set(err, "%s:%zu:%zu: more than one YAML document", name,
				           ev.start_mark.line + 1, ev.start_mark.column + 1);
				r = -EINVAL;
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			r = parse_node(&l, &ev, &root);
			break;
		}
		yaml_event_delete(&ev);
		if (r < 0)
			goto out;
	}
	if (!root) {
		gm_err_set(err, "%s:1:1: the document is empty", name);
		r = -EINVAL;
		goto out;
	}
	*ret = root;
	root = NULL;
	r = 0;
out:
	if (r == -ENOMEM && !err->msg[0])
		gm_err_set(err, "%s: out of memory", name);
	ytree_free(root);
	for (i = 0; i < l.n_anchors; i++)
		free(l.anchors[i].name);
	free(l.anchors);
	yaml_parser_delete(&l.parser);
	return r;
}

int
ytree_load_file(const char *path, struct ynode **ret, struct gm_err *err)
{
	struct buf b = { .max = YTREE_MAX_FILE };
	char chunk[8192];
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		gm_err_set(err, "%s: %s", path, strerror(errno));
		return r;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			gm_err_set(err, "%s: %s", path, strerror(errno));
			goto out;
		}
		if ((r = buf_append(&b, chunk, (size_t)n)) < 0) {
			gm_err_set(err, "%s: %s", path, r == -EFBIG ? "file larger than 1 MiB"
			                                             : "out of memory");
			goto out;
		}
	}
	r = ytree_load_string(path, b.data ? b.data : "", b.len, ret, err);
out:
	close(fd);
	buf_wipe(&b);
	return r;
}

const struct ynode *
ytree_get(const struct ynode *n, const char *key)
{
	size_t i;

	if (!n || n->kind != YNODE_MAP)
		return NULL;
	for (i = 0; i < n->n; i++)
		if (strcmp(n->keys[i]->str, key) == 0)
			return n->items[i];
	return NULL;
}

static const char *const bools[] = {
	"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
	"on", "On", "ON", "off", "Off", "OFF", NULL
};

enum yscalar
ytree_scalar_type(const struct ynode *n)
{
	const char *s = n->str;
	size_t i;

	if (n->quoted)
		return YS_STR;
	if (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	    strcmp(s, "NULL") == 0)
		return YS_NULL;
	for (i = 0; bools[i]; i++)
		if (strcmp(s, bools[i]) == 0)
			return YS_BOOL;
	if (re_match_literal("^[-+]?(0|[1-9][0-9_]*|0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]+)$", s))
		return YS_INT;
	if (re_match_literal("^[-+]?(([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?|\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$", s))
		return YS_FLOAT;
	return YS_STR;
}

int
ytree_bool(const struct ynode *n)
{
	const char c = n->str[0];

	return c == 'y' || c == 'Y' || c == 't' || c == 'T' || strcasecmp(n->str, "on") == 0;
}

const char *
ytree_kind_name(const struct ynode *n)
{
	if (n->kind == YNODE_MAP)
		return "a mapping";
	if (n->kind == YNODE_SEQ)
		return "a list";
	switch (ytree_scalar_type(n)) {
	case YS_NULL: return "null";
	case YS_BOOL: return "a boolean";
	case YS_INT: return "an integer";
	case YS_FLOAT: return "a number";
	default: return "a string";
	}
}

void
ytree_vproblem(struct yproblems *p, const struct ynode *at, const char *where, const char *fmt,
               va_list ap)
{
	char msg[1024];

	if (++p->n > p->max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	(void)buf_printf(&p->out, "%s%s:%u:%u: %s: %s", p->out.len ? "\n" : "", p->file,
	                 at ? at->line : 1, at ? at->col : 1, where, msg);
}

void
ytree_problem(struct yproblems *p, const struct ynode *at, const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ytree_vproblem(p, at, where, fmt, ap);
	va_end(ap);
}

int
ytree_problems_err(struct yproblems *p, struct gm_err *err)
{
	if (!p->n)
		return 0;
	if (p->n > p->max)
		(void)buf_printf(&p->out, "\n%s: %d more problems not shown", p->file, p->n - p->max);
	gm_err_set(err, "%s", p->out.data ? p->out.data : "invalid configuration");
	return -EINVAL;
}
