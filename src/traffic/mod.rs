//! The traffic engine: certificate-bound requests in a chosen mix, sent open-loop
//! at a steady rate, each classified against what it was meant to show.
//!
//! Open loop: request k is due at start + k/rate whatever the gateway's latency;
//! latency is measured from that scheduled instant (no coordinated omission). A
//! request that finds every in-flight slot taken is counted as dropped, never lost.

pub mod mix;
pub mod profile;
pub mod stats;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::{Rng, SeedableRng};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::domain::token::{Binding, LIFETIME_SECS, TokenMinter};
use crate::domain::{Client, Fingerprint};
use crate::store::Registry;
use mix::{Intent, Mix};
use profile::{HttpMethod, Outcome, Profile, ProfileKind};
use stats::{CertUsed, OutcomeRecord, Stats};

pub const MIN_RATE: f64 = 0.1;
pub const MAX_RATE: f64 = 50_000.0;
/// How often the engine rereads the registry (rotations are picked up).
pub const CLIENT_REFRESH: Duration = Duration::from_secs(2);
/// A token is re-minted this long before it expires.
const TOKEN_MARGIN_SECS: i64 = 300;
/// The "other certificate" of mismatch requests.
pub const FORGED: Fingerprint = Fingerprint::from_bytes([0; 32]);

#[derive(Debug, Clone)]
pub struct TrafficOptions {
    pub gateway: url::Url,
    pub profile: Profile,
    pub mix: Mix,
    pub rate: f64,
    pub duration: Option<Duration>,
    pub max_in_flight: usize,
    pub timeout: Duration,
    pub tenant: String,
    /// Share of valid requests of a client in grace that use the previous certificate.
    pub grace_share: f64,
    /// Share of valid requests that keep using a previous certificate after its grace.
    pub after_grace_share: f64,
}

impl TrafficOptions {
    pub fn new(gateway: url::Url, profile: Profile, tenant: &str, rate: f64) -> Self {
        Self {
            gateway,
            profile,
            mix: Mix::default(),
            rate,
            duration: None,
            max_in_flight: 1024,
            timeout: Duration::from_secs(5),
            tenant: tenant.to_string(),
            grace_share: 0.5,
            after_grace_share: 0.0,
        }
    }
}

/// A running engine.
pub struct TrafficHandle {
    rate_millis: Arc<AtomicU64>,
    stop: watch::Sender<bool>,
    stats: Arc<Mutex<Stats>>,
    task: JoinHandle<()>,
}

