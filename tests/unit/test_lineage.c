/* lineage: refs from Visual-ETL nodes, Glue/Spark scripts and JDBC URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "lineage.h"
#include "util.h"

struct want {
	enum lineage_kind kind;
	int is_target;
	const char *database, *schema, *table, *connection, *path;
};
#define TBL(tgt, db, schema, table, conn) { LINEAGE_TABLE, tgt, db, schema, table, conn, NULL }
#define S3(tgt, path) { LINEAGE_S3, tgt, NULL, NULL, NULL, NULL, path }
#define N(a) (sizeof(a) / sizeof(*(a)))

static const char *
show(const char *s)
{
	return s ? s : "(null)";
}

static void
dump(const struct lineage_refs *got)
{
	size_t i;

	for (i = 0; i < got->n; i++) {
		const struct lineage_ref *r = &got->v[i];

		fprintf(stderr, "  [%zu] %s %s db=%s schema=%s table=%s conn=%s path=%s\n", i,
		        r->kind == LINEAGE_S3 ? "s3" : "table", r->is_target ? "target" : "source",
		        show(r->database), show(r->schema), show(r->table), show(r->connection),
		        show(r->path));
	}
}

static int
ref_matches(const struct lineage_ref *r, const struct want *w)
{
	return r->kind == w->kind && r->is_target == w->is_target &&
	       str_eq(r->database, w->database) && str_eq(r->schema, w->schema) &&
	       str_eq(r->table, w->table) && str_eq(r->connection, w->connection) &&
	       str_eq(r->path, w->path);
}

/* The refs from index from on are exactly w, in order. */
static void
expect_refs_from(const struct lineage_refs *got, size_t from, const struct want *w, size_t n)
{
	size_t i;

	for (i = 0; i < n && from + i < got->n; i++)
		if (!ref_matches(&got->v[from + i], &w[i]))
			break;
	if (i != n || got->n != from + n) {
		fprintf(stderr, "mismatch at ref %zu; got:\n", from + i);
		dump(got);
	}
	assert_int_equal(i, n);
	assert_int_equal(got->n, from + n);
}

static void
expect_refs(const struct lineage_refs *got, const struct want *w, size_t n)
{
	expect_refs_from(got, 0, w, n);
}

static int
job_refs(const char *json, struct lineage_refs *out, struct gm_err *err)
{
	cJSON *job = cJSON_Parse(json);
	int r;

	assert_non_null(job);
	r = lineage_from_job(job, out, err);
	cJSON_Delete(job);
	return r;
}

static int
script_refs(const char *text, struct lineage_refs *out)
{
	return lineage_from_script(text, strlen(text), out);
}

/* --- Visual ETL --- */

static const char *TABLE_JOB =
	"{\"Name\":\"sales_visual\",\"JobMode\":\"VISUAL\","
	"\"Role\":\"arn:aws:iam::123456789012:role/glue\","
	"\"Command\":{\"Name\":\"glueetl\",\"ScriptLocation\":"
	"\"s3://aws-glue-assets-123456789012-eu-west-1/scripts/sales_visual.py\",\"PythonVersion\":\"3\"},"
	"\"CodeGenConfigurationNodes\":{"
	"\"node-1\":{\"AmazonRedshiftSource\":{\"Name\":\"Amazon Redshift\",\"Data\":{"
	"\"AccessType\":\"connection\",\"SourceType\":\"table\","
	"\"Connection\":{\"Value\":\"redshift-prod\",\"Label\":\"redshift-prod\"},"
	"\"Schema\":{\"Value\":\"public\",\"Label\":\"public\"},"
	"\"Table\":{\"Value\":\"orders\",\"Label\":\"orders\"},"
	"\"TempDir\":\"s3://aws-glue-assets-123456789012-eu-west-1/temporary/\"}}},"
	"\"node-2\":{\"AmazonRedshiftTarget\":{\"Name\":\"Redshift out\",\"Inputs\":[\"node-7\"],"
	"\"Data\":{\"AccessType\":\"connection\",\"Connection\":{\"Value\":\"redshift-prod\"},"
	"\"Schema\":{\"Value\":\"mart\"},\"Table\":{\"Value\":\"daily_orders\"},\"Action\":\"append\"}}},"
	"\"node-3\":{\"AthenaConnectorSource\":{\"Name\":\"CloudWatch\",\"ConnectionName\":\"athena-cw\","
	"\"ConnectorName\":\"athena-cloudwatch\",\"ConnectionType\":\"marketplace.athena\","
	"\"ConnectionTable\":\"lambda_logs\",\"SchemaName\":\"default\"}},"
	"\"node-4\":{\"JDBCConnectorSource\":{\"Name\":\"Postgres\",\"ConnectionName\":\"pg-sales\","
	"\"ConnectorName\":\"pg-connector\",\"ConnectionType\":\"custom.jdbc\","
	"\"ConnectionTable\":\"public.customers\",\"AdditionalOptions\":{\"JobBookmarkKeys\":[\"id\"]}}},"
	"\"node-5\":{\"JDBCConnectorTarget\":{\"Name\":\"MySQL out\",\"Inputs\":[\"node-7\"],"
	"\"ConnectionName\":\"mysql-crm\",\"ConnectorName\":\"mysql\",\"ConnectionType\":\"custom.jdbc\","
	"\"ConnectionTable\":\"crm.accounts\"}},"
	"\"node-6\":{\"DirectJDBCSource\":{\"Name\":\"Invoices\",\"Database\":\"salesdb\","
	"\"Table\":\"public.invoices\",\"ConnectionName\":\"pg-sales\","
	"\"ConnectionType\":\"postgresql\"}},"
	"\"node-7\":{\"ApplyMapping\":{\"Name\":\"Change Schema\",\"Inputs\":[\"node-1\"],"
	"\"Mapping\":[{\"ToKey\":\"id\",\"FromPath\":[\"id\"],\"FromType\":\"int\",\"ToType\":\"int\"}]}},"
	"\"node-8\":{\"RedshiftSource\":{\"Name\":\"Events\",\"Database\":\"rs_catalog\","
	"\"Table\":\"dev_public_events\",\"RedshiftTmpDir\":\"s3://tmp-bucket/rs/\"}},"
	"\"node-9\":{\"RedshiftTarget\":{\"Name\":\"Summary\",\"Inputs\":[\"node-7\"],"
	"\"Database\":\"rs_catalog\",\"Table\":\"dev_public_summary\","
	"\"RedshiftTmpDir\":\"s3://tmp-bucket/rs/\"}},"
	"\"node-10\":{\"CatalogSource\":{\"Name\":\"Clicks\",\"Database\":\"raw\",\"Table\":\"clicks\"}},"
	"\"node-11\":{\"S3CatalogTarget\":{\"Name\":\"Clicks daily\",\"Inputs\":[\"node-7\"],"
	"\"PartitionKeys\":[[\"dt\"]],\"Database\":\"curated\",\"Table\":\"clicks_daily\","
	"\"SchemaChangePolicy\":{\"EnableUpdateCatalog\":true,"
	"\"UpdateBehavior\":\"UPDATE_IN_DATABASE\"}}},"
	"\"node-12\":{\"MySQLCatalogTarget\":{\"Name\":\"CRM\",\"Inputs\":[\"node-7\"],"
	"\"Database\":\"crm_catalog\",\"Table\":\"crm_accounts\"}},"
	"\"node-13\":{\"CatalogKafkaSource\":{\"Name\":\"Stream\",\"WindowSize\":100,"
	"\"Database\":\"streams\",\"Table\":\"events\",\"DetectSchema\":true}},"
	"\"node-14\":{\"DropFields\":{\"Name\":\"Drop\",\"Inputs\":[\"node-7\"],\"Paths\":[[\"x\"]]}},"
	"\"node-15\":{\"DirectJDBC\":{\"Name\":\"legacy\",\"Database\":\"erp\",\"Table\":\"stock\"}}"
	"}}";

