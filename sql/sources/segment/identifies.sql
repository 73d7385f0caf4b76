-- segment / rudderstack -> raw identifies: an identify call that carries both ids links the
-- visitor's anonymousId to the userId (https://segment.com/docs/connections/spec/identify/).
SELECT
  "messageId" AS event_id,
  _ts AS ts,
  _anon AS anonymous_id,
  _user AS customer_id,
  -- A server-side identify (a userId only) only sets traits: nothing to link.
  CASE WHEN _anon IS NULL OR _user IS NULL THEN 'identify without both ids' END AS _ignored,
  _raw, _error, _file, _line, _seq
FROM ({{> calls}})
WHERE _type = 'identify'
