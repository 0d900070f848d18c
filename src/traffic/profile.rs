//! Gateway profiles: which headers carry the certificate, which path to target,
//! and how to read a refusal. Tested on the real gateways' answers.

use serde::Serialize;

use crate::scrape::FamilyKind;
use crate::stack::binding::{LEGACY_EXEMPT, STOA_SKIP};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProfileChoice {
    /// Pick from the families the gateway's /metrics declares
    #[default]
    Auto,
    /// STOA's legacy MCP gateway
    Legacy,
    /// STOA's current Rust gateway
    StoaGateway,
    /// Header names given with --cert-header / --verify-header
    Custom,
}

/// A resolved profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub kind: ProfileKind,
    /// Header carrying the certificate fingerprint.
    pub cert_header: String,
    /// Header carrying the proxy's verification result (`SUCCESS`), if any.
    pub verify_header: Option<String>,
    pub method: HttpMethod,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileKind {
    Legacy,
    StoaGateway,
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HttpMethod {
    Get,
    Post,
}

impl Profile {
    pub fn legacy() -> Self {
        Self {
            kind: ProfileKind::Legacy,
            cert_header: "X-SSL-Client-Cert-SHA256".into(),
            verify_header: None,
            method: HttpMethod::Get,
            path: "/mcp/v1/".into(),
        }
    }

    pub fn stoa_gateway() -> Self {
        Self {
            kind: ProfileKind::StoaGateway,
            cert_header: "X-SSL-Client-Fingerprint".into(),
            verify_header: Some("X-SSL-Client-Verify".into()),
            method: HttpMethod::Post,
            path: "/mcp/resources/list".into(),
        }
    }

    pub fn from_family(kind: Option<FamilyKind>) -> Self {
        match kind {
            Some(FamilyKind::StoaGateway) => Self::stoa_gateway(),
            _ => Self::legacy(),
        }
    }

    /// Preflight (contract flaw F1): a path the gateway never checks makes binding
    /// traffic pointless. Returns the warning and a checked path to use instead.
    pub fn exempt_warning(&self, path: &str) -> Option<String> {
        let exempt = match self.kind {
            ProfileKind::Legacy => LEGACY_EXEMPT.iter().any(|p| path.starts_with(p)),
            ProfileKind::StoaGateway => STOA_SKIP.iter().any(|p| path.starts_with(p)),
            ProfileKind::Custom => false,
        };
        exempt.then(|| {
            let suggestion = match self.kind {
                ProfileKind::StoaGateway => Self::stoa_gateway().path,
                _ => Self::legacy().path,
            };
            format!(
                "{path} is never checked by this gateway, so no binding counter will move: target a checked path such as {suggestion} (--endpoint)"
            )
        })
    }
}

/// What the gateway said about one request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum Outcome {
    /// Binding passed (or had nothing to check): any answer that is not a refusal.
    Passed(u16),
    /// The binding layer refused, with its reason.
    Rejected(&'static str),
    /// A 401/403 that is not a binding refusal (another auth layer).
    Denied(u16),
    Timeout,
    ConnectError,
}

impl Outcome {
    pub fn label(&self) -> String {
        match self {
            Outcome::Passed(s) if (200..300).contains(s) => "passed".into(),
            Outcome::Passed(s) => format!("passed, then {s}"),
            Outcome::Rejected(r) => format!("rejected: {r}"),
            Outcome::Denied(s) => format!("denied {s}"),
            Outcome::Timeout => "timeout".into(),
            Outcome::ConnectError => "connection error".into(),
        }
    }
}

/// Reads an answer: status and (for refusals) the JSON body.
pub fn classify(kind: ProfileKind, status: u16, body: &[u8]) -> Outcome {
    match (kind, status) {
        (ProfileKind::Legacy | ProfileKind::Custom, 401) => {
            legacy_reason(body).map_or(Outcome::Denied(401), Outcome::Rejected)
        }
        (ProfileKind::StoaGateway | ProfileKind::Custom, 401 | 403) => {
            stoa_reason(body).map_or(Outcome::Denied(status), Outcome::Rejected)
        }
        (_, 403) => Outcome::Denied(403),
        (_, s) => Outcome::Passed(s),
    }
}

/// The legacy gateway's 401 body → failure reason (the metric's label).
pub fn legacy_reason(body: &[u8]) -> Option<&'static str> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    if v.get("error")?.as_str()? != "invalid_token" {
        return None;
    }
    let d = v.get("error_description")?.as_str()?;
    let reason = match d {
        "Certificate binding validation failed" => "mismatch",
        d if d.starts_with("Certificate binding required but") => "missing_header",
        d if d.starts_with("Invalid cnf claim") => "invalid_cnf",
        "Token signature verification failed" => "invalid_signature",
        "Token has expired" => "expired",
        "Client certificate revoked" => "revoked",
        "Previous certificate grace period has ended" => "grace_expired",
        "Certificate not registered for this client" => "unknown_certificate",
        _ => "other",
    };
    Some(reason)
}