static void
test_visual_tables(void **state)
{
	static const struct want want[] = {
		TBL(0, NULL, "public", "orders", "redshift-prod"),
		TBL(1, NULL, "mart", "daily_orders", "redshift-prod"),
		TBL(0, NULL, "default", "lambda_logs", NULL),
		TBL(0, NULL, "public", "customers", "pg-sales"),
		TBL(1, NULL, "crm", "accounts", "mysql-crm"),
		TBL(0, "salesdb", "public", "invoices", "pg-sales"),
		TBL(0, "rs_catalog", NULL, "dev_public_events", NULL),
		TBL(1, "rs_catalog", NULL, "dev_public_summary", NULL),
		TBL(0, "raw", NULL, "clicks", NULL),
		TBL(1, "curated", NULL, "clicks_daily", NULL),
		TBL(1, "crm_catalog", NULL, "crm_accounts", NULL),
		TBL(0, "streams", NULL, "events", NULL),
		TBL(1, "erp", NULL, "stock", NULL),     /* no "Source" suffix: a target */
	};
	struct lineage_refs out = {0};
	struct gm_err err = {{0}};

	(void)state;
	assert_int_equal(job_refs(TABLE_JOB, &out, &err), 1);
	expect_refs(&out, want, N(want));
	lineage_refs_clear(&out);
	assert_null(out.v);
	assert_int_equal(out.n, 0);
}

static const char *S3_JOB =
	"{\"Name\":\"lake_visual\",\"CodeGenConfigurationNodes\":{"
	"\"node-a\":{\"S3CsvSource\":{\"Name\":\"Landing CSV\",\"Paths\":[\"s3://acme-landing/orders/\","
	"\"s3://acme-landing/orders_eu/\"],\"Separator\":\"comma\",\"QuoteChar\":\"quote\","
	"\"WithHeader\":true,\"Recurse\":true,\"Exclusions\":[\"**.tmp\"]}},"
	"\"node-b\":{\"S3JsonSource\":{\"Name\":\"Same folder as JSON\","
	"\"Paths\":[\"s3://acme-landing/orders/\"],"
	"\"JsonPath\":\"$[*]\",\"Multiline\":false}},"
	"\"node-c\":{\"S3ParquetSource\":{\"Name\":\"Parquet\",\"Paths\":[\"s3://acme-raw/customers/\"],"
	"\"CompressionType\":\"snappy\"}},"
	"\"node-d\":{\"S3HudiSource\":{\"Name\":\"Hudi\",\"Paths\":[\"s3://acme-lake/hudi/orders/\"],"
	"\"AdditionalHudiOptions\":{\"hoodie.datasource.query.type\":\"snapshot\"}}},"
	"\"node-e\":{\"S3DeltaSource\":{\"Name\":\"Delta\","
	"\"Paths\":[\"s3://acme-lake/delta/payments/\"]}},"
	"\"node-f\":{\"Join\":{\"Name\":\"Join\",\"Inputs\":[\"node-a\",\"node-c\"],"
	"\"JoinType\":\"equijoin\",\"Columns\":[{\"From\":\"node-a\",\"Keys\":[[\"id\"]]},"
	"{\"From\":\"node-c\",\"Keys\":[[\"id\"]]}]}},"
	"\"node-g\":{\"S3DirectTarget\":{\"Name\":\"Curated\",\"Inputs\":[\"node-f\"],"
	"\"Path\":\"s3://acme-curated/orders/\",\"Compression\":\"snappy\",\"Format\":\"parquet\","
	"\"PartitionKeys\":[[\"dt\"]],\"SchemaChangePolicy\":{\"EnableUpdateCatalog\":false}}},"
	"\"node-h\":{\"S3DeltaDirectTarget\":{\"Name\":\"Delta out\",\"Inputs\":[\"node-f\"],"
	"\"Path\":\"s3://acme-lake/delta/orders/\",\"Compression\":\"snappy\",\"Format\":\"delta\"}},"
	"\"node-i\":{\"S3GlueParquetTarget\":{\"Name\":\"Glue parquet\",\"Inputs\":[\"node-f\"],"
	"\"Path\":\"s3://acme-curated/orders_gp/\",\"Compression\":\"snappy\"}},"
	"\"node-j\":{\"S3HudiDirectTarget\":{\"Name\":\"Hudi out\",\"Inputs\":[\"node-f\"],"
	"\"Path\":\"s3://acme-lake/hudi/orders_out/\",\"Compression\":\"SNAPPY\",\"Format\":\"hudi\","
	"\"AdditionalOptions\":{\"hoodie.table.name\":\"orders_out\"}}}"
	"}}";

