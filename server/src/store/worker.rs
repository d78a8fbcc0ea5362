//! The store thread: takes requests in groups, writes every append of a
//! group in one transaction, commits, then tells the rooms; answers reads
//! after the group's writes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use protocol::Seq;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::mpsc;

use super::{AGE_SWEEP, Committed, MAX_GROUP, Record, Request, RoomStart, StoreError};
use crate::frame::Page;

pub(super) struct Worker {
    pub(super) conn: Connection,
    pub(super) retain_messages: Option<u64>,
    pub(super) retain_age: Option<Duration>,
    pub(super) last_sweep: Instant,
}

impl Worker {
    pub(super) fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        // What aged out while the server was down goes before anyone reads.
        self.sweep_by_age();
        let mut group = Vec::with_capacity(64);
        while let Some(first) = rx.blocking_recv() {
            group.push(first);
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
            self.handle_group(&mut group);
        }
    }

    fn handle_group(&mut self, group: &mut Vec<Request>) {
        let mut appends = Vec::new();
        let mut reads = Vec::new();
        for request in group.drain(..) {
            match request {
                Request::Append { record, notify } => appends.push((record, notify)),
                other => reads.push(other),
            }
        }
        if !appends.is_empty() {
            let started = Instant::now();
            let result = self.write(&appends);
            crate::metrics::store_commit(started.elapsed());
            if let Err(e) = &result {
                tracing::error!(error = %e, "could not store messages");
            }
            // Tell each room once, with the highest seq of this group.
            let mut upto: HashMap<&str, (Seq, &mpsc::UnboundedSender<Committed>)> = HashMap::new();
            for (record, notify) in &appends {
                let Some(notify) = notify else { continue };
                let entry = upto.entry(&record.room).or_insert((0, notify));
                entry.0 = entry.0.max(record.seq);
            }
            for (_, (seq, notify)) in upto {
                let _ = notify.send(Committed {
                    upto: seq,
                    ok: result.is_ok(),
                });
            }
        }
        for request in reads {
            match request {
                Request::Start {
                    room,
                    recent,
                    reply,
                } => {
                    let _ = reply.send(self.start(&room, recent));
                }
                Request::Page {
                    room,
                    after,
                    upto,
                    limit,
                    reply,
                } => {
                    let _ = reply.send(self.page(&room, after, upto, limit));
                }
                Request::Dms { user, limit, reply } => {
                    let _ = reply.send(self.dms(&user, limit));
                }
                Request::Append { .. } => {}
                #[cfg(test)]
                Request::Hold { held, until } => {
                    let _ = held.send(());
                    let _ = until.blocking_recv();
                }
            }
        }
        self.sweep_by_age_if_due();
    }

    fn write(
        &mut self,
        appends: &[(Record, Option<mpsc::UnboundedSender<Committed>>)],
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut last: HashMap<&str, Seq> = HashMap::new();
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (room, seq, ts, sender_key, client_id, frame)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (r, _) in appends {
                insert.execute(params![
                    &*r.room,
                    r.seq as i64,
                    r.ts,
                    r.sender_key,
                    r.client_id,
                    r.frame.as_str()
                ])?;
                let e = last.entry(&r.room).or_insert(0);
                *e = (*e).max(r.seq);
            }
            // The latest topic by number wins, whatever order groups come in.
            let mut topic = tx.prepare_cached(
                "INSERT INTO topics (room, seq, text) VALUES (?1, ?2, ?3)
                 ON CONFLICT (room) DO UPDATE SET seq = excluded.seq, text = excluded.text
                 WHERE excluded.seq > topics.seq",
            )?;
            for (r, _) in appends {
                if let Some(text) = &r.topic {
                    topic.execute(params![&*r.room, r.seq as i64, text])?;
                }
            }
            let mut bump = tx.prepare_cached(
                "INSERT INTO rooms (name, last_seq) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
            )?;
            let mut trim = tx.prepare_cached("DELETE FROM events WHERE room = ?1 AND seq <= ?2")?;
            for (room, seq) in &last {
                bump.execute(params![room, *seq as i64])?;
                if let Some(keep) = self.retain_messages
                    && *seq > keep
                {
                    trim.execute(params![room, (*seq - keep) as i64])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn start(&self, room: &str, recent: usize) -> Result<RoomStart, StoreError> {
        let last_seq: i64 = self
            .conn
            .query_row(
                "SELECT last_seq FROM rooms WHERE name = ?1",
                params![room],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        let mut stmt = self.conn.prepare_cached(
            "SELECT sender_key, client_id, seq FROM events WHERE room = ?1 ORDER BY seq DESC LIMIT ?2",
        )?;
        let recent = stmt
            .query_map(params![room, recent as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as Seq,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let topic: Option<String> = self
            .conn
            .query_row(
                "SELECT text FROM topics WHERE room = ?1",
                params![room],
                |r| r.get(0),
            )
            .optional()?;
        Ok(RoomStart {
            last_seq: last_seq.max(0) as Seq,
            recent,
            topic,
        })
    }

    fn dms(&self, user: &str, limit: usize) -> Result<Vec<(String, Seq)>, StoreError> {
        // Keys are `@a+b` with ids that contain no LIKE wildcard but `_`,
        // escaped here.
        let id = user.replace('_', "\\_");
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.name, r.last_seq FROM rooms r
             WHERE r.name LIKE '@' || ?1 || '+%' ESCAPE '\\' OR r.name LIKE '@%+' || ?1 ESCAPE '\\'
             ORDER BY (SELECT max(ts) FROM events e WHERE e.room = r.name) DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![id, limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as Seq))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn page(&self, room: &str, after: Seq, upto: Seq, limit: u32) -> Result<Page, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, frame FROM events WHERE room = ?1 AND seq > ?2 AND seq <= ?3
             ORDER BY seq DESC LIMIT ?4",
        )?;
        let mut rows = stmt
            .query_map(
                params![room, after as i64, upto as i64, i64::from(limit)],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )?
            .collect::<Result<Vec<_>, _>>()?;
        rows.reverse();
        let first = rows.first().map(|(s, _)| *s).unwrap_or(upto as i64 + 1);
        let more: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM events WHERE room = ?1 AND seq < ?2)",
            params![room, first],
            |r| r.get(0),
        )?;
        Ok(Page {
            frames: rows.into_iter().map(|(_, f)| f).collect(),
            more,
        })
    }

    /// Deletes messages past the retention age, at most once per
    /// [`AGE_SWEEP`] (and once when the store opens).
    fn sweep_by_age_if_due(&mut self) {
        if self.last_sweep.elapsed() >= AGE_SWEEP {
            self.sweep_by_age();
        }
    }

    fn sweep_by_age(&mut self) {
        let Some(age) = self.retain_age else { return };
        self.last_sweep = Instant::now();
        let cutoff = crate::clock::now_ms() - age.as_millis() as i64;
        match self
            .conn
            .execute("DELETE FROM events WHERE ts < ?1", params![cutoff])
        {
            Ok(n) if n > 0 => {
                tracing::info!(deleted = n, "deleted messages past the retention age")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "retention sweep failed"),
        }
    }
}
