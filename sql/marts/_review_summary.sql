-- Scratch step of user_profiles (not a warehouse table): each reviewer's published reviews as of
-- the run date, from marts.review_sentiment's newest partition up to it (a run of chosen jobs
-- may have left tonight's out). Hidden reviews (awaiting moderation, spam) do not count: an
-- unverified address could put a customer in an audience.
SELECT
  customer_id,
  count(*) AS reviews_written,
  avg(CAST(rating AS DOUBLE)) AS mean_rating_given,
  first_value(sentiment ORDER BY created_at DESC, review_id DESC) AS last_review_sentiment,
  max(shop_date(created_at)) AS last_review_date
FROM marts.review_sentiment
WHERE dt = (SELECT max(dt) FROM marts.review_sentiment WHERE dt <= $run_date)
  AND customer_id IS NOT NULL AND status = 'published'
GROUP BY customer_id
