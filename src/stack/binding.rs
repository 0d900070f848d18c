//! The gateway's certificate-binding decision, as a pure function of the request's
//! path and headers, the registry and the clock: every branch is a unit test.
//!
//! Legacy profile: contract §6 in its order. Current profile (`stoa-gateway`): §6b.
//! Both add, when enabled, what the legacy middleware leaves to other layers: the
//! token's signature and expiry, and the registry (revoked clients, grace periods).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jsonwebtoken::DecodingKey;

use crate::domain::token::{self, Claims, TokenRejection};
use crate::domain::{Client, ClientStatus, Fingerprint};

/// Paths the legacy gateway never checks: a plain prefix match, as the real one does
/// (so `/healthcheck` is exempt and `/api/health` is not).
pub const LEGACY_EXEMPT: [&str; 11] = [
    "/health",
    "/ready",
    "/live",
    "/metrics",
    "/healthz",
    "/status",
    "/.well-known",
    "/favicon",
    "/docs",
    "/redoc",
    "/openapi.json",
];

/// Paths the current gateway never checks.
pub const STOA_SKIP: [&str; 6] = [
    "/mcp/v1/",
    "/mcp/tools/",
    "/health",
    "/metrics",
    "/.well-known/",
    "/ready",
];

pub const LEGACY_HEADER: &str = "x-ssl-client-cert-sha256";
pub const STOA_VERIFY_HEADER: &str = "x-ssl-client-verify";
pub const STOA_FINGERPRINT_HEADER: &str = "x-ssl-client-fingerprint";
pub const STOA_NOT_AFTER_HEADER: &str = "x-ssl-client-notafter";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Profile {
    /// STOA's legacy MCP gateway: X-SSL-Client-Cert-SHA256, 401 invalid_token
    #[default]
    Legacy,
    /// STOA's current Rust gateway: X-SSL-Client-Verify/-Fingerprint, 403 MTLS_*
    StoaGateway,
}

/// How the TLS proxy encodes the fingerprint header (legacy profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum HeaderFormat {
    /// Hex, any case, colons allowed
    #[default]
    Hex,
    /// Unpadded base64url
    Base64url,
    /// Colon-separated hex
    ColonHex,
}

/// Why a binding check failed. `reason()` is the metric label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    InvalidCnf,
    MissingHeader,
    Mismatch,
    InvalidSignature,
    Expired,
    Revoked,
    GraceExpired,
    UnknownCertificate,
    /// Current profile: a certificate but no certificate-bound token.
    BindingRequired,
    /// Current profile: the proxy's certificate headers are unusable.
    CertInvalid(String),
    /// Current profile: the certificate's NotAfter is past.
    CertExpired(String),
}

