//! The SQLite installation store at rest: its file holds org ids and names, partner accounts
//! and flow claims in the clear, so another local user must not be able to read it. The store
//! creates the file (and SQLite its `-wal` and `-shm`) `0600` under the usual `022` umask, and
//! tightens a file that is already open to other users.
#![cfg(unix)]

#[path = "support/capture.rs"]
mod capture;

/// Every test of this binary logs into one capture, the process's global subscriber.
fn logs() -> &'static capture::Capture {
    static LOGS: std::sync::OnceLock<capture::Capture> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let capture = capture::Capture::default();
        tracing::subscriber::set_global_default(capture.subscriber())
            .expect("no other global subscriber in this binary");
        capture
    })
}

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use std::process::Command;

use dd_integration::{Sealer, SealingKey, SqliteStore};
use dd_integration_tests::scratch::TempDir;

/// Set in the child process that [`under_umask_022`] starts.
const CHILD: &str = "DD_FILE_PERMISSIONS_CHILD";

fn sealer() -> Sealer {
    Sealer::new(SealingKey::from_bytes("test-key", &[0x5A; 32]).unwrap())
}

/// The file and whichever of its companions exist, with their permission bits.
fn modes(file: &Path) -> Vec<(String, u32)> {
    ["", "-wal", "-shm", "-journal"]
        .into_iter()
        .filter_map(|suffix| {
            let path = format!("{}{suffix}", file.display());
            let mode = std::fs::metadata(&path).ok()?.permissions().mode() & 0o7777;
            Some((path, mode))
        })
        .collect()
}

fn assert_owner_only(file: &Path) {
    let modes = modes(file);
    let names: Vec<&str> = modes.iter().map(|(path, _)| path.as_str()).collect();
    assert!(
        names.iter().any(|n| n.ends_with("-wal")) && names.iter().any(|n| n.ends_with("-shm")),
        "an open store in WAL mode has its -wal and -shm: {names:?}"
    );
    for (path, mode) in &modes {
        assert_eq!(
            mode & 0o077,
            0,
            "{path} is {mode:04o}: readable or writable by other users"
        );
        assert_eq!(mode & 0o600, 0o600, "{path} is {mode:04o}");
    }
}

/// The process's umask, from `/proc` (Linux); `None` where there is no `/proc`.
fn umask() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Umask:"))?;
    u32::from_str_radix(line.trim_start_matches("Umask:").trim(), 8).ok()
}

/// In the test process: runs the test `name` again in a child process whose umask is `022` (the
/// usual default, under which SQLite creates its files `0644`; the runner's own umask may be
/// stricter and hide the bug), checks that it ran and passed, and returns `false`. In that child:
/// returns `true`, and the test does its work.
fn under_umask_022(name: &str) -> bool {
    if std::env::var_os(CHILD).is_some() {
        if let Some(mask) = umask() {
            assert_eq!(mask, 0o022, "the child runs under umask 022");
        }
        return true;
    }
    let output = Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the test under umask 022 failed:\n{stdout}\n{stderr}"
    );
    false
}

#[tokio::test]
async fn another_local_user_cannot_read_a_new_sqlite_store() {
    if !under_umask_022("another_local_user_cannot_read_a_new_sqlite_store") {
        return;
    }
    let dir = TempDir::new("permissions-test");
    // The store writes its schema at open, so SQLite has its -wal and -shm by then.
    let store = SqliteStore::open(dir.file(), sealer()).await.unwrap();
    assert_owner_only(&dir.file());
    // A second process (here, a second store) opening the same file leaves it as it is.
    let second = SqliteStore::open(dir.file(), sealer()).await.unwrap();
    assert_owner_only(&dir.file());
    second.close().await;
    store.close().await;
    for (path, mode) in modes(&dir.file()) {
        assert_eq!(mode & 0o077, 0, "{path} is {mode:04o} after close");
    }
}

#[tokio::test]
async fn another_local_user_cannot_read_a_store_created_world_readable_before() {
    let dir = TempDir::new("permissions-test");
    // A store as it was created before the fix, or a file the partner `touch`ed: the file and
    // its companions 0644 (a store is open, so the -wal and -shm exist).
    logs();
    let earlier = SqliteStore::open(dir.file(), sealer()).await.unwrap();
    for (path, _) in modes(&dir.file()) {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let store = SqliteStore::open(dir.file(), sealer()).await.unwrap();
    assert_owner_only(&dir.file());
    // This file's line of the process-wide capture (a subscriber set for one thread misses
    // events whose callsites the other tests, running at once, registered first).
    let path = dir.file().display().to_string();
    let log = logs().text();
    assert!(
        log.lines().any(|line| line.contains("WARN")
            && line.contains("open to other users: now 0600")
            && line.contains(&path)),
        "the tightening is logged as a warning:\n{log}"
    );
    store.close().await;
    earlier.close().await;
}

#[tokio::test]
async fn a_store_file_created_by_hand_world_readable_is_tightened() {
    let dir = TempDir::new("permissions-test");
    // An empty file is an empty SQLite database.
    std::fs::write(dir.file(), b"").unwrap();
    std::fs::set_permissions(dir.file(), std::fs::Permissions::from_mode(0o664)).unwrap();
    let store = SqliteStore::open(dir.file(), sealer()).await.unwrap();
    assert_owner_only(&dir.file());
    store.close().await;
}
