//! Test vectors for clients written in other languages (the page's
//! `protocol.js`): cases run through this crate's rules (validation, map
//! links, mentions) with the verdict each rule gives. A client's own tests
//! replay every case and must reach the same verdict, so no copy of a rule
//! can drift from the one here.
//!
//! The files under `vectors/` are written by this test and committed; it
//! fails when a committed file differs from what the crate says now (a rule
//! changed, or a case was added). Rewrite them with
//! `UPDATE_VECTORS=1 cargo test -p protocol --test vectors` and review the
//! diff. `vectors/outbox.json` is written by hand and not touched here.
//!
//! The files are plain ASCII: every other character is written as a JSON
//! `\uXXXX` escape, so no invisible or direction-changing character hides in
//! them. A long input is a list of parts, each a string or
//! `{"repeat": S, "times": N}`, to be joined.

use std::path::PathBuf;

use protocol::error::ValidationError;
use protocol::{maps, mention, names, validate};
use serde_json::{Value, json};

// ------------------------------------------------------------------ inputs

/// One piece of an input: a string, or a string repeated.
#[derive(Clone)]
enum Part {
    Text(String),
    Repeat(String, usize),
}

/// A test input, written compactly when it is long.
#[derive(Clone)]
struct Input(Vec<Part>);

impl Input {
    fn text(&self) -> String {
        self.0
            .iter()
            .map(|part| match part {
                Part::Text(s) => s.clone(),
                Part::Repeat(s, n) => s.repeat(*n),
            })
            .collect()
    }

    fn json(&self) -> Value {
        match self.0.as_slice() {
            [Part::Text(s)] => json!(s),
            parts => parts
                .iter()
                .map(|part| match part {
                    Part::Text(s) => json!(s),
                    Part::Repeat(s, n) => json!({"repeat": s, "times": n}),
                })
                .collect(),
        }
    }
}

fn s(text: &str) -> Input {
    Input(vec![Part::Text(text.into())])
}

fn rep(text: &str, times: usize) -> Input {
    Input(vec![Part::Repeat(text.into(), times)])
}

fn cat(parts: &[Input]) -> Input {
    Input(parts.iter().flat_map(|p| p.0.clone()).collect())
}

// ---------------------------------------------------------------- verdicts

/// Why a rule refused, finer than the wire code, so a client can word its
/// message. No wildcard: a new reason does not compile until it is named.
fn why(err: &ValidationError) -> &'static str {
    match err {
        ValidationError::NameEmpty => "name_empty",
        ValidationError::NameTooLong { .. } => "name_too_long",
        ValidationError::NameForbiddenChar(_) => "name_forbidden_char",
        ValidationError::NameOnlyMarks => "name_only_marks",
        ValidationError::RoomEmpty => "room_empty",
        ValidationError::RoomTooLong { .. } => "room_too_long",
        ValidationError::RoomForbiddenChar(_) => "room_forbidden_char",
        ValidationError::TextEmpty => "text_empty",
        ValidationError::TextTooLong { .. } => "text_too_long",
        ValidationError::LatitudeOutOfRange(_) => "latitude_out_of_range",
        ValidationError::LongitudeOutOfRange(_) => "longitude_out_of_range",
        ValidationError::BadRequestId { .. } => "bad_request_id",
        ValidationError::TopicTooLong { .. } => "topic_too_long",
        ValidationError::TopicForbiddenChar(_) => "topic_forbidden_char",
        ValidationError::ReasonTooLong { .. } => "reason_too_long",
        ValidationError::ReasonForbiddenChar(_) => "reason_forbidden_char",
    }
}

/// `{"ok": value}` (`true` when the rule returns nothing) or
/// `{"error": code, "why": reason}`, merged into `case`.
fn verdict(mut case: Value, result: Result<Option<String>, ValidationError>) -> Value {
    let fields = case.as_object_mut().expect("a case is an object");
    match result {
        Ok(Some(value)) => fields.insert("ok".into(), json!(value)),
        Ok(None) => fields.insert("ok".into(), json!(true)),
        Err(e) => {
            fields.insert("error".into(), json!(e.code().as_str()));
            fields.insert("why".into(), json!(why(&e)))
        }
    };
    case
}

