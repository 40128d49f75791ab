/* lineage — see include/lineage.h.  This file reads Visual-ETL nodes and
 * holds what both readers share: the refs list with its deduplication,
 * table names and JDBC URLs.  src/lineage_script.c scans scripts.
 *
 * This follows OpenMetadata's Glue pipeline connector (gluepipeline/
 * metadata.py and models.py): the same node types, the same "ends with
 * Source" direction rule.  Where we differ, on purpose:
 *  - Every path of a Visual-ETL node is reported (the connector keeps the
 *    first one it resolves).
 *  - "schema.table" (and "db.schema.table") JDBC table names are split; the
 *    connector passes them whole.  A three-part Spark table name
 *    ("glue_catalog.db.t") drops its catalog part instead of being taken as
 *    a table of database "default".
 *  - A Visual-ETL node with a member of the wrong type is an error naming
 *    it, and one missing its table or path is skipped, where the connector
 *    drops the whole job's lineage.  AmazonRedshift nodes also report
 *    Data.Connection.Value, and JDBC nodes ConnectionName, as the connection.
 *  - JDBC URLs: also "jdbc:sub:sub://", SQL Server ";databaseName=" and
 *    Oracle thin URLs; the database name stops at '/'.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "lineage.h"
#include "lineage_int.h"
#include "util.h"

/* The result list, with a hash set for deduplication. */

struct rkey {
	enum lineage_kind kind;
	int is_target;
	const char *f[5];       /* database, schema, table, connection, path */
};

static void
ref_key(const struct lineage_ref *r, struct rkey *k)
{
	k->kind = r->kind;
	k->is_target = r->is_target;
	k->f[0] = r->database;
	k->f[1] = r->schema;
	k->f[2] = r->table;
	k->f[3] = r->connection;
	k->f[4] = r->path;
}

static uint64_t
key_hash(const struct rkey *k)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ ((uint64_t)k->kind << 1) ^ (uint64_t)k->is_target;
	const char *s;
	int i;

	for (i = 0; i < 5; i++) {
		for (s = k->f[i]; s && *s; s++)
			h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
		h = (h ^ (k->f[i] ? 0x100U : 0x200U)) * 0x100000001b3ULL;
	}
	return h;
}

static int
key_eq(const struct rkey *a, const struct rkey *b)
{
	int i;

	if (a->kind != b->kind || a->is_target != b->is_target)
		return 0;
	for (i = 0; i < 5; i++)
		if (!str_eq(a->f[i], b->f[i]))
			return 0;
	return 1;
}

/* The slot holding a ref equal to k, or the empty slot where it goes. */
static size_t *
seen_find(struct lineage__seen *s, const struct rkey *k)
{
	size_t i = (size_t)key_hash(k) & (s->cap - 1);
	struct rkey other;

	while (s->slot[i]) {
		ref_key(&s->refs->v[s->slot[i] - 1], &other);
		if (key_eq(&other, k))
			break;
		i = (i + 1) & (s->cap - 1);
	}
	return &s->slot[i];
}

static int
seen_rehash(struct lineage__seen *s, size_t cap)
{
	size_t i, *slot;
	struct rkey k;

	free(s->slot);
	if (!(s->slot = calloc(cap, sizeof(*s->slot))))
		return -ENOMEM;
	s->cap = cap;
	for (i = 0; i < s->refs->n; i++) {
		ref_key(&s->refs->v[i], &k);
		slot = seen_find(s, &k);
		if (!*slot)
			*slot = i + 1;
	}
	return 0;
}

int
lineage__seen_init(struct lineage__seen *s, struct lineage_refs *refs)
{
	size_t cap = 64;

	s->refs = refs;
	s->base = refs->n;
	s->slot = NULL;
	while (cap < refs->n * 2 + 2)
		cap *= 2;
	return seen_rehash(s, cap);
}

static void
ref_free_strings(struct lineage_ref *r)
{
	free(r->database);
	free(r->schema);
	free(r->table);
	free(r->connection);
	free(r->path);
}

/* Drops what this call appended when it failed; returns r. */
int
lineage__seen_fini(struct lineage__seen *s, int r)
{
	if (r < 0) {
		while (s->refs->n > s->base)
			ref_free_strings(&s->refs->v[--s->refs->n]);
	}
	free(s->slot);
	s->slot = NULL;
	return r;
}

