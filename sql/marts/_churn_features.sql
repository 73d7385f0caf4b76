-- Churn features at the cut-off $cutoff, from the daily aggregates up to the run date (the
-- current row of each customer-day of orders, landing.churn_history from _churn_history.sql;
-- events summed over partitions) on days up to $cutoff; and the label: churned = no purchase on
-- the days $cutoff+1 .. $label_end.
-- Windows: the 30, 90 and 365 days ending on $cutoff (from $w30, $w90, $w365; $w90_dt is
-- $w90 - 1). Counts are log1p'd by the job, not here. Every customer is listed; the job keeps
-- those who signed up by the cut-off (tenure_days >= 0). Day windows are CASE conditions, not
-- WHERE filters: with bound parameters DataFusion 55 estimated a selectivity above 1 for such
-- filters here and failed an assertion.
-- Events are additive (late ones land in a later partition and add up), and a row of day X
-- sits in a partition dt >= X - 1: only the partitions of the 90-day window are read.
WITH ev AS (
  SELECT customer_id, day, sessions, product_views, add_to_carts, email_opens, email_clicks
  FROM marts.customer_events_day WHERE dt >= $w90_dt AND dt <= $run_date
),
o AS (
  SELECT customer_id,
         min(signup_day) AS signup_day,
         sum(CASE WHEN day <= $cutoff THEN purchases ELSE 0 END) AS purchases_all,
         sum(CASE WHEN day >= $w30 AND day <= $cutoff THEN purchases ELSE 0 END) AS purchases_30,
         sum(CASE WHEN day >= $w90 AND day <= $cutoff THEN purchases ELSE 0 END) AS purchases_90,
         sum(CASE WHEN day >= $w365 AND day <= $cutoff THEN purchases ELSE 0 END) AS purchases_365,
         CAST(sum(CASE WHEN day >= $w365 AND day <= $cutoff THEN net_revenue ELSE 0 END) AS DOUBLE) AS revenue_365,
         CAST(sum(CASE WHEN day <= $cutoff THEN net_revenue ELSE 0 END) AS DOUBLE) AS revenue_all,
         max(CASE WHEN day <= $cutoff AND purchases > 0 THEN day END) AS last_purchase,
         min(CASE WHEN day <= $cutoff AND purchases > 0 THEN day END) AS first_purchase,
         sum(CASE WHEN day <= $cutoff THEN cancelled + refunded ELSE 0 END) AS returns_all,
         sum(CASE WHEN day > $cutoff AND day <= $label_end THEN purchases ELSE 0 END) AS purchases_after
  FROM landing.churn_history GROUP BY customer_id
),
e AS (
  SELECT customer_id,
         sum(CASE WHEN in90 THEN sessions ELSE 0 END) AS sessions_90,
         sum(CASE WHEN in90 AND day >= $w30 THEN sessions ELSE 0 END) AS sessions_30,
         sum(CASE WHEN in90 THEN product_views ELSE 0 END) AS product_views_90,
         sum(CASE WHEN in90 THEN add_to_carts ELSE 0 END) AS add_to_carts_90,
         sum(CASE WHEN in90 THEN email_opens ELSE 0 END) AS email_opens_90,
         sum(CASE WHEN in90 THEN email_clicks ELSE 0 END) AS email_clicks_90
  FROM (SELECT *, day >= $w90 AND day <= $cutoff AS in90 FROM ev) GROUP BY customer_id
)
SELECT o.customer_id,
       CASE WHEN coalesce(o.purchases_after, 0) = 0 THEN true ELSE false END AS churned,
       CAST($cutoff - o.signup_day AS DOUBLE) AS tenure_days,
       CASE WHEN o.last_purchase IS NULL THEN 0.0 ELSE 1.0 END AS has_purchased,
       CAST(coalesce($cutoff - o.last_purchase, $cutoff - o.signup_day) AS DOUBLE) AS days_since_last_purchase,
       CAST(coalesce($cutoff - o.first_purchase, 0) AS DOUBLE) AS days_since_first_purchase,
       CAST(coalesce(o.purchases_all, 0) AS DOUBLE) AS purchases_all,
       CAST(coalesce(o.purchases_30, 0) AS DOUBLE) AS purchases_30,
       CAST(coalesce(o.purchases_90, 0) AS DOUBLE) AS purchases_90,
       CAST(coalesce(o.purchases_365, 0) AS DOUBLE) AS purchases_365,
       coalesce(o.revenue_365, 0.0) AS revenue_365,
       CASE WHEN coalesce(o.purchases_all, 0) > 0 THEN o.revenue_all / o.purchases_all ELSE 0.0 END AS avg_order_value,
       CAST(coalesce(o.returns_all, 0) AS DOUBLE) AS returns_all,
       CAST(coalesce(e.sessions_30, 0) AS DOUBLE) AS sessions_30,
       CAST(coalesce(e.sessions_90, 0) AS DOUBLE) AS sessions_90,
       CAST(coalesce(e.product_views_90, 0) AS DOUBLE) AS product_views_90,
       CAST(coalesce(e.add_to_carts_90, 0) AS DOUBLE) AS add_to_carts_90,
       CAST(coalesce(e.email_opens_90, 0) AS DOUBLE) AS email_opens_90,
       CAST(coalesce(e.email_clicks_90, 0) AS DOUBLE) AS email_clicks_90
FROM o
LEFT JOIN e ON e.customer_id = o.customer_id
