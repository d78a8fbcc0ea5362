//! End-to-end, the real `chat-tui` in a pseudo-terminal against the real
//! server: messages of several lines, the user list at 80 columns, map
//! links, and notices that go.

#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is a failed test

mod harness;

use harness::*;

const NARROW: (u16, u16) = (80, 24);

#[test]
fn a_pasted_message_keeps_its_lines() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    ann.wait_for("bob joined #dev");
    // A bracketed paste of three lines: nothing is sent until Enter.
    ann.send("\x1b[200~first pasted line\r\nsecond pasted line\nthird\x1b[201~");
    ann.wait_until("the input area to grow to three rows", |t| {
        let rows = t.rows();
        let n = rows.len();
        rows[n - 3].contains("first pasted line")
            && rows[n - 2].contains("second pasted line")
            && rows[n - 1].contains("third")
    });
    // Alt-Enter adds a fourth line, Enter sends the message.
    ann.send("\x1b\r");
    ann.send("fourth");
    ann.send("\r");
    bob.wait_until("the message on four rows in a row", |t| {
        let rows = t.rows();
        rows.iter()
            .position(|r| r.contains("first pasted line"))
            .is_some_and(|i| {
                rows.get(i + 1)
                    .is_some_and(|r| r.contains("second pasted line"))
                    && rows.get(i + 2).is_some_and(|r| r.contains("third"))
                    && rows.get(i + 3).is_some_and(|r| r.contains("fourth"))
            })
    });
    // The input area is one row again.
    ann.wait_until("the input area back to one row", |t| {
        let rows = t.rows();
        rows[rows.len() - 1].trim_end() == "[dev]"
    });
}

#[test]
fn at_80_columns_the_text_gets_the_width_and_links_stay_whole() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], NARROW);
    ann.wait_for("you joined #dev");
    let bob = Tui::start(&server.url(), "bob", &["dev"], NARROW);
    ann.wait_for("bob joined #dev");
    assert!(!ann.screen().contains("2 here"), "{}", ann.screen());
    ann.line("/location 48.8584 2.2945");
    let google = "https://www.google.com/maps?q=48.858400,2.294500";
    let osm =
        "https://www.openstreetmap.org/?mlat=48.858400&mlon=2.294500#map=16/48.858400/2.294500";
    bob.wait_for("shared a location: 48.858400, 2.294500");
    // The address that fits a row is there whole, on one row.
    bob.wait_for(google);
    bob.wait_for("openstreetmap.org ·");
    // Each is one hyperlink to its whole address.
    bob.wait_until("both hyperlinks", |t| {
        t.recorder(|r| r.hyperlinks.iter().any(|h| h == osm))
            && t.recorder(|r| r.hyperlinks.iter().any(|h| h == google))
    });
    // F2 shows the user list at this width too.
    ann.send("\x1bOQ"); // F2
    ann.wait_for("2 here");
}

#[test]
fn an_error_notice_goes_with_the_next_action() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev", "ops"], WIDE);
    ann.wait_for("you joined #dev");
    ann.line("/frobnicate");
    ann.wait_for("unknown command /frobnicate");
    ann.send("\x1b2"); // Alt-2
    ann.wait_for("[ops]");
    ann.wait_until("the notice to go", |t| {
        !t.screen().contains("unknown command /frobnicate")
    });
}
