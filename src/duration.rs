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

/// Parses a Prometheus duration (`15s`, `1m30s`, `15d`, `2w`, `1y`) into
/// milliseconds. Prometheus wants the units from largest to smallest, each
/// once, and has days (24h), weeks (7d) and years (365d), which compose
/// durations lack.
pub fn parse_prometheus_millis(text: &str) -> Result<u64, String> {
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let t = text.trim();
    if t.is_empty() {
        return Err("it is empty".into());
    }
    let mut total: u64 = 0;
    let mut rest = t;
    let mut last = None;
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
        let unit = &rest[..unit_len];
        let Some(index) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(if unit.is_empty() {
                "a unit is missing: write `15s`, `1m30s` or `15d`".into()
            } else {
                format!("unknown unit `{unit}`: use ms, s, m, h, d, w or y")
            });
        };
        if last.is_some_and(|l| index <= l) {
            return Err("write the units from the largest to the smallest, each once".into());
        }
        last = Some(index);
        rest = &rest[unit_len..];
        total = number
            .checked_mul(UNITS[index].1)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| "the duration is too long".to_owned())?;
    }
    Ok(total)
}

#[cfg(test)]
mod prometheus_tests {
    use super::*;

    #[test]
    fn parses_prometheus_durations() {
        assert_eq!(parse_prometheus_millis("15s"), Ok(15_000));
        assert_eq!(parse_prometheus_millis("1m30s"), Ok(90_000));
        assert_eq!(parse_prometheus_millis("15d"), Ok(15 * 86_400_000));
        assert_eq!(parse_prometheus_millis("2w"), Ok(14 * 86_400_000));
        assert_eq!(parse_prometheus_millis("1y"), Ok(365 * 86_400_000));
        assert!(
            parse_prometheus_millis("30s1m")
                .unwrap_err()
                .contains("largest")
        );
        assert!(parse_prometheus_millis("1s1s").is_err());
        assert!(parse_prometheus_millis("15").unwrap_err().contains("unit"));
        assert!(parse_prometheus_millis("15 days").is_err());
        assert!(parse_prometheus_millis("").is_err());
    }
}
