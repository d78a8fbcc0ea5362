//! Which clock timestamps are shown in.

use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone};

/// Which clock to show times in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Local,
    /// A fixed offset, for tests and reproducible screenshots.
    Fixed(FixedOffset),
}

impl Zone {
    pub fn datetime(self, ts_ms: i64) -> Option<NaiveDateTime> {
        match self {
            Zone::Local => Local
                .timestamp_millis_opt(ts_ms)
                .earliest()
                .map(|d| d.naive_local()),
            Zone::Fixed(off) => off
                .timestamp_millis_opt(ts_ms)
                .earliest()
                .map(|d: DateTime<FixedOffset>| d.naive_local()),
        }
    }

    pub fn date(self, ts_ms: i64) -> Option<NaiveDate> {
        self.datetime(ts_ms).map(|d| d.date())
    }
}
