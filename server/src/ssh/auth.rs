//! Who an ssh connection is: public keys only (russh verifies the
//! signature; password and keyboard-interactive are neither offered nor
//! accepted). A key bound to an identity signs straight in as it; an
//! unknown key claims the ssh user name if it is free and valid, else the
//! first screen asks for a name or a link code.

use russh::keys::{Algorithm, HashAlg, PublicKey};

use crate::identity::keys::SshKey;
use crate::identity::{Identities, Registration, SignInError, SignedIn};

/// A verified public key as a credential.
pub fn key_of(key: &PublicKey) -> SshKey {
    let algorithm = match key.algorithm() {
        Algorithm::Ed25519 => "ED25519".to_owned(),
        Algorithm::Rsa { .. } => "RSA".to_owned(),
        Algorithm::Ecdsa { .. } => "ECDSA".to_owned(),
        Algorithm::SkEd25519 => "ED25519-SK".to_owned(),
        Algorithm::SkEcdsaSha2NistP256 => "ECDSA-SK".to_owned(),
        other => other.as_str().to_ascii_uppercase(),
    };
    SshKey {
        algorithm,
        fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
    }
}

/// Where an authenticated key stands.
#[derive(Debug)]
pub enum Standing {
    /// Bound to an identity (now signed in as it).
    Known(SignedIn),
    /// Not bound yet: the first screen asks, showing this.
    Unknown { message: String },
}

/// Signs a key in, or claims `ssh_user` for it when that is a free, valid
/// name (and registration is open). Otherwise says why, for the first
/// screen.
pub async fn sign_in(
    identities: &Identities,
    key: &SshKey,
    ssh_user: &str,
) -> Result<Standing, SignInError> {
    if let Some(who) = identities.sign_in_key(key).await? {
        return Ok(Standing::Known(who));
    }
    if identities.config().registration == Registration::Closed {
        return Ok(Standing::Unknown {
            message: "This server does not register new names. If you have an account here, \
                      run /link on one of your devices and enter the code."
                .into(),
        });
    }
    match identities.claim_with_key(ssh_user, key).await {
        Ok(who) => Ok(Standing::Known(who)),
        Err(e @ SignInError::Unavailable(_)) => Err(e),
        Err(e) => Ok(Standing::Unknown {
            message: first_screen_message(ssh_user, &e),
        }),
    }
}

/// Why the ssh user name could not be claimed, and the way out.
pub fn first_screen_message(ssh_user: &str, e: &SignInError) -> String {
    let why = match e {
        SignInError::NameClaimed(name) => {
            format!("The name {name} belongs to someone else, and this key is not one of theirs.")
        }
        SignInError::Invalid(e) => format!("{ssh_user:?} cannot be a name here: {e}."),
        other => other.to_string(),
    };
    format!(
        "{why} Pick another name, or, if {ssh_user} is you, run /link on one of your \
         devices and enter the code here."
    )
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
            fingerprint: format!("SHA256:k{n}"),
        }
    }

    #[tokio::test]
    async fn an_unknown_key_claims_a_free_name_and_is_told_about_a_taken_one() {
        let ids = Identities::new(Arc::new(MemoryStore::new()), IdentityConfig::default());
        let Standing::Known(ann) = sign_in(&ids, &key(1), "ann").await.unwrap() else {
            panic!("a free name is claimed");
        };
        assert_eq!(&*ann.name, "ann");
        let Standing::Known(again) = sign_in(&ids, &key(1), "someone-else").await.unwrap() else {
            panic!("a bound key signs in");
        };
        assert_eq!(again.user, ann.user);
        let Standing::Unknown { message } = sign_in(&ids, &key(2), "Ann").await.unwrap() else {
            panic!("a taken name is not claimed");
        };
        assert!(message.contains("belongs to someone else"), "{message}");
        assert!(message.contains("/link"), "{message}");
        let long = "x".repeat(200);
        let Standing::Unknown { message } = sign_in(&ids, &key(3), &long).await.unwrap() else {
            panic!("an invalid name is not claimed");
        };
        assert!(message.contains("cannot be a name"), "{message}");
    }
}