fn text_cases(
    inputs: &[Input],
    rule: impl Fn(&str) -> Result<Option<String>, ValidationError>,
) -> Value {
    inputs
        .iter()
        .map(|input| verdict(json!({"input": input.json()}), rule(&input.text())))
        .collect()
}

/// A coordinate as JSON: a number, or "NaN", "Infinity", "-Infinity",
/// which JSON has no numbers for.
fn coordinate(v: f64) -> Value {
    match v {
        v if v.is_nan() => json!("NaN"),
        v if v.is_infinite() => json!(if v > 0.0 { "Infinity" } else { "-Infinity" }),
        v => json!(v),
    }
}

/// The code points for which `class` holds, as inclusive `[first, last]`
/// ranges: a whole character class in a few numbers, checked by clients
/// against every code point.
fn ranges(class: impl Fn(char) -> bool) -> Value {
    let mut out: Vec<[u32; 2]> = Vec::new();
    for c in (0..=0x10FFFF)
        .filter_map(char::from_u32)
        .filter(|&c| class(c))
    {
        let cp = c as u32;
        match out.last_mut() {
            Some(last) if last[1] + 1 == cp => last[1] = cp,
            _ => out.push([cp, cp]),
        }
    }
    json!(out)
}

// ------------------------------------------------------------------ cases

fn hostile_names() -> Vec<Input> {
    let mut names: Vec<Input> = [
        "ann",
        "  ann  ",
        "\tann\n",
        "Zoë 🦀",
        "<b>hal</b>",
        "",
        "   ",
        "\u{85}ann\u{85}",
        "\u{a0}ann\u{3000}",
        "\u{2028}ann\u{2029}",
        "\u{feff}ann",
        "ann\u{feff}",
        "\u{180e}ann",
        "\u{200b}ann",
        "a\u{200b}b",
        "a\u{200d}b",
        "a\u{200e}b",
        "a\u{202e}b",
        "a\u{2066}b",
        "a\u{2069}b",
        "a\u{61c}b",
        "a\u{0}b",
        "a\u{7}b",
        "a\nb",
        "a\u{1b}[31mb",
        "a\u{7f}b",
        "a\u{80}b",
        "a\u{9f}b",
        "a\u{a0}b",
        "a\u{ad}b",
        "a\u{34f}b",
        "a\u{115f}b",
        "a\u{17b4}b",
        "a\u{2027}b",
        "a\u{2028}b",
        "a\u{202f}b",
        "a\u{205f}b",
        "a\u{2060}b",
        "a\u{206f}b",
        "a\u{2070}b",
        "a\u{3164}b",
        "a\u{ffa0}b",
        "a\u{fff9}b",
        "a\u{fffc}b",
        "a\u{1d173}b",
        "a\u{e0001}b",
        "a\u{e0041}b",
        "a\u{e0fff}b",
        "a\u{e1000}b",
        "a\u{10ffff}b",
        "ǅemo",
        "İris",
    ]
    .into_iter()
    .map(s)
    .collect();
    names.extend([
        rep("a", 31),
        rep("a", 32),
        rep("a", 33),
        cat(&[s(" "), rep("a", 32), s(" ")]),
        cat(&[s("\u{85}"), rep("a", 32), s("\u{3000}")]),
        rep("é", 32),
        rep("é", 33),
        rep("日", 32),
        rep("日", 33),
        rep("🦀", 32),
        rep("🦀", 33),
        rep("e\u{301}", 16),
        rep("e\u{301}", 17),
        rep("👩‍👩‍👧", 1),
        rep("👩‍👩‍👧", 2),
    ]);
    names
}

