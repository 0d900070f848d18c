//! `mtls-console token`: the headers of one certificate-bound request, for curl or wrk.

use chrono::Utc;
use color_eyre::eyre::{Result, bail};
use serde_json::json;

use crate::cli::TokenArgs;
use crate::config::Settings;
use crate::domain::token::{Binding, TokenMinter};

pub async fn run(settings: &Settings, args: &TokenArgs) -> Result<()> {
    let registry = super::open_registry(settings).await?;
    let clients = registry.list(&settings.tenant).await?;
    let wanted = args.client.trim();
    let Some(client) = clients
        .iter()
        .find(|c| c.id == wanted || c.name == wanted || c.cn == wanted)
    else {
        bail!(
            "no client {wanted:?} in tenant {} (give a name, CN or id; `mtls-console clients` lists them)",
            settings.tenant
        );
    };
    let fingerprint = if args.previous {
        client.fingerprint_previous
    } else {
        client.fingerprint
    };
    let Some(fingerprint) = fingerprint else {
        bail!(
            "client {} has no usable {} fingerprint",
            client.name,
            if args.previous { "previous" } else { "current" }
        );
    };
    let token = TokenMinter::new(&settings.jwt_secret)?.mint(
        &client.id,
        &settings.tenant,
        Binding::Bound(fingerprint),
        Utc::now().timestamp(),
    );
    if args.json {
        println!(
            "{}",
            json!({"client_id": client.id, "name": client.name, "token": token,
                   "certificate_fingerprint": fingerprint.to_hex()})
        );
    } else {
        println!("Authorization: Bearer {token}");
        println!("X-SSL-Client-Cert-SHA256: {}", fingerprint.to_hex());
    }
    Ok(())
}
