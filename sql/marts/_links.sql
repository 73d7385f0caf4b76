-- Scratch input of daily_aggregates (not a warehouse table): the links of tonight's graph
-- (marts.identities, dt = D) that tonight's stitching needs: those of the anonymous ids of
-- tonight's events without a customer, and those of anonymous ids linked for the first time
-- tonight (newly: no link in the previous partition of identities, $prev_dt). New links come
-- from the evidence staged since that partition, so only those ids are looked up in it.
WITH tonight_anonymous AS (
  SELECT DISTINCT anonymous_id FROM staging.events
  WHERE dt = $run_date AND customer_id IS NULL AND anonymous_id IS NOT NULL
),
evidence AS (
  SELECT anonymous_id FROM staging.events
  WHERE dt <= $run_date {{#prev}}AND dt > $prev_dt {{/prev}}AND customer_id IS NOT NULL AND anonymous_id IS NOT NULL
  UNION
  SELECT anonymous_id FROM staging.identifies WHERE dt <= $run_date {{#prev}}AND dt > $prev_dt{{/prev}}
),
newly AS (
  SELECT DISTINCT anonymous_id FROM evidence e
{{#prev}}
  WHERE NOT EXISTS (SELECT 1 FROM marts.identities i WHERE i.dt = $prev_dt AND i.anonymous_id = e.anonymous_id)
{{/prev}}
)
SELECT i.anonymous_id, i.customer_id, i.first_seen, n.anonymous_id IS NOT NULL AS newly
FROM marts.identities i
LEFT JOIN newly n ON n.anonymous_id = i.anonymous_id
WHERE i.dt = $run_date
  AND (n.anonymous_id IS NOT NULL OR i.anonymous_id IN (SELECT anonymous_id FROM tonight_anonymous))
