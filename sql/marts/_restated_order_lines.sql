-- Scratch input of the daily_aggregates job (not a warehouse table): every order line of the
-- customer-days the run restates (landing.touched_customer_days), with the latest version of
-- each order as of the run date. The job restates those customer-days whole, so a refund or a
-- cancellation arriving days later replaces the day's earlier figures, and an order whose
-- latest version moved to another day leaves the old one.
-- Order rows of day X are staged on dt >= X - 1 ($since is the earliest touched day - 1).
-- Orders without staged lines keep one row with NULL line columns.
-- Money is in the base currency (staging converted the order's amounts; net revenue and lines
-- are converted at their order's rate from the amounts as delivered, rounded once). Net revenue is defined here, once, for every mart: an order whose latest status is paid or
-- shipped (a purchase) brings total_amount - shipping_amount - refunded_amount; its lines bring
-- their amount (quantity x unit_price - line discount) less the same share refunded
-- (refunded_amount over total_amount - shipping_amount); other orders bring nothing.
WITH candidates AS (
  SELECT DISTINCT o.order_id
  FROM landing.touched_customer_days t
  JOIN staging.orders o ON o.customer_id = t.customer_id AND shop_date(o.order_ts) = t.day
  WHERE o.dt >= $since AND o.dt <= $run_date
),
versions AS (
  -- In the base currency (rows staged before conversion existed carry their amounts as they came).
  SELECT o.order_id, o.customer_id, shop_date(o.order_ts) AS day, o.order_ts, o.status,
         coalesce(o.total_amount_base, o.total_amount) AS total_amount,
         coalesce(o.discount_amount_base, o.discount_amount, CAST(0 AS DECIMAL(18, 2))) AS discount_amount,
         coalesce(o.shipping_amount_base, o.shipping_amount) AS shipping_amount,
         coalesce(o.refunded_amount_base, o.refunded_amount, CAST(0 AS DECIMAL(18, 2))) AS refunded_amount,
         coalesce(o.fx_rate, 1.0) AS fx_rate, o.channel,
         -- As delivered: net revenue is converted once, not as a difference of rounded amounts.
         o.total_amount - o.shipping_amount AS goods, coalesce(o.refunded_amount, CAST(0 AS DECIMAL(18, 2))) AS refunded,
         row_number() OVER (PARTITION BY o.order_id ORDER BY o.updated_at DESC, o.dt DESC) AS rn
  FROM staging.orders o
  WHERE o.dt >= $since AND o.dt <= $run_date AND o.order_id IN (SELECT order_id FROM candidates)
),
latest AS (
  -- The latest version, kept only when it lies on a restated customer-day.
  SELECT v.* FROM landing.touched_customer_days t
  JOIN versions v ON v.customer_id = t.customer_id AND v.day = t.day
  WHERE v.rn = 1
),
orders AS (
  SELECT order_id, customer_id, day, shop_hour(order_ts) AS hour, status,
         status IN ('paid', 'shipped') AS is_purchase,
         total_amount, discount_amount, shipping_amount, refunded_amount, fx_rate, channel,
         CASE WHEN status NOT IN ('paid', 'shipped') THEN NULL
              WHEN fx_rate = 1.0 THEN goods - refunded
              ELSE CAST(CAST(goods - refunded AS DOUBLE) / fx_rate AS DECIMAL(18, 2)) END AS net_revenue,
         -- The share of the goods kept: 1 without a refund (and when there are no goods to share).
         CASE WHEN refunded > 0 AND goods > 0
              THEN 1 - least(CAST(refunded AS DOUBLE) / CAST(goods AS DOUBLE), 1.0)
              ELSE 1.0 END AS kept_share
  FROM latest
),
lines AS (
  SELECT order_id, line_no, product_id, quantity, unit_price, discount FROM (
    SELECT i.order_id, i.line_no, i.product_id, i.quantity, i.unit_price, i.discount,
           row_number() OVER (PARTITION BY i.order_id, i.line_no ORDER BY i.dt DESC) AS rn
    FROM staging.order_items i
    WHERE i.dt >= $since AND i.dt <= $run_date
      AND i.order_id IN (SELECT order_id FROM orders)
  ) WHERE rn = 1
),
products AS (
  SELECT product_id, category, brand FROM (
    SELECT product_id, category, brand,
           row_number() OVER (PARTITION BY product_id ORDER BY updated_at DESC, dt DESC) AS rn
    FROM staging.products WHERE dt <= $run_date
  ) WHERE rn = 1
)
SELECT o.customer_id, o.day, o.order_id, o.hour, o.status, o.is_purchase, o.channel,
       o.total_amount, o.discount_amount, o.shipping_amount, o.refunded_amount, o.net_revenue,
       l.line_no, l.product_id, p.category, p.brand, l.quantity,
       CASE WHEN NOT o.is_purchase THEN NULL
            WHEN o.kept_share = 1.0 AND o.fx_rate = 1.0 THEN l.quantity * l.unit_price - l.discount
            ELSE CAST(CAST(l.quantity * l.unit_price - l.discount AS DOUBLE) * o.kept_share / o.fx_rate AS DECIMAL(18, 2)) END AS line_revenue
FROM orders o
LEFT JOIN lines l ON o.order_id = l.order_id
LEFT JOIN products p ON l.product_id = p.product_id
