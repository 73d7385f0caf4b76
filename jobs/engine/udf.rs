//! Functions our SQL needs that DataFusion lacks. Registered in every session (and, for a
//! distributed engine, on its executors too).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Builder, Int32Builder};
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::Result;
use chrono::Timelike;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

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
        let input = args.args[0].clone().into_array(args.number_rows)?;
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let micros: ArrayRef = arrow::compute::cast(&input, &utc)?;
        let micros = micros.as_primitive::<TimestampMicrosecondType>();
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let mut out = Date32Builder::with_capacity(micros.len());
        for i in 0..micros.len() {
            if micros.is_null(i) {
                out.append_null();
                continue;
            }
            match chrono::DateTime::from_timestamp_micros(micros.value(i)) {
                Some(t) => out.append_value((t.with_timezone(&self.tz).date_naive() - epoch).num_days() as i32),
                None => out.append_null(),
            }
        }
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
        let input = args.args[0].clone().into_array(args.number_rows)?;
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let micros: ArrayRef = arrow::compute::cast(&input, &utc)?;
        let micros = micros.as_primitive::<TimestampMicrosecondType>();
        let mut out = Int32Builder::with_capacity(micros.len());
        for i in 0..micros.len() {
            let t = (!micros.is_null(i)).then(|| chrono::DateTime::from_timestamp_micros(micros.value(i))).flatten();
            out.append_option(t.map(|t| t.with_timezone(&self.tz).hour() as i32));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
