//! Query results as text: an aligned table, CSV or JSON lines.
//! CSV: a header row, NULL as an empty field, lists as JSON arrays, floats in their
//! shortest round-trip form, infinite or NaN floats as NULL.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::Value;

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

pub fn render(batches: &[RecordBatch], format: Format, out: &mut impl std::io::Write) -> Result<()> {
    match format {
        Format::Table => {
            writeln!(out, "{}", arrow::util::pretty::pretty_format_batches(batches)?)?;
        }
        Format::Csv => {
            if let Some(b) = batches.first() {
                let header: Vec<String> = b.schema_ref().fields().iter().map(|f| csv_field(Some(f.name()))).collect();
                writeln!(out, "{}", header.join(","))?;
            }
            for b in batches {
                for row in 0..b.num_rows() {
                    let fields: Vec<String> = b.columns().iter().map(|c| cell_text(c, row).map(|t| csv_field(t.as_deref()))).collect::<Result<_>>()?;
                    writeln!(out, "{}", fields.join(","))?;
                }
            }
        }
        Format::Json => {
            for obj in json_rows(batches)? {
                writeln!(out, "{obj}")?;
            }
        }
    }
    Ok(())
}

/// Rows as JSON objects, column name to value.
pub fn json_rows(batches: &[RecordBatch]) -> Result<Vec<Value>> {
    let mut rows = vec![];
    for b in batches {
        let schema = b.schema();
        for row in 0..b.num_rows() {
            let mut obj = serde_json::Map::new();
            for (f, c) in schema.fields().iter().zip(b.columns()) {
                obj.insert(f.name().clone(), json_value(c, row)?);
            }
            rows.push(Value::Object(obj));
        }
    }
    Ok(rows)
}

/// NULL is an empty field; an empty string is `""`, so the two stay apart.
fn csv_field(v: Option<&str>) -> String {
    match v {
        None => String::new(),
        Some("") => "\"\"".to_string(),
        Some(s) if s.contains([',', '"', '\n', '\r']) => format!("\"{}\"", s.replace('"', "\"\"")),
        Some(s) => s.to_string(),
    }
}

fn is_list(t: &DataType) -> bool {
    matches!(t, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) | DataType::Struct(_) | DataType::Map(_, _))
}

/// One CSV cell (None for NULL).
fn cell_text(a: &ArrayRef, row: usize) -> Result<Option<String>> {
    if a.is_null(row) {
        return Ok(None);
    }
    Ok(match a.data_type() {
        DataType::Float64 => float_text(a.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => float_text(a.as_primitive::<Float32Type>().value(row) as f64),
        t if is_list(t) => Some(json_value(a, row)?.to_string()),
        _ => Some(ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default())?.value(row).to_string()),
    })
}

/// Rust prints the shortest text that reads back to the same float; infinities are NULL.
fn float_text(v: f64) -> Option<String> {
    v.is_finite().then(|| format!("{v}"))
}

/// A cell as JSON: numbers as numbers, lists as arrays, non-finite floats as null.
pub fn json_value(a: &ArrayRef, row: usize) -> Result<Value> {
    if a.is_null(row) {
        return Ok(Value::Null);
    }
    let num = |v: f64| serde_json::Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null);
    Ok(match a.data_type() {
        DataType::Boolean => Value::Bool(a.as_boolean().value(row)),
        DataType::Float64 => num(a.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => num(a.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            let text = ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default())?.value(row).to_string();
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
        DataType::List(_) => list_json(&a.as_list::<i32>().value(row))?,
        DataType::LargeList(_) => list_json(&a.as_list::<i64>().value(row))?,
        DataType::FixedSizeList(_, _) => list_json(&a.as_fixed_size_list().value(row))?,
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let mut obj = serde_json::Map::new();
            for (f, c) in fields.iter().zip(s.columns()) {
                obj.insert(f.name().clone(), json_value(c, row)?);
            }
            Value::Object(obj)
        }
        _ => Value::String(ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default())?.value(row).to_string()),
    })
}

fn list_json(values: &ArrayRef) -> Result<Value> {
    Ok(Value::Array((0..values.len()).map(|i| json_value(values, i)).collect::<Result<_>>()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, ListArray, StringArray};
    use arrow::datatypes::Int32Type;
    use std::sync::Arc;

    #[test]
    fn csv_rules() {
        let f: ArrayRef = Arc::new(Float64Array::from(vec![Some(0.1 + 0.2), None, Some(f64::INFINITY), Some(2.0)]));
        let s: ArrayRef = Arc::new(StringArray::from(vec![Some("a,b"), Some("x"), None, Some("")]));
        let l: ArrayRef =
            Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1), Some(2)]), Some(vec![]), None, Some(vec![Some(3)])]));
        let b = RecordBatch::try_from_iter(vec![("f", f), ("s", s), ("l", l)]).unwrap();
        let mut out = vec![];
        render(&[b], Format::Csv, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "f,s,l\n0.30000000000000004,\"a,b\",\"[1,2]\"\n,x,[]\n,,\n2,\"\",[3]\n");
    }
}
