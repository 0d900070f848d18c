//! The built-in gateway's JSON-lines log of binding failures, in the legacy
//! gateway's format (structlog: `event`, `subject`, prefixes, `logger`, `level`),
//! so a console following it sees what it would see on the real gateway.

use std::fs::{File, OpenOptions};
use std::io::{LineWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use serde_json::json;

use super::binding::{Failure, Presented, Verdict};
use crate::domain::token;

pub struct GatewayLog {
    out: Option<Mutex<LineWriter<File>>>,
}

impl GatewayLog {
    pub fn disabled() -> Self {
        Self { out: None }
    }

    pub fn to_file(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            out: Some(Mutex::new(LineWriter::new(file))),
        })
    }

    /// Logs a refusal; passes, exemptions and successes are not logged, as on the
    /// legacy gateway.
    pub fn record(&self, verdict: &Verdict, req: &Presented) {
        let (Some(out), Verdict::Rejected(failure)) = (&self.out, verdict) else {
            return;
        };
        let line = event(failure, req).to_string();
        let mut w = out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(w, "{line}");
    }
}

fn prefix(s: &str) -> String {
    format!("{}...", s.chars().take(16).collect::<String>())
}

fn event(failure: &Failure, req: &Presented) -> serde_json::Value {
    let claims = req
        .authorization
        .and_then(|a| a.split_once(' '))
        .and_then(|(_, t)| token::decode_unverified(t.trim()));
    let subject = claims.as_ref().map(|c| c.sub.clone());
    let x5t = claims
        .and_then(|c| c.cnf)
        .and_then(|c| c.x5t_s256)
        .unwrap_or_default();
    let timestamp = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let mut v = json!({
        "subject": subject,
        "event": match failure {
            Failure::Mismatch => "Certificate binding: fingerprint mismatch",
            Failure::MissingHeader => "Certificate binding: header missing for cert-bound token",
            Failure::InvalidCnf => "Certificate binding: cnf claim missing x5t#S256",
            Failure::InvalidSignature => "Certificate binding: token signature invalid",
            Failure::Expired => "Certificate binding: token expired",
            Failure::Revoked => "Certificate binding: client certificate revoked",
            Failure::GraceExpired => "Certificate binding: previous certificate grace period ended",
            Failure::UnknownCertificate => "Certificate binding: certificate not registered for client",
            _ => "Certificate binding: rejected",
        },
        "reason": failure.reason(),
        "logger": "src.middleware.cert_binding",
        "level": "warning",
        "timestamp": timestamp,
    });
    match failure {
        Failure::MissingHeader => v["header"] = json!("X-SSL-Client-Cert-SHA256"),
        Failure::InvalidCnf => {}
        _ => {
            v["expected_prefix"] = json!(prefix(&x5t));
            v["received_prefix"] = json!(prefix(req.fingerprint.unwrap_or_default()));
        }
    }
    v
}
