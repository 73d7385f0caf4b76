-- marts.customer_events_day: one row per customer and event day (the day of event_ts in the
-- shop's time zone) from the events staged on the run date with a customer_id, and the events
-- linked to a customer tonight (marts.stitched_events: anonymous ones, of tonight or of the
-- stitch lookback before). Events are never restated: late events of an earlier day, and
-- anonymous ones once linked, land in the partition of the night they arrive or are linked, so
-- figures of a customer-day add up over partitions.
-- A session counts on each day it has events; sessions made only of email opens are not visits.
-- *_sessions count sessions with at least one event of that kind; cart_purchase_sessions those
-- with both an add_to_cart and a purchase.
WITH e AS (
  SELECT customer_id, shop_date(event_ts) AS day, coalesce(session_id, event_id) AS session_id,
         event_type, device, lower(trim(search_query)) AS term, event_ts
  FROM (
    SELECT customer_id, event_id, event_ts, session_id, event_type, device, search_query
    FROM staging.events WHERE dt = $run_date AND customer_id IS NOT NULL
    UNION ALL
    SELECT customer_id, event_id, event_ts, session_id, event_type, device, search_query
    FROM marts.stitched_events WHERE dt = $run_date
  ) tonight
),
sessions AS (
  SELECT customer_id, day, session_id, max(device) AS device,
         max(CASE WHEN event_type = 'product_view' THEN 1 ELSE 0 END) AS viewed,
         max(CASE WHEN event_type = 'add_to_cart' THEN 1 ELSE 0 END) AS carted,
         max(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS purchased
  FROM e WHERE event_type <> 'email_open'
  GROUP BY customer_id, day, session_id
),
s AS (
  SELECT customer_id, day,
         count(*) AS sessions,
         sum(viewed) AS view_sessions,
         sum(carted) AS cart_sessions,
         sum(purchased) AS purchase_sessions,
         sum(carted * purchased) AS cart_purchase_sessions,
         sum(CASE WHEN device = 'desktop' THEN 1 ELSE 0 END) AS desktop_sessions,
         sum(CASE WHEN device = 'mobile' THEN 1 ELSE 0 END) AS mobile_sessions,
         sum(CASE WHEN device = 'tablet' THEN 1 ELSE 0 END) AS tablet_sessions
  FROM sessions GROUP BY customer_id, day
),
c AS (
  SELECT customer_id, day,
         count(*) AS events,
         sum(CASE WHEN event_type = 'page_view' THEN 1 ELSE 0 END) AS page_views,
         sum(CASE WHEN event_type = 'product_view' THEN 1 ELSE 0 END) AS product_views,
         sum(CASE WHEN event_type = 'search' THEN 1 ELSE 0 END) AS searches,
         sum(CASE WHEN event_type = 'add_to_cart' THEN 1 ELSE 0 END) AS add_to_carts,
         sum(CASE WHEN event_type = 'remove_from_cart' THEN 1 ELSE 0 END) AS remove_from_carts,
         sum(CASE WHEN event_type = 'checkout_start' THEN 1 ELSE 0 END) AS checkout_starts,
         sum(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS purchase_events,
         sum(CASE WHEN event_type = 'email_open' THEN 1 ELSE 0 END) AS email_opens,
         sum(CASE WHEN event_type = 'email_click' THEN 1 ELSE 0 END) AS email_clicks,
         count(DISTINCT shop_hour(event_ts)) AS active_hours,
         array_agg(term ORDER BY term) FILTER (WHERE event_type = 'search' AND term IS NOT NULL AND term <> '') AS search_terms,
         max(event_ts) AS last_event_ts
  FROM e GROUP BY customer_id, day
)
SELECT c.customer_id, c.day, c.events,
       coalesce(s.sessions, 0) AS sessions,
       c.page_views, c.product_views, c.searches, c.add_to_carts, c.remove_from_carts,
       c.checkout_starts, c.purchase_events, c.email_opens, c.email_clicks,
       coalesce(s.view_sessions, 0) AS view_sessions,
       coalesce(s.cart_sessions, 0) AS cart_sessions,
       coalesce(s.purchase_sessions, 0) AS purchase_sessions,
       coalesce(s.cart_purchase_sessions, 0) AS cart_purchase_sessions,
       coalesce(s.desktop_sessions, 0) AS desktop_sessions,
       coalesce(s.mobile_sessions, 0) AS mobile_sessions,
       coalesce(s.tablet_sessions, 0) AS tablet_sessions,
       c.active_hours, c.search_terms, c.last_event_ts
FROM c LEFT JOIN s ON c.customer_id = s.customer_id AND c.day = s.day
