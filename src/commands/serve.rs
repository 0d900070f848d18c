//! `mtls-console serve`: the built-in stack as a standalone service.

use std::io::Write;
use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr, bail};

use crate::cli::ServeArgs;
use crate::config::Settings;
use crate::secret::Secret;
use crate::stack::{self, StackOptions};

pub async fn run(settings: &Settings, args: &ServeArgs) -> Result<()> {
    for (addr, flag) in [
        (args.gateway_listen, "--gateway-listen"),
        (args.api_listen, "--api-listen"),
    ] {
        if !addr.ip().is_loopback() {
            if !args.allow_non_loopback {
                bail!(
                    "{flag} {addr} is not a loopback address: the built-in stack is a demo; pass --allow-non-loopback to expose it"
                );
            }
            eprintln!("warning: {flag} {addr} exposes the built-in demo stack beyond this machine");
        }
    }
    let registry = super::open_registry(settings).await?;
    let opts = StackOptions {
        gateway_listen: args.gateway_listen,
        api_listen: args.api_listen,
        profile: args.gateway_profile,
        header_format: args.header_format,
        verify_signature: !args.no_verify_signature,
        registry_aware: !args.no_registry_check,
        api_token: settings.api_token.clone(),
        rotate_limit: args.rotate_limit,
        gateway_log: args.gateway_log.clone(),
        ..StackOptions::loopback(&settings.tenant, settings.jwt_secret.clone())
    };
    let handle = stack::start(registry.clone(), opts).await?;
    println!("gateway        http://{}", handle.gateway_addr);
    println!("control plane  http://{}", handle.api_addr);
    println!("registry       {}", registry.location());
    if settings.api_token.is_none() {
        let path = write_token_file(&handle.api_token)?;
        println!("api token      written to {} (mode 0600)", path.display());
    } else {
        println!("api token      the one given with --api-token (API_TOKEN)");
    }
    println!("stop with Ctrl-C");
    let _ = std::io::stdout().flush();
    crate::platform::wait_for_stop().await;
    println!("stopping");
    handle.shutdown().await;
    Ok(())
}

/// The generated API token goes to a private file, never to the screen.
fn write_token_file(token: &Secret) -> Result<PathBuf> {
    let dir = crate::logging::default_log_path()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("api-token");
    crate::platform::write_private(&path, token.expose().as_bytes())
        .wrap_err_with(|| format!("cannot write the API token to {}", path.display()))?;
    Ok(path)
}
