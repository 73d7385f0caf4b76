-- Baskets for the association_rules job (which builds frequent_itemsets and association_rules):
-- the distinct products, or their categories, of every purchase whose order day falls in the
-- lookback window ($window_start .. $run_date). A purchase is an order whose latest status, as
-- of the run date, is paid or shipped; its day is the day of order_ts in the shop's time zone. Output: order_id, item, item_name; ordered by order_id.
-- An order's latest version is the one no other beats (by updated_at, then dt; staging keeps
-- one version per order and partition): an anti join, a third of the time of a row_number()
-- sort over the window's versions.
WITH versions AS (
  SELECT order_id, status, order_ts, updated_at, dt FROM staging.orders
  WHERE dt >= $window_start AND dt <= $run_date
),
purchases AS (
  SELECT order_id FROM versions o
  WHERE status IN ('paid', 'shipped')
    AND shop_date(order_ts) >= $window_start AND shop_date(order_ts) <= $run_date
    AND NOT EXISTS (
      SELECT 1 FROM versions n WHERE n.order_id = o.order_id
        AND (n.updated_at > o.updated_at OR (n.updated_at = o.updated_at AND n.dt > o.dt))
    )
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
