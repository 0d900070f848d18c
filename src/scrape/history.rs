//! Counter totals over time: Prometheus reset semantics (a decrease means the
//! gateway restarted), windowed rates, and a ring buffer for sparklines. Pure: the
//! caller passes the time, in seconds since any fixed origin.

use std::collections::{BTreeMap, VecDeque};

/// The key of the success counter in a history; failures are keyed by reason.
pub const SUCCESS: &str = "success";

/// Ten minutes at one scrape a second, with room to spare.
pub const DEFAULT_CAPACITY: usize = 900;

/// One monotonic counter, as the console shows it: never decreasing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CounterTrack {
    last_raw: Option<f64>,
    total: f64,
    resets: u32,
}

impl CounterTrack {
    /// Takes a raw reading and returns the running total. A decrease is a restart:
    /// the new raw value counts from zero, so the total never jumps back.
    pub fn observe(&mut self, raw: f64) -> f64 {
        if !raw.is_finite() || raw < 0.0 {
            return self.total;
        }
        match self.last_raw {
            None => self.total = raw,
            Some(last) if raw >= last => self.total += raw - last,
            Some(_) => {
                self.total += raw;
                self.resets += 1;
            }
        }
        self.last_raw = Some(raw);
        self.total
    }

    pub fn total(&self) -> f64 {
        self.total
    }

