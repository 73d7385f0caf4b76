-- staging.fx_rates: exchange rates (optional input), one per day and currency.
WITH typed AS (
  SELECT
    try_cast(nullif(trim(date), '') AS DATE) AS date,
    nullif(upper(trim(currency)), '') AS currency,
    try_cast(nullif(trim(rate), '') AS DOUBLE) AS rate,
    nullif(trim(date), '') AS date_text,
    nullif(trim(rate), '') AS rate_text,
    _raw, _error, _file, _line, _seq
  FROM landing.fx_rates
)
SELECT
  date, currency, rate,
  CASE
    WHEN _error IS NOT NULL THEN _error
    WHEN date_text IS NULL THEN 'missing date'
    WHEN date IS NULL THEN 'unparseable date'
    WHEN currency IS NULL THEN 'missing currency'
    WHEN NOT regexp_like(currency, '^[A-Z]{3}$') THEN 'invalid currency'
    WHEN rate_text IS NULL THEN 'missing rate'
    WHEN rate IS NULL OR isnan(rate) OR rate = 'Infinity'::double THEN 'unparseable rate'
    WHEN rate <= 0 THEN 'non-positive rate'
  END AS _reason,
  _raw, _file, _line, _seq
FROM typed
