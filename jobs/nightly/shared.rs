//! What several nightly jobs compute the same way (not a job: jobs never import each other).

use chrono::{Duration, NaiveDate};

use crate::engine::{date_param, params};
use crate::error::Result;
use crate::runtime::RunContext;
use crate::sqlfiles;

/// Materialise the current row of every customer-day from `from_day` to the run date as
/// `landing.current_orders_day` (for jobs that read it several times), of the customers that
/// `scope` selects (a filter on customer_id such as [`crate::runtime::incremental::SCOPE_FILTER`], a job's
/// incremental scope), else of everyone; returns the scratch folder to clean up.
pub async fn current_orders_day(rc: &RunContext<'_>, from_day: NaiveDate, scope: Option<&str>) -> Result<String> {
    let p = params([
        ("run_date", date_param(rc.date)),
        ("from_day", date_param(from_day)),
        // Rows of day X are written on dt >= X - 1.
        ("from_dt", date_param(from_day - Duration::days(1))),
    ]);
    let sql =
        sqlfiles::render("_current_orders_day", &sqlfiles::sql("marts", "_current_orders_day")?, &[("scope", sqlfiles::Fill::Text(scope.unwrap_or("true")))])?;
    let (rows, dir) = rc.scratch_query("current_orders_day", &sql, &p).await?;
    tracing::info!(rows, "current customer-days");
    Ok(dir)
}
