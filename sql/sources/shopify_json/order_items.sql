-- shopify_json -> raw order_items: an order's `line_items`, numbered in their order. The
-- product is the SKU, else the line's name (as in shopify_csv); `price` is the unit price
-- before discounts and the discount is the line's `discount_allocations` (Shopify's
-- recommended replacement for `total_discount`, which this reads when they are absent).
WITH o AS (
  -- The lines of an order's latest version tonight (webhooks may arrive out of order).
  SELECT * FROM (
    SELECT *, row_number() OVER (PARTITION BY _order ORDER BY _updated DESC NULLS LAST, _seq DESC) AS _version
    FROM ({{> orders}})
  ) WHERE _version = 1
),
l AS (
  SELECT *, json_get_json("line_items", _k) AS _li
  FROM (SELECT *, unnest(range(0, CAST(coalesce(json_length("line_items"), 0) AS BIGINT))) AS _k FROM o)
),
d AS (
  SELECT _seq AS d_seq, _k AS d_k, sum(try_cast(json_as_text(a, 'amount') AS DECIMAL(18, 2))) AS amount
  FROM (SELECT _seq, _k, unnest(json_get_array(_li, 'discount_allocations')) AS a FROM l)
  GROUP BY _seq, _k
)
SELECT
  _order AS order_id,
  _k + 1 AS line_no,
  coalesce(nullif(trim(json_as_text(_li, 'sku')), ''), nullif(trim(json_as_text(_li, 'name')), '')) AS product_id,
  json_as_text(_li, 'quantity') AS quantity,
  json_as_text(_li, 'price') AS unit_price,
  coalesce(CAST(d.amount AS VARCHAR), json_as_text(_li, 'total_discount')) AS discount,
  _raw, _error, _file, _line, _seq
FROM l LEFT JOIN d ON d.d_seq = l._seq AND d.d_k = l._k
