//! What every destination kind shares: its settings, the contacts it receives, the results it
//! reports and the [`Destination`] trait each kind implements.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::sender::{HttpRequest, SendError, Sender};
use crate::error::{Error, Result};
use crate::storage::warehouse::Warehouse;

/// How a sync treats the destination's contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Add new members and update changed ones; never remove.
    #[default]
    Upsert,
    /// Upsert, and remove the contacts this sync added that have left the audience.
    Mirror,
    /// Only add new members.
    AddOnly,
}

impl Mode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Mode::Upsert => "upsert",
            Mode::Mirror => "mirror",
            Mode::AddOnly => "add_only",
        }
    }
}

/// `[destinations.<name>]`: the settings every kind shares; the kind's own settings are
/// checked by its file (unknown keys refused there).
#[derive(Debug, Clone, Deserialize)]
pub struct DestinationConfig {
    #[serde(skip)]
    pub name: String,
    /// mailchimp, klaviyo, sendgrid, file or webhook
    pub kind: String,
    #[serde(default)]
    pub mode: Mode,
    /// Mirror refuses to remove more than this percent of the synced audience unless forced.
    #[serde(default = "default_max_remove_pct")]
    pub max_remove_pct: f64,
    /// Requests in flight at once (default and maximum set by the kind).
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Contacts per request (default and maximum set by the kind).
    #[serde(default)]
    pub batch_size: Option<usize>,
    /// Attempts per request on 408, 429, 5xx and timeouts.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// First backoff step; it doubles per attempt, with full jitter, up to 30 s.
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: u64,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// How often asynchronous import jobs are polled.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// How long an import job may take before the batch counts as not confirmed.
    #[serde(default = "default_job_timeout_secs")]
    pub job_timeout_secs: u64,
    #[serde(flatten)]
    pub settings: toml::Table,
}

fn default_max_remove_pct() -> f64 {
    20.0
}
fn default_max_attempts() -> u32 {
    6
}
fn default_retry_base_ms() -> u64 {
    500
}
fn default_timeout_secs() -> u64 {
    60
}
fn default_poll_interval_ms() -> u64 {
    1000
}
fn default_job_timeout_secs() -> u64 {
    1800
}

/// Whether a destination is being built to check the config or to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Check,
    Send,
}

pub type BuildFn = fn(&DestinationConfig, Purpose) -> Result<Box<dyn Destination>>;

impl DestinationConfig {
    /// The kind's own settings (unknown keys refused by `T`).
    pub fn settings<T: DeserializeOwned>(&self) -> Result<T> {
        toml::Value::Table(self.settings.clone()).try_into().map_err(|e| Error::Config(format!("[destinations.{}] {e}", self.name)))
    }

    /// A secret from the environment variable the config names; never logged.
    pub fn secret(&self, env_name: &str, purpose: Purpose) -> Result<String> {
        if purpose == Purpose::Check {
            return Ok(String::new());
        }
        match std::env::var(env_name) {
            Ok(v) if !v.is_empty() => Ok(v),
            _ => Err(Error::Config(format!("[destinations.{}] the environment variable {env_name} (its API key) is not set", self.name))),
        }
    }

    /// Batch size and concurrency: the user's setting, bounded by the vendor's limit.
    pub fn limits(&self, batch_max: usize, batch_default: usize, conc_max: usize, conc_default: usize) -> Result<(usize, usize)> {
        let batch = self.batch_size.unwrap_or(batch_default);
        let conc = self.concurrency.unwrap_or(conc_default);
        if batch == 0 || batch > batch_max {
            return Err(Error::Config(format!("[destinations.{}] batch_size = {batch} must be 1..{batch_max} for {}", self.name, self.kind)));
        }
        if conc == 0 || conc > conc_max {
            return Err(Error::Config(format!("[destinations.{}] concurrency = {conc} must be 1..{conc_max} for {}", self.name, self.kind)));
        }
        Ok((batch, conc))
    }

    pub fn retry_policy(&self) -> super::sender::RetryPolicy {
        super::sender::RetryPolicy {
            max_attempts: self.max_attempts,
            base: std::time::Duration::from_millis(self.retry_base_ms),
            max_delay: std::time::Duration::from_secs(30),
            timeout: std::time::Duration::from_secs(self.timeout_secs.max(1)),
        }
    }
}

/// One member to send: its fields as the JSON object of audience_members.attributes.
#[derive(Debug, Clone)]
pub struct Contact {
    pub customer_id: String,
    pub email: String,
    pub attributes: String,
    pub hash: String,
}

impl Contact {
    pub fn new(customer_id: String, email: String, attributes: String) -> Contact {
        let hash = fingerprint(&[&email, &attributes]);
        Contact { customer_id, email, attributes, hash }
    }

    /// (first_name, last_name, the other fields)
    pub fn fields(&self) -> (Option<String>, Option<String>, Map<String, Value>) {
        let mut map: Map<String, Value> = serde_json::from_str(&self.attributes).unwrap_or_default();
        let mut take = |k: &str| match map.remove(k) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let (first, last) = (take("first_name"), take("last_name"));
        (first, last, map)
    }
}

/// A contact to remove, as the state knows it.
#[derive(Debug, Clone)]
pub struct Removal {
    pub customer_id: String,
    pub email: String,
    pub remote_id: Option<String>,
}

