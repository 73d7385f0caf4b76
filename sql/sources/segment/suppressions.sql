-- segment / rudderstack -> raw suppressions: the email spec's Unsubscribed, Email Bounced and
-- Email Marked as Spam (https://segment.com/docs/connections/spec/email/), for the address in
-- context.traits.email. An unsubscribe from one list suppresses the address everywhere.
SELECT
  lower(trim("context.traits.email")) AS email,
  CASE _event
    WHEN 'Unsubscribed' THEN 'unsubscribed'
    WHEN 'Email Bounced' THEN 'bounced'
    WHEN 'Email Marked as Spam' THEN 'complained'
  END AS reason,
  _ts AS ts,
  _raw, _error, _file, _line, _seq
FROM ({{> calls}})
WHERE _type = 'track' AND _event IN ('Unsubscribed', 'Email Bounced', 'Email Marked as Spam')
