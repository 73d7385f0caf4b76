-- woocommerce_reviews -> raw reviews: the REST API v3 product review objects
-- (https://woocommerce.github.io/woocommerce-rest-api-docs/#product-review-properties), one per
-- line. review_id = `id`; dates are `date_created_gmt` (`date_created` is the site's local time).
-- The API gives no modification date: updated_at = created_at, so of two versions of a review in
-- one night the later line (or file) wins. Status: approved is published; hold (awaiting
-- moderation), spam, and unspam / untrash (restore actions whose resulting state the object does
-- not say) and trash (a review the shop deleted, restorable: staged so that its earlier approved
-- version stops counting) are hidden; anything else is quarantined by the
-- status check. Rating 0 is WooCommerce's review without stars (ratings 0 to 5): left out,
-- counted as `unrated`. A product id 0 is no product (quarantined as missing). The body is `review`
-- (HTML, wpautop's paragraphs in the view context) as plain text: tags removed, the common
-- entities decoded (&amp; last, so an escaped entity stays as written), whitespace trimmed. The
-- API has no title and no customer id: the email finds the customer in staging.
WITH r AS (
  SELECT *,
    lower(trim("status")) AS _status,
    regexp_replace(coalesce("review", ''), '<[^>]*>', '', 'g') AS _text
  FROM feed
  WHERE _error IS NULL
),
t AS (
  SELECT *,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
    replace(replace(replace(replace(replace(replace(_text,
      '&nbsp;', ' '), '&#160;', ' '),
      '&lt;', '<'), '&gt;', '>'),
      '&quot;', '"'), '&#34;', '"'),
      '&#039;', ''''), '&#39;', ''''), '&apos;', ''''),
      '&#8216;', '‘'), '&lsquo;', '‘'), '&#8217;', '’'), '&rsquo;', '’'),
      '&#8220;', '“'), '&ldquo;', '“'), '&#8221;', '”'), '&rdquo;', '”'),
      '&#8211;', '–'), '&ndash;', '–'), '&#8212;', '—'), '&mdash;', '—'),
      '&#8230;', '…'), '&hellip;', '…'),
      '&#038;', '&'), '&#38;', '&'), '&amp;', '&') AS _plain
  FROM r
)
SELECT
  trim("id") AS review_id,
  nullif(trim("product_id"), '0') AS product_id,
  CAST(NULL AS VARCHAR) AS customer_id,
  nullif(lower(trim("reviewer_email")), '') AS email,
  trim("rating") AS rating,
  CAST(NULL AS VARCHAR) AS title,
  nullif(regexp_replace(_plain, '^\s+|\s+$', '', 'g'), '') AS body,
  feed_timestamp("date_created_gmt") AS created_at,
  feed_timestamp("date_created_gmt") AS updated_at,
  CASE _status
    WHEN 'approved' THEN 'published'
    WHEN 'hold' THEN 'hidden' WHEN 'spam' THEN 'hidden'
    WHEN 'unspam' THEN 'hidden' WHEN 'untrash' THEN 'hidden' WHEN 'trash' THEN 'hidden'
    ELSE "status"
  END AS status,
  CASE WHEN trim("rating") = '0' THEN 'unrated' END AS _ignored,
  _raw, _error, _file, _line, _seq
FROM t
