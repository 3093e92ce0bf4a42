//! The sandbox clock (real time plus a test-controlled offset) and Datadog's timestamp format.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Real time shifted forward by what the test asked for with `Sandbox::advance`.
#[derive(Default, Debug)]
pub(super) struct Clock {
    offset: Duration,
}

impl Clock {
    pub(super) fn now(&self) -> SystemTime {
        SystemTime::now() + self.offset
    }

    pub(super) fn advance(&mut self, by: Duration) {
        self.offset += by;
    }

    /// Seconds since the Unix epoch (intake timestamps are in seconds).
    pub(super) fn unix_secs(&self) -> i64 {
        unix_secs(self.now())
    }

    /// Milliseconds since the Unix epoch (a log entry's `timestamp`).
    pub(super) fn unix_ms(&self) -> i64 {
        match self.now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
        }
    }
}

pub(super) fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// RFC 3339 in the shape Datadog uses for API keys: `2021-05-06T16:32:07.411970+00:00`.
/// Times before 1970 are shown as the epoch (the sandbox never produces them).
pub(super) fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // d is in 1..=31 and m in 1..=12 by construction.
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000+00:00");
        let t = UNIX_EPOCH + Duration::new(1_620_318_727, 411_970_000);
        assert_eq!(rfc3339(t), "2021-05-06T16:32:07.411970+00:00");
        // A leap day and the end of a century year.
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000000+00:00"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(4_107_542_399)),
            "2100-02-28T23:59:59.000000+00:00"
        );
    }

    #[test]
    fn advance_moves_now() {
        let mut c = Clock::default();
        let before = c.unix_secs();
        c.advance(Duration::from_secs(3600));
        assert!(c.unix_secs() >= before + 3600);
    }
}
