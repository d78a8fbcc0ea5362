//! Your devices: a link code for another one (`/link`), the list
//! (`/devices`), and signing one out (`/logout [DEVICE]`).

use protocol::{AckResult, ClientEvent, DeviceInfo};

use super::{App, Effect, EntryKind, Now, Request};
use crate::sanitize;

impl App {
    /// `/link`: asks for a one-time code that signs another device in.
    pub(super) fn ask_link(&mut self, fx: &mut Vec<Effect>) {
        if !self.require_connection("/link") {
            return;
        }
        let id = self.next_id();
        self.requests.insert(id.clone(), Request::Link);
        fx.push(Effect::Send(ClientEvent::Link { id }));
    }

    /// `/devices`: asks for the list.
    pub(super) fn ask_devices(&mut self, fx: &mut Vec<Effect>) {
        if !self.require_connection("/devices") {
            return;
        }
        let id = self.next_id();
        self.requests.insert(id.clone(), Request::Devices);
        fx.push(Effect::Send(ClientEvent::Devices { id }));
    }

    /// `/logout [DEVICE]`: signs out a device, by its id or its number in
    /// the last `/devices` list; this one without an argument.
    pub(super) fn ask_logout(&mut self, device: Option<String>, fx: &mut Vec<Effect>) -> bool {
        if !self.require_connection("/logout") {
            return false;
        }
        let device = match device {
            None => None,
            Some(d) => match d.parse::<usize>() {
                Ok(n) => match n.checked_sub(1).and_then(|i| self.devices_shown.get(i)) {
                    Some(id) => Some(id.clone()),
                    None => {
                        self.error(format!(
                            "no device {n} in the last list: /devices shows the numbers"
                        ));
                        return false;
                    }
                },
                Err(_) => Some(d),
            },
        };
        let id = self.next_id();
        self.requests
            .insert(id.clone(), Request::Logout(device.clone()));
        fx.push(Effect::Send(ClientEvent::Logout { id, device }));
        true
    }

    pub(super) fn require_connection(&mut self, what: &str) -> bool {
        if !self.connected() {
            self.error(format!(
                "{what} needs a connection: try again once connected"
            ));
        }
        self.connected()
    }

    pub(super) fn show_link_code(&mut self, code: &str, expires_ts: i64, now: Now) {
        let code = sanitize::one_line(code);
        let minutes = (expires_ts.saturating_sub(now.wall_ms) + 59_999) / 60_000;
        let until = crate::layout::Format {
            clock: self.display.clock,
            zone: self.display.zone,
            theme: self.display.theme,
            me: &self.me,
        }
        .time(expires_ts);
        let lines = [
            format!(
                "link code {code}: valid for {} (until {until}) and usable once",
                super::plural(minutes.max(0) as usize, "minute", "minutes")
            ),
            format!(
                "on the other device: chat-tui --link {code} (or the page's \"I have a code\" field)"
            ),
        ];
        for line in lines {
            self.push_current(now.wall_ms, EntryKind::Notice(line));
        }
    }

    pub(super) fn show_devices(&mut self, devices: &[DeviceInfo], now: Now) {
        let keys = self.requests.values().any(|r| matches!(r, Request::Keys))
            && !self
                .requests
                .values()
                .any(|r| matches!(r, Request::Devices));
        if keys {
            return self.show_keys(devices, now);
        }
        self.devices_shown = devices.iter().map(|d| d.id.clone()).collect();
        let head = format!("your devices ({}; /logout N signs one out):", devices.len());
        self.push_current(now.wall_ms, EntryKind::Notice(head));
        for (i, d) in devices.iter().enumerate() {
            let this = if d.current { ", this one" } else { "" };
            let line = format!(
                "  {} {} ({}, last seen {}{this})",
                i + 1,
                sanitize::one_line(&d.name),
                sanitize::one_line(&d.id),
                ago(now.wall_ms, d.last_seen_ts)
            );
            self.push_current(now.wall_ms, EntryKind::Notice(line));
        }
    }

