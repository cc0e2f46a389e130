//! The way out: the relay (`RAPPORT_SMTP_RELAY`), its TLS, and the one pooled connection
//! per process that every outgoing mail — replies and automatic mail — goes through.

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use percent_encoding::percent_decode_str;
use url::{Host, Url};

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelaySecurity {
    /// No TLS (a relay on the same host or network).
    Plain,
    /// Plain connection upgraded with STARTTLS, required (`?tls=starttls`).
    StartTls,
    /// TLS from the first byte (`smtps://`, port 465).
    Tls,
}

/// Where outgoing mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// Relay host.
    pub host: String,
    /// Relay port.
    pub port: u16,
    /// User and password, when the relay wants them.
    pub credentials: Option<(String, String)>,
    /// TLS or not.
    pub security: RelaySecurity,
    /// A PEM file with an extra certificate authority to trust (a private relay's).
    pub ca_file: Option<String>,
}

const SHAPE: &str = "RAPPORT_SMTP_RELAY must look like smtp://[user:password@]host[:port][?tls=starttls][&ca=/path/ca.pem] or smtps://…";

/// A percent-encoded part of the URL (user, password), decoded.
fn decoded(part: &str, what: &str) -> Result<String, String> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("the relay {what} is not UTF-8 once percent-decoded"))
}

impl Relay {
    /// A plain relay at `host:port` without login.
    pub fn plain(host: &str, port: u16) -> Self {
        Self {
            host: host.to_owned(),
            port,
            credentials: None,
            security: RelaySecurity::Plain,
            ca_file: None,
        }
    }

    /// Parses `smtp://[user:password@]host[:port][?tls=starttls][&ca=/path/ca.pem]` (port
    /// 25) or `smtps://…` (TLS from the start, port 465). User and password are
    /// percent-decoded (`us%40er:p%3Ass` is `us@er` and `p:ss`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|e| format!("{e}: {SHAPE}"))?;
        let (mut security, default_port) = match url.scheme() {
            "smtp" => (RelaySecurity::Plain, 25),
            "smtps" => (RelaySecurity::Tls, 465),
            _ => return Err(SHAPE.into()),
        };
        let host = match url.host() {
            // Without the brackets a socket address and a TLS name want.
            Some(Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        };
        if host.is_empty() {
            return Err("the relay needs a host".into());
        }
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err(SHAPE.into());
        }
        let mut ca_file = None;
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "starttls" | "required") if security == RelaySecurity::Plain => {
                    security = RelaySecurity::StartTls;
                }
                ("tls", "none" | "off") if security == RelaySecurity::Plain => {}
                ("ca", path) if !path.is_empty() => ca_file = Some(path.to_owned()),
                _ => return Err(format!("unknown relay option {key}={value:?}: {SHAPE}")),
            }
        }
        let credentials = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            Some((
                decoded(url.username(), "user")?,
                decoded(url.password().unwrap_or_default(), "password")?,
            ))
        };
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            credentials,
            security,
            ca_file,
        })
    }

    /// The TLS settings for this relay: the system's web roots plus `ca_file`.
    fn tls(&self) -> Result<TlsParameters, String> {
        let mut b = TlsParameters::builder(self.host.clone());
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path).map_err(|e| format!("reading {path}: {e}"))?;
            let cert =
                Certificate::from_pem(&pem).map_err(|e| format!("the certificate {path}: {e}"))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .map_err(|e| format!("TLS settings for the relay: {e}"))
    }
}

/// Why a mail did not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// No relay is configured: sending mail is switched off.
    NoRelay,
    /// The relay said no for good (5xx): trying again will not help.
    Permanent(String),
    /// The relay is unreachable or answered 4xx: worth another try later.
    Transient(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoRelay => {
                f.write_str("RAPPORT_SMTP_RELAY is not set: replies cannot be emailed")
            }
            Self::Permanent(e) | Self::Transient(e) => f.write_str(e),
        }
    }
}

/// A lettre error, permanent or not, with what we were doing.
fn smtp_error(what: &str, e: &lettre::transport::smtp::Error) -> SendError {
    let reason = format!("{what}: {e}");
    if e.is_permanent() {
        SendError::Permanent(reason)
    } else {
        SendError::Transient(reason)
    }
}

/// The relay and one connection to it per process, reused across messages and opened
/// again when broken. Shared by every job that sends mail.
pub struct Transport {
    relay: Option<Relay>,
    conn: tokio::sync::Mutex<Option<AsyncSmtpConnection>>,
}

impl Transport {
    /// Sends through `relay`; without one, every send is [`SendError::NoRelay`].
    pub fn new(relay: Option<Relay>) -> Self {
        Self {
            relay,
            conn: tokio::sync::Mutex::new(None),
        }
    }

    /// True when a relay is configured.
    pub fn has_relay(&self) -> bool {
        self.relay.is_some()
    }

    /// Hands one message to the relay.
    pub async fn send(&self, email: &Message) -> Result<(), SendError> {
        let relay = self.relay.as_ref().ok_or(SendError::NoRelay)?;
        let mut guard = self.conn.lock().await;
        let mut conn = match guard.take() {
            Some(c) if !c.has_broken() => c,
            _ => connect(relay).await?,
        };
        conn.send(email.envelope(), &email.formatted())
            .await
            .map_err(|e| smtp_error("the relay did not take the message", &e))?;
        *guard = Some(conn);
        Ok(())
    }
}

