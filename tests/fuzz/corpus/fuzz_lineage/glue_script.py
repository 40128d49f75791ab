import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ["JOB_NAME", "TempDir"])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

# Script generated for node Orders
Orders_node1 = glueContext.create_dynamic_frame.from_catalog(
    database="sales_raw",
    table_name="orders",
    transformation_ctx="Orders_node1",
)

# Script generated for node Customers
Customers_node2 = glueContext.create_dynamic_frame.from_options(
    format_options={"quoteChar": '"', "withHeader": True, "separator": ","},
    connection_type="s3",
    format="csv",
    connection_options={
        "paths": ["s3://acme-landing/customers/", "s3a://acme-landing/customers_eu/"],
        "recurse": True,
    },
    transformation_ctx="Customers_node2",
)

Products_node3 = glueContext.create_dynamic_frame.from_options(
    connection_type="postgresql",
    connection_options={
        "useConnectionProperties": "true",
        "dbtable": "catalog.products",
        "connectionName": "pg-catalog",
    },
    transformation_ctx="Products_node3",
)
Legacy = glueContext.create_dynamic_frame.from_options("mysql", {"url": "jdbc:mysql://legacy.internal:3306/erp", "dbtable": "stock", "user": "etl", "password": pw})

Joined = Join.apply(frame1=Orders_node1, frame2=Customers_node2,
                    keys1=["customer_id"], keys2=["id"])

glueContext.purge_table(database="sales_curated", table_name="orders_enriched",
                        options={"retentionPeriod": 0})
glueContext.write_dynamic_frame.from_catalog(
    frame=Joined,
    database="sales_curated",
    table_name="orders_enriched",
    additional_options={"enableUpdateCatalog": True},
)
glueContext.write_dynamic_frame.from_options(
    frame=Joined,
    connection_type="s3",
    format="glueparquet",
    connection_options={"path": "s3://acme-curated/orders/", "partitionKeys": ["dt"]},
    format_options={"compression": "snappy"},
)
glueContext.write_dynamic_frame.from_jdbc_conf(
    frame=Joined,
    catalog_connection="redshift-prod",
    connection_options={"dbtable": "mart.orders", "database": "analytics"},
    redshift_tmp_dir=args["TempDir"],
)
glueContext.write_dynamic_frame.from_options(Joined, connection_type="sqlserver",
    connection_options={
        "url": "jdbc:sqlserver://mssql.internal:1433;databaseName=reporting",
                        "dbtable": "dbo.orders", "user": "etl"})
job.commit()
