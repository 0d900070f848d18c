//! The built-in Control Plane API: list, get and rotate clients with the request
//! and response shapes, status codes and `{"detail": …}` errors of STOA's API.
//! Extension for live demos: `grace_period_seconds`, so a grace period can end on stage.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::{BindingCache, certs};
use crate::domain::{Client, ClientStatus};
use crate::secret::Secret;
use crate::store::{Registry, Rotation};

pub const DEFAULT_GRACE_HOURS: i64 = 24;
const MAX_GRACE_HOURS: i64 = 168;

#[derive(Clone)]
pub struct ApiState {
    pub registry: Registry,
    pub tenant: String,
    pub token: Secret,
    pub cache: Arc<BindingCache>,
    pub limiter: Arc<RateLimiter>,
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/clients", get(list))
        .route("/v1/clients/{id}", get(get_one))
        .route("/v1/clients/{id}/rotate", post(rotate))
        .route(
            "/health",
            get(|| async { axum::Json(json!({"status": "healthy"})) }),
        )
        .with_state(state)
}

/// Rotations allowed per client URL in a sliding window (the real API: 10 an hour).
pub struct RateLimiter {
    limit: usize,
    window: StdDuration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(limit: usize, window: StdDuration) -> Self {
        Self {
            limit,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit; `Err(seconds)` when over the limit.
    fn hit(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let q = hits.entry(key.to_string()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.limit {
            return Err(60);
        }
        q.push_back(now);
        Ok(())
    }
}

fn detail(status: StatusCode, detail: impl Into<Value>) -> Response {
    (status, axum::Json(json!({"detail": detail.into()}))).into_response()
}

/// The refusal for a request without the right token, as FastAPI answers:
/// no credentials 403, unknown token 401. None: authorized.
fn refusal(s: &ApiState, headers: &HeaderMap) -> Option<Response> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(value) = value else {
        return Some(detail(StatusCode::FORBIDDEN, "Not authenticated"));
    };
    let token = match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Some(detail(
                StatusCode::FORBIDDEN,
                "Invalid authentication credentials",
            ));
        }
    };
    let ok: bool = token.as_bytes().ct_eq(s.token.expose().as_bytes()).into();
    (!ok).then(|| detail(StatusCode::UNAUTHORIZED, "Invalid token: not recognized"))
}

fn registry_error(e: crate::store::StoreError) -> Response {
    tracing::error!("control plane: {e}");
    detail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Client registry unavailable",
    )
}

fn ts(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| {
        json!(t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
    })
}

/// A client as the real API returns it.
pub fn client_json(c: &Client, now: DateTime<Utc>) -> Value {
    json!({
        "id": c.id,
        "tenant_id": c.tenant_id,
        "name": c.name,
        "certificate_cn": c.cn,
        "certificate_serial": c.serial,
        "certificate_fingerprint": c.fingerprint.map(|f| f.to_hex()),
        "certificate_not_before": ts(c.not_before),
        "certificate_not_after": ts(c.not_after),
        "status": c.status.as_str(),
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
        "certificate_fingerprint_previous": c.fingerprint_previous.map(|f| f.to_hex()),
        "previous_cert_expires_at": ts(c.previous_cert_expires_at),
        "is_in_grace_period": c.in_grace(now),
        "last_rotated_at": ts(c.last_rotated_at),
        "rotation_count": c.rotation_count,
    })
}

async fn list(State(s): State<ApiState>, headers: HeaderMap) -> Response {
    if let Some(r) = refusal(&s, &headers) {
        return r;
    }
    match s.registry.list(&s.tenant).await {
        Ok(clients) => {
            let now = Utc::now();
            axum::Json(
                clients
                    .iter()
                    .map(|c| client_json(c, now))
                    .collect::<Vec<_>>(),
            )
            .into_response()
        }
        Err(e) => registry_error(e),
    }
}

