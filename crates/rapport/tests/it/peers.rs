//! Real mail peers the email tests talk to: an SMTP server built on aiosmtpd
//! (`tests/peers/smtp_sink.py`, installed by scripts/test) that keeps what it accepts
//! byte for byte, and self-signed certificates made with openssl.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncBufReadExt;

use crate::harness::free_port;

/// A running aiosmtpd that keeps every accepted message.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    _child: tokio::process::Child,
}

/// What the sink should demand.
#[derive(Default)]
pub struct SinkOptions {
    /// Offer and require STARTTLS with this certificate and key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Require AUTH with this user and password.
    pub login: Option<(String, String)>,
}

impl SmtpSink {
    /// Starts the sink on a free port. A port picked by `free_port` can be taken by
    /// another test before Python binds it (the sink then exits without "ready"), so a
    /// few fresh ports are tried before giving up with what the sink printed.
    pub async fn start(options: SinkOptions) -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            match Self::try_start(&options, port, &dir).await {
                Ok(child) => {
                    return SmtpSink {
                        port,
                        dir,
                        _child: child,
                    };
                }
                Err(e) => last_error = e,
            }
        }
        panic!("the SMTP sink (aiosmtpd) did not start: {last_error}");
    }

    async fn try_start(
        options: &SinkOptions,
        port: u16,
        dir: &tempfile::TempDir,
    ) -> Result<tokio::process::Child, String> {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/peers/smtp_sink.py"
        );
        let mut cmd = tokio::process::Command::new("python3");
        cmd.arg(script).arg(port.to_string()).arg(dir.path());
        if let Some((cert, key)) = &options.tls {
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        if let Some((user, password)) = &options.login {
            cmd.args(["--user", user, "--password", password]);
        }
        let log = dir.path().join(format!("sink-{port}.log"));
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 with aiosmtpd runs the SMTP sink (scripts/test installs it)");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .map_err(|_| "no answer within 20 s".to_string())?
            .map_err(|e| e.to_string())?;
        if ready.as_deref() == Some("ready") {
            return Ok(child);
        }
        let _ = child.wait().await;
        let stderr = std::fs::read_to_string(&log).unwrap_or_default();
        Err(format!("exited without \"ready\" on port {port}: {stderr}"))
    }

    /// Every message kept so far, in order: the raw bytes and the envelope facts.
    pub fn messages(&self) -> Vec<(Vec<u8>, Value)> {
        let mut out = Vec::new();
        for n in 1.. {
            let base = self.dir.path().join(n.to_string());
            let Ok(raw) = std::fs::read(base.with_extension("eml")) else {
                break;
            };
            let meta = serde_json::from_slice(&std::fs::read(base.with_extension("json")).unwrap())
                .unwrap();
            out.push((raw, meta));
        }
        out
    }
}

/// Runs openssl with `args` in `dir`.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let ok = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl makes the test certificates (scripts/test installs it)")
        .success();
    assert!(ok, "openssl {args:?} failed");
}

/// Test certificates: a private CA and a server certificate it signed for 127.0.0.1 and
/// localhost. Returns (directory, CA certificate, server certificate, server key).
pub fn test_certificates() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Rapport Test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "key.pem",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        d.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "cert.pem",
        ],
    );
    let (ca, cert, key) = (d.join("ca.pem"), d.join("cert.pem"), d.join("key.pem"));
    (dir, ca, cert, key)
}
