-- The sample shop's orders of a night as Shopify's orders/updated webhook bodies: one Admin
-- API Order object per line, each order at its current status, with its customer, line items
-- and refunds. Ids are numbers, as Shopify's: the shop's ids without their letter.
WITH {{> order_lines}},
lines AS (
  SELECT i_order, array_agg(named_struct(
    'id', line_id, 'name', title, 'title', title, 'sku', product_id, 'vendor', brand, 'quantity', quantity,
    'price', CAST(unit_price AS VARCHAR), 'total_discount', '0.00',
    'discount_allocations', make_array(named_struct('amount', CAST(discount AS VARCHAR), 'discount_application_index', 0))
  ) ORDER BY line_no) AS line_items
  FROM flat GROUP BY i_order
)
SELECT
  order_number AS id,
  '#' || CAST(order_number AS VARCHAR) AS name,
  email,
  to_char(order_ts, '%Y-%m-%dT%H:%M:%S+00:00') AS created_at,
  to_char(updated_at, '%Y-%m-%dT%H:%M:%S+00:00') AS updated_at,
  CASE WHEN status = 'cancelled' THEN to_char(updated_at, '%Y-%m-%dT%H:%M:%S+00:00') END AS cancelled_at,
  CASE WHEN status = 'cancelled' THEN 'customer' END AS cancel_reason,
  CASE status
    WHEN 'placed' THEN 'pending' WHEN 'cancelled' THEN 'voided' WHEN 'refunded' THEN 'refunded'
    ELSE CASE WHEN coalesce(refunded_amount, 0) > 0 THEN 'partially_refunded' ELSE 'paid' END
  END AS financial_status,
  CASE WHEN status IN ('shipped', 'refunded') THEN 'fulfilled' END AS fulfillment_status,
  currency,
  CAST(total_amount AS VARCHAR) AS total_price,
  CAST(total_amount - shipping_amount AS VARCHAR) AS subtotal_price,
  CAST(discount_amount AS VARCHAR) AS total_discounts,
  '0.00' AS total_tax,
  named_struct('shop_money', named_struct('amount', CAST(shipping_amount AS VARCHAR), 'currency_code', currency)) AS total_shipping_price_set,
  CASE channel WHEN 'web' THEN 'web' WHEN 'app' THEN 'iphone' ELSE '580111' END AS source_name,
  marketing_consent AS buyer_accepts_marketing,
  named_struct('country_code', country) AS shipping_address,
  named_struct('country_code', country) AS billing_address,
  named_struct(
    'id', customer_number,
    'email', email,
    'first_name', first_name,
    'last_name', last_name,
    'created_at', to_char(signup_ts, '%Y-%m-%dT%H:%M:%S+00:00'),
    'updated_at', to_char(c_updated, '%Y-%m-%dT%H:%M:%S+00:00'),
    'email_marketing_consent', named_struct(
      'state', CASE WHEN marketing_consent THEN 'subscribed' ELSE 'not_subscribed' END,
      'opt_in_level', CASE WHEN marketing_consent THEN 'single_opt_in' END,
      'consent_updated_at', CASE WHEN marketing_consent THEN to_char(c_updated, '%Y-%m-%dT%H:%M:%S+00:00') END
    ),
    'default_address', named_struct('country_code', c_country)
  ) AS customer,
  line_items,
  CASE
    WHEN status = 'refunded' OR coalesce(refunded_amount, 0) > 0 THEN make_array(named_struct(
      'id', order_number,
      'order_id', order_number,
      'created_at', to_char(updated_at, '%Y-%m-%dT%H:%M:%S+00:00'),
      'transactions', make_array(named_struct(
        'kind', 'refund', 'status', 'success', 'currency', currency,
        'amount', CAST(CASE WHEN status = 'refunded' THEN total_amount ELSE refunded_amount END AS VARCHAR)
      ))
    ))
  END AS refunds
FROM o
JOIN lines ON lines.i_order = o.order_id
LEFT JOIN c ON c.c_id = o.customer_id AND c._n = 1
ORDER BY id
