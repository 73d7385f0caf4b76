-- shopify_json -> raw products: one row per product (SKU, else the line's name) at its latest
-- sale in the feed. An Order's line items carry no product type: the category is
-- 'uncategorized' (load the products export with a `sql` source for real categories).
WITH o AS ({{> orders}}),
l AS (
  SELECT *, json_get_json("line_items", _k) AS _li
  FROM (SELECT *, unnest(range(0, CAST(coalesce(json_length("line_items"), 0) AS BIGINT))) AS _k FROM o)
),
p AS (
  SELECT *,
    coalesce(nullif(trim(json_as_text(_li, 'sku')), ''), nullif(trim(json_as_text(_li, 'name')), '')) AS pid
  FROM l
),
latest AS (
  SELECT *, row_number() OVER (PARTITION BY pid ORDER BY (currency IS NULL OR _updated IS NULL), _updated DESC, _seq DESC, _k) AS _n
  FROM p WHERE pid IS NOT NULL
)
SELECT
  pid AS product_id,
  trim(json_as_text(_li, 'name')) AS title,
  'uncategorized' AS category,
  nullif(trim(json_as_text(_li, 'vendor')), '') AS brand,
  json_as_text(_li, 'price') AS price,
  "currency" AS currency,
  _updated AS updated_at,
  _raw, _error, _file, _line, _seq
FROM latest WHERE _n = 1