/// The current gateway's `{"error": "MTLS_…"}` → failure reason.
pub fn stoa_reason(body: &[u8]) -> Option<&'static str> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = v.get("error")?.as_str()?;
    let reason = match code {
        "MTLS_BINDING_MISMATCH" => "mismatch",
        "MTLS_BINDING_REQUIRED" => "binding_required",
        "MTLS_CERT_INVALID" => "cert_invalid",
        "MTLS_CERT_EXPIRED" => "cert_expired",
        "MTLS_CERT_REQUIRED" => "cert_required",
        "MTLS_UNTRUSTED_PROXY" => "untrusted_proxy",
        "MTLS_TOKEN_INVALID" => "token_invalid",
        "MTLS_CERT_REVOKED" => "revoked",
        c if c.starts_with("MTLS_") => "other",
        _ => return None,
    };
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn legacy_answers_from_the_real_gateway() {
        let text = fixture("legacy-gateway-responses.txt");
        let mut seen = 0;
        for line in text.lines() {
            let mut f = line.split_whitespace();
            let (case, _method, _path, status) =
                (f.next().unwrap(), f.next(), f.next(), f.next().unwrap());
            let status: u16 = status.parse().unwrap();
            let body = line.find('{').map_or("", |i| &line[i..]);
            let outcome = classify(ProfileKind::Legacy, status, body.as_bytes());
            let want = match case {
                "header-mismatch" | "jwt-mismatch" => Outcome::Rejected("mismatch"),
                "missing-header" => Outcome::Rejected("missing_header"),
                "invalid-cnf" => Outcome::Rejected("invalid_cnf"),
                _ => Outcome::Passed(status),
            };
            assert_eq!(outcome, want, "{line}");
            seen += 1;
        }
        assert_eq!(seen, 21);
        // A 503 after binding passed is a pass for binding, a failure end to end.
        assert_eq!(
            classify(
                ProfileKind::Legacy,
                503,
                br#"{"detail":"Authentication service unavailable"}"#
            ),
            Outcome::Passed(503)
        );
        assert_eq!(
            classify(
                ProfileKind::Legacy,
                401,
                br#"{"detail":"Not authenticated"}"#
            ),
            Outcome::Denied(401)
        );
    }

    #[test]
    fn current_gateway_answers_from_the_real_gateway() {
        let text = fixture("stoa-gateway-responses.txt");
        let mut reasons = std::collections::BTreeMap::new();
        for line in text.lines().filter(|l| l.contains(" -> ")) {
            let after = line.split(" -> ").nth(1).unwrap();
            let (status, body) = after.split_once(' ').unwrap();
            let status: u16 = status.trim().parse().unwrap();
            let outcome = classify(ProfileKind::StoaGateway, status, body.trim().as_bytes());
            *reasons.entry(outcome).or_insert(0) += 1;
        }
        assert_eq!(reasons[&Outcome::Rejected("mismatch")], 3);
        assert_eq!(reasons[&Outcome::Rejected("binding_required")], 2);
        assert_eq!(reasons[&Outcome::Rejected("cert_invalid")], 4);
        assert_eq!(reasons[&Outcome::Rejected("cert_expired")], 1);
        assert_eq!(reasons[&Outcome::Rejected("untrusted_proxy")], 1);
        assert_eq!(reasons[&Outcome::Passed(404)], 5);
        assert_eq!(reasons[&Outcome::Passed(503)], 1);
    }

    #[test]
    fn preflight_warns_on_exempt_paths() {
        let legacy = Profile::legacy();
        let w = legacy.exempt_warning("/health").unwrap();
        assert!(w.contains("/mcp/v1/"), "{w}");
        assert!(legacy.exempt_warning("/healthcheck").is_some());
        assert!(legacy.exempt_warning("/api/health").is_none());
        assert!(legacy.exempt_warning("/mcp/v1/").is_none());
        let stoa = Profile::stoa_gateway();
        assert!(
            stoa.exempt_warning("/mcp/v1/")
                .unwrap()
                .contains("/mcp/resources/list")
        );
        assert!(stoa.exempt_warning("/mcp/resources/list").is_none());
    }
}
