-- staging.orders: cast, normalise and classify the day's raw order rows.
-- The customer must be known: staged today or on an earlier date. With a base currency
-- ($base_currency, '' without one), an order in another currency needs a rate on or before its
-- order day: its amounts are converted at the latest one (rates are units of the currency per
-- unit of the base, or per unit of a reference currency whose own rate the base has).
WITH typed AS (
  SELECT
    nullif(trim(order_id), '') AS order_id,
    nullif(trim(customer_id), '') AS customer_id,
    arrow_cast(try_cast(order_ts AS TIMESTAMP), 'Timestamp(Microsecond, Some("UTC"))') AS order_ts,
    nullif(lower(trim(status)), '') AS status,
    nullif(upper(trim(currency)), '') AS currency,
    try_cast(total_amount AS DECIMAL(18, 2)) AS total_amount,
    try_cast(discount_amount AS DECIMAL(18, 2)) AS discount_amount,
    try_cast(shipping_amount AS DECIMAL(18, 2)) AS shipping_amount,
    try_cast(refunded_amount AS DECIMAL(18, 2)) AS refunded_amount,
    nullif(lower(trim(channel)), '') AS channel,
    nullif(upper(trim(country)), '') AS country,
    arrow_cast(try_cast(updated_at AS TIMESTAMP), 'Timestamp(Microsecond, Some("UTC"))') AS updated_at,
    order_ts AS order_ts_text,
    total_amount AS total_text,
    discount_amount AS discount_text,
    shipping_amount AS shipping_text,
    refunded_amount AS refunded_text,
    updated_at AS updated_at_text,
    _raw, _error, _file, _line, _seq
  FROM landing.orders
),
known AS (
  -- Only among tonight's customers (a semi join on tonight's few rows), not all history's.
  SELECT DISTINCT customer_id AS known_customer FROM staging.customers
  WHERE dt <= $run_date AND customer_id IN (SELECT customer_id FROM typed)
),
-- Tonight's order days per foreign currency, and the newest staged value of each quote.
days AS (
  SELECT DISTINCT currency, shop_date(order_ts) AS day FROM typed
  WHERE $base_currency <> '' AND currency <> $base_currency AND order_ts IS NOT NULL
),
quotes AS (
  SELECT currency, date, rate FROM (
    SELECT currency, date, rate, row_number() OVER (PARTITION BY currency, date ORDER BY dt DESC) AS rn
    FROM {{fx_rates}}
    WHERE dt <= $run_date AND (currency IN (SELECT currency FROM days) OR currency = $base_currency)
  ) q WHERE rn = 1
),
-- The latest quote on or before each day (weekends and holidays have none), at most 31 days old:
-- monthly rates work, a currency whose rates stopped (RUB at the ECB since 2022) waits.
latest AS (
  SELECT d.currency, d.day, max(q.date) AS quoted
  FROM (SELECT currency, day FROM days UNION SELECT DISTINCT $base_currency, day FROM days) d
  JOIN quotes q ON q.currency = d.currency AND q.date <= d.day AND q.date >= d.day - INTERVAL '31' DAY
  GROUP BY d.currency, d.day
),
rate_on AS (
  SELECT l.currency, l.day, q.rate FROM latest l JOIN quotes q ON q.currency = l.currency AND q.date = l.quoted
),
-- Quotes against the base itself: the base's own rate is 1. Against another reference: the
-- base's rate of the same day divides (without one the order waits for it).
quoted_base AS (SELECT count(*) > 0 AS yes FROM quotes WHERE currency = $base_currency),
fx AS (
  SELECT r.currency, r.day, CASE WHEN quoted_base.yes THEN r.rate / b.rate ELSE r.rate END AS fx_rate
  FROM rate_on r CROSS JOIN quoted_base
  LEFT JOIN rate_on b ON b.currency = $base_currency AND b.day = r.day
  WHERE r.currency <> $base_currency
),
converted AS (
  SELECT typed.*, known.known_customer,
         CASE WHEN $base_currency = '' OR typed.currency = $base_currency THEN 1.0 ELSE fx.fx_rate END AS fx_rate
  FROM typed
  LEFT JOIN known ON typed.customer_id = known.known_customer
  LEFT JOIN fx ON fx.currency = typed.currency AND fx.day = shop_date(typed.order_ts)
)
SELECT
  order_id, customer_id, order_ts, status, currency, total_amount, discount_amount,
  shipping_amount, refunded_amount, channel, country, updated_at, fx_rate,
  {{> to_base amount=total_amount}} AS total_amount_base,
  {{> to_base amount=discount_amount}} AS discount_amount_base,
  {{> to_base amount=shipping_amount}} AS shipping_amount_base,
  {{> to_base amount=refunded_amount}} AS refunded_amount_base,
  CASE
    WHEN _error IS NOT NULL THEN _error
    WHEN order_id IS NULL THEN 'missing order_id'
    WHEN customer_id IS NULL THEN 'missing customer_id'
    WHEN order_ts_text IS NULL THEN 'missing order_ts'
    WHEN order_ts IS NULL THEN 'unparseable order_ts'
    WHEN updated_at_text IS NULL THEN 'missing updated_at'
    WHEN updated_at IS NULL THEN 'unparseable updated_at'
    WHEN status IS NULL THEN 'missing status'
    WHEN status NOT IN ('placed', 'paid', 'shipped', 'cancelled', 'refunded') THEN 'unknown status'
    WHEN channel IS NOT NULL AND channel NOT IN ('web', 'app', 'marketplace') THEN 'unknown channel'
    WHEN currency IS NULL THEN 'missing currency'
    WHEN total_text IS NULL THEN 'missing total_amount'
    WHEN total_amount IS NULL THEN 'unparseable total_amount'
    WHEN total_amount < 0 THEN 'negative total_amount'
    WHEN discount_text IS NOT NULL AND discount_amount IS NULL THEN 'unparseable discount_amount'
    WHEN discount_amount < 0 THEN 'negative discount_amount'
    WHEN shipping_text IS NULL THEN 'missing shipping_amount'
    WHEN shipping_amount IS NULL THEN 'unparseable shipping_amount'
    WHEN shipping_amount < 0 THEN 'negative shipping_amount'
    -- Checked where it counts: a cancellation is not lost to a bad refund figure.
    WHEN status IN ('paid', 'shipped') AND refunded_text IS NOT NULL AND refunded_amount IS NULL THEN 'unparseable refunded_amount'
    WHEN status IN ('paid', 'shipped') AND refunded_amount < 0 THEN 'negative refunded_amount'
    WHEN status IN ('paid', 'shipped') AND refunded_amount > total_amount THEN 'refunded_amount above total_amount'
    WHEN known_customer IS NULL THEN 'unknown customer_id'
    WHEN fx_rate IS NULL THEN 'unknown currency'
  END AS _reason,
  _raw, _file, _line, _seq
FROM converted