static void
test_visual_s3(void **state)
{
	static const struct want want[] = {
		S3(0, "s3://acme-landing/orders/"),
		S3(0, "s3://acme-landing/orders_eu/"),
		S3(0, "s3://acme-raw/customers/"),      /* the JSON node's path is a duplicate */
		S3(0, "s3://acme-lake/hudi/orders/"),
		S3(0, "s3://acme-lake/delta/payments/"),
		S3(1, "s3://acme-curated/orders/"),
		S3(1, "s3://acme-lake/delta/orders/"),
		S3(1, "s3://acme-curated/orders_gp/"),
		S3(1, "s3://acme-lake/hudi/orders_out/"),
	};
	struct lineage_refs out = {0};
	struct gm_err err = {{0}};

	(void)state;
	assert_int_equal(job_refs(S3_JOB, &out, &err), 1);
	expect_refs(&out, want, N(want));
	lineage_refs_clear(&out);
}

static void
test_visual_malformed(void **state)
{
	static const struct { const char *nodes, *msg; } bad[] = {
		{ "[]", "job 'j': CodeGenConfigurationNodes is not an object" },
		{ "{\"n1\":\"x\"}", "job 'j': node 'n1' is not an object" },
		{ "{\"n1\":{\"CatalogSource\":[]}}", "job 'j': node 'n1': CatalogSource is not an object" },
		{ "{\"ok\":{\"CatalogSource\":{\"Database\":\"d\",\"Table\":\"t\"}},"
		  "\"n2\":{\"CatalogSource\":{\"Database\":5,\"Table\":\"t\"}}}",
		  "job 'j': node 'n2': CatalogSource.Database is not a string" },
		{ "{\"n1\":{\"S3CsvSource\":{\"Paths\":\"s3://a/b\"}}}",
		  "job 'j': node 'n1': S3CsvSource.Paths is not a list of strings" },
		{ "{\"n1\":{\"S3ParquetSource\":{\"Paths\":[\"s3://a/b\",3]}}}",
		  "job 'j': node 'n1': S3ParquetSource.Paths is not a list of strings" },
		{ "{\"n1\":{\"AmazonRedshiftSource\":{\"Data\":{\"Table\":\"orders\"}}}}",
		  "job 'j': node 'n1': AmazonRedshiftSource.Data.Table is not an object" },
		{ "{\"n1\":{\"AmazonRedshiftSource\":{\"Data\":{\"Table\":{\"Value\":1}}}}}",
		  "job 'j': node 'n1': AmazonRedshiftSource.Data.Table.Value is not a string" },
		{ "{\"n1\":{\"AmazonRedshiftTarget\":{\"Data\":[]}}}",
		  "job 'j': node 'n1': AmazonRedshiftTarget.Data is not an object" },
		{ "{\"n1\":{\"JDBCConnectorTarget\":{\"ConnectionTable\":\"t\",\"ConnectionName\":true}}}",
		  "job 'j': node 'n1': JDBCConnectorTarget.ConnectionName is not a string" },
		{ "{\"n1\":{\"S3DirectTarget\":{\"Path\":[\"s3://a/b\"]}}}",
		  "job 'j': node 'n1': S3DirectTarget.Path is not a string" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(bad); i++) {
		struct lineage_refs out = {0};
		struct gm_err err = {{0}};
		char json[1024];

		/* A ref already in the list survives, and nothing is added. */
		assert_int_equal(script_refs("spark.table('keep.me')", &out), 1);
		snprintf(json, sizeof(json), "{\"Name\":\"j\",\"CodeGenConfigurationNodes\":%s}",
		         bad[i].nodes);
		assert_int_equal(job_refs(json, &out, &err), -22);
		assert_string_equal(err.msg, bad[i].msg);
		assert_int_equal(out.n, 1);
		assert_string_equal(out.v[0].table, "me");
		lineage_refs_clear(&out);
	}
}

static void
test_visual_missing_members(void **state)
{
	static const char *skipped[] = {
		"{\"n\":{\"CatalogSource\":{\"Name\":\"x\",\"Database\":\"d\"}}}",
		"{\"n\":{\"CatalogTarget\":{\"Name\":\"x\",\"Database\":\"d\",\"Table\":\"\"}}}",
		"{\"n\":{\"S3JsonSource\":{\"Name\":\"x\",\"Paths\":null}}}",
		"{\"n\":{\"S3JsonSource\":{\"Name\":\"x\",\"Paths\":[\"\"]}}}",
		"{\"n\":{\"S3DirectTarget\":{\"Name\":\"x\",\"Format\":\"json\"}}}",
		"{\"n\":{\"AmazonRedshiftSource\":{\"Name\":\"x\"}}}",
		"{\"n\":{\"AmazonRedshiftSource\":{\"Name\":\"x\",\"Data\":{\"Schema\":{\"Value\":\"s\"}}}}}",
		"{\"n\":{\"JDBCConnectorSource\":{\"Name\":\"x\",\"ConnectionName\":\"c\","
		"\"Query\":\"select 1\"}}}",
		"{\"n\":{\"JDBCConnectorSource\":{\"Name\":\"x\",\"ConnectionTable\":\"(select 1) q\"}}}",
		"{\"n\":{\"SparkSQL\":{\"Name\":\"x\",\"SqlQuery\":\"select * from a\"}},"
		"\"m\":{\"Filter\":{\"Name\":\"f\",\"LogicalOperator\":\"AND\",\"Filters\":[]}}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(skipped); i++) {
		struct lineage_refs out = {0};
		struct gm_err err = {{0}};
		char json[1024];

		snprintf(json, sizeof(json), "{\"Name\":\"j\",\"CodeGenConfigurationNodes\":%s}",
		         skipped[i]);
		assert_int_equal(job_refs(json, &out, &err), 1);
		assert_int_equal(out.n, 0);
		lineage_refs_clear(&out);
	}
}

static void
test_job_without_nodes(void **state)
{
	static const char *none[] = {
		"{\"Name\":\"script_job\",\"Command\":{\"Name\":\"glueetl\","
		"\"ScriptLocation\":\"s3://b/scripts/j.py\"}}",
		"{\"Name\":\"j\",\"CodeGenConfigurationNodes\":null}",
		"{\"Name\":\"j\",\"CodeGenConfigurationNodes\":{}}",
	};
	struct lineage_refs out = {0};
	struct gm_err err = {{0}};
	cJSON *arr = cJSON_Parse("[1]");
	size_t i;

	(void)state;
	for (i = 0; i < N(none); i++) {
		assert_int_equal(job_refs(none[i], &out, &err), 0);
		assert_int_equal(out.n, 0);
	}
	assert_int_equal(lineage_from_job(arr, &out, &err), -22);
	assert_string_equal(err.msg, "a job that is not an object");
	assert_int_equal(lineage_from_job(NULL, &out, &err), -22);
	cJSON_Delete(arr);
	lineage_refs_clear(&out);
}

static void
test_script_location(void **state)
{
	static const struct { const char *job, *bucket, *key; } cases[] = {
		{ "{\"Command\":{\"Name\":\"glueetl\",\"ScriptLocation\":"
		  "\"s3://aws-glue-assets-123456789012-eu-west-1/scripts/sales daily.py\"}}",
		  "aws-glue-assets-123456789012-eu-west-1", "scripts/sales daily.py" },
		{ "{\"Command\":{\"ScriptLocation\":\"S3://b//x.scala\"}}", "b", "x.scala" },
		{ "{\"Command\":{\"ScriptLocation\":\"s3://b/k\"}}", "b", "k" },
		{ "{}", NULL, NULL },
		{ "{\"Command\":\"x\"}", NULL, NULL },
		{ "{\"Command\":{\"ScriptLocation\":5}}", NULL, NULL },
		{ "{\"Command\":{\"ScriptLocation\":\"https://b/k.py\"}}", NULL, NULL },
		{ "{\"Command\":{\"ScriptLocation\":\"s3://bucket\"}}", NULL, NULL },
		{ "{\"Command\":{\"ScriptLocation\":\"s3://bucket/\"}}", NULL, NULL },
		{ "{\"Command\":{\"ScriptLocation\":\"s3:///k.py\"}}", NULL, NULL },
		{ "[]", NULL, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		cJSON *job = cJSON_Parse(cases[i].job);
		char sentinel[] = "untouched", *bucket = sentinel, *key = sentinel;
		int r = lineage_script_location(job, &bucket, &key);

		if (!cases[i].bucket) {
			assert_int_equal(r, -22);
			assert_ptr_equal(bucket, sentinel);
			assert_ptr_equal(key, sentinel);
		} else {
			assert_int_equal(r, 0);
			assert_string_equal(bucket, cases[i].bucket);
			assert_string_equal(key, cases[i].key);
			free(bucket);
			free(key);
		}
		cJSON_Delete(job);
	}
}

/* --- scripts --- */

static const char *GLUE_SCRIPT =
	"import sys\n"
	"from awsglue.transforms import *\n"
	"from awsglue.utils import getResolvedOptions\n"
	"from pyspark.context import SparkContext\n"
	"from awsglue.context import GlueContext\n"
	"from awsglue.job import Job\n"
	"\n"
	"args = getResolvedOptions(sys.argv, [\"JOB_NAME\", \"TempDir\"])\n"
	"sc = SparkContext()\n"
	"glueContext = GlueContext(sc)\n"
	"spark = glueContext.spark_session\n"
	"job = Job(glueContext)\n"
	"job.init(args[\"JOB_NAME\"], args)\n"
	"\n"
	"# Script generated for node Orders\n"
	"Orders_node1 = glueContext.create_dynamic_frame.from_catalog(\n"
	"    database=\"sales_raw\",\n"
	"    table_name=\"orders\",\n"
	"    transformation_ctx=\"Orders_node1\",\n"
	")\n"
	"\n"
	"# Script generated for node Customers\n"
	"Customers_node2 = glueContext.create_dynamic_frame.from_options(\n"
	"    format_options={\"quoteChar\": '\"', \"withHeader\": True, \"separator\": \",\"},\n"
	"    connection_type=\"s3\",\n"
	"    format=\"csv\",\n"
	"    connection_options={\n"
	"        \"paths\": [\"s3://acme-landing/customers/\", \"s3a://acme-landing/customers_eu/\"],\n"
	"        \"recurse\": True,\n"
	"    },\n"
	"    transformation_ctx=\"Customers_node2\",\n"
	")\n"
	"\n"
	"Products_node3 = glueContext.create_dynamic_frame.from_options(\n"
	"    connection_type=\"postgresql\",\n"
	"    connection_options={\n"
	"        \"useConnectionProperties\": \"true\",\n"
	"        \"dbtable\": \"catalog.products\",\n"
	"        \"connectionName\": \"pg-catalog\",\n"
	"    },\n"
	"    transformation_ctx=\"Products_node3\",\n"
	")\n"
	"Legacy = glueContext.create_dynamic_frame.from_options(\"mysql\", {\"url\": "
	"\"jdbc:mysql://legacy.internal:3306/erp\", \"dbtable\": \"stock\", \"user\": \"etl\", "
	"\"password\": pw})\n"
	"\n"
	"Joined = Join.apply(frame1=Orders_node1, frame2=Customers_node2,\n"
	"                    keys1=[\"customer_id\"], keys2=[\"id\"])\n"
	"\n"
	"glueContext.purge_table(database=\"sales_curated\", table_name=\"orders_enriched\",\n"
	"                        options={\"retentionPeriod\": 0})\n"
	"glueContext.write_dynamic_frame.from_catalog(\n"
	"    frame=Joined,\n"
	"    database=\"sales_curated\",\n"
	"    table_name=\"orders_enriched\",\n"
	"    additional_options={\"enableUpdateCatalog\": True},\n"
	")\n"
	"glueContext.write_dynamic_frame.from_options(\n"
	"    frame=Joined,\n"
	"    connection_type=\"s3\",\n"
	"    format=\"glueparquet\",\n"
	"    connection_options={\"path\": \"s3://acme-curated/orders/\", \"partitionKeys\": [\"dt\"]},\n"
	"    format_options={\"compression\": \"snappy\"},\n"
	")\n"
	"glueContext.write_dynamic_frame.from_jdbc_conf(\n"
	"    frame=Joined,\n"
	"    catalog_connection=\"redshift-prod\",\n"
	"    connection_options={\"dbtable\": \"mart.orders\", \"database\": \"analytics\"},\n"
	"    redshift_tmp_dir=args[\"TempDir\"],\n"
	")\n"
	"glueContext.write_dynamic_frame.from_options(Joined, connection_type=\"sqlserver\",\n"
	"    connection_options={\n"
	"        \"url\": \"jdbc:sqlserver://mssql.internal:1433;databaseName=reporting\",\n"
	"                        \"dbtable\": \"dbo.orders\", \"user\": \"etl\"})\n"
	"job.commit()\n";

static const struct want GLUE_WANT[] = {
	TBL(0, "sales_raw", NULL, "orders", NULL),
	S3(0, "s3://acme-landing/customers/"),
	S3(0, "s3a://acme-landing/customers_eu/"),
	TBL(0, NULL, "catalog", "products", "pg-catalog"),
	TBL(0, "erp", NULL, "stock", NULL),
	TBL(1, "sales_curated", NULL, "orders_enriched", NULL),  /* purge_table, write: one ref */
	S3(1, "s3://acme-curated/orders/"),
	TBL(1, "analytics", "mart", "orders", "redshift-prod"),
	TBL(1, "reporting", "dbo", "orders", NULL),
};

static void
test_script_glue(void **state)
{
	struct lineage_refs out = {0};

	(void)state;
	assert_int_equal(script_refs(GLUE_SCRIPT, &out), (int)N(GLUE_WANT));
	expect_refs(&out, GLUE_WANT, N(GLUE_WANT));
	lineage_refs_clear(&out);
}

static void
test_script_glue_variants(void **state)
{
	static const char *script =
		"dyf0 = glueContext.create_dynamic_frame_from_catalog(\"hr\", \"employees\")\n"
		"dyf = glueContext.create_dynamic_frame.from_catalog(database = 'hr',\n"
		"                                                   table_name = 'departments')\n"
		"glueContext.write_dynamic_frame.from_catalog(dyf, \"hr_out\", \"departments\")\n"
		"glueContext.write_dynamic_frame_from_options(frame=dyf, connection_type=\"s3\",\n"
		"    connection_options={'path': 's3n://hr-archive/departments'}, format=\"json\")\n"
		"glueContext.write_dynamic_frame.from_jdbc_conf(dyf, \"pg-hr\",\n"
		"                                               {\"dbtable\": \"hr.departments\"})\n"
		"glueContext.purge_table(\"tmp\", \"scratch\")\n"
		"sal = glueContext.create_data_frame.from_catalog(database=\"hr\", table_name=\"salaries\")\n"
		"glueContext.create_dynamic_frame.from_options(\"S3\", dict(paths=[\"s3://hr-in/a/\"]))\n"
		"glueContext.create_dynamic_frame \\\n"
		"    .from_options(connection_type=\"s3\", connection_options={\"paths\": \"s3://hr-in/b/\"})\n"
		/* not literals, or not lineage */
		"x = glueContext.create_dynamic_frame.from_catalog(database=db_name, table_name=\"x\")\n"
		"y = glueContext.create_dynamic_frame.from_options(connection_type=\"s3\",\n"
		"    connection_options={\"paths\": [f\"s3://{bucket}/in/\", args[\"input\"]]})\n"
		"z = glueContext.create_dynamic_frame.from_options(connection_type=\"dynamodb\",\n"
		"    connection_options={\"dynamodb.input.tableName\": \"ddb\"})\n"
		"w = glueContext.create_dynamic_frame.from_options(connection_type=\"kafka\",\n"
		"    connection_options={\"dbtable\": \"not_jdbc\"})\n"
		"v = glueContext.create_dynamic_frame.from_options(connection_type=\"s3\",\n"
		"    connection_options={\"paths\": [\"/local/path\", \"s3://\", \"hdfs://nn/x\"]})\n";
	static const struct want want[] = {
		TBL(0, "hr", NULL, "employees", NULL),
		TBL(0, "hr", NULL, "departments", NULL),
		TBL(1, "hr_out", NULL, "departments", NULL),
		S3(1, "s3n://hr-archive/departments"),
		TBL(1, NULL, "hr", "departments", "pg-hr"),
		TBL(1, "tmp", NULL, "scratch", NULL),
		TBL(0, "hr", NULL, "salaries", NULL),
		S3(0, "s3://hr-in/a/"),
		S3(0, "s3://hr-in/b/"),
	};
	struct lineage_refs out = {0};

	(void)state;
	assert_int_equal(script_refs(script, &out), (int)N(want));
	expect_refs(&out, want, N(want));
	lineage_refs_clear(&out);
}

static const char *SPARK_SCRIPT =
	"from pyspark.sql import SparkSession\n"
	"spark = SparkSession.builder.appName(\"events\").enableHiveSupport().getOrCreate()\n"
	"\n"
	"events = spark.read.parquet(\"s3://acme-events/raw/2024/\")\n"
	"users = spark.read.json('s3a://acme-users/json/')\n"
	"geo = spark.read.csv(\"s3://acme-ref/geo.csv\", header=True, inferSchema=True)\n"
	"devices = spark.read.orc(\"s3n://acme-ref/devices/\")\n"
	"clicks = spark.read.avro(\"s3://acme-events/clicks/\")\n"
	"logs = spark.read.load(\"s3://acme-logs/app/\", format=\"parquet\")\n"
	"local = spark.read.parquet(\"/tmp/local.parquet\")\n"
	"sessions = (\n"
	"    spark.read\n"
	"    .format(\"delta\")\n"
	"    .option(\"mergeSchema\", \"true\")\n"
	"    .load(\"s3://acme-lake/sessions/\")\n"
	")\n"
	"customers = spark.read.jdbc(\"jdbc:postgresql://crm-db:5432/crm?sslmode=require\",\n"
	"                            \"public.customers\", properties=props)\n"
	"orders = spark.read.jdbc(url=jdbc_url, table=\"sales.orders\")\n"
	"dims = spark.read.table(\"warehouse.dim_date\")\n"
	"facts = spark.table(\"fact_sales\")\n"
	"ice = spark.table(\"glue_catalog.lake.events\")\n"
	"\n"
	"out = events.join(users, \"user_id\")\n"
	"out.write.mode(\"overwrite\").partitionBy(\"dt\").parquet(\"s3://acme-curated/events/\")\n"
	"out.write.json(\"s3://acme-curated/events_json/\")\n"
	"(out.write\n"
	"    .format(\"delta\")\n"
	"    .mode(\"append\")\n"
	"    .save(\"s3a://acme-lake/events_delta/\"))\n"
	"out.write.csv(path=\"s3://acme-exports/events.csv\", header=True)\n"
	"out.write.jdbc(\"jdbc:mysql://bi-db:3306/bi\", \"daily_events\", mode=\"append\",\n"
	"               properties=props)\n"
	"out.write.mode(\"overwrite\").saveAsTable(\"analytics.events_daily\")\n"
	"out.write.insertInto(\"events_hist\", overwrite=True)\n"
	"out.write.format(\"orc\").save(\"/local/only\")\n";

static const struct want SPARK_WANT[] = {
	S3(0, "s3://acme-events/raw/2024/"),
	S3(0, "s3a://acme-users/json/"),
	S3(0, "s3://acme-ref/geo.csv"),
	S3(0, "s3n://acme-ref/devices/"),
	S3(0, "s3://acme-events/clicks/"),
	S3(0, "s3://acme-logs/app/"),
	S3(0, "s3://acme-lake/sessions/"),
	TBL(0, "crm", "public", "customers", NULL),
	TBL(0, NULL, "sales", "orders", NULL),
	TBL(0, "warehouse", NULL, "dim_date", NULL),
	TBL(0, "default", NULL, "fact_sales", NULL),
	TBL(0, "lake", NULL, "events", NULL),
	S3(1, "s3://acme-curated/events/"),
	S3(1, "s3://acme-curated/events_json/"),
	S3(1, "s3a://acme-lake/events_delta/"),
	S3(1, "s3://acme-exports/events.csv"),
	TBL(1, "bi", NULL, "daily_events", NULL),
	TBL(1, "analytics", NULL, "events_daily", NULL),
	TBL(1, "default", NULL, "events_hist", NULL),
};

static void
test_script_spark(void **state)
{
	struct lineage_refs out = {0};

	(void)state;
	assert_int_equal(script_refs(SPARK_SCRIPT, &out), (int)N(SPARK_WANT));
	expect_refs(&out, SPARK_WANT, N(SPARK_WANT));
	lineage_refs_clear(&out);
}

static void
test_script_spark_options(void **state)
{
	static const char *script =
		"df = (spark.read.format(\"jdbc\")\n"
		"      .option(\"url\", \"jdbc:redshift://c1.abc.us-east-1.redshift.amazonaws.com:5439/dev\")\n"
		"      .option(\"dbtable\", \"public.sales\")\n"
		"      .option(\"user\", user).option(\"password\", pw)\n"
		"      .load())\n"
		"df.write.format(\"jdbc\").options(url=\"jdbc:postgresql://pg:5432/reporting\",\n"
		"    dbtable=\"rpt.sales\").mode(\"append\").save()\n"
		"spark.read.format(\"parquet\").option(\"path\", \"s3://acme-opt/path/\").load()\n"
		"spark.read.parquet(\"s3://multi/a/\", \"s3://multi/b/\")\n"
		"spark.read.load([\"s3://multi/c/\", \"s3://multi/d/\"])\n"
		"spark.read.format(\"csv\").load()\n"
		"spark.read.text(\"s3://not/recognised/\")\n";
	static const struct want want[] = {
		TBL(0, "dev", "public", "sales", NULL),
		TBL(1, "reporting", "rpt", "sales", NULL),
		S3(0, "s3://acme-opt/path/"),
		S3(0, "s3://multi/a/"),
		S3(0, "s3://multi/b/"),
		S3(0, "s3://multi/c/"),
		S3(0, "s3://multi/d/"),
	};
	struct lineage_refs out = {0};

	(void)state;
	assert_int_equal(script_refs(script, &out), (int)N(want));
	expect_refs(&out, want, N(want));
	lineage_refs_clear(&out);
}

static void
test_script_scala(void **state)
{
	static const char *script =
		"import com.amazonaws.services.glue.GlueContext\n"
		"object GlueApp {\n"
		"  def main(sysArgs: Array[String]) {\n"
		"    val spark: SparkContext = new SparkContext()\n"
		"    val sparkSession: SparkSession = glueContext.getSparkSession\n"
		"    // val old = sparkSession.read.parquet(\"s3://old-bucket/ignored/\")\n"
		"    /* sparkSession.read.json(\"s3://old-bucket/block/\")\n"
		"       df.write.parquet(\"s3://old-bucket/block2/\") */\n"
		"    val df = sparkSession.read.option(\"header\", \"true\").csv(\"s3://scala-in/data/\")\n"
		"    df.write.mode(SaveMode.Overwrite).parquet(\"s3://scala-out/data/\")\n"
		"    val path = s\"s3://$bucket/x/\"\n"
		"    df.write.parquet(s\"s3://$bucket/out/\")\n"
		"  }\n"
		"}\n";
	static const struct want want[] = {
		S3(0, "s3://scala-in/data/"),
		S3(1, "s3://scala-out/data/"),
	};
	struct lineage_refs out = {0};

	(void)state;
	assert_int_equal(script_refs(script, &out), (int)N(want));
	expect_refs(&out, want, N(want));
	lineage_refs_clear(&out);
}

static void
test_script_comments_and_strings(void **state)
{
	static const char *script =
		"# glueContext.create_dynamic_frame.from_catalog(database=\"old\", table_name=\"gone\")\n"
		"#spark.read.parquet(\"s3://old/gone/\")\n"
		"x = 1  # spark.table(\"also.gone\")\n"
		"    # df.write.saveAsTable(\"indented.gone\")\n"
		"doc = \"\"\"\n"
		"spark.read.parquet(\"s3://in-docstring/\")\n"
		"\"\"\"\n"
		"msg = \"spark.table('in.string')\"\n"
		"s = 'a # not a comment'; spark.table(\"kept.t\")\n"
		"q = r'C:\\dir' ; spark.table('esc\\'aped.t2')\n"
		"half = 10 // 2; spark.table(\"kept.t3\")\n"
		"p = spark.read.parquet(\"s3://nul\\0byte/\")\n";
	static const struct want want[] = {
		TBL(0, "kept", NULL, "t", NULL),
		TBL(0, "esc'aped", NULL, "t2", NULL),
		TBL(0, "kept", NULL, "t3", NULL),
	};
	struct lineage_refs out = {0};
	/* NUL bytes between tokens are blanks; a path holding one is dropped */
	static const char nul[] = "spark.table(\"a.b\")\0\0spark.table(\"c.d\")\n"
	                          "spark.read.json(\"s3://x/\0y\")";
	static const struct want nul_want[] = {
		TBL(0, "a", NULL, "b", NULL),
		TBL(0, "c", NULL, "d", NULL),
	};

	(void)state;
	assert_int_equal(script_refs(script, &out), (int)N(want));
	expect_refs(&out, want, N(want));
	lineage_refs_clear(&out);
	assert_int_equal(lineage_from_script(nul, sizeof(nul) - 1, &out), 2);
	expect_refs(&out, nul_want, N(nul_want));
	lineage_refs_clear(&out);
}

static void
test_jdbc_database(void **state)
{
	static const struct { const char *url, *db; } cases[] = {
		{ "jdbc:postgresql://h:5432/salesdb?x=1", "salesdb" },
		{ "jdbc:postgresql://h/salesdb", "salesdb" },
		{ "jdbc:postgresql://[::1]:5432/v6db", "v6db" },
		{ "jdbc:redshift://c1.abc.us-east-1.redshift.amazonaws.com:5439/dev", "dev" },
		{ "jdbc:redshift:iam://c1:5439/dev;ssl=true", "dev" },
		{ "jdbc:mysql://h:3306/erp", "erp" },
		{ "jdbc:mysql://h:3306/erp?useSSL=false&serverTimezone=UTC", "erp" },
		{ "JDBC:MySQL://h/erp", "erp" },
		{ "jdbc:sqlserver://h:1433;databaseName=rpt;encrypt=true", "rpt" },
		{ "jdbc:sqlserver://h\\inst;database=rpt", "rpt" },
		{ "jdbc:oracle:thin:@//h:1521/ORCLPDB1", "ORCLPDB1" },
		{ "jdbc:oracle:thin:@h:1521:ORCL", "ORCL" },
		{ "jdbc:oracle:thin://@h:1521/svc.example.com", "svc.example.com" },
		{ "jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=h)(PORT=1521))"
		  "(CONNECT_DATA=(SERVICE_NAME=sales)))", "sales" },
		{ "jdbc:sqlserver://h:1433", NULL },
		{ "jdbc:sqlserver://h:1433;encrypt=true", NULL },
		{ "jdbc:mysql://h:3306/", NULL },
		{ "jdbc:oracle:thin:@h:1521", NULL },
		{ "jdbc:postgresql:salesdb", NULL },
		{ "postgresql://h/db", NULL },
		{ "jdbc:", NULL },
		{ "", NULL },
	};
	size_t i;
	char *db;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		db = lineage_jdbc_database(cases[i].url);
		if (!str_eq(db, cases[i].db))
			fprintf(stderr, "%s -> %s\n", cases[i].url, show(db));
		assert_true(str_eq(db, cases[i].db));
		free(db);
	}
	assert_null(lineage_jdbc_database(NULL));
}

static void
test_dedup(void **state)
{
	static const char *script =
		"spark.read.parquet('s3://same/x/')\n"
		"df.write.parquet('s3://same/x/')\n"          /* a target: kept */
		"spark.read.parquet(\"s3://same/x/\")\n"
		"glueContext.create_dynamic_frame.from_catalog(database='raw', table_name='clicks')\n"
		"spark.table('raw.clicks')\n";
	static const struct want want[] = {
		S3(0, "s3://same/x/"),
		S3(1, "s3://same/x/"),
		TBL(0, "raw", NULL, "clicks", NULL),
	};
	struct lineage_refs out = {0};
	struct gm_err err = {{0}};
	struct buf b = {0};
	int i;

	(void)state;
	assert_int_equal(script_refs(script, &out), 3);
	expect_refs(&out, want, N(want));
	/* Again into the same list, and a job naming the same things. */
	assert_int_equal(script_refs(script, &out), 0);
	assert_int_equal(job_refs("{\"Name\":\"j\",\"CodeGenConfigurationNodes\":{"
	                          "\"a\":{\"CatalogSource\":{\"Database\":\"raw\","
	                          "\"Table\":\"clicks\"}},"
	                          "\"b\":{\"S3ParquetSource\":{\"Paths\":[\"s3://same/x/\"]}},"
	                          "\"c\":{\"CatalogTarget\":{\"Database\":\"raw\","
	                          "\"Table\":\"clicks\"}}}}",
	                          &out, &err), 1);
	assert_int_equal(out.n, 4);
	assert_int_equal(out.v[3].is_target, 1);
	lineage_refs_clear(&out);

	/* Many distinct refs go through the hash set; each comes once. */
	for (i = 0; i < 20000; i++)
		assert_int_equal(buf_printf(&b, "spark.table(\"db.t%d\")\nspark.table(\"db.t%d\")\n",
		                            i, i / 2), 0);
	assert_int_equal(lineage_from_script(b.data, b.len, &out), 20000);
	assert_string_equal(out.v[19999].table, "t19999");
	assert_int_equal(lineage_from_script(b.data, b.len, &out), 0);
	buf_clear(&b);
	lineage_refs_clear(&out);
}

/* --- robustness --- */

static uint64_t seed = 0x2545f4914f6cdd1dULL;

static uint32_t
rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)seed;
}

