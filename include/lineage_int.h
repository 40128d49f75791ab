/* lineage internals shared by src/lineage.c (Visual-ETL nodes, the refs
 * list, table names and JDBC URLs) and src/lineage_script.c (the script
 * scanner).  Not for other modules: they include lineage.h only. */
#ifndef GLUEMETAD_LINEAGE_INT_H
#define GLUEMETAD_LINEAGE_INT_H
#include <stddef.h>

#include "lineage.h"

/* One append to a refs list: a hash set over the list, so that a ref
 * already listed (before the call or by it) is not added twice. */
struct lineage__seen {
	struct lineage_refs *refs;
	size_t base;            /* refs->n on entry: everything after is ours */
	size_t *slot;           /* index + 1 into refs->v; 0 = empty */
	size_t cap;             /* a power of two */
};

/* Starts an append to refs; 0 or -ENOMEM.  lineage__seen_fini() must
 * follow either way. */
int lineage__seen_init(struct lineage__seen *s, struct lineage_refs *refs);

/* Ends the append: when r < 0 drops every ref it added, so the list is as
 * it was on entry.  Frees the set; returns r. */
int lineage__seen_fini(struct lineage__seen *s, int r);

/* Appends a copy of the ref (the strings may be NULL) unless an equal one
 * is listed; 0 or -ENOMEM. */
int lineage__add_ref(struct lineage__seen *s, enum lineage_kind kind, int is_target,
                     const char *db, const char *schema, const char *table, const char *conn,
                     const char *path);

/* A JDBC table ref: dbtable may be "t", "schema.t" or "db.schema.t"; the
 * database otherwise comes from database, or else from the JDBC url (both
 * may be NULL).  Not a plain name: nothing added.  0 or -ENOMEM. */
int lineage__add_jdbc(struct lineage__seen *s, int is_target, const char *dbtable,
                      const char *database, const char *url, const char *conn);

/* A Spark table name: "t" is in database "default"; "cat.db.t" drops the
 * catalog.  0 or -ENOMEM. */
int lineage__add_spark_table(struct lineage__seen *s, int is_target, const char *name);
#endif
