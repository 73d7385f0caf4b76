-- staging.events: cast, normalise and classify the day's raw web/app events.
-- customer_id and product_id may be NULL; when present they must be known.
WITH typed AS (
  SELECT
    nullif(trim(event_id), '') AS event_id,
    arrow_cast(try_cast(event_ts AS TIMESTAMP), 'Timestamp(Microsecond, Some("UTC"))') AS event_ts,
    nullif(trim(customer_id), '') AS customer_id,
    nullif(trim(anonymous_id), '') AS anonymous_id,
    nullif(trim(session_id), '') AS session_id,
    nullif(lower(trim(event_type)), '') AS event_type,
    nullif(trim(product_id), '') AS product_id,
    nullif(trim(search_query), '') AS search_query,
    page_url,
    referrer,
    nullif(lower(trim(device)), '') AS device,
    nullif(trim(os), '') AS os,
    nullif(upper(trim(country)), '') AS country,
    properties,
    event_ts AS event_ts_text,
    _raw, _error, _file, _line, _seq
  FROM landing.events
),
-- The known keys only among tonight's (a semi join on tonight's few rows), not all history's.
customers AS (
  SELECT DISTINCT customer_id AS known_customer FROM staging.customers
  WHERE dt <= $run_date AND customer_id IN (SELECT customer_id FROM typed)
),
products AS (
  SELECT DISTINCT product_id AS known_product FROM staging.products
  WHERE dt <= $run_date AND product_id IN (SELECT product_id FROM typed)
)
SELECT
  event_id, event_ts, customer_id, anonymous_id, session_id, event_type, product_id,
  search_query, page_url, referrer, device, os, country, properties,
  CASE
    WHEN _error IS NOT NULL THEN _error
    WHEN event_id IS NULL THEN 'missing event_id'
    WHEN event_ts_text IS NULL THEN 'missing event_ts'
    WHEN event_ts IS NULL THEN 'unparseable event_ts'
    WHEN session_id IS NULL THEN 'missing session_id'
    WHEN event_type IS NULL THEN 'missing event_type'
    WHEN event_type NOT IN ('page_view', 'product_view', 'search', 'add_to_cart', 'remove_from_cart',
                            'checkout_start', 'purchase', 'email_open', 'email_click') THEN 'unknown event_type'
    WHEN device IS NOT NULL AND device NOT IN ('desktop', 'mobile', 'tablet') THEN 'unknown device'
    WHEN customer_id IS NOT NULL AND known_customer IS NULL THEN 'unknown customer_id'
    WHEN product_id IS NOT NULL AND known_product IS NULL THEN 'unknown product_id'
  END AS _reason,
  _raw, _file, _line, _seq
FROM typed
LEFT JOIN customers ON typed.customer_id = customers.known_customer
LEFT JOIN products ON typed.product_id = products.known_product
