-- marts.customer_product_day: one row per customer, order day and product ordered, restated
-- together with customer_orders_day (its current rows are those of the partition holding the
-- current customer_orders_day row). units and revenue count purchases only (line revenue as
-- _restated_order_lines.sql defines it, net of refunds); units_ordered counts every order placed.
SELECT
  customer_id,
  day,
  product_id,
  max(category) AS category,
  max(brand) AS brand,
  sum(CASE WHEN is_purchase THEN quantity ELSE 0 END) AS units,
  CAST(coalesce(sum(line_revenue), 0) AS DECIMAL(18, 2)) AS revenue,
  sum(quantity) AS units_ordered,
  count(DISTINCT order_id) AS orders
FROM landing.restated_order_lines
WHERE product_id IS NOT NULL
GROUP BY customer_id, day, product_id
