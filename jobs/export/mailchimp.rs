//! Mailchimp Marketing API 3.0. Upserts: `POST /lists/{list_id}` (batch subscribe, at most 500
//! members, `update_existing: true`), Basic auth with the API key; a 200 answer still lists
//! per-member `errors`. Members are tagged with the audience name. Removal archives the member:
//! `DELETE /lists/{list_id}/members/{md5 of the lower-cased email}`. Mailchimp allows 10
//! simultaneous connections.

use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::destination::{BatchResult, Confirmed, Contact, Destination, DestinationConfig, Limits, Purpose, Removal, RowFailure, SyncCtx};
use super::sender::{HttpRequest, SendError, Sender};
use crate::error::Result;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// e.g. https://us1.api.mailchimp.com/3.0 (the data centre is the API key's suffix)
    base_url: String,
    /// Environment variable holding the API key.
    api_key_env: String,
    /// The Mailchimp audience (list) id.
    list_id: String,
    /// Status of new members: "subscribed" (consent is already checked) or "pending".
    #[serde(default = "subscribed")]
    status_if_new: String,
    /// Merge tags per field (default: first_name FNAME, last_name LNAME, others upper-cased,
    /// at most 10 characters).
    #[serde(default)]
    merge_fields: std::collections::BTreeMap<String, String>,
}

fn subscribed() -> String {
    "subscribed".into()
}

pub struct Mailchimp {
    s: Settings,
    key: String,
    limits: Limits,
}

pub fn build(cfg: &DestinationConfig, purpose: Purpose) -> Result<Box<dyn Destination>> {
    let s: Settings = cfg.settings()?;
    if !["subscribed", "pending"].contains(&s.status_if_new.as_str()) {
        return Err(crate::error::Error::Config(format!("[destinations.{}] status_if_new: use subscribed or pending", cfg.name)));
    }
    let (batch, concurrency) = cfg.limits(500, 500, 10, 10)?;
    let key = cfg.secret(&s.api_key_env, purpose)?;
    Ok(Box::new(Mailchimp { s, key, limits: Limits { batch, max_bytes: usize::MAX, remove_batch: 1, concurrency } }))
}

impl Mailchimp {
    fn url(&self, rest: &str) -> String {
        format!("{}/lists/{}{rest}", self.s.base_url.trim_end_matches('/'), self.s.list_id)
    }

    fn auth(&self, r: HttpRequest) -> HttpRequest {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("ecomwh:{}", self.key));
        r.secret_header("Authorization", format!("Basic {token}"))
    }

    fn merge_tag(&self, field: &str) -> String {
        if let Some(t) = self.s.merge_fields.get(field) {
            return t.clone();
        }
        match field {
            "first_name" => "FNAME".into(),
            "last_name" => "LNAME".into(),
            f => f.to_ascii_uppercase().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(10).collect(),
        }
    }
}

#[async_trait]
impl Destination for Mailchimp {
    fn limits(&self) -> Limits {
        self.limits
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.key.clone()]
    }

    fn upsert_request(&self, cx: &SyncCtx, batch: &[Contact]) -> HttpRequest {
        let members: Vec<Value> = batch
            .iter()
            .map(|c| {
                let (first, last, rest) = c.fields();
                let mut merge = Value::Object(Map::new());
                super::destination::set_names(&mut merge, first, last, (&self.merge_tag("first_name"), &self.merge_tag("last_name")));
                for (k, v) in rest {
                    merge[self.merge_tag(&k)] = v;
                }
                json!({
                    "email_address": c.email,
                    "status_if_new": self.s.status_if_new,
                    "merge_fields": merge,
                    "tags": [cx.audience],
                })
            })
            .collect();
        let body = json!({"members": members, "update_existing": true, "sync_tags": false});
        self.auth(HttpRequest::new(Method::POST, self.url(""))).json(&body)
    }

    async fn upsert(&self, cx: &SyncCtx, s: &Sender, batch: &[Contact]) -> Result<BatchResult, SendError> {
        let resp = s.send(&self.upsert_request(cx, batch), &[]).await?;
        let v: BatchAnswer = serde_json::from_slice(&resp.body)
            .map_err(|e| SendError::Rejected { status: resp.status, message: format!("unexpected answer from Mailchimp: {e}") })?;
        let failed: Vec<RowFailure> = v
            .errors
            .into_iter()
            .map(|e| RowFailure {
                email: e.email_address.to_lowercase(),
                code: e.error_code.unwrap_or_else(|| "error".into()),
                message: e.error,
                permanent: true,
            })
            .collect();
        let mut confirmed: Vec<Confirmed> =
            v.new_members.iter().map(|m| Confirmed { email: m.email_address.to_lowercase(), remote_id: None, created: true }).collect();
        confirmed.extend(v.updated_members.iter().map(|m| Confirmed { email: m.email_address.to_lowercase(), remote_id: None, created: false }));
        // A member neither confirmed nor in errors was not acknowledged: report it, do not assume.
        let seen: std::collections::HashSet<&str> = confirmed.iter().map(|c| c.email.as_str()).chain(failed.iter().map(|f| f.email.as_str())).collect();
        let missing: Vec<RowFailure> = batch
            .iter()
            .filter(|c| !seen.contains(c.email.as_str()))
            .map(|c| RowFailure {
                email: c.email.clone(),
                code: "not_acknowledged".into(),
                message: "Mailchimp's answer does not mention this member".into(),
                permanent: false,
            })
            .collect();
        let mut failed = failed;
        failed.extend(missing);
        Ok(BatchResult { confirmed, failed })
    }

    fn remove_request(&self, _cx: &SyncCtx, batch: &[Removal]) -> HttpRequest {
        let email = batch.first().map(|r| r.email.as_str()).unwrap_or_default();
        self.auth(HttpRequest::new(Method::DELETE, self.url(&format!("/members/{}", super::destination::md5_hex(&email.to_lowercase())))))
    }

    async fn remove(&self, cx: &SyncCtx, s: &Sender, batch: &[Removal]) -> Result<BatchResult, SendError> {
        let mut result = BatchResult::default();
        for r in batch {
            // 404: already archived or deleted in Mailchimp, which is what we want.
            match s.send(&self.remove_request(cx, std::slice::from_ref(r)), &[404]).await {
                Ok(_) => result.confirmed.push(Confirmed { email: r.email.clone(), remote_id: None, created: false }),
                Err(e) => result.failed.push(RowFailure { email: r.email.clone(), code: e.code(), message: e.to_string(), permanent: e.permanent() }),
            }
        }
        Ok(result)
    }
}

#[derive(Debug, Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    new_members: Vec<Member>,
    #[serde(default)]
    updated_members: Vec<Member>,
    #[serde(default)]
    errors: Vec<MemberError>,
}

#[derive(Debug, Deserialize)]
struct Member {
    email_address: String,
}

#[derive(Debug, Deserialize)]
struct MemberError {
    email_address: String,
    error: String,
    #[serde(default)]
    error_code: Option<String>,
}
