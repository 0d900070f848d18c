//! Recognizing the binding counters of STOA's gateways on a `/metrics` page, and
//! normalizing them to successes and failures by reason.

use std::collections::BTreeMap;

use serde::Serialize;

use super::exposition::{self, Page};

pub const LEGACY_SUCCESS: &str = "stoa_mcp_gateway_cert_binding_validations_total";
pub const LEGACY_FAILURES: &str = "stoa_mcp_gateway_cert_binding_failures_total";
pub const STOA_CHECKS: &str = "stoa_mtls_binding_checks_total";
pub const STOA_VALIDATIONS: &str = "stoa_mtls_validations_total";

/// Which gateway's families a page carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FamilyKind {
    /// The legacy MCP gateway (Python): `…cert_binding_validations/failures_total`.
    Legacy,
    /// The current Rust gateway: `stoa_mtls_binding_checks_total{result}`.
    StoaGateway,
    /// Names given with `--binding-metric`.
    Custom,
}

/// Whether the binding counters are there at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Samples present.
    Present,
    /// Declared (`# TYPE`/`# HELP`) but no sample yet: every count is zero.
    DeclaredNoSamples,
    /// Not on the page: binding is probably disabled on this gateway.
    Absent,
}

/// The binding figures of one page, normalized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BindingReading {
    pub kind: Option<FamilyKind>,
    pub presence: Presence,
    pub successes: f64,
    /// Failures by reason (legacy `reason`, current gateway `result`).
    pub failures: BTreeMap<String, f64>,
    /// The current gateway's `stoa_mtls_validations_total` by result, when present.
    pub validations: BTreeMap<String, f64>,
}

impl BindingReading {
    pub fn failures_total(&self) -> f64 {
        self.failures.values().sum()
    }

    /// What to tell the user when the families are missing.
    pub fn absent_hint() -> &'static str {
        "no certificate-binding counters on this gateway: binding is probably disabled \
         (legacy gateway: set CERT_BINDING_ENABLED=true; current gateway: enable mTLS binding), \
         or name the counter with --binding-metric"
    }
}

/// Success label values of custom counters.
const SUCCESS_VALUES: [&str; 4] = ["success", "match", "ok", "valid"];

fn is_binding_family(name: &str, custom: &[String]) -> bool {
    name.starts_with("stoa_mcp_gateway_cert_binding_")
        || name.starts_with("stoa_mtls_")
        || custom
            .iter()
            .any(|c| name == c || c.strip_suffix("_total") == Some(name))
}

/// Reads the binding figures from a `/metrics` page.
pub fn read(text: &str, custom: &[String]) -> BindingReading {
    let page = exposition::parse(text, |n| is_binding_family(n, custom));
    from_page(&page, custom)
}

pub fn from_page(page: &Page, custom: &[String]) -> BindingReading {
    let sum_by = |family: &str, label: &str| -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for s in page.samples.iter().filter(|s| s.name == family) {
            let key = s.label(label).unwrap_or("").to_string();
            *out.entry(key).or_insert(0.0) += s.value;
        }
        out
    };
    let has_samples = |family: &str| page.samples.iter().any(|s| s.name == family);

    if let Some(name) = custom.iter().find(|c| page.declares(c) || has_samples(c)) {
        let mut successes = 0.0;
        let mut failures = BTreeMap::new();
        for s in page.samples.iter().filter(|s| &s.name == name) {
            let key = ["reason", "result", "status"]
                .iter()
                .find_map(|l| s.label(l))
                .unwrap_or("failure");
            if SUCCESS_VALUES.contains(&key) {
                successes += s.value;
            } else {
                *failures.entry(key.to_string()).or_insert(0.0) += s.value;
            }
        }
        return reading(
            FamilyKind::Custom,
            has_samples(name),
            successes,
            failures,
            BTreeMap::new(),
        );
    }
    if page.declares(STOA_CHECKS) || has_samples(STOA_CHECKS) {
        let mut by_result = sum_by(STOA_CHECKS, "result");
        let successes = by_result.remove("match").unwrap_or(0.0);
        return reading(
            FamilyKind::StoaGateway,
            has_samples(STOA_CHECKS),
            successes,
            by_result,
            sum_by(STOA_VALIDATIONS, "result"),
        );
    }
    if [LEGACY_SUCCESS, LEGACY_FAILURES]
        .iter()
        .any(|f| page.declares(f) || has_samples(f))
    {
        let successes = sum_by(LEGACY_SUCCESS, "status")
            .get("success")
            .copied()
            .unwrap_or(0.0);
        return reading(
            FamilyKind::Legacy,
            has_samples(LEGACY_SUCCESS) || has_samples(LEGACY_FAILURES),
            successes,
            sum_by(LEGACY_FAILURES, "reason"),
            BTreeMap::new(),
        );
    }
    BindingReading {
        kind: None,
        presence: Presence::Absent,
        successes: 0.0,
        failures: BTreeMap::new(),
        validations: BTreeMap::new(),
    }
}

