-- The sample shop's calls of a night as a Segment / RudderStack S3 log: Spec calls with the
-- E-commerce v2 and email spec event names, web context (a user agent for the device),
-- With $session_ids (RudderStack's
-- SDKs), context.sessionId is the epoch ms of the session's first call.
WITH u AS ({{> user}}),
starts AS (
  SELECT session_id, CAST(to_unixtime(min(event_ts)) AS BIGINT) * 1000 AS _session_ms
  FROM staging.events WHERE dt = $run_date GROUP BY session_id
),
e AS (
  SELECT e.*, u.user_id, starts._session_ms
  FROM staging.events e
  LEFT JOIN u ON u.customer_id = e.customer_id
  LEFT JOIN starts ON starts.session_id = e.session_id
  WHERE e.dt = $run_date
),
calls AS (
  SELECT
    CASE WHEN event_type = 'page_view' THEN 'page' ELSE 'track' END AS "type",
    CASE event_type
      WHEN 'product_view' THEN 'Product Viewed' WHEN 'search' THEN 'Products Searched'
      WHEN 'add_to_cart' THEN 'Product Added' WHEN 'remove_from_cart' THEN 'Product Removed'
      WHEN 'checkout_start' THEN 'Checkout Started' WHEN 'purchase' THEN 'Order Completed'
      WHEN 'email_open' THEN 'Email Opened' WHEN 'email_click' THEN 'Email Link Clicked'
    END AS "event",
    event_id AS "messageId",
    user_id AS "userId",
    anonymous_id AS "anonymousId",
    named_struct(
      'page', named_struct('url', page_url, 'referrer', referrer),
      'userAgent', CASE os
        WHEN 'iOS' THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'
        WHEN 'iPadOS' THEN 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'
        WHEN 'Windows' THEN 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
        WHEN 'macOS' THEN 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15'
        ELSE CASE device
          WHEN 'tablet' THEN 'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
          ELSE 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36'
        END
      END,
      'location', named_struct('country', country),
      'sessionId', CASE WHEN $session_ids THEN _session_ms END
    ) AS context,
    named_struct('product_id', product_id, 'sku', product_id, 'query', search_query, 'url', CASE WHEN event_type = 'page_view' THEN page_url END) AS properties,
    event_ts AS _ts
  FROM e

)
SELECT "type", "event", "messageId", "userId", "anonymousId", context, properties,
       to_char(_ts, '%Y-%m-%dT%H:%M:%S%.3fZ') AS "timestamp",
       to_char(_ts, '%Y-%m-%dT%H:%M:%S%.3fZ') AS "receivedAt"
FROM calls
