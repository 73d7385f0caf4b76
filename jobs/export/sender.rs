//! The one HTTP sender every destination shares: a concurrency limit per destination, retries
//! with exponential backoff and full jitter on 408, 429, 5xx, timeouts and connection errors
//! (honouring Retry-After), no retry on other 4xx, and secrets redacted from every message.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rand::Rng;
use tokio::sync::Semaphore;

/// A request a destination wants sent (also what a dry run prints).
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: reqwest::Method,
    pub url: String,
    /// Headers, including the secret ones (`secret` marks which to hide when printed).
    pub headers: Vec<(String, String, bool)>,
    pub body: Option<Bytes>,
}

impl HttpRequest {
    pub fn new(method: reqwest::Method, url: impl Into<String>) -> Self {
        HttpRequest { method, url: url.into(), headers: vec![], body: None }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into(), false));
        self
    }

    /// A header carrying a secret: sent, never printed.
    pub fn secret_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into(), true));
        self
    }

    pub fn json(self, value: &serde_json::Value) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_default();
        self.body_bytes("application/json", body)
    }

    pub fn body_bytes(mut self, content_type: &str, body: Vec<u8>) -> Self {
        if !self.headers.iter().any(|(n, _, _)| n.eq_ignore_ascii_case("content-type")) {
            self.headers.push(("Content-Type".into(), content_type.into(), false));
        }
        self.body = Some(Bytes::from(body));
        self
    }

    pub fn body_len(&self) -> usize {
        self.body.as_ref().map_or(0, |b| b.len())
    }

    /// The request as a person reads it: secret headers masked, the body cut at `max_body`.
    pub fn display(&self, max_body: usize) -> String {
        let mut s = format!("{} {}\n", self.method, self.url);
        for (n, v, secret) in &self.headers {
            s.push_str(&format!("{n}: {}\n", if *secret { "[redacted]" } else { v.as_str() }));
        }
        if let Some(b) = &self.body {
            let text = String::from_utf8_lossy(b);
            if text.len() > max_body {
                let cut = (0..=max_body).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                s.push_str(&format!("{}... ({} bytes in all)\n", &text[..cut], b.len()));
            } else {
                s.push_str(&format!("{text}\n"));
            }
        }
        s
    }
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Bytes,
}

impl HttpResponse {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as JSON; an answer that is not JSON rejects the request.
    pub fn json_or_reject(&self) -> Result<serde_json::Value, SendError> {
        self.json().ok_or_else(|| SendError::Rejected { status: self.status, message: "answer is not JSON".into() })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request did not get an answer the destination can use.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Retries exhausted on 408/429/5xx, timeouts or connection errors: try again later.
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: String },
    /// The destination refused the request (a 4xx other than 408/429): fix data or settings.
    #[error("HTTP {status}: {message}")]
    Rejected { status: u16, message: String },
}

impl SendError {
    /// Rejections are permanent; giving up is not (a later run retries).
    pub fn permanent(&self) -> bool {
        matches!(self, SendError::Rejected { .. })
    }

    pub fn code(&self) -> String {
        match self {
            SendError::GaveUp { .. } => "gave_up".into(),
            SendError::Rejected { status, .. } => format!("http_{status}"),
        }
    }
}

/// Retry settings of one destination.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub max_delay: Duration,
    pub timeout: Duration,
}

/// Counters of one sync.
#[derive(Debug, Default)]
pub struct SendStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
}

pub struct Sender {
    client: reqwest::Client,
    limit: Semaphore,
    policy: RetryPolicy,
    secrets: Vec<String>,
    pub stats: SendStats,
}

