-- Scratch input of rfm_segments (not a warehouse table): the customers whose frequency and
-- monetary (purchases of the lookback window) can differ from their row in the previous
-- partition P (dt = $prev_dt): a customer-day restated or added since P (partitions P .. D:
-- P too, as it may hold rows of days after P that P's night left out), or one that left the
-- window ($prev_window_start .. $window_start - 1). Everyone else's window sums carry over.
SELECT DISTINCT customer_id FROM (
  SELECT customer_id FROM marts.customer_orders_day WHERE dt >= $prev_dt AND dt <= $run_date
  UNION ALL
  SELECT customer_id FROM marts.customer_orders_day
  WHERE dt >= $window_left_dt AND dt <= $run_date AND day >= $prev_window_start AND day < $window_start
)
