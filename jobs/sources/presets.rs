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
    /// Headerless files (TSV): every column, in the files' order.
    pub header: &'static [&'static str],
    /// JSON lines: the key of an API response's envelope (`{"order": {...}}`), read through.
    pub envelope: Option<&'static str>,
    /// Nights a date's files are read again unless the source says otherwise.
    pub settle_days: u32,
}

/// Every preset: add one line here and its SQL files to add a preset.
const PRESETS: &[&Preset] =
    &[&ECOMWH, &SHOPIFY_CSV, &SHOPIFY_JSON, &WOOCOMMERCE_JSON, &SEGMENT, &RUDDERSTACK, &GA4, &SNOWPLOW, &ECB, &JUDGEME_CSV, &WOOCOMMERCE_REVIEWS, &SQL];

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
    header: &[],
    envelope: None,
    settle_days: 0,
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
    header: &[],
    envelope: None,
    settle_days: 0,
};

/// Shopify's Admin API Order objects as JSON lines: the REST API's `{"order": {...}}` or the
/// orders/create and orders/updated webhooks' bare object, as an integration stores them.
pub const SHOPIFY_JSON: Preset = Preset {
    name: "shopify_json",
    format: Some(RawFormat::Jsonl),
    columns: &[
        "id",
        "email",
        "created_at",
        "updated_at",
        "cancelled_at",
        "financial_status",
        "fulfillment_status",
        "currency",
        "total_price",
        "total_discounts",
        "total_shipping_price_set.shop_money.amount",
        "shipping_lines",
        "source_name",
        "buyer_accepts_marketing",
        "shipping_address.country_code",
        "billing_address.country_code",
        "customer.id",
        "customer.email",
        "customer.first_name",
        "customer.last_name",
        "customer.created_at",
        "customer.updated_at",
        "customer.email_marketing_consent.state",
        "customer.accepts_marketing",
        "customer.default_address.country_code",
        "line_items",
        "refunds",
    ],
    default_path: "{date}/*",
    tables: &["customers", "products", "orders", "order_items"],
    errors_to: "orders",
    documented_at: "https://shopify.dev/docs/api/admin-rest/latest/resources/order",
    sql_dir: "shopify_json",
    header: &[],
    envelope: Some("order"),
    settle_days: 0,
};

/// WooCommerce's REST API v3 order objects (`/wp-json/wc/v3/orders`) as JSON lines.
pub const WOOCOMMERCE_JSON: Preset = Preset {
    name: "woocommerce_json",
    format: Some(RawFormat::Jsonl),
    columns: &[
        "id",
        "status",
        "currency",
        "date_created_gmt",
        "date_modified_gmt",
        "discount_total",
        "shipping_total",
        "total",
        "customer_id",
        "created_via",
        "billing.first_name",
        "billing.last_name",
        "billing.email",
        "billing.country",
        "shipping.country",
        "line_items",
        "refunds",
    ],
    default_path: "{date}/*",
    tables: &["customers", "products", "orders", "order_items"],
    errors_to: "orders",
    documented_at: "https://woocommerce.github.io/woocommerce-rest-api-docs/#orders",
    sql_dir: "woocommerce_json",
    header: &[],
    envelope: None,
    settle_days: 0,
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
    header: &[],
    envelope: None,
    settle_days: 0,
};

/// RudderStack's S3 destination: the same Spec calls, under `<upload date>/`, with the SDKs'
/// `context.sessionId`.
pub const RUDDERSTACK: Preset = Preset {
    name: "rudderstack",
    default_path: "{date}/*",
    documented_at: "https://www.rudderstack.com/docs/destinations/streaming-destinations/amazon-s3/",
    ..SEGMENT
};

/// GA4's BigQuery export (the `events_YYYYMMDD` tables) exported as Parquet, nested records
/// kept: one folder per day as `EXPORT DATA ... uri = '.../events_YYYYMMDD/*.parquet'` writes
/// it. GA4 keeps changing a day for up to 3 days: each night reads the 3 days before again.
pub const GA4: Preset = Preset {
    name: "ga4",
    format: Some(RawFormat::Parquet),
    columns: &[
        "event_timestamp",
        "event_name",
        "user_id",
        "user_pseudo_id",
        "batch_event_index",
        "batch_page_id",
        "batch_ordering_id",
        "event_bundle_sequence_id",
        "stream_id",
        "event_params[ga_session_id]",
        "event_params[page_location]",
        "event_params[page_referrer]",
        "event_params[search_term]",
        "event_params[value]",
        "event_params[currency]",
        "items[0].item_id",
        "items",
        "ecommerce.transaction_id",
        "device.category",
        "device.operating_system",
        "geo.country",
    ],
    default_path: "events_{yyyy}{mm}{dd}/*",
    tables: &["events"],
    errors_to: "events",
    documented_at: "https://support.google.com/analytics/answer/7029846",
    sql_dir: "ga4",
    header: &[],
    envelope: None,
    settle_days: 3,
};

/// Snowplow's enriched events as the S3 loader writes them: gzipped TSV lines in the canonical
/// column order, no header, files named `<yyyy-MM-dd-HHmmss>-<uuid>.gz` in one folder.
pub const SNOWPLOW: Preset = Preset {
    name: "snowplow",
    format: Some(RawFormat::Tsv),
    columns: &[
        "collector_tstamp",
        "event",
        "event_id",
        "user_id",
        "domain_userid",
        "domain_sessionidx",
        "network_userid",
        "geo_country",
        "page_url",
        "page_referrer",
        "contexts",
        "unstruct_event",
        "useragent",
        "dvce_ismobile",
        "os_family",
        "derived_contexts",
        "domain_sessionid",
        "derived_tstamp",
        "event_name",
    ],
    default_path: "{date}-*",
    tables: &["events"],
    errors_to: "events",
    documented_at: "https://docs.snowplow.io/docs/fundamentals/canonical-event/",
    sql_dir: "snowplow",
    header: SNOWPLOW_COLUMNS,
    envelope: None,
    // The loader names files by when it writes them: the last minutes of a day are in the next
    // day's first files.
    settle_days: 1,
};

