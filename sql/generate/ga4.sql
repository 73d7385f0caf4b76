-- The sample shop's events of a night as GA4's BigQuery export (one row per event, nested
-- records and lists as the export has them), written as Parquet: a session_start per session,
-- then the shop's page views, searches and e-commerce events under GA4's recommended names.
-- GA4 does not see email opens and clicks: they are left out. The browser's id is
-- user_pseudo_id; ga_session_id is the session's start in seconds; user_id is set on the
-- events of a signed-in customer.
WITH u AS ({{> user}}),
ev AS (
  SELECT e.*, u.user_id,
    coalesce(e.anonymous_id, 'u' || e.customer_id) AS _visitor,
    CAST(to_unixtime(min(e.event_ts) OVER (PARTITION BY e.session_id)) AS BIGINT) AS _session_start,
    row_number() OVER (PARTITION BY e.session_id ORDER BY e.event_ts, e.event_id) AS _k
  FROM staging.events e LEFT JOIN u ON u.customer_id = e.customer_id
  WHERE e.dt = $run_date AND e.event_type NOT IN ('email_open', 'email_click')
),
p AS (
  SELECT product_id AS p_id, title, CAST(price AS DOUBLE) AS price, row_number() OVER (PARTITION BY product_id ORDER BY dt DESC, updated_at DESC) AS _n
  FROM staging.products WHERE dt <= $run_date
),
named AS (
  SELECT ev.*, p.title, p.price,
    CASE event_type
      WHEN 'product_view' THEN 'view_item' WHEN 'search' THEN 'view_search_results'
      WHEN 'checkout_start' THEN 'begin_checkout' ELSE event_type
    END AS _name
  FROM ev LEFT JOIN p ON p.p_id = ev.product_id AND p._n = 1
  UNION ALL
  -- Each session's start, at its first event.
  SELECT ev.*, CAST(NULL AS VARCHAR) AS title, CAST(NULL AS DOUBLE) AS price, 'session_start' AS _name
  FROM ev WHERE _k = 1
),
batched AS (
  SELECT *,
    -- Events sent together share a timestamp: their order in the batch tells them apart.
    row_number() OVER (PARTITION BY _visitor, event_ts ORDER BY _name = 'session_start' DESC, event_id) - 1 AS _batch_index
  FROM named
)
SELECT
  to_char(event_ts, '%Y%m%d') AS event_date,
  CAST(to_unixtime(event_ts) * 1000000 AS BIGINT) AS event_timestamp,
  _name AS event_name,
  make_array(
    {{> param key=ga_session_id; text=NULL; int=_session_start}},
    {{> param key=page_location; text=page_url; int=NULL}},
    {{> param key=page_referrer; text=referrer; int=NULL}},
    {{> param key=search_term; text=CASE WHEN _name = 'view_search_results' THEN search_query END; int=NULL}}
  ) AS event_params,
  CASE WHEN _name <> 'session_start' THEN user_id END AS user_id,
  _visitor AS user_pseudo_id,
  named_struct('category', device, 'operating_system', os, 'language', 'en-us') AS device,
  named_struct('country', CASE country
    WHEN 'DE' THEN 'Germany' WHEN 'FR' THEN 'France' WHEN 'GB' THEN 'United Kingdom' WHEN 'NL' THEN 'Netherlands'
    WHEN 'US' THEN 'United States' WHEN 'ES' THEN 'Spain' WHEN 'IT' THEN 'Italy' WHEN 'PL' THEN 'Poland'
    WHEN 'SE' THEN 'Sweden' WHEN 'AT' THEN 'Austria' ELSE '(not set)' END,
    'city', '(not set)') AS geo,
  'WEB' AS platform,
  CASE WHEN _name IN ('view_item', 'add_to_cart', 'remove_from_cart') THEN
    make_array(named_struct('item_id', product_id, 'item_name', title, 'price', price, 'quantity', CAST(1 AS BIGINT)))
  END AS items,
  CAST(_batch_index AS BIGINT) AS batch_event_index
FROM batched
