-- The sample shop's orders of a night as Shopify's "Export orders" CSV: a row per line item,
-- the order's fields on its first row only; each order with its current status. Customers
-- are known by email, as in the export; products by SKU.
WITH o AS (SELECT * FROM staging.orders WHERE dt = $run_date),
c AS (
  SELECT customer_id, email, first_name, last_name, marketing_consent,
         row_number() OVER (PARTITION BY customer_id ORDER BY dt DESC, updated_at DESC) AS _n
  FROM staging.customers WHERE dt <= $run_date
),
i AS (
  SELECT order_id, line_no, product_id, quantity, unit_price, discount,
         row_number() OVER (PARTITION BY order_id, line_no ORDER BY dt DESC) AS _n
  FROM staging.order_items WHERE dt <= $run_date AND order_id IN (SELECT order_id FROM o)
),
p AS (
  SELECT product_id, title, brand, row_number() OVER (PARTITION BY product_id ORDER BY dt DESC, updated_at DESC) AS _n
  FROM staging.products WHERE dt <= $run_date
),
lines AS (
  SELECT o.*, i.line_no, i.product_id, i.quantity, i.unit_price, i.discount, p.title, p.brand,
         c.email, c.first_name, c.last_name, c.marketing_consent,
         row_number() OVER (PARTITION BY o.order_id ORDER BY i.line_no) AS _line
  FROM o
  JOIN i ON i.order_id = o.order_id AND i._n = 1
  LEFT JOIN c ON c.customer_id = o.customer_id AND c._n = 1
  LEFT JOIN p ON p.product_id = i.product_id AND p._n = 1
)
SELECT
  '#' || order_id AS "Name",
  email AS "Email",
  CASE WHEN _line = 1 THEN CASE status
    WHEN 'placed' THEN 'pending' WHEN 'cancelled' THEN 'voided' WHEN 'refunded' THEN 'refunded'
    ELSE CASE WHEN coalesce(refunded_amount, 0) > 0 THEN 'partially_refunded' ELSE 'paid' END END END AS "Financial Status",
  CASE WHEN _line = 1 AND status = 'paid' THEN to_char(updated_at, '%Y-%m-%d %H:%M:%S +0000') END AS "Paid at",
  CASE WHEN _line = 1 THEN CASE WHEN status IN ('shipped', 'refunded') THEN 'fulfilled' ELSE 'unfulfilled' END END AS "Fulfillment Status",
  CASE WHEN _line = 1 AND status IN ('shipped', 'refunded') THEN to_char(updated_at, '%Y-%m-%d %H:%M:%S +0000') END AS "Fulfilled at",
  CASE WHEN _line = 1 THEN CASE WHEN marketing_consent THEN 'yes' ELSE 'no' END END AS "Accepts Marketing",
  CASE WHEN _line = 1 THEN currency END AS "Currency",
  CASE WHEN _line = 1 THEN CAST(total_amount - shipping_amount AS VARCHAR) END AS "Subtotal",
  CASE WHEN _line = 1 THEN CAST(shipping_amount AS VARCHAR) END AS "Shipping",
  CASE WHEN _line = 1 THEN '0.00' END AS "Taxes",
  CASE WHEN _line = 1 THEN CAST(total_amount AS VARCHAR) END AS "Total",
  CASE WHEN _line = 1 THEN CAST(discount_amount AS VARCHAR) END AS "Discount Amount",
  to_char(order_ts, '%Y-%m-%d %H:%M:%S +0000') AS "Created at",
  CAST(quantity AS VARCHAR) AS "Lineitem quantity",
  title AS "Lineitem name",
  CAST(unit_price AS VARCHAR) AS "Lineitem price",
  product_id AS "Lineitem sku",
  CAST(discount AS VARCHAR) AS "Lineitem discount",
  CASE WHEN _line = 1 THEN trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) END AS "Billing Name",
  CASE WHEN _line = 1 THEN country END AS "Billing Country",
  CASE WHEN _line = 1 THEN country END AS "Shipping Country",
  CASE WHEN _line = 1 AND status = 'cancelled' THEN to_char(updated_at, '%Y-%m-%d %H:%M:%S +0000') END AS "Cancelled at",
  -- What was refunded: the whole total of a refunded order.
  CASE WHEN _line = 1 THEN CAST(CASE WHEN status = 'refunded' THEN total_amount ELSE coalesce(refunded_amount, CAST(0 AS DECIMAL(18, 2))) END AS VARCHAR) END AS "Refunded Amount",
  brand AS "Vendor",
  CASE WHEN _line = 1 THEN order_id END AS "Id",
  CASE WHEN _line = 1 THEN CASE channel WHEN 'web' THEN 'web' WHEN 'app' THEN 'iphone' ELSE '580111' END END AS "Source"
FROM lines
ORDER BY order_id, _line
