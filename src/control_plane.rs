//! The Control Plane API client: rotation with the configured bearer token (F2),
//! every answer turned into a typed error with a clear message. The private key of
//! a rotation stays a [`Secret`] (F5): it is never shown.

use std::time::Duration;

use serde_json::{Value, json};

use crate::config::join_url;
use crate::domain::Fingerprint;
use crate::secret::Secret;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("no API token: pass --api-token (API_TOKEN) with a token allowed to rotate clients")]
    NoToken,
    #[error("the API refused the request without valid credentials (403): {0}")]
    Forbidden(String),
    #[error("the API rejected the token (401): {0}")]
    Unauthorized(String),
    #[error("client not found (404): it is unknown or belongs to another tenant")]
    NotFound,
    #[error("the API refused (400): {0}")]
    BadRequest(String),
    #[error("the API rejected the request (422): {0}")]
    Invalid(String),
    #[error("rate limit reached (429): retry in {0} s")]
    RateLimited(u64),
    #[error("the API failed ({0}): {1}")]
    Server(u16, String),
    #[error("the API answered {0}: {1}")]
    Unexpected(u16, String),
    #[error("no answer from the API within {0} s")]
    Timeout(u64),
    #[error("cannot reach the API: {0}")]
    Connection(String),
    #[error("the API answered something unreadable: {0}")]
    Garbage(String),
}

/// A rotation as the API reported it.
#[derive(Debug, Clone)]
pub struct Rotated {
    pub client_id: String,
    pub name: String,
    pub fingerprint: Option<Fingerprint>,
    pub previous: Option<Fingerprint>,
    pub grace_ends: Option<chrono::DateTime<chrono::Utc>>,
    /// Returned once by the API; kept only to be written with `--save-keys`.
    pub private_key: Option<Secret>,
}

/// How long the previous certificate stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grace {
    Hours(u32),
    /// The built-in control plane's extension, for grace periods that end on stage.
    Seconds(u32),
}

#[derive(Clone)]
pub struct ControlPlane {
    http: reqwest::Client,
    base: url::Url,
    token: Option<Secret>,
    timeout: Duration,
}

impl ControlPlane {
    pub fn new(base: url::Url, token: Option<Secret>, timeout: Duration) -> Self {
        crate::init_tls();
        Self {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .expect("a plain HTTP client builds"),
            base,
            token,
            timeout,
        }
    }

    pub async fn rotate(
        &self,
        client_id: &str,
        grace: Grace,
        reason: &str,
    ) -> Result<Rotated, ApiError> {
        let token = self.token.as_ref().ok_or(ApiError::NoToken)?;
        let body = match grace {
            Grace::Hours(h) => json!({"grace_period_hours": h, "reason": reason}),
            Grace::Seconds(s) => json!({"grace_period_seconds": s, "reason": reason}),
        };
        let url = join_url(&self.base, &format!("/v1/clients/{client_id}/rotate"));
        let resp = self
            .http
            .post(url)
            .bearer_auth(token.expose())
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    ApiError::Timeout(self.timeout.as_secs())
                } else {
                    ApiError::Connection(
                        crate::text::printable(&e.without_url().to_string()).into_owned(),
                    )
                }
            })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ApiError::Connection(e.without_url().to_string()))?;
        read_answer(status, retry_after, &bytes)
    }
}

/// Turns an answer into a rotation or a typed error (pure, for tests).
pub fn read_answer(
    status: u16,
    retry_after: Option<u64>,
    body: &[u8],
) -> Result<Rotated, ApiError> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let detail = || detail_text(json.as_ref(), body);
    match status {
        200..=299 => {
            let v =
                json.ok_or_else(|| ApiError::Garbage("a rotation answer that is not JSON".into()))?;
            let fp = |k: &str| v[k].as_str().and_then(|s| Fingerprint::parse(s).ok());
            Ok(Rotated {
                client_id: v["id"].as_str().unwrap_or_default().to_string(),
                name: crate::text::printable(v["name"].as_str().unwrap_or_default()).into_owned(),
                fingerprint: fp("certificate_fingerprint"),
                previous: fp("certificate_fingerprint_previous"),
                grace_ends: v["grace_period_ends"]
                    .as_str()
                    .or(v["previous_cert_expires_at"].as_str())
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.with_timezone(&chrono::Utc)),
                private_key: v["private_key_pem"].as_str().map(Secret::new),
            })
        }
        400 => Err(ApiError::BadRequest(detail())),
        401 => Err(ApiError::Unauthorized(detail())),
        403 => Err(ApiError::Forbidden(detail())),
        404 => Err(ApiError::NotFound),
        422 => Err(ApiError::Invalid(detail())),
        429 => Err(ApiError::RateLimited(
            retry_after
                .or_else(|| {
                    json.as_ref()
                        .and_then(|v| v["retry_after_seconds"].as_u64())
                })
                .unwrap_or(60),
        )),
        500..=599 => Err(ApiError::Server(status, detail())),
        _ => Err(ApiError::Unexpected(status, detail())),
    }
}

