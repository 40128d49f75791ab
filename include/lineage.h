/* lineage — lineage references from Glue jobs: Visual-ETL nodes
 * (CodeGenConfigurationNodes) and the common read/write patterns of Glue
 * and Spark scripts.  Pure functions. */
#ifndef GLUEMETAD_LINEAGE_H
#define GLUEMETAD_LINEAGE_H
#include <stddef.h>
struct cJSON;
struct gm_err;

enum lineage_kind { LINEAGE_TABLE, LINEAGE_S3 };

struct lineage_ref {
	enum lineage_kind kind;
	int is_target;          /* 0 source, 1 target */
	char *database;         /* tables: may be NULL (unknown) */
	char *schema;           /* tables: may be NULL */
	char *table;            /* tables: never NULL */
	char *connection;       /* tables: Glue connection whose JDBC URL names the database, or NULL */
	char *path;             /* S3: "s3://bucket/key" as written (s3a:// and s3n:// kept as written), never NULL */
};

/* The strings of every ref are owned by the list; lineage_refs_clear()
 * frees them.  The functions below append refs that are not already in the
 * list, and on failure leave it as it was on entry. */
struct lineage_refs {
	struct lineage_ref *v;
	size_t n, cap;
};

/* Refs from a Glue Job object (GetJob "Job" / BatchGetJobs "Jobs" item).
 * Returns 1 when the job has CodeGenConfigurationNodes (refs appended,
 * possibly none), 0 when it has none (the caller then reads the script),
 * -EINVAL when the job or a node is malformed (err says what), -ENOMEM. */
int lineage_from_job(const struct cJSON *job, struct lineage_refs *out, struct gm_err *err);

/* "s3://bucket/key/of/script.py" -> bucket and key (malloc'd); -EINVAL when
 * the job has no usable Command.ScriptLocation.  */
int lineage_script_location(const struct cJSON *job, char **ret_bucket, char **ret_key);

/* Refs from a script's text (len bytes, not necessarily NUL-terminated,
 * may be binary garbage; only the first 16 MiB are read).  Returns the
 * number appended, or -ENOMEM. */
int lineage_from_script(const char *text, size_t len, struct lineage_refs *out);

/* The database named by a JDBC URL ("jdbc:postgresql://h:5432/salesdb?x=1"
 * -> "salesdb", also jdbc:redshift://, jdbc:mysql://, jdbc:sqlserver://h;databaseName=db,
 * jdbc:oracle:thin:@//h:1521/svc); NULL when none. */
char *lineage_jdbc_database(const char *url);

void lineage_refs_clear(struct lineage_refs *refs);
#endif
