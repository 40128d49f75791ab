/* lineage — the script scanner: lineage_from_script() of include/lineage.h,
 * refs from the read and write calls of Glue and Spark scripts.  The refs
 * list, table names and JDBC URLs are in src/lineage.c.
 *
 * This follows script_parser.py of OpenMetadata's Glue pipeline connector:
 * the same script calls.  Where we differ, on purpose:
 *  - Scripts are tokenized instead of matched with regular expressions, so
 *    comments ("#", "//" lines, block comments) and code inside strings are
 *    ignored, arguments may be keywords or positional, calls may span lines
 *    and Spark reader/writer chains may hold any number of .option(),
 *    .mode(), .partitionBy()... calls before the final one.  Only plain,
 *    non-empty string literals count: variables, f-strings and Scala
 *    s-strings that interpolate, and strings with escapes other than \\ \'
 *    \" \n \t give no ref.  S3 paths of from_options() come from its
 *    "paths"/"path" option only, not from any s3:// string in the call.
 *  - Also recognised: the one-word spellings create_dynamic_frame_from_*
 *    and write_dynamic_frame_from_*, create_data_frame.from_catalog/
 *    from_options, write_data_frame.from_catalog, connection type
 *    "sqlserver" when reading, "connectionName"/"url"/"database" in
 *    connection_options, Spark .format("jdbc") readers and writers whose
 *    url and dbtable come from .option()/.options(), a path given by
 *    .option("path", ...), and every path argument of a read or write (the
 *    connector takes the first).
 *  - Table names are split as src/lineage.c describes: "schema.table" for
 *    JDBC, and a Spark name drops its catalog part.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lineage.h"
#include "lineage_int.h"

#define SCRIPT_MAX      ((size_t)16 << 20)
#define CHAIN_MAX       64      /* calls followed after spark.read / df.write */

/* Scripts: a tokenizer for Python (and Scala) sources. */

enum tk { TK_IDENT, TK_STR, TK_DOT, TK_COMMA, TK_EQ, TK_COLON, TK_OPEN, TK_CLOSE, TK_OTHER };

#define STR_INTERP 0x01         /* f"{x}" / s"$x": not a literal */
#define STR_ESC    0x02         /* holds backslash escapes to decode */

struct tok {
	uint32_t off, len;      /* strings: the text between the quotes */
	uint32_t match;         /* TK_OPEN: index of its TK_CLOSE, or n when unclosed */
	uint8_t kind;
	uint8_t ch;             /* brackets: the character; strings: STR_* flags */
};

struct lex {
	const char *s;
	uint32_t len;
	struct tok *t;
	uint32_t n, cap;
};