/// A contact the destination confirmed.
#[derive(Debug, Clone)]
pub struct Confirmed {
    pub email: String,
    pub remote_id: Option<String>,
    /// The destination created it (rather than updating a contact it already had).
    pub created: bool,
}

/// A contact the destination did not take.
#[derive(Debug, Clone)]
pub struct RowFailure {
    pub email: String,
    pub code: String,
    pub message: String,
    /// False when a later run may succeed (the request gave up on 429/5xx/timeouts).
    pub permanent: bool,
}

#[derive(Debug, Default)]
pub struct BatchResult {
    pub confirmed: Vec<Confirmed>,
    pub failed: Vec<RowFailure>,
}

impl BatchResult {
    /// Everyone in the batch confirmed, except the listed failures.
    pub fn all_but<'a>(emails: impl Iterator<Item = &'a str>, failed: Vec<RowFailure>, created: bool) -> BatchResult {
        let bad: std::collections::HashSet<&str> = failed.iter().map(|f| f.email.as_str()).collect();
        let confirmed = emails.filter(|e| !bad.contains(e)).map(|e| Confirmed { email: e.to_string(), remote_id: None, created }).collect();
        BatchResult { confirmed, failed }
    }
}

/// Requests per batch and in flight; `max_bytes` splits batches whose body is too large.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub batch: usize,
    pub max_bytes: usize,
    pub remove_batch: usize,
    pub concurrency: usize,
}

/// What a destination knows about the sync it is part of.
pub struct SyncCtx {
    pub audience: String,
    pub destination: String,
    pub dt: String,
    pub sync_id: String,
    pub wh: Warehouse,
    pub cfg: DestinationConfig,
}

#[async_trait]
pub trait Destination: Send + Sync {
    fn limits(&self) -> Limits;
    /// Values to mask in every message (API keys, signing secrets).
    fn secrets(&self) -> Vec<String>;
    /// The request that carries a batch of upserts (also what a dry run shows).
    fn upsert_request(&self, cx: &SyncCtx, batch: &[Contact]) -> HttpRequest;
    /// Send a batch and report, per contact, what the destination confirmed.
    async fn upsert(&self, cx: &SyncCtx, s: &Sender, batch: &[Contact]) -> Result<BatchResult, SendError>;
    /// The first request of a removal batch (for a dry run).
    fn remove_request(&self, cx: &SyncCtx, batch: &[Removal]) -> HttpRequest;
    async fn remove(&self, cx: &SyncCtx, s: &Sender, batch: &[Removal]) -> Result<BatchResult, SendError>;
    /// Destinations that write the whole audience at once (files) do it here instead.
    async fn write_all(&self, _cx: &SyncCtx, _contacts: &[Contact]) -> Option<Result<u64>> {
        None
    }
}

/// How an asynchronous import job (Klaviyo, SendGrid) is waited for.
#[derive(Debug, Clone, Copy)]
pub struct JobPolling {
    pub every: std::time::Duration,
    pub timeout: std::time::Duration,
}

impl DestinationConfig {
    pub fn job_polling(&self) -> JobPolling {
        JobPolling { every: std::time::Duration::from_millis(self.poll_interval_ms), timeout: std::time::Duration::from_secs(self.job_timeout_secs) }
    }
}

impl JobPolling {
    /// GET the job until its status (at the JSON pointer `status`) reads `done` (its last
    /// answer is returned); one of `failed` rejects the batch; running past the timeout gives
    /// up (a later run retries).
    pub async fn wait(&self, s: &Sender, job: &str, request: impl Fn() -> HttpRequest, status: &str, done: &str, failed: &[&str]) -> Result<Value, SendError> {
        let started = std::time::Instant::now();
        loop {
            let v = s.send(&request(), &[]).await?.json_or_reject()?;
            let st = v.pointer(status).and_then(Value::as_str).unwrap_or("").to_string();
            if st == done {
                return Ok(v);
            }
            if failed.contains(&st.as_str()) {
                return Err(SendError::Rejected { status: 200, message: format!("import job {job} ended {st}") });
            }
            if started.elapsed() > self.timeout {
                return Err(SendError::GaveUp { attempts: 1, last: format!("import job {job} still {st} after {:?}", self.timeout) });
            }
            tokio::time::sleep(self.every).await;
        }
    }
}

/// `path_or_url` under `base`, unless it is already absolute (links that vendors return).
pub fn url_under(base: &str, path_or_url: &str) -> String {
    if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
        path_or_url.to_string()
    } else {
        format!("{}{path_or_url}", base.trim_end_matches('/'))
    }
}

/// Put first_name and last_name, when the contact has them, under the given keys of `v`.
pub fn set_names(v: &mut Value, first: Option<String>, last: Option<String>, keys: (&str, &str)) {
    if let Some(f) = first {
        v[keys.0] = Value::String(f);
    }
    if let Some(l) = last {
        v[keys.1] = Value::String(l);
    }
}

/// A short stable hash (hex) of some texts.
pub fn fingerprint(parts: &[&str]) -> String {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    hex(&h.finalize()[..8])
}

pub fn md5_hex(text: &str) -> String {
    use md5::{Digest, Md5};
    hex(&Md5::digest(text.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A vendor's error text with the contact's email taken out (tables keep customer ids only).
pub fn scrub(message: &str, email: &str) -> String {
    if email.is_empty() {
        return message.to_string();
    }
    message.replace(email, "<email>")
}
