-- Scratch step of reviews (not a warehouse table): the current version (latest updated_at, then
-- the latest night's) of each review staged after $since_dt up to the run date, ranked over all
-- its staged versions: a version that arrives late with an older date does not win. $since_dt
-- before the first night: every review.
SELECT review_id, product_id, customer_id, rating, title, body, language, created_at, updated_at, status
FROM (
  SELECT *, row_number() OVER (PARTITION BY review_id ORDER BY updated_at DESC, dt DESC) AS _n
  FROM staging.reviews
  WHERE dt <= $run_date
    AND ($since_dt < DATE '1901-01-01'
         OR review_id IN (SELECT review_id FROM staging.reviews WHERE dt > $since_dt AND dt <= $run_date))
)
WHERE _n = 1
ORDER BY review_id
