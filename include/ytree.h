/* ytree — a YAML document loaded by libyaml into a tree of nodes that
 * remember their line and column, so later checks can name them. */
#ifndef GLUEMETAD_YTREE_H
#define GLUEMETAD_YTREE_H

#include <stddef.h>
#include <stdint.h>

struct gm_err;

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

#endif
