-- marts.rfm_segment_summary: customers and revenue (monetary over the lookback) per segment
-- of the run date's rfm_segments, with their shares; every segment of the configured map is
-- listed (0 customers when empty) with the score ranges that define it.
WITH seg AS (
  SELECT segment, count(*) AS customers, sum(monetary) AS revenue
  FROM marts.rfm_segments WHERE dt = $run_date GROUP BY segment
),
tot AS (SELECT sum(customers) AS customers, sum(revenue) AS revenue FROM seg),
all_segments AS (
  SELECT segment, min(rule_order) AS rule_order, array_to_string(array_agg(ranges ORDER BY rule_order), '; ') AS score_ranges
  FROM landing.rfm_segment_map GROUP BY segment
  UNION ALL
  SELECT segment, 1000, NULL FROM seg WHERE segment NOT IN (SELECT segment FROM landing.rfm_segment_map)
)
SELECT a.segment,
       coalesce(s.customers, 0) AS customers,
       CAST(coalesce(s.revenue, 0) AS DECIMAL(18, 2)) AS revenue,
       CASE WHEN t.customers > 0 THEN CAST(coalesce(s.customers, 0) AS DOUBLE) / t.customers ELSE 0.0 END AS customer_share,
       CASE WHEN t.revenue > 0 THEN CAST(coalesce(s.revenue, 0) AS DOUBLE) / CAST(t.revenue AS DOUBLE) ELSE 0.0 END AS revenue_share,
       a.score_ranges
FROM all_segments a
LEFT JOIN seg s ON a.segment = s.segment
CROSS JOIN tot t
ORDER BY a.rule_order
