-- An amount in the base currency: as delivered at rate 1, else divided and rounded to the cent.
CASE WHEN fx_rate = 1.0 THEN {{amount}} ELSE CAST(CAST({{amount}} AS DOUBLE) / fx_rate AS DECIMAL(18, 2)) END
