//! What the server does with identities: signs a `hello` in (by
//! credential, link code or name, in that order), hands out link codes,
//! lists and revokes devices, forgets identities nobody has used for the
//! configured time, and knows which connections each device has open, so
//! that revoking a device closes them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use protocol::{DeviceInfo, ErrorCode, TimestampMs, ValidationError, names};
use tokio_util::sync::CancellationToken;

use super::codes;
use super::secrets;
use super::store::{Identity, IdentityStore, NewDevice, StoreError};
use crate::clock::now_ms;

/// Whether a free name may be registered by whoever asks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Registration {
    /// The first `hello` with a free name registers it.
    #[default]
    Open,
    /// Only identities made with `chat-server user add` exist.
    Closed,
}

/// How identities are handed out and kept.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    pub registration: Registration,
    /// An identity with no connection for this long is removed and its
    /// name freed.
    pub name_ttl: Duration,
    /// How often that is checked (also once at start).
    pub sweep_every: Duration,
    /// How long a code from `link` lasts.
    pub link_ttl: Duration,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            registration: Registration::Open,
            name_ttl: Duration::from_secs(180 * 24 * 3600),
            sweep_every: Duration::from_secs(24 * 3600),
            link_ttl: codes::LINK_TTL,
        }
    }
}

/// Who a connection is signed in as.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub name: Arc<str>,
    pub user: Arc<str>,
    pub device: Arc<str>,
    pub device_name: String,
    /// A credential issued just now (registration or link code), for
    /// `welcome`.
    pub credential: Option<String>,
}

/// Why a `hello` was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(
        "the name {0} belongs to someone; if it is yours, run /link on a device where you are signed in and use the code here"
    )]
    NameClaimed(String),
    #[error("this server does not register new names; ask its operator for a link code")]
    RegistrationClosed,
    #[error("this credential is unknown or was revoked; sign in again")]
    BadCredential,
    #[error("this link code is unknown, used or expired")]
    BadLinkCode,
    #[error("signing in is not possible right now; try again")]
    Unavailable(#[source] StoreError),
}

impl SignInError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SignInError::Invalid(e) => e.code(),
            SignInError::NameClaimed(_) => ErrorCode::NameClaimed,
            SignInError::RegistrationClosed => ErrorCode::RegistrationClosed,
            SignInError::BadCredential => ErrorCode::BadCredential,
            SignInError::BadLinkCode => ErrorCode::BadLinkCode,
            SignInError::Unavailable(_) => ErrorCode::Unavailable,
        }
    }
}

impl From<StoreError> for SignInError {
    fn from(e: StoreError) -> Self {
        SignInError::Unavailable(e)
    }
}

/// The ways in a `hello` offers.
#[derive(Debug, Default, Clone, Copy)]
pub struct Hello<'a> {
    pub name: Option<&'a str>,
    pub credential: Option<&'a str>,
    pub link_code: Option<&'a str>,
    pub device: Option<&'a str>,
    pub client: Option<&'a str>,
}

/// A device's open connections, each with the token that closes it.
#[derive(Debug)]
struct Live {
    user: Arc<str>,
    connections: Vec<(u64, CancellationToken)>,
}

/// The identity service of one server.
#[derive(Debug)]
pub struct Identities {
    store: Arc<dyn IdentityStore>,
    config: IdentityConfig,
    live: Mutex<HashMap<Arc<str>, Live>>,
    /// In a cluster: where revocations are announced to other instances.
    cluster: Option<crate::cluster::Cluster>,
}

impl Identities {
    pub fn new(store: Arc<dyn IdentityStore>, config: IdentityConfig) -> Self {
        Identities {
            store,
            config,
            live: Mutex::new(HashMap::new()),
            cluster: None,
        }
    }

    /// Announces revocations to the cluster's other instances.
    pub fn with_cluster(mut self, cluster: crate::cluster::Cluster) -> Self {
        self.cluster = Some(cluster);
        self
    }

    pub fn store(&self) -> &Arc<dyn IdentityStore> {
        &self.store
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.config
    }

