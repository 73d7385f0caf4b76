-- ga4 -> raw events: GA4's BigQuery export (https://support.google.com/analytics/answer/7029846)
-- as Parquet, one row per event with its nested records. The recommended e-commerce events
-- (https://support.google.com/analytics/answer/9268036) and page views map to ecomwh's event
-- types; every other event (session_start, first_visit, scroll, user_engagement, ...) is
-- counted as ignored by name.
-- - The export has no event id: one is made from user_pseudo_id, event_timestamp (µs, UTC),
--   event_name, batch_event_index (events sent together share a timestamp), and the batch's
--   page and request, upload bundle and stream when the export has them.
-- - A session is the visitor's ga_session_id (the session's start, unique per visitor only,
--   https://support.google.com/analytics/answer/9191807); an event without one (rare) gets
--   the visitor's half hour.
-- - user_id is the site's id of a signed-in customer; "" and "null" are no id.
-- - geo.country is an English name: mapped to its ISO code.
WITH e AS (
  SELECT *,
    CASE "event_name"
      WHEN 'page_view' THEN 'page_view'
      WHEN 'view_item' THEN 'product_view'
      WHEN 'view_search_results' THEN 'search' WHEN 'search' THEN 'search'
      WHEN 'add_to_cart' THEN 'add_to_cart'
      WHEN 'remove_from_cart' THEN 'remove_from_cart'
      WHEN 'begin_checkout' THEN 'checkout_start'
      WHEN 'purchase' THEN 'purchase'
    END AS _event_type,
    nullif(trim("user_pseudo_id"), '') AS _visitor,
    CASE WHEN lower(trim("user_id")) NOT IN ('', 'null', 'undefined') THEN trim("user_id") END AS _user
  FROM feed
  WHERE _error IS NULL
),
countries AS ({{> countries}})
SELECT
  md5(concat_ws('|', coalesce(_visitor, ''), coalesce("event_timestamp", ''), coalesce("event_name", ''), coalesce("batch_event_index", ''),
    coalesce("batch_page_id", ''), coalesce("batch_ordering_id", ''), coalesce("event_bundle_sequence_id", ''), coalesce("stream_id", ''))) AS event_id,
  feed_timestamp("event_timestamp") AS event_ts,
  _user AS customer_id,
  _visitor AS anonymous_id,
  CASE WHEN _visitor IS NOT NULL THEN
    _visitor || ':' || coalesce("event_params[ga_session_id]",
      'h' || CAST(CAST(try_cast("event_timestamp" AS BIGINT) / 1800000000 AS BIGINT) AS VARCHAR))
  END AS session_id,
  _event_type AS event_type,
  -- The export writes "(not set)" where an item field has no value.
  CASE WHEN _event_type IN ('product_view', 'add_to_cart', 'remove_from_cart') THEN nullif(nullif(trim("items[0].item_id"), ''), '(not set)') END AS product_id,
  CASE WHEN _event_type = 'search' THEN "event_params[search_term]" END AS search_query,
  "event_params[page_location]" AS page_url,
  "event_params[page_referrer]" AS referrer,
  CASE lower(trim("device.category")) WHEN 'desktop' THEN 'desktop' WHEN 'mobile' THEN 'mobile' WHEN 'tablet' THEN 'tablet' END AS device,
  CASE WHEN "device.operating_system" NOT IN ('', '(not set)') THEN "device.operating_system" END AS os,
  CASE
    WHEN length(trim("geo.country")) = 2 THEN upper(trim("geo.country"))
    ELSE countries.country_code
  END AS country,
  -- What was bought: the transaction and the items, as the export has them.
  CASE WHEN _event_type = 'purchase' THEN
    '{"transaction_id":' || coalesce('"' || replace(replace(nullif("ecommerce.transaction_id", '(not set)'), '\', '\\'), '"', '\"') || '"', 'null') ||
    ',"value":' || coalesce(CAST(try_cast("event_params[value]" AS DOUBLE) AS VARCHAR), 'null') ||
    ',"currency":' || coalesce('"' || replace(replace("event_params[currency]", '\', '\\'), '"', '\"') || '"', 'null') ||
    ',"items":' || coalesce("items", '[]') || '}'
  END AS properties,
  CASE WHEN _event_type IS NULL THEN coalesce("event_name", '(no event_name)') END AS _ignored,
  _raw, _error, _file, _line, _seq
FROM e LEFT JOIN countries ON countries.country_name = replace(lower(trim(e."geo.country")), '’', '''')
