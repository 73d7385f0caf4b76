//! SendGrid Marketing Campaigns v3. Upserts: `PUT /v3/marketing/contacts` with `list_ids` (at
//! most 30,000 contacts and 6 MB), Bearer auth; the answer is an import job, polled at
//! `GET /v3/marketing/contacts/imports/{id}` until it completes; its `errors_url` lists the
//! contacts it rejected. Removal from the list: ids looked up by email
//! (`POST /v3/marketing/contacts/search/emails`, 100 at a time), then
//! `DELETE /v3/marketing/lists/{id}/contacts?contact_ids=...`.

use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::destination::{
    url_under, BatchResult, Confirmed, Contact, Destination, DestinationConfig, JobPolling, Limits, Purpose, Removal, RowFailure, SyncCtx,
};
use super::sender::{HttpRequest, SendError, Sender};
use crate::error::Result;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// e.g. https://api.sendgrid.com
    base_url: String,
    api_key_env: String,
    list_id: String,
    /// Custom field ids per field (SendGrid names custom fields by id, e.g. "e1_T"); fields
    /// without one are not sent.
    #[serde(default)]
    custom_fields: std::collections::BTreeMap<String, String>,
}

pub struct SendGrid {
    s: Settings,
    key: String,
    limits: Limits,
    jobs: JobPolling,
}

pub fn build(cfg: &DestinationConfig, purpose: Purpose) -> Result<Box<dyn Destination>> {
    let s: Settings = cfg.settings()?;
    let (batch, concurrency) = cfg.limits(30_000, 30_000, 10, 2)?;
    let key = cfg.secret(&s.api_key_env, purpose)?;
    Ok(Box::new(SendGrid { s, key, limits: Limits { batch, max_bytes: 6 * 1024 * 1024, remove_batch: 100, concurrency }, jobs: cfg.job_polling() }))
}

impl SendGrid {
    fn req(&self, method: Method, path_or_url: &str) -> HttpRequest {
        HttpRequest::new(method, url_under(&self.s.base_url, path_or_url)).secret_header("Authorization", format!("Bearer {}", self.key))
    }
}

#[async_trait]
impl Destination for SendGrid {
    fn limits(&self) -> Limits {
        self.limits
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.key.clone()]
    }

    fn upsert_request(&self, _cx: &SyncCtx, batch: &[Contact]) -> HttpRequest {
        let contacts: Vec<Value> = batch
            .iter()
            .map(|c| {
                let (first, last, rest) = c.fields();
                let mut v = json!({"email": c.email});
                super::destination::set_names(&mut v, first, last, ("first_name", "last_name"));
                let custom: serde_json::Map<String, Value> =
                    rest.into_iter().filter_map(|(k, val)| self.s.custom_fields.get(&k).map(|id| (id.clone(), val))).collect();
                if !custom.is_empty() {
                    v["custom_fields"] = Value::Object(custom);
                }
                v
            })
            .collect();
        self.req(Method::PUT, "/v3/marketing/contacts").json(&json!({"list_ids": [self.s.list_id], "contacts": contacts}))
    }

    async fn upsert(&self, cx: &SyncCtx, s: &Sender, batch: &[Contact]) -> Result<BatchResult, SendError> {
        let created = s.send(&self.upsert_request(cx, batch), &[]).await?.json_or_reject()?;
        let Some(job) = created["job_id"].as_str().map(str::to_string) else {
            return Err(SendError::Rejected { status: 202, message: "the import has no job_id".into() });
        };
        let poll = || self.req(Method::GET, &format!("/v3/marketing/contacts/imports/{job}"));
        let done = self.jobs.wait(s, &job, poll, "/status", "completed", &["failed", "errored"]).await?;
        let mut failed = vec![];
        if let Some(url) = done["results"]["errors_url"].as_str() {
            let text = s.send(&self.req(Method::GET, url), &[]).await?.text();
            let mut rdr = csv::Reader::from_reader(text.as_bytes());
            for row in rdr.records().flatten() {
                let email = row.get(0).unwrap_or("").trim().to_lowercase();
                if !email.is_empty() {
                    failed.push(RowFailure { email, code: "import_error".into(), message: row.get(1).unwrap_or("").to_string(), permanent: true });
                }
            }
        }
        Ok(BatchResult::all_but(batch.iter().map(|c| c.email.as_str()), failed, true))
    }

    fn remove_request(&self, _cx: &SyncCtx, batch: &[Removal]) -> HttpRequest {
        let emails: Vec<&str> = batch.iter().map(|r| r.email.as_str()).collect();
        self.req(Method::POST, "/v3/marketing/contacts/search/emails").json(&json!({"emails": emails}))
    }

    async fn remove(&self, cx: &SyncCtx, s: &Sender, batch: &[Removal]) -> Result<BatchResult, SendError> {
        // 404: none of them is a contact any more, which is what we want.
        let found = s.send(&self.remove_request(cx, batch), &[404]).await?;
        let v = if found.status == 404 { json!({"result": {}}) } else { found.json_or_reject()? };
        let ids: Vec<String> = batch.iter().filter_map(|r| v["result"][r.email.as_str()]["contact"]["id"].as_str().map(str::to_string)).collect();
        if !ids.is_empty() {
            let path = format!("/v3/marketing/lists/{}/contacts?contact_ids={}", self.s.list_id, ids.join(","));
            s.send(&self.req(Method::DELETE, &path), &[]).await?;
        }
        Ok(BatchResult { confirmed: batch.iter().map(|r| Confirmed { email: r.email.clone(), remote_id: None, created: false }).collect(), failed: vec![] })
    }
}
