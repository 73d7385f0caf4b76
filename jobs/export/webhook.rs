//! Any tool with an HTTP endpoint: JSON batches POSTed to a URL, signed with HMAC-SHA256 of the
//! body (`X-Ecomwh-Signature: sha256=<hex>`), with an idempotency key that is the same when a
//! batch is sent again (`X-Ecomwh-Idempotency-Key`), so the receiver can drop repeats.

use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::destination::{BatchResult, Contact, Destination, DestinationConfig, Limits, Purpose, Removal, SyncCtx};
use super::sender::{HttpRequest, SendError, Sender};
use crate::error::Result;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    url: String,
    /// Environment variable holding the signing secret.
    secret_env: String,
}

pub struct Webhook {
    s: Settings,
    secret: String,
    limits: Limits,
}

pub fn build(cfg: &DestinationConfig, purpose: Purpose) -> Result<Box<dyn Destination>> {
    let s: Settings = cfg.settings()?;
    let (batch, concurrency) = cfg.limits(100_000, 1000, 32, 4)?;
    let secret = cfg.secret(&s.secret_env, purpose)?;
    Ok(Box::new(Webhook { s, secret, limits: Limits { batch, max_bytes: usize::MAX, remove_batch: batch, concurrency } }))
}

impl Webhook {
    fn signed(&self, cx: &SyncCtx, operation: &str, contacts: Vec<Value>, key_parts: Vec<&str>) -> HttpRequest {
        let body = json!({
            "operation": operation,
            "audience": cx.audience,
            "destination": cx.destination,
            "dt": cx.dt,
            "contacts": contacts,
        });
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.secret.as_bytes());
        let signature = super::destination::hex(ring::hmac::sign(&key, &bytes).as_ref());
        let mut parts = vec![cx.audience.as_str(), cx.dt.as_str(), operation];
        parts.extend(key_parts);
        HttpRequest::new(Method::POST, self.s.url.clone())
            .header("X-Ecomwh-Signature", format!("sha256={signature}"))
            .header("X-Ecomwh-Idempotency-Key", super::destination::fingerprint(&parts))
            .body_bytes("application/json", bytes)
    }
}

#[async_trait]
impl Destination for Webhook {
    fn limits(&self) -> Limits {
        self.limits
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.secret.clone()]
    }

    fn upsert_request(&self, cx: &SyncCtx, batch: &[Contact]) -> HttpRequest {
        let contacts = batch
            .iter()
            .map(|c| {
                let mut v: serde_json::Map<String, Value> = serde_json::from_str(&c.attributes).unwrap_or_default();
                v.insert("email".into(), Value::String(c.email.clone()));
                v.insert("customer_id".into(), Value::String(c.customer_id.clone()));
                Value::Object(v)
            })
            .collect();
        self.signed(cx, "upsert", contacts, batch.iter().map(|c| c.hash.as_str()).collect())
    }

    async fn upsert(&self, cx: &SyncCtx, s: &Sender, batch: &[Contact]) -> Result<BatchResult, SendError> {
        s.send(&self.upsert_request(cx, batch), &[]).await?;
        Ok(BatchResult::all_but(batch.iter().map(|c| c.email.as_str()), vec![], true))
    }

    fn remove_request(&self, cx: &SyncCtx, batch: &[Removal]) -> HttpRequest {
        let contacts = batch.iter().map(|r| json!({"email": r.email, "customer_id": r.customer_id})).collect();
        self.signed(cx, "remove", contacts, batch.iter().map(|r| r.email.as_str()).collect())
    }

    async fn remove(&self, cx: &SyncCtx, s: &Sender, batch: &[Removal]) -> Result<BatchResult, SendError> {
        s.send(&self.remove_request(cx, batch), &[]).await?;
        Ok(BatchResult::all_but(batch.iter().map(|r| r.email.as_str()), vec![], false))
    }
}
