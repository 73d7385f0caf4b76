"""Tiny S3 admin for tests: create a bucket, or list keys under a prefix (one per line).

usage: s3_admin.py create BUCKET | list BUCKET PREFIX | put BUCKET KEY FILE
Endpoint and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
"""
import os
import sys
import time

import boto3

s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))
if sys.argv[1] == "create":
    for attempt in range(50):  # the server may still be starting
        try:
            s3.create_bucket(Bucket=sys.argv[2])
            break
        except Exception:
            if attempt == 49:
                raise
            time.sleep(0.2)
elif sys.argv[1] == "list":
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[2], Prefix=sys.argv[3])
    for page in pages:
        for obj in page.get("Contents", []):
            print(obj["Key"])
elif sys.argv[1] == "put":
    with open(sys.argv[4], "rb") as f:
        s3.put_object(Bucket=sys.argv[2], Key=sys.argv[3], Body=f.read())
