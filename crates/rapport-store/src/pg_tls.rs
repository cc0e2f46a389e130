//! TLS for PostgreSQL connections, as `DATABASE_URL`'s `sslmode` asks, with rustls.
//!
//! The modes are libpq's:
//!
//! | `sslmode` | encrypted | server certificate checked |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default) | when the server offers TLS | no |
//! | `require` | always, or no connection | no |
//! | `verify-ca` | always | chains to a trusted authority |
//! | `verify-full` | always | chains to a trusted authority and names the host |
//!
//! The authorities trusted by `verify-ca` and `verify-full` are those of the PEM file
//! `sslrootcert` (a company's own CA), or the public web's when it is not given.
//! `prefer` and `require` protect against someone reading the traffic, not against
//! someone impersonating the server: use `verify-full` across untrusted networks.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::WebPkiSupportedAlgorithms;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{DigitallySignedStruct, SignatureScheme};

use crate::error::{Result, StoreError};

/// How a connection uses TLS (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, certificate unchecked.
    Prefer,
    /// TLS or no connection, certificate unchecked.
    Require,
    /// TLS, and the certificate chains to a trusted authority.
    VerifyCa,
    /// TLS, the certificate chains to a trusted authority and names the host.
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => {
                return Err(StoreError::Db(format!(
                    "DATABASE_URL: sslmode `{other}` is not one of disable, prefer, require, \
                     verify-ca, verify-full"
                )));
            }
        })
    }
}

/// A parsed `DATABASE_URL`: the connection settings and how TLS is used.
#[derive(Debug, Clone)]
pub struct PgTarget {
    /// Everything but TLS, for tokio-postgres.
    pub config: tokio_postgres::Config,
    /// The `sslmode`.
    pub mode: SslMode,
    /// The `sslrootcert` file, if given.
    pub root_cert: Option<PathBuf>,
}

impl PgTarget {
    /// Parses a `postgres://…` URL. `sslmode` and `sslrootcert` are read here (tokio-postgres
    /// knows neither `verify-*` nor root files); every other parameter goes to tokio-postgres.
    pub fn parse(url: &str) -> Result<Self> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut mode = SslMode::Prefer;
        let mut root_cert = None;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let value = || {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8()
                    .map(|s| s.into_owned())
                    .map_err(|_| StoreError::Db(format!("DATABASE_URL: {k} is not UTF-8")))
            };
            match k {
                "sslmode" => mode = SslMode::parse(&value()?)?,
                "sslrootcert" => root_cert = Some(PathBuf::from(value()?)),
                _ => rest.push(pair),
            }
        }
        let plain = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let mut config: tokio_postgres::Config = plain
            .parse()
            .map_err(|e| StoreError::Db(format!("DATABASE_URL: {e}")))?;
        config.ssl_mode(match mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        });
        if root_cert.is_some() && matches!(mode, SslMode::Disable) {
            return Err(StoreError::Db(
                "DATABASE_URL: sslrootcert is given but sslmode=disable".into(),
            ));
        }
        Ok(Self {
            config,
            mode,
            root_cert,
        })
    }

    /// The TLS connector for this target's mode.
    pub fn connector(&self) -> Result<RustlsConnector> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let algorithms = provider.signature_verification_algorithms;
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Db(format!("TLS: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = match self.mode {
            SslMode::Disable | SslMode::Prefer | SslMode::Require => {
                Arc::new(EncryptOnly { algorithms })
            }
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let roots = self.roots()?;
                let webpki =
                    rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
                        .build()
                        .map_err(|e| StoreError::Db(format!("TLS: {e}")))?;
                Arc::new(Checked {
                    webpki,
                    check_name: self.mode == SslMode::VerifyFull,
                })
            }
        };
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(RustlsConnector {
            config: Arc::new(config),
        })
    }

    fn roots(&self) -> Result<Arc<rustls::RootCertStore>> {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        match &self.root_cert {
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Some(path) => {
                let shown = path.display();
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| StoreError::Db(format!("DATABASE_URL: sslrootcert {shown}: {e}")))?
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| {
                        StoreError::Db(format!("DATABASE_URL: sslrootcert {shown}: {e}"))
                    })?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(StoreError::Db(format!(
                        "DATABASE_URL: sslrootcert {shown} holds no certificate"
                    )));
                }
            }
        }
        Ok(Arc::new(roots))
    }
}

/// `prefer` and `require`: the session is encrypted and the server proves it holds the
/// key of the certificate it shows, but the certificate itself is not checked (libpq's
/// behaviour for these modes).
#[derive(Debug)]
struct EncryptOnly {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `verify-ca` and `verify-full`: the chain is checked against the trusted authorities;
/// the host name only for `verify-full`.
#[derive(Debug)]
struct Checked {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    check_name: bool,
}

impl ServerCertVerifier for Checked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// The rustls connector tokio-postgres and the pool open connections with.
#[derive(Clone)]
pub struct RustlsConnector {
    config: Arc<rustls::ClientConfig>,
}

impl<S> MakeTlsConnect<S> for RustlsConnector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<RustlsConnect> {
        // No host name (a Unix socket, where the server never offers TLS) leaves none to
        // check; a host that is not a valid name fails the handshake with that reason.
        Ok(RustlsConnect {
            config: self.config.clone(),
            name: ServerName::try_from(domain.to_owned()).map_err(|_| domain.to_owned()),
        })
    }
}

/// One connection's TLS handshake.
pub struct RustlsConnect {
    config: Arc<rustls::ClientConfig>,
    name: std::result::Result<ServerName<'static>, String>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let name = self.name.map_err(|host| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("`{host}` is not a host name TLS can check"),
                )
            })?;
            let tls = tokio_rustls::TlsConnector::from(self.config)
                .connect(name, stream)
                .await?;
            Ok(RustlsStream(tls))
        })
    }
}

/// A TLS session to PostgreSQL.
pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM channel binding needs the certificate's signature hash algorithm; without
        // it tokio-postgres uses plain SCRAM-SHA-256 (and `channel_binding=require` fails).
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_read_and_the_rest_passed_on() {
        let t = PgTarget::parse(
            "postgres://u:p@db.example.com:6432/rapport?application_name=rapport&sslmode=verify-full&sslrootcert=/etc/my%20ca.pem",
        )
        .unwrap();
        assert_eq!(t.mode, SslMode::VerifyFull);
        assert_eq!(t.root_cert, Some(PathBuf::from("/etc/my ca.pem")));
        assert_eq!(t.config.get_application_name(), Some("rapport"));
        assert_eq!(t.config.get_dbname(), Some("rapport"));
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        let t = PgTarget::parse("postgres://u@h/db").unwrap();
        assert_eq!(t.mode, SslMode::Prefer);
        assert_eq!(
            PgTarget::parse("postgres://u@h/db?sslmode=disable")
                .unwrap()
                .mode,
            SslMode::Disable
        );
        let e = PgTarget::parse("postgres://u@h/db?sslmode=sometimes").unwrap_err();
        assert!(e.to_string().contains("sslmode"), "{e}");
        let e = PgTarget::parse("postgres://u@h/db?sslmode=verify-ca&sslrootcert=/nonexistent.pem")
            .unwrap()
            .connector()
            .err()
            .unwrap();
        assert!(e.to_string().contains("sslrootcert"), "{e}");
    }
}
