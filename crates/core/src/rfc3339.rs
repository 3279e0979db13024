//! RFC 3339 timestamps for `--at`, without a date-time dependency:
//! `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` in, Unix seconds out, and back.

const SECONDS_PER_DAY: i64 = 86_400;

/// Parses an RFC 3339 date-time (`2030-01-01T00:00:00Z`, `2030-01-01T02:00:00+02:00`)
/// into seconds since the Unix epoch. A fraction of a second is accepted and dropped.
pub fn parse_rfc3339(text: &str) -> Result<u64, String> {
    let fail = |why: &str| {
        format!(
            "{text:?} is not an RFC 3339 time ({why}); use e.g. 2030-01-01T00:00:00Z or 2030-01-01T02:00:00+02:00"
        )
    };
    let mut c = Cursor::new(text);
    let year = c.number(4).ok_or_else(|| fail("expected a 4-digit year"))?;
    c.literal(b'-')
        .ok_or_else(|| fail("expected '-' after the year"))?;
    let month = c
        .number(2)
        .ok_or_else(|| fail("expected a 2-digit month"))?;
    c.literal(b'-')
        .ok_or_else(|| fail("expected '-' after the month"))?;
    let day = c.number(2).ok_or_else(|| fail("expected a 2-digit day"))?;
    c.one_of(b"Tt")
        .ok_or_else(|| fail("expected 'T' between date and time"))?;
    let hour = c.number(2).ok_or_else(|| fail("expected a 2-digit hour"))?;
    c.literal(b':')
        .ok_or_else(|| fail("expected ':' after the hour"))?;
    let minute = c
        .number(2)
        .ok_or_else(|| fail("expected 2-digit minutes"))?;
    c.literal(b':')
        .ok_or_else(|| fail("expected ':' after the minutes"))?;
    let second = c
        .number(2)
        .ok_or_else(|| fail("expected 2-digit seconds"))?;
    if c.literal(b'.').is_some() && c.digits() == 0 {
        return Err(fail("expected digits after '.'"));
    }
    let offset = match c.one_of(b"Zz+-") {
        Some(b'Z' | b'z') => 0,
        Some(sign) => {
            let hours = c
                .number(2)
                .ok_or_else(|| fail("expected a 2-digit offset hour"))?;
            c.literal(b':')
                .ok_or_else(|| fail("expected ':' in the offset"))?;
            let minutes = c
                .number(2)
                .ok_or_else(|| fail("expected 2-digit offset minutes"))?;
            if hours > 23 || minutes > 59 {
                return Err(fail("the offset is out of range"));
            }
            let seconds = i64::from(hours * 3600 + minutes * 60);
            if sign == b'-' { -seconds } else { seconds }
        }
        None => return Err(fail("expected 'Z' or an offset like +02:00 after the time")),
    };
    if !c.at_end() {
        return Err(fail("unexpected text after the offset"));
    }
    if !(1..=12).contains(&month) {
        return Err(fail("the month is out of range"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(fail("no such day in that month"));
    }
    // 60 is a leap second; it counts as the first second of the next minute.
    if hour > 23 || minute > 59 || second > 60 {
        return Err(fail("the time of day is out of range"));
    }
    let days = days_from_civil(i64::from(year), month, day);
    let unix = days * SECONDS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second) - offset;
    u64::try_from(unix).map_err(|_| fail("it is before 1970-01-01T00:00:00Z"))
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(unix: u64) -> String {
    let unix = i64::try_from(unix).unwrap_or(i64::MAX);
    let days = unix.div_euclid(SECONDS_PER_DAY);
    let secs = unix.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Reads ASCII fields off the front of the input.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            rest: text.as_bytes(),
        }
    }

    /// Exactly `n` decimal digits.
    fn number(&mut self, n: usize) -> Option<u32> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        if !head.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.rest = tail;
        Some(head.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0')))
    }

    /// Skips any number of digits and says how many.
    fn digits(&mut self) -> usize {
        let n = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        self.rest = self.rest.get(n..).unwrap_or_default();
        n
    }

    fn literal(&mut self, expected: u8) -> Option<()> {
        self.one_of(&[expected]).map(|_| ())
    }

    fn one_of(&mut self, allowed: &[u8]) -> Option<u8> {
        let (&first, tail) = self.rest.split_first()?;
        if !allowed.contains(&first) {
            return None;
        }
        self.rest = tail;
        Some(first)
    }

    fn at_end(&self) -> bool {
        self.rest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_and_offsets() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2001-09-09T01:46:40Z"), Ok(1_000_000_000));
        assert_eq!(parse_rfc3339("2001-09-09t01:46:40z"), Ok(1_000_000_000));
        assert_eq!(
            parse_rfc3339("2001-09-09T03:46:40+02:00"),
            Ok(1_000_000_000)
        );
        assert_eq!(
            parse_rfc3339("2001-09-08T20:16:40-05:30"),
            Ok(1_000_000_000)
        );
        assert_eq!(
            parse_rfc3339("2001-09-09T01:46:40-00:00"),
            Ok(1_000_000_000)
        );
        assert_eq!(parse_rfc3339("2001-09-09T01:46:40.999Z"), Ok(1_000_000_000));
        assert_eq!(parse_rfc3339("2038-01-19T03:14:08Z"), Ok(1 << 31));
    }

    #[test]
    fn knows_leap_years_and_leap_seconds() {
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Ok(1_709_164_800));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Ok(951_782_400));
        assert!(parse_rfc3339("2023-02-29T00:00:00Z").is_err());
        assert!(parse_rfc3339("1900-02-29T00:00:00Z").is_err());
        assert_eq!(
            parse_rfc3339("2016-12-31T23:59:60Z"),
            parse_rfc3339("2017-01-01T00:00:00Z")
        );
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "2030-01-01",
            "2030-01-01T00:00:00",
            "2030-01-01 00:00:00Z",
            "2030-1-01T00:00:00Z",
            "2030-01-01T00:00Z",
            "2030-13-01T00:00:00Z",
            "2030-00-01T00:00:00Z",
            "2030-04-31T00:00:00Z",
            "2030-01-00T00:00:00Z",
            "2030-01-01T24:00:00Z",
            "2030-01-01T00:60:00Z",
            "2030-01-01T00:00:61Z",
            "2030-01-01T00:00:00.Z",
            "2030-01-01T00:00:00+0200",
            "2030-01-01T00:00:00+24:00",
            "2030-01-01T00:00:00+02:60",
            "2030-01-01T00:00:00Z ",
            "2030-01-01T00:00:00ZZ",
            "+030-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:30:00+01:00",
            "２０３０-01-01T00:00:00Z",
            "1700000000",
        ] {
            let e = parse_rfc3339(bad).expect_err(bad);
            assert!(e.contains("RFC 3339"), "{bad}: {e}");
        }
    }

    #[test]
    fn formats_back() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59Z",
            "2024-12-31T12:34:56Z",
            "2100-03-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            let unix = parse_rfc3339(text).expect(text);
            assert_eq!(format_rfc3339(unix), text);
        }
        assert_eq!(format_rfc3339(1_000_000_000), "2001-09-09T01:46:40Z");
    }
}
