import com.amazonaws.services.glue.GlueContext
import com.amazonaws.services.glue.util.JsonOptions
object GlueApp {
  def main(sysArgs: Array[String]) {
    val spark: SparkContext = new SparkContext()
    val glueContext: GlueContext = new GlueContext(spark)
    val sparkSession: SparkSession = glueContext.getSparkSession
    // val old = sparkSession.read.parquet("s3://old-bucket/ignored/")
    /* sparkSession.read.json("s3://old-bucket/block/")
       df.write.parquet("s3://old-bucket/block2/") */
    val df = sparkSession.read.option("header", "true").csv("s3://scala-in/data/")
    df.write.mode(SaveMode.Overwrite).parquet("s3://scala-out/data/")
    val path = s"s3://$bucket/x/"
    df.write.parquet(s"s3://$bucket/out/")
    val raw = """s3://in-a-raw-string/"""
    sparkSession.table("lake.sessions")
  }
}
