//! How this device signs in to one server, and keeping what that takes.
//!
//! A name belongs to whoever registered it: the first `hello` with a free
//! name registers it, and the welcome carries a secret (the credential)
//! that signs this device in from then on. It is kept in the credential
//! store ([`crate::credentials`]) and sent in every later `hello`. Another
//! device joins the same identity with a one-time link code from `/link`.
//! Refusals become one line that says what to do.

use protocol::{ClientEvent, ErrorCode, UserRef};

use crate::address::ServerAddress;
use crate::credentials::{CredentialStore, Stored};

/// The way in, checked in the protocol's order: a kept credential, then a
/// link code, then a name to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// A credential from an earlier welcome.
    Credential(Stored),
    /// A code from `/link` on a signed-in device.
    LinkCode(String),
    /// A name: registered if free.
    Name(String),
}

/// One device's account on one server: how it signs in, and where its
/// credential is kept (nowhere when the platform has no data directory).
#[derive(Debug, Clone)]
pub struct Account {
    pub sign_in: SignIn,
    pub server: ServerAddress,
    store: Option<CredentialStore>,
    /// Said with the first welcome: a name given that the kept key
    /// overrides.
    note: Option<String>,
    /// What this device is called in `/devices`.
    pub device: Option<String>,
    /// Signed in by the transport (an ssh key): nothing to keep, nothing
    /// to say about keys.
    pre_authenticated: bool,
}

/// Why a `hello` was refused, as one line to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    /// Trying again will not help.
    pub fatal: bool,
}

impl Account {
    pub fn new(sign_in: SignIn, server: ServerAddress, store: Option<CredentialStore>) -> Account {
        Account {
            sign_in,
            server,
            store,
            note: None,
            device: device_name(),
            pre_authenticated: false,
        }
    }

    /// An account the transport has already signed in (the ssh entrance:
    /// identity by key). Its hello carries `name` and `device`, which the
    /// server's handshake does not need; nothing is kept on disk.
    pub fn pre_authenticated(name: String, device: String, server: ServerAddress) -> Account {
        Account {
            device: Some(device),
            pre_authenticated: true,
            ..Account::new(SignIn::Name(name), server, None)
        }
    }

    /// How to sign in to `server`: with `link_code` if given, else with the
    /// credential kept for it, else by registering `name`. `None`: none of
    /// these is there.
    pub fn choose(
        server: ServerAddress,
        store: Option<CredentialStore>,
        link_code: Option<String>,
        name: Option<String>,
    ) -> Result<Option<Account>, crate::credentials::CredentialError> {
        let kept = match &store {
            Some(s) => s.load(&server)?,
            None => None,
        };
        let mut note = None;
        let sign_in = match (link_code, kept, name) {
            (Some(code), _, _) => SignIn::LinkCode(code),
            (None, Some(kept), name) => {
                if let (Some(name), Some(store)) = (name, &store)
                    && !name.eq_ignore_ascii_case(&kept.name)
                {
                    note = Some(format!(
                        "--name {} is not used: this device signs in as {} with its kept key \
                         (delete {} to register another name)",
                        crate::sanitize::one_line(&name),
                        crate::sanitize::one_line(&kept.name),
                        store.file_for(&server).display()
                    ));
                }
                SignIn::Credential(kept)
            }
            (None, None, Some(name)) => SignIn::Name(name),
            (None, None, None) => return Ok(None),
        };
        let mut account = Account::new(sign_in, server, store);
        account.note = note;
        Ok(Some(account))
    }

    /// The `hello` for this account, from `device`.
    pub fn hello(&self, device: Option<String>) -> ClientEvent {
        let (mut name, mut credential, mut link_code) = (None, None, None);
        match &self.sign_in {
            SignIn::Credential(kept) => credential = Some(kept.credential.clone()),
            SignIn::LinkCode(code) => link_code = Some(code.clone()),
            SignIn::Name(n) => name = Some(n.clone()),
        }
        ClientEvent::Hello {
            protocol: protocol::PROTOCOL_VERSION,
            name,
            credential,
            link_code,
            device,
            client: Some(format!("chat-tui/{}", env!("CARGO_PKG_VERSION"))),
        }
    }

