-- staging.order_items: cast and classify the day's raw order lines.
-- The order and the product must be known (staged today or earlier).
WITH typed AS (
  SELECT
    nullif(trim(order_id), '') AS order_id,
    try_cast(line_no AS BIGINT) AS line_no,
    nullif(trim(product_id), '') AS product_id,
    try_cast(quantity AS BIGINT) AS quantity,
    try_cast(unit_price AS DECIMAL(18, 2)) AS unit_price,
    coalesce(try_cast(discount AS DECIMAL(18, 2)), CAST(0 AS DECIMAL(18, 2))) AS discount,
    line_no AS line_no_text,
    quantity AS quantity_text,
    unit_price AS unit_price_text,
    discount AS discount_text,
    _raw, _error, _file, _line, _seq
  FROM landing.order_items
),
-- The known keys only among tonight's (a semi join on tonight's few rows), not all history's.
orders AS (
  SELECT DISTINCT order_id AS known_order FROM staging.orders
  WHERE dt <= $run_date AND order_id IN (SELECT order_id FROM typed)
),
products AS (
  SELECT DISTINCT product_id AS known_product FROM staging.products
  WHERE dt <= $run_date AND product_id IN (SELECT product_id FROM typed)
)
SELECT
  order_id, line_no, product_id, quantity, unit_price, discount,
  CASE
    WHEN _error IS NOT NULL THEN _error
    WHEN order_id IS NULL THEN 'missing order_id'
    WHEN line_no_text IS NULL THEN 'missing line_no'
    WHEN line_no IS NULL THEN 'unparseable line_no'
    WHEN product_id IS NULL THEN 'missing product_id'
    WHEN quantity_text IS NULL THEN 'missing quantity'
    WHEN quantity IS NULL THEN 'unparseable quantity'
    WHEN quantity <= 0 THEN 'non-positive quantity'
    WHEN unit_price_text IS NULL THEN 'missing unit_price'
    WHEN unit_price IS NULL THEN 'unparseable unit_price'
    WHEN unit_price < 0 THEN 'negative unit_price'
    WHEN discount_text IS NOT NULL AND try_cast(discount_text AS DECIMAL(18, 2)) IS NULL THEN 'unparseable discount'
    WHEN discount < 0 THEN 'negative discount'
    WHEN known_order IS NULL THEN 'unknown order_id'
    WHEN known_product IS NULL THEN 'unknown product_id'
  END AS _reason,
  _raw, _file, _line, _seq
FROM typed
LEFT JOIN orders ON typed.order_id = orders.known_order
LEFT JOIN products ON typed.product_id = products.known_product
