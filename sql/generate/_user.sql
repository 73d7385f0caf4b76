-- The id the event collector knows a customer by: the shop's id, or (with shopify_csv) the
-- lower-cased email, the only customer key of Shopify's export.
SELECT customer_id,
       CASE WHEN $user_id_is_email THEN lower(trim(email)) ELSE customer_id END AS user_id
FROM (
  SELECT customer_id, email, row_number() OVER (PARTITION BY customer_id ORDER BY dt DESC, updated_at DESC) AS _n
  FROM staging.customers WHERE dt <= $run_date
) WHERE _n = 1