    /// The server welcomed `user`, with a new `credential` when it issued
    /// one: it is kept, and used from now on. What to tell the person.
    pub fn welcomed(&mut self, user: &UserRef, credential: Option<String>) -> Option<String> {
        if self.pre_authenticated {
            // A server that signs its in-process peers in by key issues
            // nothing; one that did is answered with it from then on.
            if let Some(credential) = credential {
                self.sign_in = SignIn::Credential(Stored {
                    server: self.server.as_str().to_string(),
                    user_id: user.id.clone(),
                    name: user.name.clone(),
                    credential,
                });
            }
            return None;
        }
        let name = crate::sanitize::one_line(&user.name);
        let Some(credential) = credential else {
            if let Some(note) = self.note.take() {
                return Some(note);
            }
            if let SignIn::Credential(kept) = &mut self.sign_in
                && kept.name != user.name
            {
                // Renamed by the operator: the file says so from now on.
                kept.name = user.name.clone();
                let kept = kept.clone();
                return self.keep(kept).err();
            }
            return None;
        };
        let how = match &self.sign_in {
            SignIn::LinkCode(_) => format!("this device is now signed in as {name}"),
            _ => format!("the name {name} is now yours on this server"),
        };
        let kept = Stored {
            server: self.server.as_str().to_string(),
            user_id: user.id.clone(),
            name: user.name.clone(),
            credential,
        };
        Some(match self.keep(kept) {
            Ok(path) => format!("{how}; the key that proves it is kept in {path}"),
            Err(warning) => format!("{how}, but {warning}"),
        })
    }

    /// Keeps `kept` and signs in with it from now on; the file's path, or
    /// what went wrong.
    fn keep(&mut self, kept: Stored) -> Result<String, String> {
        self.sign_in = SignIn::Credential(kept.clone());
        let Some(store) = &self.store else {
            return Err("there is no data directory to keep its key in: \
                        it lasts until you quit"
                .into());
        };
        match store.save(&self.server, &kept) {
            Ok(path) => Ok(path.display().to_string()),
            Err(e) => Err(format!(
                "its key could not be kept ({e}): it lasts until you quit"
            )),
        }
    }

    /// Forgets the kept credential; where it was, for the message.
    fn forget(&mut self) -> String {
        let Some(store) = &self.store else {
            return "here".into();
        };
        let path = store.file_for(&self.server).display().to_string();
        match store.forget(&self.server) {
            Ok(()) => format!("from {path}"),
            Err(e) => format!("from {path} ({e}; delete it yourself)"),
        }
    }

    /// The server refused the `hello` with `code`.
    pub fn refused(&mut self, code: ErrorCode, message: &str) -> Refusal {
        let refusal = self.refusal(code, message);
        if self.pre_authenticated && refusal.fatal {
            // Keys, names and codes are the ssh entrance's business: the
            // server's own words, without chat-tui's options.
            let message = crate::sanitize::one_line(message);
            return Refusal {
                message: format!("the server refused this session: {message}"),
                fatal: true,
            };
        }
        refusal
    }

    fn refusal(&mut self, code: ErrorCode, message: &str) -> Refusal {
        let message = crate::sanitize::one_line(message);
        let fatal = |message: String| Refusal {
            message,
            fatal: true,
        };
        let sign_in_here = "if it is yours, run /link on a device where you are signed in, \
                            then start chat-tui --link CODE here";
        match code {
            ErrorCode::NameClaimed => {
                let name = match &self.sign_in {
                    SignIn::Name(n) => n.clone(),
                    _ => "this name".into(),
                };
                fatal(format!(
                    "the name {name} belongs to someone on this server; {sign_in_here}"
                ))
            }
            ErrorCode::BadCredential | ErrorCode::CredentialRevoked => {
                let was = self.forget();
                fatal(format!(
                    "the server no longer accepts this device's key (signed out, or the name \
                     was removed); it is forgotten {was}: start chat-tui --link CODE with a code \
                     from /link on a signed-in device, or --name NAME for a new name"
                ))
            }
            ErrorCode::BadLinkCode => fatal(
                "the link code was not accepted (unknown, already used or expired): run /link \
                 again on a device where you are signed in and use the new code"
                    .into(),
            ),
            ErrorCode::RegistrationClosed => fatal(
                "this server does not register new names: ask its operator for a link code \
                 (chat-server user add NAME), then start chat-tui --link CODE"
                    .into(),
            ),
            ErrorCode::InvalidName => {
                let name = match &self.sign_in {
                    SignIn::Name(n) => crate::sanitize::one_line(n),
                    _ => String::new(),
                };
                fatal(format!("the server refused the name {name:?}: {message}"))
            }
            ErrorCode::UnsupportedVersion => fatal(format!(
                "the server does not speak this client's protocol version: {message}"
            )),
            // Rate limits, shutting down: worth another try.
            _ => Refusal {
                message: format!("{code}: {message}"),
                fatal: false,
            },
        }
    }

    /// This device was signed out while connected: its credential is
    /// forgotten. The line to end with.
    pub fn revoked(&mut self) -> String {
        if self.pre_authenticated {
            return "this key was signed out (by /keys or /logout on one of your devices)".into();
        }
        let was = self.forget();
        format!(
            "this device was signed out (by /logout here or on another of your devices); its \
             key is forgotten {was}: start chat-tui --link CODE with a code from /link on a \
             signed-in device to sign in again"
        )
    }
}

