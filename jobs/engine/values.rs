//! Values for SQL parameters.

use std::collections::HashMap;

use datafusion::common::ScalarValue;

/// Named query parameters.
pub type Params = HashMap<String, ScalarValue>;

pub fn params<const N: usize>(pairs: [(&str, ScalarValue); N]) -> Params {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A DATE parameter.
pub fn date_param(d: chrono::NaiveDate) -> ScalarValue {
    ScalarValue::Date32(Some(date32(d)))
}

/// Arrow's Date32 value of a date: days since 1970-01-01.
pub fn date32(d: chrono::NaiveDate) -> i32 {
    (d - chrono::DateTime::UNIX_EPOCH.date_naive()).num_days() as i32
}
