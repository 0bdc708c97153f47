//! Cron schedule syntax as CronJob validation checks it: upstream parses `spec.schedule` with
//! robfig/cron's standard parser (5 fields or an `@descriptor`); errors carry its messages.

/// Field bounds and names: (min, max, names).
type Bounds = (u32, u32, &'static [(&'static str, u32)]);

const MINUTES: Bounds = (0, 59, &[]);
const HOURS: Bounds = (0, 23, &[]);
const DOM: Bounds = (1, 31, &[]);
const MONTHS: Bounds = (
    1,
    12,
    &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
);
const DOW: Bounds = (
    0,
    6,
    &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
);

const DESCRIPTORS: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Go's `strconv.Atoi` then the non-negative check, with their messages.
fn parse_int(expr: &str) -> Result<u32, String> {
    let digits = expr.strip_prefix(['+', '-']).unwrap_or(expr);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": invalid syntax"
        ));
    }
    let n: i64 = match digits.parse::<i64>() {
        Ok(n) if n <= i64::from(i32::MAX) => n,
        _ => {
            return Err(format!(
                "failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": value out of range"
            ));
        }
    };
    if expr.starts_with('-') && n != 0 {
        return Err(format!("negative number (-{n}) not allowed: {expr}"));
    }
    u32::try_from(n).map_err(|_| format!("failed to parse int from {expr}"))
}

fn parse_int_or_name(expr: &str, names: &[(&str, u32)]) -> Result<u32, String> {
    let lower = expr.to_ascii_lowercase();
    if let Some((_, v)) = names.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    parse_int(expr)
}

fn check_range(expr: &str, (min, max, names): Bounds) -> Result<(), String> {
    let mut range_and_step = expr.split('/');
    let range = range_and_step.next().unwrap_or("");
    let step_part = range_and_step.next();
    if range_and_step.next().is_some() {
        return Err(format!("too many slashes: {expr}"));
    }
    let low_high: Vec<&str> = range.split('-').collect();
    let single = low_high.len() == 1;
    let (start, mut end) = if low_high[0] == "*" || low_high[0] == "?" {
        (min, max)
    } else {
        let start = parse_int_or_name(low_high[0], names)?;
        match low_high.len() {
            1 => (start, start),
            2 => (start, parse_int_or_name(low_high[1], names)?),
            _ => return Err(format!("too many hyphens: {expr}")),
        }
    };
    let step = match step_part {
        None => 1,
        Some(s) => {
            let step = parse_int(s)?;
            if single {
                end = max;
            }
            step
        }
    };
    if start < min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({min}): {expr}"
        ));
    }
    if end > max {
        return Err(format!(
            "end of range ({end}) above maximum ({max}): {expr}"
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

/// Go's `time.ParseDuration` syntax: `[-+]?(\d*\.?\d*(ns|us|µs|ms|s|m|h))+` or `0`.
fn is_go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    if s.is_empty() {
        return false;
    }
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." {
            return false;
        }
        rest = &rest[num_len..];
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        match unit {
            // `m` must not swallow `ms`: longer units are listed first.
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

/// Parses a schedule the way CronJob validation does (robfig/cron `ParseStandard`): an
/// optional `TZ=`/`CRON_TZ=` prefix, then an `@descriptor`, `@every <duration>`, or exactly
/// five fields (minute, hour, day of month, month, day of week) of `*`, `?`, numbers, names,
/// ranges, lists and steps. Returns robfig's error message on failure.
pub fn parse_schedule(schedule: &str) -> Result<(), String> {
    let mut spec = schedule.trim();
    if spec.is_empty() {
        return Err("empty spec string".to_owned());
    }
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        spec = spec
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r)
            .trim();
    }
    if let Some(rest) = spec.strip_prefix("@every ") {
        let d = rest.trim();
        if is_go_duration(d) {
            return Ok(());
        }
        return Err(format!(
            "failed to parse duration {spec}: time: invalid duration \"{d}\""
        ));
    }
    if spec.starts_with('@') {
        if DESCRIPTORS.contains(&spec) {
            return Ok(());
        }
        return Err(format!("unrecognized descriptor: {spec}"));
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    for (field, bounds) in fields.iter().zip([MINUTES, HOURS, DOM, MONTHS, DOW]) {
        for expr in field.split(',') {
            check_range(expr, bounds)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_schedule;

    #[test]
    fn schedules() {
        let rows: &[(&str, Result<(), &str>)] = &[
            ("*/5 * * * ?", Ok(())),
            ("0 0 1 jan-dec MON-FRI", Ok(())),
            ("@hourly", Ok(())),
            ("@every 1h30m", Ok(())),
            ("TZ=UTC 0 * * * *", Ok(())),
            ("", Err("empty spec string")),
            ("* * *", Err("expected exactly 5 fields, found 3: [* * *]")),
            (
                "60 * * * *",
                Err("end of range (60) above maximum (59): 60"),
            ),
            (
                "x * * * *",
                Err("failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"),
            ),
            (
                "5-1 * * * *",
                Err("beginning of range (5) beyond end of range (1): 5-1"),
            ),
            (
                "*/0 * * * *",
                Err("step of range should be a positive number: */0"),
            ),
            ("1-2-3 * * * *", Err("too many hyphens: 1-2-3")),
            (
                "* * 0 * *",
                Err("beginning of range (0) below minimum (1): 0"),
            ),
            ("@often", Err("unrecognized descriptor: @often")),
        ];
        for (s, want) in rows {
            assert_eq!(parse_schedule(s), want.map_err(str::to_owned), "{s:?}");
        }
    }
}
