-- Scratch input of recommendations (not a warehouse table): on a night that scores with the
-- model the previous partition P (dt = $prev_dt) scored with, the customers whose
-- recommendations can differ from their rows in P. A list depends only on the model and the
-- customer's history: purchases and views of the window $window_start .. $run_date, ordered
-- by days since bought, and which purchases are recent (on or after $recent_start). So it
-- changes only for a customer who
--   - has a customer-product-day restated or added since P (partitions after P, and P's rows
--     of days after P, which P's night left out);
--   - viewed products in events staged or linked since P (the same partitions and days);
--   - bought or viewed on a day that left the window ($prev_window_start .. $window_start - 1);
--   - bought on a day that stopped being recent ($prev_recent_start .. $recent_start - 1);
--   - is new since P.
-- Views leaving the window are found in customer_events_day (built from the same staged
-- events by daily_aggregates, which runs first), not by rereading a year of events.
-- Rows of day X sit in partitions dt >= X - 1. A superset is harmless (those customers are
-- scored as a full run would score them); no NULL, which would make the NOT IN that carries
-- the others over keep nobody.
SELECT DISTINCT customer_id FROM (
  SELECT customer_id FROM marts.customer_product_day
  WHERE dt >= $prev_dt AND dt <= $run_date AND (dt > $prev_dt OR day > $prev_dt)
  UNION ALL
  SELECT customer_id FROM staging.events
  WHERE dt >= $prev_dt AND dt <= $run_date AND event_type = 'product_view' AND customer_id IS NOT NULL
    AND (dt > $prev_dt OR shop_date(event_ts) > $prev_dt)
  UNION ALL
  SELECT customer_id FROM marts.stitched_events
  WHERE dt >= $prev_dt AND dt <= $run_date AND event_type = 'product_view'
    AND (dt > $prev_dt OR shop_date(event_ts) > $prev_dt)
  UNION ALL
  SELECT customer_id FROM marts.customer_product_day
  WHERE dt >= $window_left_dt AND dt <= $run_date AND units > 0 AND day >= $prev_window_start AND day < $window_start
  UNION ALL
  SELECT customer_id FROM marts.customer_events_day
  WHERE dt >= $window_left_dt AND dt <= $run_date AND product_views > 0 AND day >= $prev_window_start AND day < $window_start
  UNION ALL
  SELECT customer_id FROM marts.customer_product_day
  WHERE dt >= $recent_left_dt AND dt <= $run_date AND units > 0 AND day >= $prev_recent_start AND day < $recent_start
  UNION ALL
  SELECT customer_id FROM staging.customers WHERE dt > $prev_dt AND dt <= $run_date
) WHERE customer_id IS NOT NULL
