//! The built-in gateway: binding checks in front of a few MCP-like endpoints, and
//! `/metrics`. One fallback handler serves every path, because the real binding
//! middleware runs on every non-exempt path, known or not.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;

use super::BindingCache;
use super::binding::{
    self, Checks, LEGACY_HEADER, Presented, Profile, STOA_FINGERPRINT_HEADER,
    STOA_NOT_AFTER_HEADER, STOA_VERIFY_HEADER, Verdict,
};
use super::gateway_log::GatewayLog;
use super::gateway_metrics::GatewayMetrics;

#[derive(Clone)]
pub struct GatewayState {
    pub checks: Arc<Checks>,
    pub cache: Arc<BindingCache>,
    pub metrics: Arc<GatewayMetrics>,
    pub log: Arc<GatewayLog>,
}

pub fn router(state: GatewayState) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// Headers the real gateway treats as "came through a proxy": `/metrics` and
/// `/health*` refuse them (internal only).
const PROXY_HEADERS: [&str; 3] = ["x-request-id", "x-forwarded-for", "x-forwarded-proto"];

async fn handle(State(s): State<GatewayState>, req: Request) -> Response {
    let start = Instant::now();
    let (parts, _body) = req.into_parts();
    let path = parts.uri.path();
    let method = method_label(&parts.method);
    let route = route_label(path);
    let response =
        if is_internal(path) && PROXY_HEADERS.iter().any(|h| parts.headers.contains_key(*h)) {
            json_response(StatusCode::FORBIDDEN, json!({"detail": "internal only"}))
        } else if path == "/metrics" {
            metrics(&s)
        } else {
            let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
            let presented = match s.checks.profile {
                Profile::Legacy => Presented {
                    path,
                    authorization: header(header::AUTHORIZATION.as_str()),
                    fingerprint: header(LEGACY_HEADER),
                    ..Default::default()
                },
                Profile::StoaGateway => Presented {
                    path,
                    authorization: header(header::AUTHORIZATION.as_str()),
                    fingerprint: header(STOA_FINGERPRINT_HEADER),
                    verify: header(STOA_VERIFY_HEADER),
                    not_after: header(STOA_NOT_AFTER_HEADER),
                },
            };
            let verdict = binding::check(&s.checks, &presented, &s.cache.get(), Utc::now());
            s.metrics.record_verdict(&verdict);
            s.log.record(&verdict, &presented);
            match verdict {
                Verdict::Rejected(f) => refusal(s.checks.profile, &f),
                _ => endpoint(s.checks.profile, &parts.method, path),
            }
        };
    s.metrics
        .record_request(route, method, response.status().as_u16(), start.elapsed());
    response
}

fn is_internal(path: &str) -> bool {
    path == "/metrics" || path.starts_with("/health")
}

fn metrics(s: &GatewayState) -> Response {
    let mut r = s.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

fn refusal(profile: Profile, f: &binding::Failure) -> Response {
    match profile {
        Profile::Legacy => {
            let mut r = json_response(
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_token", "error_description": f.legacy_description()}),
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            r
        }
        Profile::StoaGateway => {
            let (code, detail) = f.stoa_code();
            json_response(
                StatusCode::FORBIDDEN,
                json!({"error": code, "detail": detail}),
            )
        }
    }
}

/// What answers once binding has passed (or had nothing to check).
fn endpoint(profile: Profile, method: &Method, path: &str) -> Response {
    match (profile, method, path) {
        (_, &Method::GET, p) if p.starts_with("/health") || p == "/ready" || p == "/live" => {
            json_response(
                StatusCode::OK,
                json!({"status": "healthy", "service": "mtls-console built-in gateway"}),
            )
        }
        (Profile::Legacy, &Method::GET, "/mcp/v1/" | "/mcp/v1") => json_response(
            StatusCode::OK,
            json!({"name": "stoa-mcp-gateway", "version": "builtin", "protocol_version": "1.0",
                   "capabilities": {"tools": true, "resources": true, "prompts": false, "sampling": false}}),
        ),
        (Profile::Legacy, &Method::POST, "/mcp/v1/tools/echo/invoke") => json_response(
            StatusCode::OK,
            json!({"content": [{"type": "text", "text": "echo"}], "isError": false}),
        ),
        (Profile::Legacy, _, "/mcp/v1/tools/echo/invoke") => json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"detail": "Method Not Allowed"}),
        ),
        (Profile::StoaGateway, &Method::POST, "/mcp/resources/list") => {
            json_response(StatusCode::OK, json!({"resources": []}))
        }
        (Profile::StoaGateway, &Method::POST, "/mcp/tools/list") => {
            json_response(StatusCode::OK, json!({"tools": []}))
        }
        (Profile::StoaGateway, _, _) => {
            (StatusCode::NOT_FOUND, "No matching API route").into_response()
        }
        _ => json_response(StatusCode::NOT_FOUND, json!({"detail": "Not Found"})),
    }
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Bounded label values: unknown paths share one label, so no client can grow the page.
fn route_label(path: &str) -> &'static str {
    match path {
        "/mcp/v1/" | "/mcp/v1" => "/mcp/v1/",
        "/mcp/v1/tools/echo/invoke" => "/mcp/v1/tools/echo/invoke",
        "/mcp/resources/list" => "/mcp/resources/list",
        "/mcp/tools/list" => "/mcp/tools/list",
        "/metrics" => "/metrics",
        p if p.starts_with("/health") => "/health",
        _ => "other",
    }
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        _ => "OTHER",
    }
}
