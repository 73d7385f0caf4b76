-- The calls of a Segment or RudderStack log, with the fields every mapping reads.
-- Spec keys first; the email spec's documented examples use the older user_id / action /
-- context.user_agent (https://segment.com/docs/connections/spec/email/), so those too.
SELECT
  *,
  lower(trim(coalesce("type", "action"))) AS _type,
  trim("event") AS _event,
  nullif(trim(coalesce("userId", "user_id")), '') AS _user,
  nullif(trim("anonymousId"), '') AS _anon,
  -- `timestamp` is corrected for the device's clock (https://segment.com/docs/connections/spec/common/#timestamps).
  feed_timestamp(coalesce("timestamp", "originalTimestamp", "receivedAt")) AS _ts
FROM feed
WHERE _error IS NULL
