-- marts.anonymous_events: tonight's events of visitors no customer is linked to yet (an
-- anonymous_id, no customer_id, no link in tonight's graph). When a later night links the
-- visitor, the events of the last stitch_lookback_days days are read from here (not from a
-- quarter of all events) and counted for the customer in marts.stitched_events.
-- NOT EXISTS, not NOT IN: NOT IN's null-aware join holds all of the night's events in one
-- batch (on a first load, years of them), which the sort then cannot take.
SELECT {{> event_columns}} FROM staging.events e
WHERE dt = $run_date AND customer_id IS NULL AND anonymous_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM landing.links l WHERE l.anonymous_id = e.anonymous_id)
ORDER BY anonymous_id, event_ts
