//! A real PostgreSQL server for tests, one empty database per test.
//!
//! Where the server comes from, in order:
//! 1. `DD_TEST_POSTGRES_URL`: a server someone started (its URL names any database the user may
//!    connect to; the tests create their own databases beside it).
//! 2. Debian's binaries (`/usr/lib/postgresql/<version>/bin/initdb`, package `postgresql`): a
//!    throwaway cluster in a temporary directory, listening only on a Unix socket in that
//!    directory, run as the `postgres` user when the tests run as root. It stops, and its
//!    directory goes, shortly after the test process exits.
//! 3. Neither: the test is skipped with a loud message, except on CI (`CI` set), where it fails.
//!
//! Use from a test file:
//!
//! ```ignore
//! #[path = "support/postgres.rs"]
//! mod postgres_support;
//!
//! let Some(server) = postgres_support::server() else { return }; // skipped, loudly
//! let url = server.database().await; // a new empty database of this test's own
//! let store = PostgresStore::connect(&url, sealer).await?;
//! ```
//!
//! Several OS processes on one database: the parent creates it with `server.database()` and
//! hands the URL to the children (an environment variable of your choosing); a child that needs
//! databases of its own gets the server with `command.env(ENV, server.url())`, so that its own
//! `server()` connects to the parent's cluster instead of starting one.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable naming a running server to use instead of starting one.
pub const ENV: &str = "DD_TEST_POSTGRES_URL";

/// The longest parent directory a throwaway cluster may be made in: its socket's path,
/// `<parent>/ddpg-<pid>-<9 digits>/.s.PGSQL.5432`, must fit in 107 bytes.
pub const CLUSTER_PARENT_MAX: usize = 107 - "/ddpg-4194304-123456789/.s.PGSQL.5432".len();

/// A PostgreSQL server the tests may create databases on.
#[derive(Debug)]
pub struct PostgresServer {
    url: String,
    cluster: Option<Cluster>,
}

/// The server shared by every test of this process: the one `DD_TEST_POSTGRES_URL` names, or a
/// throwaway cluster started on first use. `None` (after a loud message on stderr) when there
/// is none and this is not CI.
///
/// # Panics
/// On CI (`CI` set) when no server can be had.
pub fn server() -> Option<&'static PostgresServer> {
    static SERVER: OnceLock<Result<PostgresServer, String>> = OnceLock::new();
    match SERVER.get_or_init(|| PostgresServer::find(Durability::Off)) {
        Ok(server) => Some(server),
        Err(why) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs a real PostgreSQL for the store tests, and there is none: {why}"
            );
            eprintln!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! SKIPPED: PostgreSQL tests. {why}\n\
                 !!! Install Debian's `postgresql` (apt-get install postgresql), or set\n\
                 !!! {ENV}=postgres://user:password@host:port/postgres\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            None
        }
    }
}

/// Whether the throwaway cluster syncs to disk: off for tests (faster; nothing outlives them),
/// on for benchmarks (figures as in production).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    Off,
    Full,
}

impl PostgresServer {
    /// The server `DD_TEST_POSTGRES_URL` names, or a new throwaway cluster. Owned: the cluster
    /// stops when this is dropped.
    pub fn find(durability: Durability) -> Result<PostgresServer, String> {
        PostgresServer::find_in(durability, Path::new("/tmp"))
    }

    /// As [`Self::find`], a throwaway cluster's directory made in `parent`: an absolute path
    /// (a relative one is taken from the current directory) of at most
    /// [`CLUSTER_PARENT_MAX`] bytes, the socket's path having to fit in 107, and of letters,
    /// digits and `/._-` only, as it goes into the server's options, its URL and a shell
    /// command.
    pub fn find_in(durability: Durability, parent: &Path) -> Result<PostgresServer, String> {
        if let Some(url) = std::env::var(ENV).ok().filter(|u| !u.is_empty()) {
            return Ok(PostgresServer { url, cluster: None });
        }
        let parent = std::path::absolute(parent)
            .map_err(|e| format!("the cluster's parent directory {}: {e}", parent.display()))?;
        let text = parent.to_str().unwrap_or_default();
        if text.is_empty()
            || !text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
        {
            return Err(format!(
                "the cluster's parent directory {} may hold only letters, digits and /._- \
                 (it goes into a shell command and a URL)",
                parent.display()
            ));
        }
        if text.len() > CLUSTER_PARENT_MAX {
            return Err(format!(
                "the cluster's parent directory {text} is longer than {CLUSTER_PARENT_MAX} \
                 bytes: its socket's path would not fit in 107"
            ));
        }
        let cluster = Cluster::start(durability, false, &parent)?;
        Ok(PostgresServer {
            url: cluster.url(),
            cluster: Some(cluster),
        })
    }

