//! The config file: precedence (flags, environment, file, defaults), secrets
//! hidden by `config`, and one-line errors that say where a file is wrong.

mod common;

use std::path::PathBuf;

fn config_dir(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mtlsc-cfg-{}-{name}", std::process::id()));
    std::fs::create_dir_all(dir.join("mtls-console")).unwrap();
    std::fs::write(dir.join("mtls-console/config.toml"), text).unwrap();
    dir
}

fn line<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("no {key} in {out}"))
}

#[test]
fn flags_beat_the_environment_which_beats_the_file() {
    let dir = config_dir(
        "precedence",
        "gateway-url = \"http://file-gw:8080\"\napi-url = \"http://file-api:8000\"\n\
         tenant = \"file-tenant\"\nlang = \"fr\"\n\
         db-url = \"postgresql+asyncpg://stoa:s3cret-pw@db/stoa\"\napi-token = \"tok-file-123\"\n",
    );
    let r = common::run(
        common::console()
            .env("XDG_CONFIG_HOME", &dir)
            .env("API_URL", "http://env-api:8000")
            .env("TENANT", "env-tenant")
            .args(["config", "--tenant", "flag-tenant"]),
    );
    assert!(r.status.success(), "{}", r.stderr);
    let out = &r.stdout;
    assert!(line(out, "gateway-url").contains("http://file-gw:8080"));
    assert!(line(out, "gateway-url").ends_with("config file"));
    assert!(
        line(out, "api-url").contains("env-api") && line(out, "api-url").ends_with("environment")
    );
    assert!(line(out, "tenant").contains("flag-tenant") && line(out, "tenant").ends_with("flag"));
    assert!(line(out, "lang").contains("fr"));
    assert!(line(out, "endpoint").ends_with("default"));
    assert!(line(out, "api-token").contains("set (hidden)"));
    for secret in ["s3cret-pw", "tok-file-123"] {
        assert!(!out.contains(secret), "{secret} printed: {out}");
    }
}

#[test]
fn the_files_settings_reach_the_commands() {
    // The file names a database that does not exist: the command must try it.
    let dir = config_dir(
        "reach",
        "db-url = \"postgres://postgres@127.0.0.1:5432/mtlsc_no_such_db\"\n",
    );
    let r = common::run(
        common::console()
            .env("XDG_CONFIG_HOME", &dir)
            .args(["clients"]),
    );
    let err = common::assert_one_line_error(&r);
    assert!(err.contains("mtlsc_no_such_db"), "{err}");
}

#[test]
fn a_broken_file_is_one_line_naming_its_place() {
    let dir = config_dir("broken", "tenant = \"a\"\ngatway-url = \"http://x\"\n");
    let r = common::run(
        common::console()
            .env("XDG_CONFIG_HOME", &dir)
            .args(["clients"]),
    );
    let err = common::assert_one_line_error(&r);
    assert!(
        err.contains("line 2, column 1: unknown field `gatway-url`"),
        "{err}"
    );
    let r = common::run(common::console().args(["--config", "/no/such/config.toml", "clients"]));
    let err = common::assert_one_line_error(&r);
    assert!(
        err.contains("cannot read config file /no/such/config.toml"),
        "{err}"
    );
}

#[test]
fn a_subcommands_section_sets_its_options_unless_a_flag_does() {
    let dir = config_dir(
        "section",
        "[traffic]\ntps = 40\nduration = 0.5\nmix = \"valid=1\"\njson = true\n",
    );
    let r = common::run(
        common::console()
            .env("XDG_CONFIG_HOME", &dir)
            .args(["traffic"]),
    );
    assert!(r.status.success(), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["requested_rate"].as_f64(), v["sent"].as_u64()),
        (Some(40.0), Some(20))
    );
    assert_eq!(v["mix"]["valid"], 100.0);
    let r = common::run(
        common::console()
            .env("XDG_CONFIG_HOME", &dir)
            .args(["traffic", "--tps", "20"]),
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["requested_rate"].as_f64(), v["sent"].as_u64()),
        (Some(20.0), Some(10))
    );
    let dir = config_dir("section-typo", "[traffic]\ntsp = 4\n");
    let r = common::run(
        common::console()
            .env("XDG_CONFIG_HOME", &dir)
            .args(["traffic"]),
    );
    let err = common::assert_one_line_error(&r);
    assert!(
        err.contains("[traffic]: `tsp` is not an option of `traffic`"),
        "{err}"
    );
}
