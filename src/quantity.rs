//! Kubernetes resource quantities (`500m`, `0.5`, `512Mi`, `1G`), and their
//! docker-compose equivalents.

/// A CPU amount in millicores.
pub fn cpu_millis(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if let Some(m) = t.strip_suffix('m') {
        return m
            .parse::<u64>()
            .map_err(|_| format!("`{text}` is not a CPU amount: write `500m`, `1` or `0.5`"));
    }
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(whole) || whole.is_empty() && digits(frac)) || !(frac.is_empty() || digits(frac)) {
        return Err(format!(
            "`{text}` is not a CPU amount: write `500m`, `1` or `0.5`"
        ));
    }
    if frac.len() > 3 {
        return Err(format!(
            "`{text}` is finer than a millicore; write it in `m`"
        ));
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole
            .parse()
            .map_err(|_| format!("`{text}` is too large"))?
    };
    let frac_millis: u64 = format!("{frac:0<3}").parse().unwrap_or(0);
    whole
        .checked_mul(1000)
        .and_then(|w| w.checked_add(frac_millis))
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// A memory amount in bytes.
pub fn memory_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, suffix) = t.split_at(split);
    let factor: u64 = match suffix {
        "" => 1,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        _ => {
            return Err(format!(
                "`{text}` is not a memory amount: write a whole number with a suffix like `512Mi` or `1Gi`"
            ));
        }
    };
    if number.is_empty() {
        return Err(format!("`{text}` has no number"));
    }
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu() {
        assert_eq!(cpu_millis("500m"), Ok(500));
        assert_eq!(cpu_millis("1"), Ok(1000));
        assert_eq!(cpu_millis("0.5"), Ok(500));
        assert_eq!(cpu_millis(".25"), Ok(250));
        assert_eq!(cpu_millis("2.125"), Ok(2125));
        assert!(cpu_millis("0.0001").is_err());
        assert!(cpu_millis("half").is_err());
        assert!(cpu_millis("1.").is_ok());
    }

    #[test]
    fn memory() {
        assert_eq!(memory_bytes("512Mi"), Ok(512 << 20));
        assert_eq!(memory_bytes("1G"), Ok(1_000_000_000));
        assert_eq!(memory_bytes("1024"), Ok(1024));
        assert!(memory_bytes("1.5Gi").is_err());
        assert!(memory_bytes("Mi").is_err());
        assert!(memory_bytes("12MB").is_err());
    }
}

/// A CPU amount for docker-compose's `cpus`: `0.5`, `1`, `2.25`.
pub fn compose_cpus(millis: u64) -> String {
    let whole = millis / 1000;
    let frac = millis % 1000;
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{}", format!("{frac:03}").trim_end_matches('0'))
    }
}

/// A memory amount for docker-compose (binary units): `512M`, `2G`, or bytes.
pub fn compose_memory(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    if bytes.is_multiple_of(GIB) {
        format!("{}G", bytes / GIB)
    } else if bytes.is_multiple_of(MIB) {
        format!("{}M", bytes / MIB)
    } else {
        bytes.to_string()
    }
}

#[cfg(test)]
mod compose_tests {
    use super::*;

    #[test]
    fn compose_forms() {
        assert_eq!(compose_cpus(500), "0.5");
        assert_eq!(compose_cpus(1000), "1");
        assert_eq!(compose_cpus(2250), "2.25");
        assert_eq!(compose_cpus(1), "0.001");
        assert_eq!(compose_memory(512 << 20), "512M");
        assert_eq!(compose_memory(2 << 30), "2G");
        assert_eq!(compose_memory(1_000_000_000), "1000000000");
    }
}

/// A size as Prometheus's `--storage.tsdb.retention.size` reads it: a whole
/// number and one of B, KB, MB, GB, TB, PB (powers of 1024), in bytes.
pub fn prometheus_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let shift = match unit {
        "B" => 0,
        "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        "TB" => 40,
        "PB" => 50,
        _ => {
            return Err(format!(
                "`{text}` is not a size Prometheus reads: write a whole number and B, KB, MB, GB, TB or PB, like `18GB`"
            ));
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` has no number, or one too large"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod prometheus_tests {
    use super::*;

    #[test]
    fn prometheus_sizes() {
        assert_eq!(prometheus_bytes("18GB"), Ok(18 << 30));
        assert_eq!(prometheus_bytes("512MB"), Ok(512 << 20));
        assert_eq!(prometheus_bytes("1B"), Ok(1));
        assert!(prometheus_bytes("18Gi").is_err());
        assert!(prometheus_bytes("GB").is_err());
        assert!(prometheus_bytes("1.5GB").is_err());
    }
}
