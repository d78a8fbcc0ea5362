//! ssh public keys as credentials: a key is one more device of an
//! identity, named `ssh key ALGORITHM SHA256:...` and stored, like any
//! credential, as a hash (of its fingerprint), so signing in by key is
//! signing in by credential. A pre-authenticated connection (the ssh
//! entrance, in process) names the device it proved; only this crate can
//! make one.

use std::fmt;

use super::secrets;
use super::service::{Hello, Identities, SignInError, SignedIn, signed};
use super::store::NewDevice;
use crate::clock::now_ms;

/// A public key whose possession the ssh layer verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKey {
    /// As OpenSSH prints it: `ED25519`, `RSA`, `ECDSA`.
    pub algorithm: String,
    /// `SHA256:` and the unpadded base64 of the key's SHA-256.
    pub fingerprint: String,
}

impl SshKey {
    /// What the store keeps of this key as a credential.
    fn credential_hash(&self) -> String {
        secrets::hash(&format!("ssh-key {}", self.fingerprint))
    }

    /// The name of the device this key is.
    pub fn device_name(&self) -> String {
        format!(
            "{}{} {}",
            protocol::SSH_KEY_DEVICE_PREFIX,
            self.algorithm,
            self.fingerprint
        )
    }

    fn new_device(&self) -> NewDevice {
        NewDevice {
            id: secrets::new_device_id(),
            name: self.device_name(),
            credential_hash: self.credential_hash(),
            now: now_ms(),
        }
    }
}

impl fmt::Display for SshKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.algorithm, self.fingerprint)
    }
}

/// A connection that is signed in before it says `hello`: the device (an
/// ssh key) its transport authenticated. The handshake still checks that
/// the device exists and was not revoked.
#[derive(Debug, Clone)]
pub struct PreAuth {
    pub user: String,
    pub device: String,
    credential_hash: String,
}

impl PreAuth {
    /// For `key`, signed in as `user`'s `device`. Only the ssh layer makes
    /// these.
    pub(crate) fn new(user: &str, device: &str, key: &SshKey) -> Self {
        PreAuth {
            user: user.to_owned(),
            device: device.to_owned(),
            credential_hash: key.credential_hash(),
        }
    }
}

impl Identities {
    /// The identity a key belongs to, if it is bound to one.
    pub async fn sign_in_key(&self, key: &SshKey) -> Result<Option<SignedIn>, SignInError> {
        let found = self
            .store()
            .sign_in(&key.credential_hash(), now_ms())
            .await?;
        Ok(found.map(|(u, d)| signed(u, d, None)))
    }

    /// Binds an unknown key to a new identity named `name` (the same
    /// validation, look-alike rule and registration policy as a `hello`).
    pub async fn claim_with_key(&self, name: &str, key: &SshKey) -> Result<SignedIn, SignInError> {
        let hello = Hello {
            name: Some(name),
            ..Hello::default()
        };
        self.sign_up(hello, key.new_device(), None).await
    }

    /// Binds an unknown key to the identity of a link code.
    pub async fn link_key(&self, code: &str, key: &SshKey) -> Result<SignedIn, SignInError> {
        let hello = Hello {
            link_code: Some(code),
            ..Hello::default()
        };
        self.sign_up(hello, key.new_device(), None).await
    }

    /// Signs a pre-authenticated connection in as its device, if that still
    /// exists.
    pub async fn sign_in_pre_auth(&self, pre: &PreAuth) -> Result<SignedIn, SignInError> {
        match self.store().sign_in(&pre.credential_hash, now_ms()).await? {
            Some((u, d)) if u.id == pre.user && d.id == pre.device => Ok(signed(u, d, None)),
            _ => Err(SignInError::BadCredential),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentityConfig;
    use crate::identity::store::MemoryStore;
    use std::sync::Arc;

    fn key(n: u8) -> SshKey {
        SshKey {
            algorithm: "ED25519".into(),
            fingerprint: format!("SHA256:key{n}"),
        }
    }

    #[tokio::test]
    async fn a_key_claims_a_name_then_signs_in_and_a_revoked_key_does_not() {
        let ids = Identities::new(Arc::new(MemoryStore::new()), IdentityConfig::default());
        assert!(ids.sign_in_key(&key(1)).await.unwrap().is_none());
        let ann = ids.claim_with_key("ann", &key(1)).await.unwrap();
        assert_eq!(ann.device_name, "ssh key ED25519 SHA256:key1");
        let again = ids.sign_in_key(&key(1)).await.unwrap().expect("bound");
        assert_eq!((&again.user, &again.device), (&ann.user, &ann.device));
        assert!(matches!(
            ids.claim_with_key("ANN", &key(2)).await,
            Err(SignInError::NameClaimed(_))
        ));
        let (code, _) = ids
            .link_code(&ann.user, std::time::Duration::from_secs(60))
            .await
            .unwrap();
        let linked = ids.link_key(&code, &key(2)).await.unwrap();
        assert_eq!(linked.user, ann.user);
        let pre = PreAuth::new(&linked.user, &linked.device, &key(2));
        assert_eq!(
            ids.sign_in_pre_auth(&pre).await.unwrap().device,
            linked.device
        );
        assert!(ids.logout(&ann.user, &linked.device).await.unwrap());
        assert!(ids.sign_in_pre_auth(&pre).await.is_err());
        assert!(ids.sign_in_key(&key(2)).await.unwrap().is_none());
    }
}
