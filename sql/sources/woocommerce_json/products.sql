-- woocommerce_json -> raw products: one row per product (SKU, else id) at its latest sale in
-- the feed. Order line items carry no category: 'uncategorized'.
WITH o AS ({{> orders}}),
l AS (
  SELECT *, json_get_json("line_items", _k) AS _li
  FROM (SELECT *, unnest(range(0, CAST(coalesce(json_length("line_items"), 0) AS BIGINT))) AS _k FROM o WHERE _status NOT IN ('checkout-draft', 'trash'))
),
p AS (SELECT *, {{> product_key}} AS pid FROM l),
latest AS (
  SELECT *, row_number() OVER (PARTITION BY pid ORDER BY (currency IS NULL OR _updated IS NULL), _updated DESC, _seq DESC, _k) AS _n
  FROM p WHERE pid IS NOT NULL
)
SELECT
  pid AS product_id,
  trim(json_as_text(_li, 'name')) AS title,
  'uncategorized' AS category,
  CAST(NULL AS VARCHAR) AS brand,
  -- The unit price before discounts.
  CASE WHEN try_cast(json_as_text(_li, 'quantity') AS BIGINT) > 0
    THEN CAST(round(try_cast(json_as_text(_li, 'subtotal') AS DECIMAL(18, 2)) / try_cast(json_as_text(_li, 'quantity') AS BIGINT), 2) AS VARCHAR)
    ELSE json_as_text(_li, 'price') END AS price,
  "currency" AS currency,
  _updated AS updated_at,
  _raw, _error, _file, _line, _seq
FROM latest WHERE _n = 1