fn hostile_rooms() -> Vec<Input> {
    let mut rooms: Vec<Input> = [
        "dev",
        "dev-ops_2",
        "0",
        "-",
        "_",
        "",
        "Dev",
        "a b",
        "#dev",
        " dev",
        "dev\n",
        "dév",
        "dev.ops",
        "dev/ops",
        "\u{212a}elvin",
        "ｄｅｖ",
        "dev\u{200b}",
        "dev\u{202e}",
        "🦀",
    ]
    .into_iter()
    .map(s)
    .collect();
    rooms.extend([rep("r", 31), rep("r", 32), rep("r", 33), rep("🦀", 33)]);
    rooms
}

fn typed_rooms() -> Vec<Input> {
    let mut rooms: Vec<Input> = [
        "dev",
        "#Dev",
        " #Dev ",
        "DEV",
        "##dev",
        "#",
        "",
        "  ",
        "# dev",
        "\u{212a}elvin",
        "#\u{130}",
        "\u{85}dev\u{85}",
        "\u{feff}dev",
        "\u{3000}#ops\u{3000}",
        "ΣΑΣ",
        "Dev Ops",
    ]
    .into_iter()
    .map(s)
    .collect();
    rooms.extend([cat(&[s("#"), rep("R", 32)]), cat(&[s("#"), rep("R", 33)])]);
    rooms
}

fn hostile_texts() -> Vec<Input> {
    let mut texts: Vec<Input> = [
        "hello",
        "<img src=x onerror=alert(1)>",
        "",
        " ",
        " \n\t\r ",
        "\u{b}\u{c}",
        "\u{85}",
        "\u{a0}",
        "\u{1680}",
        "\u{2000}\u{200a}",
        "\u{2028}\u{2029}",
        "\u{202f}\u{205f}\u{3000}",
        "\u{feff}",
        "\u{180e}",
        "\u{200b}",
        "\u{0}",
        "\u{1c}\u{1d}\u{1e}\u{1f}",
        "a\u{202e}b",
        "\u{1b}]0;title\u{7}",
    ]
    .into_iter()
    .map(s)
    .collect();
    texts.extend([
        rep("x", 3999),
        rep("x", 4000),
        rep("x", 4001),
        rep("日", 4000),
        rep("日", 4001),
        rep("🦀", 4000),
        rep("🦀", 4001),
        rep("e\u{301}", 2000),
        rep("e\u{301}", 2001),
        cat(&[rep("x", 3999), s("🦀")]),
        cat(&[rep("x", 4000), s(" ")]),
        cat(&[rep(" ", 4001)]),
        cat(&[s(" "), rep("x", 3998), s(" ")]),
    ]);
    texts
}

fn hostile_ids() -> Vec<Input> {
    let mut ids: Vec<Input> = [
        "1",
        "m-1",
        "3f9a01-17",
        "a b",
        " ",
        "",
        "a\u{0}",
        "a\tb",
        "a\u{7f}",
        "a\u{202e}",
        "\u{200b}",
        "a\u{feff}",
        "🦀",
    ]
    .into_iter()
    .map(s)
    .collect();
    ids.extend([
        rep("i", 63),
        rep("i", 64),
        rep("i", 65),
        rep("é", 64),
        rep("é", 65),
        rep("🦀", 64),
        rep("🦀", 65),
    ]);
    ids
}

fn hostile_locations() -> Vec<(f64, f64)> {
    vec![
        (51.5007, -0.1246),
        (0.0, 0.0),
        (-0.0, -0.0),
        (90.0, 180.0),
        (-90.0, -180.0),
        (90.000_000_1, 0.0),
        (-90.000_000_1, 0.0),
        (0.0, 180.000_000_1),
        (0.0, -180.000_000_1),
        (91.0, 181.0),
        (f64::NAN, 0.0),
        (0.0, f64::NAN),
        (f64::INFINITY, 0.0),
        (f64::NEG_INFINITY, 0.0),
        (0.0, f64::INFINITY),
        (0.0, f64::NEG_INFINITY),
        (f64::MIN_POSITIVE, -f64::MIN_POSITIVE),
        (5e-324, -5e-324),
        (1e308, 0.0),
        (-1e308, 0.0),
    ]
}

