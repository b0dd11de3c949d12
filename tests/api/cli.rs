//! The `spcm` command line, run as a real process.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::helpers::{backend_tests, wait_until, wait_until_blocking, PROFILES};

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
            "--permission", "SPCM_PROVISION_PROFILE_READ_PERMISSION"], "ops-password-1\n");
        assert_ok(&added);
        let as_ops = |pw: &str, method: Method| app.request_as(method, PROFILES, "default", "ops", pw).json(&serde_json::json!({"name": "x", "defaultProfile": false})).send();
        assert_eq!(as_ops("ops-password-1", Method::GET).await.unwrap().status(), 200);
        assert_eq!(as_ops("ops-password-1", Method::POST).await.unwrap().status(), 403);

        let listed = assert_ok(&spcm(&url, &["user", "list", "--tenant", "default"], ""));
        assert!(listed.contains("ops\tSPCM_PROVISION_PROFILE_READ_PERMISSION"), "{listed}");
        assert!(listed.contains("admin\t"), "{listed}");
        assert!(!listed.contains("ops-password-1") && !listed.contains("argon2"), "no secrets listed");

        assert_ok(&spcm(&url, &["user", "passwd", "--tenant", "default", "--username", "ops"], "ops-password-2\n"));
        assert_eq!(as_ops("ops-password-1", Method::GET).await.unwrap().status(), 401);
        assert_eq!(as_ops("ops-password-2", Method::GET).await.unwrap().status(), 200);

        assert_ok(&spcm(&url, &["user", "remove", "--tenant", "default", "--username", "ops"], ""));
        assert_eq!(as_ops("ops-password-2", Method::GET).await.unwrap().status(), 401);

        assert_ok(&spcm(&url, &["user", "add", "--tenant", "default", "--username", "root", "--all-permissions"], "root-password-1\n"));
        let as_root = app.request_as(Method::POST, PROFILES, "default", "root", "root-password-1").json(&serde_json::json!({"name": "x", "defaultProfile": false})).send();
        assert_eq!(as_root.await.unwrap().status(), 201);

        assert_fails(&spcm(&url, &["user", "add", "--tenant", "default", "--username", "x", "--permission", "ROOT"], "long-enough-pw\n"), "unknown permission");
        assert_fails(&spcm(&url, &["user", "add", "--tenant", "nowhere", "--username", "x", "--all-permissions"], "long-enough-pw\n"), "no tenant");
        assert_fails(&spcm(&url, &["user", "add", "--tenant", "default", "--username", "y", "--all-permissions"], ""), "no password");
        assert_fails(&spcm(&url, &["user", "add", "--tenant", "default", "--username", "root", "--all-permissions"], "long-enough-pw\n"), "already exists");
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
        assert_eq!(lines.len(), 3, "a header and two tokens: {listed}");
        assert_eq!(lines[0], "ID\tSTATUS\tCREATED\tEXPIRES\tPERMISSIONS");
        let first: Vec<&str> = lines[1].split('\t').collect();
        assert_eq!(&first[1..], &["active", first[2], "never", "CATALOGUE_READ_PERMISSION"], "{listed}");
        assert!(chrono::DateTime::parse_from_rfc3339(first[2]).is_ok(), "created as RFC 3339: {}", first[2]);
        let expired: Vec<&str> = lines[2].split('\t').collect();
        assert_eq!(expired[1], "expired", "{listed}");
        assert!(chrono::DateTime::parse_from_rfc3339(expired[3]).is_ok(), "expires as RFC 3339: {}", expired[3]);
        assert!(!listed.contains(token), "the secret is never listed");

        assert_ok(&spcm(&url, &["token", "revoke", "--tenant", "default", first[0]], ""));
        assert!(assert_ok(&spcm(&url, &["token", "list", "--tenant", "default"], "")).lines().nth(1).unwrap().contains("\trevoked\t"));
        assert_fails(&spcm(&url, &["token", "revoke", "--tenant", "default", "999"], ""), "no token");
        assert_fails(&spcm(&url, &["token", "create", "--tenant", "default", "--permission", "NOPE"], ""), "CATALOGUE_READ_PERMISSION");
    }

    async fn token_create_prints_the_id_that_revoke_takes(app) {
        let url = app.db.url.clone();
        let catalogue = app.url("/v2/orgs/default/base_profiles");
        let printed = assert_ok(&spcm(&url, &["token", "create", "--tenant", "default", "--permission", "CATALOGUE_READ_PERMISSION", "--print-id"], ""));
        let (id, token) = printed.trim_end().split_once('\t').expect("ID<TAB>TOKEN");
        assert!(token.starts_with("spcm_"), "{printed}");
        let read = |token: String| app.client.get(catalogue.clone()).bearer_auth(token).send();
        assert_ne!(read(token.to_owned()).await.unwrap().status(), 401, "the token works");
        assert_ok(&spcm(&url, &["token", "revoke", "--tenant", "default", id], ""));
        assert_eq!(read(token.to_owned()).await.unwrap().status(), 401, "the printed id revoked this token");

        let json: serde_json::Value = serde_json::from_str(&assert_ok(&spcm(&url, &["token", "create", "--tenant", "default",
            "--permission", "CATALOGUE_READ_PERMISSION", "--permission", "CATALOGUE_WRITE_PERMISSION", "--expires-in", "3600", "--json"], ""))).unwrap();
        assert_eq!(json["tenant"], "default");
        assert_eq!(json["permissions"], serde_json::json!(["CATALOGUE_READ_PERMISSION", "CATALOGUE_WRITE_PERMISSION"]));
        let created = chrono::DateTime::parse_from_rfc3339(json["createdAt"].as_str().unwrap()).unwrap();
        let expires = chrono::DateTime::parse_from_rfc3339(json["expiresAt"].as_str().unwrap()).unwrap();
        assert_eq!((expires - created).num_seconds(), 3600);
        assert_ne!(read(json["token"].as_str().unwrap().to_owned()).await.unwrap().status(), 401);
        let id = json["id"].as_i64().unwrap().to_string();
        assert_ok(&spcm(&url, &["token", "revoke", "--tenant", "default", &id], ""));
        assert_eq!(read(json["token"].as_str().unwrap().to_owned()).await.unwrap().status(), 401);
    }

    async fn the_cli_keeps_the_last_administrator_unless_forced(app) {
        let url = app.db.url.clone();
        assert_ok(&spcm(&url, &["user", "add", "--tenant", "default", "--username", "ops",
            "--permission", "SPCM_PROVISION_PROFILE_READ_PERMISSION"], "ops-password-1\n"));
        assert_fails(&spcm(&url, &["user", "remove", "--tenant", "default", "--username", "admin"], ""), "--force");
        assert_fails(&spcm(&url, &["user", "permissions", "--tenant", "default", "--username", "admin",
            "--permission", "SPCM_PROVISION_PROFILE_READ_PERMISSION"], ""), "last user holding SPCM_TENANT_ADMIN_PERMISSION");
        assert_eq!(app.request(Method::GET, PROFILES).send().await.unwrap().status(), 200, "admin is untouched");
        assert_ok(&spcm(&url, &["user", "permissions", "--tenant", "default", "--username", "ops", "--all-permissions"], ""));
        assert_ok(&spcm(&url, &["user", "remove", "--tenant", "default", "--username", "admin"], ""));
        assert_fails(&spcm(&url, &["user", "remove", "--tenant", "default", "--username", "ops"], ""), "--force");
        assert_ok(&spcm(&url, &["user", "remove", "--tenant", "default", "--username", "ops", "--force"], ""));
        assert_eq!(assert_ok(&spcm(&url, &["user", "list", "--tenant", "default"], "")), "");
    }

    async fn the_cli_gives_tokens_only_catalogue_permissions(app) {
        let url = app.db.url.clone();
        assert_fails(&spcm(&url, &["token", "create", "--tenant", "default",
            "--permission", "SPCM_PROVISION_PROFILE_READ_PERMISSION"], ""), "only catalogue permissions");
        assert_fails(&spcm(&url, &["token", "create", "--tenant", "default",
            "--permission", "CATALOGUE_READ_PERMISSION", "--permission", "SPCM_TENANT_ADMIN_PERMISSION"], ""), "SPCM_TENANT_ADMIN_PERMISSION");
        let listed = assert_ok(&spcm(&url, &["token", "list", "--tenant", "default"], ""));
        assert_eq!(listed.lines().count(), 1, "no token was created: {listed}");
    }

    async fn passwords_need_twelve_characters_and_permissions_are_listed_when_unknown(app) {
        let url = app.db.url.clone();
        let add = |username: &str, password: &str| spcm(&url, &["user", "add", "--tenant", "default", "--username", username, "--all-permissions"], password);
        assert_fails(&add("short", "eleven-char\n"), "at least 12");
        assert_ok(&add("exact", "twelve-chars\n"));
        assert_fails(&spcm(&url, &["user", "passwd", "--tenant", "default", "--username", "exact"], "too-short\n"), "at least 12");
        let unknown = spcm(&url, &["user", "add", "--tenant", "default", "--username", "x", "--permission", "READ"], "long-enough-pw\n");
        assert_fails(&unknown, "unknown permission 'READ'");
        let reason = String::from_utf8_lossy(&unknown.stderr).into_owned();
        for permission in ["SPCM_PROVISION_PROFILE_READ_PERMISSION", "SPCM_PROVISION_PROFILE_DELETE_PERMISSION", "CATALOGUE_WRITE_PERMISSION"] {
            assert!(reason.contains(permission), "the valid permissions are listed: {reason}");
        }
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

/// A fresh SQLite database prepared by `spcm migrate`, in its own directory.
fn migrated_sqlite() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("spcm.db").display());
    assert_ok(&spcm(&url, &["migrate"], ""));
    (dir, url)
}