/// Opens a connection to the relay: TLS or STARTTLS as configured, then the login. A
/// plain socket has `TCP_NODELAY`: lettre writes the final `.` of DATA as its own small
/// segment, which Nagle would otherwise hold until the relay's delayed ACK — 40 ms per
/// message.
async fn connect(relay: &Relay) -> Result<AsyncSmtpConnection, SendError> {
    let hello = ClientId::Domain("rapport.local".into());
    let mut c = if relay.security == RelaySecurity::Tls {
        let tls = relay.tls().map_err(SendError::Transient)?;
        AsyncSmtpConnection::connect_tokio1(
            (relay.host.as_str(), relay.port),
            Some(std::time::Duration::from_secs(60)),
            &hello,
            Some(tls),
            None,
        )
        .await
        .map_err(|e| smtp_error("the relay refused us", &e))?
    } else {
        let stream = tokio::net::TcpStream::connect((relay.host.as_str(), relay.port))
            .await
            .map_err(|e| SendError::Transient(format!("the relay is unreachable: {e}")))?;
        let _ = stream.set_nodelay(true);
        AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello)
            .await
            .map_err(|e| smtp_error("the relay refused us", &e))?
    };
    if relay.security == RelaySecurity::StartTls {
        let tls = relay.tls().map_err(SendError::Transient)?;
        c.starttls(tls, &hello)
            .await
            .map_err(|e| SendError::Transient(format!("STARTTLS with the relay failed: {e}")))?;
    }
    if let Some((user, pass)) = &relay.credentials {
        c.auth(
            &[Mechanism::Plain, Mechanism::Login],
            &Credentials::new(user.clone(), pass.clone()),
        )
        .await
        .map_err(|e| smtp_error("the relay refused our login", &e))?;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_parse() {
        assert_eq!(
            Relay::parse("smtp://mail.example.com:587").unwrap(),
            Relay::plain("mail.example.com", 587)
        );
        assert_eq!(
            Relay::parse("smtp://mail.example.com:587/").unwrap(),
            Relay::plain("mail.example.com", 587)
        );
        let r = Relay::parse("smtp://mail.example.com?tls=starttls&ca=/etc/ca.pem").unwrap();
        assert_eq!(r.security, RelaySecurity::StartTls);
        assert_eq!((r.port, r.ca_file.as_deref()), (25, Some("/etc/ca.pem")));
        let r = Relay::parse("smtps://u:p@mail.example.com").unwrap();
        assert_eq!((r.security, r.port), (RelaySecurity::Tls, 465));
        assert_eq!(r.credentials, Some(("u".into(), "p".into())));
        assert!(Relay::parse("smtps://mail.example.com?tls=starttls").is_err());
        assert!(Relay::parse("smtp://x?tls=maybe").is_err());
        assert!(Relay::parse("smtp://x?color=blue").is_err());
        let r = Relay::parse("smtp://user:p@ss@relay.example.com").unwrap();
        assert_eq!(r.port, 25);
        assert_eq!(r.credentials, Some(("user".into(), "p@ss".into())));
        assert!(Relay::parse("http://x").is_err());
        assert!(Relay::parse("smtp://host:notaport").is_err());
        assert!(Relay::parse("smtp://host:70000").is_err());
        assert!(Relay::parse("smtp://").is_err());
        assert!(Relay::parse("smtp://u:p@:25").is_err());
        assert!(Relay::parse("not a url").is_err());
    }

    #[test]
    fn user_and_password_are_percent_decoded() {
        let r = Relay::parse("smtp://us%40er:p%3Ass@host:2525?tls=starttls&ca=/p").unwrap();
        assert_eq!(r.host, "host");
        assert_eq!(r.port, 2525);
        assert_eq!(r.security, RelaySecurity::StartTls);
        assert_eq!(r.ca_file.as_deref(), Some("/p"));
        assert_eq!(r.credentials, Some(("us@er".into(), "p:ss".into())));
        let r = Relay::parse("smtp://relayuser:relay%20pass@127.0.0.1:25").unwrap();
        assert_eq!(
            r.credentials,
            Some(("relayuser".into(), "relay pass".into()))
        );
        // A space typed as is reaches the relay as a space.
        let r = Relay::parse("smtp://relayuser:relay pass@127.0.0.1:25").unwrap();
        assert_eq!(
            r.credentials,
            Some(("relayuser".into(), "relay pass".into()))
        );
        let r = Relay::parse("smtp://[::1]:2525").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("::1", 2525));
        let r = Relay::parse("smtp://only-user@host").unwrap();
        assert_eq!(r.credentials, Some(("only-user".into(), String::new())));
        let r = Relay::parse("smtp://host?ca=/etc/my%20ca.pem").unwrap();
        assert_eq!(r.ca_file.as_deref(), Some("/etc/my ca.pem"));
    }

    #[test]
    fn send_errors_say_why() {
        assert!(
            SendError::NoRelay
                .to_string()
                .contains("RAPPORT_SMTP_RELAY")
        );
        assert_eq!(SendError::Permanent("550".into()).to_string(), "550");
    }
}