static int
lex_push(struct lex *L, enum tk kind, size_t off, size_t len, uint8_t ch)
{
	if (L->n == L->cap) {
		uint32_t cap = L->cap ? L->cap * 2 : 1024;
		struct tok *t = realloc(L->t, (size_t)cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		L->t = t;
		L->cap = cap;
	}
	L->t[L->n++] = (struct tok){ (uint32_t)off, (uint32_t)len, 0, (uint8_t)kind, ch };
	return 0;
}

static int
is_ident(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c >= 0x80;
}

/* A string starting at the quote s[i].  Returns the offset after it; *ok is
 * 0 when it is unterminated. */
static size_t
lex_string(const struct lex *L, size_t i, size_t *c0, size_t *c1, int *ok)
{
	const char *s = L->s;
	size_t len = L->len, j;
	char q = s[i];

	*ok = 0;
	if (i + 2 < len && s[i + 1] == q && s[i + 2] == q) {
		for (j = *c0 = i + 3; j < len; j++) {
			if (s[j] == '\\')
				j++;
			else if (s[j] == q && j + 2 < len && s[j + 1] == q && s[j + 2] == q)
				break;
		}
		if (j >= len)
			return len;
		*c1 = j;
		*ok = 1;
		return j + 3;
	}
	for (j = *c0 = i + 1; j < len && s[j] != q; j++) {
		if (s[j] == '\n')
			return j;
		if (s[j] == '\\')
			j++;
	}
	if (j >= len)
		return len;
	*c1 = j;
	*ok = 1;
	return j + 1;
}

/* For an identifier right before a quote: -1 when it is no string prefix,
 * else the character that makes the string interpolate (0: none). */
static int
str_prefix(const char *p, size_t n)
{
	static const char prefixes[][4] = { "r", "u", "b", "f", "br", "rb", "fr", "rf", "s", "raw" };
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		if (strlen(prefixes[i]) == n && strncasecmp(prefixes[i], p, n) == 0)
			return memchr(p, 'f', n) || memchr(p, 'F', n) ? '{' : *p == 's' ? '$' : 0;
	return -1;
}

static int
lex_run(struct lex *L)
{
	const char *s = L->s, *e;
	size_t len = L->len, i = 0, j, q, c0 = 0, c1 = 0;
	int bol = 1, ok, interp;
	uint32_t top = UINT32_MAX, o;
	enum tk kind;
	uint8_t flags;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n') {
			bol = 1;
			i++;
			continue;
		}
		if (c <= ' ' || c == 0x7f || c == '\\') {
			i++;
			continue;
		}
		if (c == '#' || (c == '/' && i + 1 < len && s[i + 1] == '/' && bol)) {
			e = memchr(s + i, '\n', len - i);
			i = e ? (size_t)(e - s) : len;
			continue;
		}
		if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			e = memmem(s + i + 2, len - i - 2, "*/", 2);
			i = e ? (size_t)(e - s) + 2 : len;
			continue;
		}
		bol = 0;
		interp = 0;
		q = i;
		if (is_ident(c) && !(c >= '0' && c <= '9')) {
			for (j = i; j < len && is_ident((unsigned char)s[j]); j++)
				;
			if (j == len || (s[j] != '"' && s[j] != '\'') ||
			    (interp = str_prefix(s + i, j - i)) < 0) {
				if (lex_push(L, TK_IDENT, i, j - i, 0) < 0)
					return -ENOMEM;
				i = j;
				continue;
			}
			q = j;
		}
		if (s[q] == '"' || s[q] == '\'') {
			j = lex_string(L, q, &c0, &c1, &ok);
			flags = 0;
			if (ok && interp && memchr(s + c0, interp, c1 - c0))
				flags |= STR_INTERP;
			if (ok && memchr(s + c0, '\\', c1 - c0))
				flags |= STR_ESC;
			if ((ok ? lex_push(L, TK_STR, c0, c1 - c0, flags) :
			          lex_push(L, TK_OTHER, i, j - i, 0)) < 0)
				return -ENOMEM;
			i = j;
			continue;
		}
		if ((c >= '0' && c <= '9') || (c == '.' && i + 1 < len && s[i + 1] >= '0' &&
		                               s[i + 1] <= '9')) {
			for (j = i + 1; j < len && (is_ident((unsigned char)s[j]) || s[j] == '.'); j++)
				;
			if (lex_push(L, TK_OTHER, i, j - i, 0) < 0)
				return -ENOMEM;
			i = j;
			continue;
		}
		j = i + 1;
		switch (c) {
		case '.': kind = TK_DOT; break;
		case ',': kind = TK_COMMA; break;
		case '(': case '[': case '{': kind = TK_OPEN; break;
		case ')': case ']': case '}': kind = TK_CLOSE; break;
		case ':': kind = TK_COLON; break;
		case '=': kind = TK_EQ; break;
		default: kind = TK_OTHER; break;
		}
		/* ==, :=, <=, =>, += ... are operators, not '=' or ':' */
		if ((kind == TK_EQ || kind == TK_COLON || kind == TK_OTHER) && j < len &&
		    (s[j] == '=' || (c == '=' && s[j] == '>'))) {
			kind = TK_OTHER;
			j++;
		}
		if (lex_push(L, kind, i, j - i, c) < 0)
			return -ENOMEM;
		/* Brackets pair up through a stack threaded in the match field;
		 * any closer closes the innermost opener. */
		if (kind == TK_OPEN) {
			L->t[L->n - 1].match = top;
			top = L->n - 1;
		} else if (kind == TK_CLOSE && top != UINT32_MAX) {
			o = top;
			top = L->t[o].match;
			L->t[o].match = L->n - 1;
		}
		i = j;
	}
	while (top != UINT32_MAX) {
		o = top;
		top = L->t[o].match;
		L->t[o].match = L->n;
	}
	return 0;
}

/* Scripts: reading calls from the tokens. */

struct span {
	uint32_t a, b;          /* tokens [a, b) */
};

static int
tok_is(const struct lex *L, uint32_t i, enum tk kind)
{
	return i < L->n && L->t[i].kind == kind;
}

static int
tok_open(const struct lex *L, uint32_t i, char ch)
{
	return tok_is(L, i, TK_OPEN) && L->t[i].ch == (uint8_t)ch;
}