static void
check_well_formed(const struct lineage_refs *out)
{
	size_t i;

	for (i = 0; i < out->n; i++) {
		const struct lineage_ref *r = &out->v[i];

		if (r->kind == LINEAGE_S3) {
			assert_non_null(r->path);
			assert_true(strncmp(r->path, "s3", 2) == 0);
			assert_null(r->table);
		} else {
			assert_int_equal(r->kind, LINEAGE_TABLE);
			assert_non_null(r->table);
			assert_true(r->table[0] != '\0');
			assert_null(r->path);
		}
		assert_true(r->is_target == 0 || r->is_target == 1);
	}
}

/* Feeds s[0..len) through a heap copy of exactly len bytes, so ASan and
 * valgrind catch any read past the end. */
static int
feed(const char *s, size_t len, struct lineage_refs *out)
{
	char *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, s, len);
	r = lineage_from_script(copy, len, out);
	free(copy);
	assert_true(r >= 0);
	check_well_formed(out);
	return r;
}

static void
test_robust_truncated(void **state)
{
	const char *scripts[] = { GLUE_SCRIPT, SPARK_SCRIPT };
	struct lineage_refs out = {0};
	size_t i, len;

	(void)state;
	for (i = 0; i < N(scripts); i++) {
		for (len = 0; len <= strlen(scripts[i]); len++) {
			feed(scripts[i], len, &out);
			lineage_refs_clear(&out);
		}
	}
	/* The whole script still gives exactly its refs. */
	assert_int_equal(feed(GLUE_SCRIPT, strlen(GLUE_SCRIPT), &out), (int)N(GLUE_WANT));
	expect_refs(&out, GLUE_WANT, N(GLUE_WANT));
	lineage_refs_clear(&out);
}

