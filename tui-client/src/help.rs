//! The help, rendered from the key map ([`crate::keymap::KEYMAP`]) and the
//! command table both clients share ([`protocol::commands::COMMANDS`], the
//! commands chat-tui offers): as lines for `/help` and
//! `chat-tui --help`, and as the markdown tables of README.md. A test fails
//! when README.md's tables differ from the code's (run it with
//! `UPDATE_README=1` to write them).

use crate::commands::commands;
use crate::keymap::KEYMAP;

/// The help as plain lines: commands, then keys.
pub fn lines() -> Vec<String> {
    let mut lines = vec!["commands:".to_string()];
    for c in commands() {
        lines.push(format!("  {:<20} {}", c.usage, c.help));
    }
    lines.push("keys:".into());
    for row in KEYMAP {
        lines.push(format!("  {}: {}", row.keys_label(), plain(row.what)));
    }
    lines
}

/// The help of one command (`/help msg`): its usage, what it does and
/// its other names.
pub fn one_command(c: &crate::commands::Spec) -> String {
    let also: Vec<String> = c.aliases.iter().map(|a| format!("/{a}")).collect();
    let also = if also.is_empty() {
        String::new()
    } else {
        format!(" (also {})", also.join(", "))
    };
    format!("{}: {}{also}", c.usage, c.help)
}

/// What `chat-tui --help` shows after the options.
pub fn after_help() -> String {
    let mut text = String::from("Inside the client:\n");
    for line in lines() {
        text.push_str("  ");
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(
        "\nConfig file: the TOML file named by --config, else config.toml in the platform \
config directory (on Linux ~/.config/chat-tui/config.toml).",
    );
    text
}

/// The key table of README.md.
pub fn markdown_keys() -> String {
    let mut md = String::from("| key | does |\n| --- | --- |\n");
    for row in KEYMAP {
        let also = row.also_label();
        let also = if also.is_empty() {
            String::new()
        } else {
            format!(" (also {also})")
        };
        md.push_str(&format!(
            "| {} | {}{} |\n",
            cell(&row.keys_label()),
            cell(row.what),
            cell(&also)
        ));
    }
    md
}

/// The command table of README.md.
pub fn markdown_commands() -> String {
    let mut md = String::from("| command | does |\n| --- | --- |\n");
    for c in commands() {
        let also: Vec<String> = c.aliases.iter().map(|a| format!("`/{a}`")).collect();
        let also = if also.is_empty() {
            String::new()
        } else {
            format!(" (also {})", also.join(", "))
        };
        md.push_str(&format!(
            "| `{}` | {}{} |\n",
            // GitHub's tables split at a `|` even inside code marks.
            cell(c.usage),
            cell(c.help),
            cell(&also)
        ));
    }
    md
}

/// Markdown code marks become quotes outside the README.
fn plain(text: &str) -> String {
    text.replace('`', "\"")
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A README section: its first and last marker, and what goes between.
    type Section = (&'static str, &'static str, fn() -> String);

    /// The README sections the tables live in.
    const SECTIONS: [Section; 2] = [
        (
            "<!-- keys: generated from KEYMAP in tui-client/src/keymap.rs -->",
            "<!-- end of keys -->",
            markdown_keys,
        ),
        (
            "<!-- commands: generated from COMMANDS in protocol/src/commands/table.rs -->",
            "<!-- end of commands -->",
            markdown_commands,
        ),
    ];

    fn readme_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")
    }

    /// `readme` with the sections replaced by the code's tables.
    fn regenerated(readme: &str) -> String {
        let mut out = readme.to_string();
        for (begin, end, table) in SECTIONS {
            let start = out
                .find(begin)
                .unwrap_or_else(|| panic!("README.md lacks the marker {begin}"))
                + begin.len();
            let stop = out[start..]
                .find(end)
                .unwrap_or_else(|| panic!("README.md lacks the marker {end}"))
                + start;
            out.replace_range(start..stop, &format!("\n{}", table()));
        }
        out
    }

    #[test]
    fn the_readme_tables_are_the_codes() {
        let path = readme_path();
        let readme = std::fs::read_to_string(&path).expect("README.md");
        let want = regenerated(&readme);
        if want == readme {
            return;
        }
        if std::env::var_os("UPDATE_README").is_some() {
            std::fs::write(&path, want).expect("write README.md");
            return;
        }
        let differing: Vec<(&str, &str)> = readme
            .lines()
            .zip(want.lines())
            .filter(|(a, b)| a != b)
            .take(3)
            .collect();
        panic!(
            "README.md's key or command table differs from the code's tables \
(first differences: {differing:#?}); run `UPDATE_README=1 cargo test -p tui-client --lib help` \
to write them"
        );
    }

    #[test]
    fn regenerating_replaces_only_what_is_between_the_markers() {
        let (kb, ke, _) = SECTIONS[0];
        let (cb, ce, _) = SECTIONS[1];
        let readme = format!("intro\n{kb}\nold keys\n{ke}\nmiddle\n{cb}\n{ce}\nend\n");
        let out = regenerated(&readme);
        assert!(
            out.starts_with(&format!("intro\n{kb}\n| key | does |")),
            "{out}"
        );
        assert!(!out.contains("old keys"));
        assert!(out.contains("| Enter | send the line |\n"));
        assert!(out.contains(&format!("| Ctrl-C | quit |\n{ke}\nmiddle\n")));
        assert!(out.contains("| `/join ROOM` | join a room"));
        assert!(out.contains("and switch to it (also `/j`) |"));
        assert!(out.contains("word left / right (also Alt-Left / Alt-Right) |"));
        assert!(out.ends_with(&format!("{ce}\nend\n")));
        // Idempotent: the README as written is left alone.
        assert_eq!(regenerated(&out), out);
    }

    #[test]
    fn every_key_row_and_command_is_in_the_help() {
        let text = lines().join("\n");
        for c in commands() {
            assert!(text.contains(c.usage), "{}", c.usage);
        }
        let msg = crate::commands::find("msg").map(one_command);
        assert!(msg.is_some_and(|m| m.starts_with("/msg NAME TEXT: ")));
        for row in KEYMAP {
            assert!(text.contains(&row.keys_label()), "{}", row.keys_label());
        }
        assert!(!text.contains('`'));
        assert!(after_help().contains("Ctrl-N / Ctrl-P, Alt-Down / Alt-Up: next / previous room"));
        assert!(markdown_keys().contains("| Alt-1 .. Alt-9, Alt-0 | go to room 1..9, 10 |"));
    }
}
