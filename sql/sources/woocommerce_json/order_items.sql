-- woocommerce_json -> raw order_items: an order's `line_items` in their order. The product is
-- the SKU, else the product id (a variation's own id when it has one). `subtotal` is the
-- line before discounts and `total` after: the unit price is subtotal / quantity, the
-- discount their difference.
WITH o AS (
  -- The lines of an order's latest version tonight.
  SELECT * FROM (
    SELECT *, row_number() OVER (PARTITION BY _order ORDER BY _updated DESC NULLS LAST, _seq DESC) AS _version
    FROM ({{> orders}})
  ) WHERE _version = 1
),
l AS (
  SELECT *, json_get_json("line_items", _k) AS _li
  FROM (SELECT *, unnest(range(0, CAST(coalesce(json_length("line_items"), 0) AS BIGINT))) AS _k FROM o WHERE _status NOT IN ('checkout-draft', 'trash'))
),
v AS (
  SELECT *,
    try_cast(json_as_text(_li, 'subtotal') AS DECIMAL(18, 2)) AS _sub,
    try_cast(json_as_text(_li, 'total') AS DECIMAL(18, 2)) AS _tot,
    try_cast(json_as_text(_li, 'quantity') AS BIGINT) AS _qty
  FROM l
)
SELECT
  _order AS order_id,
  _k + 1 AS line_no,
  {{> product_key}} AS product_id,
  json_as_text(_li, 'quantity') AS quantity,
  CASE WHEN _qty > 0 THEN CAST(round(_sub / _qty, 2) AS VARCHAR) ELSE json_as_text(_li, 'subtotal') END AS unit_price,
  CAST(_sub - _tot AS VARCHAR) AS discount,
  _raw, _error, _file, _line, _seq
FROM v
