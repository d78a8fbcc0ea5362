//! End-to-end, real `chat-tui`s in pseudo-terminals against the real
//! server: moderation as people type it. The room's creator is its owner
//! and moderates; the refused lines show failed with the server's reason.

#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is a failed test

mod harness;

use harness::*;

/// The user list's entry `name` (with its `@` or `+`) is on screen.
fn listed(t: &Tui, name: &str) -> bool {
    t.rows()
        .iter()
        .any(|r| r.trim_end().ends_with(&format!("│ {name}")))
}

#[test]
fn the_filter_and_a_mute_refuse_lines_which_show_failed_with_the_reason() {
    let server = Server::start();
    let (mut ann, mut bob) = ann_and_bob(&server);
    // Roles from room_state: the owner is an operator to everyone.
    bob.wait_until("@ann in bob's user list", |t| listed(t, "@ann"));
    ann.wait_until("@ann in ann's user list", |t| listed(t, "@ann"));

    // A guest cannot moderate: the server's refusal is said.
    bob.line("/mute ann");
    bob.wait_for("cannot mute ann in #dev:");

    // The owner turns the profanity filter on for the room.
    ann.line("/filter profanity");
    bob.wait_for("ann set the room's modes: filter profanity");
    bob.wait_for("#dev · 2 users · filter profanity");
    // The course app's case: refused, shown failed with the reason, never
    // delivered.
    bob.line("damn shitty fucking");
    bob.wait_for("damn shitty fucking ✗ not sent: the content filter refused this text");
    // A clean line with a look-alike inside goes through.
    bob.line("greetings from Scunthorpe");
    ann.wait_for("greetings from Scunthorpe");
    assert!(!ann.screen().contains("shitty"), "{}", ann.screen());

    // A mute: bob reads but cannot write; his line fails with the reason.
    ann.line("/mute bob 5m too loud");
    bob.wait_for("ann muted bob for 5 min: too loud");
    ann.wait_for("ann muted bob for 5 min: too loud");
    bob.line("can I speak");
    bob.wait_for("can I speak ✗ not sent: you are muted in");
    assert!(!ann.screen().contains("can I speak"), "{}", ann.screen());
    ann.line("/unmute bob");
    bob.wait_for("ann unmuted bob");
    bob.line("thanks");
    ann.wait_for("thanks");
}

#[test]
fn an_operator_kicks_bans_gives_roles_sets_modes_and_reads_the_log() {
    let server = Server::start();
    let (mut ann, mut bob) = ann_and_bob(&server);
    // A role given shows in both user lists.
    ann.line("/op bob");
    ann.wait_for("ann made bob an operator");
    bob.wait_until("@bob in bob's user list", |t| listed(t, "@bob"));
    ann.wait_until("@bob in ann's user list", |t| listed(t, "@bob"));
    ann.line("/deop bob");
    bob.wait_for("ann took operator from bob");
    ann.wait_until("bob without @", |t| listed(t, "bob"));

    // Modes in the status line.
    ann.line("/mode +t");
    ann.line("/slow 10");
    bob.wait_for("#dev · 2 users · +t slow 10s");

    // A kick: bob's buffer stays with the reason; he may come back.
    ann.line("/kick bob enough");
    bob.wait_for("you were kicked from #dev by ann: enough (/join dev to come back)");
    ann.wait_for("bob was kicked by ann: enough");
    ann.wait_for("bob left #dev");
    bob.line("/join dev");
    // The first "bob joined #dev" is still on ann's screen: wait for the
    // second, and for bob's own status line, or the ban can overtake the
    // rejoin (then bob is refused as banned instead of removed).
    ann.wait_until("bob joined #dev again", |t| {
        t.screen().matches("bob joined #dev").count() >= 2
    });
    bob.wait_until("bob back in #dev", |t| !t.screen().contains("not joined"));

    // A ban: out, and kept out.
    ann.line("/ban bob 1h spam");
    bob.wait_for("you were banned from #dev by ann: spam");
    ann.wait_for("ann banned bob for 1 h: spam");
    bob.line("/join dev");
    bob.wait_for("cannot join #dev: you are banned from");

    // The log, oldest first, for the operator.
    ann.line("/modlog");
    ann.wait_for("moderation log of #dev (");
    ann.wait_until("the log's lines", |t| {
        let s = t.screen();
        s.contains("  ann made bob an operator") && s.contains("  ann banned bob for 1 h: spam")
    });
}

#[test]
fn a_moderated_room_needs_voice_and_an_invite_only_room_an_invite() {
    let server = Server::start();
    let (mut ann, mut bob) = ann_and_bob(&server);
    ann.line("/mode +m");
    bob.wait_for("#dev · 2 users · +m");
    bob.line("may I");
    bob.wait_for("may I ✗ not sent:");
    ann.line("/voice bob");
    bob.wait_until("+bob in bob's user list", |t| listed(t, "+bob"));
    bob.line("now I may");
    ann.wait_for("now I may");

    // Invite-only: carol is refused until invited.
    ann.line("/mode -m+i");
    bob.wait_for("#dev · 2 users · +i");
    let mut carol = Tui::start(&server.url(), "carol", &["lobby"], WIDE);
    carol.wait_for("you joined #lobby");
    carol.line("/join dev");
    carol.wait_for("cannot join #dev:");
    ann.line("/invite carol");
    ann.wait_for("ann invited carol");
    carol.line("/join dev");
    ann.wait_for("carol joined #dev");
}
