-- marts.product_day: one row per product and order day with an order line; a day is restated
-- whole (every product of it) when one of its customer-days is, so the current rows of a day
-- are those of the newest partition holding that day.
-- units and revenue count purchases; units_ordered every order placed.
WITH days AS (SELECT DISTINCT day FROM landing.restated_order_lines),
cod AS (
  SELECT customer_id, day, dt FROM marts.customer_orders_day
  WHERE dt >= $since AND dt <= $run_date AND day IN (SELECT day FROM days)
),
-- A customer-day's product rows are in the partition of its current customer_orders_day row
-- (the two are restated together).
current_keys AS ({{> current_rows rows=cod; key=customer_id, day}})
SELECT
  p.product_id,
  p.day,
  max(p.category) AS category,
  sum(p.units) AS units,
  CAST(sum(p.revenue) AS DECIMAL(18, 2)) AS revenue,
  sum(p.units_ordered) AS units_ordered,
  sum(p.orders) AS orders,
  count(DISTINCT CASE WHEN p.units > 0 THEN p.customer_id END) AS customers
FROM current_keys k
JOIN marts.customer_product_day p ON p.customer_id = k.customer_id AND p.day = k.day AND p.dt = k.dt
WHERE p.dt >= $since AND p.dt <= $run_date
GROUP BY p.product_id, p.day
