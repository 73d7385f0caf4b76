-- Scratch input of user_profiles (not a warehouse table): the customers whose profile can
-- differ from their row in the previous partition P (dt = $prev_dt) beyond the two day counts
-- (tenure_days, days_since_last_visit), which the job moves on for everyone else. A profile
-- changes only when one of its inputs does:
--   - a customer-day restated or added since P (partitions P .. D: P too, as it may hold rows
--     of days after P that P's night left out), which also covers the all-time totals;
--   - a current customer-day that left the preference window ($prev_pref_start .. $pref_start - 1);
--   - events arrived since P (partitions P .. D, the last visit too);
--   - an event day that left the 7-, 30- or 90-day window;
--   - a customer row staged since P (country, signup, birth year; new customers).
-- A superset is harmless (those rows are recomputed as a full run would).
-- whole_row: the first, second or last holds, so the preferences (a year of customer-days)
-- are read again. The others keep their previous preferences: most of the scope is customers
-- whose events moved or left a window. A customer without a previous row has a customer row
-- staged since P, so is whole_row too.
SELECT customer_id, bool_or(whole_row) AS whole_row FROM (
  SELECT customer_id, true AS whole_row FROM marts.customer_orders_day WHERE dt >= $prev_dt AND dt <= $run_date
  UNION ALL
  SELECT customer_id, true FROM marts.customer_orders_day
  WHERE dt >= $pref_left_dt AND dt <= $run_date AND day >= $prev_pref_start AND day < $pref_start
  UNION ALL
  SELECT customer_id, false FROM marts.customer_events_day WHERE dt >= $prev_dt AND dt <= $run_date
  UNION ALL
  SELECT customer_id, false FROM marts.customer_events_day
  WHERE dt >= $events_left_dt AND dt <= $run_date
    AND ((day >= $prev_w7 AND day < $w7) OR (day >= $prev_w30 AND day < $w30) OR (day >= $prev_w90 AND day < $w90))
  UNION ALL
  SELECT customer_id, true FROM staging.customers WHERE dt > $prev_dt AND dt <= $run_date
) GROUP BY customer_id
