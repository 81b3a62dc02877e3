//! Cron expressions as the Kubernetes CronJob controller reads them: five
//! fields (minute, hour, day of month, month, day of week), each `*`, a
//! number, a range `a-b`, a step `*/n` or `a-b/n`, or a list of these
//! separated by `,`; months and days of the week may be named (`jan`,
//! `mon`); or one of the macros `@yearly`, `@annually`, `@monthly`,
//! `@weekly`, `@daily`, `@midnight`, `@hourly`.

/// The macros the controller accepts instead of five fields.
pub const MACROS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

struct Field {
    name: &'static str,
    low: u32,
    high: u32,
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        low: 0,
        high: 59,
        names: &[],
    },
    Field {
        name: "hour",
        low: 0,
        high: 23,
        names: &[],
    },
    Field {
        name: "day of month",
        low: 1,
        high: 31,
        names: &[],
    },
    Field {
        name: "month",
        low: 1,
        high: 12,
        names: &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    },
    // 7 is Sunday too.
    Field {
        name: "day of week",
        low: 0,
        high: 7,
        names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    },
];

impl Field {
    fn value(&self, text: &str) -> Result<u32, String> {
        let lower = text.to_ascii_lowercase();
        if let Some(i) = self.names.iter().position(|n| *n == lower) {
            // Month names count from 1, day names from 0.
            let i = u32::try_from(i).unwrap_or(0);
            return Ok(if self.low == 1 { i + 1 } else { i });
        }
        let n: u32 = text
            .parse()
            .map_err(|_| format!("`{text}` is not a number in the {} field", self.name))?;
        if n < self.low || n > self.high {
            return Err(format!(
                "{n} is outside the {} field's {}-{}",
                self.name, self.low, self.high
            ));
        }
        Ok(n)
    }

    fn check_part(&self, part: &str) -> Result<(), String> {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(step) = step {
            let n: u32 = step.parse().map_err(|_| {
                format!("the step `{step}` in the {} field is no number", self.name)
            })?;
            if n == 0 {
                return Err(format!("a step of 0 in the {} field", self.name));
            }
        }
        if range == "*" {
            return Ok(());
        }
        if range.is_empty() {
            return Err(format!("an empty entry in the {} field", self.name));
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (self.value(a)?, self.value(b)?);
                if a > b {
                    return Err(format!(
                        "the range {a}-{b} in the {} field runs backwards",
                        self.name
                    ));
                }
            }
            None => {
                self.value(range)?;
            }
        }
        Ok(())
    }
}

/// Checks a cron expression; the error says which field is wrong and why.
pub fn check(expression: &str) -> Result<(), String> {
    let text = expression.trim();
    if text.starts_with('@') {
        return if MACROS.contains(&text.to_ascii_lowercase().as_str()) {
            Ok(())
        } else {
            Err(format!(
                "`{text}` is no cron macro; the macros are {}",
                MACROS.join(", ")
            ))
        };
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != FIELDS.len() {
        return Err(format!(
            "it has {} field{}; a schedule has 5: minute, hour, day of month, month, day of week",
            fields.len(),
            if fields.len() == 1 { "" } else { "s" }
        ));
    }
    for (field, text) in FIELDS.iter().zip(fields) {
        for part in text.split(',') {
            field.check_part(part)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_what_the_controller_accepts() {
        for ok in [
            "0 3 * * *",
            "*/15 * * * *",
            "0 0 1,15 * mon-fri",
            "30 2 * jan-mar 0",
            "0 0 * * 7",
            "5-10/2 8-18 * * *",
            "@daily",
            "@Hourly",
            " 0 2 * * * ",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_with_the_field_and_the_reason() {
        for (bad, says) in [
            ("0 3 * *", "4 fields"),
            ("0 3 * * * *", "6 fields"),
            ("60 * * * *", "outside the minute field's 0-59"),
            ("0 24 * * *", "hour"),
            ("0 0 0 * *", "day of month"),
            ("0 0 * 13 *", "month"),
            ("0 0 * * 8", "day of week"),
            ("*/0 * * * *", "step of 0"),
            ("0 5-1 * * *", "backwards"),
            ("x * * * *", "not a number"),
            ("0 0 * * mon,,fri", "empty entry"),
            ("@often", "no cron macro"),
            ("", "0 fields"),
        ] {
            let err = check(bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