/// What this device is called in `/devices`: "chat-tui on HOST".
pub fn device_name() -> Option<String> {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())?;
    let host = crate::sanitize::one_line(host.trim());
    let name: String = format!("chat-tui on {host}")
        .chars()
        .take(protocol::limits::MAX_DEVICE_CHARS)
        .collect();
    (!host.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(sign_in: SignIn, store: Option<CredentialStore>) -> Account {
        let server = ServerAddress::parse("127.0.0.1:3000").unwrap();
        Account::new(sign_in, server, store)
    }

    fn user(name: &str) -> UserRef {
        UserRef {
            id: "u_0123456789abcdef".into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_registration_keeps_the_credential_and_signs_in_with_it_from_then_on() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CredentialStore::at(tmp.path());
        let mut a = account(SignIn::Name("ann".into()), Some(store.clone()));
        let note = a.welcomed(&user("ann"), Some("secret".into())).unwrap();
        assert!(note.contains("now yours"), "{note}");
        let kept = store.load(&a.server).unwrap().unwrap();
        assert_eq!(kept.credential, "secret");
        assert_eq!(kept.user_id, "u_0123456789abcdef");
        assert_eq!(a.sign_in, SignIn::Credential(kept.clone()));
        assert!(matches!(
            a.hello(None),
            ClientEvent::Hello { credential: Some(c), name: None, link_code: None, .. } if c == "secret"
        ));
        // The next run finds it (a name given is not used, and it says
        // so), and a link code given still wins.
        let server = a.server.clone();
        let again = Account::choose(server.clone(), Some(store.clone()), None, Some("x".into()));
        let mut again = again.unwrap().unwrap();
        assert_eq!(again.sign_in, SignIn::Credential(kept));
        let note = again.welcomed(&user("ann"), None).unwrap();
        assert!(note.starts_with("--name x is not used"), "{note}");
        assert_eq!(again.welcomed(&user("ann"), None), None, "said once");
        let linked = Account::choose(
            server.clone(),
            Some(store.clone()),
            Some("K7Q2".into()),
            None,
        );
        assert_eq!(
            linked.unwrap().unwrap().sign_in,
            SignIn::LinkCode("K7Q2".into())
        );
        // A refused credential is forgotten, and the line says so.
        let refusal = a.refused(ErrorCode::BadCredential, "unknown credential");
        assert!(
            refusal.fatal && refusal.message.contains("forgotten"),
            "{refusal:?}"
        );
        assert_eq!(store.load(&server).unwrap(), None);
        assert!(
            Account::choose(server, Some(store), None, None)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn refusals_say_what_to_do() {
        let mut a = account(SignIn::Name("ann".into()), None);
        let claimed = a.refused(ErrorCode::NameClaimed, "the name ann belongs to someone");
        assert!(claimed.fatal);
        assert!(claimed.message.contains("/link"), "{claimed:?}");
        assert!(
            claimed.message.contains("chat-tui --link CODE"),
            "{claimed:?}"
        );
        let closed = a.refused(ErrorCode::RegistrationClosed, "closed");
        assert!(closed.message.contains("operator"), "{closed:?}");
        let code = a.refused(ErrorCode::BadLinkCode, "expired");
        assert!(code.message.contains("run /link again"), "{code:?}");
        assert!(!a.refused(ErrorCode::RateLimited, "slow down").fatal);
    }

    #[test]
    fn a_session_signed_in_by_its_transport_keeps_quiet_about_keys() {
        let server = ServerAddress::parse("127.0.0.1:3000").unwrap();
        let mut a = Account::pre_authenticated("ann".into(), "ssh key".into(), server);
        assert!(matches!(
            a.hello(a.device.clone()),
            ClientEvent::Hello { name: Some(n), device: Some(d), credential: None, .. }
                if n == "ann" && d == "ssh key"
        ));
        // A credential issued all the same is answered with, silently.
        assert_eq!(a.welcomed(&user("ann"), Some("secret".into())), None);
        assert!(matches!(a.sign_in, SignIn::Credential(_)));
        let refused = a.refused(ErrorCode::BadCredential, "unknown device");
        assert!(refused.fatal);
        assert_eq!(
            refused.message,
            "the server refused this session: unknown device"
        );
        assert!(!a.refused(ErrorCode::RateLimited, "slow down").fatal);
        assert!(a.revoked().contains("this key was signed out"));
    }

    #[test]
    fn without_a_data_directory_the_name_lasts_the_run_and_says_so() {
        let mut a = account(SignIn::Name("ann".into()), None);
        let note = a.welcomed(&user("ann"), Some("secret".into())).unwrap();
        assert!(note.contains("until you quit"), "{note}");
        assert!(matches!(a.sign_in, SignIn::Credential(_)));
    }
}
