-- The sample shop's orders of a night as WooCommerce REST API v3 order objects, one per line,
-- each at its current status: placed is pending, paid processing, shipped completed (a
-- partial refund listed with a negative total), cancelled and refunded as they are. Web
-- orders come from the checkout, app orders through the REST API. Ids are numbers.
WITH {{> order_lines}},
lines AS (
  SELECT i_order, array_agg(named_struct(
    'id', line_id, 'name', title, 'product_id', CAST(substr(product_id, 2) AS BIGINT), 'variation_id', 0,
    'quantity', quantity, 'tax_class', '',
    'subtotal', CAST(unit_price * quantity AS VARCHAR), 'subtotal_tax', '0.00',
    'total', CAST(unit_price * quantity - discount AS VARCHAR), 'total_tax', '0.00',
    'sku', product_id, 'price', CAST(round((unit_price * quantity - discount) / quantity, 2) AS DOUBLE)
  ) ORDER BY line_no) AS line_items
  FROM flat GROUP BY i_order
)
SELECT
  order_number AS id,
  0 AS parent_id,
  CAST(order_number AS VARCHAR) AS "number",
  CASE status WHEN 'placed' THEN 'pending' WHEN 'paid' THEN 'processing' WHEN 'shipped' THEN 'completed' ELSE status END AS status,
  currency,
  CASE channel WHEN 'web' THEN 'checkout' ELSE 'rest-api' END AS created_via,
  to_char(order_ts, '%Y-%m-%dT%H:%M:%S') AS date_created_gmt,
  to_char(updated_at, '%Y-%m-%dT%H:%M:%S') AS date_modified_gmt,
  CAST(discount_amount AS VARCHAR) AS discount_total,
  CAST(shipping_amount AS VARCHAR) AS shipping_total,
  CAST(total_amount AS VARCHAR) AS total,
  '0.00' AS total_tax,
  customer_number AS customer_id,
  named_struct('first_name', first_name, 'last_name', last_name, 'country', country, 'email', email) AS billing,
  named_struct('first_name', first_name, 'last_name', last_name, 'country', country) AS shipping,
  line_items,
  CASE WHEN status IN ('paid', 'shipped') AND coalesce(refunded_amount, 0) > 0
    THEN make_array(named_struct('id', order_number, 'reason', '', 'total', CAST(-refunded_amount AS VARCHAR)))
    WHEN status = 'refunded' THEN make_array(named_struct('id', order_number, 'reason', '', 'total', CAST(-total_amount AS VARCHAR)))
  END AS refunds
FROM o
JOIN lines ON lines.i_order = o.order_id
LEFT JOIN c ON c.c_id = o.customer_id AND c._n = 1
ORDER BY id
