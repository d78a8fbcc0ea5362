//! Tests of the `layout` module.

use super::*;
use crate::theme::ColorMode;
use chrono::FixedOffset;

fn fmt() -> Format<'static> {
    Format {
        clock: Clock::H12,
        zone: Zone::Fixed(FixedOffset::east_opt(0).unwrap()),
        theme: Theme::new(ColorMode::None),
        me: "ann",
    }
}

fn texts(rows: &[Vec<Cell<'_>>]) -> Vec<String> {
    rows.iter()
        .map(|r| r.iter().map(|c| c.text).collect())
        .collect()
}

fn plain(s: &str) -> Vec<Seg> {
    vec![seg(s, Style::default())]
}

#[test]
fn wraps_at_spaces() {
    let segs = plain("the quick brown fox");
    assert_eq!(texts(&wrap(&segs, 10)), ["the quick ", "brown fox"]);
}

#[test]
fn breaks_long_words() {
    let segs = plain("abcdefghij");
    assert_eq!(texts(&wrap(&segs, 4)), ["abcd", "efgh", "ij"]);
}

#[test]
fn wide_characters_never_straddle_rows() {
    // Each of these is two columns wide: three fit in 7 columns.
    let segs = plain("日本語日本");
    let rows = wrap(&segs, 7);
    assert_eq!(texts(&rows), ["日本語", "日本"]);
    for r in &rows {
        assert!(r.iter().map(|c| c.width).sum::<usize>() <= 7);
    }
    let segs = plain("ok 👩‍👩‍👧👍 done");
    let rows = wrap(&segs, 4);
    assert_eq!(texts(&rows), ["ok ", "👩‍👩‍👧👍", "done"]);
}

#[test]
fn a_carried_word_never_overflows_the_next_row() {
    // Carrying "abcd" past the space would leave no room for the wide
    // character after it: the word breaks in place instead.
    let segs = plain(" abcd日");
    let rows = wrap(&segs, 5);
    assert_eq!(texts(&rows), [" abcd", "日"]);
    for r in &rows {
        assert!(r.iter().map(|c| c.width).sum::<usize>() <= 5);
    }
}

#[test]
fn newlines_start_rows() {
    assert_eq!(texts(&wrap(&plain("a\nb"), 10)), ["a", "b"]);
}

#[test]
fn twelve_and_twenty_four_hour_clocks() {
    // 2026-11-02 15:07 UTC
    let ts = 1_793_632_020_000;
    let mut f = fmt();
    assert_eq!(f.time(ts), "3:07 PM");
    f.clock = Clock::H24;
    assert_eq!(f.time(ts), "15:07");
    f.zone = Zone::Fixed(FixedOffset::east_opt(9 * 3600).unwrap());
    assert_eq!(f.time(ts), "00:07");
}

#[test]
fn date_separators_when_the_day_changes() {
    let day = 86_400_000;
    let entries = vec![
        Entry::new(1_793_632_020_000, EntryKind::Notice("a".into())),
        Entry::new(1_793_632_020_000 + 60_000, EntryKind::Notice("b".into())),
        Entry::new(1_793_632_020_000 + day, EntryKind::Notice("c".into())),
    ];
    let f = fmt();
    let heights: Vec<usize> = (0..3)
        .map(|i| entry_rows(&entries, i, 60, &f).len())
        .collect();
    assert_eq!(heights, [2, 1, 2]);
}

#[test]
fn locations_link_both_maps_whole_or_by_a_short_label() {
    let entries = vec![Entry::new(
        0,
        EntryKind::Location {
            from: "bob".into(),
            latitude: 51.5007,
            longitude: -0.1246,
        },
    )];
    let osm =
        "https://www.openstreetmap.org/?mlat=51.500700&mlon=-0.124600#map=16/51.500700/-0.124600";
    let google = "https://www.google.com/maps?q=51.500700,-0.124600";
    let links = |width| -> Vec<Vec<RowLink>> {
        entry_rows(&entries, 0, width, &fmt())
            .into_iter()
            .map(|r| r.links)
            .collect()
    };
    // Wide: each address whole, on a row of its own (after the date
    // and the coordinates).
    let wide = links(120);
    assert_eq!(wide.len(), 4);
    assert_eq!(
        wide[2],
        [RowLink {
            column: 24,
            text: osm.into(),
            url: osm.into()
        }]
    );
    assert_eq!(
        wide[3],
        [RowLink {
            column: 24,
            text: google.into(),
            url: google.into()
        }]
    );
    // 80 columns: the long one by its label, the short one whole, one
    // link each.
    let narrow = links(68);
    assert_eq!(narrow.len(), 4);
    let texts: Vec<(&str, &str)> = narrow[2..]
        .iter()
        .flatten()
        .map(|l| (l.text.as_str(), l.url.as_str()))
        .collect();
    assert_eq!(texts, [("openstreetmap.org", osm), (google, google)]);
    // Whatever the width, no address is ever cut into pieces.
    for width in 20..160 {
        for row in links(width) {
            for l in row {
                assert!(
                    l.text == l.url || !l.text.starts_with("http"),
                    "{width}: {l:?}"
                );
            }
        }
    }
}

#[test]
fn narrow_panes_put_the_name_inline() {
    let entries = vec![Entry::new(
        0,
        EntryKind::Message {
            from: "bob".into(),
            text: "hello there".into(),
            action: false,
            mention: false,
        },
    )];
    let rows = entry_rows(&entries, 0, 30, &fmt());
    let text: String = rows[1]
        .line
        .spans
        .iter()
        .map(|s| s.content.as_ref())
        .collect();
    assert_eq!(text, "12:00 AM bob: hello there");
}

#[test]
fn long_names_are_cut_visibly() {
    assert_eq!(fit_right("bob", 5), "  bob");
    assert_eq!(fit_right("bartholomew", 5), "bart+");
}

#[test]
fn a_mention_is_highlighted_with_its_at_sign_by_the_protocol_rule() {
    let f = fmt();
    let segs = text_segs("fine thanks @Ann, and annabel", true, &f);
    let marked: Vec<&str> = segs
        .iter()
        .filter(|s| s.style == f.theme.mention())
        .map(|s| s.text.as_str())
        .collect();
    assert_eq!(marked, ["@Ann"]);
    let all: String = segs.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(all, "fine thanks @Ann, and annabel");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Message text as the app holds it: whatever was sent, cleaned.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,200}",
            "[a-z @日👩‍👩‍👧\u{301}\n\t\u{1b}]{0,120}",
            Just("x".repeat(400)),
        ]
        .prop_map(|raw| crate::sanitize::message_text(&raw))
    }

    fn entry() -> impl Strategy<Value = Entry> {
        let name = "[a-zA-Z日é]{1,32}";
        let ts = 0i64..4_000_000_000_000;
        prop_oneof![
            (ts.clone(), name, text(), any::<bool>(), any::<bool>()).prop_map(
                |(ts, from, text, action, mention)| Entry::new(
                    ts,
                    EntryKind::Message {
                        from,
                        text,
                        action,
                        mention
                    }
                )
            ),
            (ts.clone(), name, -90.0..90.0f64, -180.0..180.0f64).prop_map(
                |(ts, from, latitude, longitude)| Entry::new(
                    ts,
                    EntryKind::Location {
                        from,
                        latitude,
                        longitude
                    }
                )
            ),
            (ts.clone(), text()).prop_map(|(ts, t)| Entry::new(ts, EntryKind::Notice(t))),
            // Rules are the app's own labels.
            ts.prop_map(|ts| Entry::new(ts, EntryKind::Rule(crate::app::HISTORY_RULE.into()))),
        ]
    }

    fn row_text(row: &Row) -> String {
        row.line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    proptest! {
        /// Any entry in any pane of 20 columns or more (narrower ones are
        /// clipped by the terminal): no panic, no row wider than the pane,
        /// no control character reaches the screen, and every visible
        /// character of a message's text is on its rows, in order.
        #[test]
        fn rows_fit_the_pane_and_keep_the_text(
            entries in proptest::collection::vec(entry(), 1..4),
            width in 20usize..160,
        ) {
            let f = fmt();
            for index in 0..entries.len() {
                let rows = entry_rows(&entries, index, width, &f);
                prop_assert!(!rows.is_empty());
                for row in &rows {
                    let shown = row_text(row);
                    prop_assert!(row.line.width() <= width, "{:?} is wider than {}", shown, width);
                    prop_assert!(!shown.chars().any(char::is_control), "{:?}", shown);
                }
                if let EntryKind::Message { text, .. } = &entries[index].kind {
                    let all: String = rows.iter().map(row_text).collect();
                    let mut rest = all.chars();
                    for c in text.chars().filter(|c| !c.is_whitespace()) {
                        prop_assert!(rest.any(|r| r == c), "{:?} lost from {:?} in {:?}", c, text, all);
                    }
                }
            }
        }
    }
}