impl TrafficHandle {
    pub fn rate(&self) -> f64 {
        self.rate_millis.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Changes the rate from the next request on (clamped to the engine's range).
    pub fn set_rate(&self, rate: f64) {
        let r = rate.clamp(MIN_RATE, MAX_RATE);
        self.rate_millis
            .store((r * 1000.0) as u64, Ordering::Relaxed);
    }

    /// Reads the statistics under their lock, without copying them.
    pub fn with_stats<T>(&self, f: impl FnOnce(&Stats) -> T) -> T {
        f(&self.stats.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops scheduling and waits (bounded by the timeout) for requests in flight.
    pub async fn stop(self) -> Stats {
        let _ = self.stop.send(true);
        let stats = self.stats.clone();
        let _ = self.task.await;
        stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits for a run with a duration to end by itself.
    pub async fn finish(self) -> Stats {
        let stats = self.stats.clone();
        let _ = self.task.await;
        stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

pub fn start(registry: Registry, minter: TokenMinter, opts: TrafficOptions) -> TrafficHandle {
    crate::init_tls();
    let rate = opts.rate.clamp(MIN_RATE, MAX_RATE);
    let rate_millis = Arc::new(AtomicU64::new((rate * 1000.0) as u64));
    let (stop, stopped) = watch::channel(false);
    let stats = Arc::new(Mutex::new(Stats::new(Instant::now())));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let engine = Engine {
        sender: Sender::new(
            reqwest::Url::parse(&crate::config::join_url(&opts.gateway, &opts.profile.path))
                .unwrap_or_else(|_| opts.gateway.clone()),
            &opts,
        ),
        cert_header: HeaderName::from_bytes(opts.profile.cert_header.as_bytes())
            .unwrap_or(HeaderName::from_static("x-ssl-client-cert-sha256")),
        verify_header: opts
            .profile
            .verify_header
            .as_deref()
            .and_then(|h| HeaderName::from_bytes(h.as_bytes()).ok()),
        minter,
        tokens: HashMap::new(),
        opts,
        stats: stats.clone(),
        in_flight: in_flight.clone(),
    };
    let task = tokio::spawn(engine.run(registry, rate_millis.clone(), stopped));
    TrafficHandle {
        rate_millis,
        stop,
        stats,
        task,
    }
}

/// Which token a request carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum TokenKind {
    Bound(Fingerprint),
    CnfOnly,
    Unbound,
}

/// One request, decided and ready to send.
struct Planned {
    client: Arc<str>,
    intent: Intent,
    cert: CertUsed,
    fingerprint: Option<Fingerprint>,
    headers: HeaderMap,
}

/// The HTTP client of the engine: hyper directly for plain HTTP (the lean path,
/// about half the per-request cost), reqwest for HTTPS.
#[derive(Clone)]
enum Sender {
    Plain(
        hyper_util::client::legacy::Client<
            hyper_util::client::legacy::connect::HttpConnector,
            http_body_util::Full<bytes::Bytes>,
        >,
        hyper::Uri,
    ),
    Tls(reqwest::Client, reqwest::Url),
}

impl Sender {
    fn new(url: reqwest::Url, opts: &TrafficOptions) -> Self {
        if url.scheme() == "http"
            && let Ok(uri) = url.as_str().parse::<hyper::Uri>()
        {
            let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
            connector.set_nodelay(true);
            connector.set_connect_timeout(Some(opts.timeout));
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .pool_max_idle_per_host(opts.max_in_flight.max(16))
                    .build(connector);
            return Self::Plain(client, uri);
        }
        let client = reqwest::Client::builder()
            .timeout(opts.timeout)
            .pool_max_idle_per_host(opts.max_in_flight.max(16))
            .tcp_nodelay(true)
            .build()
            .expect("a plain HTTP client builds");
        Self::Tls(client, url)
    }

    /// Sends one request; the status and, for refusals, the body.
    async fn send(
        &self,
        method: HttpMethod,
        headers: HeaderMap,
        timeout: Duration,
    ) -> Result<(u16, bytes::Bytes), Outcome> {
        use http_body_util::BodyExt;
        let work = async {
            match self {
                Sender::Plain(client, uri) => {
                    let mut req = hyper::Request::new(http_body_util::Full::new(match method {
                        HttpMethod::Get => bytes::Bytes::new(),
                        HttpMethod::Post => bytes::Bytes::from_static(b"{}"),
                    }));
                    *req.method_mut() = match method {
                        HttpMethod::Get => hyper::Method::GET,
                        HttpMethod::Post => hyper::Method::POST,
                    };
                    *req.uri_mut() = uri.clone();
                    *req.headers_mut() = headers;
                    let resp = client
                        .request(req)
                        .await
                        .map_err(|_| Outcome::ConnectError)?;
                    let status = resp.status().as_u16();
                    // Read to the end so the connection can be reused.
                    let body = resp
                        .into_body()
                        .collect()
                        .await
                        .map_err(|_| Outcome::ConnectError)?;
                    Ok((status, body.to_bytes()))
                }
                Sender::Tls(client, url) => {
                    let req = match method {
                        HttpMethod::Get => client.get(url.clone()),
                        HttpMethod::Post => client.post(url.clone()).body("{}"),
                    };
                    let resp = req.headers(headers).send().await.map_err(|e| {
                        if e.is_timeout() {
                            Outcome::Timeout
                        } else {
                            Outcome::ConnectError
                        }
                    })?;
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await.unwrap_or_default();
                    Ok((status, body))
                }
            }
        };
        tokio::time::timeout(timeout, work)
            .await
            .unwrap_or(Err(Outcome::Timeout))
    }
}

struct Engine {
    sender: Sender,
    cert_header: HeaderName,
    verify_header: Option<HeaderName>,
    minter: TokenMinter,
    /// Minted once per (client, binding) and reused until shortly before `exp`.
    tokens: HashMap<(Arc<str>, TokenKind), (HeaderValue, i64)>,
    opts: TrafficOptions,
    stats: Arc<Mutex<Stats>>,
    in_flight: Arc<AtomicUsize>,
}

/// The clients traffic can be sent for, with their ids shared cheaply.
struct Fleet {
    clients: Vec<(Arc<str>, Client)>,
}

async fn load_fleet(registry: &Registry, tenant: &str) -> Option<Fleet> {
    match registry.list(tenant).await {
        Ok(list) => Some(Fleet {
            clients: list
                .into_iter()
                .filter(Client::is_usable_for_traffic)
                .map(|c| (Arc::from(c.id.as_str()), c))
                .collect(),
        }),
        Err(e) => {
            tracing::warn!("traffic: registry read failed, keeping the last client list: {e}");
            None
        }
    }
}

impl Engine {
    async fn run(
        mut self,
        registry: Registry,
        rate_millis: Arc<AtomicU64>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let mut fleet = load_fleet(&registry, &self.opts.tenant)
            .await
            .unwrap_or(Fleet {
                clients: Vec::new(),
            });
        // The registry is reread beside the schedule, never in its way: the new
        // list is left in a slot the loop takes from.
        let shared_fleet: Arc<Mutex<Option<Fleet>>> = Arc::new(Mutex::new(None));
        let refresher = {
            let (registry, tenant, shared, mut stopped) = (
                registry.clone(),
                self.opts.tenant.clone(),
                shared_fleet.clone(),
                stopped.clone(),
            );
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(CLIENT_REFRESH);
                tick.tick().await;
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = stopped.changed() => return,
                    }
                    if let Some(f) = load_fleet(&registry, &tenant).await {
                        *shared.lock().unwrap_or_else(|p| p.into_inner()) = Some(f);
                    }
                }
            })
        };

        let start = Instant::now();
        {
            let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            *s = Stats::new(start);
        }
        let end = self.opts.duration.map(|d| start + d);
        let mut next = start;
        // A sendable generator: the engine runs on any worker thread.
        let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            if *stopped.borrow() {
                break;
            }
            if let Some(f) = shared_fleet
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
            {
                fleet = f;
            }
            let now = Instant::now();
            let period = Duration::from_secs_f64(
                1000.0 / rate_millis.load(Ordering::Relaxed).max(100) as f64,
            );
            while next <= now && end.is_none_or(|e| next < e) {
                let scheduled = next;
                next += period;
                if fleet.clients.is_empty()
                    || self.in_flight.load(Ordering::Relaxed) >= self.opts.max_in_flight
                {
                    self.stats.lock().unwrap_or_else(|p| p.into_inner()).dropped += 1;
                    continue;
                }
                let planned = self.plan(&fleet, &mut rng);
                self.fire(&mut tasks, planned, scheduled, now);
            }
            if end.is_some_and(|e| next >= e) {
                break;
            }
            // Reap finished tasks so the set stays small.
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                _ = tokio::time::sleep_until(next.into()) => {}
                _ = stopped.changed() => {}
            }
        }
        {
            let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            // A run that reached its duration ends at the end of its last slot.
            s.schedule_ended = Some(match end {
                Some(e) if next >= e => e,
                _ => Instant::now(),
            });
        }
        // Let requests in flight finish (each is bounded by the timeout).
        while tasks.join_next().await.is_some() {}
        refresher.abort();
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).ended = Some(Instant::now());
    }

    fn token(&mut self, client: &Arc<str>, kind: TokenKind) -> HeaderValue {
        let now = Utc::now().timestamp();
        let key = (client.clone(), kind.clone());
        if let Some((value, exp)) = self.tokens.get(&key)
            && *exp - TOKEN_MARGIN_SECS > now
        {
            return value.clone();
        }
        let binding = match kind {
            TokenKind::Bound(fp) => Binding::Bound(fp),
            TokenKind::CnfOnly => Binding::CnfWithoutThumbprint,
            TokenKind::Unbound => Binding::Unbound,
        };
        let jwt = self.minter.mint(client, &self.opts.tenant, binding, now);
        let value =
            HeaderValue::from_str(&format!("Bearer {jwt}")).expect("a JWT is a valid header value");
        self.tokens
            .insert(key, (value.clone(), now + LIFETIME_SECS));
        value
    }

    /// Draws the intent and client, and builds the headers.
    fn plan(&mut self, fleet: &Fleet, rng: &mut impl Rng) -> Planned {
        let (id, client) = &fleet.clients[rng.random_range(0..fleet.clients.len())];
        let current = client
            .fingerprint
            .expect("usable clients have a fingerprint");
        let mut intent = self.opts.mix.pick(rng);
        let mut cert = CertUsed::Current;
        let mut presented = current;
        if intent == Intent::Valid
            && let Some(previous) = client.fingerprint_previous
        {
            let in_grace = client.in_grace(Utc::now());
            if in_grace && rng.random_bool(self.opts.grace_share.clamp(0.0, 1.0)) {
                cert = CertUsed::Previous;
                presented = previous;
            } else if !in_grace && rng.random_bool(self.opts.after_grace_share.clamp(0.0, 1.0)) {
                intent = Intent::StalePrevious;
                cert = CertUsed::Previous;
                presented = previous;
            }
        }
        let (token, header) = match intent {
            Intent::Valid | Intent::StalePrevious => (TokenKind::Bound(presented), Some(presented)),
            Intent::HeaderMismatch => {
                cert = CertUsed::Forged;
                (TokenKind::Bound(current), Some(FORGED))
            }
            Intent::JwtMismatch => (TokenKind::Bound(FORGED), Some(current)),
            Intent::MissingHeader => {
                cert = CertUsed::None;
                (TokenKind::Bound(current), None)
            }
            Intent::InvalidCnf => (TokenKind::CnfOnly, Some(current)),
            Intent::NoCnf => (TokenKind::Unbound, Some(current)),
        };
        let mut headers = HeaderMap::with_capacity(3);
        headers.insert(AUTHORIZATION, self.token(id, token));
        if let Some(h) = &self.verify_header {
            headers.insert(h.clone(), HeaderValue::from_static("SUCCESS"));
        }
        if let Some(fp) = header {
            headers.insert(
                self.cert_header.clone(),
                HeaderValue::from_str(&fp.to_hex()).expect("hex is a valid header value"),
            );
        }
        Planned {
            client: id.clone(),
            intent,
            cert,
            fingerprint: (cert != CertUsed::Forged && cert != CertUsed::None).then_some(presented),
            headers,
        }
    }

    fn fire(
        &self,
        tasks: &mut tokio::task::JoinSet<()>,
        p: Planned,
        scheduled: Instant,
        now: Instant,
    ) {
        let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        s.sent += 1;
        if now.duration_since(scheduled) > stats::LATE_AFTER {
            s.late += 1;
        }
        drop(s);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        let (stats, in_flight, kind) = (
            self.stats.clone(),
            self.in_flight.clone(),
            self.opts.profile.kind,
        );
        let (sender, method, timeout) = (
            self.sender.clone(),
            self.opts.profile.method,
            self.opts.timeout,
        );
        tasks.spawn(async move {
            let outcome = match sender.send(method, p.headers, timeout).await {
                Ok((status, body)) => profile::classify(kind, status, &body),
                Err(o) => o,
            };
            let record = OutcomeRecord {
                unexpected: is_unexpected(p.intent, kind, &outcome),
                client: p.client,
                intent: p.intent,
                cert: p.cert,
                fingerprint: p.fingerprint,
                outcome,
                latency: scheduled.elapsed(),
                at: Instant::now(),
            };
            stats
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .record(&record);
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Whether a request should pass the binding layer.
pub fn should_pass(intent: Intent, kind: ProfileKind) -> bool {
    match intent {
        Intent::Valid => true,
        Intent::NoCnf => kind == ProfileKind::Legacy,
        _ => false,
    }
}

/// An outcome that contradicts its intent: a valid request refused, a forged one
/// accepted. Timeouts and connection errors are errors, not contradictions.
pub fn is_unexpected(intent: Intent, kind: ProfileKind, outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Passed(_) => !should_pass(intent, kind),
        Outcome::Rejected(_) | Outcome::Denied(_) => should_pass(intent, kind),
        Outcome::Timeout | Outcome::ConnectError => false,
    }
}
