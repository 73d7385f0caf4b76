"""Staging from feeds written for DuckDB, as a peer: the same mapping SQL files
(sql/sources/<preset>/*.sql) over the same files, read by DuckDB's read_csv,
read_json_objects (the JSON paths the presets name extracted as text, as ecomwh's reader does)
and read_parquet (GA4's nested records reached by the same paths), then the checks, latest
version per key and Parquet output of duckdb_staging.py. Tables no preset fills are read in
ecomwh's own layout. Only what the SQL dialects spell differently is rewritten (see `dialect`).

usage: duckdb_feeds.py WAREHOUSE_DIR DATE OUT_DIR [PRESETS]   (default shopify_csv,segment)
"""
import datetime as dtm
import glob
import os
import re
import sys
import tomllib

import duckdb

from duckdb_staging import ORDER, ROOT, reader, stage_table

SPEC_CALL_KEYS = [
    "type", "action", "event", "messageId", "userId", "user_id", "anonymousId", "timestamp", "originalTimestamp",
    "receivedAt", "properties", "properties.sku", "properties.product_id", "properties.query", "properties.url",
    "properties.link_url", "properties.referrer", "context.page.url", "context.page.referrer", "context.userAgent",
    "context.user_agent", "context.device.type", "context.os.name", "context.location.country", "context.sessionId",
    "context.traits.email",
]
# Which tables each preset's SQL fills.
PRESETS = {"shopify_csv": ["customers", "products", "orders", "order_items"], "segment": ["events", "suppressions", "identifies"], "ga4": ["events"]}
# GA4's event_params the mapping reads: `event_params[key]` is the value of that key's record.
GA4_PARAMS = ["ga_session_id", "page_location", "page_referrer", "search_term", "value", "currency"]


def sql_file(rel):
    text = open(os.path.join(ROOT, "sql", rel)).read()
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def dialect(sql, date):
    """DataFusion's spelling -> DuckDB's: placeholders, an ordered aggregate, zoned timestamps, time formats."""
    sql = sql.replace("{{earlier_signups}}", "(SELECT NULL::VARCHAR AS customer_id, NULL::TIMESTAMPTZ AS signup_ts WHERE false)")
    sql = sql.replace("$run_date", f"DATE '{date}'").replace("$session_gap_seconds", "1800")
    # The ordered aggregate first_value(x ORDER BY y) is DuckDB's first(x ORDER BY y).
    sql = re.sub(r"first_value\(([^()]*) ORDER BY ([^()]*)\)", r"first(\1 ORDER BY \2)", sql)
    # chrono's fraction of a second is DuckDB's .%f.
    return sql.replace("AS TIMESTAMP)", "AS TIMESTAMPTZ)").replace("%.f", ".%f")