fn map_positions() -> Vec<(f64, f64)> {
    vec![
        (51.5007, -0.1246),
        (48.8584, 2.2945),
        (-33.8688, 151.2093),
        (40.6892, -74.0445),
        (0.0, 0.0),
        (-0.0, -0.0),
        (90.0, 180.0),
        (-90.0, -180.0),
        // Exactly halfway between two 6-decimal values: ties go to even.
        (0.007_812_5, -0.007_812_5),
        (0.023_437_5, 0.039_062_5),
        (89.007_812_5, -179.007_812_5),
        // Close to halfway, but not exactly.
        (0.000_000_5, -0.000_000_5),
        (179.999_999_5, -179.999_999_5),
        (0.000_001_5, 12.345_678_5),
        (1e-7, -1e-7),
        (5e-324, -5e-324),
        (89.999_999_999_9, -0.000_000_999_9),
    ]
}

fn mention_cases() -> Vec<(Input, &'static str)> {
    let mut cases: Vec<(Input, &'static str)> = [
        ("hi Ann!", "ann"),
        ("ann: look, ANN", "ann"),
        ("hé zoë", "Zoë"),
        ("fine thanks @ann", "ann"),
        ("bob@ann", "ann"),
        ("@@ann", "ann"),
        ("@ann @ANN's", "ann"),
        ("annabel and joanne", "ann"),
        ("ann_b ann-marie jo-ann 2ann ann2 ann²", "ann"),
        ("(ann) ann. ann, «ann»", "ann"),
        ("\u{202e}ann\u{202c} ann\u{200b}", "ann"),
        ("a\u{301}nn ánn", "ann"),
        ("ping [b0t] now", "[b0t]"),
        ("axb a.b", "a.b"),
        ("ΣΟΦΙΑ and σοφια", "Σοφία"),
        ("ΣΟΦΊΑ!", "σοφία"),
        ("ΣΑΣ σας", "ΣΑΣ"),
        ("日本語 日本 語", "日本"),
        ("İi and i\u{307}i", "i\u{307}i"),
        ("I i", "i\u{307}"),
        ("SS ß ẞ", "ß"),
        ("I ı", "ı"),
        ("hi 🦀! 🦀🦀", "🦀"),
        ("ann", ""),
        ("", "ann"),
        ("an", "ann"),
        ("<b>ann</b>", "ann"),
        ("<b>ann</b>", "<b>ann</b>"),
    ]
    .into_iter()
    .map(|(text, name)| (s(text), name))
    .collect();
    cases.push((rep("ann, ", 40), "ann"));
    cases.push((cat(&[rep("x", 3990), s(" @Ann")]), "ann"));
    cases
}

// ------------------------------------------------------------------ files

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// JSON with every character outside printable ASCII escaped.
fn ascii(value: &Value) -> String {
    let mut out = String::new();
    for c in value.to_string().chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// A case on one line, its fields in reading order: what goes in, then
/// what comes out.
fn case(value: &Value) -> String {
    const ORDER: [&str; 13] = [
        "input",
        "names",
        "text",
        "name",
        "latitude",
        "longitude",
        "ok",
        "key",
        "error",
        "why",
        "marked",
        "ranges",
        "openstreetmap",
    ];
    let Value::Object(fields) = value else {
        return ascii(value);
    };
    let rank = |key: &str| ORDER.iter().position(|k| *k == key).unwrap_or(ORDER.len());
    let mut keys: Vec<&String> = fields.keys().collect();
    keys.sort_by_key(|k| rank(k));
    let parts: Vec<String> = keys
        .iter()
        .map(|k| format!("{}:{}", ascii(&json!(k)), ascii(&fields[k.as_str()])))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// One section per top-level key, arrays with one case per line, so a
/// changed verdict is a one-line diff.
fn render(sections: &[(&str, Value)]) -> String {
    let mut out = String::from("{\n");
    for (i, (key, value)) in sections.iter().enumerate() {
        out.push_str(&format!("  {}: ", ascii(&json!(key))));
        match value {
            Value::Array(items) if !items.is_empty() => {
                out.push_str("[\n");
                let lines: Vec<String> = items.iter().map(|v| format!("    {}", case(v))).collect();
                out.push_str(&lines.join(",\n"));
                out.push_str("\n  ]");
            }
            Value::Object(fields) if key.ends_with("classes") => {
                out.push_str("{\n");
                let lines: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("    {}: {}", ascii(&json!(k)), ascii(v)))
                    .collect();
                out.push_str(&lines.join(",\n"));
                out.push_str("\n  }");
            }
            other => out.push_str(&ascii(other)),
        }
        out.push_str(if i + 1 < sections.len() { ",\n" } else { "\n" });
    }
    out.push_str("}\n");
    out
}

/// Writes the file with `UPDATE_VECTORS` set; otherwise fails when the
/// committed file differs from `expected`.
fn write_or_check(file: &str, sections: &[(&str, Value)]) {
    let expected = render(sections);
    let path = vectors_dir().join(file);
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::write(&path, &expected).expect("write the vector file");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != expected {
        let first = committed
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(expected.lines().count()));
        panic!(
            "protocol/vectors/{file} is not what the protocol crate says now (first difference on line {}); \
             rewrite it with UPDATE_VECTORS=1 cargo test -p protocol --test vectors, and review the diff",
            first + 1
        );
    }
}

