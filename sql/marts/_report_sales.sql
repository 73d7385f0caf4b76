-- The report's sales of the last 30 days ($from .. $run_date): purchases and net revenue per
-- order day from the current rows of customer_orders_day (so they follow the one definition of
-- net revenue), and orders lost to cancellations and refunds. Rows of day X sit in dt >= X - 1.
WITH cod AS (
  SELECT customer_id, day, dt, purchases, net_revenue, cancelled, refunded
  FROM marts.customer_orders_day
  WHERE dt >= $from_dt AND dt <= $run_date AND day >= $from AND day <= $run_date
)
SELECT CAST(day AS VARCHAR) AS day, sum(purchases) AS purchases, CAST(sum(net_revenue) AS DOUBLE) AS net_revenue,
       sum(cancelled + refunded) AS lost
FROM ({{> current_rows rows=cod; key=customer_id, day}}) cur
GROUP BY day ORDER BY day
