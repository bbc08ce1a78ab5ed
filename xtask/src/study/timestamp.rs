//! Times in the CLI's files. It writes Python `datetime.now().isoformat()`:
//! naive local time, no zone, microseconds left out when zero. Other tools
//! (or a hand edit) may add an offset: `Z`, `+02:00`, `-0500`. Parsing is
//! chrono's, so an impossible date (31 February, 25:99) is refused, and
//! times are compared like with like: two naive times as they are (both
//! are this machine's local clock), two offset times as instants, and a
//! naive time against an offset one by reading the naive one as local time.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset, Local, NaiveDateTime, TimeZone};

/// Equal and ordered as instants (compared like with like, below): the
/// same moment written with two offsets is one time.
#[derive(Debug, Clone, Copy)]
pub enum Timestamp {
    Naive(NaiveDateTime),
    Offset(DateTime<FixedOffset>),
}

const NAIVE: &str = "%Y-%m-%dT%H:%M:%S%.f";

impl Timestamp {
    /// `Err` says why, for a message that names the field.
    pub fn parse(s: &str) -> Result<Timestamp, String> {
        let t = Timestamp::parse_any(s)?;
        // chrono reads second 60 as a leap second; Python's datetime has
        // none, so no CLI wrote it.
        if t.naive().and_utc().timestamp_subsec_nanos() >= 1_000_000_000 {
            return Err(format!("{s:?} is a leap second, which Python's datetime (the CLI's clock) never writes"));
        }
        Ok(t)
    }

    /// Why this time cannot be the CLI's: before 2024 (no cooperbench ran
    /// then), or more than a day after `now` (the clock of the reader).
    pub fn implausible(self, now: Timestamp) -> Option<String> {
        use chrono::Datelike;
        if self.naive().year() < 2024 {
            return Some(format!("{} is before 2024, before any cooperbench release", self.to_iso()));
        }
        (self.seconds_since(now) > 86_400.0).then(|| format!("{} is more than a day after now", self.to_iso()))
    }

    fn naive(self) -> NaiveDateTime {
        match self {
            Timestamp::Naive(n) => n,
            Timestamp::Offset(d) => d.naive_local(),
        }
    }

    fn parse_any(s: &str) -> Result<Timestamp, String> {
        // What the CLI writes, the common case (verify reads thousands):
        // chrono's own reading of `%Y-%m-%dT%H:%M:%S%.f`, no format parsed.
        if let Ok(n) = s.parse::<NaiveDateTime>() {
            return Ok(Timestamp::Naive(n));
        }
        let t = s.trim();
        // Python's isoformat(sep=" ") is as valid as the default "T".
        let t = match t.char_indices().nth(10) {
            Some((i, ' ')) => format!("{}T{}", &t[..i], &t[i + 1..]),
            _ => t.to_string(),
        };
        if let Some(clock) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
            return NaiveDateTime::parse_from_str(clock, NAIVE)
                .map(|n| Timestamp::Offset(n.and_utc().fixed_offset()))
                .map_err(|e| why(s, e));
        }
        let mut first_err = None;
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
            match DateTime::parse_from_str(&t, fmt) {
                Ok(d) => return Ok(Timestamp::Offset(d)),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        match NaiveDateTime::parse_from_str(&t, NAIVE) {
            Ok(n) => Ok(Timestamp::Naive(n)),
            // "trailing input" on the naive form means an offset was there
            // and was bad: the offset parse's message says more.
            Err(e) if e.kind() == chrono::format::ParseErrorKind::TooLong => Err(why(s, first_err.unwrap_or(e))),
            Err(e) => Err(why(s, e)),
        }
    }

    /// Formats like Python's `isoformat()`: microseconds only when non-zero.
    /// What [`Timestamp::to_iso`] writes, as numbers: equal exactly when the
    /// written times are (the local wall time to the microsecond, and the
    /// offset if any), without making the text (verify keys thousands).
    pub fn written(self) -> (i64, Option<i32>) {
        match self {
            Timestamp::Naive(n) => (n.and_utc().timestamp_micros(), None),
            Timestamp::Offset(d) => {
                // `%:z` writes hours and minutes only.
                (d.naive_local().and_utc().timestamp_micros(), Some(d.offset().local_minus_utc() / 60))
            }
        }
    }

    pub fn to_iso(self) -> String {
        let (naive, offset) = match self {
            Timestamp::Naive(n) => (n, String::new()),
            Timestamp::Offset(d) => (d.naive_local(), d.format("%:z").to_string()),
        };
        // As `%Y-%m-%dT%H:%M:%S%.6f`, written out (a format string would be
        // parsed on every call, and verify makes thousands).
        use chrono::{Datelike, Timelike};
        let (d, t) = (naive.date(), naive.time());
        let micros = naive.and_utc().timestamp_subsec_micros();
        let fraction = if micros == 0 { String::new() } else { format!(".{micros:06}") };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}{offset}",
            d.year(),
            d.month(),
            d.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    /// `micros` microseconds later.
    pub fn plus_micros(self, micros: i64) -> Timestamp {
        let d = chrono::Duration::microseconds(micros);
        match self {
            Timestamp::Naive(n) => Timestamp::Naive(n + d),
            Timestamp::Offset(o) => Timestamp::Offset(o + d),
        }
    }

    /// Seconds from `earlier` to `self`, compared like with like.
    pub fn seconds_since(self, earlier: Timestamp) -> f64 {
        let (a, b) = like_with_like(self, earlier);
        (a - b).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6
    }
}

