-- staging.reviews: cast and classify the day's raw reviews (optional input). A review without a
-- customer_id but with an email is matched to the customer of that email (lower-cased); the
-- email itself is not staged.
WITH typed AS (
  SELECT
    nullif(trim(review_id), '') AS review_id,
    nullif(trim(product_id), '') AS product_id,
    nullif(trim(customer_id), '') AS customer_id,
    nullif(lower(trim(email)), '') AS email,
    try_cast(trim(rating) AS DOUBLE) AS rating_number,
    nullif(trim(title), '') AS title,
    nullif(trim(body), '') AS body,
    nullif(lower(trim(language)), '') AS language,
    arrow_cast(try_cast(created_at AS TIMESTAMP), 'Timestamp(Microsecond, Some("UTC"))') AS created_at,
    arrow_cast(try_cast(updated_at AS TIMESTAMP), 'Timestamp(Microsecond, Some("UTC"))') AS updated_at,
    nullif(lower(trim(status)), '') AS status,
    nullif(trim(rating), '') AS rating_text,
    created_at AS created_at_text,
    updated_at AS updated_at_text,
    _raw, _error, _file, _line, _seq
  FROM landing.reviews
),
-- Only the emails of tonight's reviews, each customer's latest row.
by_email AS (
  SELECT email AS known_email, customer_id AS email_customer FROM (
    SELECT lower(trim(email)) AS email, customer_id,
           row_number() OVER (PARTITION BY lower(trim(email)) ORDER BY updated_at DESC, customer_id) AS n
    FROM staging.customers
    WHERE dt <= $run_date AND lower(trim(email)) IN (SELECT email FROM typed WHERE customer_id IS NULL)
  ) WHERE n = 1
)
SELECT
  review_id, product_id,
  coalesce(customer_id, email_customer) AS customer_id,
  CAST(rating_number AS BIGINT) AS rating,
  title, body, language, created_at, updated_at, status,
  CASE
    WHEN _error IS NOT NULL THEN _error
    WHEN review_id IS NULL THEN 'missing review_id'
    WHEN product_id IS NULL THEN 'missing product_id'
    WHEN rating_text IS NULL THEN 'missing rating'
    WHEN rating_number IS NULL THEN 'unparseable rating'
    WHEN rating_number <> round(rating_number) OR rating_number < 1 OR rating_number > 5 THEN 'rating not 1 to 5'
    WHEN created_at_text IS NULL THEN 'missing created_at'
    WHEN created_at IS NULL THEN 'unparseable created_at'
    WHEN updated_at_text IS NULL THEN 'missing updated_at'
    WHEN updated_at IS NULL THEN 'unparseable updated_at'
    WHEN status IS NULL THEN 'missing status'
    WHEN status NOT IN ('published', 'hidden') THEN 'unknown status'
  END AS _reason,
  _raw, _file, _line, _seq
FROM typed
LEFT JOIN by_email ON typed.customer_id IS NULL AND typed.email = by_email.known_email