static int
tok_eq(const struct lex *L, uint32_t i, const char *text)
{
	size_t n = strlen(text);

	return tok_is(L, i, TK_IDENT) && L->t[i].len == n &&
	       memcmp(L->s + L->t[i].off, text, n) == 0;
}

/* The span of the next item of a bracket ending at end, from *pos. */
static int
next_item(const struct lex *L, uint32_t *pos, uint32_t end, struct span *item)
{
	uint32_t j = *pos;

	if (j >= end)
		return 0;
	item->a = j;
	while (j < end && L->t[j].kind != TK_COMMA)
		j = L->t[j].kind == TK_OPEN ? L->t[j].match + (L->t[j].match < end) : j + 1;
	item->b = j < end ? j : end;
	*pos = j + 1;
	return 1;
}

/* The argument kw=..., or else the positional argument pos (-1: none), of
 * the call whose '(' is at o. */
static int
call_arg(const struct lex *L, uint32_t o, int pos, const char *kw, struct span *ret)
{
	uint32_t p = o + 1, end = L->t[o].match;
	struct span it;
	int k = 0;

	while (next_item(L, &p, end, &it)) {
		if (it.a == it.b)
			continue;
		if (tok_is(L, it.a, TK_IDENT) && tok_is(L, it.a + 1, TK_EQ) && it.a + 1 < it.b) {
			if (kw && tok_eq(L, it.a, kw) && it.a + 2 < it.b) {
				ret->a = it.a + 2;
				ret->b = it.b;
				return 1;
			}
			continue;
		}
		if (pos >= 0 && k++ == pos) {
			*ret = it;
			return 1;
		}
	}
	return 0;
}

static int
call_nargs(const struct lex *L, uint32_t o, int max)
{
	uint32_t p = o + 1;
	struct span it;
	int k = 0;

	while (k <= max && next_item(L, &p, L->t[o].match, &it))
		k += it.a < it.b;
	return k;
}

/* Whether the bracket opened at sp.a spans exactly sp. */
static int
span_bracket(const struct lex *L, struct span sp, char ch)
{
	return sp.a < sp.b && tok_open(L, sp.a, ch) &&
	       (L->t[sp.a].match + 1 == sp.b || (L->t[sp.a].match == L->n && sp.b == L->n));
}

/* 1 and a copy of the string when sp is one string literal, 0 when it is
 * something else (or holds a NUL, or an escape other than \\ \' \" \n \t
 * and line continuations: no table or path is written with those), -ENOMEM.
 * An empty string names nothing, as an empty member of a Visual-ETL node:
 * from_catalog(frame, "db", "") gives no ref, and "database": "" in
 * connection_options leaves the database to the JDBC URL. */
static int
span_str(const struct lex *L, struct span sp, char **ret)
{
	const struct tok *t;
	const char *p, *end;
	char *d;

	*ret = NULL;
	if (sp.b != sp.a + 1 || !tok_is(L, sp.a, TK_STR))
		return 0;
	t = &L->t[sp.a];
	p = L->s + t->off;
	end = p + t->len;
	if ((t->ch & STR_INTERP) || memchr(p, '\0', t->len))
		return 0;
	if (!(d = *ret = malloc((size_t)t->len + 1)))
		return -ENOMEM;
	while (p < end) {
		if (*p != '\\' || !(t->ch & STR_ESC) || p + 1 == end) {
			*d++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case '\n': break;
		case 'n': *d++ = '\n'; break;
		case 't': *d++ = '\t'; break;
		case '\\': case '\'': case '"': *d++ = *p; break;
		default:
			free(*ret);
			*ret = NULL;
			return 0;
		}
		p++;
	}
	if (d == *ret) {
		free(*ret);
		*ret = NULL;
		return 0;
	}
	*d = '\0';
	return 1;
}

/* The value of "key" in the dict literal (or dict(...) call) sp. */
static int
dict_get(const struct lex *L, struct span sp, const char *key, struct span *ret)
{
	uint32_t p = sp.a + 1;
	size_t n = strlen(key);
	struct span it;

	if (sp.b - sp.a >= 2 && tok_eq(L, sp.a, "dict") &&
	    span_bracket(L, (struct span){ sp.a + 1, sp.b }, '('))
		return call_arg(L, sp.a + 1, -1, key, ret);
	if (!span_bracket(L, sp, '{'))
		return 0;
	while (next_item(L, &p, L->t[sp.a].match, &it)) {
		const struct tok *k = &L->t[it.a];

		if (it.b - it.a >= 3 && k->kind == TK_STR && tok_is(L, it.a + 1, TK_COLON) &&
		    k->len == n && memcmp(L->s + k->off, key, n) == 0) {
			ret->a = it.a + 2;
			ret->b = it.b;
			return 1;
		}
	}
	return 0;
}

