-- marts.audience_members, one audience at a time: the customers of the audience's `from` mart
-- (dt = D, with the other customer marts of D joined by customer_id) for whom its `where`
-- holds, who have marketing consent (their latest customer row), a valid email that is not
-- suppressed (any suppression up to D); one customer per email (the smallest customer_id).
-- holdout: audience_bucket() hashes (audience, customer_id) to 0..9999, below $holdout_bp.
-- Contact fields (email, names) are joined here and nowhere else.
-- The job fills {{base}} (the joined marts), {{predicate}}, {{suppressed}} and {{fields}}.
WITH contacts AS (
  SELECT customer_id, email, first_name, last_name, marketing_consent FROM (
    SELECT customer_id, email, first_name, last_name, marketing_consent,
           row_number() OVER (PARTITION BY customer_id ORDER BY updated_at DESC, dt DESC) AS rn
    FROM staging.customers WHERE dt <= $run_date
  ) WHERE rn = 1
),
suppressed AS ({{suppressed}}),
selected AS (SELECT * FROM ({{base}}) b WHERE ({{predicate}})),
eligible AS (
  SELECT s.customer_id, c.email, c.first_name, c.last_name{{fields}},
         row_number() OVER (PARTITION BY c.email ORDER BY s.customer_id) AS email_rank
  FROM selected s
  JOIN contacts c ON c.customer_id = s.customer_id
  WHERE c.marketing_consent
    AND c.email IS NOT NULL
    AND regexp_like(c.email, '^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$')
    AND NOT EXISTS (SELECT 1 FROM suppressed x WHERE x.email = c.email)
)
SELECT $audience AS audience, customer_id, email,
       audience_bucket($audience, customer_id) < $holdout_bp AS holdout{{field_names}}
FROM eligible
WHERE email_rank = 1
