-- marts.anonymous_events: tonight's events of visitors no customer is linked to yet (an
-- anonymous_id, no customer_id, no link in tonight's graph). When a later night links the
-- visitor, the events of the last stitch_lookback_days days are read from here (not from a
-- quarter of all events) and counted for the customer in marts.stitched_events.
SELECT {{> event_columns}} FROM staging.events
WHERE dt = $run_date AND customer_id IS NULL AND anonymous_id IS NOT NULL
  AND anonymous_id NOT IN (SELECT anonymous_id FROM landing.links)
ORDER BY anonymous_id, event_ts
