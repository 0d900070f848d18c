//! The traffic engine: certificate-bound requests in a chosen mix, sent open-loop
//! at a steady rate, each classified against what it was meant to show.
//!
//! Open loop: request k is due at start + k/rate whatever the gateway's latency;
//! latency is measured from that scheduled instant (no coordinated omission). A
//! request that finds every in-flight slot taken is counted as dropped, never lost.

mod http1;
pub mod mix;
pub mod profile;
pub mod stats;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::{Rng, SeedableRng};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use tokio::sync::watch;

use crate::domain::token::{Binding, LIFETIME_SECS, TokenMinter};
use crate::domain::{Client, Fingerprint};
use crate::store::Registry;
use mix::{Intent, Mix};
use profile::{HttpMethod, Outcome, Profile, ProfileKind};
use stats::{CertUsed, OutcomeRecord, Stats};

pub const MIN_RATE: f64 = 0.1;
pub const MAX_RATE: f64 = 1_000_000.0;
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
    /// Connections (one worker each) at most; requests wait for a free one in
    /// the in-flight queue, their latency still counted from their schedule.
    pub connections: usize,
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
            connections: 64,
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
    /// Resolves when the engine's thread ends; `None` once seen.
    done: Option<tokio::sync::oneshot::Receiver<()>>,
    thread: std::thread::JoinHandle<()>,
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
        self.thread.is_finished()
    }

    /// The live statistics, for a view that outlives this handle's borrow.
    pub fn shared_stats(&self) -> Arc<Mutex<Stats>> {
        self.stats.clone()
    }

    /// Waits until the engine has ended (a run with a duration ends by itself).
    pub async fn ended(&mut self) {
        // The sender is dropped when the engine's thread ends, however it ends.
        if let Some(done) = self.done.as_mut() {
            let _ = done.await;
            self.done = None;
        }
    }

    /// Stops scheduling and waits (bounded by the timeout) for requests in flight.
    pub async fn stop(self) -> Stats {
        let _ = self.stop.send(true);
        self.finish().await
    }

    /// Waits for a run with a duration to end by itself.
    pub async fn finish(mut self) -> Stats {
        self.ended().await;
        self.stats()
    }
}

pub fn start(registry: Registry, minter: TokenMinter, opts: TrafficOptions) -> TrafficHandle {
    crate::init_tls();
    let rate = opts.rate.clamp(MIN_RATE, MAX_RATE);
    let rate_millis = Arc::new(AtomicU64::new((rate * 1000.0) as u64));
    let (stop, stopped) = watch::channel(false);
    let stats = Arc::new(Mutex::new(Stats::new(Instant::now())));
    let url = reqwest::Url::parse(&crate::config::join_url(&opts.gateway, &opts.profile.path))
        .unwrap_or_else(|_| opts.gateway.clone());
    let link = Arc::new(Link {
        wire: Wire::new(url, &opts),
        cert_header: HeaderName::from_bytes(opts.profile.cert_header.as_bytes())
            .unwrap_or(HeaderName::from_static("x-ssl-client-cert-sha256")),
        verify_header: opts
            .profile
            .verify_header
            .as_deref()
            .and_then(|h| HeaderName::from_bytes(h.as_bytes()).ok()),
        kind: opts.profile.kind,
        method: opts.profile.method,
        timeout: opts.timeout,
        stats: stats.clone(),
        in_flight: AtomicUsize::new(0),
    });
    let engine = Engine {
        link,
        minter,
        tokens: HashMap::new(),
        cert_values: HashMap::new(),
        opts,
        stats: stats.clone(),
    };
    // The engine has a thread and an event loop of its own: no wake-ups or lock
    // contention across threads on the hot path (wrk's model, its best setting on
    // a small machine), and the console's own runtime never competes with it.
    let (finished, done) = tokio::sync::oneshot::channel();
    let rate = rate_millis.clone();
    let (fleet_tx, fleets) = watch::channel(None);
    tokio::spawn(refresh_fleet(
        registry,
        engine.opts.tenant.clone(),
        fleet_tx,
    ));
    let thread = std::thread::Builder::new()
        .name("traffic".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(rt) => rt.block_on(engine.run(fleets, rate, stopped)),
                Err(e) => tracing::error!("traffic: cannot start the engine's event loop: {e}"),
            }
            let _ = finished.send(());
        })
        .expect("a thread can be started");
    TrafficHandle {
        rate_millis,
        stop,
        stats,
        done: Some(done),
        thread,
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
    /// `Bearer …`, shared with the token cache.
    token: HeaderValue,
    /// The certificate header's value, shared with the fingerprint cache.
    cert_value: Option<HeaderValue>,
    scheduled: Instant,
}

/// How requests travel: the engine's own HTTP/1.1 connections for plain HTTP
/// (the hot path), reqwest for HTTPS.
enum Wire {
    Plain(http1::Target),
    Tls(reqwest::Client, reqwest::Url),
}

