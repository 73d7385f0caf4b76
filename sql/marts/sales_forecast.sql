-- Series of the sales_forecast job (the models, sales_forecast and forecast_backtest are
-- computed in Rust): purchased units and net revenue per order day, from the current rows of
-- marts.product_day (a day's rows are those of the newest partition holding it, so refunds
-- restated later are counted), for the total, each category, and the top $top_n products by
-- revenue over days $top_from .. $last_day. Days from $first_day (the job uses those up to
-- $last_day); days without sales are absent (the job fills them with zeros). Output:
-- series_key, day, revenue, units,
-- products_from (the night the top products were chosen, $run_date: see _sales_series.sql,
-- which the nights in between run instead) and data_from (the first day with sales, which
-- they keep), published as marts.sales_series.
WITH pd AS (
  SELECT product_id, category, day, dt, revenue, units FROM marts.product_day
  -- Days after $last_day too: kept in sales_series for the nights after (a day's rows may be
  -- written the night before it), left out of the series by the job.
  WHERE dt <= $run_date AND day >= $first_day
),
daily AS (
  SELECT product_id, coalesce(category, 'unknown') AS category, day,
         CAST(revenue AS DOUBLE) AS revenue, CAST(units AS DOUBLE) AS units
  FROM ({{> current_rows rows=pd; key=day}}) cur
),
top_products AS (
  SELECT product_id FROM (
    SELECT product_id, row_number() OVER (ORDER BY sum(revenue) DESC, product_id) AS rk
    FROM daily WHERE day >= $top_from AND day <= $last_day
    GROUP BY product_id
  ) WHERE rk <= $top_n
)
SELECT 'total' AS series_key, day, sum(revenue) AS revenue, sum(units) AS units, CAST($run_date AS DATE) AS products_from, CAST($data_from AS DATE) AS data_from
FROM daily WHERE $with_total GROUP BY day
UNION ALL
SELECT 'category=' || category AS series_key, day, sum(revenue) AS revenue, sum(units) AS units, CAST($run_date AS DATE) AS products_from, CAST($data_from AS DATE) AS data_from
FROM daily WHERE $with_category GROUP BY category, day
UNION ALL
SELECT 'product=' || d.product_id AS series_key, day, sum(revenue) AS revenue, sum(units) AS units, CAST($run_date AS DATE) AS products_from, CAST($data_from AS DATE) AS data_from
FROM daily d JOIN top_products t ON d.product_id = t.product_id
GROUP BY d.product_id, day