#[test]
fn migrate_names_what_it_applied_and_says_when_nothing_was_pending() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let first = assert_ok(&spcm(&url, &["migrate"], ""));
    let names: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(first.starts_with(&format!("applied {} migrations: ", names.len())), "{first}");
    for name in &names {
        assert!(first.contains(name.as_str()), "{name} is named: {first}");
    }
    assert_eq!(assert_ok(&spcm(&url, &["migrate"], "")), "nothing to apply: the database is up to date\n");
}

#[test]
fn commands_other_than_serve_and_migrate_refuse_a_missing_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("typo.db");
    let url = format!("sqlite://{}", db.display());
    for args in [
        &["tenant", "list"][..],
        &["tenant", "add", "acme"],
        &["catalogue", "export", "--tenant", "default"],
        &["backup", "/nonexistent/b.db"],
    ] {
        assert_fails(&spcm(&url, args, ""), "no SQLite database at");
        assert!(!db.exists(), "spcm {args:?} created {}", db.display());
    }
}

#[test]
fn the_first_tenant_added_by_the_cli_says_that_serve_will_not_bootstrap() {
    let (_dir, url) = migrated_sqlite();
    let added = spcm(&url, &["tenant", "add", "acme"], "");
    assert_ok(&added);
    let note = String::from_utf8_lossy(&added.stderr);
    assert!(note.contains("first tenant") && note.contains("will not create the bootstrap tenant"), "{note}");
    let second = spcm(&url, &["tenant", "add", "beta"], "");
    assert_ok(&second);
    assert!(second.stderr.is_empty(), "only the first tenant brings the note");
}