impl Wire {
    fn new(url: reqwest::Url, opts: &TrafficOptions) -> Self {
        let post = opts.profile.method == HttpMethod::Post;
        if url.scheme() == "http"
            && let Some(target) = http1::Target::new(&url, post)
        {
            return Self::Plain(target);
        }
        let client = reqwest::Client::builder()
            .timeout(opts.timeout)
            .pool_max_idle_per_host(opts.max_in_flight.max(16))
            .tcp_nodelay(true)
            .build()
            .expect("an HTTP client builds");
        Self::Tls(client, url)
    }
}

/// What every connection worker shares.
struct Link {
    wire: Wire,
    cert_header: HeaderName,
    verify_header: Option<HeaderName>,
    kind: ProfileKind,
    method: HttpMethod,
    timeout: Duration,
    stats: Arc<Mutex<Stats>>,
    /// Requests queued or being sent.
    in_flight: AtomicUsize,
}

impl Link {
    /// Sends one request and reads what the gateway said.
    /// `deadline` is the worker's one timer, moved forward for each request: a
    /// later deadline only updates the registered timer, where a fresh timeout per
    /// request would insert and remove a timer-wheel entry every time.
    async fn send(
        &self,
        conn: &mut http1::Conn,
        p: &Planned,
        deadline: Pin<&mut tokio::time::Sleep>,
    ) -> Outcome {
        match &self.wire {
            Wire::Plain(target) => {
                let mut headers: [(&[u8], &[u8]); 3] = [(b"", b""); 3];
                let mut n = 0;
                headers[n] = (b"authorization", p.token.as_bytes());
                n += 1;
                if let Some(h) = &self.verify_header {
                    headers[n] = (h.as_str().as_bytes(), b"SUCCESS");
                    n += 1;
                }
                if let Some(v) = &p.cert_value {
                    headers[n] = (self.cert_header.as_str().as_bytes(), v.as_bytes());
                    n += 1;
                }
                let outcome = tokio::select! {
                    biased;
                    answer = conn.send(target, &headers[..n]) => match answer {
                        Ok(a) => Some(profile::classify(self.kind, a.status, a.body)),
                        Err(_) => Some(Outcome::ConnectError),
                    },
                    _ = deadline => None,
                };
                outcome.unwrap_or_else(|| {
                    // Dropped mid-exchange: the connection's state is unknown.
                    conn.reset();
                    Outcome::Timeout
                })
            }
            Wire::Tls(client, url) => {
                let mut headers = HeaderMap::with_capacity(3);
                headers.insert(AUTHORIZATION, p.token.clone());
                if let Some(h) = &self.verify_header {
                    headers.insert(h.clone(), HeaderValue::from_static("SUCCESS"));
                }
                if let Some(v) = &p.cert_value {
                    headers.insert(self.cert_header.clone(), v.clone());
                }
                let req = match self.method {
                    HttpMethod::Get => client.get(url.clone()),
                    HttpMethod::Post => client.post(url.clone()).body("{}"),
                };
                let work = async {
                    let resp = req.headers(headers).send().await?;
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await.unwrap_or_default();
                    Ok::<_, reqwest::Error>(profile::classify(self.kind, status, &body))
                };
                match work.await {
                    Ok(o) => o,
                    Err(e) if e.is_timeout() => Outcome::Timeout,
                    Err(_) => Outcome::ConnectError,
                }
            }
        }
    }
}

