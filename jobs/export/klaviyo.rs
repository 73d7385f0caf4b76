//! Klaviyo API (JSON:API). Upserts: `POST /api/profile-bulk-import-jobs` (at most 10,000
//! profiles and 5 MB), headers `Authorization: Klaviyo-API-Key ...` and `revision`; the job
//! adds the profiles to the list through its `lists` relationship. The job is polled until it
//! completes; its import errors are the per-row failures and its profiles give the ids that
//! removals need: `DELETE /api/lists/{id}/relationships/profiles` (at most 1,000 ids).

use std::collections::HashMap;

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
    /// e.g. https://a.klaviyo.com
    base_url: String,
    api_key_env: String,
    /// The list the audience's members are added to (and removed from).
    list_id: String,
    /// API revision header.
    #[serde(default = "revision")]
    revision: String,
}

fn revision() -> String {
    "2024-10-15".into()
}

pub struct Klaviyo {
    s: Settings,
    key: String,
    limits: Limits,
    jobs: JobPolling,
}

pub fn build(cfg: &DestinationConfig, purpose: Purpose) -> Result<Box<dyn Destination>> {
    let s: Settings = cfg.settings()?;
    let (batch, concurrency) = cfg.limits(10_000, 10_000, 10, 3)?;
    let key = cfg.secret(&s.api_key_env, purpose)?;
    Ok(Box::new(Klaviyo { s, key, limits: Limits { batch, max_bytes: 5 * 1024 * 1024, remove_batch: 1000, concurrency }, jobs: cfg.job_polling() }))
}

impl Klaviyo {
    fn req(&self, method: Method, path_or_url: &str) -> HttpRequest {
        HttpRequest::new(method, url_under(&self.s.base_url, path_or_url))
            .secret_header("Authorization", format!("Klaviyo-API-Key {}", self.key))
            .header("revision", self.s.revision.clone())
            .header("accept", "application/vnd.api+json")
    }

    fn jsonapi(r: HttpRequest, v: &Value) -> HttpRequest {
        r.body_bytes("application/vnd.api+json", serde_json::to_vec(v).unwrap_or_default())
    }

    /// Every page of a JSON:API collection.
    async fn all_pages(&self, s: &Sender, first: String) -> Result<Vec<Value>, SendError> {
        let mut out = vec![];
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let v = s.send(&self.req(Method::GET, &url), &[]).await?.json_or_reject()?;
            if let Some(items) = v["data"].as_array() {
                out.extend(items.iter().cloned());
            }
            next = v["links"]["next"].as_str().map(str::to_string);
        }
        Ok(out)
    }
}

#[async_trait]
impl Destination for Klaviyo {
    fn limits(&self) -> Limits {
        self.limits
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.key.clone()]
    }

    fn upsert_request(&self, cx: &SyncCtx, batch: &[Contact]) -> HttpRequest {
        let profiles: Vec<Value> = batch
            .iter()
            .map(|c| {
                let (first, last, mut rest) = c.fields();
                rest.insert("ecomwh_audience".into(), Value::String(cx.audience.clone()));
                let mut attrs = json!({"email": c.email, "properties": rest});
                super::destination::set_names(&mut attrs, first, last, ("first_name", "last_name"));
                json!({"type": "profile", "attributes": attrs})
            })
            .collect();
        let body = json!({"data": {
            "type": "profile-bulk-import-job",
            "attributes": {"profiles": {"data": profiles}},
            "relationships": {"lists": {"data": [{"type": "list", "id": self.s.list_id}]}},
        }});
        Self::jsonapi(self.req(Method::POST, "/api/profile-bulk-import-jobs"), &body)
    }

    async fn upsert(&self, cx: &SyncCtx, s: &Sender, batch: &[Contact]) -> Result<BatchResult, SendError> {
        let created = s.send(&self.upsert_request(cx, batch), &[]).await?.json_or_reject()?;
        let Some(job) = created["data"]["id"].as_str().map(str::to_string) else {
            return Err(SendError::Rejected { status: 202, message: "the import job has no id".into() });
        };
        let poll = || self.req(Method::GET, &format!("/api/profile-bulk-import-jobs/{job}"));
        self.jobs.wait(s, &job, poll, "/data/attributes/status", "complete", &["cancelled", "failed"]).await?;
        let base = self.s.base_url.trim_end_matches('/');
        let errors = self.all_pages(s, format!("{base}/api/profile-bulk-import-jobs/{job}/import-errors")).await?;
        let failed: Vec<RowFailure> = errors
            .iter()
            .filter_map(|e| {
                let a = &e["attributes"];
                let email = a["original_payload"]["email"].as_str().map(str::to_lowercase).or_else(|| {
                    let idx: usize = a["source"]["pointer"].as_str()?.rsplit('/').next()?.parse().ok()?;
                    batch.get(idx).map(|c| c.email.clone())
                })?;
                Some(RowFailure {
                    email,
                    code: a["code"].as_str().unwrap_or("invalid").to_string(),
                    message: format!("{}: {}", a["title"].as_str().unwrap_or(""), a["detail"].as_str().unwrap_or("")),
                    permanent: true,
                })
            })
            .collect();
        let profiles = self.all_pages(s, format!("{base}/api/profile-bulk-import-jobs/{job}/profiles")).await?;
        let ids: HashMap<String, String> =
            profiles.iter().filter_map(|p| Some((p["attributes"]["email"].as_str()?.to_lowercase(), p["id"].as_str()?.to_string()))).collect();
        let mut result = BatchResult::all_but(batch.iter().map(|c| c.email.as_str()), failed, true);
        for c in &mut result.confirmed {
            c.remote_id = ids.get(&c.email).cloned();
        }
        Ok(result)
    }

    fn remove_request(&self, _cx: &SyncCtx, batch: &[Removal]) -> HttpRequest {
        let data: Vec<Value> = batch.iter().filter_map(|r| r.remote_id.as_ref()).map(|id| json!({"type": "profile", "id": id})).collect();
        let path = format!("/api/lists/{}/relationships/profiles", self.s.list_id);
        Self::jsonapi(self.req(Method::DELETE, &path), &json!({"data": data}))
    }

    async fn remove(&self, cx: &SyncCtx, s: &Sender, batch: &[Removal]) -> Result<BatchResult, SendError> {
        // Without an id there is nothing Klaviyo can remove from the list.
        let (with_id, without): (Vec<&Removal>, Vec<&Removal>) = batch.iter().partition(|r| r.remote_id.is_some());
        let mut result = BatchResult::default();
        for r in without {
            result.failed.push(RowFailure {
                email: r.email.clone(),
                code: "no_profile_id".into(),
                message: "no Klaviyo profile id was recorded for this contact".into(),
                permanent: true,
            });
        }
        if !with_id.is_empty() {
            let owned: Vec<Removal> = with_id.iter().map(|&r| r.clone()).collect();
            s.send(&self.remove_request(cx, &owned), &[]).await?;
            result.confirmed.extend(owned.into_iter().map(|r| Confirmed { email: r.email, remote_id: r.remote_id, created: false }));
        }
        Ok(result)
    }
}
