-- The REST API v3 order objects of the feed
-- (https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties), with what
-- several mappings read. Dates are the `*_gmt` ones (the others are the site's local time).
-- A guest order has customer_id 0: the customer is its billing email.
SELECT
  *,
  nullif(trim(CAST("id" AS VARCHAR)), '') AS _order,
  CASE
    WHEN trim(CAST("customer_id" AS VARCHAR)) NOT IN ('', '0') THEN trim(CAST("customer_id" AS VARCHAR))
    ELSE nullif(lower(trim("billing.email")), '')
  END AS _customer,
  feed_timestamp("date_created_gmt") AS _created,
  feed_timestamp(coalesce("date_modified_gmt", "date_created_gmt")) AS _updated,
  lower(trim("status")) AS _status
FROM feed
WHERE _error IS NULL
