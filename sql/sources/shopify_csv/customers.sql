-- shopify_csv -> raw customers: one row per email, from the customer's latest order in the
-- files. customer_id is the lower-cased, trimmed email; consent is the order's `Accepts
-- Marketing` (yes/no); the signup is the earliest order seen, on any night.
-- Each order's first row (where Shopify puts the order's fields), found by aggregating: a
-- window here and another below would sort the whole feed twice in memory.
WITH heads AS (
  SELECT _file AS h_file, coalesce("Name", '') AS h_name, min(_line) AS h_line
  FROM feed WHERE _error IS NULL
  GROUP BY _file, coalesce("Name", '')
),
o AS (
  SELECT feed.*, 1 AS _n, feed_timestamp("Created at") AS created
  FROM feed JOIN heads ON heads.h_file = feed._file AND heads.h_name = coalesce(feed."Name", '') AND heads.h_line = feed._line
  WHERE _error IS NULL
),
firsts AS (
  -- Aggregated, not a window over all rows per email: a whole feed in one batch would not fit.
  SELECT lower(trim("Email")) AS fid,
         coalesce(min(CASE WHEN created LIKE '____-__-__T%' THEN created END), min(created)) AS first_order
  FROM o WHERE _n = 1 AND nullif(trim("Email"), '') IS NOT NULL
  GROUP BY lower(trim("Email"))
),
c AS (
  SELECT o.*,
    nullif(lower(trim("Email")), '') AS cid,
    firsts.first_order,
    row_number() OVER (
      PARTITION BY lower(trim("Email"))
      ORDER BY (created IS NULL OR created NOT LIKE '____-__-__T%'), created DESC, _seq DESC
    ) AS _latest
  FROM o JOIN firsts ON firsts.fid = lower(trim(o."Email"))
  WHERE _n = 1 AND nullif(trim("Email"), '') IS NOT NULL
)
SELECT
  c.cid AS customer_id,
  trim("Email") AS email,
  nullif(split_part(trim("Billing Name"), ' ', 1), '') AS first_name,
  nullif(trim(substr(trim("Billing Name"), strpos(trim("Billing Name"), ' ') + 1)), trim("Billing Name")) AS last_name,
  coalesce("Billing Country", "Shipping Country") AS country,
  CASE
    WHEN e.signup_ts IS NOT NULL AND to_char(e.signup_ts, '%Y-%m-%dT%H:%M:%S%.fZ') < first_order
      THEN to_char(e.signup_ts, '%Y-%m-%dT%H:%M:%S%.fZ')
    ELSE first_order
  END AS signup_ts,
  CASE lower(trim("Accepts Marketing")) WHEN 'yes' THEN 'true' WHEN 'no' THEN 'false' END AS marketing_consent,
  created AS updated_at,
  _raw, _error, _file, _line, _seq
FROM c LEFT JOIN {{earlier_signups}} e ON e.customer_id = c.cid
WHERE _latest = 1
