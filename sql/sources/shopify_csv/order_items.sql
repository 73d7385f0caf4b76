-- shopify_csv -> raw order_items: every row of the export is a line item. The order's id is
-- on its first row (`Id`, else `Name`); `Lineitem price` is the unit price before discounts,
-- `Lineitem discount` the line's share of the order's discount.
WITH lines AS (
  SELECT *,
    row_number() OVER (PARTITION BY _file, "Name" ORDER BY _line) AS line_no,
    first_value("Id") OVER (PARTITION BY _file, "Name" ORDER BY _line) AS first_id
  FROM feed WHERE _error IS NULL
)
SELECT
  coalesce(nullif(trim(first_id), ''), trim("Name")) AS order_id,
  line_no,
  -- A line without a SKU (a gift wrap, a custom item) is its name.
  coalesce(nullif(trim("Lineitem sku"), ''), nullif(trim("Lineitem name"), '')) AS product_id,
  "Lineitem quantity" AS quantity,
  "Lineitem price" AS unit_price,
  "Lineitem discount" AS discount,
  _raw, _error, _file, _line, _seq
FROM lines
