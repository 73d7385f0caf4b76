-- The email tool's suppression events of a night (the email spec's names), by address.
SELECT 'track' AS "type",
       CASE reason WHEN 'unsubscribed' THEN 'Unsubscribed' WHEN 'bounced' THEN 'Email Bounced' ELSE 'Email Marked as Spam' END AS "event",
       'supp-' || to_char(ts, '%Y%m%d%H%M%S') || '-' || md5(email) AS "messageId",
       named_struct('traits', named_struct('email', email)) AS context,
       to_char(ts, '%Y-%m-%dT%H:%M:%S%.3fZ') AS "timestamp"
FROM staging.suppressions WHERE dt = $run_date
ORDER BY ts, email
