-- Series of the sales_forecast job on the nights between two choices of the top products: the
-- previous night's marts.sales_series (dt = $prev_dt) with the days restated or added since
-- computed again. A day's current rows are those of the newest product_day partition holding
-- it, so a day changed since $prev_dt has all its current rows in the partitions after it, and
-- only those are read (not all history). The product series are those of $prev_dt: the top
-- products are chosen again with the models (sales_forecast.sql, every backtest_every_days).
-- Output as sales_forecast.sql's.
WITH pd AS (
  SELECT product_id, category, day, dt, revenue, units FROM marts.product_day
  WHERE dt > $prev_dt AND dt <= $run_date AND day >= $first_day
),
daily AS (
  SELECT product_id, coalesce(category, 'unknown') AS category, day,
         CAST(revenue AS DOUBLE) AS revenue, CAST(units AS DOUBLE) AS units
  FROM ({{> current_rows rows=pd; key=day}}) cur
),
current_days AS (SELECT DISTINCT day FROM daily),
kept AS (
  SELECT DISTINCT series_key FROM marts.sales_series WHERE dt = $prev_dt AND series_key LIKE 'product=%'
)
SELECT 'total' AS series_key, day, sum(revenue) AS revenue, sum(units) AS units, CAST($products_from AS DATE) AS products_from, CAST($data_from AS DATE) AS data_from
FROM daily WHERE $with_total GROUP BY day
UNION ALL
SELECT 'category=' || category AS series_key, day, sum(revenue) AS revenue, sum(units) AS units, CAST($products_from AS DATE) AS products_from, CAST($data_from AS DATE) AS data_from
FROM daily WHERE $with_category GROUP BY category, day
UNION ALL
SELECT k.series_key, d.day, sum(d.revenue) AS revenue, sum(d.units) AS units, CAST($products_from AS DATE) AS products_from, CAST($data_from AS DATE) AS data_from
FROM kept k JOIN daily d ON k.series_key = 'product=' || d.product_id
GROUP BY k.series_key, d.day
UNION ALL
SELECT s.series_key, s.day, s.revenue, s.units, CAST($products_from AS DATE) AS products_from, CAST($data_from AS DATE) AS data_from
FROM marts.sales_series s
WHERE s.dt = $prev_dt AND s.day >= $first_day
  AND NOT EXISTS (SELECT 1 FROM current_days c WHERE c.day = s.day)