#[test]
fn validation_vectors() {
    use protocol::limits::*;
    let owned = |r: Result<&str, ValidationError>| r.map(|v| Some(v.to_owned()));
    let none = |r: Result<(), ValidationError>| r.map(|()| None);
    let locations: Value = hostile_locations()
        .into_iter()
        .map(|(lat, lon)| {
            let case = json!({"latitude": coordinate(lat), "longitude": coordinate(lon)});
            verdict(case, none(validate::location(lat, lon)))
        })
        .collect();
    write_or_check(
        "validation.json",
        &[
            (
                "about",
                json!(
                    "Cases for protocol::validate, written by protocol/tests/vectors.rs: each input with the verdict the rule gives, \
                     {\"ok\": the accepted value, or true} or {\"error\": wire code, \"why\": the finer reason}. \
                     An input is a string or a list of parts to join (a string, or {\"repeat\": S, \"times\": N}). \
                     typed_rooms go through normalize_room first. Coordinates are numbers or \"NaN\", \"Infinity\", \"-Infinity\". \
                     char_classes list, as inclusive [first, last] code point ranges, every character a rule treats specially: \
                     invisible_or_control (forbidden in names and ids), bidi_control (removed from shown text) and \
                     white_space (what trimming removes)."
                ),
            ),
            (
                "limits",
                json!({
                    "max_name_chars": MAX_NAME_CHARS,
                    "max_room_chars": MAX_ROOM_CHARS,
                    "max_text_chars": MAX_TEXT_CHARS,
                    "max_request_id_chars": MAX_REQUEST_ID_CHARS,
                }),
            ),
            (
                "names",
                text_cases(&hostile_names(), |t| owned(validate::display_name(t))),
            ),
            (
                "rooms",
                text_cases(&hostile_rooms(), |t| owned(validate::room_name(t))),
            ),
            (
                "typed_rooms",
                text_cases(&typed_rooms(), |t| {
                    let room = validate::normalize_room(t);
                    owned(validate::room_name(&room))
                }),
            ),
            (
                "texts",
                text_cases(&hostile_texts(), |t| none(validate::message_text(t))),
            ),
            (
                "request_ids",
                text_cases(&hostile_ids(), |t| none(validate::request_id(t))),
            ),
            ("locations", locations),
            (
                "char_classes",
                json!({
                    "invisible_or_control": ranges(validate::is_invisible_or_control),
                    "bidi_control": ranges(validate::is_bidi_control),
                    "white_space": ranges(char::is_whitespace),
                }),
            ),
        ],
    );
}

#[test]
fn map_vectors() {
    let cases: Value = map_positions()
        .into_iter()
        .map(|(lat, lon)| {
            json!({
                "latitude": lat,
                "longitude": lon,
                "openstreetmap": maps::openstreetmap_url(lat, lon),
                "google": maps::google_maps_url(lat, lon),
            })
        })
        .collect();
    write_or_check(
        "maps.json",
        &[
            (
                "about",
                json!(
                    "Cases for protocol::maps, written by protocol/tests/vectors.rs: the links a client builds for a shared \
                     position. Coordinates have 6 decimals, rounded from the exact value of the number, ties to even."
                ),
            ),
            ("cases", cases),
        ],
    );
}