    /// A throwaway cluster of its own that also listens on `127.0.0.1` with TLS, its
    /// certificate issued by a test CA for `localhost` (made with the `openssl` command), and
    /// the CA's PEM file to verify it with. `url` is then the TCP one, TLS preferred. Owned:
    /// the cluster stops when this is dropped.
    pub fn start_tls() -> Result<(PostgresServer, PathBuf), String> {
        let cluster = Cluster::start(Durability::Off, true, Path::new("/tmp"))?;
        let ca = cluster.dir.join("ca.crt");
        let port = cluster.port.ok_or("the TLS cluster has no port")?;
        Ok((
            PostgresServer {
                url: format!("postgres://postgres@localhost:{port}/postgres"),
                cluster: Some(cluster),
            },
            ca,
        ))
    }

    /// The server's URL (with the database it was given; tests should use [`Self::database`]).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The pid of a throwaway cluster's postmaster (from its `postmaster.pid`); `None` for a
    /// server `DD_TEST_POSTGRES_URL` names.
    ///
    /// # Panics
    /// If a throwaway cluster's `postmaster.pid` cannot be read while it runs.
    pub fn postmaster(&self) -> Option<u32> {
        let cluster = self.cluster.as_ref()?;
        let file = cluster.data().join("postmaster.pid");
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let pid = text.lines().next().and_then(|l| l.trim().parse().ok());
        Some(pid.unwrap_or_else(|| panic!("{} names no pid: {text:?}", file.display())))
    }

    /// The socket directory of a throwaway cluster, if this is one.
    pub fn socket_dir(&self) -> Option<&Path> {
        self.cluster.as_ref().map(|c| c.dir.as_path())
    }

    /// Creates a new, empty database and returns its URL.
    ///
    /// # Panics
    /// If the server refuses.
    pub async fn database(&self) -> String {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let name = format!(
            "dd_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        // A pool of one, not a bare connection: its futures are `Send` for any caller.
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL failed: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
        admin.close().await;
        let mut url = url::Url::parse(&self.url).expect("the server URL parses");
        url.set_path(&format!("/{name}"));
        url.to_string()
    }
}

/// A cluster in a temporary directory, its data in `dir/data`, its socket in `dir`.
#[derive(Debug)]
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    /// The TCP port of a TLS cluster.
    port: Option<u16>,
}

