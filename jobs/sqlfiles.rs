//! The SQL of `sql/`, compiled into the binary: one file per table a job builds.

use crate::error::{Error, Result};

const FILES: &[(&str, &str)] = &[
    ("staging/customers", include_str!("../sql/staging/customers.sql")),
    ("staging/products", include_str!("../sql/staging/products.sql")),
    ("staging/orders", include_str!("../sql/staging/orders.sql")),
    ("staging/order_items", include_str!("../sql/staging/order_items.sql")),
    ("staging/events", include_str!("../sql/staging/events.sql")),
    ("staging/suppressions", include_str!("../sql/staging/suppressions.sql")),
    ("staging/identifies", include_str!("../sql/staging/identifies.sql")),
    ("marts/_touched_customer_days", include_str!("../sql/marts/_touched_customer_days.sql")),
    ("marts/_restated_order_lines", include_str!("../sql/marts/_restated_order_lines.sql")),
    ("marts/customer_orders_day", include_str!("../sql/marts/customer_orders_day.sql")),
    ("marts/customer_product_day", include_str!("../sql/marts/customer_product_day.sql")),
    ("marts/product_day", include_str!("../sql/marts/product_day.sql")),
    ("marts/customer_order_totals", include_str!("../sql/marts/customer_order_totals.sql")),
    ("marts/customer_events_day", include_str!("../sql/marts/customer_events_day.sql")),
    ("marts/_current_orders_day", include_str!("../sql/marts/_current_orders_day.sql")),
    ("marts/_preference_spend", include_str!("../sql/marts/_preference_spend.sql")),
    ("marts/_profile_scope", include_str!("../sql/marts/_profile_scope.sql")),
    ("marts/_rfm_scope", include_str!("../sql/marts/_rfm_scope.sql")),
    ("marts/_rfm_window", include_str!("../sql/marts/_rfm_window.sql")),
    ("marts/user_profiles", include_str!("../sql/marts/user_profiles.sql")),
    ("marts/rfm_segments", include_str!("../sql/marts/rfm_segments.sql")),
    ("marts/rfm_segment_summary", include_str!("../sql/marts/rfm_segment_summary.sql")),
    ("marts/association_rules", include_str!("../sql/marts/association_rules.sql")),
    ("marts/sales_forecast", include_str!("../sql/marts/sales_forecast.sql")),
    ("marts/_sales_series", include_str!("../sql/marts/_sales_series.sql")),
    ("marts/_recommendation_interactions", include_str!("../sql/marts/_recommendation_interactions.sql")),
    ("marts/_recommendation_scope", include_str!("../sql/marts/_recommendation_scope.sql")),
    ("marts/_churn_history", include_str!("../sql/marts/_churn_history.sql")),
    ("marts/_churn_features", include_str!("../sql/marts/_churn_features.sql")),
    ("marts/audience_members", include_str!("../sql/marts/audience_members.sql")),
    ("marts/audience_uplift", include_str!("../sql/marts/audience_uplift.sql")),
    ("sources/shopify_csv/customers", include_str!("../sql/sources/shopify_csv/customers.sql")),
    ("sources/shopify_csv/products", include_str!("../sql/sources/shopify_csv/products.sql")),
    ("sources/shopify_csv/orders", include_str!("../sql/sources/shopify_csv/orders.sql")),
    ("sources/shopify_csv/order_items", include_str!("../sql/sources/shopify_csv/order_items.sql")),
    ("generate/shopify_csv", include_str!("../sql/generate/shopify_csv.sql")),
    ("generate/_user", include_str!("../sql/generate/_user.sql")),
    ("generate/segment", include_str!("../sql/generate/segment.sql")),
    ("generate/segment_identifies", include_str!("../sql/generate/segment_identifies.sql")),
    ("generate/segment_suppressions", include_str!("../sql/generate/segment_suppressions.sql")),
    ("sources/segment/_calls", include_str!("../sql/sources/segment/_calls.sql")),
    ("sources/segment/events", include_str!("../sql/sources/segment/events.sql")),
    ("sources/segment/suppressions", include_str!("../sql/sources/segment/suppressions.sql")),
    ("sources/segment/identifies", include_str!("../sql/sources/segment/identifies.sql")),
];

/// The SQL that builds `<layer>.<table>`, without its comment header.
/// `<layer>/<dir>/<name>` with each `{{part}}` replaced by `<layer>/<dir>/_part` (placeholders
/// without such a file are left for the caller).
pub fn with_parts(layer: &str, dir: &str, name: &str) -> Result<String> {
    let at = |n: &str| if dir.is_empty() { n.to_string() } else { format!("{dir}/{n}") };
    let mut sql = self::sql(layer, &at(name))?;
    let mut from = 0;
    while let Some(start) = sql[from..].find("{{").map(|i| from + i) {
        let Some(len) = sql[start..].find("}}") else { break };
        match self::sql(layer, &at(&format!("_{}", &sql[start + 2..start + len]))) {
            Ok(part) => sql.replace_range(start..start + len + 2, &part),
            Err(_) => from = start + len,
        }
    }
    Ok(sql)
}

pub fn sql(layer: &str, table: &str) -> Result<String> {
    let key = format!("{layer}/{table}");
    FILES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, text)| text.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .ok_or_else(|| Error::Config(format!("no SQL file sql/{key}.sql")))
}