#[test]
fn output_to_a_closed_pipe_ends_quietly_and_successfully() {
    let full = assert_ok(&Command::new(env!("CARGO_BIN_EXE_spcm")).arg("openapi").output().unwrap());
    assert!(full.len() > 2 * 64 * 1024, "more than a pipe holds, so the write meets the closed pipe: {}", full.len());
    {
        let args = ["openapi"];
        let mut child = Command::new(env!("CARGO_BIN_EXE_spcm"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 1];
        child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "spcm {args:?} | head: {:?}", output.status);
        assert!(output.stderr.is_empty(), "nothing on stderr: {}", String::from_utf8_lossy(&output.stderr));
    }
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [("bash", "complete -F _spcm"), ("zsh", "#compdef spcm"), ("fish", "complete -c spcm")] {
        let script =
            assert_ok(&Command::new(env!("CARGO_BIN_EXE_spcm")).args(["completions", shell]).output().unwrap());
        assert!(script.contains(marker), "{shell}: {marker} in {script}");
        assert!(script.contains("backup") && script.contains("database-url"), "{shell} completes commands and flags");
    }
}

#[test]
fn server_flags_belong_to_serve_and_the_database_url_to_every_command() {
    let help =
        |args: &[&str]| assert_ok(&Command::new(env!("CARGO_BIN_EXE_spcm")).args(args).arg("--help").output().unwrap());
    let serve = help(&["serve"]);
    for flag in ["--bind", "--pool-size", "--workers", "--body-limit", "--signin-window-secs", "--database-url"] {
        assert!(serve.contains(flag), "serve --help lists {flag}: {serve}");
    }
    for path in [&["tenant", "add"][..], &["user", "add"], &["token", "create"], &["migrate"], &[]] {
        let text = help(path);
        assert!(text.contains("--database-url"), "{path:?}: {text}");
        assert!(!text.contains("--bind") && !text.contains("--pool-size"), "{path:?} lists no server flag: {text}");
    }
    let user_add = help(&["user", "add"]);
    assert!(
        user_add.contains("The tenant the user belongs to") && user_add.contains("as sent in HTTP Basic"),
        "{user_add}"
    );
    assert!(user_add.contains("CATALOGUE_WRITE_PERMISSION"), "--help lists the permissions: {user_add}");

    let (_dir, url) = migrated_sqlite();
    let misplaced = spcm(&url, &["tenant", "list", "--bind", "127.0.0.1:1"], "");
    assert!(!misplaced.status.success(), "a server flag is refused outside serve");
    assert_ok(&spcm(&url, &["tenant", "list"], ""));
}

