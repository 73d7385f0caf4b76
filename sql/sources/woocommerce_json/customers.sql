-- woocommerce_json -> raw customers: a registered customer by id, a guest by billing email,
-- from their latest order in the feed (its billing name, email and country). An order has no
-- signup date: the earliest order seen, on any night. WooCommerce core records no marketing
-- consent on orders: none (load a consent plugin's export with a `sql` source).
WITH o AS ({{> orders}}),
firsts AS (
  SELECT _customer AS fid, min(_created) AS first_order FROM o
  WHERE _customer IS NOT NULL AND _status NOT IN ('checkout-draft', 'trash')
  GROUP BY _customer
),
c AS (
  SELECT o.*, firsts.first_order,
    row_number() OVER (PARTITION BY _customer ORDER BY (_updated IS NULL OR _updated NOT LIKE '____-__-__T%'), _updated DESC, _seq DESC) AS _latest
  FROM o JOIN firsts ON firsts.fid = o._customer
  WHERE _status NOT IN ('checkout-draft', 'trash')
)
SELECT
  c._customer AS customer_id,
  nullif(trim("billing.email"), '') AS email,
  nullif(trim("billing.first_name"), '') AS first_name,
  nullif(trim("billing.last_name"), '') AS last_name,
  coalesce(nullif(trim("billing.country"), ''), nullif(trim("shipping.country"), '')) AS country,
  CASE
    WHEN e.signup_ts IS NOT NULL AND to_char(e.signup_ts, '%Y-%m-%dT%H:%M:%S%.fZ') < first_order
      THEN to_char(e.signup_ts, '%Y-%m-%dT%H:%M:%S%.fZ')
    ELSE first_order
  END AS signup_ts,
  CAST(NULL AS VARCHAR) AS marketing_consent,
  _updated AS updated_at,
  _raw, _error, _file, _line, _seq
FROM c LEFT JOIN {{earlier_signups}} e ON e.customer_id = c._customer
WHERE _latest = 1
