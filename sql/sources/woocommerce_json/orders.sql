-- woocommerce_json -> raw orders: pending and on-hold are placed, processing paid, completed
-- shipped, cancelled and failed cancelled, refunded refunded. checkout-draft (the block
-- checkout's unfinished carts) and trash are left out, counted as ignored; any other status
-- (a plugin's) is quarantined by the status check. Refunds are listed with negative totals.
WITH o AS ({{> orders}}),
r AS (
  SELECT _seq AS r_seq, -sum(try_cast(json_as_text(x, 'total') AS DECIMAL(18, 2))) AS amount
  FROM (SELECT _seq, unnest(json_get_array("refunds")) AS x FROM o WHERE "refunds" IS NOT NULL)
  GROUP BY _seq
)
SELECT
  _order AS order_id,
  _customer AS customer_id,
  _created AS order_ts,
  CASE _status
    WHEN 'pending' THEN 'placed' WHEN 'on-hold' THEN 'placed'
    WHEN 'processing' THEN 'paid'
    WHEN 'completed' THEN 'shipped'
    WHEN 'cancelled' THEN 'cancelled' WHEN 'failed' THEN 'cancelled'
    WHEN 'refunded' THEN 'refunded'
    ELSE "status"
  END AS status,
  "currency" AS currency,
  "total" AS total_amount,
  "discount_total" AS discount_amount,
  "shipping_total" AS shipping_amount,
  CASE WHEN r.amount <> 0 THEN CAST(r.amount AS VARCHAR) END AS refunded_amount,
  -- Orders placed in the shop's checkout (classic or blocks); admin, API and imports: none.
  CASE lower(trim("created_via")) WHEN 'checkout' THEN 'web' WHEN 'store-api' THEN 'web' END AS channel,
  coalesce(nullif(trim("shipping.country"), ''), nullif(trim("billing.country"), '')) AS country,
  _updated AS updated_at,
  CASE WHEN _status IN ('checkout-draft', 'trash') THEN _status END AS _ignored,
  _raw, _error, _file, _line, _seq
FROM o LEFT JOIN r ON r.r_seq = o._seq