/// A running service, its database backed up, changed, restored: the backed-up state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_the_state_it_copied() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let url = format!("sqlite://{}", db.display());
    let backup = dir.path().join("backup.db");

    let (child, base) = serve_process(&url, &[]).await;
    let client = reqwest::Client::new();
    let create = |name: &str| {
        client
            .post(format!("{base}{PROFILES}"))
            .basic_auth("admin", Some(crate::helpers::ADMIN_PASSWORD))
            .header("tenant", "default")
            .json(&serde_json::json!({"name": name, "defaultProfile": false}))
            .send()
    };
    assert_eq!(create("before-backup").await.unwrap().status(), 201);
    let written = assert_ok(&spcm(&url, &["backup", backup.to_str().unwrap()], ""));
    assert!(written.contains("backup written"), "{written}");
    assert_eq!(create("after-backup").await.unwrap().status(), 201);
    assert_fails(&spcm(&url, &["backup", backup.to_str().unwrap()], ""), "already exists");
    stop(child);

    // Restore: with the service stopped, the copy replaces the database file.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::copy(&backup, &db).unwrap();
    let (child, base) = serve_process(&url, &[]).await;
    let names = reqwest::Client::new()
        .get(format!("{base}{PROFILES}"))
        .basic_auth("admin", Some(crate::helpers::ADMIN_PASSWORD))
        .header("tenant", "default")
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["provisioningProfileDTOList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(names, ["before-backup"], "the restored database holds what the backup copied");
    stop(child);

    let other = spcm("postgres://spcm@127.0.0.1:1/spcm", &["backup", "/tmp/never-written.dump"], "");
    assert_fails(&other, "pg_dump");
}

/// `spcm ARGS` against `database_url` with the usual umask 022, under which a file
/// created with the default mode would be readable by everyone.
fn spcm_with_umask_022(database_url: &str, args: &[&str]) -> Output {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(env!("CARGO_BIN_EXE_spcm"));
    command.args(args).args(["--database-url", database_url]).env_remove("SPCM_DATABASE_URL");
    // SAFETY: umask only sets the child's file creation mask; it is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    command.output().expect("spcm runs")
}

fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// The names in `dir`, sorted.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

#[test]
fn the_database_and_its_backups_are_readable_by_their_owner_only_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("spcm.db");
    let url = format!("sqlite://{}", db.display());
    assert_ok(&spcm_with_umask_022(&url, &["migrate"]));
    assert_ok(&spcm_with_umask_022(&url, &["tenant", "add", "acme"]));
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if file.exists() {
            assert_eq!(mode_of(&file), 0o600, "{}", file.display());
        }
    }

    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let backup = backups.join("copy.db");
    let written = assert_ok(&spcm_with_umask_022(&url, &["backup", backup.to_str().unwrap()]));
    assert!(written.contains("backup written"), "{written}");
    assert_eq!(mode_of(&backup), 0o600, "the copy holds password hashes");
    assert_eq!(entries(&backups), ["copy.db"], "nothing else is left beside it");
    let copied = spcm(&format!("sqlite://{}", backup.display()), &["tenant", "list"], "");
    assert_eq!(assert_ok(&copied), "acme\n", "the copy is the database");
}