static int
arg_str(const struct lex *L, uint32_t o, int pos, const char *kw, char **ret)
{
	struct span sp;

	*ret = NULL;
	return call_arg(L, o, pos, kw, &sp) ? span_str(L, sp, ret) : 0;
}

static int
dict_str(const struct lex *L, struct span dict, const char *key, char **ret)
{
	struct span sp;

	*ret = NULL;
	return dict_get(L, dict, key, &sp) ? span_str(L, sp, ret) : 0;
}

static int
is_s3_path(const char *p)
{
	size_t n = strncmp(p, "s3://", 5) == 0 ? 5 :
	           strncmp(p, "s3a://", 6) == 0 || strncmp(p, "s3n://", 6) == 0 ? 6 : 0;

	return n && p[n] && p[n] != '/';
}

/* S3 refs from one string, or from each string of a list or tuple. */
static int
add_s3_span(struct lineage__seen *s, const struct lex *L, struct span sp, int is_target)
{
	uint32_t p = sp.a + 1;
	struct span it;
	char *path;
	int r = 0;

	if (!span_bracket(L, sp, '[') && !span_bracket(L, sp, '(')) {
		if ((r = span_str(L, sp, &path)) > 0)
			r = !is_s3_path(path) ? 0 :
			    lineage__add_ref(s, LINEAGE_S3, is_target, NULL, NULL, NULL, NULL,
			                     path);
		free(path);
		return r < 0 ? r : 0;
	}
	while (r >= 0 && next_item(L, &p, L->t[sp.a].match, &it))
		if (it.b == it.a + 1)
			r = add_s3_span(s, L, it, is_target);
	return r;
}

enum glue_op { G_READ_CATALOG, G_READ_OPTIONS, G_WRITE_CATALOG, G_WRITE_OPTIONS, G_JDBC_CONF,
               G_PURGE };

static const struct {
	const char *obj, *method, *alias;
	enum glue_op op;
} glue_calls[] = {
	{ "create_dynamic_frame", "from_catalog", "create_dynamic_frame_from_catalog", G_READ_CATALOG },
	{ "create_data_frame", "from_catalog", "create_data_frame_from_catalog", G_READ_CATALOG },
	{ "create_dynamic_frame", "from_options", "create_dynamic_frame_from_options", G_READ_OPTIONS },
	{ "create_data_frame", "from_options", "create_data_frame_from_options", G_READ_OPTIONS },
	{ "write_dynamic_frame", "from_catalog", "write_dynamic_frame_from_catalog", G_WRITE_CATALOG },
	{ "write_data_frame", "from_catalog", "write_data_frame_from_catalog", G_WRITE_CATALOG },
	{ "write_dynamic_frame", "from_options", "write_dynamic_frame_from_options", G_WRITE_OPTIONS },
	{ "write_dynamic_frame", "from_jdbc_conf", "write_dynamic_frame_from_jdbc_conf", G_JDBC_CONF },
	{ NULL, "purge_table", NULL, G_PURGE },
};

/* Connection types whose reads the connector takes as JDBC tables. */
static int
jdbc_type(const char *t)
{
	static const char *const types[] = { "jdbc", "mysql", "postgresql", "oracle", "redshift",
	                                     "sqlserver" };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (strcasecmp(t, types[i]) == 0)
			return 1;
	return 0;
}

/* A GlueContext call whose '(' is at o.  Positional arguments follow the
 * awsglue signatures: write calls take the frame first. */
