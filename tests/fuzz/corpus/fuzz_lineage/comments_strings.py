# glueContext.create_dynamic_frame.from_catalog(database="old", table_name="gone")
#spark.read.parquet("s3://old/gone/")
x = 1  # spark.table("also.gone")
    # df.write.saveAsTable("indented.gone")
doc = """
spark.read.parquet("s3://in-docstring/")
"""
msg = "spark.table('in.string')"
s = 'a # not a comment'; spark.table("kept.t")
q = r'C:\dir' ; spark.table('esc\'aped.t2')
half = 10 // 2; spark.table("kept.t3")
p = spark.read.parquet("s3://nul\0byte/")
u = spark.read.json(b"s3://bytes/x/", rb'''s3://raw/bytes/''')
