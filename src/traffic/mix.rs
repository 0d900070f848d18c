//! What each request is meant to show, and in which proportions.

use std::fmt;

use rand::Rng;
use serde::Serialize;

/// The intent of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Intent {
    /// Token and certificate agree.
    Valid,
    /// Correct token, another certificate (64 zeros) in the header.
    HeaderMismatch,
    /// Token bound to another certificate (64 zeros), correct header.
    JwtMismatch,
    /// Bound token, no certificate header.
    MissingHeader,
    /// `cnf` without `x5t#S256`.
    InvalidCnf,
    /// A token without `cnf` (client-secret flow).
    NoCnf,
    /// The previous certificate after its grace period ended (sent only when asked).
    StalePrevious,
}

impl Intent {
    pub const MIXABLE: [Intent; 6] = [
        Intent::Valid,
        Intent::HeaderMismatch,
        Intent::JwtMismatch,
        Intent::MissingHeader,
        Intent::InvalidCnf,
        Intent::NoCnf,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Intent::Valid => "valid",
            Intent::HeaderMismatch => "header-mismatch",
            Intent::JwtMismatch => "jwt-mismatch",
            Intent::MissingHeader => "missing-header",
            Intent::InvalidCnf => "invalid-cnf",
            Intent::NoCnf => "no-cnf",
            Intent::StalePrevious => "stale-previous",
        }
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Weighted intents; `pick` is one random draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    weights: Vec<(Intent, u32)>,
    total: u32,
}

impl Default for Mix {
    /// The runbook's mix: 80 % valid, 10 % header mismatch, 10 % JWT mismatch.
    fn default() -> Self {
        Self::new(vec![
            (Intent::Valid, 80),
            (Intent::HeaderMismatch, 10),
            (Intent::JwtMismatch, 10),
        ])
        .expect("static mix")
    }
}

impl Mix {
    pub fn new(weights: Vec<(Intent, u32)>) -> Result<Self, String> {
        let weights: Vec<_> = weights.into_iter().filter(|(_, w)| *w > 0).collect();
        let total = weights.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return Err("the mix sends nothing: give at least one kind a weight above 0".into());
        }
        Ok(Self { weights, total })
    }

    /// Parses `valid=80,header-mismatch=10,jwt-mismatch=10` (weights, not necessarily %).
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut weights = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("mix entry {part:?} is not KIND=WEIGHT"))?;
            let intent = Intent::MIXABLE
                .into_iter()
                .find(|i| i.name() == name.trim())
                .ok_or_else(|| {
                    format!(
                        "unknown kind {:?} in the mix (known: {})",
                        name.trim(),
                        Intent::MIXABLE.map(Intent::name).join(", ")
                    )
                })?;
            let weight: u32 = weight.trim().parse().map_err(|_| {
                format!("weight {:?} of {name} is not a whole number", weight.trim())
            })?;
            if weights.iter().any(|(i, _)| *i == intent) {
                return Err(format!("{name} appears twice in the mix"));
            }
            weights.push((intent, weight));
        }
        Self::new(weights)
    }

    pub fn pick(&self, rng: &mut impl Rng) -> Intent {
        let mut n = rng.random_range(0..self.total);
        for (intent, w) in &self.weights {
            if n < *w {
                return *intent;
            }
            n -= w;
        }
        self.weights[0].0
    }

    /// The share of each intent, in percent.
    pub fn shares(&self) -> Vec<(Intent, f64)> {
        self.weights
            .iter()
            .map(|(i, w)| (*i, 100.0 * *w as f64 / self.total as f64))
            .collect()
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .shares()
            .iter()
            .map(|(i, s)| format!("{i} {s:.0}%"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_errors() {
        let m = Mix::parse("valid=80,header-mismatch=10,jwt-mismatch=10").unwrap();
        assert_eq!(m, Mix::default());
        assert!(Mix::parse("valid=1,no-cnf=1,invalid-cnf=1,missing-header=1").is_ok());
        assert!(
            Mix::parse("valid=x")
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(Mix::parse("bogus=1").unwrap_err().contains("known: valid"));
        assert!(Mix::parse("valid=0").unwrap_err().contains("sends nothing"));
        assert!(Mix::parse("valid=1,valid=2").unwrap_err().contains("twice"));
    }

    #[test]
    fn draws_follow_the_weights() {
        let m = Mix::default();
        let mut rng = rand::rng();
        let n = 100_000;
        let valid = (0..n).filter(|_| m.pick(&mut rng) == Intent::Valid).count();
        let share = valid as f64 / n as f64;
        assert!((0.79..0.81).contains(&share), "{share}");
    }
}