    fn live(&self) -> MutexGuard<'_, HashMap<Arc<str>, Live>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Signs a `hello` in: by credential, else by link code, else by name.
    /// A store whose connection broke (Redis restarted) is tried once more:
    /// the first command after a restart finds the old connection gone.
    pub async fn sign_in(&self, hello: Hello<'_>) -> Result<SignedIn, SignInError> {
        match self.try_sign_in(hello).await {
            Err(SignInError::Unavailable(StoreError::Redis(e)))
                if e.is_io_error() || e.is_connection_dropped() =>
            {
                self.try_sign_in(hello).await
            }
            other => other,
        }
    }

    async fn try_sign_in(&self, hello: Hello<'_>) -> Result<SignedIn, SignInError> {
        if let Some(credential) = hello.credential {
            return match self
                .store
                .sign_in(&secrets::hash(credential), now_ms())
                .await?
            {
                Some((u, d)) => Ok(signed(u, d, None)),
                None => Err(SignInError::BadCredential),
            };
        }
        let credential = secrets::new_credential();
        let device = NewDevice {
            id: secrets::new_device_id(),
            name: device_name(hello.device, hello.client),
            credential_hash: secrets::hash(&credential),
            now: now_ms(),
        };
        self.sign_up(hello, device, Some(credential)).await
    }

    /// Adds `device` to an identity: by the hello's link code, else by
    /// registering its name. `credential` is the device's, for `welcome`.
    pub(super) async fn sign_up(
        &self,
        hello: Hello<'_>,
        device: NewDevice,
        credential: Option<String>,
    ) -> Result<SignedIn, SignInError> {
        let now = device.now;
        if let Some(code) = hello.link_code {
            let code = codes::canonical(code).ok_or(SignInError::BadLinkCode)?;
            return match self.store.redeem(&codes::hash(&code), &device).await? {
                Some((u, d)) => Ok(signed(u, d, credential)),
                None => Err(SignInError::BadLinkCode),
            };
        }
        let name = names::normalize(hello.name.unwrap_or_default())?;
        let key = names::name_key(&name);
        if self.config.registration == Registration::Closed {
            return Err(match self.store.find(&key).await? {
                Some(_) => SignInError::NameClaimed(name),
                None => SignInError::RegistrationClosed,
            });
        }
        let identity = Identity {
            id: secrets::new_user_id(),
            name: name.clone(),
            key,
            created_ts: now,
            last_seen_ts: now,
        };
        let stored = device.device(&identity.id);
        match self.store.register(&identity, Some(&device)).await {
            Ok(()) => Ok(signed(identity, stored, credential)),
            Err(StoreError::NameHeld) => Err(SignInError::NameClaimed(name)),
            Err(e) => Err(e.into()),
        }
    }

    /// Records a connection of a signed-in device; the token is cancelled
    /// when the device is revoked.
    pub fn attach(&self, who: &SignedIn, connection: u64) -> CancellationToken {
        let token = CancellationToken::new();
        let mut live = self.live();
        let connections = &mut live
            .entry(who.device.clone())
            .or_insert_with(|| Live {
                user: who.user.clone(),
                connections: Vec::new(),
            })
            .connections;
        // Exactly one more (a first push would make room for four): every
        // idle connection keeps this.
        connections.reserve_exact(1);
        connections.push((connection, token.clone()));
        token
    }

    /// Forgets a connection that closed, and marks its device seen.
    pub async fn detach(&self, who: &SignedIn, connection: u64) {
        {
            let mut live = self.live();
            if let Some(entry) = live.get_mut(&who.device) {
                entry.connections.retain(|(id, _)| *id != connection);
                if entry.connections.is_empty() {
                    live.remove(&who.device);
                }
            }
        }
        let seen = [(who.user.to_string(), who.device.to_string())];
        if let Err(e) = self.store.touch(&seen, now_ms()).await {
            tracing::debug!(error = %e, "device not marked seen");
        }
    }

    /// A new link code for `user`, valid for `ttl`: (code, expiry).
    pub async fn link_code(
        &self,
        user: &str,
        ttl: Duration,
    ) -> Result<(String, TimestampMs), StoreError> {
        let code = codes::new_code();
        let canonical = codes::canonical(&code).unwrap_or_default();
        let expires = now_ms() + ttl.as_millis() as TimestampMs;
        self.store
            .add_code(&codes::hash(&canonical), user, expires)
            .await?;
        Ok((code, expires))
    }