static int
glue_call(struct lineage__seen *s, const struct lex *L, uint32_t o, enum glue_op op)
{
	int w = op == G_WRITE_CATALOG || op == G_WRITE_OPTIONS || op == G_JDBC_CONF;
	char *a = NULL, *b = NULL, *conn = NULL, *url = NULL, *db = NULL;
	struct span opts = { 0, 0 };
	int r = 0;

	switch (op) {
	case G_READ_CATALOG:
	case G_WRITE_CATALOG:
	case G_PURGE:
		if ((r = arg_str(L, o, w, "database", &a)) > 0 &&
		    (r = arg_str(L, o, w + 1, "table_name", &b)) > 0)
			r = lineage__add_ref(s, LINEAGE_TABLE, op != G_READ_CATALOG, a, NULL, b,
			                     NULL, NULL);
		break;
	case G_READ_OPTIONS:
	case G_WRITE_OPTIONS:
		if ((r = arg_str(L, o, w, "connection_type", &a)) <= 0)
			break;
		(void)call_arg(L, o, w + 1, "connection_options", &opts);
		if (strcasecmp(a, "s3") == 0) {
			struct span paths;

			r = 0;
			if (dict_get(L, opts, w ? "path" : "paths", &paths) ||
			    dict_get(L, opts, w ? "paths" : "path", &paths))
				r = add_s3_span(s, L, paths, w);
			break;
		}
		/* Reads only of JDBC kinds; writes of any kind with a dbtable. */
		if ((!w && !jdbc_type(a)) || (r = dict_str(L, opts, "dbtable", &b)) <= 0)
			break;
		if ((r = dict_str(L, opts, "connectionName", &conn)) == 0)
			r = arg_str(L, o, -1, "catalog_connection", &conn);
		if (r == 0)
			r = arg_str(L, o, -1, "connection_name", &conn);
		if (r < 0 || (r = dict_str(L, opts, "url", &url)) < 0 ||
		    (r = dict_str(L, opts, "database", &db)) < 0)
			break;
		r = lineage__add_jdbc(s, w, b, db, url, conn);
		break;
	case G_JDBC_CONF:
		(void)call_arg(L, o, 2, "connection_options", &opts);
		if ((r = dict_str(L, opts, "dbtable", &b)) > 0 &&
		    (r = arg_str(L, o, 1, "catalog_connection", &conn)) >= 0 &&
		    (r = dict_str(L, opts, "database", &db)) >= 0)
			r = lineage__add_jdbc(s, 1, b, db, NULL, conn);
		break;
	}
	free(a);
	free(b);
	free(conn);
	free(url);
	free(db);
	return r < 0 ? r : 0;
}

/* What .format() and .option()/.options() calls set on a reader or writer. */
struct chain_opts {
	struct span format, url, dbtable, path, database;
};

static int
chain_option(const struct lex *L, uint32_t m, uint32_t o, struct chain_opts *co)
{
	static const char *const keys[] = { "url", "dbtable", "path", "database" };
	struct span *dst[] = { &co->url, &co->dbtable, &co->path, &co->database };
	struct span k, v;
	char *key = NULL;
	size_t i;
	int r = 0;

	if (tok_eq(L, m, "format")) {
		(void)call_arg(L, o, 0, "source", &co->format);
	} else if (tok_eq(L, m, "option")) {
		if (!call_arg(L, o, 0, "key", &k) || !call_arg(L, o, 1, "value", &v) ||
		    (r = span_str(L, k, &key)) <= 0)
			return r;
		for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
			if (strcasecmp(key, keys[i]) == 0)
				*dst[i] = v;
		free(key);
	} else if (tok_eq(L, m, "options")) {
		for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
			(void)call_arg(L, o, -1, keys[i], dst[i]);
	}
	return 0;
}

/* A .load()/.save() without a path: the "path" option, or a JDBC table. */
static int
chain_finish(struct lineage__seen *s, const struct lex *L, const struct chain_opts *co, int w)
{
	char *fmt = NULL, *table = NULL, *url = NULL, *db = NULL;
	int r;

	if (co->path.b)
		return add_s3_span(s, L, co->path, w);
	if ((r = span_str(L, co->format, &fmt)) > 0 && strcasecmp(fmt, "jdbc") == 0 &&
	    (r = span_str(L, co->dbtable, &table)) > 0 && (r = span_str(L, co->url, &url)) >= 0 &&
	    (r = span_str(L, co->database, &db)) >= 0)
		r = lineage__add_jdbc(s, w, table, db, url, NULL);
	free(fmt);
	free(table);
	free(url);
	free(db);
	return r < 0 ? r : 0;
}