fn uuid_error(id: &str) -> Option<Response> {
    uuid::Uuid::parse_str(id).err().map(|e| {
        detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!([{"type": "uuid_parsing", "loc": ["path", "client_id"],
                    "msg": format!("Input should be a valid UUID, {e}"), "input": id}]),
        )
    })
}

async fn get_one(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refusal(&s, &headers) {
        return r;
    }
    if let Some(r) = uuid_error(&id) {
        return r;
    }
    match s.registry.get(&s.tenant, &id).await {
        Ok(Some(c)) => axum::Json(client_json(&c, Utc::now())).into_response(),
        Ok(None) => detail(StatusCode::NOT_FOUND, "Client not found"),
        Err(e) => registry_error(e),
    }
}

/// The rotation request, validated as the real API's pydantic model does.
#[derive(Debug, PartialEq)]
struct RotateRequest {
    grace: Duration,
    reason: String,
}

fn field_error(kind: &str, field: &str, msg: String, input: &Value, ctx: Value) -> Value {
    json!({"type": kind, "loc": ["body", field], "msg": msg, "input": input, "ctx": ctx})
}

fn parse_rotate(body: &[u8]) -> Result<RotateRequest, Value> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| {
            json!([{"type": "json_invalid", "loc": ["body", e.column()], "msg": "JSON decode error",
                    "input": {}, "ctx": {"error": e.to_string()}}])
        })?
    };
    let Some(obj) = value.as_object() else {
        return Err(json!([{"type": "model_attributes_type", "loc": ["body"],
                           "msg": "Input should be a valid dictionary or object to extract fields from",
                           "input": value}]));
    };
    let mut errors = Vec::new();
    let int_in = |field: &str, lo: i64, hi: i64, errors: &mut Vec<Value>| -> Option<i64> {
        let v = obj.get(field).filter(|v| !v.is_null())?;
        let Some(n) = v.as_i64() else {
            errors.push(field_error(
                "int_parsing",
                field,
                "Input should be a valid integer, unable to parse string as an integer".into(),
                v,
                json!({}),
            ));
            return None;
        };
        if n < lo {
            errors.push(field_error(
                "greater_than_equal",
                field,
                format!("Input should be greater than or equal to {lo}"),
                v,
                json!({"ge": lo}),
            ));
        } else if n > hi {
            errors.push(field_error(
                "less_than_equal",
                field,
                format!("Input should be less than or equal to {hi}"),
                v,
                json!({"le": hi}),
            ));
        }
        Some(n)
    };
    let hours = int_in("grace_period_hours", 1, MAX_GRACE_HOURS, &mut errors);
    let seconds = int_in(
        "grace_period_seconds",
        1,
        MAX_GRACE_HOURS * 3600,
        &mut errors,
    );
    let reason = match obj.get("reason") {
        None | Some(Value::Null) => "rotation".to_string(),
        Some(Value::String(s)) if s.chars().count() <= 255 => s.clone(),
        Some(v @ Value::String(_)) => {
            errors.push(field_error(
                "string_too_long",
                "reason",
                "String should have at most 255 characters".into(),
                v,
                json!({"max_length": 255}),
            ));
            String::new()
        }
        Some(v) => {
            errors.push(field_error(
                "string_type",
                "reason",
                "Input should be a valid string".into(),
                v,
                json!({}),
            ));
            String::new()
        }
    };
    if !errors.is_empty() {
        return Err(Value::Array(errors));
    }
    let grace = match (seconds, hours) {
        (Some(s), _) => Duration::seconds(s),
        (None, Some(h)) => Duration::hours(h),
        (None, None) => Duration::hours(DEFAULT_GRACE_HOURS),
    };
    Ok(RotateRequest { grace, reason })
}

