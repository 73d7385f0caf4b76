-- What each customer did with each product, read once for the model and its backtest:
--   days_since_bought / viewed: in the model's window $model_from .. $run_date (days since the
--     last day bought, counted from $run_date; a product_view event);
--   eval_days_since_bought / eval_viewed: the same in the backtest model's window
--     $from .. $cutoff (counted from $cutoff);
--   bought_after_cutoff: bought on $cutoff+1 .. $run_date (the held-out purchases).
-- Bought = units > 0 in the current row of customer_product_day (newest dt). Rows of day X sit
-- in partitions dt >= X - 1, so only the partitions from $from_dt = $from - 1 are read, and
-- the cost follows the windows, not all history. Day windows are CASE conditions: with bound
-- parameters a WHERE range on `day` trips DataFusion 55's selectivity assertion (see
-- _churn_features.sql). On a night that carries most customers' recommendations over, only
-- those in landing.scope are read (a full run drops that filter).
WITH cpd_rows AS (
  SELECT customer_id, product_id, day, dt, units FROM marts.customer_product_day
  WHERE dt >= $from_dt AND dt <= $run_date AND {{scope}}
),
cpd AS ({{> current_rows rows=cpd_rows; key=customer_id, day, product_id}}),
bought AS (
  SELECT customer_id, product_id,
         max(CASE WHEN units > 0 AND day >= $model_from AND day <= $run_date THEN day END) AS last_bought,
         max(CASE WHEN units > 0 AND day >= $from AND day <= $cutoff THEN day END) AS eval_last_bought,
         max(CASE WHEN units > 0 AND day > $cutoff AND day <= $run_date THEN 1 ELSE 0 END) AS held
  FROM cpd GROUP BY customer_id, product_id
),
-- Views with a customer_id, and anonymous ones once linked (in the partition they were linked).
views AS (
  SELECT customer_id, product_id, shop_date(event_ts) AS day FROM staging.events
  WHERE dt >= $from_dt AND dt <= $run_date AND event_type = 'product_view' AND customer_id IS NOT NULL
    AND product_id IS NOT NULL AND {{scope}}
  UNION ALL
  SELECT customer_id, product_id, shop_date(event_ts) AS day FROM marts.stitched_events
  WHERE dt >= $from_dt AND dt <= $run_date AND event_type = 'product_view'
    AND product_id IS NOT NULL AND {{scope}}
),
viewed AS (
  SELECT customer_id, product_id,
         max(CASE WHEN day >= $model_from AND day <= $run_date THEN 1 ELSE 0 END) AS viewed,
         max(CASE WHEN day >= $from AND day <= $cutoff THEN 1 ELSE 0 END) AS eval_viewed
  FROM views GROUP BY customer_id, product_id
)
SELECT coalesce(b.customer_id, v.customer_id) AS customer_id,
       coalesce(b.product_id, v.product_id) AS product_id,
       CAST($run_date - b.last_bought AS BIGINT) AS days_since_bought,
       coalesce(v.viewed, 0) = 1 AS viewed,
       CAST($cutoff - b.eval_last_bought AS BIGINT) AS eval_days_since_bought,
       coalesce(v.eval_viewed, 0) = 1 AS eval_viewed,
       coalesce(b.held, 0) = 1 AS bought_after_cutoff
FROM (SELECT * FROM bought WHERE last_bought IS NOT NULL OR eval_last_bought IS NOT NULL) b
FULL OUTER JOIN (SELECT * FROM viewed WHERE viewed = 1 OR eval_viewed = 1) v
  ON v.customer_id = b.customer_id AND v.product_id = b.product_id
