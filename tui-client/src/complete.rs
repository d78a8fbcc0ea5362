//! Tab completion of nicknames, commands and room names.
//!
//! Tab completes the word before the cursor; pressing Tab again cycles
//! through the other matches. What is completed depends on where the word is:
//!
//! - `/jo` at the start of the line: commands (`/join `);
//! - the argument of `/join` or `/leave`, or a word starting with `#`: rooms;
//! - anything else: nicknames in the current room, with `: ` after a nick at
//!   the very start of the line (`bo` -> `bob: `), a space elsewhere.

use crate::commands;

/// What can be completed right now.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// People in the current room, most relevant first.
    pub nicks: &'a [String],
    /// Known rooms.
    pub rooms: &'a [String],
    /// Your own name, offered last.
    pub me: &'a str,
}

/// Result of one Tab: the new line and cursor (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub line: String,
    pub cursor: usize,
}

#[derive(Debug, Clone)]
struct Cycle {
    before: String,
    after: String,
    candidates: Vec<String>,
    index: usize,
    last: Completion,
}

/// Remembers the matches of the last Tab so the next one can cycle.
#[derive(Debug, Default)]
pub struct Completer {
    cycle: Option<Cycle>,
}

impl Completer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Completes (or cycles) at `cursor` (in characters) in `line`.
    pub fn complete(&mut self, line: &str, cursor: usize, ctx: Context<'_>) -> Option<Completion> {
        if let Some(cycle) = &mut self.cycle
            && cycle.last.line == line
            && cycle.last.cursor == cursor
        {
            cycle.index = (cycle.index + 1) % cycle.candidates.len();
            let done = assemble(&cycle.before, &cycle.candidates[cycle.index], &cycle.after);
            cycle.last = done.clone();
            return Some(done);
        }
        self.cycle = None;
        let cursor_byte = line
            .char_indices()
            .nth(cursor)
            .map_or(line.len(), |(i, _)| i);
        let (head, after) = line.split_at(cursor_byte);
        let start = head.rfind(char::is_whitespace).map_or(0, |i| {
            i + head[i..].chars().next().map_or(1, char::len_utf8)
        });
        let (before, word) = head.split_at(start);
        let candidates = candidates(before, word, ctx);
        let first = candidates.first()?;
        let done = assemble(before, first, after);
        self.cycle = Some(Cycle {
            before: before.to_string(),
            after: after.to_string(),
            candidates,
            index: 0,
            last: done.clone(),
        });
        Some(done)
    }

    /// Forgets the cycle (any key other than Tab).
    pub fn reset(&mut self) {
        self.cycle = None;
    }
}

fn assemble(before: &str, completed: &str, after: &str) -> Completion {
    let head = format!("{before}{completed}");
    Completion {
        cursor: head.chars().count(),
        line: format!("{head}{after}"),
    }
}

/// Full replacements (suffix included) for `word`, best first.
fn candidates(before: &str, word: &str, ctx: Context<'_>) -> Vec<String> {
    let at_start = before.trim().is_empty();
    if at_start && let Some(prefix) = word.strip_prefix('/') {
        let prefix = prefix.to_lowercase();
        return commands::commands()
            .filter(|c| c.name.starts_with(&prefix))
            .map(|c| format!("/{} ", c.name))
            .collect();
    }
    let first_word = before.split_whitespace().next().unwrap_or("");
    let room_argument = before.split_whitespace().count() == 1
        && first_word
            .strip_prefix('/')
            .and_then(commands::find)
            .is_some_and(|c| matches!(c.name, "join" | "leave"));
    if let Some(prefix) = word.strip_prefix('#') {
        return rooms(prefix, ctx, "#");
    }
    if room_argument {
        return rooms(word, ctx, "");
    }
    if word.is_empty() {
        return Vec::new();
    }
    let lower = word.to_lowercase();
    let suffix = if at_start { ": " } else { " " };
    let others = ctx.nicks.iter().filter(|n| !n.eq_ignore_ascii_case(ctx.me));
    let mine = ctx.nicks.iter().filter(|n| n.eq_ignore_ascii_case(ctx.me));
    others
        .chain(mine)
        .filter(|n| n.to_lowercase().starts_with(&lower))
        .map(|n| format!("{n}{suffix}"))
        .collect()
}

