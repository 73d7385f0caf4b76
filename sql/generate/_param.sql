named_struct('key', '{{key}}', 'value', named_struct(
  'string_value', CAST({{text}} AS VARCHAR), 'int_value', CAST({{int}} AS BIGINT),
  'float_value', CAST(NULL AS DOUBLE), 'double_value', CAST(NULL AS DOUBLE)))
