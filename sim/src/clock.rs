//! The CLI's clock, as the simulator writes it.

/// The CLI's clock: naive local time, formatted by Python's `isoformat()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timestamp(chrono::NaiveDateTime);

impl Timestamp {
    pub(crate) fn now() -> Timestamp {
        Timestamp(chrono::Local::now().naive_local())
    }

    /// Microseconds only when non-zero, as `isoformat()` does.
    pub(crate) fn to_iso(self) -> String {
        use chrono::Timelike;
        let fmt = if self.0.nanosecond() / 1000 == 0 { "%Y-%m-%dT%H:%M:%S" } else { "%Y-%m-%dT%H:%M:%S%.6f" };
        self.0.format(fmt).to_string()
    }

    pub(crate) fn plus_micros(self, micros: i64) -> Timestamp {
        Timestamp(self.0 + chrono::Duration::microseconds(micros))
    }

    pub(crate) fn seconds_since(self, earlier: Timestamp) -> f64 {
        (self.0 - earlier.0).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6
    }
}