    pub fn resets(&self) -> u32 {
        self.resets
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Point {
    t: f64,
    totals: BTreeMap<String, f64>,
}

/// Totals of the success counter and each failure reason, over time.
#[derive(Debug, Clone)]
pub struct History {
    tracks: BTreeMap<String, CounterTrack>,
    points: VecDeque<Point>,
    capacity: usize,
}

impl Default for History {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl History {
    pub fn new(capacity: usize) -> Self {
        Self {
            tracks: BTreeMap::new(),
            points: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(2),
        }
    }

    /// Records raw readings (success under [`SUCCESS`], failures by reason) at time `t`.
    /// A key missing from `raw` keeps its last total (a target that is down).
    pub fn record<'a>(&mut self, t: f64, raw: impl IntoIterator<Item = (&'a str, f64)>) {
        for (key, value) in raw {
            self.tracks
                .entry(key.to_string())
                .or_default()
                .observe(value);
        }
        let totals = self
            .tracks
            .iter()
            .map(|(k, tr)| (k.clone(), tr.total()))
            .collect();
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        self.points.push_back(Point { t, totals });
    }

    pub fn total(&self, key: &str) -> f64 {
        self.tracks.get(key).map_or(0.0, CounterTrack::total)
    }

    pub fn failure_total(&self) -> f64 {
        self.tracks
            .iter()
            .filter(|(k, _)| *k != SUCCESS)
            .map(|(_, t)| t.total())
            .sum()
    }

    pub fn failure_reasons(&self) -> impl Iterator<Item = &str> {
        self.tracks
            .keys()
            .map(String::as_str)
            .filter(|k| *k != SUCCESS)
    }

    pub fn resets(&self) -> u32 {
        self.tracks
            .values()
            .map(CounterTrack::resets)
            .max()
            .unwrap_or(0)
    }

    /// Per-second rate of `key` over the last `window` seconds (None until two
    /// points span some time). Never negative.
    pub fn rate(&self, key: &str, window: f64) -> Option<f64> {
        self.delta_over(window, |p| p.totals.get(key).copied().unwrap_or(0.0))
    }

    /// Rate of all failures together.
    pub fn failure_rate(&self, window: f64) -> Option<f64> {
        self.delta_over(window, |p| {
            p.totals
                .iter()
                .filter(|(k, _)| *k != SUCCESS)
                .map(|(_, v)| v)
                .sum()
        })
    }

    /// Failures / (successes + failures) over the window; None without traffic.
    pub fn failure_ratio(&self, window: f64) -> Option<f64> {
        let f = self.failure_rate(window)?;
        let s = self.rate(SUCCESS, window)?;
        (f + s > 0.0).then(|| f / (f + s))
    }

    /// Failures / all, since the console started watching (totals).
    pub fn failure_ratio_total(&self) -> Option<f64> {
        let f = self.failure_total();
        let all = f + self.total(SUCCESS);
        (all > 0.0).then(|| f / all)
    }

    fn delta_over(&self, window: f64, value: impl Fn(&Point) -> f64) -> Option<f64> {
        let last = self.points.back()?;
        let since = last.t - window;
        // The newest point at or before the window start, else the oldest one.
        let first = self
            .points
            .iter()
            .rev()
            .find(|p| p.t <= since + 1e-9)
            .or_else(|| self.points.front())?;
        let dt = last.t - first.t;
        if dt <= 0.0 {
            return None;
        }
        Some(((value(last) - value(first)) / dt).max(0.0))
    }

    /// The increments of `key` (or all failures with `None`) between the last
    /// `n + 1` points, oldest first: a sparkline's bars.
    pub fn increments(&self, key: Option<&str>, n: usize) -> Vec<u64> {
        let value = |p: &Point| match key {
            Some(k) => p.totals.get(k).copied().unwrap_or(0.0),
            None => p
                .totals
                .iter()
                .filter(|(k, _)| *k != SUCCESS)
                .map(|(_, v)| v)
                .sum(),
        };
        let skip = self.points.len().saturating_sub(n + 1);
        let values: Vec<f64> = self.points.iter().skip(skip).map(value).collect();
        values
            .windows(2)
            .map(|w| (w[1] - w[0]).max(0.0).round() as u64)
            .collect()
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Seconds covered by the buffer.
    pub fn span(&self) -> f64 {
        match (self.points.front(), self.points.back()) {
            (Some(a), Some(b)) => b.t - a.t,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reset_is_a_restart_not_a_drop() {
        let mut c = CounterTrack::default();
        assert_eq!(c.observe(100.0), 100.0);
        assert_eq!(c.observe(150.0), 150.0);
        assert_eq!(c.observe(20.0), 170.0, "restart: 20 new since");
        assert_eq!(c.observe(25.0), 175.0);
        assert_eq!(c.resets(), 1);
        assert_eq!(c.observe(f64::NAN), 175.0);
    }

    #[test]
    fn rates_over_windows() {
        let mut h = History::default();
        for t in 0..=60 {
            let t = t as f64;
            h.record(t, [(SUCCESS, 10.0 * t), ("mismatch", 2.0 * t)]);
        }
        assert_eq!(h.rate(SUCCESS, 1.0), Some(10.0));
        assert_eq!(h.rate(SUCCESS, 10.0), Some(10.0));
        assert_eq!(h.rate("mismatch", 60.0), Some(2.0));
        assert_eq!(h.failure_ratio(10.0), Some(2.0 / 12.0));
        assert_eq!(h.increments(Some(SUCCESS), 3), vec![10, 10, 10]);
        assert_eq!(h.increments(None, 2), vec![2, 2]);
    }

    #[test]
    fn restart_in_the_middle_keeps_rates_positive() {
        let mut h = History::default();
        h.record(0.0, [(SUCCESS, 500.0)]);
        h.record(1.0, [(SUCCESS, 510.0)]);
        h.record(2.0, [(SUCCESS, 3.0)]);
        h.record(3.0, [(SUCCESS, 13.0)]);
        assert_eq!(h.total(SUCCESS), 523.0);
        assert_eq!(h.rate(SUCCESS, 1.0), Some(10.0));
        assert!((h.rate(SUCCESS, 3.0).unwrap() - 23.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn capacity_bounds_memory() {
        let mut h = History::new(600);
        for t in 0..10_000 {
            h.record(t as f64, [(SUCCESS, t as f64)]);
        }
        assert_eq!(h.len(), 600);
        assert_eq!(h.span(), 599.0);
    }

    proptest! {
        #[test]
        fn totals_never_decrease_and_rates_never_negative(raws in proptest::collection::vec(0.0f64..1e9, 1..200)) {
            let mut h = History::default();
            let mut last = 0.0;
            for (i, r) in raws.iter().enumerate() {
                h.record(i as f64, [(SUCCESS, *r)]);
                prop_assert!(h.total(SUCCESS) >= last);
                last = h.total(SUCCESS);
                for w in [1.0, 10.0, 60.0] {
                    prop_assert!(h.rate(SUCCESS, w).unwrap_or(0.0) >= 0.0);
                }
            }
        }
    }
}
