-- Scratch input of user_profiles and rfm_segments (not a warehouse table): the current row
-- of every customer-day of customer_orders_day in the window $from_day .. $run_date, i.e. the
-- row of its newest partition (the latest restatement), with that partition as cdt, of the
-- customers in landing.scope (those the job recomputes tonight; the job may narrow or, on a
-- full run, drop this filter). Rows of
-- day X are written on dt >= X - 1, so only the window's partitions are read. Materialised
-- once per job because several parts of a query read it.
WITH cod AS (
  SELECT customer_id, day, dt, orders, purchases, cancelled, refunded, net_revenue, discount_amount,
         units, purchases_web, purchases_app, purchases_marketplace, purchase_hours
  FROM marts.customer_orders_day
  WHERE dt >= $from_dt AND dt <= $run_date AND day >= $from_day AND day <= $run_date
    AND {{scope}}
)
SELECT customer_id, day, dt AS cdt, orders, purchases, cancelled, refunded, net_revenue,
       discount_amount, units, purchases_web, purchases_app, purchases_marketplace, purchase_hours
FROM ({{> current_rows rows=cod; key=customer_id, day}}) cur
