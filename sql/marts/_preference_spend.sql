-- Scratch input of user_profiles (not a warehouse table): spend per customer, category and
-- brand over the preference window, from the current customer-days only (rows of
-- customer_product_day in the partition of the customer-day's current row). Materialised once
-- because both the top categories and the favourite brand read it.
SELECT p.customer_id, coalesce(p.category, '(unknown)') AS category, p.brand, sum(p.revenue) AS spend
FROM landing.current_orders_day d
JOIN marts.customer_product_day p ON p.customer_id = d.customer_id AND p.day = d.day AND p.dt = d.cdt
WHERE p.dt >= $pref_dt_start AND p.dt <= $run_date AND p.revenue > 0 AND d.purchases > 0
GROUP BY p.customer_id, coalesce(p.category, '(unknown)'), p.brand