#[test]
fn mention_vectors() {
    let cases: Value = mention_cases()
        .into_iter()
        .map(|(input, name)| {
            let text = input.text();
            let found = mention::mention_ranges(&text, name);
            let chars = |byte: usize| text[..byte].chars().count();
            let marked: Vec<&str> = found.iter().map(|r| &text[r.clone()]).collect();
            let ranges: Vec<[usize; 2]> = found
                .iter()
                .map(|r| [chars(r.start), chars(r.end)])
                .collect();
            json!({"text": input.json(), "name": name, "marked": marked, "ranges": ranges})
        })
        .collect();
    write_or_check(
        "mention.json",
        &[
            (
                "about",
                json!(
                    "Cases for protocol::mention, written by protocol/tests/vectors.rs: where a text mentions a name. \
                     marked lists the mentioned pieces of text; ranges the same as [start, end) in characters \
                     (Unicode scalar values). A text is a string or a list of parts, as in validation.json."
                ),
            ),
            ("cases", cases),
        ],
    );
}

/// Names and their keys: every look-alike of the issue that reported them
/// (each must be refused, or have the key of the name it imitates), and
/// ordinary names that must stay apart.
fn name_cases() -> Vec<Input> {
    [
        "ann",
        "Ann",
        " ANN ",
        "\u{0430}nn",
        "ann\u{FE0F}",
        "ann\u{FE00}",
        "ann\u{2800}",
        "ann\u{1BCA0}",
        "ann\u{0600}",
        "ann\u{E0100}",
        "\u{FF41}\u{FF4E}\u{FF4E}",
        "\u{1D41A}\u{1D427}\u{1D427}",
        "\u{1D4B6}\u{1D4C3}\u{1D4C3}",
        "jos\u{00E9}",
        "jose\u{0301}",
        "Jos\u{00C9}",
        "anne",
        "an",
        "paypal",
        "\u{0440}\u{0430}\u{0443}\u{0440}\u{0430}l",
        "rn",
        "m",
        "Zo\u{00EB} \u{1F980}",
        "\u{674E}\u{5C0F}\u{9F8D}",
        "ann\u{E000}",
        "ann\u{0378}",
        "ann\u{FFFF}",
        "\u{0301}\u{0308}",
        "a\u{0301}",
        "ann\u{200D}",
        "ann\u{00AD}",
        "\u{3164}",
    ]
    .into_iter()
    .map(s)
    .collect()
}

#[test]
fn names_vectors() {
    let cases: Value = name_cases()
        .into_iter()
        .map(|input| {
            let case = json!({"input": input.json()});
            match names::normalize(&input.text()) {
                Ok(name) => {
                    let mut case = case;
                    case["ok"] = json!(name);
                    case["key"] = json!(names::name_key(&name));
                    case
                }
                Err(e) => verdict(case, Err(e)),
            }
        })
        .collect();
    // Every look-alike of "ann" the issue lists is refused or is "ann".
    for alike in [
        "Ann",
        "\u{0430}nn",
        "ann\u{FE0F}",
        "ann\u{FE00}",
        "ann\u{2800}",
        "ann\u{1BCA0}",
        "ann\u{0600}",
        "\u{FF41}\u{FF4E}\u{FF4E}",
        "\u{1D41A}\u{1D427}\u{1D427}",
    ] {
        if let Ok(name) = names::normalize(alike) {
            assert_eq!(names::name_key(&name), "ann", "{alike:?} is ann");
        }
    }
    let nfc = names::normalize("jos\u{00E9}").expect("a name");
    let nfd = names::normalize("jose\u{0301}").expect("a name");
    assert_eq!((&nfc, names::name_key(&nfc)), (&nfd, names::name_key(&nfd)));
    write_or_check(
        "names.json",
        &[
            (
                "about",
                json!(
                    "Cases for protocol::names, written by protocol/tests/vectors.rs: a name as typed; ok is the name \
                     as kept (NFC, trimmed) and key the key it is unique under (the UTS #39 skeleton of the \
                     lower-cased name, lower-cased); or error and why, as in validation.json. Two names with one \
                     key are one name."
                ),
            ),
            ("cases", cases),
        ],
    );
}

