/* Lineage from Glue jobs, the way enrich.c reads a job:
 *  - the bytes as a script through lineage_from_script (they may be any
 *    bytes, not NUL-terminated: the target reads them from a heap copy of
 *    exactly that size);
 *  - the bytes parsed as JSON: an object goes through lineage_from_job,
 *    into the list the script filled, and lineage_script_location;
 *  - the bytes as a string through lineage_jdbc_database.
 * Checks: every ref is well formed (a table has a non-empty table and no
 * path, an S3 ref a path and no table) and listed once; the script and the
 * job return what they appended, and scanning the same input again appends
 * nothing; a job that fails leaves the list as it was, with a reason; a
 * script location has a non-empty bucket without '/' and a non-empty key,
 * and a failure leaves both outputs untouched. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "lineage.h"
#include "util.h"

/* Above this many refs the pairwise duplicate check is skipped. */
#define DUP_CHECK_MAX 512

static int
same_ref(const struct lineage_ref *a, const struct lineage_ref *b)
{
	return a->kind == b->kind && a->is_target == b->is_target &&
	       str_eq(a->database, b->database) && str_eq(a->schema, b->schema) &&
	       str_eq(a->table, b->table) && str_eq(a->connection, b->connection) &&
	       str_eq(a->path, b->path);
}

static void
check_refs(const struct lineage_refs *out)
{
	size_t i, j;

	FUZZ_CHECK(out->n <= out->cap && (out->v || out->n == 0));
	for (i = 0; i < out->n; i++) {
		const struct lineage_ref *r = &out->v[i];

		FUZZ_CHECK(r->is_target == 0 || r->is_target == 1);
		if (r->kind == LINEAGE_S3) {
			FUZZ_CHECK(r->path && r->path[0]);
			FUZZ_CHECK(!r->database && !r->schema && !r->table && !r->connection);
		} else {
			FUZZ_CHECK(r->kind == LINEAGE_TABLE);
			FUZZ_CHECK(r->table && r->table[0] && !r->path);
		}
	}
	if (out->n > DUP_CHECK_MAX)
		return;
	for (i = 0; i < out->n; i++)
		for (j = i + 1; j < out->n; j++)
			FUZZ_CHECK(!same_ref(&out->v[i], &out->v[j]));
}

/* Script refs: every S3 path is an s3://, s3a:// or s3n:// URL with a
 * bucket. */
static void
check_script_refs(const struct lineage_refs *out, size_t from)
{
	size_t i, n;

	for (i = from; i < out->n; i++) {
		const char *p = out->v[i].path;

		if (out->v[i].kind != LINEAGE_S3)
			continue;
		n = strncmp(p, "s3://", 5) == 0 ? 5 :
		    strncmp(p, "s3a://", 6) == 0 || strncmp(p, "s3n://", 6) == 0 ? 6 : 0;
		FUZZ_CHECK(n && p[n] && p[n] != '/');
	}
}

static void
script(const uint8_t *data, size_t size, struct lineage_refs *out)
{
	char *copy = malloc(size ? size : 1);
	int r;

	FUZZ_CHECK(copy);
	if (size)
		memcpy(copy, data, size);
	r = lineage_from_script(copy, size, out);
	FUZZ_CHECK(r >= 0 || r == -ENOMEM);
	if (r >= 0) {
		FUZZ_CHECK((size_t)r == out->n);
		check_script_refs(out, 0);
		/* The same text again: every ref is already listed. */
		FUZZ_CHECK(lineage_from_script(copy, size, out) == 0);
		FUZZ_CHECK((size_t)r == out->n);
	}
	free(copy);
	check_refs(out);
}

static void
job_refs(const cJSON *job, struct lineage_refs *out)
{
	struct gm_err err = {{0}};
	size_t before = out->n;
	int r;

	r = lineage_from_job(job, out, &err);
	FUZZ_CHECK(r == 1 || r == 0 || r == -EINVAL || r == -ENOMEM);
	FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)));
	if (r < 0) {
		FUZZ_CHECK(err.msg[0]);
		FUZZ_CHECK(out->n == before);
	} else if (r == 0) {
		FUZZ_CHECK(out->n == before);
	}
	check_refs(out);
	if (r == 1) {
		/* The same job again adds nothing. */
		before = out->n;
		FUZZ_CHECK(lineage_from_job(job, out, &err) == 1);
		FUZZ_CHECK(out->n == before);
	}
}

static void
script_location(const cJSON *job)
{
	char sentinel[] = "untouched", *bucket = sentinel, *key = sentinel;
	int r;

	r = lineage_script_location(job, &bucket, &key);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r < 0) {
		FUZZ_CHECK(bucket == sentinel && key == sentinel);
		return;
	}
	FUZZ_CHECK(bucket != sentinel && key != sentinel);
	FUZZ_CHECK(bucket[0] && !strchr(bucket, '/'));
	FUZZ_CHECK(key[0] && key[0] != '/');
	free(bucket);
	free(key);
}

static void
jdbc_database(const uint8_t *data, size_t size)
{
	char *url = fuzz_cstr(data, size), *db;

	db = lineage_jdbc_database(url);
	FUZZ_CHECK(!db || (db[0] && strlen(db) <= size));
	free(db);
	free(url);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lineage_refs out = {0};
	cJSON *j;

	script(data, size, &out);
	j = cJSON_ParseWithLength((const char *)data, size);
	if (cJSON_IsObject(j)) {
		job_refs(j, &out);
		script_location(j);
	}
	cJSON_Delete(j);
	lineage_refs_clear(&out);
	FUZZ_CHECK(!out.v && out.n == 0 && out.cap == 0);
	jdbc_database(data, size);
	return 0;
}
