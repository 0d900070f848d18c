//! `mtls-console config`: the effective settings and where each comes from, with
//! passwords in URLs and secrets hidden.

use std::path::PathBuf;

use color_eyre::eyre::Result;

use crate::cli::GlobalArgs;
use crate::config::redact_url;
use crate::config_file::{self, Source};

/// What `main` found before the command ran.
pub struct Loaded {
    pub path: Option<PathBuf>,
    pub sources: Vec<(&'static str, Source)>,
    /// Subcommand options from the file's sections (`traffic.tps = 40`).
    pub sections: Vec<String>,
}

pub fn run(g: &GlobalArgs, loaded: &Loaded) -> Result<()> {
    match &loaded.path {
        Some(p) => println!("config file: {}", p.display()),
        None => println!(
            "config file: none{}",
            config_file::default_path()
                .map(|p| format!(" (create {} to set options once)", p.display()))
                .unwrap_or_default()
        ),
    }
    let url = |v: &Option<String>| v.as_deref().map_or("-".into(), redact_url);
    let secret = |v: &Option<String>| v.as_ref().map_or("-".into(), |_| "set (hidden)".into());
    let path = |v: &Option<PathBuf>| v.as_ref().map_or("-".into(), |p| p.display().to_string());
    for (name, source) in &loaded.sources {
        let value = match *name {
            "gateway-url" => url(&g.gateway_url),
            "api-url" => url(&g.api_url),
            "db-url" => url(&g.db_url),
            "endpoint" => g.endpoint.clone().unwrap_or_else(|| "-".into()),
            "tenant" => g.tenant.clone(),
            "jwt-secret" => secret(&g.jwt_secret),
            "jwt-secret-file" => path(&g.jwt_secret_file),
            "api-token" => secret(&g.api_token),
            "save-keys" => path(&g.save_keys),
            "log-file" => path(&g.log_file),
            "theme" => g.theme.clone().unwrap_or_else(|| "dark".into()),
            "lang" => g.lang.clone(),
            other => other.to_string(),
        };
        println!(
            "{name:<16} {:<48} {source}",
            crate::text::truncate(&value, 48)
        );
    }
    Ok(())
}
