//! Functions our SQL needs that DataFusion lacks. Registered in every session (and, for a
//! distributed engine, on its executors too).

use std::fmt::Write;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Builder, Int32Builder};
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::Timelike;
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

/// Every function of ours, for a session of a shop in time zone `tz`.
pub fn all(tz: chrono_tz::Tz) -> Vec<ScalarUDF> {
    let mut v = vec![ShopDate::udf(tz), ShopHour::udf(tz), AudienceBucket::udf(), ScalarUDF::from(FeedTimestamp::new())];
    // JSON paths and arrays for the feeds' mapping SQL (json_get_str, json_get_array, ...).
    // Only the typed ones: json_get's union type does not travel to a cluster's executors.
    use datafusion_functions_json::udfs as j;
    let json = [
        j::json_get_str_udf(),
        j::json_get_int_udf(),
        j::json_get_float_udf(),
        j::json_get_bool_udf(),
        j::json_get_json_udf(),
        j::json_get_array_udf(),
        j::json_as_text_udf(),
        j::json_contains_udf(),
        j::json_length_udf(),
        j::json_object_keys_udf(),
    ];
    v.extend(json.iter().map(|f| f.as_ref().clone()));
    v
}

/// `feed_timestamp(text)`: a feed's timestamp as RFC 3339 text in UTC, whatever the feed's
/// way of writing it (RFC 3339, `2024-03-15 10:22:31 -0400` as Shopify's export writes it,
/// ISO without offset read as UTC, epoch seconds, milliseconds or microseconds); text it cannot read is
/// returned unchanged, so that staging quarantines it with the value as delivered.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FeedTimestamp {
    signature: Signature,
}

impl FeedTimestamp {
    pub fn new() -> Self {
        FeedTimestamp { signature: Signature::string(1, Volatility::Immutable) }
    }
}

impl Default for FeedTimestamp {
    fn default() -> Self {
        Self::new()
    }
}

/// `text` read as one of the timestamp forms feeds use, in UTC.
pub fn parse_feed_timestamp(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDateTime, Utc};
    let t = text.trim();
    // Epoch seconds (10 digits), milliseconds (13) or microseconds (16, GA4's): checked first,
    // as a whole feed may be written so.
    if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) {
        let n: i64 = t.parse().ok()?;
        return match t.len() {
            9..=10 => DateTime::from_timestamp(n, 0),
            12..=13 => DateTime::from_timestamp_millis(n),
            15..=16 => DateTime::from_timestamp_micros(n),
            _ => None,
        };
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%:z"] {
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d %H:%M:%S%.f UTC"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Some(d.and_utc());
        }
    }
    None
}

impl ScalarUDFImpl for FeedTimestamp {
    fn name(&self) -> &str {
        "feed_timestamp"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = args.args[0].clone().into_array(args.number_rows)?;
        let input = arrow::compute::cast(&input, &DataType::Utf8)?;
        let input = input.as_string::<i32>();
        let mut out = arrow::array::StringBuilder::with_capacity(input.len(), input.len() * 20);
        // The format parsed once, not per row.
        let format: Vec<chrono::format::Item<'_>> = chrono::format::StrftimeItems::new("%Y-%m-%dT%H:%M:%S%.fZ").collect();
        for v in input.iter() {
            match v {
                None => out.append_null(),
                Some(s) => match parse_feed_timestamp(s) {
                    Some(t) => {
                        // Written into the builder's buffer: no string per row.
                        let _ = write!(out, "{}", t.format_with_items(format.iter()));
                        out.append_value("");
                    }
                    None => out.append_value(s),
                },
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

/// Call `f` with each timestamp of the first argument in the shop's time zone (None for NULL).
fn for_each_local(args: &ScalarFunctionArgs, tz: &chrono_tz::Tz, mut f: impl FnMut(Option<chrono::DateTime<chrono_tz::Tz>>)) -> Result<()> {
    let input = args.args[0].clone().into_array(args.number_rows)?;
    let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let micros: ArrayRef = arrow::compute::cast(&input, &utc)?;
    let micros = micros.as_primitive::<TimestampMicrosecondType>();
    for i in 0..micros.len() {
        let t = (!micros.is_null(i)).then(|| chrono::DateTime::from_timestamp_micros(micros.value(i))).flatten();
        f(t.map(|t| t.with_timezone(tz)));
    }
    Ok(())
}

/// `shop_date(ts)`: the calendar day of a timestamp in the shop's time zone (the `timezone`
/// setting), which is what "the day of an order" means everywhere in ecomwh.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ShopDate {
    tz: chrono_tz::Tz,
    signature: Signature,
}

impl ShopDate {
    pub fn udf(tz: chrono_tz::Tz) -> ScalarUDF {
        ScalarUDF::from(ShopDate { tz, signature: Signature::any(1, Volatility::Immutable) })
    }
}

impl ScalarUDFImpl for ShopDate {
    fn name(&self) -> &str {
        "shop_date"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut out = Date32Builder::with_capacity(args.number_rows);
        for_each_local(&args, &self.tz, |t| out.append_option(t.map(|t| super::values::date32(t.date_naive()))))?;
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// `shop_hour(ts)`: the hour (0-23) of a timestamp in the shop's time zone.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ShopHour {
    tz: chrono_tz::Tz,
    signature: Signature,
}

impl ShopHour {
    pub fn udf(tz: chrono_tz::Tz) -> ScalarUDF {
        ScalarUDF::from(ShopHour { tz, signature: Signature::any(1, Volatility::Immutable) })
    }
}

impl ScalarUDFImpl for ShopHour {
    fn name(&self) -> &str {
        "shop_hour"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut out = Int32Builder::with_capacity(args.number_rows);
        for_each_local(&args, &self.tz, |t| out.append_option(t.map(|t| t.hour() as i32)))?;
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// `audience_bucket(audience, customer_id)`: a stable bucket 0..9999 from the MD5 of both, so
/// an audience's holdout is the same customers on every run, on any machine.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AudienceBucket {
    signature: Signature,
}

impl AudienceBucket {
    pub fn udf() -> ScalarUDF {
        ScalarUDF::from(AudienceBucket { signature: Signature::any(2, Volatility::Immutable) })
    }
}

/// The bucket of one (audience, customer_id).
pub fn audience_bucket(audience: &str, customer_id: &str) -> i64 {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update(audience.as_bytes());
    h.update([0x1f]);
    h.update(customer_id.as_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(first) % 10_000) as i64
}

impl ScalarUDFImpl for AudienceBucket {
    fn name(&self) -> &str {
        "audience_bucket"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let text = |i: usize| -> Result<ArrayRef> { Ok(arrow::compute::cast(&args.args[i].clone().into_array(n)?, &DataType::Utf8)?) };
        let (a, c) = (text(0)?, text(1)?);
        let (a, c) = (a.as_string::<i32>(), c.as_string::<i32>());
        let out: arrow::array::Int64Array = (0..n).map(|i| (!a.is_null(i) && !c.is_null(i)).then(|| audience_bucket(a.value(i), c.value(i)))).collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}