impl Failure {
    pub const LEGACY_REASONS: [&'static str; 8] = [
        "mismatch",
        "missing_header",
        "invalid_cnf",
        "invalid_signature",
        "expired",
        "revoked",
        "grace_expired",
        "unknown_certificate",
    ];

    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidCnf => "invalid_cnf",
            Self::MissingHeader => "missing_header",
            Self::Mismatch => "mismatch",
            Self::InvalidSignature => "invalid_signature",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::GraceExpired => "grace_expired",
            Self::UnknownCertificate => "unknown_certificate",
            Self::BindingRequired => "binding_required",
            Self::CertInvalid(_) => "cert_invalid",
            Self::CertExpired(_) => "cert_expired",
        }
    }

    /// The legacy gateway's `error_description` (exact for its own three reasons).
    pub fn legacy_description(&self) -> String {
        match self {
            Self::InvalidCnf => "Invalid cnf claim: missing x5t#S256".into(),
            Self::MissingHeader => {
                "Certificate binding required but X-SSL-Client-Cert-SHA256 header missing".into()
            }
            Self::Mismatch => "Certificate binding validation failed".into(),
            Self::InvalidSignature => "Token signature verification failed".into(),
            Self::Expired => "Token has expired".into(),
            Self::Revoked => "Client certificate revoked".into(),
            Self::GraceExpired => "Previous certificate grace period has ended".into(),
            Self::UnknownCertificate => "Certificate not registered for this client".into(),
            other => format!("Certificate binding failed: {}", other.reason()),
        }
    }

    /// The current gateway's 403 code and detail.
    pub fn stoa_code(&self) -> (&'static str, String) {
        match self {
            Self::Mismatch => (
                "MTLS_BINDING_MISMATCH",
                "certificate binding mismatch".into(),
            ),
            Self::BindingRequired | Self::InvalidCnf => (
                "MTLS_BINDING_REQUIRED",
                "certificate-bound token required".into(),
            ),
            Self::CertInvalid(d) => (
                "MTLS_CERT_INVALID",
                format!("client certificate validation failed: {d}"),
            ),
            Self::CertExpired(d) => (
                "MTLS_CERT_EXPIRED",
                format!("client certificate expired on {d}"),
            ),
            Self::MissingHeader => (
                "MTLS_CERT_INVALID",
                "client certificate validation failed: missing fingerprint header".into(),
            ),
            Self::InvalidSignature | Self::Expired => {
                ("MTLS_TOKEN_INVALID", self.legacy_description())
            }
            Self::Revoked | Self::GraceExpired | Self::UnknownCertificate => {
                ("MTLS_CERT_REVOKED", self.legacy_description())
            }
        }
    }

    /// The current gateway's `stoa_mtls_binding_checks_total` result for it.
    pub fn stoa_result(&self) -> &'static str {
        match self {
            Self::Mismatch => "mismatch",
            Self::CertInvalid(_) | Self::MissingHeader => "error",
            _ => "denied",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The path is never checked.
    Exempt,
    /// Nothing to check (no token, undecodable token, no cnf, no certificate):
    /// the request goes on to other layers.
    PassedOn,
    /// Certificate and token agree (and, when enabled, the registry does too).
    Success,
    Rejected(Failure),
}

/// What the registry says about a client, as the gateway caches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientBinding {
    pub active: bool,
    pub revoked: bool,
    pub current: Option<Fingerprint>,
    pub previous: Option<Fingerprint>,
    pub previous_until: Option<DateTime<Utc>>,
}

impl From<&Client> for ClientBinding {
    fn from(c: &Client) -> Self {
        Self {
            active: c.status == ClientStatus::Active,
            revoked: c.status == ClientStatus::Revoked,
            current: c.fingerprint,
            previous: c.fingerprint_previous,
            previous_until: c.previous_cert_expires_at,
        }
    }
}

pub type Bindings = HashMap<String, ClientBinding>;

/// The gateway's checking options.
#[derive(Clone)]
pub struct Checks {
    pub profile: Profile,
    pub header_format: HeaderFormat,
    /// Verify the token's HS256 signature and `exp` (None: the legacy behaviour).
    pub verify_key: Option<DecodingKey>,
    /// Check the presented certificate against the registry.
    pub registry_aware: bool,
}

/// The parts of a request the check reads (header names lowercase).
#[derive(Debug, Default, Clone, Copy)]
pub struct Presented<'a> {
    pub path: &'a str,
    pub authorization: Option<&'a str>,
    /// Legacy: X-SSL-Client-Cert-SHA256. Current: X-SSL-Client-Fingerprint.
    pub fingerprint: Option<&'a str>,
    /// Current: X-SSL-Client-Verify.
    pub verify: Option<&'a str>,
    /// Current: X-SSL-Client-NotAfter (RFC 3339).
    pub not_after: Option<&'a str>,
}

pub fn check(checks: &Checks, req: &Presented, bindings: &Bindings, now: DateTime<Utc>) -> Verdict {
    match checks.profile {
        Profile::Legacy => check_legacy(checks, req, bindings, now),
        Profile::StoaGateway => check_stoa(checks, req, bindings, now),
    }
}