#[test]
fn a_backup_never_writes_through_a_symbolic_link_or_over_a_file() {
    let (dir, url) = migrated_sqlite();
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();

    // A dangling link, as someone else with write access to the directory could plant.
    let target = dir.path().join("elsewhere.db");
    let link = backups.join("tonight.db");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert_fails(&spcm(&url, &["backup", link.to_str().unwrap()], ""), "already exists");
    assert!(!target.exists(), "nothing was written where the link points");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is left as it was");

    // A link to an existing file: that file keeps its content.
    std::fs::write(&target, b"someone else's").unwrap();
    assert_fails(&spcm(&url, &["backup", link.to_str().unwrap()], ""), "already exists");
    assert_eq!(std::fs::read(&target).unwrap(), b"someone else's");

    // An existing file, even an empty one (which SQLite itself would write into).
    for content in [&b""[..], b"keep me"] {
        let existing = backups.join("existing.db");
        std::fs::write(&existing, content).unwrap();
        assert_fails(&spcm(&url, &["backup", existing.to_str().unwrap()], ""), "already exists");
        assert_eq!(std::fs::read(&existing).unwrap(), content, "the file is untouched");
        std::fs::remove_file(&existing).unwrap();
    }
    assert_eq!(entries(&backups), ["tonight.db"], "no copy or staging directory is left behind");
}

/// `spcm serve` on `url` with the test admin password and `env`, once it answers.
async fn serve_process(url: &str, env: &[(&str, &str)]) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_spcm"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database-url", url])
        .env_remove("SPCM_DATABASE_URL")
        .env("SPCM_BOOTSTRAP_PASSWORD", crate::helpers::ADMIN_PASSWORD)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_until("the server to be ready", Duration::from_secs(30), async || {
        client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    (child, base)
}

/// SIGTERM, then the process's stderr once it has exited.
fn stop(mut child: std::process::Child) -> String {
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(child.wait().unwrap().success());
    stderr
}

/// A database that already has tenants keeps them: the bootstrap is skipped, and the
/// log says so, and that `SPCM_BOOTSTRAP_PASSWORD` is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skipped_bootstrap_is_logged_with_its_reason() {
    let (_dir, url) = migrated_sqlite();
    assert_ok(&spcm(&url, &["tenant", "add", "acme"], ""));
    let (child, base) = serve_process(&url, &[]).await;
    let admin = reqwest::Client::new()
        .get(format!("{base}{PROFILES}"))
        .basic_auth("admin", Some(crate::helpers::ADMIN_PASSWORD))
        .header("tenant", "default")
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 401, "no bootstrap admin on a database with tenants");
    let stderr = stop(child);
    let line = stderr.lines().find(|l| l.starts_with("spcm: bootstrap skipped")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("'acme'") && line.contains("SPCM_BOOTSTRAP_PASSWORD is ignored"), "{line}");
    assert!(
        stderr.lines().any(|l| l.contains("\"level\":\"WARN\"") && l.contains("bootstrap skipped")),
        "a WARN log line too: {stderr}"
    );
}

/// The terminal (stdin) of the `spcm` process whose arguments contain `marker`.
fn terminal_of(marker: &str) -> String {
    let find = || {
        std::fs::read_dir("/proc").unwrap().flatten().find_map(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let ours = cmdline.starts_with(env!("CARGO_BIN_EXE_spcm")) && cmdline.contains(marker);
            ours.then(|| std::fs::read_link(entry.path().join("fd/0")).ok()).flatten()
        })
    };
    let mut terminal = None;
    wait_until_blocking(&format!("an spcm process with {marker}"), Duration::from_secs(10), || {
        terminal = find();
        terminal.is_some()
    });
    terminal.expect("found").display().to_string()
}

fn echo_is_off(terminal: &str) -> bool {
    let settings = Command::new("stty").args(["-a", "-F", terminal]).output().unwrap();
    String::from_utf8_lossy(&settings.stdout).split_whitespace().any(|flag| flag == "-echo")
}

