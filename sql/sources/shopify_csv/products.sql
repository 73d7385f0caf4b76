-- shopify_csv -> raw products: one row per product (`Lineitem sku`, else `Lineitem name`) at
-- its latest sale in the files. The export has no product type: the category is
-- 'uncategorized' (load Shopify's products CSV with a `sql` source for real categories).
WITH lines AS (
  SELECT *,
    first_value("Currency") OVER (PARTITION BY _file, "Name" ORDER BY _line) AS order_currency,
    feed_timestamp("Created at") AS created
  FROM feed WHERE _error IS NULL
),
p AS (
  SELECT *,
    coalesce(nullif(trim("Lineitem sku"), ''), nullif(trim("Lineitem name"), '')) AS pid,
    row_number() OVER (
      PARTITION BY coalesce(nullif(trim("Lineitem sku"), ''), nullif(trim("Lineitem name"), ''))
      -- The latest sale with a currency and a readable time.
      ORDER BY (order_currency IS NULL OR created NOT LIKE '____-__-__T%') , created DESC, _seq DESC
    ) AS _latest
  FROM lines
)
SELECT
  pid AS product_id,
  trim("Lineitem name") AS title,
  'uncategorized' AS category,
  nullif(trim("Vendor"), '') AS brand,
  "Lineitem price" AS price,
  order_currency AS currency,
  created AS updated_at,
  _raw, _error, _file, _line, _seq
FROM p WHERE _latest = 1 AND pid IS NOT NULL
