//! `chat-server user add|link|list|remove|rename`: an operator's tools,
//! working on the identity store directly (the SQLite file in the data
//! directory, or Redis with `--redis`), whether or not a server is
//! running; and the server's own identity options.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::codes::OPERATOR_TTL;
use super::service::{IdentityConfig, Registration};
use super::store::{Identity, IdentityStore, RedisStore, SqliteStore, StoreError};
use super::{Identities, secrets};
use crate::durability::Durability;

/// The server's identity options.
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityOptions {
    /// Whether the first hello with a free name registers it (open), or only
    /// identities made with `chat-server user add` exist (closed)
    #[arg(long, env = "CHAT_REGISTRATION", value_enum, default_value_t = Registration::Open)]
    pub registration: Registration,

    /// Days after which an identity with no connection is removed and its
    /// name freed (checked at start and daily)
    #[arg(long, env = "CHAT_NAME_TTL_DAYS", default_value_t = 180)]
    pub name_ttl_days: u32,
}

impl IdentityOptions {
    pub fn config(&self) -> IdentityConfig {
        IdentityConfig {
            registration: self.registration,
            name_ttl: Duration::from_secs(u64::from(self.name_ttl_days.max(1)) * 24 * 3600),
            ..IdentityConfig::default()
        }
    }
}

/// `chat-server user ...`
#[derive(Debug, Clone, clap::Args)]
pub struct UserCommand {
    #[command(subcommand)]
    pub action: UserAction,

    /// Directory of the store (chat.sqlite3)
    /// [default: the platform's data directory, e.g. ~/.local/share/chat]
    #[arg(long, env = "CHAT_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Work on the cluster's identities in this Redis instead
    /// (redis://HOST:PORT[/DB]) [default: the SQLite file]
    #[arg(long, env = "CHAT_REDIS", global = true)]
    pub redis: Option<String>,

    /// The cluster's key prefix
    #[arg(
        long,
        env = "CHAT_REDIS_PREFIX",
        default_value = "chat:",
        global = true
    )]
    pub redis_prefix: String,
}

/// What to do with identities.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserAction {
    /// Create an identity and print a link code (valid 24 h) that signs its
    /// first device in
    Add { name: String },
    /// Print a new link code (valid 24 h) for an identity
    Link { name: String },
    /// List identities: name, id, devices, last seen
    List,
    /// Remove an identity with its devices; its name is free again
    Remove { name: String },
    /// Give an identity another name
    Rename { old: String, new: String },
    /// Make an identity a server admin (above everyone in every room), or
    /// no longer one with --remove
    Admin {
        name: String,
        /// Take the admin rank away instead
        #[arg(long)]
        remove: bool,
    },
}

/// Why a user command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(#[from] protocol::ValidationError),
    #[error("no identity is called {0}")]
    Unknown(String),
    #[error("the name {0} (or one that looks the same) already belongs to an identity")]
    Taken(String),
    #[error("this platform has no data directory; pass --data-dir DIR or --redis URL")]
    NoDataDir,
    #[error("cannot write the answer: {0}")]
    Output(#[from] std::io::Error),
    #[error(transparent)]
    Moderation(#[from] crate::moderation::StoreError),
}

impl UserCommand {
    /// Opens the store this command works on.
    pub async fn store(&self) -> Result<Arc<dyn IdentityStore>, AdminError> {
        if let Some(url) = &self.redis {
            return Ok(Arc::new(
                RedisStore::connect(url, &self.redis_prefix).await?,
            ));
        }
        let dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => crate::store::default_data_dir().ok_or(AdminError::NoDataDir)?,
        };
        let path = crate::store::file_in(&dir);
        Ok(Arc::new(SqliteStore::open(
            Some(&path),
            Durability::default(),
        )?))
    }

    /// Opens the moderation store this command works on (beside the
    /// identities: the same Redis, or the same SQLite file).
    pub async fn moderation_store(
        &self,
    ) -> Result<Arc<dyn crate::moderation::ModerationStore>, AdminError> {
        let redis = self
            .redis
            .as_deref()
            .map(|url| (url, self.redis_prefix.as_str()));
        let dir = match (&self.data_dir, redis) {
            (Some(dir), _) => dir.clone(),
            (None, Some(_)) => PathBuf::new(),
            (None, None) => crate::store::default_data_dir().ok_or(AdminError::NoDataDir)?,
        };
        let file = crate::store::file_in(&dir);
        Ok(crate::moderation::options::open_store(redis, &file).await?)
    }

    /// Runs the command on `store`, writing what it has to say to `out`.
    pub async fn run(
        &self,
        store: Arc<dyn IdentityStore>,
        out: &mut impl std::io::Write,
    ) -> Result<(), AdminError> {
        let identities = Identities::new(store.clone(), IdentityConfig::default());
        let find = |name: &str| {
            let key = protocol::names::name_key(&protocol::names::normalize(name)?);
            Ok::<_, AdminError>(key)
        };
        match &self.action {
            UserAction::Add { name } => {
                let name = protocol::names::normalize(name)?;
                let now = crate::clock::now_ms();
                let identity = Identity {
                    id: secrets::new_user_id(),
                    key: protocol::names::name_key(&name),
                    name: name.clone(),
                    created_ts: now,
                    last_seen_ts: now,
                };
                match store.register(&identity, None).await {
                    Err(StoreError::NameHeld) => return Err(AdminError::Taken(name)),
                    other => other?,
                }
                let (code, _) = identities.link_code(&identity.id, OPERATOR_TTL).await?;
                writeln!(out, "added {name} ({})", identity.id)?;
                writeln!(out, "link code (valid 24 hours, once): {code}")?;
            }
            UserAction::Link { name } => {
                let key = find(name)?;
                let user = store
                    .find(&key)
                    .await?
                    .ok_or_else(|| AdminError::Unknown(name.clone()))?;
                let (code, _) = identities.link_code(&user.id, OPERATOR_TTL).await?;
                writeln!(
                    out,
                    "link code for {} (valid 24 hours, once): {code}",
                    user.name
                )?;
            }
            UserAction::List => {
                for listed in store.list().await? {
                    let u = &listed.identity;
                    let seen = chrono::DateTime::from_timestamp_millis(u.last_seen_ts)
                        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "{}\t{}\t{} device(s)\tlast seen {seen}",
                        u.name, u.id, listed.devices
                    )?;
                }
            }
            UserAction::Remove { name } => {
                let key = find(name)?;
                let user = store
                    .find(&key)
                    .await?
                    .ok_or_else(|| AdminError::Unknown(name.clone()))?;
                store.remove(&user.id).await?;
                writeln!(out, "removed {} ({})", user.name, user.id)?;
            }
            UserAction::Rename { old, new } => {
                let user = store
                    .find(&find(old)?)
                    .await?
                    .ok_or_else(|| AdminError::Unknown(old.clone()))?;
                let new = protocol::names::normalize(new)?;
                let key = protocol::names::name_key(&new);
                match store.rename(&user.id, &new, &key).await {
                    Err(StoreError::NameHeld) => return Err(AdminError::Taken(new)),
                    other => other?,
                }
                writeln!(out, "renamed {} to {new} ({})", user.name, user.id)?;
            }
            UserAction::Admin { name, remove } => {
                let user = store
                    .find(&find(name)?)
                    .await?
                    .ok_or_else(|| AdminError::Unknown(name.clone()))?;
                let moderation = self.moderation_store().await?;
                crate::moderation::options::set_admin(
                    &*moderation,
                    &user.id,
                    &user.name,
                    !remove,
                    out,
                )
                .await?;
            }
        }
        Ok(())
    }
}
