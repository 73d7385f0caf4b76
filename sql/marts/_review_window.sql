-- Scratch step of reviews (not a warehouse table): the published reviews with text written in
-- the window ($window_start, run date], with their product's current category.
WITH products AS (
  SELECT product_id, category FROM (
    SELECT product_id, category, row_number() OVER (PARTITION BY product_id ORDER BY updated_at DESC, dt DESC) AS _n
    FROM staging.products WHERE dt <= $run_date
  ) WHERE _n = 1
)
SELECT r.product_id, p.category, r.rating, r.text
FROM marts.review_sentiment r
LEFT JOIN products p ON p.product_id = r.product_id
WHERE r.dt = $run_date AND r.status = 'published' AND r.text <> '' AND shop_date(r.created_at) > $window_start
ORDER BY r.product_id, r.review_id
