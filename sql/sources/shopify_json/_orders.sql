-- The Admin API Order objects of the feed (https://shopify.dev/docs/api/admin-rest/latest/resources/order),
-- with what several mappings read. Amounts are the shop currency's (orders.sql says how refunds
-- are).
SELECT
  *,
  nullif(trim(CAST("id" AS VARCHAR)), '') AS _order,
  nullif(trim(CAST("customer.id" AS VARCHAR)), '') AS _customer,
  feed_timestamp("created_at") AS _created,
  feed_timestamp("updated_at") AS _updated,
  lower(trim("financial_status")) AS _fin,
  lower(trim("fulfillment_status")) AS _ful
FROM feed
WHERE _error IS NULL
