//! The SQL of `sql/`, compiled into the binary: one file per table a job builds.

use crate::error::{Error, Result};

const FILES: &[(&str, &str)] = &[
    ("staging/customers", include_str!("../sql/staging/customers.sql")),
    ("staging/products", include_str!("../sql/staging/products.sql")),
    ("staging/orders", include_str!("../sql/staging/orders.sql")),
    ("staging/order_items", include_str!("../sql/staging/order_items.sql")),
    ("staging/events", include_str!("../sql/staging/events.sql")),
    ("staging/suppressions", include_str!("../sql/staging/suppressions.sql")),
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
];

/// The SQL that builds `<layer>.<table>`, without its comment header.
pub fn sql(layer: &str, table: &str) -> Result<String> {
    let key = format!("{layer}/{table}");
    FILES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, text)| text.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .ok_or_else(|| Error::Config(format!("no SQL file sql/{key}.sql")))
}