fn rooms(prefix: &str, ctx: Context<'_>, sigil: &str) -> Vec<String> {
    let prefix = prefix.to_lowercase();
    let mut found: Vec<String> = ctx
        .rooms
        .iter()
        .filter(|r| r.starts_with(&prefix))
        .map(|r| format!("{sigil}{r} "))
        .collect();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(nicks: &'a [String], rooms: &'a [String]) -> Context<'a> {
        Context {
            nicks,
            rooms,
            me: "ann",
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn tab(
        c: &mut Completer,
        line: &str,
        cursor: usize,
        cx: Context<'_>,
    ) -> Option<(String, usize)> {
        c.complete(line, cursor, cx).map(|d| (d.line, d.cursor))
    }

    #[test]
    fn nick_at_line_start_gets_a_colon() {
        let nicks = strings(&["ann", "bob", "Bea"]);
        let mut c = Completer::new();
        assert_eq!(
            tab(&mut c, "bo", 2, ctx(&nicks, &[])),
            Some(("bob: ".into(), 5))
        );
    }

    #[test]
    fn nick_in_the_middle_gets_a_space_and_keeps_the_rest() {
        let nicks = strings(&["ann", "bob", "Zoë"]);
        let mut c = Completer::new();
        assert_eq!(
            tab(&mut c, "hi zo and you", 5, ctx(&nicks, &[])),
            Some(("hi Zoë  and you".into(), 7))
        );
    }

    #[test]
    fn tab_again_cycles_and_wraps() {
        let nicks = strings(&["ann", "bob", "bea"]);
        let mut c = Completer::new();
        let cx = ctx(&nicks, &[]);
        let (l1, c1) = tab(&mut c, "b", 1, cx).unwrap();
        assert_eq!(l1, "bob: ");
        let (l2, c2) = tab(&mut c, &l1, c1, cx).unwrap();
        assert_eq!(l2, "bea: ");
        let (l3, _) = tab(&mut c, &l2, c2, cx).unwrap();
        assert_eq!(l3, "bob: ");
        // After other editing the cycle starts over.
        c.reset();
        assert_eq!(tab(&mut c, "be", 2, cx), Some(("bea: ".into(), 5)));
    }

    #[test]
    fn own_name_comes_last() {
        let nicks = strings(&["ann", "anna"]);
        let mut c = Completer::new();
        assert_eq!(tab(&mut c, "an", 2, ctx(&nicks, &[])).unwrap().0, "anna: ");
    }

    #[test]
    fn commands_complete_at_line_start_only() {
        let mut c = Completer::new();
        assert_eq!(
            tab(&mut c, "/jo", 3, ctx(&[], &[])),
            Some(("/join ".into(), 6))
        );
        let mut c = Completer::new();
        assert_eq!(tab(&mut c, "/l", 2, ctx(&[], &[])).unwrap().0, "/leave ");
        // Tab again cycles to the next command with that prefix.
        assert_eq!(
            tab(&mut c, "/leave ", 7, ctx(&[], &[])).unwrap().0,
            "/list "
        );
        let mut c = Completer::new();
        assert_eq!(tab(&mut c, "/zz", 3, ctx(&[], &[])), None);
        assert_eq!(tab(&mut c, "see /jo", 7, ctx(&[], &[])), None);
    }

    #[test]
    fn rooms_complete_after_join_and_with_hash() {
        let rooms = strings(&["dev", "design", "ops"]);
        let mut c = Completer::new();
        assert_eq!(
            tab(&mut c, "/join o", 7, ctx(&[], &rooms)),
            Some(("/join ops ".into(), 10))
        );
        let mut c = Completer::new();
        assert_eq!(
            tab(&mut c, "/leave ", 7, ctx(&[], &rooms)).unwrap().0,
            "/leave dev "
        );
        let mut c = Completer::new();
        assert_eq!(
            tab(&mut c, "see #de", 7, ctx(&[], &rooms)).unwrap().0,
            "see #dev "
        );
    }

    #[test]
    fn nothing_to_complete() {
        let nicks = strings(&["bob"]);
        let mut c = Completer::new();
        assert_eq!(tab(&mut c, "", 0, ctx(&nicks, &[])), None);
        assert_eq!(tab(&mut c, "x", 1, ctx(&nicks, &[])), None);
        assert_eq!(tab(&mut c, "hi ", 3, ctx(&nicks, &[])), None);
    }
}
