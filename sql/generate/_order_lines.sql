-- CTEs of tonight's orders (their current version) `o`, each customer's latest version `c`
-- and the orders' lines with their products `flat`. Ids become numbers (the shop's ids
-- without their letter), as the platforms' are.
o AS (
  SELECT *, CAST(substr(order_id, 2) AS BIGINT) AS order_number, CAST(substr(customer_id, 2) AS BIGINT) AS customer_number
  FROM staging.orders WHERE dt = $run_date
),
c AS (
  SELECT customer_id AS c_id, email, first_name, last_name, country AS c_country, marketing_consent, signup_ts, updated_at AS c_updated,
         row_number() OVER (PARTITION BY customer_id ORDER BY dt DESC, updated_at DESC) AS _n
  FROM staging.customers WHERE dt <= $run_date
),
i AS (
  SELECT order_id AS i_order, line_no, product_id, quantity, unit_price, coalesce(discount, CAST(0 AS DECIMAL(18, 2))) AS discount,
         row_number() OVER (PARTITION BY order_id, line_no ORDER BY dt DESC) AS _n
  FROM staging.order_items WHERE dt <= $run_date AND order_id IN (SELECT order_id FROM o)
),
p AS (
  SELECT product_id AS p_id, title, brand, row_number() OVER (PARTITION BY product_id ORDER BY dt DESC, updated_at DESC) AS _n
  FROM staging.products WHERE dt <= $run_date
),
flat AS (
  SELECT i.*, CAST(substr(i_order, 2) AS BIGINT) * 100 + line_no AS line_id, p.title, p.brand
  FROM i LEFT JOIN p ON p.p_id = i.product_id AND p._n = 1
  WHERE i._n = 1
)
