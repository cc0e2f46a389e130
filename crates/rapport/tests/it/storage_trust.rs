//! Trust in the storage layer: search applies the viewer's scope before it cuts the
//! candidates; PostgreSQL connections honour `sslmode`; the data directory and the files in
//! it belong to the service user alone.

use std::path::Path;
use std::process::Stdio;

use rapport_domain::{Body, Channel, Clock, EmailAddress, Priority, Subject, SystemClock};
use rapport_store::op;
use rapport_store::tickets::{self, NewTicket};

use crate::both_backends;
use crate::harness::{Backend, Scratch, TestApp, bin, free_port};

fn team_ticket(subject: &str, email: &str, team_id: i64) -> NewTicket {
    NewTicket {
        subject: Subject::parse(subject).unwrap(),
        body: Body::parse("The zebracorn dispenser is jammed again.").unwrap(),
        customer_email: EmailAddress::parse(email).unwrap(),
        customer_name: None,
        channel: Channel::Web,
        priority: Priority::Normal,
        category: None,
        tags: Vec::new(),
        custom_fields: serde_json::Map::new(),
        team_id: Some(team_id),
        assignee_id: None,
        attachments: Vec::new(),
    }
}

/// The ticket ids among the hits of a search as `token`'s holder.
async fn found(app: &TestApp, token: &str, q: &str) -> Vec<i64> {
    let (s, r) = app
        .call(
            "GET",
            &format!("/api/v1/search?q={q}&limit=100"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["ticket_id"].as_i64())
        .collect()
}

both_backends! {
    async fn search_scopes_before_it_cuts_the_candidates(app) {
        let now = SystemClock.now();
        let (team_a, team_b) = (app.team_a, app.team_b);
        // Three older tickets of team A, then 1,200 newer matching tickets of team B: more
        // than the candidates search ranks.
        let (ours, theirs) = app
            .db
            .write(op!(c => {
                let mut ours = Vec::new();
                for i in 0..3 {
                    let t = tickets::create(c, None, team_ticket(&format!("Zebracorn jam {i}"), "a@example.org", team_a), now).await?;
                    ours.push(t.id);
                }
                let mut theirs = Vec::new();
                for i in 0..1_200 {
                    let t = tickets::create(c, None, team_ticket(&format!("Zebracorn issue {i}"), "b@example.org", team_b), now).await?;
                    theirs.push(t.id);
                }
                Ok((ours, theirs))
            }))
            .await
            .unwrap();
        let a = found(&app, &app.agent.token, "zebracorn").await;
        assert!(!a.is_empty(), "agent of team A finds nothing behind 1,200 newer matches of team B");
        for id in &ours {
            assert!(a.contains(id), "ticket {id} of team A not found: {a:?}");
        }
        assert!(a.iter().all(|id| !theirs.contains(id)), "team B's tickets leak to team A: {a:?}");
        // Agent B sees only team B's.
        let b = found(&app, &app.agent_b.token, "zebracorn").await;
        assert!(!b.is_empty() && b.iter().all(|id| theirs.contains(id)), "{b:?}");
        app.stop().await;
    }
}

// ---------------------------------------------------------------- file permissions

/// Runs the real `rapport` binary with `data` as its data directory; returns its stdout.
async fn cli(data: &Path, url: Option<&str>, args: &[&str], stdin: &str) -> String {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(args)
        .env("RAPPORT_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env_remove("RAPPORT_SECRET_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(u) = url {
        cmd.env("DATABASE_URL", u);
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "rapport {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Sets up a never-used data directory with the CLI, serves from it, creates a ticket over
/// HTTP, and checks (while the server runs, so SQLite's `-wal` and `-shm` exist) that the
/// directory and every file in it are its owner's alone.
async fn data_dir_is_private(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    // A directory that does not exist yet, under one that is world-readable, so the modes
    // checked are the ones Rapport chose (whatever the umask of the test run).
    let parent = scratch.dir.path().join("srv");
    std::fs::create_dir(&parent).unwrap();
    std::fs::set_permissions(&parent, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let data = parent.join("rapport-data");
    let url = scratch.database_url.as_deref();
    cli(&data, url, &["migrate"], "").await;
    cli(
        &data,
        url,
        &[
            "user",
            "add",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "a long enough password\n",
    )
    .await;
    let out = cli(
        &data,
        url,
        &["token", "create", "--email", "ops@example.com"],
        "",
    )
    .await;
    let token = out.lines().last().unwrap().trim().to_owned();

    let port = free_port();
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("serve")
        .env("RAPPORT_DATA_DIR", &data)
        .env("RAPPORT_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env_remove("DATABASE_URL")
        .env_remove("RAPPORT_SECRET_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some(u) = url {
        cmd.env("DATABASE_URL", u);
    }
    let mut child = cmd.spawn().unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut healthy = false;
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            healthy = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(healthy, "rapport serve did not become healthy");
    let r = http
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"subject": "Private?", "body": "Who can read this file?", "customer": {"email": "c@example.org"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    assert_eq!(mode(&data), 0o700, "data directory");
    let mut expected = vec!["secret.key"];
    if backend == Backend::Sqlite {
        expected.extend(["rapport.db", "rapport.db-wal", "rapport.db-shm"]);
    }
    for name in &expected {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
    for entry in std::fs::read_dir(&data).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(mode(&p) & 0o077, 0, "{} is readable by others", p.display());
    }
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dir_is_private_sqlite() {
    data_dir_is_private(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dir_is_private_postgres() {
    data_dir_is_private(Backend::Postgres).await;
}

// ---------------------------------------------------------------- PostgreSQL over TLS

/// A throwaway PostgreSQL cluster on a free port of 127.0.0.1 with TLS on, its server
/// certificate (for `localhost` only) issued by a test authority; stopped on drop.
struct TlsCluster {
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

/// A PostgreSQL server program: on the `PATH`, or in Debian's newest
/// `/usr/lib/postgresql/N/bin`.
fn pg_program(name: &str) -> std::path::PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.exists());
    if let Some(p) = on_path {
        return p;
    }
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server programs (initdb, pg_ctl) must be installed")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort_unstable();
    let v = versions
        .last()
        .expect("a PostgreSQL version in /usr/lib/postgresql");
    std::path::PathBuf::from(format!("/usr/lib/postgresql/{v}/bin/{name}"))
}

fn run_ok(program: &Path, args: &[&str], as_postgres: bool) {
    let mut cmd = if as_postgres {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        std::process::Command::new(program)
    };
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TlsCluster {
    fn start() -> TlsCluster {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let p = |name: &str| root.join(name).to_str().unwrap().to_owned();
        let openssl = Path::new("openssl");
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for ca in ["ca", "other-ca"] {
            let mut args = vec!["req", "-x509"];
            args.extend(ec);
            let (key, pem, subj) = (
                p(&format!("{ca}.key")),
                p(&format!("{ca}.pem")),
                format!("/CN=Rapport test {ca}"),
            );
            args.extend([
                "-keyout",
                &key,
                "-out",
                &pem,
                "-days",
                "2",
                "-subj",
                &subj,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]);
            run_ok(openssl, &args, false);
        }
        let mut args = vec!["req"];
        args.extend(ec);
        let (key, csr) = (p("server.key"), p("server.csr"));
        args.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]);
        run_ok(openssl, &args, false);
        std::fs::write(root.join("ext.cnf"), "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
        let (ca_pem, ca_key, server_pem, ext) =
            (p("ca.pem"), p("ca.key"), p("server.pem"), p("ext.cnf"));
        run_ok(
            openssl,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca_pem,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-out",
                &server_pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
            false,
        );

        // initdb refuses to run as root: then the cluster belongs to the postgres user.
        let as_postgres = std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout
            == b"0\n";
        if as_postgres {
            run_ok(
                Path::new("chown"),
                &["-R", "postgres:postgres", root.to_str().unwrap()],
                false,
            );
        }
        let data = p("data");
        run_ok(
            &pg_program("initdb"),
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-N",
                "-E",
                "UTF8",
            ],
            as_postgres,
        );
        let port = free_port();
        let conf = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nssl = on\n\
             ssl_cert_file = '{}'\nssl_key_file = '{}'\nfsync = off\nshared_buffers = 16MB\n",
            root.display(),
            server_pem,
            key
        );
        let conf_path = root.join("data/postgresql.conf");
        let mut all = std::fs::read_to_string(&conf_path).unwrap();
        all.push_str(&conf);
        std::fs::write(&conf_path, all).unwrap();
        run_ok(
            &pg_program("pg_ctl"),
            &["-D", &data, "-l", &p("log"), "-w", "-t", "60", "start"],
            as_postgres,
        );
        TlsCluster {
            dir,
            port,
            as_postgres,
        }
    }

    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    fn url(&self, host: &str, params: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres{params}", self.port)
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let data = self.file("data");
        let _ = std::panic::catch_unwind(|| {
            run_ok(
                &pg_program("pg_ctl"),
                &["-D", &data, "-m", "immediate", "-w", "stop"],
                self.as_postgres,
            );
        });
    }
}

/// Opens a store on `url` and says whether its connection is encrypted, or why it failed.
async fn encrypted(url: &str) -> Result<bool, String> {
    let db = rapport_store::Db::open(&rapport_store::DbConfig::Postgres(url.to_owned()))
        .await
        .map_err(|e| e.to_string())?;
    let ssl = db
        .read(op!(c => rapport_store::testing::one_in(c,
            "SELECT CASE WHEN ssl THEN 1 ELSE 0 END FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).await?.int(0)))
        .await
        .map_err(|e| e.to_string())?;
    Ok(ssl == 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_honour_sslmode() {
    let cluster = TlsCluster::start();
    let (ca, other_ca) = (cluster.file("ca.pem"), cluster.file("other-ca.pem"));
    let ok = |r: Result<bool, String>, what: &str| r.unwrap_or_else(|e| panic!("{what}: {e}"));
    let refused = |r: Result<bool, String>, what: &str, why: &str| {
        let e = r.expect_err(what);
        assert!(e.contains(why), "{what}: `{e}` does not say `{why}`");
    };
    // A server that offers TLS.
    assert!(!ok(
        encrypted(&cluster.url("127.0.0.1", "?sslmode=disable")).await,
        "disable"
    ));
    assert!(
        ok(
            encrypted(&cluster.url("127.0.0.1", "")).await,
            "the default (prefer)"
        ),
        "prefer must use TLS when offered"
    );
    assert!(ok(
        encrypted(&cluster.url("127.0.0.1", "?sslmode=require")).await,
        "require"
    ));
    assert!(ok(
        encrypted(&cluster.url("127.0.0.1", &format!("?sslmode=verify-ca&sslrootcert={ca}"))).await,
        "verify-ca"
    ));
    assert!(ok(
        encrypted(&cluster.url(
            "localhost",
            &format!("?sslmode=verify-full&sslrootcert={ca}")
        ))
        .await,
        "verify-full"
    ));
    // The certificate names localhost, not 127.0.0.1; another authority did not issue it;
    // the public authorities did not either.
    refused(
        encrypted(&cluster.url(
            "127.0.0.1",
            &format!("?sslmode=verify-full&sslrootcert={ca}"),
        ))
        .await,
        "verify-full by address",
        "certificate",
    );
    refused(
        encrypted(&cluster.url(
            "localhost",
            &format!("?sslmode=verify-ca&sslrootcert={other_ca}"),
        ))
        .await,
        "verify-ca, other authority",
        "certificate",
    );
    refused(
        encrypted(&cluster.url("localhost", "?sslmode=verify-full")).await,
        "verify-full, public roots",
        "certificate",
    );
    refused(
        encrypted(&cluster.url(
            "localhost",
            "?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        ))
        .await,
        "a missing root file",
        "sslrootcert",
    );
    refused(
        encrypted(&cluster.url("localhost", "?sslmode=sometimes")).await,
        "an unknown mode",
        "sslmode",
    );

    // The same server with TLS turned off.
    let admin = cluster.url("127.0.0.1", "?sslmode=disable");
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute("ALTER SYSTEM SET ssl = off")
        .await
        .unwrap();
    client
        .batch_execute("SELECT pg_reload_conf()")
        .await
        .unwrap();
    for _ in 0..100 {
        let on: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
        if on == "off" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    refused(
        encrypted(&cluster.url("127.0.0.1", "?sslmode=require")).await,
        "require without TLS",
        "does not support TLS",
    );
    refused(
        encrypted(&cluster.url(
            "localhost",
            &format!("?sslmode=verify-full&sslrootcert={ca}"),
        ))
        .await,
        "verify-full without TLS",
        "does not support TLS",
    );
    assert!(!ok(
        encrypted(&cluster.url("127.0.0.1", "?sslmode=prefer")).await,
        "prefer without TLS"
    ));
}