/// A connection worker: takes due requests, sends them on its own connection,
/// records each outcome.
async fn worker(link: Arc<Link>, queue: flume::Receiver<Planned>) {
    let mut conn = http1::Conn::new();
    let mut deadline = Box::pin(tokio::time::sleep(link.timeout));
    while let Ok(p) = queue.recv_async().await {
        let started = Instant::now();
        deadline.as_mut().reset((started + link.timeout).into());
        let outcome = link.send(&mut conn, &p, deadline.as_mut()).await;
        let at = Instant::now();
        let record = OutcomeRecord {
            unexpected: is_unexpected(p.intent, link.kind, &outcome),
            client: p.client,
            intent: p.intent,
            cert: p.cert,
            fingerprint: p.fingerprint,
            outcome,
            latency: at.duration_since(p.scheduled),
            at,
        };
        {
            let mut s = link.stats.lock().unwrap_or_else(|p| p.into_inner());
            s.record(&record);
            s.late += u64::from(started.duration_since(p.scheduled) > stats::LATE_AFTER);
        }
        link.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Engine {
    link: Arc<Link>,
    minter: TokenMinter,
    /// Minted once per (client, binding) and reused until shortly before `exp`.
    tokens: HashMap<(Arc<str>, TokenKind), (HeaderValue, i64)>,
    /// Certificate header values, built once per fingerprint.
    cert_values: HashMap<Fingerprint, HeaderValue>,
    opts: TrafficOptions,
    stats: Arc<Mutex<Stats>>,
}

/// The clients traffic can be sent for, with their ids shared cheaply.
#[derive(Default)]
struct Fleet {
    clients: Vec<(Arc<str>, Client)>,
}

/// Reads the registry now and every [`CLIENT_REFRESH`] until the engine ends. It
/// runs on the caller's runtime: the registry's connections belong to it, and the
/// schedule never waits on a read.
async fn refresh_fleet(
    registry: Registry,
    tenant: String,
    fleets: watch::Sender<Option<Arc<Fleet>>>,
) {
    let mut tick = tokio::time::interval(CLIENT_REFRESH);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = fleets.closed() => return,
        }
        match load_fleet(&registry, &tenant).await {
            Some(f) => fleets.send_replace(Some(Arc::new(f))),
            // The first read failed: start with no clients (every slot is dropped).
            None if fleets.borrow().is_none() => fleets.send_replace(Some(Arc::default())),
            None => None,
        };
    }
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

/// Connection workers started with the engine; more are added while requests
/// wait in the queue, up to the connection bound. A fixed set of connections fed
/// by an open-loop schedule is wrk2's model; opening one per waiting request
/// instead made a saturated engine slower (more sockets, same CPU).
const FIRST_WORKERS: usize = 4;

impl Engine {
    async fn run(
        mut self,
        mut fleets: watch::Receiver<Option<Arc<Fleet>>>,
        rate_millis: Arc<AtomicU64>,
        mut stopped: watch::Receiver<bool>,
    ) {
        // The first client list (an empty one if the registry could not be read).
        let mut fleet = match fleets.wait_for(Option::is_some).await {
            Ok(f) => f.clone().unwrap_or_default(),
            Err(_) => Arc::default(),
        };

        let max_in_flight = self.opts.max_in_flight.max(1);
        let (queue, taken) = flume::bounded::<Planned>(max_in_flight);
        let mut workers = tokio::task::JoinSet::new();
        let connections = self.opts.connections.clamp(1, max_in_flight);
        for _ in 0..FIRST_WORKERS.min(connections) {
            workers.spawn(worker(self.link.clone(), taken.clone()));
        }

        let start = Instant::now();
        {
            let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            *s = Stats::new(start);
            s.connections = workers.len();
        }
        let end = self.opts.duration.map(|d| start + d);
        let mut next = start;
        let mut rng = rand::rngs::SmallRng::from_rng(&mut rand::rng());
        loop {
            if *stopped.borrow() {
                break;
            }
            if fleets.has_changed().unwrap_or(false)
                && let Some(f) = fleets.borrow_and_update().clone()
            {
                fleet = f;
            }
            // Requests still queued since the last round: the workers are too few.
            if !queue.is_empty() && workers.len() < connections {
                workers.spawn(worker(self.link.clone(), taken.clone()));
                self.stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .connections = workers.len();
            }
            let now = Instant::now();
            let now_utc = Utc::now();
            let period = Duration::from_secs_f64(
                1000.0 / rate_millis.load(Ordering::Relaxed).max(100) as f64,
            );
            let (mut sent, mut dropped) = (0, 0);
            while next <= now && end.is_none_or(|e| next < e) {
                let scheduled = next;
                next += period;
                if fleet.clients.is_empty()
                    || self.link.in_flight.load(Ordering::Relaxed) >= max_in_flight
                {
                    dropped += 1;
                    continue;
                }
                let planned = self.plan(&fleet, &mut rng, now_utc, scheduled);
                self.link.in_flight.fetch_add(1, Ordering::Relaxed);
                // Never full: the queue holds at most the in-flight bound.
                if queue.try_send(planned).is_err() {
                    self.link.in_flight.fetch_sub(1, Ordering::Relaxed);
                    dropped += 1;
                } else {
                    sent += 1;
                }
            }
            if sent + dropped > 0 {
                let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
                s.sent += sent;
                s.dropped += dropped;
            }
            if end.is_some_and(|e| next >= e) {
                break;
            }
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
        // Workers send what is queued, then stop (each request bounded by the timeout).
        drop(queue);
        drop(taken);
        while workers.join_next().await.is_some() {}
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).ended = Some(Instant::now());
    }

    fn token(&mut self, client: &Arc<str>, kind: TokenKind, now: i64) -> HeaderValue {
        let key = (client.clone(), kind);
        if let Some((value, exp)) = self.tokens.get(&key)
            && *exp - TOKEN_MARGIN_SECS > now
        {
            return value.clone();
        }
        let binding = match key.1 {
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

    fn cert_value(&mut self, fp: Fingerprint) -> HeaderValue {
        self.cert_values
            .entry(fp)
            .or_insert_with(|| {
                HeaderValue::from_str(&fp.to_hex()).expect("hex is a valid header value")
            })
            .clone()
    }

    /// Draws the intent and client, and picks the token and certificate header.
    fn plan(
        &mut self,
        fleet: &Fleet,
        rng: &mut impl Rng,
        now: chrono::DateTime<Utc>,
        scheduled: Instant,
    ) -> Planned {
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
            let in_grace = client.in_grace(now);
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
        Planned {
            client: id.clone(),
            intent,
            cert,
            fingerprint: (cert != CertUsed::Forged && cert != CertUsed::None).then_some(presented),
            token: self.token(id, token, now.timestamp()),
            cert_value: header.map(|fp| self.cert_value(fp)),
            scheduled,
        }
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
