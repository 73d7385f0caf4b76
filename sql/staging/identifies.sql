-- staging.identifies: links from anonymous visitors to customers (optional input).
WITH typed AS (
  SELECT
    nullif(trim(event_id), '') AS event_id,
    arrow_cast(try_cast(ts AS TIMESTAMP), 'Timestamp(Microsecond, Some("UTC"))') AS ts,
    nullif(trim(anonymous_id), '') AS anonymous_id,
    nullif(trim(customer_id), '') AS customer_id,
    ts AS ts_text,
    _raw, _error, _file, _line, _seq
  FROM landing.identifies
)
SELECT
  event_id, ts, anonymous_id, customer_id,
  CASE
    WHEN _error IS NOT NULL THEN _error
    WHEN event_id IS NULL THEN 'missing event_id'
    WHEN ts_text IS NULL THEN 'missing ts'
    WHEN ts IS NULL THEN 'unparseable ts'
    WHEN anonymous_id IS NULL THEN 'missing anonymous_id'
    WHEN customer_id IS NULL THEN 'missing customer_id'
  END AS _reason,
  _raw, _file, _line, _seq
FROM typed