/// `{"detail": "…"}`, or the first field error of a 422 list, or the body's start.
fn detail_text(json: Option<&Value>, body: &[u8]) -> String {
    let text = match json.map(|v| &v["detail"]) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(errors)) => errors
            .first()
            .map(|e| {
                let field = e["loc"]
                    .as_array()
                    .and_then(|l| l.last())
                    .map(|f| f.to_string())
                    .unwrap_or_default();
                format!(
                    "{} {}",
                    field.trim_matches('"'),
                    e["msg"].as_str().unwrap_or_default()
                )
            })
            .unwrap_or_default(),
        _ => String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned(),
    };
    crate::text::printable(text.trim()).into_owned()
}

/// `90s`, `2m`, `24h`, or a bare number (seconds for the built-in control plane,
/// hours for STOA's, which knows no seconds).
pub fn parse_grace(text: &str, builtin: bool) -> Result<Grace, String> {
    let t = text.trim().to_ascii_lowercase();
    let (num, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t.as_str(), if builtin { "s" } else { "h" }),
    };
    let n: u32 = num
        .parse()
        .map_err(|_| format!("grace period {text:?}: write it like 90s, 10m or 24h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("grace period {text:?}: the unit is s, m or h")),
    };
    if secs == 0 || secs > 168 * 3600 {
        return Err("the grace period must be between 1 second and 168 hours".into());
    }
    if builtin {
        Ok(Grace::Seconds(secs))
    } else if secs % 3600 != 0 {
        Err("STOA's API takes whole hours (1h to 168h)".into())
    } else {
        Ok(Grace::Hours(secs / 3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(name: &str) -> (u16, Option<u64>, Vec<u8>) {
        let text = crate::fixture(&format!("stoa-api-responses/{name}"));
        let v: Value = serde_json::from_str(&text).unwrap();
        let retry = v["headers"]["retry-after"]
            .as_str()
            .and_then(|s| s.parse().ok());
        (
            v["status"].as_u64().unwrap() as u16,
            retry,
            v["body"].to_string().into_bytes(),
        )
    }

    fn read(name: &str) -> Result<Rotated, ApiError> {
        let (status, retry, body) = capture(name);
        read_answer(status, retry, &body)
    }

    #[test]
    fn every_real_answer_becomes_a_clear_result() {
        let ok = read("13-rotate-ok.json").unwrap();
        assert_eq!(ok.name, "assurance-allianz-pricing-041");
        assert_eq!(
            ok.fingerprint.unwrap().to_hex(),
            "030d2454ac8a7960475a1ef8207115ab99edcc600e478b4866f7743a8963b358"
        );
        assert_eq!(
            ok.previous.unwrap().to_hex(),
            "c0b4d332cbbef5f5562a48c863733d7b2e2011e9248f11387cfc84e5a76944a7"
        );
        assert!(ok.private_key.is_some());
        assert!(
            !format!("{ok:?}").contains("PRIVATE KEY"),
            "the key never reaches Debug output"
        );
        assert_eq!(
            read("02-rotate-noauth.json").unwrap_err(),
            ApiError::Forbidden("Not authenticated".into())
        );
        assert_eq!(
            read("03-rotate-garbage-token.json").unwrap_err(),
            ApiError::Unauthorized("Invalid token: Not enough segments".into())
        );
        assert_eq!(
            read("05-rotate-viewer-forbidden.json").unwrap_err(),
            ApiError::Forbidden("Permission denied: clients:write required".into())
        );
        assert_eq!(
            read("06-rotate-grace0.json").unwrap_err().to_string(),
            "the API rejected the request (422): grace_period_hours Input should be greater than or equal to 1"
        );
        assert_eq!(
            read("11-rotate-unknown.json").unwrap_err(),
            ApiError::NotFound
        );
        assert_eq!(
            read("12-rotate-revoked.json").unwrap_err(),
            ApiError::BadRequest("Cannot rotate certificate for non-active client".into())
        );
        assert_eq!(
            read("27-rl-same-client-11-429.json").unwrap_err(),
            ApiError::RateLimited(60)
        );
        assert_eq!(
            read_answer(502, None, b"<html>bad gateway</html>").unwrap_err(),
            ApiError::Server(502, "<html>bad gateway</html>".into())
        );
        assert!(matches!(
            read_answer(200, None, b"garbage"),
            Err(ApiError::Garbage(_))
        ));
        assert_eq!(
            read_answer(500, None, b"\x1b[2Jboom").unwrap_err(),
            ApiError::Server(500, "\\u{1b}[2Jboom".into())
        );
    }
}
