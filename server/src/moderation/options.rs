//! The server's moderation options (`--content-filter`, `--admin`) and
//! `chat-server user admin NAME`, which names a server admin in the
//! moderation store (the SQLite file, or Redis with `--redis`), whether or
//! not a server is running.

use std::sync::Arc;

use super::filter::FilterSetting;
use super::store::{ModerationStore, RedisStore, SqliteStore, StoreError};
use super::{ModerationConfig, records};

/// The server's moderation options.
#[derive(Debug, Clone, clap::Args)]
pub struct ModerationOptions {
    /// The content filter every room uses unless its operators choose
    /// another (/filter): off, profanity (a well-kept list with look-alike
    /// and leet spellings), or a FILE of refused words, one a line (#
    /// starts a comment)
    #[arg(
        long,
        env = "CHAT_CONTENT_FILTER",
        value_name = "off|profanity|FILE",
        default_value = "off"
    )]
    pub content_filter: FilterSetting,

    /// Server admins by name: they rank above everyone in every room
    /// (repeat or separate with commas; names must exist when the server
    /// starts). `chat-server user admin NAME` names more. [default: none]
    #[arg(long = "admin", env = "CHAT_ADMINS", value_delimiter = ',')]
    pub admins: Vec<String>,
}

impl ModerationOptions {
    /// The settings, with the word list read when the filter is a file.
    pub fn config(&self) -> std::io::Result<ModerationConfig> {
        Ok(ModerationConfig {
            filter: self.content_filter.load()?,
            admins: self.admins.clone(),
        })
    }
}

/// Opens the moderation store a `chat-server user` command works on: the
/// cluster's Redis, else the SQLite file in `dir`.
pub async fn open_store(
    redis: Option<(&str, &str)>,
    file: &std::path::Path,
) -> Result<Arc<dyn ModerationStore>, StoreError> {
    Ok(match redis {
        Some((url, prefix)) => Arc::new(RedisStore::connect(url, prefix).await?),
        None => Arc::new(SqliteStore::open(
            file,
            crate::durability::Durability::default(),
        )?),
    })
}

/// `chat-server user admin [--remove] NAME` on identity `user` (called
/// `name`): writes one line saying what was done.
pub async fn set_admin(
    store: &dyn ModerationStore,
    user: &str,
    name: &str,
    admin: bool,
    out: &mut impl std::io::Write,
) -> Result<(), StoreError> {
    records::set_admin(store, user, admin).await?;
    let line = if admin {
        format!("{name} ({user}) is a server admin")
    } else {
        format!("{name} ({user}) is no longer a server admin")
    };
    writeln!(out, "{line}").map_err(|e| StoreError::Other(e.to_string()))
}