fn why(s: &str, e: chrono::ParseError) -> String {
    format!("{s:?} is not an ISO 8601 date-time ({e})")
}

/// Both as naive local times, the CLI's own clock.
fn like_with_like(a: Timestamp, b: Timestamp) -> (NaiveDateTime, NaiveDateTime) {
    match (a, b) {
        (Timestamp::Naive(x), Timestamp::Naive(y)) => (x, y),
        (Timestamp::Offset(x), Timestamp::Offset(y)) => (x.naive_utc(), y.naive_utc()),
        (Timestamp::Naive(x), Timestamp::Offset(y)) => (local_to_utc(x), y.naive_utc()),
        (Timestamp::Offset(x), Timestamp::Naive(y)) => (x.naive_utc(), local_to_utc(y)),
    }
}

fn local_to_utc(n: NaiveDateTime) -> NaiveDateTime {
    // An ambiguous local time (the hour a clock goes back) takes its first
    // reading; a skipped one is taken as it stands.
    Local.from_local_datetime(&n).earliest().map(|d| d.naive_utc()).unwrap_or(n)
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Timestamp) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Timestamp) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Timestamp) -> Ordering {
        let (a, b) = like_with_like(*self, *other);
        a.cmp(&b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leap_second_is_refused_and_implausible_years_are_named() {
        assert!(Timestamp::parse("2026-06-30T23:59:60").unwrap_err().contains("leap second"));
        let now = Timestamp::parse("2026-12-04T10:00:00").unwrap();
        let t = |s: &str| Timestamp::parse(s).unwrap().implausible(now);
        assert_eq!(
            t("0000-01-01T00:00:00").unwrap(),
            "0000-01-01T00:00:00 is before 2024, before any cooperbench release"
        );
        assert!(t("2023-12-31T23:59:59").is_some());
        assert_eq!(t("2026-12-05T09:59:59"), None);
        assert_eq!(t("2026-12-05T10:00:01").unwrap(), "2026-12-05T10:00:01 is more than a day after now");
        assert_eq!(t("2025-03-01T12:00:00+02:00"), None);
    }

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn parses_python_isoformat() {
        let a = t("2026-01-15T10:23:45.123456");
        let b = t("2026-01-15T10:23:46");
        assert!(a < b);
        assert_eq!(a.to_iso(), "2026-01-15T10:23:45.123456");
        assert_eq!(b.to_iso(), "2026-01-15T10:23:46");
        assert_eq!(t("2026-01-15 10:23:46"), b);
        assert_eq!(t("2026-01-15T10:23:45.5").to_iso(), "2026-01-15T10:23:45.500000");
    }

    #[test]
    fn offsets_with_and_without_colon_and_z() {
        let utc = t("2026-01-15T10:00:00Z");
        assert_eq!(t("2026-01-15T12:00:00+02:00").cmp(&utc), Ordering::Equal);
        // Equality agrees with the order: one instant, two spellings.
        assert_eq!(t("2026-01-15T12:00:00+02:00"), utc);
        assert_ne!(t("2026-01-15T12:00:01+02:00"), utc);
        assert_eq!(t("2026-01-15T12:00:00+0200").cmp(&utc), Ordering::Equal);
        assert_eq!(t("2026-01-15T05:00:00-0500").cmp(&utc), Ordering::Equal);
        // -0500 is five hours, not five hundred: 04:59-0500 is before 10:00Z.
        assert!(t("2026-01-15T04:59:00-0500") < utc);
        assert_eq!(t("2026-01-15T12:00:00+02:00").to_iso(), "2026-01-15T12:00:00+02:00");
    }

    #[test]
    fn impossible_times_are_refused_with_a_reason() {
        for bad in
            ["2026-02-31T10:00:00", "2026-01-15T25:99:99", "2026-13-01T00:00:00", "yesterday", "2026-01-15T10:00:00+99"]
        {
            let e = Timestamp::parse(bad).unwrap_err();
            assert!(e.starts_with(&format!("{bad:?} is not an ISO 8601 date-time (")), "{e}");
        }
    }

    #[test]
    fn naive_times_compare_as_they_are() {
        assert!(t("2026-01-15T10:00:00") < t("2026-01-15T10:00:00.000001"));
        assert_eq!(t("2026-01-15T10:00:00").plus_micros(1_500_000).to_iso(), "2026-01-15T10:00:01.500000");
        assert_eq!(t("2026-01-15T10:00:02").seconds_since(t("2026-01-15T10:00:00.5")), 1.5);
    }

    #[test]
    fn written_keys_are_equal_exactly_when_the_written_times_are() {
        let times = [
            "2026-01-01T10:00:00",
            "2026-01-01T10:00:00.000000",
            "2026-01-01T10:00:00.5",
            "2026-01-01T10:00:00.500000",
            "2026-01-01T10:00:00.5000001",
            "2026-01-01T10:00:00Z",
            "2026-01-01T10:00:00+00:00",
            "2026-01-01T12:00:00+02:00",
            "2026-01-01T10:00:00-05:00",
            "2026-01-01T10:00:00.000001",
        ];
        for a in times {
            for b in times {
                let (ta, tb) = (Timestamp::parse(a).unwrap(), Timestamp::parse(b).unwrap());
                assert_eq!(ta.written() == tb.written(), ta.to_iso() == tb.to_iso(), "{a} vs {b}");
            }
        }
    }
}
