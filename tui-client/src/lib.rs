//! `chat-tui`, a keyboard-driven terminal client for the chat server.
//!
//! The pieces, each with one job:
//!
//! - [`cli`]: the command line, completions and the manual page;
//!   [`config`]: the config file merged with options and environment;
//! - [`address`]: the server addresses people paste, as WebSocket URLs;
//!   [`dial`]: TCP, TLS ([`tls`]: the platform's trust store and
//!   `--ca-file`) and the WebSocket upgrade;
//! - [`net`]: the network actor that owns the WebSocket, signs in (a kept
//!   credential, a link code or a new name), checks the link is alive and
//!   reconnects; [`credentials`]: where the key that signs you in is kept;
//! - [`app`]: the state and `update`, no I/O and no terminal; its
//!   [`app::outbox`] keeps your lines by the protocol's rulebook;
//! - [`keymap`]: the key map, terminal keys to [`keymap::Action`]s, as one
//!   table; [`commands`]: the command table and the parser; [`help`]:
//!   both rendered for `/help`, `--help` and the README;
//! - [`editor`], [`complete`]: the input line, Tab completion;
//! - [`layout`]: history to wrapped, styled rows; [`viewport`]: a room's
//!   view resolved into the rows on screen; [`ui`]: drawing, and the report
//!   of what it showed;
//! - [`sanitize`]: making untrusted text inert; [`theme`], [`zone`]:
//!   colours and the clock shown (when a message names you is the
//!   protocol's rule, `protocol::mention`, shared by every client);
//! - [`redraw`]: the backend both terminals are drawn with; new messages
//!   scroll the pane with the terminal's scrolling region;
//! - [`event_loop`]: input + network + timers + screen, generic over the
//!   [`screen`] it draws on;
//! - [`terminal`]: raw mode in and out, also on panic;
//! - [`remote`]: the same app for a terminal at the other end of an ssh
//!   channel (bytes in, frames out).

pub mod address;
pub mod app;
pub mod cli;
pub mod commands;
pub mod complete;
pub mod config;
pub mod credentials;
pub mod dial;
pub mod editor;
pub mod event_loop;
pub mod help;
pub mod keymap;
pub mod layout;
pub mod net;
pub mod redraw;
pub mod remote;
pub mod sanitize;
pub mod screen;
pub mod terminal;
pub mod theme;
pub mod tls;
pub mod ui;
pub mod viewport;
pub mod zone;
