-- segment / rudderstack -> raw events. Page and screen calls are page views; the E-commerce
-- spec v2 events (https://segment.com/docs/connections/spec/ecommerce/v2/, with their v1
-- names) and the email spec's opens and clicks map to ecomwh's event types. Other track
-- events (Cart Viewed, Page Scrolled, ...) and alias / group calls are counted as ignored.
-- Identify calls and suppression events fill their own tables.
WITH calls AS (
  SELECT * FROM ({{> calls}})
  WHERE _type IS NULL
     OR NOT (_type = 'identify' OR (_type = 'track' AND coalesce(_event, '') IN ('Unsubscribed', 'Email Bounced', 'Email Marked as Spam')))
),
typed AS (
  SELECT *,
    CASE
      WHEN _type IN ('page', 'screen') THEN 'page_view'
      WHEN _type = 'track' THEN CASE _event
        WHEN 'Product Viewed' THEN 'product_view' WHEN 'Viewed Product' THEN 'product_view'
        WHEN 'Products Searched' THEN 'search'
        WHEN 'Product Added' THEN 'add_to_cart' WHEN 'Added Product' THEN 'add_to_cart'
        WHEN 'Product Removed' THEN 'remove_from_cart' WHEN 'Removed Product' THEN 'remove_from_cart'
        WHEN 'Checkout Started' THEN 'checkout_start' WHEN 'Started Order' THEN 'checkout_start'
        WHEN 'Order Completed' THEN 'purchase' WHEN 'Completed Order' THEN 'purchase'
        WHEN 'Email Opened' THEN 'email_open'
        WHEN 'Email Link Clicked' THEN 'email_click'
      END
    END AS _event_type,
    -- The visitor a session belongs to: the browser's id, else the user's.
    coalesce(_anon, _user) AS _who,
    try_cast(_ts AS TIMESTAMP) AS _t,
    coalesce("context.userAgent", "context.user_agent") AS _ua
  FROM calls
),
-- Sessions where the feed has none (RudderStack's SDKs send context.sessionId; Segment's
-- spec has no session id): a new one after $session_gap_seconds without a call. Every call
-- counts as activity, ignored ones too.
gaps AS (
  SELECT *,
    CASE WHEN lag(_t) OVER w IS NULL OR to_unixtime(_t) - to_unixtime(lag(_t) OVER w) > $session_gap_seconds THEN _t END AS _start
  FROM typed
  WINDOW w AS (PARTITION BY _who ORDER BY _t, _file, _line)
),
sessions AS (
  SELECT *, max(_start) OVER (PARTITION BY _who ORDER BY _t, _file, _line ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _session_start
  FROM gaps
)
SELECT
  "messageId" AS event_id,
  _ts AS event_ts,
  _user AS customer_id,
  _anon AS anonymous_id,
  _who || ':' || coalesce("context.sessionId", CAST(to_unixtime(_session_start) AS VARCHAR)) AS session_id,
  _event_type AS event_type,
  -- The SKU first: it is the product key the shop's order exports carry.
  CASE WHEN _event_type IN ('product_view', 'add_to_cart', 'remove_from_cart')
    THEN coalesce(nullif(trim("properties.sku"), ''), nullif(trim("properties.product_id"), '')) END AS product_id,
  CASE WHEN _event_type = 'search' THEN "properties.query" END AS search_query,
  coalesce(nullif("properties.link_url", ''), nullif("properties.url", ''), nullif("context.page.url", '')) AS page_url,
  coalesce(nullif("properties.referrer", ''), nullif("context.page.referrer", '')) AS referrer,
  CASE
    -- An Android browser says Mobile on phones only; Dalvik is the app runtime (a phone).
    WHEN lower("context.device.type") = 'tablet' OR _ua LIKE '%iPad%' OR _ua LIKE '%Tablet%'
      OR (_ua LIKE '%Android%' AND _ua NOT LIKE '%Mobile%' AND _ua NOT LIKE 'Dalvik%') THEN 'tablet'
    WHEN lower("context.device.type") IN ('ios', 'android', 'mobile') OR _ua LIKE '%Mobi%' OR _ua LIKE '%Android%' THEN 'mobile'
    WHEN _ua IS NOT NULL THEN 'desktop'
  END AS device,
  coalesce("context.os.name",
    CASE
      WHEN _ua LIKE '%iPad%' THEN 'iPadOS'
      WHEN _ua LIKE '%iPhone%' THEN 'iOS'
      WHEN _ua LIKE '%Android%' THEN 'Android'
      WHEN _ua LIKE '%Windows%' THEN 'Windows'
      WHEN _ua LIKE '%Mac OS X%' THEN 'macOS'
      WHEN _ua LIKE '%Linux%' THEN 'Linux'
    END) AS os,
  -- Only an ISO 3166 code: the spec's context.location.country is a free-text name.
  CASE WHEN length(trim("context.location.country")) = 2 THEN "context.location.country" END AS country,
  "properties" AS properties,
  CASE
    WHEN _type = 'track' AND _event_type IS NULL AND _event IS NOT NULL THEN _event
    WHEN _type IN ('alias', 'group') THEN _type
  END AS _ignored,
  _raw, _error, _file, _line, _seq
FROM sessions
