-- Scratch input of rfm_segments (not a warehouse table): frequency and monetary of the
-- customers in landing.scope (everyone on a full run), from their current customer-days of the lookback window (the
-- job adds the carried-over sums of everyone else).
SELECT customer_id, sum(purchases) AS frequency, CAST(sum(net_revenue) AS DECIMAL(18, 2)) AS monetary
FROM landing.current_orders_day WHERE purchases > 0 GROUP BY customer_id