/// The format survives a round trip: what the files say is what the cases
/// are (a guard against an escaping mistake in `ascii`).
#[test]
fn vector_files_are_ascii_json() {
    for (input, _) in mention_cases() {
        let written = ascii(&input.json());
        assert!(
            written.bytes().all(|b| (0x20..0x7f).contains(&b)),
            "{written}"
        );
        let back: Value = serde_json::from_str(&written).expect("valid JSON");
        assert_eq!(back, input.json());
    }
}

/// Topics and away reasons: the same rules with their own limits.
fn hostile_topics() -> Vec<Input> {
    vec![
        s(""),
        s("   "),
        s("  ship it  "),
        s("Zo\u{eb} \u{1f980}"),
        rep("x", 200),
        rep("\u{65e5}", 200),
        rep("x", 201),
        cat(&[s(" "), rep("x", 200), s(" ")]),
        s("line\nbreak"),
        s("tab\there"),
        s("a\u{202e}b"),
        s("a\u{200b}b"),
        s("\u{feff}x"),
    ]
}

/// Direct-message keys and room names as a request's `room`.
fn conversation_keys() -> Vec<Input> {
    let (ann, bob) = ("u_3f9a1c0e5b7d2468", "u_9e04b7f3d1681c2a");
    vec![
        s(&format!("@{ann}+{bob}")),
        s(&format!("@{bob}+{ann}")),
        s(&format!("@{ann}+{ann}")),
        s(&format!("@{ann}")),
        s(&format!("@{ann}+{bob}+{bob}")),
        s("@u_3F9A1C0E5B7D2468+u_9e04b7f3d1681c2a"),
        s("@u_3f9a1c0e5b7d246+u_9e04b7f3d1681c2a"),
        s("@"),
        s("@dev"),
        s("dev"),
        s("Dev"),
        s(""),
    ]
}

#[test]
fn conversation_vectors() {
    use protocol::{dm, limits::*};
    let owned = |r: Result<&str, ValidationError>| r.map(|v| Some(v.to_owned()));
    let (ann, bob) = ("u_3f9a1c0e5b7d2468", "u_9e04b7f3d1681c2a");
    let peers: Value = [ann, bob, "u_0000000000000000"]
        .iter()
        .map(|me| {
            let room = dm::key(bob, ann);
            json!({"input": room, "name": me, "ok": dm::peer(&room, me)})
        })
        .collect();
    write_or_check(
        "conversations.json",
        &[
            (
                "about",
                json!(
                    "Cases for the conversation rules of the protocol crate, written by protocol/tests/vectors.rs: \
                     topics (validate::topic), away_reasons (validate::away_reason), conversations \
                     (validate::conversation: a room name or a direct-message key @<uid>+<uid>, ids sorted), \
                     peers (dm::peer: the other id of the key input as seen by name, or null). \
                     Verdicts and inputs as in validation.json."
                ),
            ),
            (
                "limits",
                json!({
                    "max_topic_chars": MAX_TOPIC_CHARS,
                    "max_away_chars": MAX_AWAY_CHARS,
                    "max_welcome_dms": MAX_WELCOME_DMS,
                    "max_listed_rooms": MAX_LISTED_ROOMS,
                }),
            ),
            (
                "topics",
                text_cases(&hostile_topics(), |t| owned(validate::topic(t))),
            ),
            (
                "away_reasons",
                text_cases(&hostile_topics(), |t| owned(validate::away_reason(t))),
            ),
            (
                "conversations",
                text_cases(&conversation_keys(), |t| owned(validate::conversation(t))),
            ),
            ("peers", peers),
        ],
    );
}