fn reading(
    kind: FamilyKind,
    has_samples: bool,
    successes: f64,
    failures: BTreeMap<String, f64>,
    validations: BTreeMap<String, f64>,
) -> BindingReading {
    BindingReading {
        kind: Some(kind),
        presence: if has_samples {
            Presence::Present
        } else {
            Presence::DeclaredNoSamples
        },
        successes,
        failures,
        validations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn legacy_fixture() {
        let r = read(&fixture("legacy-gateway-metrics.txt"), &[]);
        assert_eq!(r.kind, Some(FamilyKind::Legacy));
        assert_eq!(r.presence, Presence::Present);
        assert_eq!(r.successes, 8.0);
        assert_eq!(
            r.failures,
            BTreeMap::from([
                ("invalid_cnf".into(), 1.0),
                ("mismatch".into(), 5.0),
                ("missing_header".into(), 1.0)
            ])
        );
    }

    #[test]
    fn current_gateway_fixture() {
        let r = read(&fixture("stoa-gateway-metrics.txt"), &[]);
        assert_eq!(r.kind, Some(FamilyKind::StoaGateway));
        assert_eq!(r.successes, 6.0);
        assert_eq!(
            r.failures,
            BTreeMap::from([
                ("denied".into(), 2.0),
                ("error".into(), 1.0),
                ("mismatch".into(), 3.0)
            ])
        );
        assert_eq!(r.validations["success"], 12.0);
        assert_eq!(r.validations["no_cert"], 2.0);
    }

    #[test]
    fn declared_without_samples_and_absent() {
        let r = read(
            "# HELP stoa_mcp_gateway_cert_binding_failures_total x\n# TYPE stoa_mcp_gateway_cert_binding_failures_total counter\n",
            &[],
        );
        assert_eq!(
            (r.kind, r.presence),
            (Some(FamilyKind::Legacy), Presence::DeclaredNoSamples)
        );
        assert_eq!(r.failures_total(), 0.0);
        let r = read(
            "# TYPE http_requests_total counter\nhttp_requests_total 5\n",
            &[],
        );
        assert_eq!((r.kind, r.presence), (None, Presence::Absent));
    }

    #[test]
    fn custom_family() {
        let page = "my_binding_total{outcome=\"x\",result=\"ok\"} 4\nmy_binding_total{result=\"bad_cert\"} 2\n";
        let r = read(page, &["my_binding_total".into()]);
        assert_eq!(r.kind, Some(FamilyKind::Custom));
        assert_eq!(r.successes, 4.0);
        assert_eq!(r.failures["bad_cert"], 2.0);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Truncated, garbled and random pages never panic, and a truncation of the
        /// real page never reports more than the whole page does.
        #[test]
        fn garbled_real_pages_never_panic(
            cut in 0usize..8000,
            flips in proptest::collection::vec((0usize..8000, proptest::prelude::any::<u8>()), 0..20),
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        ) {
            let whole = fixture("legacy-gateway-metrics.txt");
            let full = read(&whole, &[]);
            let cut = cut.min(whole.len());
            let truncated = read(&String::from_utf8_lossy(&whole.as_bytes()[..cut]), &[]);
            proptest::prop_assert!(truncated.successes <= full.successes);
            let mut bytes = whole.clone().into_bytes();
            for (at, b) in flips {
                let at = at % bytes.len();
                bytes[at] = b;
            }
            bytes.extend_from_slice(&noise);
            let _ = read(&String::from_utf8_lossy(&bytes), &["x_total".into()]);
            let _ = read(&String::from_utf8_lossy(&noise), &[]);
        }
    }

    #[test]
    fn binding_lines_next_to_hostile_label_values() {
        let page = format!(
            "{}\nweird{{a=\"x}}\\\"y\",b=\"1,2=3\"}} 1\n{}\n",
            "stoa_mcp_gateway_cert_binding_failures_total{reason=\"mismatch\",route=\"/v1/{id}\"} 5.0",
            "stoa_mcp_gateway_cert_binding_validations_total{status=\"success\",note=\"a=b,c}\"} 8.0"
        );
        let r = read(&page, &[]);
        assert_eq!(r.successes, 8.0);
        assert_eq!(r.failures["mismatch"], 5.0);
    }
}