def main():
    wh, date, out = sys.argv[1], sys.argv[2], sys.argv[3]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    # ecomwh's feed_timestamp: any readable time as UTC text, else the text unchanged.
    con.execute("""CREATE MACRO feed_timestamp(x) AS coalesce(strftime(coalesce(
        try_strptime(x, '%Y-%m-%d %H:%M:%S %z'), try_cast(x AS TIMESTAMPTZ),
        CASE WHEN length(x) = 16 THEN make_timestamptz(try_cast(x AS BIGINT)) END), '%Y-%m-%dT%H:%M:%S.%fZ'), x)""")
    con.execute("CREATE MACRO to_unixtime(x) AS CAST(floor(epoch(x)) AS BIGINT)")
    con.execute("CREATE MACRO to_char(t, f) AS strftime(t, f)")

    chosen = (sys.argv[4] if len(sys.argv) > 4 else "shopify_csv,segment").split(",")
    csvs = sorted(glob.glob(f"{wh}/raw/shopify_csv/{date}/*.csv"))
    if "shopify_csv" in chosen:
        con.execute(f"""CREATE VIEW feed_shopify_csv AS
            SELECT *, filename AS _file, row_number() OVER () AS _line, row_number() OVER () AS _seq,
                   NULL::VARCHAR AS _raw, NULL::VARCHAR AS _error
            FROM read_csv({csvs!r}, header = true, all_varchar = true, filename = true)""")
    midnight = dtm.datetime.fromisoformat(date).replace(tzinfo=dtm.timezone.utc)
    logs = sorted(glob.glob(f"{wh}/raw/segment/{int(midnight.timestamp() * 1000)}/*"))
    # Every path in one parse of the line (a list of paths), as ecomwh's reader does.
    paths = "[" + ", ".join(f"'$.{k}'" for k in SPEC_CALL_KEYS) + "]"
    cols = ", ".join(f"v[{i + 1}] AS \"{k}\"" for i, k in enumerate(SPEC_CALL_KEYS))
    if "segment" in chosen:
        con.execute(f"""CREATE VIEW feed_segment AS
            SELECT {cols}, json AS _raw, NULL::VARCHAR AS _error, filename AS _file,
                   row_number() OVER () AS _line, row_number() OVER () AS _seq
            FROM (SELECT json_extract_string(json, {paths}) AS v, json, filename
                  FROM read_json_objects({logs!r}, format = 'newline_delimited', compression = 'gzip', filename = true,
                                         ignore_errors = true))""")

    days = sorted(glob.glob(f"{wh}/raw/ga4/events_{date.replace('-', '')}/*.parquet"))
    if "ga4" in chosen and days:
        names = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({days!r}, union_by_name = true)").fetchall()}
        opt = lambda c, e: e if c in names else "NULL::VARCHAR"
        params = ", ".join(f"(list_filter(event_params, p -> p.key = '{k}')[1]).value AS _p_{k}" for k in GA4_PARAMS)
        texts = ", ".join(
            f"coalesce(_p_{k}.string_value, CAST(_p_{k}.int_value AS VARCHAR), CAST(_p_{k}.float_value AS VARCHAR), "
            f"CAST(_p_{k}.double_value AS VARCHAR)) AS \"event_params[{k}]\"" for k in GA4_PARAMS)
        con.execute(f"""CREATE VIEW feed_ga4 AS
            SELECT CAST(event_timestamp AS VARCHAR) AS event_timestamp, event_name, user_id, user_pseudo_id,
                   CAST({opt("batch_event_index", "batch_event_index")} AS VARCHAR) AS batch_event_index,
                   CAST({opt("batch_page_id", "batch_page_id")} AS VARCHAR) AS batch_page_id,
                   CAST({opt("batch_ordering_id", "batch_ordering_id")} AS VARCHAR) AS batch_ordering_id,
                   CAST({opt("event_bundle_sequence_id", "event_bundle_sequence_id")} AS VARCHAR) AS event_bundle_sequence_id,
                   CAST({opt("stream_id", "stream_id")} AS VARCHAR) AS stream_id, {texts},
                   {opt("items", "items[1].item_id")} AS "items[0].item_id", CAST({opt("items", "to_json(items)")} AS VARCHAR) AS items,
                   {opt("ecommerce", "ecommerce.transaction_id")} AS "ecommerce.transaction_id",
                   device.category AS "device.category", device.operating_system AS "device.operating_system", geo.country AS "geo.country",
                   NULL::VARCHAR AS _raw, NULL::VARCHAR AS _error, filename AS _file,
                   row_number() OVER () AS _line, row_number() OVER () AS _seq
            FROM (SELECT *, {params} FROM read_parquet({days!r}, union_by_name = true, filename = true))""")

    total = 0
    for t in ORDER:
        parts = []
        for preset, tables in PRESETS.items():
            if preset not in chosen:
                continue
            if t not in tables:
                continue
            sql = sql_file(f"sources/{preset}/{t}.sql")
            # `{{> part}}` is the folder's _part.sql.
            sql = re.sub(r"\{\{> (\w+)\}\}", lambda m: sql_file(f"sources/{preset}/_{m.group(1)}.sql"), sql)
            # The mapping reads `feed`: this preset's files.
            con.execute(f"CREATE OR REPLACE TEMP VIEW feed AS SELECT * FROM feed_{preset}")
            con.execute(f"CREATE OR REPLACE TEMP VIEW mapped_{t} AS {dialect(sql, date)}")
            cols = [r[0] for r in con.execute(f"DESCRIBE mapped_{t}").fetchall()]
            contract_cols = [c["name"] for c in tomllib.load(open(os.path.join(ROOT, "schemas/raw", f"{t}.toml"), "rb"))["columns"]]
            sel = ", ".join(f'CAST("{c}" AS VARCHAR) AS {c}' if c in cols else f"NULL::VARCHAR AS {c}" for c in contract_cols)
            keep = "WHERE _ignored IS NULL" if "_ignored" in cols else ""
            parts.append(f"SELECT {sel} FROM mapped_{t} {keep}")
        if parts:
            total += stage_table(con, t, "(" + " UNION ALL ".join(parts) + ")", date, out)
        else:
            # Not a feed's: ecomwh's own layout.
            names = [c["name"] for c in tomllib.load(open(os.path.join(ROOT, "schemas/raw", f"{t}.toml"), "rb"))["columns"]]
            files = [f for f in sorted(glob.glob(f"{wh}/raw/{t}/dt={date}/*")) if not os.path.basename(f).startswith(("_", "."))]
            if files:
                total += stage_table(con, t, reader(files, names), date, out)
    print(total)


if __name__ == "__main__":
    main()
