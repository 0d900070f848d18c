//! Reading the binding counters from a Prometheus server (`--prometheus-url`), for
//! gateways behind a load balancer where one `/metrics` URL reaches a different
//! replica each time. Each scraped instance becomes a target of its own, so the
//! sum over replicas keeps the same reset semantics as direct scraping.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{mpsc, watch};

use super::{BindingSnapshot, FetchResult, ScrapeError, Watch};

/// The binding families, as a PromQL name matcher.
pub fn selector(custom: &[String]) -> String {
    let mut names = vec![
        "stoa_mcp_gateway_cert_binding_validations_total".to_string(),
        "stoa_mcp_gateway_cert_binding_failures_total".to_string(),
        "stoa_mtls_binding_checks_total".to_string(),
        "stoa_mtls_validations_total".to_string(),
    ];
    names.extend(custom.iter().cloned());
    format!("{{__name__=~\"{}\"}}", names.join("|"))
}

/// Asks the server for every binding series and renders one exposition page per
/// instance (`instance` label, else `job`).
pub async fn query(
    client: &reqwest::Client,
    base: &url::Url,
    timeout: Duration,
    custom: &[String],
) -> Result<Vec<(String, String)>, ScrapeError> {
    let mut url = url::Url::parse(&format!(
        "{}/api/v1/query",
        base.as_str().trim_end_matches('/')
    ))
    .map_err(|e| ScrapeError::Connection(format!("bad Prometheus URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("query", &selector(custom));
    let work = async {
        let resp = client
            .get(url)
            .send()
            .await
            .map_err(|e| super::classify(e, timeout))?;
        if !resp.status().is_success() {
            return Err(ScrapeError::Http(resp.status().as_u16()));
        }
        let body: serde_json::Value = resp
            .json()
            .await
            .map_err(|e| ScrapeError::Unparsable(format!("not a Prometheus answer: {e}")))?;
        pages_from_answer(&body)
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or(Err(ScrapeError::Timeout(timeout.as_millis() as u64)))
}

/// `{"status":"success","data":{"resultType":"vector","result":[…]}}` → pages.
pub fn pages_from_answer(body: &serde_json::Value) -> Result<Vec<(String, String)>, ScrapeError> {
    if body["status"] != "success" {
        let error = body["error"].as_str().unwrap_or("unknown error");
        return Err(ScrapeError::Unparsable(format!(
            "Prometheus answered: {error}"
        )));
    }
    let result = body["data"]["result"]
        .as_array()
        .ok_or_else(|| ScrapeError::Unparsable("no result vector".into()))?;
    let mut pages: BTreeMap<String, String> = BTreeMap::new();
    for series in result {
        let metric = series["metric"].as_object().cloned().unwrap_or_default();
        let Some(name) = metric.get("__name__").and_then(|v| v.as_str()) else {
            continue;
        };
        let Some(value) = series["value"][1].as_str() else {
            continue;
        };
        let instance = ["instance", "job"]
            .iter()
            .find_map(|l| metric.get(*l).and_then(|v| v.as_str()))
            .unwrap_or("prometheus")
            .to_string();
        let labels: Vec<String> = metric
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "__name__" | "instance" | "job"))
            .filter_map(|(k, v)| {
                let v = v
                    .as_str()?
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                Some(format!("{k}=\"{v}\""))
            })
            .collect();
        let page = pages.entry(instance).or_default();
        let _ = writeln!(page, "{name}{{{}}} {value}", labels.join(","));
    }
    Ok(pages.into_iter().collect())
}

/// Polls the server each interval; targets are the instances it reports.
pub async fn run(
    base: url::Url,
    interval: Duration,
    timeout: Duration,
    custom: Vec<String>,
    tx: mpsc::Sender<BindingSnapshot>,
    mut stop: watch::Receiver<bool>,
) {
    let client = super::http_client(timeout);
    let mut state = Watch::new(&[], Instant::now());
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let started = Instant::now();
        let answer = query(&client, &base, timeout, &custom).await;
        apply(&mut state, answer, started.elapsed(), interval, &custom);
        if tx.send(state.snapshot(Utc::now(), 120)).await.is_err() {
            return;
        }
    }
}

/// Folds one answer into the watch: each instance a target; on failure every known
/// instance is marked down with the server's error.
pub fn apply(
    state: &mut Watch,
    answer: Result<Vec<(String, String)>, ScrapeError>,
    took: Duration,
    interval: Duration,
    custom: &[String],
) {
    let now = Instant::now();
    let results: Vec<(usize, FetchResult)> = match answer {
        Ok(pages) => pages
            .into_iter()
            .map(|(instance, page)| (state.target_index(&instance, now), Ok((page, took))))
            .collect(),
        Err(e) => (0..state.target_count())
            .map(|i| (i, Err(e.clone())))
            .collect(),
    };
    state.apply(now, Utc::now(), interval, results, custom);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answer_becomes_one_page_per_instance() {
        let body = json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "stoa_mcp_gateway_cert_binding_failures_total", "instance": "gw-1:8080", "job": "gw", "reason": "mismatch"}, "value": [1.7e9, "5"]},
            {"metric": {"__name__": "stoa_mcp_gateway_cert_binding_validations_total", "instance": "gw-2:8080", "job": "gw", "status": "success"}, "value": [1.7e9, "8"]},
        ]}});
        let pages = pages_from_answer(&body).unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].0, "gw-1:8080");
        assert_eq!(
            pages[0].1,
            "stoa_mcp_gateway_cert_binding_failures_total{reason=\"mismatch\"} 5\n"
        );
        let err = pages_from_answer(&json!({"status": "error", "error": "bad query"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unparsable page: Prometheus answered: bad query"
        );
    }
}
