import sys
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "TempDir", "input"])
glueContext = GlueContext(SparkContext.getOrCreate())

dyf0 = glueContext.create_dynamic_frame_from_catalog("hr", "employees")
dyf = glueContext.create_dynamic_frame.from_catalog(database = 'hr',
                                                   table_name = 'departments')
glueContext.write_dynamic_frame.from_catalog(dyf, "hr_out", "departments")
glueContext.write_dynamic_frame_from_options(frame=dyf, connection_type="s3",
    connection_options={'path': 's3n://hr-archive/departments'}, format="json")
glueContext.write_dynamic_frame.from_jdbc_conf(dyf, "pg-hr",
                                               {"dbtable": "hr.departments"})
glueContext.purge_table("tmp", "scratch")
sal = glueContext.create_data_frame.from_catalog(database="hr", table_name="salaries")
glueContext.create_dynamic_frame.from_options("S3", dict(paths=["s3://hr-in/a/"]))
glueContext.create_dynamic_frame \
    .from_options(connection_type="s3", connection_options={"paths": "s3://hr-in/b/"})
x = glueContext.create_dynamic_frame.from_catalog(database=db_name, table_name="x")
y = glueContext.create_dynamic_frame.from_options(connection_type="s3",
    connection_options={"paths": [f"s3://{bucket}/in/", args["input"]]})
z = glueContext.create_dynamic_frame.from_options(connection_type="dynamodb",
    connection_options={"dynamodb.input.tableName": "ddb"})
rs = glueContext.create_dynamic_frame.from_options(connection_type="redshift",
    connection_options={"url": "jdbc:redshift://c1.abc.eu-west-1.redshift.amazonaws.com:5439/dev",
                        "dbtable": "public.sales", "redshiftTmpDir": args["TempDir"]})
ora = glueContext.create_dynamic_frame.from_options(connection_type="oracle",
    connection_options={"url": "jdbc:oracle:thin:@//ora.internal:1521/ORCLPDB1",
                        "dbtable": "HR.EMPLOYEES", "user": "etl", "password": pw})
glueContext.write_dynamic_frame.from_options(frame=dyf, connection_type="mysql",
    connection_options={"url": "jdbc:mysql://h:3306/erp?useSSL=false", "dbtable": "`stock`.`items`"},
    catalog_connection="mysql-erp")
