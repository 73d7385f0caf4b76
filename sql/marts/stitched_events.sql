-- marts.stitched_events: events that came without a customer_id, counted for the customer
-- their anonymous_id is linked to, in the partition of the night they were linked: tonight's
-- own, and those of earlier nights (marts.anonymous_events, shop days from $stitch_from) of
-- anonymous ids linked for the first time tonight (landing.links). An event belongs to the
-- link with the latest first_seen at or before the event; an event older than every link, to
-- the earliest link. So on a shared device the latest link wins from its first_seen on. An
-- event is linked once: a later link does not move it.
WITH candidates AS (
  SELECT {{> event_columns}} FROM staging.events
  WHERE dt = $run_date AND customer_id IS NULL AND anonymous_id IN (SELECT anonymous_id FROM landing.links)
  UNION ALL
  SELECT {{> event_columns}} FROM marts.anonymous_events
  WHERE dt >= $stitch_from_dt AND dt < $run_date AND shop_date(event_ts) >= $stitch_from
    AND anonymous_id IN (SELECT anonymous_id FROM landing.links WHERE newly)
),
ranked AS (
  SELECT c.*, l.customer_id,
         row_number() OVER (
           PARTITION BY c.event_id
           ORDER BY CASE WHEN l.first_seen <= c.event_ts THEN l.first_seen END DESC NULLS LAST, l.first_seen, l.customer_id
         ) AS rn
  FROM candidates c JOIN landing.links l ON l.anonymous_id = c.anonymous_id
)
SELECT event_id, event_ts, customer_id, anonymous_id, session_id, event_type, product_id, search_query,
       page_url, referrer, device, os, country, properties
FROM ranked WHERE rn = 1
ORDER BY customer_id, event_ts
