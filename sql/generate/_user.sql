-- The id the event collector knows a customer by: the shop's id; with shopify_csv the
-- lower-cased email, the only customer key of Shopify's export; with shopify_json or
-- woocommerce_json the platform's numeric id (the shop's id without its letter).
SELECT customer_id,
       CASE $customer_key
         WHEN 'email' THEN lower(trim(email))
         WHEN 'number' THEN CAST(CAST(substr(customer_id, 2) AS BIGINT) AS VARCHAR)
         ELSE customer_id
       END AS user_id
FROM (
  SELECT customer_id, email, row_number() OVER (PARTITION BY customer_id ORDER BY dt DESC, updated_at DESC) AS _n
  FROM staging.customers WHERE dt <= $run_date
) WHERE _n = 1
