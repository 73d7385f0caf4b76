-- shopify_csv -> raw products: one row per product (`Lineitem sku`, else `Lineitem name`) at
-- its latest sale in the files. The export has no product type: the category is
-- 'uncategorized' (load Shopify's products CSV with a `sql` source for real categories).
-- An order's currency is on its first row only. Found by aggregating, then joined: a second
-- sort over the sorted export would hold the whole feed at once.
WITH firsts AS (
  SELECT _file AS f_file, coalesce("Name", '') AS f_name, first_value("Currency" ORDER BY _line) AS order_currency
  FROM feed WHERE _error IS NULL
  GROUP BY _file, coalesce("Name", '')
),
lines AS (
  SELECT feed.*, firsts.order_currency, feed_timestamp("Created at") AS created
  FROM feed JOIN firsts ON firsts.f_file = feed._file AND firsts.f_name = coalesce(feed."Name", '')
  WHERE _error IS NULL
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
