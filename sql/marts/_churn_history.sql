-- Scratch input of churn_scores (not a warehouse table), read by all three cut-offs of
-- _churn_features.sql: the current row (newest dt) of every customer-day of orders up to the
-- run date, with each customer's signup day (from their latest customer row) on every row and on
-- one row with a NULL day for customers who never ordered. Deduplicated once per job, not once
-- per cut-off.
WITH customers AS (
  SELECT customer_id, CAST(signup_ts AS DATE) AS signup_day FROM (
    SELECT customer_id, signup_ts,
           row_number() OVER (PARTITION BY customer_id ORDER BY updated_at DESC, dt DESC) AS rn
    FROM staging.customers WHERE dt <= $run_date
  ) WHERE rn = 1
),
od AS (
  SELECT customer_id, day, purchases, net_revenue, cancelled, refunded FROM (
    SELECT customer_id, day, purchases, net_revenue, cancelled, refunded,
           row_number() OVER (PARTITION BY customer_id, day ORDER BY dt DESC) AS rn
    FROM marts.customer_orders_day WHERE dt <= $run_date
  ) WHERE rn = 1
)
SELECT c.customer_id, c.signup_day, od.day, od.purchases, od.net_revenue, od.cancelled, od.refunded
FROM customers c LEFT JOIN od ON od.customer_id = c.customer_id
