//! The webhook over TLS: a gateway whose certificate comes from the city's own CA is reached
//! when that CA is configured (`notify_webhook_ca`), and refused when it is not; a malformed CA
//! file or URL is an error naming the setting.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use hotline_worker::{Notification, Notifier, WebhookNotifier};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// An HTTPS gateway on 127.0.0.1 with a certificate for `localhost` from a fresh CA. Each
/// request it receives (head and body, as text) comes out of the returned receiver.
struct Gateway {
    url: String,
    ca_pem: String,
    requests: mpsc::UnboundedReceiver<String>,
}

async fn gateway() -> Gateway {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "12345 test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, requests) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                // A failed handshake (the client refusing the certificate) ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Some(request) = read_request(&mut tls).await {
                    let _ = tx.send(request);
                    let _ = tls
                        .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                        .await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    Gateway {
        url: format!("https://localhost:{port}/notify"),
        ca_pem: ca.pem(),
        requests,
    }
}

/// Reads one HTTP/1.1 request: the head, then `Content-Length` bytes of body.
async fn read_request(stream: &mut (impl AsyncReadExt + Unpin)) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Some(text);
            }
        }
    }
}

fn notification() -> Notification {
    Notification {
        to: "unit:GHZRZYJ".to_owned(),
        event: "dispatched".to_owned(),
        ticket_no: "12345-20261123-0001".to_owned(),
        appeal_id: "0b7c4f5e-9d8a-4c3b-8e2f-1a6d5c4b3a29".to_owned(),
        event_id: "5f0c6a1e-3b2d-4e8f-9a7c-6d5e4f3a2b1c".to_owned(),
        text: "您有一件新的诉求待签收".to_owned(),
    }
}

#[tokio::test]
async fn an_https_gateway_signed_by_the_configured_ca_gets_the_notification() {
    let mut gateway = gateway().await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("city-ca.pem");
    std::fs::write(&ca_file, &gateway.ca_pem).unwrap();

    let notifier = WebhookNotifier::new(gateway.url.clone(), Some(&ca_file)).unwrap();
    notifier.send(&notification()).await.unwrap();
    let request = gateway.requests.recv().await.unwrap();
    assert!(request.starts_with("POST /notify HTTP/1.1"), "{request}");
    let lower = request.to_lowercase();
    assert!(
        lower.contains("idempotency-key: 5f0c6a1e-3b2d-4e8f-9a7c-6d5e4f3a2b1c"),
        "{request}"
    );
    assert!(request.contains("您有一件新的诉求待签收"), "{request}");
}

#[tokio::test]
async fn an_https_gateway_from_an_unknown_ca_is_refused() {
    let mut gateway = gateway().await;
    let notifier = WebhookNotifier::new(gateway.url.clone(), None).unwrap();
    let error = notifier
        .send(&notification())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains(&gateway.url), "{error}");
    assert!(
        gateway.requests.try_recv().is_err(),
        "nothing reaches a gateway the notifier does not trust"
    );
}

#[test]
fn bad_settings_name_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let error = WebhookNotifier::new("https://localhost/notify", Some(&not_pem))
        .err()
        .unwrap()
        .to_string();
    assert!(error.starts_with("notify_webhook_ca "), "{error}");
    let missing = dir.path().join("missing.pem");
    let error = WebhookNotifier::new("https://localhost/notify", Some(&missing))
        .err()
        .unwrap()
        .to_string();
    assert!(error.starts_with("notify_webhook_ca "), "{error}");
    let error = WebhookNotifier::new("ftp://localhost/notify", None)
        .err()
        .unwrap()
        .to_string();
    assert!(error.starts_with("notify_webhook_url "), "{error}");
    let error = WebhookNotifier::new("not a url", None)
        .err()
        .unwrap()
        .to_string();
    assert!(error.starts_with("notify_webhook_url "), "{error}");
}
