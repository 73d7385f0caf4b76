-- The sample shop's events of a night as Snowplow's enriched events (the columns the S3
-- loader's TSV holds; the writer puts them in the canonical order): page views, site searches
-- and the e-commerce plugin's actions with their product entity, the device from the YAUAA
-- enrichment. Snowplow does not see email opens and clicks: they are left out. The first
-- checkout step is the checkout's start.
WITH u AS ({{> user}}),
p AS (
  SELECT product_id AS p_id, title, category, price, currency, row_number() OVER (PARTITION BY product_id ORDER BY dt DESC, updated_at DESC) AS _n
  FROM staging.products WHERE dt <= $run_date
),
e AS (
  SELECT e.*, u.user_id, p.title, p.category, p.price, p.currency,
    CASE e.event_type
      WHEN 'product_view' THEN 'product_view' WHEN 'add_to_cart' THEN 'add_to_cart'
      WHEN 'remove_from_cart' THEN 'remove_from_cart' WHEN 'checkout_start' THEN 'checkout_step'
      WHEN 'purchase' THEN 'transaction'
    END AS _action
  FROM staging.events e
  LEFT JOIN u ON u.customer_id = e.customer_id
  LEFT JOIN p ON p.p_id = e.product_id AND p._n = 1
  WHERE e.dt = $run_date AND e.event_type NOT IN ('email_open', 'email_click')
)
SELECT
  'ecomwh-sample' AS app_id,
  'web' AS platform,
  to_char(event_ts, '%Y-%m-%d %H:%M:%S%.3f') AS etl_tstamp,
  to_char(event_ts, '%Y-%m-%d %H:%M:%S%.3f') AS collector_tstamp,
  to_char(event_ts, '%Y-%m-%d %H:%M:%S%.3f') AS dvce_created_tstamp,
  CASE WHEN event_type = 'page_view' THEN 'page_view' ELSE 'unstruct' END AS "event",
  event_id,
  'sp' AS name_tracker,
  'js-3.8.0' AS v_tracker,
  user_id,
  anonymous_id AS domain_userid,
  '1' AS domain_sessionidx,
  country AS geo_country,
  page_url,
  referrer AS page_referrer,
  CASE
    WHEN _action IS NOT NULL AND _action <> 'checkout_step' AND product_id IS NOT NULL THEN
      '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow.ecommerce/product/jsonschema/1-0-0","data":{"id":"' || product_id ||
      '","name":"' || replace(coalesce(title, ''), '"', '\"') || '","category":"' || coalesce(category, '') || '","price":' || CAST(coalesce(price, 0) AS VARCHAR) ||
      ',"currency":"' || coalesce(currency, 'EUR') || '"}}]}'
    WHEN _action = 'checkout_step' THEN
      '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow.ecommerce/checkout_step/jsonschema/1-0-0","data":{"step":1}}]}'
  END AS contexts,
  CASE
    WHEN event_type = 'search' THEN
      '{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/site_search/jsonschema/1-0-0","data":{"terms":["' ||
      replace(replace(coalesce(search_query, ''), '"', '\"'), ' ', '","') || '"]}}}'
    WHEN _action IS NOT NULL THEN
      '{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2","data":{"type":"' || _action || '"}}}'
  END AS unstruct_event,
  CASE os
    WHEN 'iOS' THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'
    WHEN 'iPadOS' THEN 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'
    WHEN 'Windows' THEN 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
    WHEN 'macOS' THEN 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15'
    ELSE 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36'
  END AS useragent,
  '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:nl.basjes/yauaa_context/jsonschema/1-0-2","data":{"deviceClass":"' ||
    CASE device WHEN 'mobile' THEN 'Phone' WHEN 'tablet' THEN 'Tablet' ELSE 'Desktop' END ||
    '","operatingSystemName":"' || coalesce(os, 'Unknown') || '"}}]}' AS derived_contexts,
  session_id AS domain_sessionid,
  to_char(event_ts, '%Y-%m-%d %H:%M:%S%.3f') AS derived_tstamp,
  CASE
    WHEN event_type = 'page_view' THEN 'com.snowplowanalytics.snowplow'
    WHEN event_type = 'search' THEN 'com.snowplowanalytics.snowplow'
    ELSE 'com.snowplowanalytics.snowplow.ecommerce'
  END AS event_vendor,
  CASE WHEN event_type = 'page_view' THEN 'page_view' WHEN event_type = 'search' THEN 'site_search' ELSE 'snowplow_ecommerce_action' END AS event_name,
  CASE WHEN event_type IN ('page_view', 'search') THEN 'jsonschema' ELSE 'jsonschema' END AS event_format,
  CASE WHEN event_type = 'page_view' THEN '1-0-0' WHEN event_type = 'search' THEN '1-0-0' ELSE '1-0-2' END AS event_version
FROM e
