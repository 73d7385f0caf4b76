-- staging.suppressions: emails that must never be exported (optional input).
WITH typed AS (
  SELECT
    nullif(lower(trim(email)), '') AS email,
    nullif(lower(trim(reason)), '') AS reason,
    arrow_cast(try_cast(ts AS TIMESTAMP), 'Timestamp(Microsecond, Some("UTC"))') AS ts,
    ts AS ts_text,
    _raw, _error, _file, _line, _seq
  FROM landing.suppressions
)
SELECT
  email, reason, ts,
  CASE
    WHEN _error IS NOT NULL THEN _error
    WHEN email IS NULL THEN 'missing email'
    WHEN reason IS NULL THEN 'missing reason'
    WHEN reason NOT IN ('unsubscribed', 'bounced', 'complained') THEN 'unknown reason'
    WHEN ts_text IS NULL THEN 'missing ts'
    WHEN ts IS NULL THEN 'unparseable ts'
  END AS _reason,
  _raw, _file, _line, _seq
FROM typed