static void
test_robust_random(void **state)
{
	static const char syntax[] = "()[]{}.,:=\"'#\\/*\n\t 0s3:/_";
	static const char *words[] = { "spark", ".read", ".write", ".table(", "(", ")", "\"",
	                               "'''", "\"\"\"", "s3://b/k", "\"s3://b/k\"", "{\"paths\":",
	                               "[", "]", "from_catalog(", "database=", "table_name=",
	                               ".jdbc(", "glueContext.write_dynamic_frame.from_options(",
	                               "connection_type=\"s3\"", "#", "\n", "//", "/*", "*/",
	                               "\"a.b\"", ",", "f\"{x}\"", "\\", "\0" };
	const char *base[] = { GLUE_SCRIPT, SPARK_SCRIPT };
	struct lineage_refs out = {0};
	char *b = malloc(8192);
	size_t len, k, n;
	int iter;

	(void)state;
	assert_non_null(b);
	for (iter = 0; iter < 3000; iter++) {
		len = rnd() % 4096;
		switch (iter % 3) {
		case 0:         /* raw bytes */
			for (k = 0; k < len; k++)
				b[k] = (char)rnd();
			break;
		case 1:         /* a soup of tokens */
			for (k = 0; k < len; k += n) {
				const char *w = words[rnd() % N(words)];

				n = strlen(w) ? strlen(w) : 1;
				if (k + n > len)
					break;
				memcpy(b + k, w, n);
			}
			len = k;
			break;
		default:        /* a script with a few bytes changed */
			len = strlen(base[iter % 2]);
			memcpy(b, base[iter % 2], len);
			for (k = 0; k < 1 + rnd() % 8; k++)
				b[rnd() % len] = syntax[rnd() % (sizeof(syntax) - 1)];
			len -= rnd() % 64;
			break;
		}
		feed(b, len, &out);
		lineage_refs_clear(&out);
	}
	free(b);
}

