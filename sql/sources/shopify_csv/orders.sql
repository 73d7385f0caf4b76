-- shopify_csv -> raw orders: one row per order. Shopify's "Export orders" CSV has a row per
-- line item, with the order's fields on its first row only ("many fields are left blank to
-- indicate that multiple items were purchased on the same order",
-- https://help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders); `Id` is
-- on that first row only, so rows are grouped by `Name` within a file.
WITH lines AS (
  SELECT *, row_number() OVER (PARTITION BY _file, "Name" ORDER BY _line) AS _n
  FROM feed WHERE _error IS NULL
),
o AS (
  SELECT *, lower(trim("Financial Status")) AS fin, lower(trim("Fulfillment Status")) AS ful
  FROM lines WHERE _n = 1
)
SELECT
  coalesce(nullif(trim("Id"), ''), trim("Name")) AS order_id,
  nullif(lower(trim("Email")), '') AS customer_id,
  feed_timestamp("Created at") AS order_ts,
  -- The first rule that holds.
  CASE
    WHEN "Cancelled at" IS NOT NULL OR fin = 'voided' THEN 'cancelled'
    WHEN fin = 'refunded' THEN 'refunded'
    WHEN fin IN ('paid', 'partially_refunded') AND ful = 'fulfilled' THEN 'shipped'
    WHEN fin IN ('paid', 'partially_refunded') THEN 'paid'
    ELSE 'placed'
  END AS status,
  "Currency" AS currency,
  "Total" AS total_amount,
  "Discount Amount" AS discount_amount,
  "Shipping" AS shipping_amount,
  -- Refunds so far; net revenue subtracts them from a paid or shipped (partially_refunded) order.
  "Refunded Amount" AS refunded_amount,
  -- Shopify's source names: web, iphone and android apps, pos, drafts, app ids; the last have
  -- no ecomwh channel.
  CASE lower(trim("Source")) WHEN 'web' THEN 'web' WHEN 'iphone' THEN 'app' WHEN 'android' THEN 'app' END AS channel,
  coalesce("Shipping Country", "Billing Country") AS country,
  -- The latest thing that happened to the order (all in UTC text, so they compare as text).
  greatest(
    feed_timestamp("Created at"), feed_timestamp("Paid at"),
    feed_timestamp("Fulfilled at"), feed_timestamp("Cancelled at")
  ) AS updated_at,
  _raw, _error, _file, _line, _seq
FROM o
