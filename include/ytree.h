/* ytree — a YAML document loaded by libyaml into a tree of nodes that
 * remember their line and column, so later checks can name them, and the
 * list of problems those checks report (cfg.c, wf.c). */
#ifndef GLUEMETAD_YTREE_H
#define GLUEMETAD_YTREE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum ynode_kind { YNODE_SCALAR, YNODE_MAP, YNODE_SEQ };

/* How a scalar resolves under YAML 1.1 core rules (what PyYAML's
 * safe_load, and so `metadata ingest`, sees). */
enum yscalar { YS_NULL, YS_BOOL, YS_INT, YS_FLOAT, YS_STR };

struct ynode {
	enum ynode_kind kind;
	unsigned line, col;         /* 1-based */
	char *str;                  /* scalar text (NUL-terminated) */
	size_t len;
	int quoted;                 /* scalar was quoted or a block scalar */
	size_t n;                   /* entries of a map or items of a seq */
	struct ynode **keys;        /* map: scalar key nodes */
	struct ynode **items;       /* map: values; seq: items */
};

#define YTREE_MAX_FILE  ((size_t)1 << 20)
#define YTREE_MAX_NODES 100000

/* Loads the single document of a file.  On error returns -errno or
 * -EINVAL and fills err with "path:line:col: problem". */
int ytree_load_file(const char *path, struct ynode **ret, struct gm_err *err);
int ytree_load_string(const char *name, const char *text, size_t len,
                      struct ynode **ret, struct gm_err *err);
struct ynode *ytree_free(struct ynode *n);

/* Map lookup; NULL when n is not a map or has no such key. */
const struct ynode *ytree_get(const struct ynode *n, const char *key);
enum yscalar ytree_scalar_type(const struct ynode *n);
/* Boolean value of a YS_BOOL scalar. */
int ytree_bool(const struct ynode *n);
const char *ytree_kind_name(const struct ynode *n);

/* The problems a check finds in a document of file, one line each, the
 * first max of them written out; n counts them all. */
struct yproblems {
	const char *file;
	int max;
	int n;
	struct buf out;             /* buf_clear() it when done */
};

/* Adds "file:line:col: where: message" at node at (line 1, column 1 when
 * NULL); message is cut at 1023 bytes. */
void ytree_problem(struct yproblems *p, const struct ynode *at, const char *where,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ytree_vproblem(struct yproblems *p, const struct ynode *at, const char *where,
                    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* 0 when there are none; else -EINVAL and err holds them, followed by
 * "file: N more problems not shown" when there were more than max. */
int ytree_problems_err(struct yproblems *p, struct gm_err *err);

#endif
