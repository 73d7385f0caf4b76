-- marts.audience_uplift, one audience at a time: its members selected $attribution_days days
-- before D (the cohort, audience_members dt = $cohort_date), exported members against the
-- holdout over the days cohort+1 .. D. converted = at least one purchase in those days;
-- revenue = their net revenue (current rows of customer_orders_day). Differences are
-- exported minus holdout, with 95% intervals from the normal approximation (Wald for the
-- conversion rates, Welch for revenue per member); NULL without a holdout.
WITH m AS (
  SELECT customer_id, holdout FROM marts.audience_members
  WHERE dt = $cohort_date AND audience = $audience
),
cod AS (
  SELECT customer_id, day, dt, purchases, net_revenue FROM marts.customer_orders_day
  WHERE dt <= $run_date AND day > $cohort_date AND day <= $run_date
),
od AS (
  SELECT customer_id, purchases, net_revenue
  FROM ({{> current_rows rows=cod; key=customer_id, day}}) cur
),
per AS (
  SELECT m.customer_id, m.holdout,
         CASE WHEN coalesce(sum(o.purchases), 0) > 0 THEN 1.0 ELSE 0.0 END AS converted,
         CAST(coalesce(sum(o.net_revenue), 0) AS DOUBLE) AS revenue
  FROM m LEFT JOIN od o ON o.customer_id = m.customer_id
  GROUP BY m.customer_id, m.holdout
),
g AS (
  SELECT
    sum(CASE WHEN NOT holdout THEN 1 ELSE 0 END) AS tn,
    sum(CASE WHEN holdout THEN 1 ELSE 0 END) AS hn,
    avg(CASE WHEN NOT holdout THEN converted END) AS tc,
    avg(CASE WHEN holdout THEN converted END) AS hc,
    avg(CASE WHEN NOT holdout THEN revenue END) AS tr,
    avg(CASE WHEN holdout THEN revenue END) AS hr,
    coalesce(var_samp(CASE WHEN NOT holdout THEN revenue END), 0) AS tv,
    coalesce(var_samp(CASE WHEN holdout THEN revenue END), 0) AS hv
  FROM per
),
e AS (
  SELECT *,
         sqrt(tc * (1 - tc) / tn + hc * (1 - hc) / hn) AS conv_se,
         sqrt(tv / tn + hv / hn) AS rev_se
  FROM g
)
SELECT $audience AS audience,
       $cohort_date AS cohort_dt,
       CAST($attribution_days AS BIGINT) AS attribution_days,
       CAST(coalesce(tn, 0) AS BIGINT) AS exported_members,
       CAST(coalesce(hn, 0) AS BIGINT) AS holdout_members,
       tc AS exported_conversion_rate,
       hc AS holdout_conversion_rate,
       tc - hc AS conversion_diff,
       tc - hc - 1.959964 * conv_se AS conversion_diff_lo95,
       tc - hc + 1.959964 * conv_se AS conversion_diff_hi95,
       tr AS exported_revenue_per_member,
       hr AS holdout_revenue_per_member,
       tr - hr AS revenue_diff,
       tr - hr - 1.959964 * rev_se AS revenue_diff_lo95,
       tr - hr + 1.959964 * rev_se AS revenue_diff_hi95
FROM e
