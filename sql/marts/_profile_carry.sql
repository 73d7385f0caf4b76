-- Scratch step of user_profiles on a night that carries rows over (not a warehouse table):
-- tonight's rows of the customers in landing.scope (landing.profiles_fresh, from
-- user_profiles.sql), where a customer in scope without whole_row keeps the previous night's
-- preferences (their inputs were not read); plus the previous row ($prev_dt) of everyone out
-- of scope, with its day counts moved on to the run date. Review columns are added after
-- (user_profiles.rs), from tonight's reviews.
SELECT f.* REPLACE (
         CASE WHEN s.whole_row THEN f.top_category_1 ELSE p.top_category_1 END AS top_category_1,
         CASE WHEN s.whole_row THEN f.top_category_1_share ELSE p.top_category_1_share END AS top_category_1_share,
         CASE WHEN s.whole_row THEN f.top_category_2 ELSE p.top_category_2 END AS top_category_2,
         CASE WHEN s.whole_row THEN f.top_category_2_share ELSE p.top_category_2_share END AS top_category_2_share,
         CASE WHEN s.whole_row THEN f.top_category_3 ELSE p.top_category_3 END AS top_category_3,
         CASE WHEN s.whole_row THEN f.top_category_3_share ELSE p.top_category_3_share END AS top_category_3_share,
         CASE WHEN s.whole_row THEN f.favourite_brand ELSE p.favourite_brand END AS favourite_brand,
         CASE WHEN s.whole_row THEN f.preferred_channel ELSE p.preferred_channel END AS preferred_channel,
         CASE WHEN s.whole_row THEN f.preferred_weekday ELSE p.preferred_weekday END AS preferred_weekday,
         CASE WHEN s.whole_row THEN f.preferred_hour ELSE p.preferred_hour END AS preferred_hour)
FROM landing.profiles_fresh f
JOIN landing.scope s ON s.customer_id = f.customer_id
LEFT JOIN (
  SELECT * FROM marts.user_profiles
  WHERE dt = $prev_dt AND customer_id IN (SELECT customer_id FROM landing.scope WHERE NOT whole_row)
) p ON p.customer_id = f.customer_id
UNION ALL
SELECT * EXCLUDE (dt, reviews_written, mean_rating_given, last_review_sentiment, last_review_date) REPLACE (
         CAST($run_date - signup_date AS BIGINT) AS tenure_days,
         CAST($run_date - last_visit_date AS BIGINT) AS days_since_last_visit)
FROM marts.user_profiles p
WHERE p.dt = $prev_dt AND NOT EXISTS (SELECT 1 FROM landing.scope s WHERE s.customer_id = p.customer_id)
