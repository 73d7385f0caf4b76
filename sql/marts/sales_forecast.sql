-- Series of the sales_forecast job (the models, sales_forecast and forecast_backtest are
-- computed in Rust): purchased units and net revenue per order day, from the current rows of
-- marts.product_day (a day's rows are those of the newest partition holding it, so refunds
-- restated later are counted), for the total, each category, and the top $top_n products by
-- revenue over days $top_from .. $last_day. Days $first_day .. $last_day; days without sales
-- are absent (the job fills them with zeros). Output: series_key, day, revenue, units.
WITH current_days AS (
  SELECT day, max(dt) AS cdt
  FROM marts.product_day
  WHERE dt <= $run_date AND day >= $first_day AND day <= $last_day
  GROUP BY day
),
daily AS (
  SELECT p.product_id, coalesce(p.category, 'unknown') AS category, p.day,
         CAST(p.revenue AS DOUBLE) AS revenue, CAST(p.units AS DOUBLE) AS units
  FROM marts.product_day p
  JOIN current_days c ON p.day = c.day AND p.dt = c.cdt
),
top_products AS (
  SELECT product_id FROM (
    SELECT product_id, row_number() OVER (ORDER BY sum(revenue) DESC, product_id) AS rk
    FROM daily WHERE day >= $top_from
    GROUP BY product_id
  ) WHERE rk <= $top_n
)
SELECT 'total' AS series_key, day, sum(revenue) AS revenue, sum(units) AS units
FROM daily WHERE $with_total GROUP BY day
UNION ALL
SELECT 'category=' || category AS series_key, day, sum(revenue) AS revenue, sum(units) AS units
FROM daily WHERE $with_category GROUP BY category, day
UNION ALL
SELECT 'product=' || d.product_id AS series_key, day, sum(revenue) AS revenue, sum(units) AS units
FROM daily d JOIN top_products t ON d.product_id = t.product_id
GROUP BY d.product_id, day
