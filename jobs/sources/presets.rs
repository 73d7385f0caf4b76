//! The presets: how a feed's files are read. Each preset but `ecomwh` and `sql` maps its feed
//! with one SQL file per raw table it fills, `sql/sources/<preset>/<table>.sql`, over the
//! landed feed `feed` (the columns below as text, plus `_raw`, `_error`, `_file`, `_line`,
//! `_seq`). A mapping returns the raw contract's columns it knows (the others are NULL), the
//! row's `_raw`, `_error`, `_file`, `_line`, `_seq`, and optionally `_ignored`: a name for
//! rows left out on purpose (counted, not quarantined). A feed line that cannot be parsed
//! (`_error`) goes to the quarantine of the preset's `errors_to` table.

use crate::storage::raw::RawFormat;

#[derive(Debug)]
pub struct Preset {
    pub name: &'static str,
    /// The files' format; None: by each file's ending.
    pub format: Option<RawFormat>,
    /// The columns the reader extracts (CSV header names, JSON keys or dotted paths).
    pub columns: &'static [&'static str],
    /// Path template under the location.
    pub default_path: &'static str,
    /// The raw tables it fills, in staging order.
    pub tables: &'static [&'static str],
    /// The raw table whose quarantine takes the feed's unparseable lines.
    pub errors_to: &'static str,
    /// Where the feed's format is documented.
    pub documented_at: &'static str,
    /// The folder of its SQL under `sql/sources/` (presets of one format share it).
    pub sql_dir: &'static str,
}

/// Every preset: add one line here and its SQL files to add a preset.
const PRESETS: &[&Preset] = &[&ECOMWH, &SHOPIFY_CSV, &SEGMENT, &RUDDERSTACK, &ECB, &SQL];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().copied().find(|p| p.name == name)
}

pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// ecomwh's own layout: `raw/<table>/dt=D/` in the raw contract's columns.
pub const ECOMWH: Preset = Preset {
    name: "ecomwh",
    format: None,
    columns: &[],
    default_path: "{table}/dt={date}/*",
    tables: crate::schemas::RAW_TABLES,
    errors_to: "",
    documented_at: "docs/contract.md",
    sql_dir: "",
};

/// Shopify admin's "Export orders" CSV: a row per line item, the order's fields on its first
/// row only; matched by header name, as the export's columns changed over the years.
pub const SHOPIFY_CSV: Preset = Preset {
    name: "shopify_csv",
    format: Some(RawFormat::Csv),
    columns: &[
        "Name",
        "Email",
        "Financial Status",
        "Paid at",
        "Fulfillment Status",
        "Fulfilled at",
        "Accepts Marketing",
        "Currency",
        "Subtotal",
        "Shipping",
        "Taxes",
        "Total",
        "Discount Amount",
        "Created at",
        "Lineitem quantity",
        "Lineitem name",
        "Lineitem price",
        "Lineitem sku",
        "Lineitem discount",
        "Billing Name",
        "Billing Country",
        "Shipping Country",
        "Cancelled at",
        "Refunded Amount",
        "Vendor",
        "Id",
        "Source",
        "Phone",
    ],
    default_path: "{date}/*.csv",
    tables: &["customers", "products", "orders", "order_items"],
    errors_to: "orders",
    documented_at: "https://help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders",
    sql_dir: "shopify_csv",
};

/// The keys the Segment / RudderStack mappings read (the Spec's, and the email spec's older ones).
const SPEC_CALL_KEYS: &[&str] = &[
    "type",
    "action",
    "event",
    "messageId",
    "userId",
    "user_id",
    "anonymousId",
    "timestamp",
    "originalTimestamp",
    "receivedAt",
    "properties",
    "properties.sku",
    "properties.product_id",
    "properties.query",
    "properties.url",
    "properties.link_url",
    "properties.referrer",
    "context.page.url",
    "context.page.referrer",
    "context.userAgent",
    "context.user_agent",
    "context.device.type",
    "context.os.name",
    "context.location.country",
    "context.sessionId",
    "context.traits.email",
];

/// Segment's S3 destination: gzipped JSON lines of Spec calls under `<received day in epoch ms>/`.
pub const SEGMENT: Preset = Preset {
    name: "segment",
    format: Some(RawFormat::Jsonl),
    columns: SPEC_CALL_KEYS,
    default_path: "{epoch_ms}/*",
    tables: &["events", "suppressions", "identifies"],
    errors_to: "events",
    documented_at: "https://segment.com/docs/connections/storage/catalog/aws-s3/",
    sql_dir: "segment",
};

/// RudderStack's S3 destination: the same Spec calls, under `<upload date>/`, with the SDKs'
/// `context.sessionId`.
pub const RUDDERSTACK: Preset = Preset {
    name: "rudderstack",
    default_path: "{date}/*",
    documented_at: "https://www.rudderstack.com/docs/destinations/streaming-destinations/amazon-s3/",
    ..SEGMENT
};

/// The European Central Bank's reference rates as CSV (the daily and the historical file): a
/// column per currency, matched by header name (the historical file keeps retired currencies).
pub const ECB: Preset = Preset {
    name: "ecb",
    format: Some(RawFormat::Csv),
    columns: &[
        "Date", "USD", "JPY", "BGN", "CYP", "CZK", "DKK", "EEK", "GBP", "HUF", "LTL", "LVL", "MTL", "PLN", "ROL", "RON", "SEK", "SIT", "SKK", "CHF", "ISK",
        "NOK", "HRK", "RUB", "TRL", "TRY", "AUD", "BRL", "CAD", "CNY", "HKD", "IDR", "ILS", "INR", "KRW", "MXN", "MYR", "NZD", "PHP", "SGD", "THB", "ZAR",
    ],
    default_path: "{date}/*.csv",
    tables: &["fx_rates"],
    errors_to: "fx_rates",
    documented_at: "https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html",
    sql_dir: "ecb",
};

/// The user's own SQL over a feed of any layout: `table`, `format`, `sql` (and `columns`).
pub const SQL: Preset =
    Preset { name: "sql", format: None, columns: &[], default_path: "{date}/*", tables: &[], errors_to: "", documented_at: "docs/sources.md", sql_dir: "" };
