//! Scenarios run headless against the built-in stack: the runbook's full flow
//! (shortened) with counts equal to the gateway's, and failing or broken files.

mod common;

use serde_json::Value;

fn scenario_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("mtlsc-{}-{name}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_full_scenario_completes_and_its_counts_equal_the_gateways() {
    let r =
        common::run(common::console().args(["scenario", "full", "--time-scale", "0.05", "--json"]));
    assert!(r.status.success(), "{}\n{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4, "{v}");
    assert_eq!(v["failed_steps"], 0);
    assert!(
        steps[2]["result"].as_str().unwrap().contains("rotated"),
        "{v}"
    );
    let t = &v["traffic"];
    // Warm-up 5/s for 1.5 s and burst 20/s for 3 s.
    let sent = t["sent"].as_u64().unwrap();
    assert!((60..=70).contains(&sent), "{t}");
    assert_eq!(t["dropped"], 0);
    assert_eq!(t["unexpected"], 0);
    let gw = &v["gateway_counters"];
    assert_eq!(t["passed"], gw["success"], "{v}");
    assert_eq!(t["rejected"]["mismatch"], gw["mismatch"], "{v}");
    assert!(
        gw["mismatch"].as_u64().unwrap() > 0,
        "the mix sends mismatches: {v}"
    );
    // Progress on stderr names each step.
    for step in [
        "[1/4] Seed 100 clients",
        "[3/4] Live rotation",
        "[4/4] Burst: done",
    ] {
        assert!(r.stderr.contains(step), "{step} in {}", r.stderr);
    }
}

#[test]
fn a_failing_step_is_reported_and_stops_the_run_when_the_file_says_so() {
    let path = scenario_file(
        "failing",
        r#"title = "Failing"
[[step]]
title = "Rotate a client that does not exist"
do = "rotate"
pick = "client:nobody"
on_failure = "continue"

[[step]]
title = "Short traffic"
do = "traffic"
tps = 20
seconds = 0.5

[[step]]
title = "Rotate it again"
do = "rotate"
pick = "client:nobody"

[[step]]
title = "Never reached"
do = "wait"
seconds = 1
"#,
    );
    let r = common::run(common::console().args(["scenario", path.to_str().unwrap(), "--json"]));
    let last = common::assert_error_last_line(&r);
    assert_eq!(last, "error: 2 step(s) failed (see the summary)");
    assert!(
        r.stderr
            .contains("[1/4] Rotate a client that does not exist: FAILED: no client nobody")
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["steps"].as_array().unwrap().len(),
        3,
        "the fourth never ran: {v}"
    );
    assert_eq!(v["stopped_by_failure"], true);
    assert_eq!(
        v["steps"][1]["failed"], false,
        "traffic went on after a `continue`"
    );
    assert!(v["traffic"]["sent"].as_u64().unwrap() > 0);
}

#[test]
fn a_broken_file_is_one_line_with_its_line_and_column() {
    let path = scenario_file(
        "broken",
        "title = \"x\"\n\n[[step]]\ntitle = \"a\"\ndo = traffic\n",
    );
    let r = common::run(common::console().args(["scenario", path.to_str().unwrap()]));
    let line = common::assert_one_line_error(&r);
    assert!(line.contains("line 5, column 6"), "{line}");
    let r = common::run(common::console().args(["scenario", "no-such-scenario"]));
    let line = common::assert_one_line_error(&r);
    assert!(line.contains("no such scenario"), "{line}");
}

#[test]
fn traffic_only_takes_its_rate_and_length_as_arguments() {
    let r =
        common::run(common::console().args(["scenario", "traffic-only", "40", "0.5", "--json"]));
    assert!(r.status.success(), "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["traffic"]["sent"], 20, "{v}");
}