/// The enriched TSV's 131 columns, in order (the analytics SDKs' and Enrich's order).
const SNOWPLOW_COLUMNS: &[&str] = &[
    "app_id",
    "platform",
    "etl_tstamp",
    "collector_tstamp",
    "dvce_created_tstamp",
    "event",
    "event_id",
    "txn_id",
    "name_tracker",
    "v_tracker",
    "v_collector",
    "v_etl",
    "user_id",
    "user_ipaddress",
    "user_fingerprint",
    "domain_userid",
    "domain_sessionidx",
    "network_userid",
    "geo_country",
    "geo_region",
    "geo_city",
    "geo_zipcode",
    "geo_latitude",
    "geo_longitude",
    "geo_region_name",
    "ip_isp",
    "ip_organization",
    "ip_domain",
    "ip_netspeed",
    "page_url",
    "page_title",
    "page_referrer",
    "page_urlscheme",
    "page_urlhost",
    "page_urlport",
    "page_urlpath",
    "page_urlquery",
    "page_urlfragment",
    "refr_urlscheme",
    "refr_urlhost",
    "refr_urlport",
    "refr_urlpath",
    "refr_urlquery",
    "refr_urlfragment",
    "refr_medium",
    "refr_source",
    "refr_term",
    "mkt_medium",
    "mkt_source",
    "mkt_term",
    "mkt_content",
    "mkt_campaign",
    "contexts",
    "se_category",
    "se_action",
    "se_label",
    "se_property",
    "se_value",
    "unstruct_event",
    "tr_orderid",
    "tr_affiliation",
    "tr_total",
    "tr_tax",
    "tr_shipping",
    "tr_city",
    "tr_state",
    "tr_country",
    "ti_orderid",
    "ti_sku",
    "ti_name",
    "ti_category",
    "ti_price",
    "ti_quantity",
    "pp_xoffset_min",
    "pp_xoffset_max",
    "pp_yoffset_min",
    "pp_yoffset_max",
    "useragent",
    "br_name",
    "br_family",
    "br_version",
    "br_type",
    "br_renderengine",
    "br_lang",
    "br_features_pdf",
    "br_features_flash",
    "br_features_java",
    "br_features_director",
    "br_features_quicktime",
    "br_features_realplayer",
    "br_features_windowsmedia",
    "br_features_gears",
    "br_features_silverlight",
    "br_cookies",
    "br_colordepth",
    "br_viewwidth",
    "br_viewheight",
    "os_name",
    "os_family",
    "os_manufacturer",
    "os_timezone",
    "dvce_type",
    "dvce_ismobile",
    "dvce_screenwidth",
    "dvce_screenheight",
    "doc_charset",
    "doc_width",
    "doc_height",
    "tr_currency",
    "tr_total_base",
    "tr_tax_base",
    "tr_shipping_base",
    "ti_currency",
    "ti_price_base",
    "base_currency",
    "geo_timezone",
    "mkt_clickid",
    "mkt_network",
    "etl_tags",
    "dvce_sent_tstamp",
    "refr_domain_userid",
    "refr_dvce_tstamp",
    "derived_contexts",
    "domain_sessionid",
    "derived_tstamp",
    "event_vendor",
    "event_name",
    "event_format",
    "event_version",
    "event_fingerprint",
    "true_tstamp",
];

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
    header: &[],
    envelope: None,
    settle_days: 0,
};

/// Judge.me's reviews CSV (the dashboard's export; an import file, with fewer of the same
/// columns, reads too): a row per review, matched by header name. The file has no review id:
/// the mapping derives one.
pub const JUDGEME_CSV: Preset = Preset {
    name: "judgeme_csv",
    format: Some(RawFormat::Csv),
    columns: &[
        "title",
        "body",
        "rating",
        "review_date",
        "source",
        "curated",
        "reviewer_name",
        "reviewer_email",
        "product_id",
        "product_handle",
        "reply",
        "reply_date",
        "picture_urls",
        "ip_address",
        "location",
        "metaobject_handle",
    ],
    default_path: "{date}/*.csv",
    tables: &["reviews"],
    errors_to: "reviews",
    documented_at: "https://judge.me/help/en/",
    sql_dir: "judgeme_csv",
    header: &[],
    envelope: None,
    settle_days: 0,
};

/// WooCommerce's REST API v3 product reviews (`/wp-json/wc/v3/products/reviews`) as JSON lines,
/// one review object per line, as an integration stores the API's pages.
pub const WOOCOMMERCE_REVIEWS: Preset = Preset {
    name: "woocommerce_reviews",
    format: Some(RawFormat::Jsonl),
    columns: &["id", "date_created_gmt", "product_id", "status", "reviewer_email", "review", "rating"],
    default_path: "{date}/*",
    tables: &["reviews"],
    errors_to: "reviews",
    documented_at: "https://woocommerce.github.io/woocommerce-rest-api-docs/#product-reviews",
    sql_dir: "woocommerce_reviews",
    header: &[],
    envelope: None,
    settle_days: 0,
};

/// The user's own SQL over a feed of any layout: `table`, `format`, `sql` (and `columns`).
pub const SQL: Preset = Preset {
    name: "sql",
    format: None,
    columns: &[],
    default_path: "{date}/*",
    tables: &[],
    errors_to: "",
    documented_at: "docs/sources.md",
    sql_dir: "",
    header: &[],
    envelope: None,
    settle_days: 0,
};
