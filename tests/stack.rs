//! The built-in stack over real HTTP on loopback: every binding branch and metric
//! label, every control plane status, rotation end to end, exact counters under
//! concurrency, and the `serve` binary.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use mtls_console::domain::token::{Binding, DEMO_SECRET, TokenMinter};
use mtls_console::domain::{Client, Fingerprint};
use mtls_console::secret::Secret;
use mtls_console::stack::binding::Profile;
use mtls_console::stack::{self, StackHandle, StackOptions};
use mtls_console::store::Registry;
use serde_json::{Value, json};

async fn start(profile: Profile) -> StackHandle {
    mtls_console::init_tls();
    let registry = Registry::embedded_demo("acme", 100).await.unwrap();
    let opts = StackOptions {
        profile,
        ..StackOptions::loopback("acme", Secret::new(DEMO_SECRET))
    };
    stack::start(registry, opts).await.unwrap()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn mint(id: &str, binding: Binding) -> String {
    mint_at(id, binding, Utc::now().timestamp(), DEMO_SECRET)
}

fn mint_at(id: &str, binding: Binding, iat: i64, secret: &str) -> String {
    TokenMinter::new(&Secret::new(secret))
        .unwrap()
        .mint(id, "acme", binding, iat)
}

async fn clients(h: &StackHandle) -> Vec<Client> {
    h.registry.list("acme").await.unwrap()
}

fn active(clients: &[Client]) -> Client {
    clients
        .iter()
        .find(|c| c.is_usable_for_traffic() && c.fingerprint_previous.is_none())
        .unwrap()
        .clone()
}

/// Sends a legacy-profile request and returns status, body and WWW-Authenticate.
async fn legacy(
    h: &StackHandle,
    path: &str,
    token: Option<&str>,
    header: Option<&str>,
) -> (u16, Value, Option<String>) {
    let mut req = http().get(format!("{}{path}", h.gateway_url()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(v) = header {
        req = req.header("X-SSL-Client-Cert-SHA256", v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body, www)
}

async fn metrics_page(h: &StackHandle) -> String {
    http()
        .get(format!("{}/metrics", h.gateway_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn sample(page: &str, series: &str) -> u64 {
    page.lines()
        .find_map(|l| {
            l.strip_prefix(series)?
                .trim()
                .strip_suffix(".0")?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn every_legacy_branch_answers_and_counts_as_specified() {
    let h = start(Profile::Legacy).await;
    let all = clients(&h).await;
    let c = active(&all);
    let fp = c.fingerprint.unwrap();
    let zeros = "0".repeat(64);
    let ok = mint(&c.id, Binding::Bound(fp));

    // Exempt and passed-on requests: 200, counted nowhere.
    assert_eq!(legacy(&h, "/health", Some(&ok), Some(&zeros)).await.0, 200);
    assert_eq!(
        legacy(&h, "/healthcheck", Some(&ok), Some(&zeros)).await.0,
        200
    );
    assert_eq!(legacy(&h, "/mcp/v1/", None, Some(&zeros)).await.0, 200);
    assert_eq!(legacy(&h, "/mcp/v1/", Some("not-a-jwt"), None).await.0, 200);
    assert_eq!(
        legacy(&h, "/mcp/v1/", Some(&mint(&c.id, Binding::Unbound)), None)
            .await
            .0,
        200
    );

    // Successes: hex, uppercase, colon hex.
    for header in [fp.to_hex(), fp.to_hex().to_uppercase(), fp.to_colon_hex()] {
        let (status, body, _) = legacy(&h, "/mcp/v1/", Some(&ok), Some(&header)).await;
        assert_eq!(status, 200, "{header}");
        assert_eq!(body["name"], "stoa-mcp-gateway");
    }
    let echo = http()
        .post(format!("{}/mcp/v1/tools/echo/invoke", h.gateway_url()))
        .bearer_auth(&ok)
        .header("X-SSL-Client-Cert-SHA256", fp.to_hex())
        .send()
        .await
        .unwrap();
    assert_eq!(echo.status(), 200);
    assert_eq!(
        legacy(
            &h,
            "/mcp/v1/tools/echo/invoke",
            Some(&ok),
            Some(&fp.to_hex())
        )
        .await
        .0,
        405
    );

    // Refusals, each with the legacy 401 answer.
    let refusals: Vec<(&str, String, Option<String>, &str)> = vec![
        (
            "invalid_cnf",
            mint(&c.id, Binding::CnfWithoutThumbprint),
            Some(fp.to_hex()),
            "Invalid cnf claim: missing x5t#S256",
        ),
        (
            "missing_header",
            ok.clone(),
            None,
            "Certificate binding required but X-SSL-Client-Cert-SHA256 header missing",
        ),
        (
            "mismatch",
            ok.clone(),
            Some(zeros.clone()),
            "Certificate binding validation failed",
        ),
        (
            "mismatch",
            mint(&c.id, Binding::Bound(Fingerprint::from_bytes([0; 32]))),
            Some(fp.to_hex()),
            "Certificate binding validation failed",
        ),
        (
            "invalid_signature",
            mint_at(&c.id, Binding::Bound(fp), Utc::now().timestamp(), "wrong"),
            Some(fp.to_hex()),
            "Token signature verification failed",
        ),
        (
            "expired",
            mint_at(
                &c.id,
                Binding::Bound(fp),
                Utc::now().timestamp() - 7200,
                DEMO_SECRET,
            ),
            Some(fp.to_hex()),
            "Token has expired",
        ),
    ];
    for (reason, token, header, description) in &refusals {
        let (status, body, www) = legacy(&h, "/api/health", Some(token), header.as_deref()).await;
        assert_eq!(status, 401, "{reason}");
        assert_eq!(
            body,
            json!({"error": "invalid_token", "error_description": description}),
            "{reason}"
        );
        assert_eq!(www.as_deref(), Some("Bearer error=\"invalid_token\""));
    }
    // Registry-aware refusals.
    let revoked = all.iter().find(|c| c.status.as_str() == "revoked").unwrap();
    let rfp = revoked.fingerprint.unwrap();
    let (status, body, _) = legacy(
        &h,
        "/mcp/v1/",
        Some(&mint(&revoked.id, Binding::Bound(rfp))),
        Some(&rfp.to_hex()),
    )
    .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (401, Some("Client certificate revoked"))
    );
    let stranger = Fingerprint::from_bytes([7; 32]);
    let (status, _, _) = legacy(
        &h,
        "/mcp/v1/",
        Some(&mint(&c.id, Binding::Bound(stranger))),
        Some(&stranger.to_hex()),
    )
    .await;
    assert_eq!(status, 401);

    let page = metrics_page(&h).await;
    let v = "stoa_mcp_gateway_cert_binding_validations_total{status=\"success\"}";
    let f = |r: &str| format!("stoa_mcp_gateway_cert_binding_failures_total{{reason=\"{r}\"}}");
    // Three GETs, the echo POST, and the GET on the echo path (405 after binding passed).
    assert_eq!(sample(&page, v), 5, "{page}");
    assert_eq!(sample(&page, &f("mismatch")), 2);
    for reason in [
        "invalid_cnf",
        "missing_header",
        "invalid_signature",
        "expired",
        "revoked",
        "unknown_certificate",
    ] {
        assert_eq!(sample(&page, &f(reason)), 1, "{reason}");
    }
    assert!(page.contains("stoa_mcp_gateway_http_requests_total{endpoint=\"/mcp/v1/\",method=\"GET\",status_code=\"401\"} 2"), "{page}");
    assert!(page.contains("stoa_mcp_gateway_http_request_duration_seconds_count"));

    // The scrape must not come through a proxy.
    let proxied = http()
        .get(format!("{}/metrics", h.gateway_url()))
        .header("X-Request-ID", "abc")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 403);
    h.shutdown().await;
}

#[tokio::test]
async fn current_gateway_profile_speaks_403_mtls_codes() {
    let h = start(Profile::StoaGateway).await;
    let c = active(&clients(&h).await);
    let fp = c.fingerprint.unwrap();
    let send = |token: Option<String>, verify: Option<&'static str>, fph: Option<String>| {
        let mut r = http().post(format!("{}/mcp/resources/list", h.gateway_url()));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(v) = verify {
            r = r.header("X-SSL-Client-Verify", v);
        }
        if let Some(f) = fph {
            r = r.header("X-SSL-Client-Fingerprint", f);
        }
        async move {
            let resp = r.send().await.unwrap();
            (
                resp.status().as_u16(),
                resp.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let ok = mint(&c.id, Binding::Bound(fp));
    assert_eq!(
        send(Some(ok.clone()), Some("SUCCESS"), Some(fp.to_colon_hex()))
            .await
            .0,
        200
    );
    let (s, b) = send(Some(ok.clone()), Some("SUCCESS"), Some("0".repeat(64))).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (403, Some("MTLS_BINDING_MISMATCH"))
    );
    let (s, b) = send(None, Some("SUCCESS"), Some(fp.to_hex())).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (403, Some("MTLS_BINDING_REQUIRED"))
    );
    let (s, b) = send(Some(ok.clone()), Some("FAILED"), Some(fp.to_hex())).await;
    assert_eq!((s, b["error"].as_str()), (403, Some("MTLS_CERT_INVALID")));
    assert_eq!(
        send(Some(ok), None, None).await.0,
        200,
        "no certificate headers: passed on"
    );
    let page = metrics_page(&h).await;
    assert!(
        page.contains("stoa_mtls_binding_checks_total{result=\"match\"} 1.0"),
        "{page}"
    );
    assert!(page.contains("stoa_mtls_binding_checks_total{result=\"mismatch\"} 1.0"));
    assert!(page.contains("stoa_mtls_binding_checks_total{result=\"denied\"} 1.0"));
    assert!(page.contains("stoa_mtls_binding_checks_total{result=\"error\"} 1.0"));
    h.shutdown().await;
}

async fn api(
    h: &StackHandle,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = http().request(method, format!("{}{path}", h.api_url()));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

async fn rotate(h: &StackHandle, id: &str, token: Option<&str>, body: Value) -> reqwest::Response {
    let path = format!("/v1/clients/{id}/rotate");
    api(h, reqwest::Method::POST, &path, token, Some(body)).await
}

#[tokio::test]
async fn control_plane_answers_every_status_of_the_real_api() {
    let h = start(Profile::Legacy).await;
    let token = h.api_token.expose().to_string();
    let all = clients(&h).await;
    let c = active(&all);
    let rotate_path = format!("/v1/clients/{}/rotate", c.id);
    use reqwest::Method as M;

    let r = api(&h, M::GET, "/v1/clients", None, None).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"detail": "Not authenticated"})
    );
    let r = api(&h, M::POST, &rotate_path, Some("wrong"), Some(json!({}))).await;
    assert_eq!(r.status(), 401);
    assert!(
        r.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .starts_with("Invalid token")
    );

    let r = api(&h, M::GET, "/v1/clients", Some(&token), None).await;
    assert_eq!(r.status(), 200);
    let list: Vec<Value> = r.json().await.unwrap();
    assert_eq!(list.len(), 100);
    assert_eq!(
        list.iter()
            .filter(|c| c["is_in_grace_period"] == true)
            .count(),
        10
    );
    let r = api(
        &h,
        M::GET,
        &format!("/v1/clients/{}", c.id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["name"], c.name.as_str());

    for (grace, msg) in [
        (0, "greater than or equal to 1"),
        (169, "less than or equal to 168"),
    ] {
        let r = rotate(
            &h,
            &c.id,
            Some(&token),
            json!({"grace_period_hours": grace, "reason": "x"}),
        )
        .await;
        assert_eq!(r.status(), 422);
        let body: Value = r.json().await.unwrap();
        assert!(body["detail"][0]["msg"].as_str().unwrap().contains(msg));
    }
    let r = rotate(&h, "not-a-uuid", Some(&token), json!({})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"][0]["type"],
        "uuid_parsing"
    );
    let r = rotate(
        &h,
        "00000000-0000-4000-8000-000000000000",
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(
        (r.status().as_u16(), r.json::<Value>().await.unwrap()),
        (404, json!({"detail": "Client not found"}))
    );
    let revoked = all.iter().find(|c| c.status.as_str() == "revoked").unwrap();
    let r = rotate(&h, &revoked.id, Some(&token), json!({})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"detail": "Cannot rotate certificate for non-active client"})
    );

    // Ten rotations of one client pass, the eleventh is limited; another client is not.
    for i in 0..10 {
        let r = rotate(&h, &c.id, Some(&token), json!({"grace_period_hours": 48})).await;
        assert_eq!(r.status(), 200, "rotation {i}");
        assert_eq!(r.json::<Value>().await.unwrap()["rotation_count"], i + 1);
    }
    let r = rotate(&h, &c.id, Some(&token), json!({"grace_period_hours": 48})).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "60");
    let other = all
        .iter()
        .filter(|x| x.is_usable_for_traffic())
        .nth(1)
        .unwrap();
    let r = rotate(&h, &other.id, Some(&token), json!({})).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let ends =
        chrono::DateTime::parse_from_rfc3339(body["grace_period_ends"].as_str().unwrap()).unwrap();
    let hours = (ends.with_timezone(&Utc) - Utc::now()).num_minutes() as f64 / 60.0;
    assert!(
        (23.9..=24.0).contains(&hours),
        "default grace 24 h, got {hours}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn rotation_end_to_end_old_and_new_certificates_then_grace_ends() {
    let h = start(Profile::Legacy).await;
    let token = h.api_token.expose().to_string();
    let c = active(&clients(&h).await);
    let old = c.fingerprint.unwrap();
    let r = api(
        &h,
        reqwest::Method::POST,
        &format!("/v1/clients/{}/rotate", c.id),
        Some(&token),
        Some(json!({"grace_period_seconds": 3, "reason": "live demo"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["is_in_grace_period"], true);
    assert_eq!(body["certificate_fingerprint_previous"], old.to_hex());
    assert!(
        body["private_key_pem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );

    // The new fingerprint is SHA-256 of the issued certificate's DER.
    let pem = body["certificate_pem"].as_str().unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap();
    let new = Fingerprint::of_der(&der);
    assert_eq!(body["certificate_fingerprint"], new.to_hex());

    // The registry stores it as a real rotation does (colon hex), never the key.
    let stored = h.registry.get("acme", &c.id).await.unwrap().unwrap();
    assert_eq!(stored.fingerprint, Some(new));
    assert_eq!(stored.fingerprint_previous, Some(old));

    let with_new = mint(&c.id, Binding::Bound(new));
    let with_old = mint(&c.id, Binding::Bound(old));
    assert_eq!(
        legacy(&h, "/mcp/v1/", Some(&with_new), Some(&new.to_hex()))
            .await
            .0,
        200
    );
    let during = legacy(&h, "/mcp/v1/", Some(&with_old), Some(&old.to_hex())).await;
    assert_eq!(
        during.0, 200,
        "old certificate accepted during grace: {:?}",
        during.1
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body, _) = legacy(&h, "/mcp/v1/", Some(&with_old), Some(&old.to_hex())).await;
        if status == 401 {
            assert_eq!(
                body["error_description"],
                "Previous certificate grace period has ended"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "old certificate still accepted after its grace"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        legacy(&h, "/mcp/v1/", Some(&with_new), Some(&new.to_hex()))
            .await
            .0,
        200
    );
    let page = metrics_page(&h).await;
    assert_eq!(
        sample(
            &page,
            "stoa_mcp_gateway_cert_binding_failures_total{reason=\"grace_expired\"}"
        ),
        1
    );
    h.shutdown().await;
}

#[tokio::test]
async fn counters_equal_responses_under_1000_concurrent_requests() {
    let h = start(Profile::Legacy).await;
    let all = clients(&h).await;
    let usable: Vec<&Client> = all
        .iter()
        .filter(|c| c.is_usable_for_traffic() && c.fingerprint_previous.is_none())
        .collect();
    let client = http();
    let mut tasks = Vec::new();
    for i in 0..1000usize {
        let c = usable[i % usable.len()];
        let fp = c.fingerprint.unwrap();
        let (token, header) = match i % 10 {
            0 => (mint(&c.id, Binding::Bound(fp)), "0".repeat(64)),
            1 => (
                mint(&c.id, Binding::Bound(Fingerprint::from_bytes([0; 32]))),
                fp.to_hex(),
            ),
            _ => (mint(&c.id, Binding::Bound(fp)), fp.to_hex()),
        };
        let req = client
            .get(format!("{}/mcp/v1/", h.gateway_url()))
            .bearer_auth(token)
            .header("X-SSL-Client-Cert-SHA256", header);
        tasks.push(tokio::spawn(async move {
            req.send().await.unwrap().status().as_u16()
        }));
    }
    let (mut ok, mut refused) = (0u64, 0u64);
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            401 => refused += 1,
            s => panic!("unexpected status {s}"),
        }
    }
    assert_eq!((ok, refused), (800, 200));
    let page = metrics_page(&h).await;
    assert_eq!(
        sample(
            &page,
            "stoa_mcp_gateway_cert_binding_validations_total{status=\"success\"}"
        ),
        ok
    );
    assert_eq!(
        sample(
            &page,
            "stoa_mcp_gateway_cert_binding_failures_total{reason=\"mismatch\"}"
        ),
        refused
    );
    h.shutdown().await;
}

#[test]
fn serve_binary_prints_its_addresses_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let mut child = common::console()
        .args([
            "serve",
            "--gateway-listen",
            "127.0.0.1:0",
            "--api-listen",
            "127.0.0.1:0",
        ])
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join(format!("mtlsc-state-{}", std::process::id())),
        )
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut gateway = None;
    let mut token_line = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("gateway        ") {
            gateway = Some(url.to_string());
        }
        if line.starts_with("api token") {
            token_line = Some(line.clone());
        }
        if line.starts_with("stop with") {
            break;
        }
    }
    let gateway = gateway.expect("gateway address printed");
    assert!(gateway.starts_with("http://127.0.0.1:"));
    let token_line = token_line.unwrap();
    let path = token_line
        .split("written to ")
        .nth(1)
        .unwrap()
        .split(" (")
        .next()
        .unwrap();
    let token = std::fs::read_to_string(path).unwrap();
    assert!(
        !token_line.contains(&token),
        "the token itself is never printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // The printed address answers (a plain HTTP/1.1 request, no client needed).
    {
        use std::io::{Read, Write};
        let addr = gateway.trim_start_matches("http://");
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        conn.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    unsafe { libc_kill(child.id() as i32, 15) };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success(), "serve exits cleanly on SIGTERM: {s}");
            break;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

#[test]
fn serve_refuses_a_non_loopback_address_without_the_flag() {
    let r = common::run(common::console().args([
        "serve",
        "--gateway-listen",
        "0.0.0.0:0",
        "--api-listen",
        "127.0.0.1:0",
    ]));
    let line = common::assert_one_line_error(&r);
    assert!(
        line.contains("--gateway-listen 0.0.0.0:0 is not a loopback address"),
        "{line}"
    );
    assert!(line.contains("--allow-non-loopback"), "{line}");
}
