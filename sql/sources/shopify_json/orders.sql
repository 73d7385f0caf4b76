-- shopify_json -> raw orders: one row per Order object (the API's `{"order": ...}` or the
-- orders/create and orders/updated webhooks' bare object); a later version of an order wins
-- by its real `updated_at`. The status rule is shopify_csv's: cancelled, else refunded, else
-- paid (shipped once fulfilled), else placed.
WITH o AS ({{> orders}}),
-- Money refunded so far: the successful refund transactions
-- (https://shopify.dev/docs/api/admin-rest/latest/resources/refund), in the shop's currency.
r AS (SELECT _seq AS r_seq, "currency" AS r_currency, unnest(json_get_array("refunds")) AS r FROM o WHERE "refunds" IS NOT NULL),
t AS (SELECT r_seq, r_currency, unnest(json_get_array(r, 'transactions')) AS tr FROM r),
refunded AS (
  SELECT r_seq AS t_seq,
    sum(CASE WHEN coalesce(json_as_text(tr, 'currency'), r_currency) = r_currency THEN try_cast(json_as_text(tr, 'amount') AS DECIMAL(18, 2)) END) AS amount,
    count(CASE WHEN coalesce(json_as_text(tr, 'currency'), r_currency) <> r_currency THEN 1 END) AS other_currency
  FROM t
  WHERE json_as_text(tr, 'kind') = 'refund' AND coalesce(json_as_text(tr, 'status'), 'success') = 'success'
  GROUP BY r_seq
),
-- A multi-currency order's refunds move the customer's currency: its refunded lines' shop
-- money (subtotal and tax) then.
shop_money AS (
  SELECT r_seq AS s_seq,
    sum(try_cast(json_as_text(li, 'subtotal_set', 'shop_money', 'amount') AS DECIMAL(18, 2))
      + coalesce(try_cast(json_as_text(li, 'total_tax_set', 'shop_money', 'amount') AS DECIMAL(18, 2)), 0)) AS amount
  FROM (SELECT r_seq, unnest(json_get_array(r, 'refund_line_items')) AS li FROM r)
  GROUP BY r_seq
)
SELECT
  _order AS order_id,
  _customer AS customer_id,
  _created AS order_ts,
  CASE
    WHEN "cancelled_at" IS NOT NULL OR _fin = 'voided' THEN 'cancelled'
    WHEN _fin = 'refunded' THEN 'refunded'
    WHEN _fin IN ('paid', 'partially_refunded') AND _ful = 'fulfilled' THEN 'shipped'
    WHEN _fin IN ('paid', 'partially_refunded') THEN 'paid'
    ELSE 'placed'
  END AS status,
  "currency" AS currency,
  "total_price" AS total_amount,
  "total_discounts" AS discount_amount,
  -- Older API versions have no total_shipping_price_set: the first shipping line's price.
  coalesce("total_shipping_price_set.shop_money.amount", json_as_text("shipping_lines", 0, 'price'), '0') AS shipping_amount,
  CAST(CASE WHEN refunded.other_currency > 0 THEN shop_money.amount ELSE refunded.amount END AS VARCHAR) AS refunded_amount,
  CASE lower(trim("source_name")) WHEN 'web' THEN 'web' WHEN 'iphone' THEN 'app' WHEN 'android' THEN 'app' END AS channel,
  coalesce("shipping_address.country_code", "billing_address.country_code") AS country,
  _updated AS updated_at,
  _raw, _error, _file, _line, _seq
FROM o
LEFT JOIN refunded ON refunded.t_seq = o._seq
LEFT JOIN shop_money ON shop_money.s_seq = o._seq