    /// The devices of `user`, `current` marked.
    pub async fn devices(&self, user: &str, current: &str) -> Result<Vec<DeviceInfo>, StoreError> {
        Ok(self
            .store
            .devices(user)
            .await?
            .into_iter()
            .map(|d| DeviceInfo {
                current: d.id == current,
                id: d.id,
                name: d.name,
                created_ts: d.created_ts,
                last_seen_ts: d.last_seen_ts,
            })
            .collect())
    }

    /// Revokes a device of `user`: its credential is deleted and its
    /// connections are closed, here and (in a cluster) on every other
    /// instance. False if `user` has no such device.
    pub async fn logout(&self, user: &str, device: &str) -> Result<bool, StoreError> {
        if !self.store.revoke(user, device).await? {
            return Ok(false);
        }
        self.close_device(device);
        if let Some(cluster) = &self.cluster {
            super::revocations::publish(cluster, device).await;
        }
        Ok(true)
    }

    /// Closes this instance's connections of a (revoked) device.
    pub fn close_device(&self, device: &str) {
        if let Some(live) = self.live().remove(device) {
            for (_, token) in live.connections {
                token.cancel();
            }
        }
    }

    /// Marks every connected device seen, then removes the identities not
    /// seen within the name TTL. Returns the names freed.
    pub async fn sweep(&self) -> Result<Vec<String>, StoreError> {
        let now = now_ms();
        let connected: Vec<(String, String)> = self
            .live()
            .iter()
            .map(|(device, live)| (live.user.to_string(), device.to_string()))
            .collect();
        self.store.touch(&connected, now).await?;
        let before = now - self.config.name_ttl.as_millis() as TimestampMs;
        self.store.expire(before).await
    }
}

/// Who a stored identity and device sign in as.
pub(super) fn signed(u: Identity, d: super::store::Device, credential: Option<String>) -> SignedIn {
    SignedIn {
        name: Arc::from(u.name),
        user: Arc::from(u.id),
        device: Arc::from(d.id),
        device_name: d.name,
        credential,
    }
}

/// Runs [`Identities::sweep`] now and then every `sweep_every`, until
/// `stop`.
pub async fn keep_sweeping(identities: Arc<Identities>, stop: CancellationToken) {
    let every = identities.config.sweep_every.max(Duration::from_millis(10));
    loop {
        match identities.sweep().await {
            Ok(freed) if !freed.is_empty() => {
                tracing::info!(count = freed.len(), "unused names expired and freed");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot expire unused names yet"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stop.cancelled() => return,
        }
    }
}

/// What a device is called: the name the client gave (control and
/// invisible characters removed, at most 64 characters), else its
/// `client`, else "unnamed device".
pub fn device_name(device: Option<&str>, client: Option<&str>) -> String {
    let clean = |s: &str| -> String {
        let kept: String = s
            .chars()
            .filter(|&c| !protocol::validate::is_invisible_or_control(c) && !names::is_refused(c))
            .collect();
        // Only the ssh entrance names a device as an ssh key.
        let kept = kept.trim();
        let kept = kept
            .strip_prefix(protocol::SSH_KEY_DEVICE_PREFIX)
            .unwrap_or(kept);
        kept.trim()
            .chars()
            .take(protocol::limits::MAX_DEVICE_CHARS)
            .collect()
    };
    [device, client]
        .into_iter()
        .flatten()
        .map(clean)
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "unnamed device".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_are_cleaned_and_bounded() {
        assert_eq!(device_name(Some(" laptop\u{202E} "), None), "laptop");
        assert_eq!(
            device_name(Some("\u{200B}"), Some("chat-tui/0.2.0")),
            "chat-tui/0.2.0"
        );
        assert_eq!(device_name(None, None), "unnamed device");
        assert_eq!(device_name(Some(&"x".repeat(100)), None).len(), 64);
        assert_eq!(
            device_name(Some("ssh key ED25519 SHA256:x"), None),
            "ED25519 SHA256:x"
        );
    }
}
