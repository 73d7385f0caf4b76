-- staging.products: cast, normalise and classify the day's raw product rows.
WITH typed AS (
  SELECT
    nullif(trim(product_id), '') AS product_id,
    nullif(trim(title), '') AS title,
    nullif(trim(category), '') AS category,
    nullif(trim(brand), '') AS brand,
    try_cast(price AS DECIMAL(18, 2)) AS price,
    nullif(upper(trim(currency)), '') AS currency,
    arrow_cast(try_cast(updated_at AS TIMESTAMP), 'Timestamp(Microsecond, Some("UTC"))') AS updated_at,
    price AS price_text,
    updated_at AS updated_at_text,
    _raw, _error, _file, _line, _seq
  FROM landing.products
)
SELECT
  product_id, title, category, brand, price, currency, updated_at,
  CASE
    WHEN _error IS NOT NULL THEN _error
    WHEN product_id IS NULL THEN 'missing product_id'
    WHEN title IS NULL THEN 'missing title'
    WHEN category IS NULL THEN 'missing category'
    WHEN price_text IS NULL THEN 'missing price'
    WHEN price IS NULL THEN 'unparseable price'
    WHEN price < 0 THEN 'negative price'
    WHEN currency IS NULL THEN 'missing currency'
    WHEN updated_at_text IS NULL THEN 'missing updated_at'
    WHEN updated_at IS NULL THEN 'unparseable updated_at'
  END AS _reason,
  _raw, _file, _line, _seq
FROM typed
