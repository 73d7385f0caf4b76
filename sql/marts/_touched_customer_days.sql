-- Scratch input of the daily_aggregates job (not a warehouse table): the customer-days the run
-- of D must restate, as (customer_id, day): the days of every version (tonight's and earlier
-- ones: a version may move an order to another day or customer) of the orders that have a
-- version or order lines (lines may arrive after their order) staged on D.
WITH ids AS (
  SELECT order_id FROM staging.orders WHERE dt = $run_date
  UNION
  SELECT order_id FROM staging.order_items WHERE dt = $run_date
)
SELECT DISTINCT o.customer_id, shop_date(o.order_ts) AS day
-- ids first: the build side of the join is the left one, and its keys prune the order
-- files (order ids grow with time) instead of hashing every order staged.
FROM ids
JOIN staging.orders o ON o.order_id = ids.order_id
WHERE o.dt <= $run_date
