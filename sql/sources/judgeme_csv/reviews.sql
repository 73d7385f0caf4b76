-- judgeme_csv -> raw reviews: one row per review of Judge.me's reviews CSV (the dashboard's
-- export, columns by header name). The file has no review id: `review_id` is the MD5 (hex) of the
-- product (`product_id`, else `product_handle`), the reviewer (`reviewer_email` lower-cased, else
-- `name:` and the lower-cased `reviewer_name`) and `review_date` in UTC, joined by `|`. Title,
-- body, rating and curation are left out on purpose: they change when a review is edited or
-- curated, and an edited review must stay the same review. The product is the Shopify product id,
-- else the handle. `curated` ok is published; spam, not-yet, empty or anything else is hidden. The
-- CSV has no modification date: created_at = updated_at = `review_date`, so of two versions of a
-- review in one night the later file (or line) wins. Values go through as text: staging judges
-- the rating (1 to 5) and the dates.
WITH r AS (
  SELECT *,
    coalesce(nullif(trim("product_id"), ''), nullif(trim("product_handle"), '')) AS _product,
    nullif(lower(trim("reviewer_email")), '') AS _email,
    feed_timestamp(trim("review_date")) AS _date
  FROM feed
  WHERE _error IS NULL
)
SELECT
  md5(concat_ws('|',
    coalesce(_product, ''),
    coalesce(_email, CASE WHEN nullif(trim("reviewer_name"), '') IS NOT NULL THEN 'name:' || lower(trim("reviewer_name")) END, ''),
    coalesce(_date, '')
  )) AS review_id,
  _product AS product_id,
  CAST(NULL AS VARCHAR) AS customer_id,
  _email AS email,
  trim("rating") AS rating,
  nullif(trim("title"), '') AS title,
  nullif(trim("body"), '') AS body,
  _date AS created_at,
  _date AS updated_at,
  CASE WHEN lower(trim("curated")) = 'ok' THEN 'published' ELSE 'hidden' END AS status,
  _raw, _error, _file, _line, _seq
FROM r
