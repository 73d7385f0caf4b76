-- Scratch input of churn_scores (not a warehouse table), read by all three cut-offs of
-- _churn_features.sql: the current row (newest dt) of every customer-day of orders up to the
-- run date, with each customer's signup day (from their latest customer row) on every row and on
-- one row with a NULL day for customers who never ordered. Deduplicated once per job, not once
-- per cut-off.
-- A customer's latest row is found without row_number() (its sort over every customer took
-- three times as long at 1M customers); current customer-days with _current_rows.sql.
WITH cust AS (SELECT customer_id, signup_ts, updated_at, dt FROM staging.customers WHERE dt <= $run_date),
customers AS (
  SELECT customer_id, CAST(signup_ts AS DATE) AS signup_day FROM cust c
  WHERE NOT EXISTS (
    SELECT 1 FROM cust n WHERE n.customer_id = c.customer_id
      AND (n.updated_at > c.updated_at OR (n.updated_at = c.updated_at AND n.dt > c.dt))
  )
),
cod AS (
  SELECT customer_id, day, dt, purchases, net_revenue, cancelled, refunded
  FROM marts.customer_orders_day WHERE dt <= $run_date
),
od AS (
  SELECT customer_id, day, purchases, net_revenue, cancelled, refunded
  FROM ({{> current_rows rows=cod; key=customer_id, day}}) cur
)
SELECT c.customer_id, c.signup_day, od.day, od.purchases, od.net_revenue, od.cancelled, od.refunded
FROM customers c LEFT JOIN od ON od.customer_id = c.customer_id
