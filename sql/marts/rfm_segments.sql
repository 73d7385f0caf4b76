-- marts.rfm_segments (scores part): one row per customer with at least one purchase up to the
-- run date D. The job adds segment (from the configured map) and cluster (k-means).
-- recency_days = D - day of the last purchase (all history); frequency = purchases (orders)
-- and monetary = their net revenue, over the order days $window_start .. D.
-- Scores 1-5, 5 best: score = 1 + floor(5 * w / n), where n = customers scored and w = how
-- many customers have a strictly worse value (larger recency, smaller frequency or monetary),
-- so equal values always get equal scores.
-- BG/NBD columns, as lifetimes' summary_data_from_transaction_data at daily frequency with D
-- as observation end, over all purchases up to D: repeat_purchase_days = purchase days - 1,
-- days_first_to_last_purchase, days_since_first_purchase, and avg_repeat_purchase_value = the
-- mean net revenue of the purchase days after the first (0 when there are none).
WITH od AS (SELECT customer_id, day, purchases, net_revenue FROM landing.current_orders_day WHERE purchases > 0),
per_customer AS (
  SELECT customer_id,
         min(day) AS first_day,
         max(day) AS last_day,
         count(*) AS purchase_days,
         coalesce(sum(purchases) FILTER (WHERE day >= $window_start), 0) AS frequency,
         CAST(coalesce(sum(net_revenue) FILTER (WHERE day >= $window_start), 0) AS DECIMAL(18, 2)) AS monetary,
         sum(net_revenue) AS total_value,
         first_value(net_revenue ORDER BY day) AS first_day_value
  FROM od GROUP BY customer_id
),
scored AS (
  SELECT p.*,
         CAST($run_date - p.last_day AS BIGINT) AS recency_days,
         count(*) OVER () AS n,
         rank() OVER (ORDER BY p.last_day ASC) - 1 AS r_worse,
         rank() OVER (ORDER BY p.frequency ASC) - 1 AS f_worse,
         rank() OVER (ORDER BY p.monetary ASC) - 1 AS m_worse
  FROM per_customer p
)
SELECT
  customer_id,
  recency_days,
  frequency,
  monetary,
  CAST(1 + (5 * r_worse) / n AS INT) AS r_score,
  CAST(1 + (5 * f_worse) / n AS INT) AS f_score,
  CAST(1 + (5 * m_worse) / n AS INT) AS m_score,
  purchase_days - 1 AS repeat_purchase_days,
  CAST(last_day - first_day AS BIGINT) AS days_first_to_last_purchase,
  CAST($run_date - first_day AS BIGINT) AS days_since_first_purchase,
  CASE WHEN purchase_days > 1
       THEN CAST(total_value - first_day_value AS DOUBLE) / (purchase_days - 1)
       ELSE 0.0 END AS avg_repeat_purchase_value
FROM scored
