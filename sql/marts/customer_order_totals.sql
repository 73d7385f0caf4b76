-- marts.customer_order_totals: one row per customer with an order up to the run date D, with
-- all-time totals of their current customer-days (see customer_orders_day). Built
-- incrementally so no night rescans all history: customers touched by tonight's restated
-- customer-days are recomputed from their own history, everyone else is carried over from the
-- previous partition ($prev_dt; the carry section, kept when there is one). Touched = customers with a row in a
-- partition from the previous one on ($touched_from .. D: the previous partition too, as it may
-- hold rows of day D, which the previous night left out); with no previous partition, everyone.
WITH touched AS (
  SELECT DISTINCT customer_id FROM marts.customer_orders_day
  WHERE dt >= $touched_from AND dt <= $run_date
),
hist AS (
  SELECT customer_id, day, dt, orders, purchases, cancelled, refunded, net_revenue, discount_amount, units
  FROM marts.customer_orders_day
  WHERE dt <= $run_date AND day <= $run_date AND customer_id IN (SELECT customer_id FROM touched)
),
cur AS ({{> current_rows rows=hist; key=customer_id, day}}),
fresh AS (
  SELECT customer_id,
         sum(orders) AS orders,
         sum(purchases) AS purchases,
         sum(cancelled) AS cancelled,
         sum(refunded) AS refunded,
         sum(units) AS units,
         CAST(sum(net_revenue) AS DECIMAL(18, 2)) AS net_revenue,
         CAST(sum(discount_amount) AS DECIMAL(18, 2)) AS discount_amount,
         count(*) FILTER (WHERE purchases > 0) AS purchase_days,
         min(day) FILTER (WHERE orders > 0) AS first_order_date,
         max(day) FILTER (WHERE orders > 0) AS last_order_date,
         min(day) FILTER (WHERE purchases > 0) AS first_purchase_date,
         max(day) FILTER (WHERE purchases > 0) AS last_purchase_date,
         CAST(first_value(net_revenue ORDER BY day) FILTER (WHERE purchases > 0) AS DECIMAL(18, 2)) AS first_purchase_day_value
  FROM cur GROUP BY customer_id
)
SELECT * FROM fresh
{{#carry}}
UNION ALL
SELECT * EXCLUDE (dt) FROM marts.customer_order_totals p
WHERE p.dt = $prev_dt AND NOT EXISTS (SELECT 1 FROM touched t WHERE t.customer_id = p.customer_id)
{{/carry}}
