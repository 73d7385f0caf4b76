coalesce(
  nullif(trim(json_as_text(_li, 'sku')), ''),
  nullif(nullif(trim(json_as_text(_li, 'variation_id')), ''), '0'),
  nullif(nullif(trim(json_as_text(_li, 'product_id')), ''), '0')
)
