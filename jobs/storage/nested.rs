//! A Parquet feed's columns by path, as text. Exports of nested data (GA4's BigQuery export)
//! keep records and lists; a path reaches into them without a JSON round trip:
//! - `a.b`: field `b` of record `a`;
//! - `a[2]`: the list's third element (NULL when shorter);
//! - `a[name]`: in a list of key/value records (GA4's `event_params`, `user_properties`), the
//!   `value` of the first record whose `key` is `name`; a record value gives its first
//!   non-null member (GA4's string_value, int_value, float_value, double_value);
//! - a record or list at the end of a path is its JSON text.
//!
//! A name that is a column as it stands (dots included) is that column.

use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef, AsArray, GenericListArray, OffsetSizeTrait, RecordBatch, StringArray, UInt64Array};
use arrow::buffer::NullBuffer;
use arrow::datatypes::DataType;

use crate::error::Result;

#[derive(Debug, PartialEq)]
enum Step<'a> {
    Field(&'a str),
    Index(usize),
    Key(&'a str),
}

/// `a.b[0][k].c` as steps; None when the path is not well formed.
fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut out = vec![];
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() && out.is_empty() {
            return None;
        }
        if !name.is_empty() {
            out.push(Step::Field(name));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = &r[..end];
            out.push(match inner.parse::<usize>() {
                Ok(i) => Step::Index(i),
                Err(_) if !inner.is_empty() => Step::Key(inner),
                Err(_) => return None,
            });
            rest = &r[end + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// The top-level column a path starts from.
pub fn root(path: &str) -> &str {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    &path[..end]
}

/// The text of `name` for every row of `batch`; None when the file has no such column or path.
pub fn column_text(batch: &RecordBatch, name: &str) -> Result<Option<ArrayRef>> {
    if let Some(c) = batch.column_by_name(name) {
        return leaf_text(c.clone(), None).map(Some);
    }
    let Some(steps) = steps(name) else { return Ok(None) };
    let Some(Step::Field(first)) = steps.first() else { return Ok(None) };
    let Some(mut cur) = batch.column_by_name(first).cloned() else { return Ok(None) };
    // Rows whose enclosing record is NULL (a child array keeps values there).
    let mut mask: Option<NullBuffer> = None;
    let last = steps.len() - 1;
    for (i, step) in steps.iter().enumerate().skip(1) {
        cur = match (step, cur.data_type()) {
            (Step::Field(f), DataType::Struct(_)) => {
                let s = cur.as_struct();
                mask = NullBuffer::union(mask.as_ref(), s.nulls());
                match s.column_by_name(f) {
                    Some(c) => c.clone(),
                    None => return Ok(None),
                }
            }
            (Step::Index(_) | Step::Key(_), DataType::List(_)) => {
                let r = pick(cur.as_list::<i32>(), step, mask.take())?;
                if matches!(step, Step::Key(_)) && i == last {
                    return first_member(r).map(Some);
                }
                r
            }
            (Step::Index(_) | Step::Key(_), DataType::LargeList(_)) => {
                let r = pick(cur.as_list::<i64>(), step, mask.take())?;
                if matches!(step, Step::Key(_)) && i == last {
                    return first_member(r).map(Some);
                }
                r
            }
            _ => return Ok(None),
        };
    }
    leaf_text(cur, mask).map(Some)
}

/// Per row, the element a step picks (by position, or the `value` of the record with `key`).
fn pick<O: OffsetSizeTrait>(list: &GenericListArray<O>, step: &Step<'_>, mask: Option<NullBuffer>) -> Result<ArrayRef> {
    let values = list.values();
    let offsets = list.value_offsets();
    let valid = |r: usize| list.is_valid(r) && mask.as_ref().is_none_or(|m| m.is_valid(r));
    let idx: UInt64Array = match step {
        Step::Index(k) => (0..list.len())
            .map(|r| {
                let (a, b) = (offsets[r].as_usize(), offsets[r + 1].as_usize());
                (valid(r) && *k < b - a).then(|| (a + k) as u64)
            })
            .collect(),
        Step::Key(key) => {
            let DataType::Struct(_) = values.data_type() else { return Ok(new_null_array(&DataType::Utf8, list.len())) };
            let rec = values.as_struct();
            let (Some(keys), Some(vals)) = (rec.column_by_name("key"), rec.column_by_name("value")) else {
                return Ok(new_null_array(&DataType::Utf8, list.len()));
            };
            let keys = arrow::compute::cast(keys, &DataType::Utf8)?;
            let keys = keys.as_string::<i32>();
            let idx: UInt64Array = (0..list.len())
                .map(|r| {
                    let (a, b) = (offsets[r].as_usize(), offsets[r + 1].as_usize());
                    if !valid(r) {
                        return None;
                    }
                    (a..b).find(|&e| rec.is_valid(e) && keys.is_valid(e) && keys.value(e) == *key).map(|e| e as u64)
                })
                .collect();
            return Ok(arrow::compute::take(vals.as_ref(), &idx, None)?);
        }
        Step::Field(_) => return Ok(new_null_array(&DataType::Utf8, list.len())),
    };
    Ok(arrow::compute::take(values.as_ref(), &idx, None)?)
}

/// A key/value record's value as text: a record's first non-null `*_value` member (GA4's
/// string_value, int_value, float_value, double_value; not user_properties' set_timestamp_micros),
/// or any member when none is so named; else the value itself.
fn first_member(v: ArrayRef) -> Result<ArrayRef> {
    let DataType::Struct(fields) = v.data_type() else { return leaf_text(v, None) };
    let s = v.as_struct();
    let typed = fields.iter().any(|f| f.name().ends_with("_value"));
    let texts: Vec<ArrayRef> = s
        .columns()
        .iter()
        .zip(fields.iter())
        .filter(|(_, f)| !typed || f.name().ends_with("_value"))
        .map(|(c, _)| leaf_text(c.clone(), None))
        .collect::<Result<_>>()?;
    let out: StringArray = (0..s.len())
        .map(|r| {
            if s.is_null(r) {
                return None;
            }
            texts.iter().find(|t| t.is_valid(r)).map(|t| t.as_string::<i32>().value(r).to_string())
        })
        .collect();
    Ok(Arc::new(out))
}

/// A column as text: scalars cast, records and lists as JSON; NULL where `mask` says so.
fn leaf_text(c: ArrayRef, mask: Option<NullBuffer>) -> Result<ArrayRef> {
    let text: ArrayRef = if c.data_type().is_nested() { json_text(&c)? } else { arrow::compute::cast(&c, &DataType::Utf8)? };
    match mask {
        Some(m) if m.null_count() > 0 => {
            let s = text.as_string::<i32>();
            let nulls = NullBuffer::union(s.nulls(), Some(&m));
            Ok(Arc::new(StringArray::new(s.offsets().clone(), s.values().clone(), nulls)))
        }
        _ => Ok(text),
    }
}

/// Each row's value as JSON text (NULL for NULL).
fn json_text(c: &ArrayRef) -> Result<ArrayRef> {
    let field = arrow::datatypes::Field::new("v", c.data_type().clone(), true);
    let batch = RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(vec![field])), vec![c.clone()])?;
    let mut buf = Vec::new();
    {
        let mut w = arrow::json::LineDelimitedWriter::new(&mut buf);
        w.write(&batch)?;
        w.finish()?;
    }
    let text = String::from_utf8_lossy(&buf);
    // Each line is {"v":<value>}, or {} for NULL.
    let out: StringArray = text.lines().map(|l| l.strip_prefix("{\"v\":").and_then(|l| l.strip_suffix('}'))).collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_into_steps() {
        assert_eq!(steps("a.b"), Some(vec![Step::Field("a"), Step::Field("b")]));
        assert_eq!(steps("items[0].item_id"), Some(vec![Step::Field("items"), Step::Index(0), Step::Field("item_id")]));
        assert_eq!(steps("event_params[ga_session_id]"), Some(vec![Step::Field("event_params"), Step::Key("ga_session_id")]));
        assert_eq!(steps("a[]"), None);
        assert_eq!(steps("a[1"), None);
        assert_eq!(steps("[1]"), None);
        assert_eq!(root("items[0].item_id"), "items");
        assert_eq!(root("geo.country"), "geo");
        assert_eq!(root("event_name"), "event_name");
    }
}
