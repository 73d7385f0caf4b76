//! The audiences job: for each `[[audiences]]` entry, the members of the run date
//! (`sql/marts/audience_members.sql`) with their fields as JSON, published together as
//! `audience_members`; and, for the audiences selected `attribution_days` ago, the campaign
//! measurement `audience_uplift` (`sql/marts/audience_uplift.sql`). Sending them to email
//! tools is `ecomwh export`.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use chrono::Duration;
use datafusion::common::ScalarValue;
use futures::StreamExt;

use crate::config::{AudienceConfig, AUDIENCE_SOURCES, CONTACT_FIELDS};
use crate::engine::{date_param, params, Params};
use crate::error::{Error, Result};
use crate::runtime::run_report::TableStats;
use crate::runtime::{Job, RunContext};
use crate::sqlfiles;

pub struct Audiences;

fn members_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("audience", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("email", DataType::Utf8, false),
        Field::new("holdout", DataType::Boolean, false),
        Field::new("attributes", DataType::Utf8, false),
    ]))
}

#[async_trait]
impl Job for Audiences {
    fn name(&self) -> &'static str {
        "audiences"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["staging", "daily_aggregates", "user_profiles", "rfm_segments", "churn_scores", "clv"]
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        rc.require("audiences", &[("staging", "customers")], "run staging first")?;
        let mut w = rc.writer("marts", "audience_members", members_schema())?;
        let mut total = 0u64;
        for a in &rc.cfg.audiences {
            rc.progress(&format!("audience {}", a.name));
            match write_members(rc, a, &mut w).await {
                Ok(n) => {
                    tracing::info!(audience = %a.name, members = n, "audience selected");
                    total += n;
                }
                Err(e) => {
                    w.abort().await;
                    return Err(e);
                }
            }
        }
        let published = w.commit().await?;
        rc.engine.register("marts", "audience_members").await?;
        let mut stats = vec![TableStats { table: "marts.audience_members".into(), rows_in: total, rows_out: published.rows, ..Default::default() }];

        let mut uplift = vec![];
        for a in &rc.cfg.audiences {
            if let Some(b) = uplift_of(rc, a).await? {
                uplift.push(b);
            }
        }
        let rows = rc.publish_batches("marts", "audience_uplift", uplift_schema(), &uplift).await?;
        stats.push(TableStats { table: "marts.audience_uplift".into(), rows_out: rows, ..Default::default() });
        Ok(stats)
    }
}

fn bad(a: &AudienceConfig, m: impl std::fmt::Display) -> Error {
    Error::Config(format!("[[audiences]] '{}': {m}", a.name))
}

/// The audience's `from` mart of the run date, with the other customer marts of the date
/// joined by customer_id (columns it already has are not repeated). Returns the SQL and the
/// columns it offers.
async fn base_sql(rc: &RunContext<'_>, a: &AudienceConfig) -> Result<(String, Vec<String>)> {
    let dt = rc.dt();
    let on_date = |t: &str| rc.engine.manifests.get("marts", t).is_some_and(|m| m.partitions.contains_key(&dt));
    if !on_date(&a.from) {
        return Err(Error::MissingDependency {
            table: format!("marts.{}", a.from),
            date: dt,
            hint: format!("audience '{}' selects from it: run its job for this date first", a.name),
        });
    }
    let mut tables = vec![a.from.as_str()];
    tables.extend(AUDIENCE_SOURCES.iter().copied().filter(|t| *t != a.from && on_date(t)));
    let mut columns: Vec<String> = vec![];
    let mut select = vec![];
    let mut from = String::new();
    for (i, t) in tables.iter().enumerate() {
        for n in rc.engine.columns("marts", t).await? {
            if columns.contains(&n) {
                continue;
            }
            select.push(format!("b{i}.\"{n}\""));
            columns.push(n);
        }
        let sub = format!("(SELECT * FROM marts.{t} WHERE dt = $run_date) b{i}");
        if i == 0 {
            from = sub;
        } else {
            from.push_str(&format!(" LEFT JOIN {sub} ON b{i}.customer_id = b0.customer_id"));
        }
    }
    Ok((format!("SELECT {} FROM {from}", select.join(", ")), columns))
}

