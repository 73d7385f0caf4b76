-- marts.product_reviews: per product with published reviews, its ratings over all time
-- (distribution, mean, Bayesian average towards the shop's mean), and over the window
-- ($window_start, run date] against the window before ($prev_window_start, $window_start]:
-- rating and sentiment shares and their trends, the top phrases of marts.review_phrases.
WITH r AS (
  SELECT product_id, rating, sentiment, vader_compound, created_at, shop_date(created_at) AS day
  FROM marts.review_sentiment
  WHERE dt = $run_date AND status = 'published'
),
shop AS (SELECT avg(CAST(rating AS DOUBLE)) AS mean_rating FROM r),
per AS (
  SELECT
    product_id,
    count(*) AS reviews,
    avg(CAST(rating AS DOUBLE)) AS rating_mean,
    sum(CAST(rating AS DOUBLE)) AS rating_sum,
    count(*) FILTER (WHERE rating = 1) AS rating_1,
    count(*) FILTER (WHERE rating = 2) AS rating_2,
    count(*) FILTER (WHERE rating = 3) AS rating_3,
    count(*) FILTER (WHERE rating = 4) AS rating_4,
    count(*) FILTER (WHERE rating = 5) AS rating_5,
    count(*) FILTER (WHERE day > $window_start) AS reviews_window,
    avg(CAST(rating AS DOUBLE)) FILTER (WHERE day > $window_start) AS rating_mean_window,
    avg(CAST(rating AS DOUBLE)) FILTER (WHERE day > $prev_window_start AND day <= $window_start) AS rating_mean_prev_window,
    count(*) FILTER (WHERE day > $prev_window_start AND day <= $window_start) AS reviews_prev_window,
    avg(CASE WHEN sentiment = 'positive' THEN 1.0 ELSE 0.0 END) FILTER (WHERE day > $window_start) AS positive_share,
    avg(CASE WHEN sentiment = 'neutral' THEN 1.0 ELSE 0.0 END) FILTER (WHERE day > $window_start) AS neutral_share,
    avg(CASE WHEN sentiment = 'negative' THEN 1.0 ELSE 0.0 END) FILTER (WHERE day > $window_start) AS negative_share,
    avg(CASE WHEN sentiment = 'negative' THEN 1.0 ELSE 0.0 END) FILTER (WHERE day > $prev_window_start AND day <= $window_start) AS negative_share_prev_window,
    avg(vader_compound) FILTER (WHERE day > $window_start) AS mean_compound_window,
    max(created_at) AS last_review_at
  FROM r
  GROUP BY product_id
),
phrases AS (
  SELECT
    scope_id AS product_id,
    array_agg(phrase ORDER BY rank) FILTER (WHERE polarity = 'negative') AS top_negative_phrases,
    array_agg(phrase ORDER BY rank) FILTER (WHERE polarity = 'positive') AS top_positive_phrases
  FROM marts.review_phrases
  WHERE dt = $run_date AND scope = 'product' AND kind = 'phrase'
  GROUP BY scope_id
)
SELECT
  per.product_id,
  per.reviews,
  per.rating_mean,
  (CAST($prior_reviews AS DOUBLE) * shop.mean_rating + per.rating_sum) / (CAST($prior_reviews AS DOUBLE) + per.reviews) AS bayes_rating,
  per.rating_1, per.rating_2, per.rating_3, per.rating_4, per.rating_5,
  per.reviews_window,
  per.rating_mean_window,
  per.reviews_prev_window,
  per.rating_mean_prev_window,
  per.rating_mean_window - per.rating_mean_prev_window AS rating_trend,
  per.positive_share,
  per.neutral_share,
  per.negative_share,
  per.negative_share_prev_window,
  per.negative_share - per.negative_share_prev_window AS negative_share_trend,
  per.mean_compound_window,
  per.last_review_at,
  phrases.top_negative_phrases,
  phrases.top_positive_phrases
FROM per
CROSS JOIN shop
LEFT JOIN phrases ON phrases.product_id = per.product_id
ORDER BY per.product_id
