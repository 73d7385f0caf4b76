-- ecb -> raw fx_rates: the European Central Bank's euro foreign exchange reference rates as CSV,
-- the daily file (eurofxref.csv: "Date, USD, JPY, ..." with dates like "04 December 2026") and
-- the historical one (eurofxref-hist.csv: "Date,USD,JPY,..." with ISO dates and N/A where a
-- currency has no rate), as published at
-- https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html
-- One row per date and currency with a rate (units of the currency per euro), plus EUR = 1 so
-- that a shop whose base currency is not the euro converts through it.
WITH cells AS (
  SELECT trim("Date") AS d,
    unnest(make_array(
    'USD', 'JPY', 'BGN', 'CYP', 'CZK', 'DKK', 'EEK', 'GBP', 'HUF', 'LTL', 'LVL', 'MTL', 'PLN',
    'ROL', 'RON', 'SEK', 'SIT', 'SKK', 'CHF', 'ISK', 'NOK', 'HRK', 'RUB', 'TRL', 'TRY', 'AUD',
    'BRL', 'CAD', 'CNY', 'HKD', 'IDR', 'ILS', 'INR', 'KRW', 'MXN', 'MYR', 'NZD', 'PHP', 'SGD',
    'THB', 'ZAR'
    )) AS currency,
    unnest(make_array(
    "USD", "JPY", "BGN", "CYP", "CZK", "DKK", "EEK", "GBP", "HUF", "LTL", "LVL", "MTL", "PLN",
    "ROL", "RON", "SEK", "SIT", "SKK", "CHF", "ISK", "NOK", "HRK", "RUB", "TRL", "TRY", "AUD",
    "BRL", "CAD", "CNY", "HKD", "IDR", "ILS", "INR", "KRW", "MXN", "MYR", "NZD", "PHP", "SGD",
    "THB", "ZAR"
    )) AS rate,
    _raw, _error, _file, _line, _seq
  FROM feed WHERE _error IS NULL
  UNION ALL
  SELECT trim("Date"), 'EUR', '1', _raw, _error, _file, _line, _seq FROM feed WHERE _error IS NULL
),
dated AS (
  SELECT *,
    -- "04 December 2026" (the daily file) or "2026-12-04" (the historical one).
    CASE WHEN d LIKE '____-__-__' THEN d
         ELSE concat(split_part(d, ' ', 3), '-',
                     CASE lower(split_part(d, ' ', 2))
                       WHEN 'january' THEN '01' WHEN 'february' THEN '02' WHEN 'march' THEN '03'
                       WHEN 'april' THEN '04' WHEN 'may' THEN '05' WHEN 'june' THEN '06'
                       WHEN 'july' THEN '07' WHEN 'august' THEN '08' WHEN 'september' THEN '09'
                       WHEN 'october' THEN '10' WHEN 'november' THEN '11' WHEN 'december' THEN '12'
                     END, '-', lpad(split_part(d, ' ', 1), 2, '0'))
    END AS date
  FROM cells
)
SELECT date, currency, trim(rate) AS rate, _raw, _error, _file, _line, _seq
FROM dated
-- Empty and N/A cells are no rate (a line that cannot be parsed goes to quarantine whole).
WHERE trim(rate) <> '' AND upper(trim(rate)) <> 'N/A'
