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
WITH win AS (
  -- Purchases of the lookback window per customer (landing.rfm_window: recomputed for the
  -- customers whose window changed, carried over for the others; see the job).
  SELECT customer_id, frequency, monetary FROM landing.rfm_window
),
per_customer AS (
  -- All history, from the incrementally kept totals.
  SELECT t.customer_id,
         t.first_purchase_date AS first_day,
         t.last_purchase_date AS last_day,
         t.purchase_days,
         coalesce(w.frequency, 0) AS frequency,
         CAST(coalesce(w.monetary, 0) AS DECIMAL(18, 2)) AS monetary,
         t.net_revenue AS total_value,
         t.first_purchase_day_value AS first_day_value
  FROM marts.customer_order_totals t
  LEFT JOIN win w ON t.customer_id = w.customer_id
  WHERE t.dt = $run_date AND t.purchase_days > 0
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
