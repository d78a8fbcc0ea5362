//! A certificate authority made for one test (rcgen), its certificates in
//! files, and TLS clients that trust it.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures::{SinkExt, StreamExt};
use protocol::{ClientEvent, PROTOCOL_VERSION, ServerEvent};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ClientConfig;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

const PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

pub type Wss = WebSocketStream<TlsStream<TcpStream>>;

pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub der: CertificateDer<'static>,
    pub pem: String,
    dir: Arc<tempfile::TempDir>,
    files: AtomicU32,
}

/// A server certificate and its key, in files.
pub struct Leaf {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub der: CertificateDer<'static>,
    _dir: Arc<tempfile::TempDir>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            der: cert.der().clone(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
            dir: Arc::new(tempfile::tempdir().unwrap()),
            files: AtomicU32::new(0),
        }
    }

    /// A certificate for `names` (host names or IP addresses), in new files.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let cert_path = self.dir.path().join(format!("cert{n}.pem"));
        let key_path = self.dir.path().join(format!("key{n}.pem"));
        self.leaf_at(names, &cert_path, &key_path)
    }

    /// A new certificate with a new key, written over the given files the
    /// way renewal tools do: a new file renamed over the old one.
    pub fn leaf_at(&self, names: &[&str], cert_path: &Path, key_path: &Path) -> Leaf {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, &names[0]);
        params.use_authority_key_identifier_extension = true;
        params
            .extended_key_usages
            .push(rcgen::ExtendedKeyUsagePurpose::ServerAuth);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        replace(key_path, &key.serialize_pem());
        replace(cert_path, &cert.pem());
        Leaf {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            der: cert.der().clone(),
            _dir: self.dir.clone(),
        }
    }

    /// The CA's certificate in a PEM file.
    pub fn pem_file(&self) -> PathBuf {
        let path = self.dir.path().join("ca.pem");
        std::fs::write(&path, &self.pem).unwrap();
        path
    }

    /// A client that trusts this CA only.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.der.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }
}

fn replace(path: &Path, text: &str) {
    let fresh = path.with_extension("new");
    std::fs::write(&fresh, text).unwrap();
    std::fs::rename(&fresh, path).unwrap();
}

/// A TLS connection to `addr`, checking the certificate for `name`.
pub async fn tls_connect(
    addr: SocketAddr,
    name: &str,
    config: &Arc<ClientConfig>,
) -> Result<TlsStream<TcpStream>, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from(name.to_string()).map_err(|e| e.to_string())?;
    TlsConnector::from(config.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| format!("{e:?}"))
}

/// A WebSocket over TLS to `addr`'s `/ws`, and the certificate the server
/// presented.
pub async fn wss_connect(
    addr: SocketAddr,
    name: &str,
    config: &Arc<ClientConfig>,
) -> Result<(Wss, CertificateDer<'static>), String> {
    let tls = tls_connect(addr, name, config).await?;
    let cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .cloned()
        .ok_or("no certificate")?;
    let url = format!("wss://{name}:{}/ws", addr.port());
    let (ws, _) = tokio_tungstenite::client_async(url, tls)
        .await
        .map_err(|e| e.to_string())?;
    Ok((ws, cert))
}

// ---------- speaking the protocol over it ----------

/// Says hello and returns the name the server welcomed.
pub async fn hello(ws: &mut Wss, name: &str) -> String {
    let hello = ClientEvent::Hello {
        protocol: PROTOCOL_VERSION,
        name: Some(name.into()),
        credential: None,
        link_code: None,
        device: None,
        client: Some("tls-test".into()),
    };
    ws.send(Message::text(protocol::encode(&hello)))
        .await
        .unwrap();
    match next_event(ws).await {
        ServerEvent::Welcome { name, .. } => name,
        other => panic!("expected welcome, got {other:?}"),
    }
}

pub async fn next_event(ws: &mut Wss) -> ServerEvent {
    loop {
        let frame = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a frame in time")
            .expect("the connection stays open")
            .expect("a frame, not an error");
        if let Message::Text(text) = frame {
            return protocol::decode_server(text.as_str()).unwrap();
        }
    }
}

pub async fn send(ws: &mut Wss, event: &ClientEvent) {
    ws.send(Message::text(protocol::encode(event)))
        .await
        .unwrap();
}

/// Joins `room` and reads until the join's ack.
pub async fn join(ws: &mut Wss, room: &str) {
    let id = format!("join-{room}");
    send(
        ws,
        &ClientEvent::Join {
            id: id.clone(),
            room: room.into(),
            since: None,
            epoch: None,
        },
    )
    .await;
    loop {
        if let ServerEvent::Ack { id: acked, ok, .. } = next_event(ws).await
            && acked == id
        {
            assert!(ok, "join refused");
            return;
        }
    }
}

/// Sends `text` to `room`; the sender and `other` both get it.
pub async fn converse(from: &mut Wss, to: &mut Wss, room: &str, text: &str) {
    send(
        from,
        &ClientEvent::Send {
            id: format!("m-{text}"),
            room: room.into(),
            text: text.into(),
            action: false,
        },
    )
    .await;
    loop {
        if let ServerEvent::Message { text: got, .. } = next_event(to).await
            && got == text
        {
            return;
        }
    }
}
