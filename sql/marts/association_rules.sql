-- Baskets for the association_rules job (which builds frequent_itemsets and association_rules):
-- the distinct products, or their categories, of every purchase whose order day falls in the
-- lookback window ($window_start .. $run_date). A purchase is an order whose latest status, as
-- of the run date, is paid or shipped; its day is the day of order_ts in the shop's time zone. Output: order_id, item, item_name; ordered by order_id.
WITH latest_orders AS (
  SELECT order_id, status, order_ts,
         row_number() OVER (PARTITION BY order_id ORDER BY updated_at DESC) AS rn
  FROM staging.orders
  WHERE dt >= $window_start AND dt <= $run_date
),
purchases AS (
  SELECT order_id FROM latest_orders
  WHERE rn = 1 AND status IN ('paid', 'shipped')
    AND shop_date(order_ts) >= $window_start AND shop_date(order_ts) <= $run_date
),
products AS (
  SELECT product_id, title, category FROM (
    SELECT product_id, title, category,
           row_number() OVER (PARTITION BY product_id ORDER BY updated_at DESC) AS rn
    FROM staging.products WHERE dt <= $run_date
  ) WHERE rn = 1
)
SELECT DISTINCT
  i.order_id,
  CASE WHEN $level = 'category' THEN p.category ELSE i.product_id END AS item,
  CASE WHEN $level = 'category' THEN p.category ELSE p.title END AS item_name
FROM staging.order_items i
JOIN purchases o ON i.order_id = o.order_id
LEFT JOIN products p ON i.product_id = p.product_id
WHERE i.dt >= $window_start AND i.dt <= $run_date
ORDER BY i.order_id, item