async fn rotate(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = refusal(&s, &headers) {
        return r;
    }
    if let Some(r) = uuid_error(&id) {
        return r;
    }
    let request = match parse_rotate(&body) {
        Ok(r) => r,
        Err(errors) => return detail(StatusCode::UNPROCESSABLE_ENTITY, errors),
    };
    if let Err(retry_after) = s.limiter.hit(&id, Instant::now()) {
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({"error": "rate_limit_exceeded",
                              "message": format!("Rate limit exceeded: {} per hour", s.limiter.limit),
                              "detail": "Too many requests. Please slow down and retry later.",
                              "retry_after_seconds": retry_after})),
        )
            .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return r;
    }
    let client = match s.registry.get(&s.tenant, &id).await {
        Ok(Some(c)) => c,
        Ok(None) => return detail(StatusCode::NOT_FOUND, "Client not found"),
        Err(e) => return registry_error(e),
    };
    if client.status != ClientStatus::Active {
        return detail(
            StatusCode::BAD_REQUEST,
            "Cannot rotate certificate for non-active client",
        );
    }
    let now = Utc::now();
    let issued = match certs::issue(&client.cn, &s.tenant, now) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("control plane: certificate issuance failed: {e}");
            return detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Certificate service failed",
            );
        }
    };
    let rotation = Rotation {
        serial: issued.serial.clone(),
        fingerprint: issued.fingerprint.to_colon_hex(),
        pem: issued.pem.clone(),
        not_before: issued.not_before,
        not_after: issued.not_after,
        grace_ends: now + request.grace,
        now,
    };
    let rotated = match s.registry.rotate(&s.tenant, &id, &rotation).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return detail(
                StatusCode::BAD_REQUEST,
                "Cannot rotate certificate for non-active client",
            );
        }
        Err(e) => return registry_error(e),
    };
    s.cache.refresh(&s.registry, &s.tenant).await;
    tracing::info!(
        client = %rotated.name,
        reason = %request.reason,
        grace_secs = request.grace.num_seconds(),
        "control plane: certificate rotated"
    );
    let mut body = client_json(&rotated, now);
    body["certificate_pem"] = json!(issued.pem);
    body["private_key_pem"] = json!(issued.private_key_pem.expose());
    body["grace_period_ends"] = ts(Some(rotation.grace_ends));
    axum::Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotate_body_validation_matches_the_real_api() {
        assert_eq!(parse_rotate(b"{}").unwrap().grace, Duration::hours(24));
        assert_eq!(parse_rotate(b"").unwrap().reason, "rotation");
        assert_eq!(
            parse_rotate(br#"{"grace_period_hours": 48}"#)
                .unwrap()
                .grace,
            Duration::hours(48)
        );
        assert_eq!(
            parse_rotate(br#"{"grace_period_seconds": 90}"#)
                .unwrap()
                .grace,
            Duration::seconds(90)
        );
        let e = parse_rotate(br#"{"grace_period_hours": 0, "reason": "x"}"#).unwrap_err();
        assert_eq!(e[0]["type"], "greater_than_equal");
        assert_eq!(e[0]["msg"], "Input should be greater than or equal to 1");
        assert_eq!(e[0]["loc"], json!(["body", "grace_period_hours"]));
        let e = parse_rotate(br#"{"grace_period_hours": 169}"#).unwrap_err();
        assert_eq!(e[0]["msg"], "Input should be less than or equal to 168");
        let e =
            parse_rotate(format!(r#"{{"reason": "{}"}}"#, "x".repeat(256)).as_bytes()).unwrap_err();
        assert_eq!(e[0]["type"], "string_too_long");
        assert_eq!(
            parse_rotate(b"[1]").unwrap_err()[0]["type"],
            "model_attributes_type"
        );
        assert_eq!(
            parse_rotate(b"{oops").unwrap_err()[0]["type"],
            "json_invalid"
        );
    }

    #[test]
    fn limiter_allows_ten_per_window_per_key() {
        let l = RateLimiter::new(10, StdDuration::from_secs(3600));
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(l.hit("a", t0).is_ok());
        }
        assert_eq!(l.hit("a", t0), Err(60));
        assert!(l.hit("b", t0).is_ok());
        assert!(l.hit("a", t0 + StdDuration::from_secs(3600)).is_ok());
    }
}