fn bearer(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Decodes the token; `Err(Some(f))` rejects, `Err(None)` passes the request on.
fn read_token(checks: &Checks, token: &str, now: DateTime<Utc>) -> Result<Claims, Option<Failure>> {
    let Some(claims) = token::decode_unverified(token) else {
        return Err(None);
    };
    if let Some(key) = &checks.verify_key {
        match token::verify(token, key) {
            Ok(_) => {}
            Err(TokenRejection::BadSignature) => return Err(Some(Failure::InvalidSignature)),
            Err(TokenRejection::Expired) => return Err(Some(Failure::Expired)),
            Err(TokenRejection::Malformed) => return Err(Some(Failure::InvalidSignature)),
        }
        // jsonwebtoken checks exp against the system clock; the injected clock rules.
        if claims.exp <= now.timestamp() {
            return Err(Some(Failure::Expired));
        }
    }
    Ok(claims)
}

fn parse_header(value: &str, format: HeaderFormat) -> Option<Fingerprint> {
    let v = value.trim();
    match format {
        HeaderFormat::Hex | HeaderFormat::ColonHex => {
            let hex: String = v.chars().filter(|c| *c != ':').collect();
            (hex.len() == 64).then(|| Fingerprint::parse(&hex).ok())?
        }
        HeaderFormat::Base64url => {
            (v.trim_end_matches('=').len() == 43).then(|| Fingerprint::parse(v).ok())?
        }
    }
}

/// After certificate and token agree: is that certificate the client's, now?
fn registry_check(
    client_id: &str,
    presented: &Fingerprint,
    bindings: &Bindings,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let Some(b) = bindings.get(client_id) else {
        return Err(Failure::UnknownCertificate);
    };
    if b.revoked || !b.active {
        return Err(Failure::Revoked);
    }
    if b.current.is_some_and(|c| c.ct_eq(presented)) {
        return Ok(());
    }
    if b.previous.is_some_and(|p| p.ct_eq(presented)) {
        return match b.previous_until {
            Some(until) if until > now => Ok(()),
            _ => Err(Failure::GraceExpired),
        };
    }
    Err(Failure::UnknownCertificate)
}

/// The common end of both profiles: token and certificate must agree, and (when
/// enabled) the certificate must be the client's, now.
fn bound_verdict(
    checks: &Checks,
    client_id: &str,
    bound: &Fingerprint,
    presented: &Fingerprint,
    bindings: &Bindings,
    now: DateTime<Utc>,
) -> Verdict {
    if !bound.ct_eq(presented) {
        return Verdict::Rejected(Failure::Mismatch);
    }
    if checks.registry_aware
        && let Err(f) = registry_check(client_id, presented, bindings, now)
    {
        return Verdict::Rejected(f);
    }
    Verdict::Success
}

fn check_legacy(
    checks: &Checks,
    req: &Presented,
    bindings: &Bindings,
    now: DateTime<Utc>,
) -> Verdict {
    if LEGACY_EXEMPT.iter().any(|p| req.path.starts_with(p)) {
        return Verdict::Exempt;
    }
    let Some(token) = bearer(req.authorization) else {
        return Verdict::PassedOn;
    };
    let claims = match read_token(checks, token, now) {
        Ok(c) => c,
        Err(None) => return Verdict::PassedOn,
        Err(Some(f)) => return Verdict::Rejected(f),
    };
    let Some(cnf) = claims.cnf else {
        return Verdict::PassedOn;
    };
    let Some(x5t) = cnf.x5t_s256 else {
        return Verdict::Rejected(Failure::InvalidCnf);
    };
    let Some(header) = req.fingerprint else {
        return Verdict::Rejected(Failure::MissingHeader);
    };
    let (Ok(bound), Some(presented)) = (
        Fingerprint::parse(&x5t),
        parse_header(header, checks.header_format),
    ) else {
        return Verdict::Rejected(Failure::Mismatch);
    };
    bound_verdict(checks, &claims.sub, &bound, &presented, bindings, now)
}

fn check_stoa(
    checks: &Checks,
    req: &Presented,
    bindings: &Bindings,
    now: DateTime<Utc>,
) -> Verdict {
    if STOA_SKIP.iter().any(|p| req.path.starts_with(p)) {
        return Verdict::Exempt;
    }
    if req.verify.is_none() && req.fingerprint.is_none() {
        return Verdict::PassedOn;
    }
    match req.verify.map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("SUCCESS") => {}
        Some(v) => return Verdict::Rejected(Failure::CertInvalid(v.to_string())),
        None => return Verdict::Rejected(Failure::CertInvalid("missing verify header".into())),
    }
    let Some(fp_header) = req.fingerprint else {
        return Verdict::Rejected(Failure::MissingHeader);
    };
    let Ok(presented) = Fingerprint::parse(fp_header) else {
        return Verdict::Rejected(Failure::CertInvalid("malformed fingerprint header".into()));
    };
    if let Some(na) = req.not_after
        && let Ok(t) = DateTime::parse_from_rfc3339(na.trim())
        && t < now
    {
        return Verdict::Rejected(Failure::CertExpired(t.to_rfc3339()));
    }
    let Some(token) = bearer(req.authorization) else {
        return Verdict::Rejected(Failure::BindingRequired);
    };
    let claims = match read_token(checks, token, now) {
        Ok(c) => c,
        Err(None) => return Verdict::Rejected(Failure::BindingRequired),
        Err(Some(f)) => return Verdict::Rejected(f),
    };
    let Some(x5t) = claims.cnf.and_then(|c| c.x5t_s256) else {
        return Verdict::Rejected(Failure::BindingRequired);
    };
    let bound = match Fingerprint::parse(&x5t) {
        Ok(b) => b,
        Err(e) => {
            return Verdict::Rejected(Failure::CertInvalid(format!(
                "base64url decode failed: {e}"
            )));
        }
    };
    bound_verdict(checks, &claims.sub, &bound, &presented, bindings, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::token::{Binding, DEMO_SECRET, TokenMinter};
    use crate::secret::Secret;
    use chrono::Duration;

    const ID: &str = "c85132b6-e842-41d1-9658-052b393ff16e";

    fn fp(b: u8) -> Fingerprint {
        Fingerprint::from_bytes([b; 32])
    }

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    fn token(binding: Binding, iat: i64, secret: &str) -> String {
        let t = TokenMinter::new(&Secret::new(secret))
            .unwrap()
            .mint(ID, "acme", binding, iat);
        format!("Bearer {t}")
    }

    fn valid(b: u8) -> String {
        token(Binding::Bound(fp(b)), now().timestamp(), DEMO_SECRET)
    }

    fn checks(profile: Profile, strict: bool) -> Checks {
        Checks {
            profile,
            header_format: HeaderFormat::Hex,
            verify_key: strict.then(|| token::decoding_key(&Secret::new(DEMO_SECRET)).unwrap()),
            registry_aware: strict,
        }
    }

    fn bindings(previous_until: Option<DateTime<Utc>>, active: bool) -> Bindings {
        HashMap::from([(
            ID.to_string(),
            ClientBinding {
                active,
                revoked: !active,
                current: Some(fp(1)),
                previous: Some(fp(2)),
                previous_until,
            },
        )])
    }

    fn legacy(
        strict: bool,
        path: &str,
        auth: Option<&str>,
        header: Option<&str>,
        b: &Bindings,
    ) -> Verdict {
        check(
            &checks(Profile::Legacy, strict),
            &Presented {
                path,
                authorization: auth,
                fingerprint: header,
                ..Default::default()
            },
            b,
            now(),
        )
    }

    #[test]
    fn legacy_order_of_checks() {
        let b = bindings(None, true);
        let hex = fp(1).to_hex();
        let ok = valid(1);
        for strict in [false, true] {
            // Exempt prefixes, plain prefix match.
            assert_eq!(
                legacy(strict, "/health", Some(&ok), None, &b),
                Verdict::Exempt
            );
            assert_eq!(
                legacy(strict, "/healthcheck", Some(&ok), None, &b),
                Verdict::Exempt
            );
            assert_eq!(legacy(strict, "/metrics", None, None, &b), Verdict::Exempt);
            assert_eq!(
                legacy(strict, "/api/health", Some(&ok), None, &b),
                Verdict::Rejected(Failure::MissingHeader)
            );
            // 1. no bearer, undecodable token: passed on.
            assert_eq!(
                legacy(strict, "/mcp/v1/", None, Some(&hex), &b),
                Verdict::PassedOn
            );
            assert_eq!(
                legacy(strict, "/mcp/v1/", Some("Basic abc"), Some(&hex), &b),
                Verdict::PassedOn
            );
            assert_eq!(
                legacy(strict, "/mcp/v1/", Some("Bearer not-a-jwt"), Some(&hex), &b),
                Verdict::PassedOn
            );
            // 2. no cnf: passed on.
            let unbound = token(Binding::Unbound, now().timestamp(), DEMO_SECRET);
            assert_eq!(
                legacy(strict, "/mcp/v1/", Some(&unbound), Some(&hex), &b),
                Verdict::PassedOn
            );
            // 3. cnf without x5t#S256.
            let no_x5t = token(
                Binding::CnfWithoutThumbprint,
                now().timestamp(),
                DEMO_SECRET,
            );
            assert_eq!(
                legacy(strict, "/mcp/v1/", Some(&no_x5t), Some(&hex), &b),
                Verdict::Rejected(Failure::InvalidCnf)
            );
            // 4. header missing.
            assert_eq!(
                legacy(strict, "/mcp/v1/", Some(&ok), None, &b),
                Verdict::Rejected(Failure::MissingHeader)
            );
            // 5. mismatch either way, and garbage headers.
            assert_eq!(
                legacy(strict, "/mcp/v1/", Some(&ok), Some(&"0".repeat(64)), &b),
                Verdict::Rejected(Failure::Mismatch)
            );
            assert_eq!(
                legacy(strict, "/mcp/v1/", Some(&valid(0)), Some(&hex), &b),
                Verdict::Rejected(Failure::Mismatch)
            );
            assert_eq!(
                legacy(strict, "/mcp/v1/", Some(&ok), Some("zzz"), &b),
                Verdict::Rejected(Failure::Mismatch)
            );
            // 6. equal, in any case and with colons.
            assert_eq!(
                legacy(strict, "/mcp/v1/", Some(&ok), Some(&hex), &b),
                Verdict::Success
            );
            assert_eq!(
                legacy(strict, "/mcp/v1/", Some(&ok), Some(&hex.to_uppercase()), &b),
                Verdict::Success
            );
            assert_eq!(
                legacy(
                    strict,
                    "/anything/else",
                    Some(&ok),
                    Some(&fp(1).to_colon_hex()),
                    &b
                ),
                Verdict::Success
            );
        }
    }

    #[test]
    fn signature_and_expiry_when_enabled() {
        let b = bindings(None, true);
        let hex = fp(1).to_hex();
        let forged = token(Binding::Bound(fp(1)), now().timestamp(), "attacker");
        let old = token(Binding::Bound(fp(1)), now().timestamp() - 7200, DEMO_SECRET);
        assert_eq!(
            legacy(false, "/mcp/v1/", Some(&forged), Some(&hex), &b),
            Verdict::Success
        );
        assert_eq!(
            legacy(true, "/mcp/v1/", Some(&forged), Some(&hex), &b),
            Verdict::Rejected(Failure::InvalidSignature)
        );
        assert_eq!(
            legacy(true, "/mcp/v1/", Some(&old), Some(&hex), &b),
            Verdict::Rejected(Failure::Expired)
        );
    }

    #[test]
    fn registry_decides_grace_and_revocation() {
        let in_grace = bindings(Some(now() + Duration::seconds(30)), true);
        let ended = bindings(Some(now() - Duration::seconds(1)), true);
        let revoked = bindings(None, false);
        let (cur, prev) = (fp(1).to_hex(), fp(2).to_hex());
        assert_eq!(
            legacy(true, "/mcp/v1/", Some(&valid(1)), Some(&cur), &in_grace),
            Verdict::Success
        );
        assert_eq!(
            legacy(true, "/mcp/v1/", Some(&valid(2)), Some(&prev), &in_grace),
            Verdict::Success
        );
        assert_eq!(
            legacy(true, "/mcp/v1/", Some(&valid(2)), Some(&prev), &ended),
            Verdict::Rejected(Failure::GraceExpired)
        );
        assert_eq!(
            legacy(true, "/mcp/v1/", Some(&valid(1)), Some(&cur), &revoked),
            Verdict::Rejected(Failure::Revoked)
        );
        assert_eq!(
            legacy(
                true,
                "/mcp/v1/",
                Some(&valid(3)),
                Some(&fp(3).to_hex()),
                &in_grace
            ),
            Verdict::Rejected(Failure::UnknownCertificate)
        );
        assert_eq!(
            legacy(
                true,
                "/mcp/v1/",
                Some(&valid(1)),
                Some(&cur),
                &Bindings::new()
            ),
            Verdict::Rejected(Failure::UnknownCertificate)
        );
        // Switched off, the legacy gateway knows nothing of the registry.
        assert_eq!(
            legacy(false, "/mcp/v1/", Some(&valid(2)), Some(&prev), &ended),
            Verdict::Success
        );
    }

    #[test]
    fn header_formats() {
        let b = bindings(None, true);
        let mut c = checks(Profile::Legacy, false);
        let req = |h: &str, c: &Checks| {
            let auth = valid(1);
            check(
                c,
                &Presented {
                    path: "/x",
                    authorization: Some(&auth),
                    fingerprint: Some(h),
                    ..Default::default()
                },
                &b,
                now(),
            )
        };
        assert_eq!(
            req(&fp(1).to_base64url(), &c),
            Verdict::Rejected(Failure::Mismatch)
        );
        c.header_format = HeaderFormat::Base64url;
        assert_eq!(req(&fp(1).to_base64url(), &c), Verdict::Success);
        assert_eq!(
            req(&fp(1).to_hex(), &c),
            Verdict::Rejected(Failure::Mismatch)
        );
        c.header_format = HeaderFormat::ColonHex;
        assert_eq!(req(&fp(1).to_colon_hex(), &c), Verdict::Success);
    }

    #[test]
    fn current_profile() {
        let b = bindings(None, true);
        let c = checks(Profile::StoaGateway, true);
        let hex = fp(1).to_hex();
        let ok = valid(1);
        let stoa = |path: &str,
                    auth: Option<&str>,
                    verify: Option<&str>,
                    fph: Option<&str>,
                    na: Option<&str>| {
            check(
                &c,
                &Presented {
                    path,
                    authorization: auth,
                    fingerprint: fph,
                    verify,
                    not_after: na,
                },
                &b,
                now(),
            )
        };
        let s = Some("SUCCESS");
        assert_eq!(
            stoa("/mcp/resources/list", Some(&ok), s, Some(&hex), None),
            Verdict::Success
        );
        assert_eq!(
            stoa(
                "/mcp/resources/list",
                Some(&ok),
                s,
                Some(&fp(1).to_base64url()),
                None
            ),
            Verdict::Success
        );
        assert_eq!(
            stoa("/mcp/tools/list", Some(&valid(0)), s, Some(&hex), None),
            Verdict::Exempt
        );
        assert_eq!(
            stoa("/apis/demo", Some(&ok), None, None, None),
            Verdict::PassedOn
        );
        assert_eq!(
            stoa("/apis/demo", Some(&valid(0)), s, Some(&hex), None),
            Verdict::Rejected(Failure::Mismatch)
        );
        assert_eq!(
            stoa("/apis/demo", None, s, Some(&hex), None),
            Verdict::Rejected(Failure::BindingRequired)
        );
        let unbound = token(Binding::Unbound, now().timestamp(), DEMO_SECRET);
        assert_eq!(
            stoa("/apis/demo", Some(&unbound), s, Some(&hex), None),
            Verdict::Rejected(Failure::BindingRequired)
        );
        assert_eq!(
            stoa("/apis/demo", Some(&ok), Some("FAILED"), Some(&hex), None),
            Verdict::Rejected(Failure::CertInvalid("FAILED".into()))
        );
        assert_eq!(
            stoa("/apis/demo", Some(&ok), s, None, None),
            Verdict::Rejected(Failure::MissingHeader)
        );
        assert!(matches!(
            stoa(
                "/apis/demo",
                Some(&ok),
                s,
                Some(&hex),
                Some("2020-01-01T00:00:00+00:00")
            ),
            Verdict::Rejected(Failure::CertExpired(_))
        ));
        let (code, detail) = Failure::Mismatch.stoa_code();
        assert_eq!(
            (code, detail.as_str()),
            ("MTLS_BINDING_MISMATCH", "certificate binding mismatch")
        );
    }
}
