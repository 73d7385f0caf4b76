-- shopify_json -> raw customers: an order's `customer`, keyed by its id, at its latest
-- version in the feed. Consent is the email marketing consent state
-- (https://shopify.dev/docs/api/admin-graphql/latest/enums/CustomerEmailMarketingState):
-- only SUBSCRIBED consents; older API versions' `accepts_marketing`, else the order's
-- `buyer_accepts_marketing`, when the state is absent. POS orders may have no customer.
WITH o AS ({{> orders}}),
c AS (
  SELECT *,
    coalesce(feed_timestamp("customer.updated_at"), _updated) AS _c_updated,
    row_number() OVER (PARTITION BY _customer ORDER BY coalesce(feed_timestamp("customer.updated_at"), _updated) DESC, _updated DESC, _seq DESC) AS _latest
  FROM o WHERE _customer IS NOT NULL
)
SELECT
  _customer AS customer_id,
  coalesce(nullif(trim("customer.email"), ''), nullif(trim("email"), '')) AS email,
  "customer.first_name" AS first_name,
  "customer.last_name" AS last_name,
  coalesce("customer.default_address.country_code", "shipping_address.country_code", "billing_address.country_code") AS country,
  coalesce(feed_timestamp("customer.created_at"), _created) AS signup_ts,
  CASE
    WHEN "customer.email_marketing_consent.state" IS NOT NULL
      THEN CASE WHEN lower(trim("customer.email_marketing_consent.state")) = 'subscribed' THEN 'true' ELSE 'false' END
    ELSE coalesce("customer.accepts_marketing", "buyer_accepts_marketing")
  END AS marketing_consent,
  _c_updated AS updated_at,
  _raw, _error, _file, _line, _seq
FROM c WHERE _latest = 1
