-- Scratch input of rfm_segments (not a warehouse table): frequency and monetary of the
-- customers in landing.scope (everyone on a full run), from their current customer-days of the
-- lookback window; with the carry section, everyone else's sums from the previous partition.
SELECT customer_id, sum(purchases) AS frequency, CAST(sum(net_revenue) AS DECIMAL(18, 2)) AS monetary
FROM landing.current_orders_day WHERE purchases > 0 GROUP BY customer_id
{{#carry}}
UNION ALL
SELECT customer_id, frequency, monetary FROM marts.rfm_segments r
WHERE r.dt = $prev_dt AND r.frequency > 0
  AND NOT EXISTS (SELECT 1 FROM landing.scope s WHERE s.customer_id = r.customer_id)
{{/carry}}
