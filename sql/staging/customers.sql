-- staging.customers: cast, normalise and classify the day's raw customer rows.
-- Output: staged columns, then _reason (NULL = valid), _raw, _file, _line.
-- Emails are trimmed and lower-cased, codes upper-cased, timestamps stored as UTC.
-- A missing marketing_consent means no consent.
WITH typed AS (
  SELECT
    nullif(trim(customer_id), '') AS customer_id,
    nullif(lower(trim(email)), '') AS email,
    nullif(trim(first_name), '') AS first_name,
    nullif(trim(last_name), '') AS last_name,
    nullif(upper(trim(country)), '') AS country,
    arrow_cast(try_cast(signup_ts AS TIMESTAMP), 'Timestamp(Microsecond, Some("UTC"))') AS signup_ts,
    try_cast(birth_year AS BIGINT) AS birth_year,
    nullif(lower(trim(gender)), '') AS gender,
    try_cast(lower(trim(marketing_consent)) AS BOOLEAN) AS consent,
    arrow_cast(try_cast(updated_at AS TIMESTAMP), 'Timestamp(Microsecond, Some("UTC"))') AS updated_at,
    signup_ts AS signup_ts_text,
    birth_year AS birth_year_text,
    marketing_consent AS consent_text,
    updated_at AS updated_at_text,
    _raw, _error, _file, _line, _seq
  FROM landing.customers
)
SELECT
  customer_id, email, first_name, last_name, country, signup_ts, birth_year, gender,
  coalesce(consent, false) AS marketing_consent,
  updated_at,
  CASE
    WHEN _error IS NOT NULL THEN _error
    WHEN customer_id IS NULL THEN 'missing customer_id'
    WHEN signup_ts_text IS NULL THEN 'missing signup_ts'
    WHEN signup_ts IS NULL THEN 'unparseable signup_ts'
    WHEN updated_at_text IS NULL THEN 'missing updated_at'
    WHEN updated_at IS NULL THEN 'unparseable updated_at'
    WHEN birth_year_text IS NOT NULL AND birth_year IS NULL THEN 'unparseable birth_year'
    WHEN consent_text IS NOT NULL AND consent IS NULL THEN 'unparseable marketing_consent'
  END AS _reason,
  _raw, _file, _line, _seq
FROM typed
