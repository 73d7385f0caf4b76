-- Scratch step of user_profiles (not a warehouse table): each reviewer's reviews as of the run
-- date, from marts.review_sentiment (published or hidden: a hidden complaint still counts).
SELECT
  customer_id,
  count(*) AS reviews_written,
  avg(CAST(rating AS DOUBLE)) AS mean_rating_given,
  first_value(sentiment ORDER BY created_at DESC, review_id DESC) AS last_review_sentiment,
  CAST(max(created_at) AS DATE) AS last_review_date
FROM marts.review_sentiment
WHERE dt = $run_date AND customer_id IS NOT NULL
GROUP BY customer_id
