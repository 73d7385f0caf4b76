-- snowplow -> raw events: Snowplow's enriched events, as the S3 loader writes them (gzipped
-- TSV lines in the canonical column order, https://docs.snowplow.io/docs/fundamentals/canonical-event/).
-- Page views, site searches, the e-commerce plugin's actions
-- (snowplow_ecommerce_action: product_view, add_to_cart, remove_from_cart, checkout_step 1
-- as the checkout's start, transaction) with their product entities, and the older
-- `transaction` event are mapped; every other event (page pings, struct events, other
-- actions and checkout steps, transaction items, ...) is counted as ignored by name.
-- - The time is derived_tstamp (the device's time corrected by the collector's), else
--   collector_tstamp; a line whose collector_tstamp is unreadable is quarantined.
-- - The visitor is the first-party cookie (domain_userid), else the collector's cookie
--   (network_userid); the session its domain_sessionid, else the visitor and session index.
-- - The device and OS come from the YAUAA entity when the pipeline adds it, else the user agent.
WITH e AS (
  SELECT *,
    json_as_text("unstruct_event", 'data', 'schema') AS _sde,
    json_as_text("unstruct_event", 'data', 'data', 'type') AS _action,
    "useragent" AS _ua
  FROM feed
  WHERE _error IS NULL
),
-- Entities of each event (contexts and the enrichments' derived_contexts) that the mapping reads.
ents AS (
  SELECT _seq AS x_seq,
    min(CASE WHEN json_as_text(x, 'schema') LIKE 'iglu:com.snowplowanalytics.snowplow.ecommerce/product/%' THEN json_as_text(x, 'data', 'id') END) AS _product,
    min(CASE WHEN json_as_text(x, 'schema') LIKE 'iglu:nl.basjes/yauaa_context/%' THEN json_as_text(x, 'data', 'deviceClass') END) AS _device_class,
    min(CASE WHEN json_as_text(x, 'schema') LIKE 'iglu:nl.basjes/yauaa_context/%' THEN json_as_text(x, 'data', 'operatingSystemName') END) AS _os,
    min(CASE WHEN json_as_text(x, 'schema') LIKE 'iglu:com.snowplowanalytics.snowplow.ecommerce/checkout_step/%' THEN json_as_text(x, 'data', 'step') END) AS _step
  FROM (
    SELECT _seq, unnest(json_get_array("contexts", 'data')) AS x FROM e WHERE "contexts" IS NOT NULL
    UNION ALL
    SELECT _seq, unnest(json_get_array("derived_contexts", 'data')) AS x FROM e WHERE "derived_contexts" IS NOT NULL
  )
  GROUP BY _seq
),
typed AS (
  SELECT e.*, ents.*,
    CASE
      -- A self-describing JSON column that does not parse whole: the line is damaged.
      WHEN ("unstruct_event" IS NOT NULL AND json_length("unstruct_event") IS NULL)
        OR ("contexts" IS NOT NULL AND json_length("contexts") IS NULL) THEN NULL
      WHEN "event" = 'page_view' THEN 'page_view'
      WHEN "event" = 'transaction' THEN 'purchase'
      WHEN _sde LIKE 'iglu:com.snowplowanalytics.snowplow/site_search/%' THEN 'search'
      WHEN _sde LIKE 'iglu:com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action/%' THEN CASE _action
        WHEN 'product_view' THEN 'product_view'
        WHEN 'add_to_cart' THEN 'add_to_cart'
        WHEN 'remove_from_cart' THEN 'remove_from_cart'
        WHEN 'transaction' THEN 'purchase'
        WHEN 'checkout_step' THEN CASE WHEN _step = '1' THEN 'checkout_start' END
      END
    END AS _event_type,
    ("unstruct_event" IS NOT NULL AND json_length("unstruct_event") IS NULL)
      OR ("contexts" IS NOT NULL AND json_length("contexts") IS NULL) AS _bad_json
  FROM e LEFT JOIN ents ON ents.x_seq = e._seq
)
SELECT
  "event_id" AS event_id,
  CASE
    WHEN feed_timestamp("collector_tstamp") LIKE '____-__-__T%' THEN coalesce(
      CASE WHEN feed_timestamp("derived_tstamp") LIKE '____-__-__T%' THEN feed_timestamp("derived_tstamp") END,
      feed_timestamp("collector_tstamp"))
    ELSE "collector_tstamp"
  END AS event_ts,
  nullif(trim("user_id"), '') AS customer_id,
  coalesce("domain_userid", "network_userid") AS anonymous_id,
  -- Server-side trackers set no first-party cookie: the collector's network_userid then.
  coalesce("domain_sessionid", coalesce("domain_userid", "network_userid") || ':' || coalesce("domain_sessionidx", '0')) AS session_id,
  _event_type AS event_type,
  CASE WHEN _event_type IN ('product_view', 'add_to_cart', 'remove_from_cart') THEN _product END AS product_id,
  CASE WHEN _event_type = 'search' THEN
    -- The terms, space-separated.
    trim(regexp_replace(regexp_replace(json_get_json("unstruct_event", 'data', 'data', 'terms'), '^\[\s*"|"\s*\]$', '', 'g'), '"\s*,\s*"', ' ', 'g'))
  END AS search_query,
  "page_url" AS page_url,
  "page_referrer" AS referrer,
  CASE
    WHEN lower(_device_class) = 'tablet' THEN 'tablet'
    WHEN lower(_device_class) IN ('phone', 'mobile') THEN 'mobile'
    WHEN lower(_device_class) = 'desktop' THEN 'desktop'
    WHEN _ua LIKE '%iPad%' OR _ua LIKE '%Tablet%' OR (_ua LIKE '%Android%' AND _ua NOT LIKE '%Mobile%') THEN 'tablet'
    WHEN "dvce_ismobile" = '1' OR _ua LIKE '%Mobi%' OR _ua LIKE '%Android%' THEN 'mobile'
    WHEN _ua IS NOT NULL THEN 'desktop'
  END AS device,
  coalesce(nullif(_os, 'Unknown'), "os_family",
    CASE
      WHEN _ua LIKE '%iPad%' THEN 'iPadOS'
      WHEN _ua LIKE '%iPhone%' THEN 'iOS'
      WHEN _ua LIKE '%Android%' THEN 'Android'
      WHEN _ua LIKE '%Windows%' THEN 'Windows'
      WHEN _ua LIKE '%Mac OS X%' THEN 'macOS'
      WHEN _ua LIKE '%Linux%' THEN 'Linux'
    END) AS os,
  "geo_country" AS country,
  CASE WHEN _sde IS NOT NULL THEN json_get_json("unstruct_event", 'data', 'data') END AS properties,
  CASE WHEN _event_type IS NULL AND NOT _bad_json THEN
    CASE
      WHEN _sde LIKE 'iglu:com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action/%' THEN 'snowplow_ecommerce_action ' || coalesce(_action, '?')
      WHEN "event" = 'struct' THEN 'struct'
      ELSE coalesce("event_name", "event", '(no event)')
    END
  END AS _ignored,
  _raw, _error, _file, _line, _seq
FROM typed