/* Adversarial 1 MB inputs: deep nesting, unclosed brackets and strings,
 * endless chains; each must finish in linear time. */
static void
test_robust_large(void **state)
{
	static const char *units[] = { "(", "[{", "spark.table(", ".read", ".write.option(1)",
	                               "\"\"\"", "'", "x.create_dynamic_frame.from_options(",
	                               "{\"paths\": [", "a,", "/*", "#", "\"s3://b/k\",",
	                               ")", "spark.read" };
	const size_t size = 1 << 20;
	struct lineage_refs out = {0};
	char *b = malloc(size);
	size_t i, k, n;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < N(units); i++) {
		n = strlen(units[i]);
		for (k = 0; k + n <= size; k += n)
			memcpy(b + k, units[i], n);
		feed(b, k, &out);
		lineage_refs_clear(&out);
	}
	/* A long chain ending in a real write is still seen within the cap. */
	k = (size_t)snprintf(b, size, "df.write");
	for (i = 0; i < 10; i++)
		k += (size_t)snprintf(b + k, size - k, ".option(\"k%zu\", \"v\")", i);
	k += (size_t)snprintf(b + k, size - k, ".parquet(\"s3://chain/out/\")");
	assert_int_equal(feed(b, k, &out), 1);
	assert_string_equal(out.v[0].path, "s3://chain/out/");
	assert_int_equal(out.v[0].is_target, 1);
	lineage_refs_clear(&out);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_visual_tables),
		cmocka_unit_test(test_visual_s3),
		cmocka_unit_test(test_visual_malformed),
		cmocka_unit_test(test_visual_missing_members),
		cmocka_unit_test(test_job_without_nodes),
		cmocka_unit_test(test_script_location),
		cmocka_unit_test(test_script_glue),
		cmocka_unit_test(test_script_glue_variants),
		cmocka_unit_test(test_script_spark),
		cmocka_unit_test(test_script_spark_options),
		cmocka_unit_test(test_script_scala),
		cmocka_unit_test(test_script_comments_and_strings),
		cmocka_unit_test(test_jdbc_database),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_robust_truncated),
		cmocka_unit_test(test_robust_random),
		cmocka_unit_test(test_robust_large),
	};

	return cmocka_run_group_tests_name("lineage", tests, NULL, NULL);
}
