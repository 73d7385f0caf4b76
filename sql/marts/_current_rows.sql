-- The current rows of a restated table, the one way every query finds them. Tables built by
-- restating whole keys (a customer-day of customer_orders_day, a customer-day-product of
-- customer_product_day, a day of product_day) hold a key's current rows in the newest
-- partition (dt) that has it. Included as
--   {{> current_rows rows=<relation with dt>; key=<the key's columns>}}
-- where rows is a CTE of the table narrowed to the partitions (dt <= $run_date: as of the run
-- date) and columns the query needs. Joined back to the newest dt of each key, the small side
-- first: much cheaper than a row_number() sort (a third of the time at 1M customers).
SELECT {{rows}}.* FROM (SELECT {{key}}, max(dt) AS dt FROM {{rows}} GROUP BY {{key}}) newest
JOIN {{rows}} USING ({{key}}, dt)
