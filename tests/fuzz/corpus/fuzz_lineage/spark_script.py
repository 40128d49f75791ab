from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("events").enableHiveSupport().getOrCreate()

events = spark.read.parquet("s3://acme-events/raw/2024/")
users = spark.read.json('s3a://acme-users/json/')
geo = spark.read.csv("s3://acme-ref/geo.csv", header=True, inferSchema=True)
devices = spark.read.orc("s3n://acme-ref/devices/")
clicks = spark.read.avro("s3://acme-events/clicks/")
logs = spark.read.load("s3://acme-logs/app/", format="parquet")
local = spark.read.parquet("/tmp/local.parquet")
sessions = (
    spark.read
    .format("delta")
    .option("mergeSchema", "true")
    .load("s3://acme-lake/sessions/")
)
customers = spark.read.jdbc("jdbc:postgresql://crm-db:5432/crm?sslmode=require",
                            "public.customers", properties=props)
orders = spark.read.jdbc(url=jdbc_url, table="sales.orders")
dims = spark.read.table("warehouse.dim_date")
facts = spark.table("fact_sales")
ice = spark.table("glue_catalog.lake.events")

out = events.join(users, "user_id")
out.write.mode("overwrite").partitionBy("dt").parquet("s3://acme-curated/events/")
out.write.json("s3://acme-curated/events_json/")
(out.write
    .format("delta")
    .mode("append")
    .save("s3a://acme-lake/events_delta/"))
out.write.csv(path="s3://acme-exports/events.csv", header=True)
out.write.jdbc("jdbc:mysql://bi-db:3306/bi", "daily_events", mode="append",
               properties=props)
out.write.mode("overwrite").saveAsTable("analytics.events_daily")
out.write.insertInto("events_hist", overwrite=True)
out.write.format("orc").save("/local/only")
