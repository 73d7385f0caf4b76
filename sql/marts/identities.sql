-- marts.identities: every link from an anonymous visitor (anonymous_id) to a customer, with the
-- first and last time it was seen and where it was first seen: an event that carries both ids
-- ('event') or an identify call ('identify'). The whole graph in each partition: the previous
-- partition's links merged with the evidence staged since when carrying over, else all staged
-- evidence.
-- Links are kept as delivered (a customer whose row has not arrived yet too).
WITH evidence AS (
  SELECT anonymous_id, customer_id, event_ts AS ts, 'event' AS source FROM staging.events
  WHERE {{#carry}}dt > $prev_dt AND {{/carry}}dt <= $run_date AND customer_id IS NOT NULL AND anonymous_id IS NOT NULL
  UNION ALL
  SELECT anonymous_id, customer_id, ts, 'identify' AS source FROM staging.identifies
  WHERE {{#carry}}dt > $prev_dt AND {{/carry}}dt <= $run_date
),
links AS (
  SELECT anonymous_id, customer_id, min(ts) AS first_seen, max(ts) AS last_seen,
         first_value(source ORDER BY ts, source DESC) AS source
  FROM evidence GROUP BY anonymous_id, customer_id
{{#carry}}
  UNION ALL
  SELECT anonymous_id, customer_id, first_seen, last_seen, source FROM marts.identities WHERE dt = $prev_dt
{{/carry}}
)
SELECT anonymous_id, customer_id, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
       first_value(source ORDER BY first_seen, source DESC) AS source
FROM links
GROUP BY anonymous_id, customer_id
ORDER BY anonymous_id, customer_id
