//! A strict reader of the Prometheus text exposition format (0.0.4) and the parts of
//! OpenMetrics a gateway may send (`# EOF`, `_created`, families declared without
//! `_total`). It reads only the families a caller asks for and allocates only for
//! them, so a 50,000-series page costs a line scan.
//!
//! It replaces prometheus-parse for this job: that crate splits labels on `,` and
//! `=` and stops them at the first `}`, so a label value like `"/v1/{id}"` makes it
//! drop the whole sample (see the tests), and it rejects `:` in metric names.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a page says about the families a caller asked for.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Page {
    /// Declared family name (from `# TYPE` or `# HELP`) → type ("untyped" when only HELP).
    pub declared: HashMap<String, String>,
    pub samples: Vec<Sample>,
    /// Lines that could not be read, whatever their family.
    pub malformed: usize,
}

impl Page {
    /// True when `family` is declared, under its own name or OpenMetrics' base name
    /// (`foo` for `foo_total`).
    pub fn declares(&self, family: &str) -> bool {
        self.declared.contains_key(family)
            || family
                .strip_suffix("_total")
                .is_some_and(|base| self.declared.contains_key(base))
    }
}

/// Reads `text`, keeping declarations and samples whose metric name `keep` accepts.
pub fn parse(text: &str, keep: impl Fn(&str) -> bool) -> Page {
    let mut page = Page::default();
    for raw in text.lines() {
        let line = raw.trim_start();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            read_comment(comment, &keep, &mut page);
            continue;
        }
        let name_end = line
            .find(|c: char| c == '{' || c.is_ascii_whitespace())
            .unwrap_or(line.len());
        let name = &line[..name_end];
        if !is_metric_name(name) {
            page.malformed += 1;
            continue;
        }
        if !keep(name) {
            continue;
        }
        match read_sample(name, &line[name_end..]) {
            Some(s) => page.samples.push(s),
            None => page.malformed += 1,
        }
    }
    page
}

fn read_comment(comment: &str, keep: &impl Fn(&str) -> bool, page: &mut Page) {
    let mut words = comment.split_ascii_whitespace();
    let (kind, name) = match (words.next(), words.next()) {
        (Some(k @ ("TYPE" | "HELP")), Some(n)) => (k, n),
        _ => return,
    };
    if !(keep(name) || keep(&format!("{name}_total"))) {
        return;
    }
    let entry = page
        .declared
        .entry(name.to_string())
        .or_insert_with(|| "untyped".to_string());
    if kind == "TYPE"
        && let Some(t) = words.next()
    {
        *entry = t.to_string();
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `rest` is what follows the name: an optional `{labels}`, the value, an optional timestamp.
fn read_sample(name: &str, rest: &str) -> Option<Sample> {
    let (labels, after) = if let Some(inner) = rest.strip_prefix('{') {
        read_labels(inner)?
    } else {
        (Vec::new(), rest)
    };
    let mut fields = after.split_ascii_whitespace();
    let value = parse_value(fields.next()?)?;
    if let Some(ts) = fields.next() {
        ts.parse::<f64>().ok()?;
    }
    if fields.next().is_some() {
        return None;
    }
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Reads `name="value",…}` with the format's escapes (`\\`, `\"`, `\n`).
fn read_labels(s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    let mut rest = s.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let eq = rest.find('=')?;
        let name = rest[..eq].trim();
        if !is_label_name(name) {
            return None;
        }
        let after_eq = rest[eq + 1..].trim_start();
        let body = after_eq.strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = body.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '"' => break i,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        };
        labels.push((name.to_string(), value));
        rest = body[end + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.starts_with('}') {
            return None;
        }
    }
}

/// Go-style floats: `NaN`, `+Inf`, `-Inf`, and ordinary numbers.
fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(page: &str) -> Page {
        parse(page, |_| true)
    }

    #[test]
    fn labels_with_delimiters_and_escapes() {
        let p = all(concat!(
            "# TYPE stoa_http_requests_total counter\n",
            "stoa_http_requests_total{http_route=\"/v1/clients/{id}\",q=\"a=b,c\",msg=\"say \\\"hi\\\"\\n\"} 3\n",
            "job:stoa_mtls_binding_checks:rate1m{result=\"match\"} 0.5 1700000000000\n",
        ));
        assert_eq!(p.malformed, 0);
        let s = &p.samples[0];
        assert_eq!(s.label("http_route"), Some("/v1/clients/{id}"));
        assert_eq!(s.label("q"), Some("a=b,c"));
        assert_eq!(s.label("msg"), Some("say \"hi\"\n"));
        assert_eq!(s.value, 3.0);
        assert_eq!(p.samples[1].name, "job:stoa_mtls_binding_checks:rate1m");
    }

    #[test]
    fn openmetrics_declarations_and_eof() {
        let p = all("# TYPE foo counter\nfoo_total 1\nfoo_created 1.7e9\n# EOF\n");
        assert!(p.declares("foo_total"));
        assert_eq!(p.samples.len(), 2);
        assert_eq!(p.malformed, 0);
    }

    #[test]
    fn malformed_lines_are_counted_not_fatal() {
        let p = all("a{b=\"c} 1\nok 2\n9bad 1\nx{y=\"z\"} notanumber\nz 1 2 3\n");
        assert_eq!(p.samples.len(), 1);
        assert_eq!(p.malformed, 4);
        assert_eq!(all("nan_metric NaN\ninf +Inf\n").samples.len(), 2);
    }

    #[test]
    fn only_kept_families_are_read() {
        let p = parse("# HELP a x\na 1\n# HELP b y\nb{l=\"v\"} 2\n", |n| n == "b");
        assert_eq!(p.samples.len(), 1);
        assert!(p.declares("b") && !p.declares("a"));
    }

    /// Why prometheus-parse is not used: a `}` inside a label value makes it drop a
    /// binding sample, and `,` or `=` inside a value corrupts the label.
    #[test]
    fn prometheus_parse_gets_binding_figures_wrong_on_real_label_values() {
        let page = concat!(
            "# TYPE stoa_mtls_validations_total counter\n",
            "stoa_mtls_validations_total{result=\"success\",tenant=\"team-{blue}\"} 12\n",
            "stoa_mtls_validations_total{result=\"denied\",tenant=\"acme,corp\"} 1\n",
        );
        let lines = page.lines().map(|l| Ok(l.to_string()));
        let theirs = prometheus_parse::Scrape::parse(lines).unwrap();
        let their_success = theirs
            .samples
            .iter()
            .find(|s| s.labels.get("result") == Some("success"));
        assert!(
            their_success.is_none(),
            "prometheus-parse now reads it: reconsider"
        );
        let their_denied = theirs
            .samples
            .iter()
            .find(|s| s.labels.get("result") == Some("denied"))
            .unwrap();
        assert_eq!(their_denied.labels.get("tenant"), Some("acme"));

        let ours = all(page);
        assert_eq!(ours.samples[0].label("result"), Some("success"));
        assert_eq!(ours.samples[0].value, 12.0);
        assert_eq!(ours.samples[1].label("tenant"), Some("acme,corp"));
    }
}
