//! The built-in demo stack: an RFC 8705 gateway and a control plane on loopback,
//! over the client registry. Started by `mtls-console serve`, by the console when
//! nothing is configured, and by the tests as a faithful target.

pub mod binding;
pub mod certs;
pub mod control_plane;
pub mod gateway;
pub mod gateway_log;
pub mod gateway_metrics;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, bail};
use rand::Rng;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::secret::Secret;
use crate::store::Registry;
use binding::{Bindings, Checks, ClientBinding, HeaderFormat, Profile};
use gateway_metrics::GatewayMetrics;

/// How often the gateway rereads the registry (a rotation through the built-in
/// control plane is seen at once; this catches writes from elsewhere).
pub const REGISTRY_REFRESH: Duration = Duration::from_secs(5);

/// The registry as the gateway checks it: replaced whole, read without waiting.
#[derive(Default)]
pub struct BindingCache {
    map: RwLock<Arc<Bindings>>,
}

impl BindingCache {
    pub fn get(&self) -> Arc<Bindings> {
        self.map.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Rereads the registry; on error the last good copy stays in force.
    pub async fn refresh(&self, registry: &Registry, tenant: &str) {
        match registry.list(tenant).await {
            Ok(clients) => {
                let map: Bindings = clients
                    .iter()
                    .map(|c| (c.id.clone(), ClientBinding::from(c)))
                    .collect();
                *self.map.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(map);
            }
            Err(e) => {
                tracing::warn!("gateway: registry refresh failed, keeping the last copy: {e}")
            }
        }
    }
}

#[derive(Clone)]
pub struct StackOptions {
    pub gateway_listen: SocketAddr,
    pub api_listen: SocketAddr,
    pub profile: Profile,
    pub header_format: HeaderFormat,
    /// Verify token signatures and expiry at the gateway.
    pub verify_signature: bool,
    /// Check presented certificates against the registry (revocation, grace).
    pub registry_aware: bool,
    pub jwt_secret: Secret,
    /// None: a random token is generated.
    pub api_token: Option<Secret>,
    pub tenant: String,
    /// Rotations per client per hour (the real API: 10).
    pub rotate_limit: usize,
    /// Write the legacy-format JSON log of binding failures here.
    pub gateway_log: Option<PathBuf>,
}

impl StackOptions {
    /// Loopback on free ports, checks on, the demo secret.
    pub fn loopback(tenant: &str, jwt_secret: Secret) -> Self {
        Self {
            gateway_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            profile: Profile::Legacy,
            header_format: HeaderFormat::Hex,
            verify_signature: true,
            registry_aware: true,
            jwt_secret,
            api_token: None,
            tenant: tenant.to_string(),
            rotate_limit: 10,
            gateway_log: None,
        }
    }
}

/// A running stack. Dropping it does not stop it: call `shutdown`.
pub struct StackHandle {
    pub gateway_addr: SocketAddr,
    pub api_addr: SocketAddr,
    pub api_token: Secret,
    pub registry: Registry,
    pub metrics: Arc<GatewayMetrics>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl StackHandle {
    /// The gateway's binding successes and mismatches, to set beside the engine's.
    pub fn binding_counters(&self) -> (u64, u64) {
        (self.metrics.successes(), self.metrics.failures("mismatch"))
    }

    pub fn gateway_url(&self) -> String {
        format!("http://{}", self.gateway_addr)
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.api_addr)
    }

    /// Stops accepting, lets requests in flight finish, and waits for the tasks.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Starts gateway and control plane on their listeners.
pub async fn start(registry: Registry, opts: StackOptions) -> Result<StackHandle> {
    let gateway_listener = bind(opts.gateway_listen, "gateway").await?;
    let api_listener = bind(opts.api_listen, "control plane").await?;
    let gateway_addr = gateway_listener.local_addr()?;
    let api_addr = api_listener.local_addr()?;

    let cache = Arc::new(BindingCache::default());
    cache.refresh(&registry, &opts.tenant).await;
    let metrics = Arc::new(GatewayMetrics::new(opts.profile));
    let log = match &opts.gateway_log {
        Some(p) => gateway_log::GatewayLog::to_file(p)
            .wrap_err_with(|| format!("cannot open the gateway log {}", p.display()))?,
        None => gateway_log::GatewayLog::disabled(),
    };
    let checks = Checks {
        profile: opts.profile,
        header_format: opts.header_format,
        verify_key: if opts.verify_signature {
            Some(
                crate::domain::token::decoding_key(&opts.jwt_secret)
                    .wrap_err("the JWT secret is empty")?,
            )
        } else {
            None
        },
        registry_aware: opts.registry_aware,
    };
    let api_token = opts
        .api_token
        .clone()
        .unwrap_or_else(|| Secret::new(hex::encode(rand::rng().random::<[u8; 24]>())));

    let (stop, stopped) = watch::channel(false);
    let gateway = gateway::router(gateway::GatewayState {
        checks: Arc::new(checks),
        cache: cache.clone(),
        metrics: metrics.clone(),
        log: Arc::new(log),
    });
    let api = control_plane::router(control_plane::ApiState {
        registry: registry.clone(),
        tenant: opts.tenant.clone(),
        token: api_token.clone(),
        cache: cache.clone(),
        limiter: Arc::new(control_plane::RateLimiter::new(
            opts.rotate_limit,
            Duration::from_secs(3600),
        )),
    });
    let refresher = {
        let (cache, registry, tenant, mut stopped) = (
            cache.clone(),
            registry.clone(),
            opts.tenant.clone(),
            stopped.clone(),
        );
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REGISTRY_REFRESH);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => cache.refresh(&registry, &tenant).await,
                    _ = stopped.changed() => break,
                }
            }
        })
    };
    let tasks = vec![
        serve(gateway_listener, gateway, stopped.clone()),
        serve(api_listener, api, stopped),
        refresher,
    ];
    tracing::info!(%gateway_addr, %api_addr, "built-in stack started");
    Ok(StackHandle {
        gateway_addr,
        api_addr,
        api_token,
        registry,
        metrics,
        stop,
        tasks,
    })
}

async fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener> {
    match TcpListener::bind(addr).await {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            bail!(
                "cannot start the built-in {what} on {addr}: the address is in use (choose another with --{}-listen, or port 0 for a free one)",
                if what == "gateway" { "gateway" } else { "api" }
            )
        }
        Err(e) => bail!("cannot start the built-in {what} on {addr}: {e}"),
    }
}

fn serve(
    listener: TcpListener,
    app: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!("built-in stack: server error: {e}");
        }
    })
}