/* Appends a copy of the ref unless an equal one is listed; 0 or -ENOMEM. */
int
lineage__add_ref(struct lineage__seen *s, enum lineage_kind kind, int is_target, const char *db,
                 const char *schema, const char *table, const char *conn, const char *path)
{
	struct rkey k = { kind, is_target, { db, schema, table, conn, path } };
	struct lineage_refs *refs = s->refs;
	struct lineage_ref *r;
	size_t *slot;

	if ((refs->n + 1) * 2 > s->cap && seen_rehash(s, s->cap * 2) < 0)
		return -ENOMEM;
	slot = seen_find(s, &k);
	if (*slot)
		return 0;
	if (refs->n == refs->cap) {
		size_t cap = refs->cap ? refs->cap * 2 : 16;
		struct lineage_ref *v = realloc(refs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		refs->v = v;
		refs->cap = cap;
	}
	r = &refs->v[refs->n];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->is_target = is_target;
	if ((db && !(r->database = strdup(db))) || (schema && !(r->schema = strdup(schema))) ||
	    (table && !(r->table = strdup(table))) || (conn && !(r->connection = strdup(conn))) ||
	    (path && !(r->path = strdup(path)))) {
		ref_free_strings(r);
		return -ENOMEM;
	}
	refs->n++;
	*slot = refs->n;
	return 0;
}

void
lineage_refs_clear(struct lineage_refs *refs)
{
	size_t i;

	if (!refs)
		return;
	for (i = 0; i < refs->n; i++)
		ref_free_strings(&refs->v[i]);
	free(refs->v);
	refs->v = NULL;
	refs->n = refs->cap = 0;
}

/* Names. */

/* Splits "a.b.c" into one to three parts, each trimmed of blanks and of
 * enclosing "", `` or [] quotes (which may hold dots).  Returns the number
 * of parts, 0 when s is not a plain name (empty part, more than three, a
 * subquery), -ENOMEM. */
static int
split_name(const char *s, char *part[3])
{
	const char *p = s, *e, *q;
	int n = 0;

	part[0] = part[1] = part[2] = NULL;
	if (strchr(s, '('))
		return 0;
	for (;;) {
		p += strspn(p, " \t\r\n");
		if (*p == '"' || *p == '`' || *p == '[') {
			if (!(q = strchr(p + 1, *p == '[' ? ']' : *p)))
				goto bad;
			e = q + 1 + strspn(q + 1, " \t\r\n");
			if (*e != '.' && *e)
				goto bad;
			p++;
		} else {
			q = p + strcspn(p, ".");
			e = q;
			while (q > p && strchr(" \t\r\n", q[-1]))
				q--;
		}
		if (q == p || n == 3)
			goto bad;
		if (!(part[n++] = strndup(p, (size_t)(q - p))))
			goto oom;
		if (!*e)
			return n;
		p = e + 1;
	}
oom:
	n = -ENOMEM;
bad:
	free(part[0]);
	free(part[1]);
	free(part[2]);
	part[0] = part[1] = part[2] = NULL;
	return n < 0 ? n : 0;
}

/* The database of a JDBC URL into *ret (NULL when it names none); 0 or
 * -ENOMEM. */
static int
jdbc_db(const char *url, char **ret)
{
	static const char sub[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-:";
	const char *p, *d = NULL;
	size_t n = 0;
	int oracle, sep = 0;

	*ret = NULL;
	if (!url || strncasecmp(url, "jdbc:", 5) != 0)
		return 0;
	p = url + 5;
	oracle = strncasecmp(p, "oracle:", 7) == 0;
	p += strspn(p, sub);
	if (strncmp(p, "//", 2) == 0 && ++sep)
		p += 2;
	if (*p == '@' && ++sep)
		p++;
	if (strncmp(p, "//", 2) == 0 && ++sep)
		p += 2;
	if (!sep)
		return 0;
	if (oracle && *p == '(') {
		/* A TNS descriptor: (DESCRIPTION=...(CONNECT_DATA=(SERVICE_NAME=x))) */
		for (; *p && !d; p++)
			if (strncasecmp(p, "SERVICE_NAME=", 13) == 0)
				d = p + 13;
			else if (strncasecmp(p, "(SID=", 5) == 0)
				d = p + 5;
		n = d ? strcspn(d, ")") : 0;
	} else if (oracle) {
		/* host[:port](/service | :sid) */
		p += *p == '[' ? strcspn(p, "]") : strcspn(p, ":/;?#");
		p += *p == ']';
		if (*p == ':')
			p += 1 + strspn(p + 1, "0123456789");
		if (*p == '/' || *p == ':')
			n = strcspn(d = p + 1, ":/;?#");
	} else {
		p += strcspn(p, "/;?#");
		if (*p == '/')
			n = strcspn(d = p + 1, "/;?#");
		/* SQL Server: host:port;databaseName=db;... */
		for (; n == 0 && (p = strchr(p, ';')); ) {
			p++;
			if (strncasecmp(p, "databaseName=", 13) == 0)
				d = p + 13;
			else if (strncasecmp(p, "database=", 9) == 0)
				d = p + 9;
			else
				continue;
			n = strcspn(d, ";");
		}
	}
	while (n > 0 && d[n - 1] == ' ')
		n--;
	if (n == 0)
		return 0;
	return (*ret = strndup(d, n)) ? 0 : -ENOMEM;
}

char *
lineage_jdbc_database(const char *url)
{
	char *db;

	if (jdbc_db(url, &db) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return db;
}

/* A JDBC table ref: dbtable may be "t", "schema.t" or "db.schema.t"; the
 * database otherwise comes from the options or the URL. */
int
lineage__add_jdbc(struct lineage__seen *s, int is_target, const char *dbtable,
                  const char *database, const char *url, const char *conn)
{
	char *part[3], *udb = NULL;
	int n, r;

	if ((n = split_name(dbtable, part)) <= 0)
		return n;
	if (n < 3 && !database && (r = jdbc_db(url, &udb)) < 0)
		goto out;
	r = lineage__add_ref(s, LINEAGE_TABLE, is_target,
	                     n == 3 ? part[0] : database ? database : udb,
	                     n >= 2 ? part[n - 2] : NULL, part[n - 1], conn, NULL);
out:
	free(udb);
	free(part[0]);
	free(part[1]);
	free(part[2]);
	return r;
}

/* A Spark table name: "t" is in database "default"; "cat.db.t" drops the
 * catalog. */
int
lineage__add_spark_table(struct lineage__seen *s, int is_target, const char *name)
{
	char *part[3];
	int n, r;

	if ((n = split_name(name, part)) <= 0)
		return n;
	r = lineage__add_ref(s, LINEAGE_TABLE, is_target, n == 1 ? "default" : part[n - 2], NULL,
	                     part[n - 1], NULL, NULL);
	free(part[0]);
	free(part[1]);
	free(part[2]);
	return r;
}

/* Visual ETL nodes. */

enum node_shape {
	NODE_REDSHIFT,          /* AmazonRedshiftNodeData under Data */
	NODE_ATHENA,            /* ConnectionTable in SchemaName */
	NODE_CONNECTOR,         /* ConnectionTable over ConnectionName */
	NODE_DIRECT_JDBC,       /* Table of Database over ConnectionName */
	NODE_CATALOG,           /* Table of Database */
	NODE_S3_PATHS,          /* Paths */
	NODE_S3_PATH,           /* Path */
};

static const struct {
	const char *key;
	enum node_shape shape;
} node_types[] = {
	{ "AmazonRedshiftSource", NODE_REDSHIFT },
	{ "AmazonRedshiftTarget", NODE_REDSHIFT },
	{ "AthenaConnectorSource", NODE_ATHENA },
	{ "JDBCConnectorSource", NODE_CONNECTOR },
	{ "JDBCConnectorTarget", NODE_CONNECTOR },
	{ "DirectJDBCSource", NODE_DIRECT_JDBC },
	{ "DirectJDBC", NODE_DIRECT_JDBC },
	{ "RedshiftSource", NODE_CATALOG },
	{ "RedshiftTarget", NODE_CATALOG },
	{ "S3CsvSource", NODE_S3_PATHS },
	{ "S3JsonSource", NODE_S3_PATHS },
	{ "S3ParquetSource", NODE_S3_PATHS },
	{ "S3HudiSource", NODE_S3_PATHS },
	{ "S3DeltaSource", NODE_S3_PATHS },
	{ "S3DirectTarget", NODE_S3_PATH },
	{ "S3DeltaDirectTarget", NODE_S3_PATH },
	{ "S3GlueParquetTarget", NODE_S3_PATH },
	{ "S3HudiDirectTarget", NODE_S3_PATH },
};

struct node_ctx {
	const char *job, *id, *type;
	struct gm_err *err;
};

static int
node_bad(const struct node_ctx *c, const char *member, const char *what)
{
	gm_err_set(c->err, "job '%s': node '%s': %s.%s is not %s", c->job, c->id, c->type,
	           member, what);
	return -EINVAL;
}

/* *ret = a non-empty string member, or NULL when absent, null or empty. */
static int
node_str(const struct node_ctx *c, const cJSON *o, const char *k, const char *member,
         const char **ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	*ret = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return node_bad(c, member, "a string");
	if (*v->valuestring)
		*ret = v->valuestring;
	return 0;
}

/* An Option member: {"Value": "...", "Label": ...}. */
static int
node_option(const struct node_ctx *c, const cJSON *o, const char *k, const char *member,
            const char *value_member, const char **ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	*ret = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v))
		return node_bad(c, member, "an object");
	return node_str(c, v, "Value", value_member, ret);
}

static int
node_refs(struct lineage__seen *s, const struct node_ctx *c, const cJSON *body,
          enum node_shape shape)
{
	int tgt = !(strlen(c->type) >= 6 && strcmp(c->type + strlen(c->type) - 6, "Source") == 0);
	const char *db = NULL, *schema = NULL, *table = NULL, *conn = NULL, *path;
	const cJSON *v, *p;
	int r;

	switch (shape) {
	case NODE_REDSHIFT:
		v = cJSON_GetObjectItemCaseSensitive(body, "Data");
		if (!v || cJSON_IsNull(v))
			return 0;
		if (!cJSON_IsObject(v))
			return node_bad(c, "Data", "an object");
		if ((r = node_option(c, v, "Table", "Data.Table", "Data.Table.Value", &table)) < 0 ||
		    (r = node_option(c, v, "Schema", "Data.Schema", "Data.Schema.Value", &schema)) < 0 ||
		    (r = node_option(c, v, "Connection", "Data.Connection",
		                     "Data.Connection.Value", &conn)) < 0)
			return r;
		if (!table)
			return 0;
		return lineage__add_ref(s, LINEAGE_TABLE, tgt, NULL, schema, table, conn, NULL);
	case NODE_ATHENA:
	case NODE_CONNECTOR:
		if ((r = node_str(c, body, "ConnectionTable", "ConnectionTable", &table)) < 0 ||
		    (r = node_str(c, body, "SchemaName", "SchemaName", &schema)) < 0 ||
		    (shape == NODE_CONNECTOR &&
		     (r = node_str(c, body, "ConnectionName", "ConnectionName", &conn)) < 0))
			return r;
		if (!table)
			return 0;
		if (schema || shape == NODE_ATHENA)
			return lineage__add_ref(s, LINEAGE_TABLE, tgt, NULL, schema, table, conn,
			                        NULL);
		return lineage__add_jdbc(s, tgt, table, NULL, NULL, conn);
	case NODE_DIRECT_JDBC:
	case NODE_CATALOG:
		if ((r = node_str(c, body, "Database", "Database", &db)) < 0 ||
		    (r = node_str(c, body, "Table", "Table", &table)) < 0 ||
		    (shape == NODE_DIRECT_JDBC &&
		     (r = node_str(c, body, "ConnectionName", "ConnectionName", &conn)) < 0))
			return r;
		if (!table)
			return 0;
		if (shape == NODE_DIRECT_JDBC)
			return lineage__add_jdbc(s, tgt, table, db, NULL, conn);
		return lineage__add_ref(s, LINEAGE_TABLE, tgt, db, NULL, table, NULL, NULL);
	case NODE_S3_PATHS:
		v = cJSON_GetObjectItemCaseSensitive(body, "Paths");
		if (!v || cJSON_IsNull(v))
			return 0;
		if (!cJSON_IsArray(v))
			return node_bad(c, "Paths", "a list of strings");
		cJSON_ArrayForEach(p, v) {
			if (!cJSON_IsString(p))
				return node_bad(c, "Paths", "a list of strings");
			if (*p->valuestring &&
			    (r = lineage__add_ref(s, LINEAGE_S3, tgt, NULL, NULL, NULL, NULL,
			                          p->valuestring)) < 0)
				return r;
		}
		return 0;
	case NODE_S3_PATH:
		if ((r = node_str(c, body, "Path", "Path", &path)) < 0)
			return r;
		if (!path)
			return 0;
		return lineage__add_ref(s, LINEAGE_S3, tgt, NULL, NULL, NULL, NULL, path);
	}
	return 0;
}

static int
node_shape_of(const char *key, enum node_shape *ret)
{
	size_t i;

	for (i = 0; i < sizeof(node_types) / sizeof(*node_types); i++)
		if (strcmp(node_types[i].key, key) == 0) {
			*ret = node_types[i].shape;
			return 1;
		}
	/* The connector checks its table map, then "Catalog", then S3. */
	if (strstr(key, "Catalog")) {
		*ret = NODE_CATALOG;
		return 1;
	}
	return 0;
}

int
lineage_from_job(const cJSON *job, struct lineage_refs *out, struct gm_err *err)
{
	const cJSON *nodes, *node, *m, *name;
	struct node_ctx c = { "?", NULL, NULL, err };
	enum node_shape shape;
	struct lineage__seen s;
	int r = 1;

	if (!cJSON_IsObject(job)) {
		gm_err_set(err, "a job that is not an object");
		return -EINVAL;
	}
	name = cJSON_GetObjectItemCaseSensitive(job, "Name");
	if (cJSON_IsString(name))
		c.job = name->valuestring;
	nodes = cJSON_GetObjectItemCaseSensitive(job, "CodeGenConfigurationNodes");
	if (!nodes || cJSON_IsNull(nodes))
		return 0;
	if (!cJSON_IsObject(nodes)) {
		gm_err_set(err, "job '%s': CodeGenConfigurationNodes is not an object", c.job);
		return -EINVAL;
	}
	if (!nodes->child)
		return 0;       /* {} is falsy to the connector too: read the script */
	if (lineage__seen_init(&s, out) < 0) {
		gm_err_set(err, "out of memory");
		return lineage__seen_fini(&s, -ENOMEM);
	}
	cJSON_ArrayForEach(node, nodes) {
		c.id = node->string;
		if (!cJSON_IsObject(node)) {
			gm_err_set(err, "job '%s': node '%s' is not an object", c.job, c.id);
			r = -EINVAL;
			break;
		}
		cJSON_ArrayForEach(m, node) {
			c.type = m->string;
			if (!node_shape_of(m->string, &shape))
				continue;       /* a transform */
			if (!cJSON_IsObject(m)) {
				gm_err_set(err, "job '%s': node '%s': %s is not an object", c.job, c.id,
				           c.type);
				r = -EINVAL;
			} else if ((r = node_refs(&s, &c, m, shape)) == 0) {
				r = 1;
			} else if (r == -ENOMEM) {
				gm_err_set(err, "out of memory");
			}
			if (r < 0)
				break;
		}
		if (r < 0)
			break;
	}
	return lineage__seen_fini(&s, r);
}

int
lineage_script_location(const cJSON *job, char **ret_bucket, char **ret_key)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(job, "Command");
	const cJSON *loc = cJSON_GetObjectItemCaseSensitive(cmd, "ScriptLocation");
	const char *b, *k;
	char *bucket, *key;
	size_t n;

	if (!cJSON_IsObject(job) || !cJSON_IsObject(cmd) || !cJSON_IsString(loc) ||
	    strncasecmp(loc->valuestring, "s3://", 5) != 0)
		return -EINVAL;
	b = loc->valuestring + 5;
	n = strcspn(b, "/");
	k = b + n + strspn(b + n, "/");
	if (n == 0 || !*k)
		return -EINVAL;
	if (!(bucket = strndup(b, n)))
		return -ENOMEM;
	if (!(key = strdup(k))) {
		free(bucket);
		return -ENOMEM;
	}
	*ret_bucket = bucket;
	*ret_key = key;
	return 0;
}
