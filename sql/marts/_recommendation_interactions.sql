-- What each customer did with each product on the days $from .. $to: bought (units > 0 in
-- the current rows of customer_product_day), the last day bought, and viewed (product_view
-- events). Day windows on customer_product_day are CASE conditions: with bound parameters a
-- WHERE range on `day` trips DataFusion 55's selectivity assertion (see _churn_features.sql).
WITH cpd AS (
  SELECT customer_id, product_id, day, units FROM (
    SELECT customer_id, product_id, day, units,
           row_number() OVER (PARTITION BY customer_id, day, product_id ORDER BY dt DESC) AS rn
    FROM marts.customer_product_day WHERE dt <= $run_date
  ) WHERE rn = 1
),
bought AS (
  SELECT customer_id, product_id,
         max(CASE WHEN units > 0 AND day >= $from AND day <= $to THEN day END) AS last_bought
  FROM cpd GROUP BY customer_id, product_id
),
viewed AS (
  SELECT DISTINCT customer_id, product_id FROM staging.events
  WHERE dt <= $run_date AND event_type = 'product_view' AND customer_id IS NOT NULL
    AND product_id IS NOT NULL AND shop_date(event_ts) BETWEEN $from AND $to
)
SELECT coalesce(b.customer_id, v.customer_id) AS customer_id,
       coalesce(b.product_id, v.product_id) AS product_id,
       CAST($to - b.last_bought AS BIGINT) AS days_since_bought,
       v.customer_id IS NOT NULL AS viewed
FROM (SELECT * FROM bought WHERE last_bought IS NOT NULL) b
FULL OUTER JOIN viewed v ON v.customer_id = b.customer_id AND v.product_id = b.product_id
