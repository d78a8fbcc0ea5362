//! The `history` frames a room sends: to a joiner after `room_state`, and
//! in answer to a `history` request.
//!
//! Only messages already delivered here are read; anything newer reaches
//! the member live. That is what makes "no gap, no duplicate" hold on join
//! and resume. Stored frames are concatenated into `history` frames, not
//! decoded and encoded again; an answer longer than the server's frame
//! bound is split into several frames (`continues`), so no client is ever
//! sent a frame larger than the `max_server_frame_bytes` it was promised.

use protocol::{ErrorCode, Seq, ServerEvent};

use super::Resume;
use super::log::{LogError, MessageLog};
use super::task::Room;
use crate::frame::{Frame, Page};

impl<L: MessageLog> Room<L> {
    /// The `history` frames for a joiner: exactly what it missed if it is
    /// resuming within the same epoch and bound, else the latest page (with
    /// the count it missed, if it was resuming).
    pub(super) async fn history_for_joiner(&self, resume: &Resume) -> Result<Vec<Frame>, LogError> {
        let upto = self.members.delivered();
        let since = match (&resume.since, &resume.epoch) {
            (Some(since), Some(epoch)) if epoch == self.log.epoch() && *since <= upto => {
                Some(*since)
            }
            _ => None,
        };
        let (after, limit, missed) = match since {
            Some(since) if upto - since <= self.limits.resume => (since, (upto - since) as u32, 0),
            Some(since) => (0, self.limits.on_join, upto - since),
            None => (0, self.limits.on_join, 0),
        };
        let page = if limit == 0 {
            Page::default()
        } else {
            self.page(after, upto, limit).await?
        };
        let missed = missed.saturating_sub(page.frames.len() as u64);
        // A complete resume has nothing older to offer beyond what the
        // client had; otherwise older pages can be asked for.
        let more = if since.is_some() && missed == 0 {
            false
        } else {
            page.more
        };
        Ok(self.history_frames(&page, more, missed))
    }

    /// Answers a `history` request: up to `limit` messages before `before`.
    pub(super) async fn history(
        &mut self,
        connection_id: u64,
        request_id: String,
        before: Seq,
        limit: u32,
    ) {
        let Some(member) = self.members.get(connection_id) else {
            return;
        };
        let outbound = member.outbound.clone();
        let limit = limit.clamp(1, protocol::limits::MAX_HISTORY_PAGE);
        let upto = before.saturating_sub(1).min(self.members.delivered());
        match self.page(0, upto, limit).await {
            Ok(page) => {
                let queued = self
                    .history_frames(&page, page.more, 0)
                    .into_iter()
                    .try_for_each(|frame| outbound.push(frame));
                let _ = queued.and_then(|()| outbound.send(&ServerEvent::ack_ok(request_id, None)));
            }
            Err(_) => {
                let _ = outbound.send(&ServerEvent::ack_err(
                    request_id,
                    ErrorCode::Unavailable,
                    UNREADABLE,
                ));
            }
        }
    }

    /// A page of the log, with a failure logged.
    async fn page(&self, after: Seq, upto: Seq, limit: u32) -> Result<Page, LogError> {
        self.log.page(after, upto, limit).await.inspect_err(|e| {
            tracing::warn!(room = %self.members.room(), error = %e, "history read failed");
        })
    }

    fn history_frames(&self, page: &Page, more: bool, missed: u64) -> Vec<Frame> {
        let events: Vec<&str> = page.frames.iter().map(String::as_str).collect();
        protocol::history_frames(
            self.members.room(),
            &events,
            more,
            missed,
            protocol::limits::MAX_SERVER_FRAME_BYTES,
        )
        .into_iter()
        .map(Frame::from_text)
        .collect()
    }
}

/// What a client hears when the room's history cannot be read.
pub(super) const UNREADABLE: &str = "could not read the room's history; try again";
