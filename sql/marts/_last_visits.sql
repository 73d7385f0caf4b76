-- Scratch step of user_profiles (not a warehouse table): the last day with a session of every
-- customer. On a night that carries rows over (the carry section), the previous profiles
-- ($prev_dt) plus the events staged since, so no night rescans all history; else every
-- partition of customer_events_day.
SELECT customer_id, max(last_visit_date) AS last_visit_date FROM (
{{#carry}}
  SELECT customer_id, last_visit_date FROM marts.user_profiles
  WHERE dt = $prev_dt AND last_visit_date IS NOT NULL
  UNION ALL
  SELECT customer_id, max(day) AS last_visit_date FROM marts.customer_events_day
  WHERE dt >= $prev_dt AND dt <= $run_date AND day <= $run_date AND sessions > 0 GROUP BY customer_id
{{/carry}}
{{#full}}
  SELECT customer_id, max(day) AS last_visit_date FROM marts.customer_events_day
  WHERE dt <= $run_date AND day <= $run_date AND sessions > 0 GROUP BY customer_id
{{/full}}
) GROUP BY customer_id