/* spark.read... or df.write...: i is the "read" or "write" identifier. */
static int
spark_chain(struct lineage__seen *s, const struct lex *L, uint32_t i)
{
	static const char *const files[] = { "parquet", "json", "csv", "orc", "avro", "load",
	                                     "save" };
	int w = tok_eq(L, i, "write"), steps, nfile = sizeof(files) / sizeof(*files), k;
	struct chain_opts co;
	uint32_t j = i + 1, m, o;
	char *a = NULL, *b = NULL;
	int r = 0;

	memset(&co, 0, sizeof(co));
	for (steps = 0; steps < CHAIN_MAX; steps++) {
		/* Another .read or .write starts a chain of its own. */
		if (!tok_is(L, j, TK_DOT) || !tok_is(L, j + 1, TK_IDENT) ||
		    tok_eq(L, j + 1, "read") || tok_eq(L, j + 1, "write"))
			return 0;
		m = j + 1;
		if (!tok_open(L, m + 1, '(')) {
			j = m + 1;
			continue;
		}
		o = m + 1;
		j = L->t[o].match + 1;
		/* Readers load files, writers save them. */
		for (k = 0; k < nfile; k++)
			if (tok_eq(L, m, files[k]) && (w ? k != 5 : k != 6))
				break;
		if (k < nfile) {
			int any = 0;
			uint32_t p = o + 1;
			struct span it;

			while (r >= 0 && next_item(L, &p, L->t[o].match, &it)) {
				if (it.a == it.b)
					continue;
				if (tok_is(L, it.a, TK_IDENT) && tok_is(L, it.a + 1, TK_EQ)) {
					if (!tok_eq(L, it.a, "path"))
						continue;
					it.a += 2;
				}
				any = 1;
				r = add_s3_span(s, L, it, w);
			}
			return any || r < 0 ? r : chain_finish(s, L, &co, w);
		}
		if (tok_eq(L, m, "jdbc")) {
			if ((r = arg_str(L, o, 1, "table", &b)) > 0 &&
			    (r = arg_str(L, o, 0, "url", &a)) >= 0)
				r = lineage__add_jdbc(s, w, b, NULL, a, NULL);
			break;
		}
		if (w && (tok_eq(L, m, "saveAsTable") || tok_eq(L, m, "insertInto"))) {
			if ((r = arg_str(L, o, 0, tok_eq(L, m, "insertInto") ? "tableName" : "name",
			                 &a)) > 0)
				r = lineage__add_spark_table(s, 1, a);
			break;
		}
		if (tok_eq(L, m, "table"))
			break;
		if ((r = chain_option(L, m, o, &co)) < 0)
			break;
	}
	free(a);
	free(b);
	return r < 0 ? r : 0;
}

int
lineage_from_script(const char *text, size_t len, struct lineage_refs *out)
{
	struct lex L = { text, (uint32_t)(len < SCRIPT_MAX ? len : SCRIPT_MAX), NULL, 0, 0 };
	struct lineage__seen s;
	uint32_t i;
	size_t g;
	char *name;
	int r;

	if (lineage__seen_init(&s, out) < 0 || lex_run(&L) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0, r = 0; i < L.n && r >= 0; i++) {
		if (L.t[i].kind != TK_IDENT)
			continue;
		if (i > 0 && tok_is(&L, i - 1, TK_DOT) && tok_is(&L, i + 1, TK_DOT) &&
		    (tok_eq(&L, i, "read") || tok_eq(&L, i, "write"))) {
			r = spark_chain(&s, &L, i);
			continue;
		}
		if (!tok_open(&L, i + 1, '('))
			continue;
		/* spark.table("db.t") and spark.read.table("db.t"): one string. */
		if (i > 0 && tok_is(&L, i - 1, TK_DOT) && tok_eq(&L, i, "table") &&
		    call_nargs(&L, i + 1, 1) == 1) {
			if ((r = arg_str(&L, i + 1, 0, NULL, &name)) > 0)
				r = lineage__add_spark_table(&s, 0, name);
			free(name);
			continue;
		}
		for (g = 0; g < sizeof(glue_calls) / sizeof(*glue_calls); g++) {
			if ((glue_calls[g].alias && tok_eq(&L, i, glue_calls[g].alias)) ||
			    (tok_eq(&L, i, glue_calls[g].method) &&
			     (!glue_calls[g].obj || (i >= 2 && tok_is(&L, i - 1, TK_DOT) &&
			                             tok_eq(&L, i - 2, glue_calls[g].obj))))) {
				r = glue_call(&s, &L, i + 1, glue_calls[g].op);
				break;
			}
		}
	}
out:
	free(L.t);
	if (r >= 0)
		r = (int)(out->n - s.base);
	return lineage__seen_fini(&s, r);
}
