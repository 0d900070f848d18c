//! Which clients fail, from the gateway's own log: the built-in gateway writes the
//! legacy gateway's JSON log while traffic with mismatches runs, and reading that
//! log names exactly the clients whose requests were refused.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use mtls_console::gateway_log::{Attributor, Tally};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateways_log_names_exactly_the_refused_clients() {
    // Few requests, so some clients see no refusal at all.
    let run = common::logged_traffic(200.0, Duration::from_millis(600)).await;
    let (s, registry, db_url, log) = (&run.stats, &run.registry, &run.db_url, &run.log);
    run.stack.shutdown().await;
    let refused: BTreeMap<String, u64> = s
        .per_client
        .iter()
        .filter(|(_, a)| a.counts.failed > 0)
        .map(|(id, a)| (id.to_string(), a.counts.failed))
        .collect();
    assert!(
        !refused.is_empty() && refused.len() < s.per_client.len(),
        "{refused:?}"
    );

    // In process: the log's attribution equals the engine's own accounting.
    let who = Attributor::new(&registry.list("acme").await.unwrap());
    let mut t = Tally::default();
    for line in std::fs::read_to_string(log).unwrap().lines() {
        t.add_line(line, &who, chrono::Utc::now(), None);
    }
    let from_log: BTreeMap<String, u64> = t
        .per_client
        .iter()
        .map(|(id, c)| (id.clone(), c.total()))
        .collect();
    assert_eq!(
        from_log, refused,
        "the log names exactly the refused clients"
    );
    assert_eq!(t.unattributed, 0);

    // The same through the command, from the file and from standard input.
    let run = |args: &[&str], stdin: Option<&std::path::Path>| {
        let mut cmd = common::console();
        cmd.args(["failures", "--json", "--db-url", db_url])
            .args(args);
        if let Some(p) = stdin {
            cmd.stdin(std::fs::File::open(p).unwrap());
        }
        let r = common::run(&mut cmd);
        assert!(r.status.success(), "{}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        v["failing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["client_id"].as_str().unwrap().to_string(),
                    c["failures"].as_u64().unwrap(),
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    let log_arg = log.to_str().unwrap();
    assert_eq!(run(&["--gateway-log", log_arg], None), refused);
    assert_eq!(run(&["--gateway-log", "-"], Some(log)), refused);
    assert_eq!(
        run(&["--gateway-log", log_arg, "--since", "10m"], None),
        refused,
        "every event is from the last ten minutes"
    );
}

#[test]
fn readonly_refuses_the_commands_that_write_or_send() {
    for args in [
        vec!["--readonly", "traffic"],
        vec!["seed", "--readonly"],
        vec!["--readonly", "scenario", "full"],
    ] {
        let r = common::run(common::console().args(&args));
        let line = common::assert_one_line_error(&r);
        assert!(line.contains("--readonly"), "{line}");
    }
    let r = common::run(common::console().args(["--readonly", "scenario", "--list"]));
    assert!(r.status.success(), "{}", r.stderr);
}
