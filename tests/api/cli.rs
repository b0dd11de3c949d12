//! The `spcm` command line (contract §6), run as a real process.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::helpers::{backend_tests, PROFILES};

/// Runs `spcm ARGS` against `database_url` with `stdin`, the URL as a flag after the command.
fn spcm(database_url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spcm"))
        .args(args)
        .args(["--database-url", database_url])
        .env_remove("SPCM_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spcm runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn assert_ok(output: &Output) -> String {
    assert!(output.status.success(), "spcm failed: {}", String::from_utf8_lossy(&output.stderr));
    stdout(output)
}

/// Fails with exactly one line on stderr, naming `what`.
fn assert_fails(output: &Output, what: &str) {
    assert!(!output.status.success(), "expected a failure, got {}", stdout(output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(what), "{stderr} should mention {what}");
}

backend_tests! {
    async fn tenants_are_added_and_listed(app) {
        let url = app.db.url.clone();
        assert_ok(&spcm(&url, &["tenant", "add", "acme"], ""));
        assert_eq!(assert_ok(&spcm(&url, &["tenant", "list"], "")), "acme\ndefault\n");
        assert_fails(&spcm(&url, &["tenant", "add", "acme"], ""), "already exists");
        assert_fails(&spcm(&url, &["tenant", "add", "bad name"], ""), "tenant name");
    }

    async fn users_are_managed_with_passwords_from_stdin(app) {
        let url = app.db.url.clone();
        let added = spcm(&url, &["user", "add", "--tenant", "default", "--username", "ops",
            "--permission", "SPCM_PROVISION_PROFILE_READ_PERMISSION"], "ops-pw-1\n");
        assert_ok(&added);
        let as_ops = |pw: &str, method: Method| app.request_as(method, PROFILES, "default", "ops", pw).json(&serde_json::json!({"name": "x", "defaultProfile": false})).send();
        assert_eq!(as_ops("ops-pw-1", Method::GET).await.unwrap().status(), 200);
        assert_eq!(as_ops("ops-pw-1", Method::POST).await.unwrap().status(), 403);

        let listed = assert_ok(&spcm(&url, &["user", "list", "--tenant", "default"], ""));
        assert!(listed.contains("ops\tSPCM_PROVISION_PROFILE_READ_PERMISSION"), "{listed}");
        assert!(listed.contains("admin\t"), "{listed}");
        assert!(!listed.contains("ops-pw-1") && !listed.contains("argon2"), "no secrets listed");

        assert_ok(&spcm(&url, &["user", "passwd", "--tenant", "default", "--username", "ops"], "ops-pw-2\n"));
        assert_eq!(as_ops("ops-pw-1", Method::GET).await.unwrap().status(), 401);
        assert_eq!(as_ops("ops-pw-2", Method::GET).await.unwrap().status(), 200);

        assert_ok(&spcm(&url, &["user", "remove", "--tenant", "default", "--username", "ops"], ""));
        assert_eq!(as_ops("ops-pw-2", Method::GET).await.unwrap().status(), 401);

        assert_ok(&spcm(&url, &["user", "add", "--tenant", "default", "--username", "root", "--all-permissions"], "root-pw\n"));
        let as_root = app.request_as(Method::POST, PROFILES, "default", "root", "root-pw").json(&serde_json::json!({"name": "x", "defaultProfile": false})).send();
        assert_eq!(as_root.await.unwrap().status(), 201);

        assert_fails(&spcm(&url, &["user", "add", "--tenant", "default", "--username", "x", "--permission", "ROOT"], "pw\n"), "unknown permission");
        assert_fails(&spcm(&url, &["user", "add", "--tenant", "nowhere", "--username", "x", "--all-permissions"], "pw\n"), "no tenant");
        assert_fails(&spcm(&url, &["user", "add", "--tenant", "default", "--username", "y", "--all-permissions"], ""), "no password");
        assert_fails(&spcm(&url, &["user", "add", "--tenant", "default", "--username", "root", "--all-permissions"], "pw\n"), "already exists");
        assert_fails(&spcm(&url, &["user", "remove", "--tenant", "default", "--username", "ghost"], ""), "no user");
    }

    async fn tokens_are_created_listed_and_revoked(app) {
        let url = app.db.url.clone();
        let created = assert_ok(&spcm(&url, &["token", "create", "--tenant", "default", "--permission", "CATALOGUE_READ_PERMISSION"], ""));
        let token = created.trim_end();
        assert_eq!(created.lines().count(), 1, "the token alone: {created}");
        assert!(token.starts_with("spcm_") && token.len() > 40, "{token}");
        let second = assert_ok(&spcm(&url, &["token", "create", "--tenant", "default", "--permission", "CATALOGUE_READ_PERMISSION", "--expires-in", "0"], ""));
        assert_ne!(second.trim_end(), token);

        let listed = assert_ok(&spcm(&url, &["token", "list", "--tenant", "default"], ""));
        let lines: Vec<&str> = listed.lines().collect();
        assert_eq!(lines.len(), 2, "{listed}");
        assert!(lines[0].contains("\tactive\t") && lines[0].contains("CATALOGUE_READ_PERMISSION"), "{listed}");
        assert!(lines[1].contains("\texpired\t"), "{listed}");
        assert!(!listed.contains(token), "the secret is never listed");

        let id = lines[0].split('\t').next().unwrap();
        assert_ok(&spcm(&url, &["token", "revoke", "--tenant", "default", id], ""));
        assert!(assert_ok(&spcm(&url, &["token", "list", "--tenant", "default"], "")).lines().next().unwrap().contains("\trevoked\t"));
        assert_fails(&spcm(&url, &["token", "revoke", "--tenant", "default", "999"], ""), "no token");
        assert_fails(&spcm(&url, &["token", "create", "--tenant", "default", "--permission", "NOPE"], ""), "unknown permission");
    }
}

#[test]
fn migrate_prepares_a_fresh_database_and_flags_go_before_or_after_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let before = Command::new(env!("CARGO_BIN_EXE_spcm")).args(["--database-url", &url, "migrate"]).output().unwrap();
    assert_ok(&before);
    assert!(dir.path().join("fresh.db").exists());
    let after = Command::new(env!("CARGO_BIN_EXE_spcm")).args(["migrate", "--database-url", &url]).output().unwrap();
    assert_ok(&after);
    let from_env = Command::new(env!("CARGO_BIN_EXE_spcm"))
        .args(["tenant", "list"])
        .env("SPCM_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(assert_ok(&from_env), "", "migrate alone creates no tenant");
    let bad =
        Command::new(env!("CARGO_BIN_EXE_spcm")).args(["migrate", "--database-url", "oracle://x"]).output().unwrap();
    assert_fails(&bad, "unsupported database URL scheme");
}

/// `spcm` alone serves; the generated bootstrap password is printed once and the
/// logs carry no password even when requests send one.
#[tokio::test]
async fn serve_is_the_default_command_and_logs_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spcm"))
        .env("SPCM_DATABASE_URL", format!("sqlite://{}", dir.path().join("served.db").display()))
        .env("SPCM_BIND", format!("127.0.0.1:{port}"))
        .env_remove("SPCM_BOOTSTRAP_PASSWORD")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    while !first.contains("password") {
        first.clear();
        assert!(stderr.read_line(&mut first).unwrap() > 0, "no bootstrap password printed");
    }
    let password = first.trim_end().rsplit(' ').next().unwrap().to_owned();
    assert!(first.contains("user 'admin'") && password.len() == 24, "{first}");

    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while client.get(format!("{base}/health/live")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ok = client
        .get(format!("{base}{PROFILES}"))
        .basic_auth("admin", Some(&password))
        .header("tenant", "default")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "the printed password works");
    let wrong = client
        .get(format!("{base}{PROFILES}"))
        .basic_auth("admin", Some("Wr0ng-Secret-Value"))
        .header("tenant", "default")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    // SIGTERM: a graceful stop flushes the log writer.
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let mut logs = String::new();
    stderr.read_to_string(&mut logs).unwrap();
    child.wait().unwrap();
    assert!(logs.contains("\"status\":200"), "access log lines are written: {logs}");
    assert!(!logs.contains(&password), "the admin password must not be logged");
    assert!(!logs.contains("Wr0ng-Secret-Value"), "a sent password must not be logged");
    assert!(!logs.to_lowercase().contains("authorization"), "no auth headers in logs");
}

/// Every command path of the CLI: `[]`, `["tenant"]`, `["tenant", "add"]`…
fn command_paths(command: &clap::Command, prefix: Vec<String>) -> Vec<Vec<String>> {
    let mut paths = vec![prefix.clone()];
    for sub in command.get_subcommands().filter(|sub| sub.get_name() != "help") {
        let mut path = prefix.clone();
        path.push(sub.get_name().to_owned());
        paths.extend(command_paths(sub, path));
    }
    paths
}

#[test]
fn no_help_text_prints_the_database_url() {
    use clap::CommandFactory;
    let secret = "Hunter2-Db-S3cret";
    let paths = command_paths(&spcm::cli::Cli::command(), Vec::new());
    assert!(paths.len() > 10, "every subcommand is visited: {paths:?}");
    for path in paths {
        for flag in ["--help", "-h"] {
            let output = Command::new(env!("CARGO_BIN_EXE_spcm"))
                .args(&path)
                .arg(flag)
                .env("SPCM_DATABASE_URL", format!("postgres://spcm:{secret}@db.example:5432/spcm"))
                .output()
                .unwrap();
            let help = assert_ok(&output);
            assert!(help.contains("SPCM_DATABASE_URL"), "spcm {path:?} {flag} names the variable: {help}");
            assert!(
                !help.contains(secret) && !help.contains("db.example"),
                "spcm {path:?} {flag} prints the URL: {help}"
            );
        }
    }
}

/// `spcm` (serve) with `SPCM_BOOTSTRAP_PASSWORD` set to `value`: it must exit, not serve.
fn serve_with_bootstrap_password(value: &str) -> (Output, bool) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("refused.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_spcm"))
        .env("SPCM_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("SPCM_BIND", "127.0.0.1:0")
        .env("SPCM_BOOTSTRAP_PASSWORD", value)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("spcm serves with SPCM_BOOTSTRAP_PASSWORD={value:?} instead of refusing it");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    (output, db.exists())
}

#[test]
fn an_empty_bootstrap_password_is_refused_at_start() {
    for value in ["", "   "] {
        let (output, database_created) = serve_with_bootstrap_password(value);
        assert_fails(&output, "SPCM_BOOTSTRAP_PASSWORD is set but empty");
        assert!(!database_created, "nothing is done before the refusal");
    }
}
