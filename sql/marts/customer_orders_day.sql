-- marts.customer_orders_day: one row per customer and order day (the day of order_ts in the
-- shop's time zone), restated whole whenever a version of one of its orders is staged.
-- Partition dt=D holds the customer-days restated by the run of D; the current row of a
-- customer-day is the one of its newest partition.
-- orders counts every order placed; purchases only those whose latest status is paid or
-- shipped, and only purchases count towards net_revenue (as _restated_order_lines.sql defines
-- it: net of shipping and refunds), discount_amount and units.
WITH orders AS (
  SELECT customer_id, day, order_id,
         max(hour) AS hour, max(status) AS status, bool_or(is_purchase) AS is_purchase,
         max(channel) AS channel, max(total_amount) AS total_amount,
         max(discount_amount) AS discount_amount, max(net_revenue) AS net_revenue,
         coalesce(sum(quantity), 0) AS units, count(line_no) AS lines
  FROM landing.restated_order_lines
  GROUP BY customer_id, day, order_id
)
SELECT
  customer_id,
  day,
  count(*) AS orders,
  sum(CASE WHEN is_purchase THEN 1 ELSE 0 END) AS purchases,
  sum(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
  sum(CASE WHEN status = 'refunded' THEN 1 ELSE 0 END) AS refunded,
  CAST(coalesce(sum(net_revenue), 0) AS DECIMAL(18, 2)) AS net_revenue,
  CAST(coalesce(sum(CASE WHEN is_purchase THEN discount_amount END), 0) AS DECIMAL(18, 2)) AS discount_amount,
  sum(CASE WHEN is_purchase THEN units ELSE 0 END) AS units,
  sum(CASE WHEN is_purchase THEN lines ELSE 0 END) AS lines,
  sum(CASE WHEN is_purchase AND channel = 'web' THEN 1 ELSE 0 END) AS purchases_web,
  sum(CASE WHEN is_purchase AND channel = 'app' THEN 1 ELSE 0 END) AS purchases_app,
  sum(CASE WHEN is_purchase AND channel = 'marketplace' THEN 1 ELSE 0 END) AS purchases_marketplace,
  array_agg(hour ORDER BY hour) FILTER (WHERE is_purchase) AS purchase_hours
FROM orders
GROUP BY customer_id, day
