-- The sample shop's identify calls of a night: the browser's anonymousId meets the userId.
WITH u AS ({{> user}})
SELECT 'identify' AS "type", i.event_id AS "messageId", u.user_id AS "userId", i.anonymous_id AS "anonymousId",
       to_char(i.ts, '%Y-%m-%dT%H:%M:%S%.3fZ') AS "timestamp"
FROM staging.identifies i LEFT JOIN u ON u.customer_id = i.customer_id
WHERE i.dt = $run_date
ORDER BY i.ts, i.event_id
