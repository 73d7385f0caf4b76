-- marts.user_profiles: one row per customer known at the run date D (no contact data: emails
-- and names stay in staging.customers and are joined only when exporting).
-- Purchase behaviour is all history up to D; preferences cover the order days
-- $pref_start .. D; browsing and email figures the last 7, 30 and 90 days (days D-6 .. D, ...).
-- A purchase is an order whose latest status is paid or shipped (see customer_orders_day).
-- Ties of a preference go to the earlier weekday (Monday first), the smaller hour or the
-- alphabetically smaller name. The preferred device uses the 90-day window of events.
-- Rates are NULL when undefined.
-- Incremental: this computes the rows of the customers in landing.scope (see
-- _profile_scope.sql; on a full run the job drops these filters); the job adds everyone else's
-- row of the previous partition with its day counts moved on. landing.current_orders_day holds
-- only the scope's whole_row customers: the job keeps the others' previous preferences.
-- No ORDER BY here: the job writes this to scratch and publishes it sorted by customer_id from
-- there. Sorting the join output directly made DataFusion 55 reserve hundreds of GB for one
-- batch (its arrays are counted by the buffers they share) and fail at 1M customers.
WITH customers AS (
  SELECT customer_id, country, signup_ts, birth_year FROM (
    SELECT customer_id, country, signup_ts, birth_year,
           row_number() OVER (PARTITION BY customer_id ORDER BY updated_at DESC, dt DESC) AS rn
    FROM staging.customers WHERE dt <= $run_date AND {{scope}}
  ) WHERE rn = 1
),
-- All-time totals per customer (customer_order_totals) and, for the preferences, the
-- current customer-days of the preference window (landing.current_orders_day, materialised
-- by the job from sql/marts/_current_orders_day.sql for the customers in scope).
tot AS (
  SELECT * FROM marts.customer_order_totals
  WHERE dt = $run_date AND {{scope}}
),
od AS (SELECT * FROM landing.current_orders_day),
pref AS (
  SELECT customer_id,
         sum(purchases_app) AS app, sum(purchases_marketplace) AS marketplace, sum(purchases_web) AS web
  FROM od GROUP BY customer_id
),
pref_days AS (SELECT * FROM od WHERE purchases > 0),
weekday AS (
  SELECT customer_id, wd AS preferred_weekday FROM (
    SELECT customer_id, wd, row_number() OVER (PARTITION BY customer_id ORDER BY n DESC, dow) AS r FROM (
      SELECT customer_id, to_char(day, '%A') AS wd, (CAST(date_part('dow', day) AS INT) + 6) % 7 AS dow,
             sum(purchases) AS n
      FROM pref_days GROUP BY customer_id, to_char(day, '%A'), (CAST(date_part('dow', day) AS INT) + 6) % 7
    )
  ) WHERE r = 1
),
hour AS (
  SELECT customer_id, h AS preferred_hour FROM (
    SELECT customer_id, h, row_number() OVER (PARTITION BY customer_id ORDER BY n DESC, h) AS r FROM (
      SELECT customer_id, h, count(*) AS n
      FROM (SELECT customer_id, unnest(purchase_hours) AS h FROM pref_days)
      GROUP BY customer_id, h
    )
  ) WHERE r = 1
),
-- Spend per category and brand over the preference window (landing.preference_spend,
-- materialised by the job from sql/marts/_preference_spend.sql).
cp AS (SELECT * FROM landing.preference_spend),
cat AS (
  SELECT customer_id, category, spend, r,
         CAST(spend AS DOUBLE) / CAST(sum(spend) OVER (PARTITION BY customer_id) AS DOUBLE) AS share
  FROM (
    SELECT customer_id, category, spend,
           row_number() OVER (PARTITION BY customer_id ORDER BY spend DESC, category) AS r
    FROM (SELECT customer_id, category, sum(spend) AS spend FROM cp GROUP BY 1, 2)
  )
),
cats AS (
  SELECT customer_id,
         max(CASE WHEN r = 1 THEN category END) AS top_category_1,
         max(CASE WHEN r = 1 THEN share END) AS top_category_1_share,
         max(CASE WHEN r = 2 THEN category END) AS top_category_2,
         max(CASE WHEN r = 2 THEN share END) AS top_category_2_share,
         max(CASE WHEN r = 3 THEN category END) AS top_category_3,
         max(CASE WHEN r = 3 THEN share END) AS top_category_3_share
  FROM cat WHERE r <= 3 GROUP BY customer_id
),
brand AS (
  SELECT customer_id, brand AS favourite_brand FROM (
    SELECT customer_id, brand, row_number() OVER (PARTITION BY customer_id ORDER BY spend DESC, brand) AS r
    FROM (SELECT customer_id, brand, sum(spend) AS spend FROM cp WHERE brand IS NOT NULL GROUP BY 1, 2)
  ) WHERE r = 1
),
ev AS (
  SELECT * FROM marts.customer_events_day
  WHERE dt >= $events_dt_start AND dt <= $run_date AND day >= $w90 AND day <= $run_date
    AND {{scope}}
),
browse AS (
  SELECT customer_id,
         sum(sessions) FILTER (WHERE day >= $w7) AS sessions_7d,
         sum(sessions) FILTER (WHERE day >= $w30) AS sessions_30d,
         sum(sessions) AS sessions_90d,
         sum(product_views) FILTER (WHERE day >= $w7) AS product_views_7d,
         sum(product_views) FILTER (WHERE day >= $w30) AS product_views_30d,
         sum(product_views) AS product_views_90d,
         sum(searches) FILTER (WHERE day >= $w7) AS searches_7d,
         sum(searches) FILTER (WHERE day >= $w30) AS searches_30d,
         sum(searches) AS searches_90d,
         sum(add_to_carts) FILTER (WHERE day >= $w7) AS add_to_carts_7d,
         sum(add_to_carts) FILTER (WHERE day >= $w30) AS add_to_carts_30d,
         sum(add_to_carts) AS add_to_carts_90d,
         sum(cart_sessions) FILTER (WHERE day >= $w7) AS cart_sessions_7d,
         sum(cart_sessions) FILTER (WHERE day >= $w30) AS cart_sessions_30d,
         sum(cart_sessions) AS cart_sessions_90d,
         sum(cart_purchase_sessions) FILTER (WHERE day >= $w7) AS cart_purchase_sessions_7d,
         sum(cart_purchase_sessions) FILTER (WHERE day >= $w30) AS cart_purchase_sessions_30d,
         sum(cart_purchase_sessions) AS cart_purchase_sessions_90d,
         sum(view_sessions) FILTER (WHERE day >= $w7) AS view_sessions_7d,
         sum(view_sessions) FILTER (WHERE day >= $w30) AS view_sessions_30d,
         sum(view_sessions) AS view_sessions_90d,
         sum(purchase_sessions) FILTER (WHERE day >= $w7) AS purchase_sessions_7d,
         sum(purchase_sessions) FILTER (WHERE day >= $w30) AS purchase_sessions_30d,
         sum(purchase_sessions) AS purchase_sessions_90d,
         sum(email_opens) FILTER (WHERE day >= $w30) AS email_opens_30d,
         sum(email_clicks) FILTER (WHERE day >= $w30) AS email_clicks_30d,
         sum(desktop_sessions) AS desktop, sum(mobile_sessions) AS mobile, sum(tablet_sessions) AS tablet
  FROM ev GROUP BY customer_id
),
-- Browsing figures with the last visit, in one input of the final join (a longer chain of
-- wide joins made the 1M-customer build take minutes instead of seconds).
visits AS (
  SELECT coalesce(b.customer_id, v.customer_id) AS customer_id, b.* EXCLUDE (customer_id), v.last_visit_date
  FROM browse b
  FULL OUTER JOIN (SELECT * FROM landing.last_visits WHERE {{scope}}) v
    ON b.customer_id = v.customer_id
),
terms AS (
  SELECT customer_id, day, unnest(search_terms) AS term FROM ev WHERE searches > 0
),
term_counts AS (
  SELECT customer_id, term,
         sum(CASE WHEN day >= $w7 THEN 1 ELSE 0 END) AS n7,
         sum(CASE WHEN day >= $w30 THEN 1 ELSE 0 END) AS n30,
         count(*) AS n90
  FROM terms GROUP BY customer_id, term
),
top_terms AS (
  SELECT customer_id,
         array_agg(term ORDER BY r7) FILTER (WHERE r7 <= 3 AND n7 > 0) AS top_search_terms_7d,
         array_agg(term ORDER BY r30) FILTER (WHERE r30 <= 3 AND n30 > 0) AS top_search_terms_30d,
         array_agg(term ORDER BY r90) FILTER (WHERE r90 <= 3) AS top_search_terms_90d
  FROM (
    SELECT customer_id, term, n7, n30,
           row_number() OVER (PARTITION BY customer_id ORDER BY n7 DESC, term) AS r7,
           row_number() OVER (PARTITION BY customer_id ORDER BY n30 DESC, term) AS r30,
           row_number() OVER (PARTITION BY customer_id ORDER BY n90 DESC, term) AS r90
    FROM term_counts
  ) GROUP BY customer_id
)
SELECT
  c.customer_id,
  c.country,
  shop_date(c.signup_ts) AS signup_date,
  CAST($run_date - shop_date(c.signup_ts) AS BIGINT) AS tenure_days,
  CASE
    WHEN c.birth_year IS NULL THEN NULL
    WHEN $run_year - c.birth_year < 18 THEN 'under 18'
    WHEN $run_year - c.birth_year < 25 THEN '18-24'
    WHEN $run_year - c.birth_year < 35 THEN '25-34'
    WHEN $run_year - c.birth_year < 45 THEN '35-44'
    WHEN $run_year - c.birth_year < 55 THEN '45-54'
    WHEN $run_year - c.birth_year < 65 THEN '55-64'
    ELSE '65+'
  END AS age_band,
  b.first_order_date,
  b.last_order_date,
  b.first_purchase_date,
  b.last_purchase_date,
  coalesce(b.orders, 0) AS orders,
  coalesce(b.purchases, 0) AS purchases,
  coalesce(b.units, 0) AS items,
  CAST(coalesce(b.net_revenue, 0) AS DECIMAL(18, 2)) AS net_revenue,
  CASE WHEN b.purchases > 0 THEN CAST(b.net_revenue AS DOUBLE) / b.purchases END AS avg_order_value,
  CASE WHEN b.purchases > 1
       THEN CAST(b.last_purchase_date - b.first_purchase_date AS DOUBLE) / (b.purchases - 1) END
    AS mean_days_between_orders,
  CASE WHEN b.net_revenue + b.discount_amount > 0
       THEN CAST(b.discount_amount AS DOUBLE) / CAST(b.net_revenue + b.discount_amount AS DOUBLE) END
    AS discount_share,
  CASE WHEN b.orders > 0 THEN CAST(b.cancelled AS DOUBLE) / b.orders END AS cancellation_rate,
  CASE WHEN b.orders > 0 THEN CAST(b.refunded AS DOUBLE) / b.orders END AS refund_rate,
  cats.top_category_1, cats.top_category_1_share,
  cats.top_category_2, cats.top_category_2_share,
  cats.top_category_3, cats.top_category_3_share,
  brand.favourite_brand,
  CASE WHEN greatest(pr.app, pr.marketplace, pr.web) > 0 THEN
    CASE greatest(pr.app, pr.marketplace, pr.web) WHEN pr.app THEN 'app' WHEN pr.marketplace THEN 'marketplace' ELSE 'web' END
  END AS preferred_channel,
  CASE WHEN greatest(w.desktop, w.mobile, w.tablet) > 0 THEN
    CASE greatest(w.desktop, w.mobile, w.tablet) WHEN w.desktop THEN 'desktop' WHEN w.mobile THEN 'mobile' ELSE 'tablet' END
  END AS preferred_device,
  weekday.preferred_weekday,
  hour.preferred_hour,
  coalesce(w.sessions_7d, 0) AS sessions_7d,
  coalesce(w.sessions_30d, 0) AS sessions_30d,
  coalesce(w.sessions_90d, 0) AS sessions_90d,
  coalesce(w.product_views_7d, 0) AS product_views_7d,
  coalesce(w.product_views_30d, 0) AS product_views_30d,
  coalesce(w.product_views_90d, 0) AS product_views_90d,
  coalesce(w.searches_7d, 0) AS searches_7d,
  coalesce(w.searches_30d, 0) AS searches_30d,
  coalesce(w.searches_90d, 0) AS searches_90d,
  t.top_search_terms_7d,
  t.top_search_terms_30d,
  t.top_search_terms_90d,
  coalesce(w.add_to_carts_7d, 0) AS add_to_carts_7d,
  coalesce(w.add_to_carts_30d, 0) AS add_to_carts_30d,
  coalesce(w.add_to_carts_90d, 0) AS add_to_carts_90d,
  CASE WHEN w.cart_sessions_7d > 0 THEN 1.0 - CAST(w.cart_purchase_sessions_7d AS DOUBLE) / w.cart_sessions_7d END AS cart_abandonment_rate_7d,
  CASE WHEN w.cart_sessions_30d > 0 THEN 1.0 - CAST(w.cart_purchase_sessions_30d AS DOUBLE) / w.cart_sessions_30d END AS cart_abandonment_rate_30d,
  CASE WHEN w.cart_sessions_90d > 0 THEN 1.0 - CAST(w.cart_purchase_sessions_90d AS DOUBLE) / w.cart_sessions_90d END AS cart_abandonment_rate_90d,
  CASE WHEN w.view_sessions_7d > 0 THEN CAST(w.purchase_sessions_7d AS DOUBLE) / w.view_sessions_7d END AS view_to_purchase_rate_7d,
  CASE WHEN w.view_sessions_30d > 0 THEN CAST(w.purchase_sessions_30d AS DOUBLE) / w.view_sessions_30d END AS view_to_purchase_rate_30d,
  CASE WHEN w.view_sessions_90d > 0 THEN CAST(w.purchase_sessions_90d AS DOUBLE) / w.view_sessions_90d END AS view_to_purchase_rate_90d,
  w.last_visit_date,
  CAST($run_date - w.last_visit_date AS BIGINT) AS days_since_last_visit,
  coalesce(w.email_opens_30d, 0) AS email_opens_30d,
  coalesce(w.email_clicks_30d, 0) AS email_clicks_30d
FROM customers c
LEFT JOIN tot b ON c.customer_id = b.customer_id
LEFT JOIN pref pr ON c.customer_id = pr.customer_id
LEFT JOIN cats ON c.customer_id = cats.customer_id
LEFT JOIN brand ON c.customer_id = brand.customer_id
LEFT JOIN weekday ON c.customer_id = weekday.customer_id
LEFT JOIN hour ON c.customer_id = hour.customer_id
LEFT JOIN visits w ON c.customer_id = w.customer_id
LEFT JOIN top_terms t ON c.customer_id = t.customer_id
