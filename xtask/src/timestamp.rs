//! The CLI writes Python `datetime.now().isoformat()`: local time, no zone,
//! microseconds omitted when zero. Parsed into a comparable number so that
//! stale evals can be found without a date crate.

/// Microseconds since 1970-01-01 in whatever clock the CLI used. An explicit
/// offset (`Z`, `+02:00`) is honoured when present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        let (date, rest) = s.split_at_checked(10)?;
        let mut d = date.split('-');
        let year: i64 = d.next()?.parse().ok()?;
        let month: i64 = d.next()?.parse().ok()?;
        let day: i64 = d.next()?.parse().ok()?;
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        let rest = rest.strip_prefix(['T', ' '])?;
        let (clock, offset_min) = split_offset(rest)?;
        let (hms, frac) = match clock.split_once('.') {
            Some((hms, frac)) => (hms, frac),
            None => (clock, ""),
        };
        let mut t = hms.split(':');
        let h: i64 = t.next()?.parse().ok()?;
        let m: i64 = t.next()?.parse().ok()?;
        let sec: i64 = t.next().unwrap_or("0").parse().ok()?;
        let mut micros: i64 = 0;
        if !frac.is_empty() {
            if !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let padded = format!("{frac:0<6}");
            micros = padded[..6].parse().ok()?;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + h * 3600 + m * 60 + sec - offset_min * 60;
        Some(Timestamp(secs * 1_000_000 + micros))
    }

    pub fn from_unix_micros(us: i64) -> Timestamp {
        Timestamp(us)
    }

    /// Formats like Python's `isoformat()` of a naive datetime.
    pub fn to_iso(self) -> String {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
        let s = secs.rem_euclid(86_400);
        let base = format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
        if micros == 0 {
            base
        } else {
            format!("{base}.{micros:06}")
        }
    }

    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp(d.as_micros() as i64)
    }
}

fn split_offset(s: &str) -> Option<(&str, i64)> {
    if let Some(clock) = s.strip_suffix('Z') {
        return Some((clock, 0));
    }
    if let Some(pos) = s.rfind(['+', '-']) {
        let (clock, off) = s.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':').unwrap_or((&off[1..], "0"));
        return Some((clock, sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?)));
    }
    Some((s, 0))
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_python_isoformat() {
        let a = Timestamp::parse("2026-01-15T10:23:45.123456").unwrap();
        let b = Timestamp::parse("2026-01-15T10:23:46").unwrap();
        assert!(a < b);
        assert_eq!(a.to_iso(), "2026-01-15T10:23:45.123456");
        assert_eq!(b.to_iso(), "2026-01-15T10:23:46");
        assert_eq!(Timestamp::parse("2026-01-15T12:00:00+02:00"), Timestamp::parse("2026-01-15T10:00:00"));
        assert_eq!(Timestamp::parse("1970-01-01T00:00:00Z"), Some(Timestamp(0)));
        assert_eq!(Timestamp::parse("yesterday"), None);
        assert_eq!(Timestamp::parse("2026-13-01T00:00:00"), None);
    }
}
