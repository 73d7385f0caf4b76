"""Read ecomwh tables back with DuckDB, the way an analyst would: Parquet files globbed
with Hive partitioning, straight from S3 (or a local folder). Prints JSON:
{table: {"rows": n, "by_dt": {dt: n}, "dt_type": "..."}}.

usage: duckdb_readback.py WAREHOUSE_URL TABLE [TABLE ...]   (TABLE like staging/orders)
S3 settings come from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION.
"""
import json
import os
import sys

import duckdb


def connect():
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        # httpfs comes from the duckdb-ext-httpfs wheel: no download at run time.
        import duckdb_ext

        version = duckdb.__version__
        path = os.path.join(list(duckdb_ext.__path__)[0], f"extensions/v{version}/linux_amd64/httpfs.duckdb_extension")
        con.execute(f"LOAD '{path}'")
        host = endpoint.split("://", 1)[1].rstrip("/")
        con.execute(f"SET s3_endpoint='{host}'")
        con.execute("SET s3_use_ssl=false")
        con.execute("SET s3_url_style='path'")
        con.execute(f"SET s3_access_key_id='{os.environ['AWS_ACCESS_KEY_ID']}'")
        con.execute(f"SET s3_secret_access_key='{os.environ['AWS_SECRET_ACCESS_KEY']}'")
        con.execute(f"SET s3_region='{os.environ.get('AWS_REGION', 'us-east-1')}'")
    return con


def main():
    base = sys.argv[1].rstrip("/")
    if base.startswith("file://"):
        base = base[len("file://"):]
    con = connect()
    out = {}
    for table in sys.argv[2:]:
        glob = f"{base}/{table}/*/*.parquet"
        rel = f"read_parquet('{glob}', hive_partitioning = true)"
        rows = con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0]
        by_dt = dict(con.execute(f"SELECT CAST(dt AS VARCHAR), count(*) FROM {rel} GROUP BY 1 ORDER BY 1").fetchall())
        dt_type = con.execute(f"SELECT typeof(dt) FROM {rel} LIMIT 1").fetchone()
        out[table] = {"rows": rows, "by_dt": by_dt, "dt_type": dt_type[0] if dt_type else None}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
