//! Durations as docker-compose writes them: `10s`, `1m30s`, `500ms`, `2h`.

use std::fmt::Write as _;

/// Parses a duration into milliseconds.
pub fn parse_millis(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("it is empty".into());
    }
    let mut total: u64 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("expected a number at {rest:?}"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| "the number is too large".to_owned())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "" => return Err("a unit is missing: write `10s`, `1m30s` or `500ms`".into()),
            other => return Err(format!("unknown unit `{other}`: use ms, s, m or h")),
        };
        rest = &rest[unit_len..];
        total = number
            .checked_mul(factor)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| "the duration is too long".to_owned())?;
    }
    Ok(total)
}

/// Whole seconds, rounding up, at least `min` (Kubernetes probe fields are
/// whole seconds, most of them at least 1).
pub fn ceil_seconds(millis: u64, min: u64) -> u64 {
    millis.div_ceil(1000).max(min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compose_durations() {
        assert_eq!(parse_millis("10s"), Ok(10_000));
        assert_eq!(parse_millis("1m30s"), Ok(90_000));
        assert_eq!(parse_millis("500ms"), Ok(500));
        assert_eq!(parse_millis("2h"), Ok(7_200_000));
        assert!(parse_millis("10").unwrap_err().contains("unit"));
        assert!(parse_millis("10x").unwrap_err().contains("unknown unit"));
        assert!(parse_millis("s").is_err());
        assert!(parse_millis("").is_err());
        assert_eq!(ceil_seconds(500, 1), 1);
        assert_eq!(ceil_seconds(0, 0), 0);
        assert_eq!(ceil_seconds(1500, 1), 2);
    }
}

/// Writes milliseconds as docker-compose reads them: `10s`, `1m30s`, `500ms`.
pub fn format_millis(millis: u64) -> String {
    if millis == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let (h, rest) = (millis / 3_600_000, millis % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1_000, rest % 1_000);
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s"), (ms, "ms")] {
        if n > 0 {
            let _ = write!(out, "{n}{unit}");
        }
    }
    out
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        for text in ["10s", "1m30s", "500ms", "2h", "1h1m1s1ms"] {
            assert_eq!(format_millis(parse_millis(text).unwrap()), text);
        }
        assert_eq!(format_millis(90_000), "1m30s");
    }
}