    /// `/keys`: asks for the devices, to show the ssh keys among them.
    pub(super) fn ask_keys(&mut self, fx: &mut Vec<Effect>) {
        if !self.require_connection("/keys") {
            return;
        }
        let id = self.next_id();
        self.requests.insert(id.clone(), Request::Keys);
        fx.push(Effect::Send(ClientEvent::Devices { id }));
    }

    /// `/keys remove KEY`: signs out the key numbered so in the last
    /// `/keys`, or the one with this fingerprint.
    pub(super) fn remove_key(&mut self, key: &str, fx: &mut Vec<Effect>) -> bool {
        let found = match key.parse::<usize>() {
            Ok(n) => n.checked_sub(1).and_then(|i| self.keys_shown.get(i)),
            Err(_) => self.keys_shown.iter().find(|(_, name)| name.ends_with(key)),
        };
        let Some((device, _)) = found.cloned() else {
            self.error(format!(
                "no key {key} in the last list: /keys shows the numbers"
            ));
            return false;
        };
        self.ask_logout(Some(device), fx)
    }

    fn show_keys(&mut self, devices: &[DeviceInfo], now: Now) {
        let keys: Vec<&DeviceInfo> = devices
            .iter()
            .filter(|d| protocol::is_ssh_key_device(&d.name))
            .collect();
        self.keys_shown = keys
            .iter()
            .map(|d| (d.id.clone(), d.name.clone()))
            .collect();
        let head = match keys.len() {
            0 => "no ssh keys sign in as you (ssh in with one to add it)".to_string(),
            n => format!("your ssh keys ({n}; /keys remove N signs one out):"),
        };
        self.push_current(now.wall_ms, EntryKind::Notice(head));
        for (i, d) in keys.iter().enumerate() {
            let this = if d.current { ", this one" } else { "" };
            let key = d
                .name
                .strip_prefix(protocol::SSH_KEY_DEVICE_PREFIX)
                .unwrap_or(&d.name);
            let line = format!(
                "  {} {} (last seen {}{this})",
                i + 1,
                sanitize::one_line(key),
                ago(now.wall_ms, d.last_seen_ts)
            );
            self.push_current(now.wall_ms, EntryKind::Notice(line));
        }
    }

    /// The answer to `/logout`. Signing out this device ends the program
    /// (the server closes the connection and says why).
    pub(super) fn logged_out(&mut self, device: Option<String>, result: AckResult, now: Now) {
        let which = match &device {
            Some(d) => format!("device {}", sanitize::one_line(d)),
            None => "this device".into(),
        };
        match result {
            AckResult::Ok { .. } => {
                let text = format!("{which} is signed out");
                self.push_current(now.wall_ms, EntryKind::Notice(text.clone()));
                self.info(text);
            }
            AckResult::Err(err) => {
                let message = sanitize::one_line(&err.message);
                self.error(format!("cannot sign out {which}: {message}"));
            }
        }
    }
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago".
fn ago(now_ms: i64, then_ms: i64) -> String {
    let minutes = now_ms.saturating_sub(then_ms).max(0) / 60_000;
    let (n, unit) = match minutes {
        0 => return "just now".into(),
        m if m < 60 => (m, "minute"),
        m if m < 48 * 60 => (m / 60, "hour"),
        m => (m / (24 * 60), "day"),
    };
    let s = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{s} ago")
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_read_naturally() {
        assert_eq!(super::ago(1_000_000, 999_000), "just now");
        assert_eq!(super::ago(60_000 * 5, 0), "5 minutes ago");
        assert_eq!(super::ago(3_600_000, 0), "1 hour ago");
        assert_eq!(super::ago(86_400_000 * 3, 0), "3 days ago");
        // A clock behind the server's is not "in the future".
        assert_eq!(super::ago(0, 60_000), "just now");
    }
}