/// On a terminal the password is prompted for twice and not echoed (`script` gives the
/// command a terminal).
#[test]
fn a_password_typed_on_a_terminal_is_prompted_for_and_not_echoed() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("this test needs `script` (util-linux) to give spcm a terminal");
    }
    let (_dir, url) = migrated_sqlite();
    assert_ok(&spcm(&url, &["tenant", "add", "acme"], ""));
    let command = format!(
        "{} user add --tenant acme --username typed --all-permissions --database-url {url}",
        env!("CARGO_BIN_EXE_spcm")
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    for prompt in ["New password for 'typed': ", "The same again: "] {
        while !String::from_utf8_lossy(&seen).contains(prompt) {
            let mut byte = [0u8; 1];
            assert_eq!(stdout.read(&mut byte).unwrap(), 1, "no prompt {prompt:?}: {}", String::from_utf8_lossy(&seen));
            seen.push(byte[0]);
        }
        // The prompt comes just before echo is turned off: type once the terminal says so.
        let terminal = terminal_of("--username typed");
        wait_until_blocking(&format!("echo to be off at {terminal}"), Duration::from_secs(10), || {
            echo_is_off(&terminal)
        });
        stdin.write_all(b"Typed-Secret-42\r").unwrap();
        stdin.flush().unwrap();
        seen.clear();
    }
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("user 'typed' added"), "{rest}");
    assert!(!rest.contains("Typed-Secret-42"), "the password is not echoed: {rest}");
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
    wait_until("the server to answer", Duration::from_secs(20), async || {
        client.get(format!("{base}/health/live")).send().await.is_ok()
    })
    .await;
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

/// Database URLs whose password is `secret` (or holds it: `se@cret`, `se/cret`), well
/// and badly formed, for each server backend.
const URLS_WITH_A_PASSWORD: [&str; 14] = [
    "postgres://u:secret@[::1/x",
    "postgres://u:secret@127.0.0.1:/x",
    "postgres://u:sec%72et@[::1/x",
    "postgres://u:se@cret@[::1/x",
    "postgres://u:se/cret@127.0.0.1:1/x",
    "postgres://u:secret@127.0.0.1:1/x",
    "postgres://u:secret@127.0.0.1:99999/x?sslmode",
    "postgresql://u@[::1/x?password=secret",
    "postgres:u:secret@127.0.0.1/x",
    "mysql://u:secret@[::1/x",
    "mysql://u:secret@127.0.0.1:/x",
    "mysql://u:se@cret@127.0.0.1:1/x",
    "mariadb://u:sec%72et@127.0.0.1:1/x",
    "u:secret@host://x",
];

/// Nothing of the password: neither whole, nor decoded, nor a piece of one cut at `@` or `/`.
fn assert_no_password(output: &Output, url: &str) {
    for stream in [&output.stdout, &output.stderr] {
        let text = String::from_utf8_lossy(stream);
        for piece in ["secret", "sec%72et", "cret"] {
            assert!(!text.contains(piece), "{url}: {piece} printed in {text}");
        }
    }
}

#[test]
fn no_message_prints_a_database_password_however_malformed_the_url() {
    for url in URLS_WITH_A_PASSWORD {
        let output = Command::new(env!("CARGO_BIN_EXE_spcm"))
            .args(["migrate", "--database-url", url])
            .env("SPCM_POOL_TIMEOUT_MS", "200")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{url} cannot work");
        assert_no_password(&output, url);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{url}: one line: {stderr}");
    }
    // The service logs what it could not open, as JSON lines.
    for url in ["postgres://u:secret@[::1/x", "mysql://u:secret@127.0.0.1:1/x"] {
        let output = Command::new(env!("CARGO_BIN_EXE_spcm"))
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", url])
            .env("SPCM_POOL_TIMEOUT_MS", "200")
            .env("SPCM_BOOTSTRAP_PASSWORD", crate::helpers::ADMIN_PASSWORD)
            .env("RUST_LOG", "debug")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{url} cannot be served");
        assert_no_password(&output, url);
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

#[test]
fn a_short_bootstrap_password_is_refused_at_start() {
    let (output, database_created) = serve_with_bootstrap_password("change-me");
    assert_fails(&output, "SPCM_BOOTSTRAP_PASSWORD: the password has 9 characters; at least 12 are needed");
    assert!(!database_created, "nothing is done before the refusal");
}
