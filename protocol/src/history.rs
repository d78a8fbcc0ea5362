//! Building `history` frames from events that are already serialized, so a
//! server can replay stored frames without decoding and encoding them again,
//! and can split an answer that is too large for one frame into parts.

/// The JSON text of one `history` frame holding `events` (each the JSON
/// text of one `message` or `location` event). Decodes to
/// [`crate::ServerEvent::History`] with `continues: false`.
pub fn history_frame(room: &str, events: &[&str], more: bool, missed: u64) -> String {
    Part::new(room, more, missed).build(events, false)
}

/// The `history` frames of one answer: `events` (oldest first) split into as
/// few parts as possible, each at most `max_bytes` long, in order. Every
/// part carries `more` and `missed`; every part but the last has
/// `"continues":true`. No events give one empty frame.
///
/// A single event too large to fit a part on its own still gets a part of
/// its own (longer than `max_bytes`): events are never dropped or cut. The
/// server's limits keep every event far below its frame bound.
pub fn history_frames(
    room: &str,
    events: &[&str],
    more: bool,
    missed: u64,
    max_bytes: usize,
) -> Vec<String> {
    let part = Part::new(room, more, missed);
    // Room left for events in a part that continues (the longest envelope).
    let room_for_events = max_bytes.saturating_sub(part.envelope_len(true));
    let mut frames = Vec::new();
    let mut start = 0;
    while start < events.len() {
        let mut end = start + 1;
        let mut used = events[start].len();
        while end < events.len() && used + 1 + events[end].len() <= room_for_events {
            used += 1 + events[end].len();
            end += 1;
        }
        frames.push(part.build(&events[start..end], end < events.len()));
        start = end;
    }
    if frames.is_empty() {
        frames.push(part.build(&[], false));
    }
    frames
}

/// What every part of one answer has in common.
struct Part {
    /// `{"type":"history","room":"dev","events":[`
    head: String,
    /// `],"more":true,"missed":12`
    tail: String,
}

const CONTINUES: &str = ",\"continues\":true";

impl Part {
    fn new(room: &str, more: bool, missed: u64) -> Self {
        let mut head = String::from("{\"type\":\"history\",\"room\":");
        head.push_str(&crate::encode(&room));
        head.push_str(",\"events\":[");
        let mut tail = String::from("],\"more\":");
        tail.push_str(if more { "true" } else { "false" });
        if missed > 0 {
            tail.push_str(",\"missed\":");
            tail.push_str(&missed.to_string());
        }
        Part { head, tail }
    }

    /// Bytes of a part besides its events and the commas between them.
    fn envelope_len(&self, continues: bool) -> usize {
        self.head.len() + self.tail.len() + if continues { CONTINUES.len() } else { 0 } + 1
    }

    fn build(&self, events: &[&str], continues: bool) -> String {
        let events_len: usize = events.iter().map(|e| e.len() + 1).sum();
        let mut out = String::with_capacity(self.envelope_len(continues) + events_len);
        out.push_str(&self.head);
        for (i, e) in events.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(e);
        }
        out.push_str(&self.tail);
        if continues {
            out.push_str(CONTINUES);
        }
        out.push('}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ServerEvent;

    fn message(seq: u64, text: &str) -> String {
        crate::encode(&ServerEvent::Message {
            room: "dev".into(),
            seq,
            ts: 5,
            from: "ann".into(),
            user: "u_3f9a1c0e5b7d2468".into(),
            id: format!("m{seq}"),
            text: text.into(),
            action: false,
        })
    }

    fn decode(frame: &str) -> (Vec<ServerEvent>, bool, u64, bool) {
        match crate::decode_server(frame).expect("part decodes") {
            ServerEvent::History {
                events,
                more,
                missed,
                continues,
                ..
            } => (events, more, missed, continues),
            other => panic!("not a history: {other:?}"),
        }
    }

    #[test]
    fn a_small_answer_is_one_frame() {
        let events = [message(1, "a"), message(2, "b")];
        let refs: Vec<&str> = events.iter().map(String::as_str).collect();
        let frames = history_frames("dev", &refs, true, 3, 1 << 20);
        assert_eq!(frames, vec![history_frame("dev", &refs, true, 3)]);
        let (got, more, missed, continues) = decode(&frames[0]);
        assert_eq!((got.len(), more, missed, continues), (2, true, 3, false));
    }

    #[test]
    fn a_large_answer_is_split_in_order_within_the_bound() {
        let events: Vec<String> = (1..=40).map(|n| message(n, &"x".repeat(300))).collect();
        let refs: Vec<&str> = events.iter().map(String::as_str).collect();
        let max = 2_000;
        let frames = history_frames("dev", &refs, false, 0, max);
        assert!(frames.len() > 5, "{} frames", frames.len());
        let mut seqs = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            assert!(frame.len() <= max, "part {i} is {} bytes", frame.len());
            let (got, more, missed, continues) = decode(frame);
            assert_eq!((more, missed), (false, 0));
            assert_eq!(continues, i + 1 < frames.len(), "part {i}");
            seqs.extend(got.iter().map(|e| match e {
                ServerEvent::Message { seq, .. } => *seq,
                _ => 0,
            }));
        }
        assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    }

    #[test]
    fn no_events_is_one_empty_frame_and_an_oversized_event_gets_its_own() {
        assert_eq!(
            history_frames("dev", &[], true, 0, 10),
            vec![history_frame("dev", &[], true, 0)]
        );
        let big = message(1, &"y".repeat(500));
        let small = message(2, "z");
        let frames = history_frames("dev", &[&big, &small], false, 0, 300);
        assert_eq!(frames.len(), 2);
        assert_eq!(decode(&frames[0]).0.len(), 1);
        assert!(decode(&frames[0]).3, "the first part continues");
    }
}