impl Sender {
    pub fn new(concurrency: usize, policy: RetryPolicy, secrets: Vec<String>) -> Result<Sender, SendError> {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .user_agent(concat!("ecomwh/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SendError::GaveUp { attempts: 0, last: format!("cannot build an HTTP client: {e}") })?;
        let secrets = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        Ok(Sender { client, limit: Semaphore::new(concurrency.max(1)), policy, secrets, stats: SendStats::default() })
    }

    /// Mask every secret in a text that may reach logs, errors or tables.
    pub fn redact(&self, text: &str) -> String {
        let mut t = text.to_string();
        for s in &self.secrets {
            t = t.replace(s.as_str(), "[redacted]");
        }
        t
    }

    /// Send with retries. 2xx and non-retriable answers the caller wants to read itself
    /// (`accept` lists them, e.g. 404 on a removal) come back as Ok; other 4xx as Rejected.
    pub async fn send(&self, req: &HttpRequest, accept: &[u16]) -> Result<HttpResponse, SendError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = {
                let _permit = self.limit.acquire().await.map_err(|e| SendError::GaveUp { attempts: attempt, last: e.to_string() })?;
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
                self.once(req).await
            };
            let (retry_after, last) = match outcome {
                Ok((resp, _)) if resp.ok() || accept.contains(&resp.status) => return Ok(resp),
                Ok((resp, retry_after)) if resp.status == 429 || resp.status == 408 || resp.status >= 500 => {
                    if resp.status == 429 {
                        self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    }
                    (retry_after, format!("HTTP {}: {}", resp.status, self.redact(&short(&resp.text()))))
                }
                Ok((resp, _)) => return Err(SendError::Rejected { status: resp.status, message: self.redact(&short(&resp.text())) }),
                Err(e) => (None, self.redact(&e)),
            };
            if attempt >= self.policy.max_attempts {
                return Err(SendError::GaveUp { attempts: attempt, last });
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            let wait = retry_after.map(|d| d.min(Duration::from_secs(300))).unwrap_or_else(|| self.backoff(attempt));
            tracing::debug!(url = %req.url, attempt, wait_ms = wait.as_millis() as u64, reason = %last, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// Full jitter: a uniform wait in [0, min(max, base * 2^(attempt-1))].
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self.policy.base.saturating_mul(1u32 << (attempt - 1).min(16)).min(self.policy.max_delay);
        let ms = cap.as_millis() as u64;
        Duration::from_millis(if ms == 0 { 0 } else { rand::thread_rng().gen_range(0..=ms) })
    }

    async fn once(&self, req: &HttpRequest) -> Result<(HttpResponse, Option<Duration>), String> {
        let mut b = self.client.request(req.method.clone(), &req.url);
        for (n, v, _) in &req.headers {
            b = b.header(n, v);
        }
        if let Some(body) = &req.body {
            b = b.body(body.clone());
        }
        let resp = b.send().await.map_err(|e| describe(&e))?;
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
        let body = resp.bytes().await.map_err(|e| describe(&e))?;
        Ok((HttpResponse { status, body }, retry_after))
    }
}

/// reqwest's error without the URL's query (which never holds secrets here, but may hold ids).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut msg = format!("{kind}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}

fn short(text: &str) -> String {
    let t = text.trim();
    if t.len() <= 300 {
        return t.to_string();
    }
    let cut = (0..=300).rev().find(|&i| t.is_char_boundary(i)).unwrap_or(0);
    format!("{}...", &t[..cut])
}

/// Retry-After: delay-seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn secrets_are_masked_and_backoff_is_bounded() {
        let policy = RetryPolicy { max_attempts: 3, base: Duration::from_millis(100), max_delay: Duration::from_millis(250), timeout: Duration::from_secs(1) };
        let s = Sender::new(2, policy, vec!["key-12345".into()]).unwrap();
        assert_eq!(s.redact("bad key key-12345 given"), "bad key [redacted] given");
        for attempt in 1..10 {
            assert!(s.backoff(attempt) <= Duration::from_millis(250));
        }
        let req = HttpRequest::new(reqwest::Method::POST, "http://x/y").secret_header("Authorization", "Bearer key-12345").json(&serde_json::json!({"a": 1}));
        let shown = req.display(100);
        assert!(!shown.contains("key-12345") && shown.contains("[redacted]") && shown.contains("{\"a\":1}"), "{shown}");
    }
}
