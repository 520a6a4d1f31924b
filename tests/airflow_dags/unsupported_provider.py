from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator

with DAG("unsupported_provider", start_date=datetime(2024, 1, 1), schedule="@daily") as dag:
    S3CreateBucketOperator(task_id="bucket", bucket_name="b")