impl Cluster {
    /// `tls`: also listen on a free port of `127.0.0.1`, with TLS. The cluster's directory is
    /// made in `parent`.
    fn start(durability: Durability, tls: bool, parent: &Path) -> Result<Cluster, String> {
        let bin = debian_bin_dir().ok_or("no /usr/lib/postgresql/*/bin/initdb here")?;
        let as_postgres = is_root();
        // Short: a socket's path must fit in 107 bytes.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = parent.join(format!(
            "ddpg-{}-{}",
            std::process::id(),
            nanos % 1_000_000_000
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let mut cluster = Cluster {
            dir,
            bin,
            as_postgres,
            port: None,
        };
        if as_postgres {
            // initdb and postgres refuse to run as root.
            let (uid, gid) = postgres_user()?;
            std::os::unix::fs::chown(&cluster.dir, Some(uid), Some(gid)).map_err(|e| {
                format!("giving {} to the postgres user: {e}", cluster.dir.display())
            })?;
        }
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().to_string_lossy(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        )?;
        let mut settings = format!(
            "-k {dir} -c listen_addresses= -c max_connections=300 -c shared_buffers=64MB",
            dir = cluster.dir.display()
        );
        if durability == Durability::Off {
            settings.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        if tls {
            cluster.certificates()?;
        }
        cluster.watch_parent();
        // A free port is picked just before the start; if another process takes it first, the
        // start fails and is tried again with another.
        for attempt in 1..=3 {
            let mut settings = settings.clone();
            if tls {
                let port = std::net::TcpListener::bind("127.0.0.1:0")
                    .and_then(|l| l.local_addr())
                    .map_err(|e| format!("finding a free port: {e}"))?
                    .port();
                settings = format!(
                    "-k {dir} -c listen_addresses=127.0.0.1 -p {port} -c ssl=on \
                     -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key \
                     -c max_connections=50 -c fsync=off",
                    dir = cluster.dir.display()
                );
                cluster.port = Some(port);
            }
            let started = cluster.run(
                "pg_ctl",
                &[
                    "-D",
                    &cluster.data().to_string_lossy(),
                    "-l",
                    &cluster.dir.join("server.log").to_string_lossy(),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    &settings,
                    "start",
                ],
            );
            match started {
                Ok(()) => return Ok(cluster),
                Err(why) if !tls || attempt == 3 => return Err(why),
                Err(_) => {}
            }
        }
        unreachable!("the last attempt returns")
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A test CA (`ca.crt`) and a server certificate it signed for `localhost` (`server.crt`,
    /// `server.key`, the key readable by the server's user only, as PostgreSQL requires).
    fn certificates(&self) -> Result<(), String> {
        // Each command's words, split on white space.
        let openssl = |command: &str| {
            let mut openssl = Command::new("openssl");
            openssl.args(command.split_whitespace());
            self.succeed(openssl, "openssl (apt-get install openssl)")
        };
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        openssl(&format!(
            "req -x509 -days 2 -subj /CN=dd-integration-test-CA {ec} -keyout ca.key -out ca.crt"
        ))?;
        openssl(&format!(
            "req -new -subj /CN=localhost {ec} -keyout server.key -out server.csr"
        ))?;
        std::fs::write(
            self.dir.join("server.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n",
        )
        .map_err(|e| format!("writing server.ext: {e}"))?;
        openssl(
            "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
             -extfile server.ext -out server.crt",
        )?;
        for file in ["server.key", "server.crt"] {
            let path = self.dir.join(file);
            if self.as_postgres {
                let (uid, gid) = postgres_user()?;
                std::os::unix::fs::chown(&path, Some(uid), Some(gid))
                    .map_err(|e| format!("giving {file} to the postgres user: {e}"))?;
            }
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("chmod {file}: {e}"))?;
        }
        Ok(())
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@localhost/postgres?host={}",
            self.dir.display()
        )
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let mut command = self.command(program);
        command.args(args);
        self.succeed(command, program).map_err(|e| {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            format!("{e}\n{log}")
        })
    }

    /// Runs `command` in the cluster's directory; its status and output if it failed.
    fn succeed(&self, mut command: Command, what: &str) -> Result<(), String> {
        let output = command
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running {what}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// A watchdog that stops the cluster and removes its directory once this process is gone
    /// (tests have no global teardown; statics are never dropped).
    fn watch_parent(&self) {
        let stop = format!(
            "{runuser}{pg_ctl} -D {data} -m immediate stop",
            runuser = if self.as_postgres {
                "runuser -u postgres -- "
            } else {
                ""
            },
            pg_ctl = self.bin.join("pg_ctl").display(),
            data = self.data().display(),
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            dir = self.dir.display(),
        );
        let spawned = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Err(e) = spawned {
            eprintln!(
                "the PostgreSQL watchdog did not start ({e}); stop the cluster in {} by hand",
                self.dir.display()
            );
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                &self.data().to_string_lossy(),
                "-m",
                "fast",
                "-w",
                "stop",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with an `initdb`.
fn debian_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn postgres_user() -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let output = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(|e| format!("running id: {e}"))?;
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|_| {
                "running as root, and there is no `postgres` user to run the cluster as".to_owned()
            })
    };
    Ok((id("-u")?, id("-g")?))
}