async fn write_members(rc: &RunContext<'_>, a: &AudienceConfig, w: &mut crate::storage::publish::PartitionWriter) -> Result<u64> {
    let (base, columns) = base_sql(rc, a).await?;
    let mut fields = String::new();
    let mut names = String::new();
    for f in &a.fields {
        if CONTACT_FIELDS.contains(&f.as_str()) {
            // already selected from contacts
        } else if columns.contains(f) {
            fields.push_str(&format!(", s.\"{f}\""));
        } else {
            return Err(bad(
                a,
                format!("field '{f}' is neither a contact field ({}) nor a column of the marts: {}", CONTACT_FIELDS.join(", "), columns.join(", ")),
            ));
        }
        names.push_str(&format!(", \"{f}\""));
    }
    let suppressed = if rc.engine.has_table("staging", "suppressions") {
        "SELECT email FROM staging.suppressions WHERE dt <= $run_date AND email IS NOT NULL"
    } else {
        "SELECT CAST(NULL AS VARCHAR) AS email WHERE false"
    };
    use sqlfiles::Fill::Text;
    let sql = sqlfiles::render(
        "audience_members",
        &sqlfiles::sql("marts", "audience_members")?,
        &[("base", Text(&base)), ("suppressed", Text(suppressed)), ("field_names", Text(&names)), ("fields", Text(&fields)), ("predicate", Text(&a.predicate))],
    )?;
    let p = params([
        ("run_date", date_param(rc.date)),
        ("audience", ScalarValue::Utf8(Some(a.name.clone()))),
        ("holdout_bp", ScalarValue::Int64(Some(a.holdout_bp()))),
    ]);
    let df = rc.engine.query(&sql, &p).await.map_err(|e| bad(a, format!("where = \"{}\" does not work: {e}", a.predicate)))?;
    let mut stream = df.execute_stream().await?;
    let mut n = 0;
    while let Some(batch) = stream.next().await {
        let out = with_attributes(&batch?)?;
        n += out.num_rows() as u64;
        w.write(&out).await?;
    }
    Ok(n)
}

/// The first four columns as they are, the rest (the audience's fields) as one JSON object
/// per row; decimals become numbers, dates and times text.
pub fn with_attributes(batch: &RecordBatch) -> Result<RecordBatch> {
    let fixed: Vec<ArrayRef> =
        (0..4).map(|i| arrow::compute::cast(batch.column(i), members_schema().field(i).data_type())).collect::<std::result::Result<_, _>>()?;
    let schema = batch.schema();
    let mut rows: Vec<serde_json::Map<String, serde_json::Value>> = vec![serde_json::Map::new(); batch.num_rows()];
    for i in 4..batch.num_columns() {
        let name = schema.field(i).name();
        let col = match batch.column(i).data_type() {
            DataType::Decimal128(..) | DataType::Decimal256(..) => arrow::compute::cast(batch.column(i), &DataType::Float64)?,
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) => arrow::compute::cast(batch.column(i), &DataType::Utf8)?,
            _ => batch.column(i).clone(),
        };
        for (r, row) in rows.iter_mut().enumerate() {
            row.insert(name.clone(), crate::output::json_value(&col, r)?);
        }
    }
    let attrs: StringArray = rows.into_iter().map(|m| Some(serde_json::Value::Object(m).to_string())).collect();
    let mut cols = fixed;
    cols.push(Arc::new(attrs));
    Ok(RecordBatch::try_new(members_schema(), cols)?)
}

async fn uplift_of(rc: &RunContext<'_>, a: &AudienceConfig) -> Result<Option<RecordBatch>> {
    let cohort = rc.date - Duration::days(a.attribution_days as i64);
    let key = cohort.format("%Y-%m-%d").to_string();
    let has = rc.engine.manifests.get("marts", "audience_members").is_some_and(|m| m.partitions.contains_key(&key));
    if !has || !rc.engine.has_table("marts", "customer_orders_day") {
        return Ok(None);
    }
    let df = rc.engine.query(&sqlfiles::sql("marts", "audience_uplift")?, &uplift_params(rc, a)).await?;
    let schema = uplift_schema();
    for b in df.collect().await? {
        if b.num_rows() > 0 {
            let cols = (0..schema.fields().len())
                .map(|i| arrow::compute::cast(b.column(i), schema.field(i).data_type()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            return Ok(Some(RecordBatch::try_new(schema, cols)?));
        }
    }
    Ok(None)
}

fn uplift_params(rc: &RunContext<'_>, a: &AudienceConfig) -> Params {
    let cohort = rc.date - Duration::days(a.attribution_days as i64);
    params([
        ("run_date", date_param(rc.date)),
        ("cohort_date", date_param(cohort)),
        ("audience", ScalarValue::Utf8(Some(a.name.clone()))),
        ("attribution_days", ScalarValue::Int64(Some(a.attribution_days as i64))),
    ])
}

/// Columns of audience_uplift (the SQL's result is cast to them, so an empty partition has
/// them too).
fn uplift_schema() -> SchemaRef {
    let mut f = vec![
        Field::new("audience", DataType::Utf8, false),
        Field::new("cohort_dt", DataType::Date32, false),
        Field::new("attribution_days", DataType::Int64, false),
        Field::new("exported_members", DataType::Int64, false),
        Field::new("holdout_members", DataType::Int64, false),
    ];
    for n in [
        "exported_conversion_rate",
        "holdout_conversion_rate",
        "conversion_diff",
        "conversion_diff_lo95",
        "conversion_diff_hi95",
        "exported_revenue_per_member",
        "holdout_revenue_per_member",
        "revenue_diff",
        "revenue_diff_lo95",
        "revenue_diff_hi95",
    ] {
        f.push(Field::new(n, DataType::Float64, true));
    }
    Arc::new(Schema::new(f))
}
