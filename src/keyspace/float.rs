//! Redis' float rules: what `INCRBYFLOAT`, `ZADD` and friends accept as a number, and how a
//! float is written back as a string.

/// Parses a float as Redis' `string2ld`/`string2d` accept it: no surrounding spaces, `inf`,
/// `+inf`, `-inf` (any case) allowed, `nan` rejected.
pub fn parse_double(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > 5000 {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    if text.starts_with(|c: char| c.is_ascii_whitespace())
        || text.ends_with(|c: char| c.is_ascii_whitespace())
    {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    // Rust accepts "nan" and "inf" spellings we handled above, and forms C rejects never
    // reach here (no hex floats in Rust's parser either).
    let v: f64 = text.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    Some(v)
}

/// The text Redis stores for a float result (`INCRBYFLOAT`, `HINCRBYFLOAT`): the shortest
/// decimal that reads back as the same double, never in exponent form, `-0` written as `0`.
/// (Redis computes in `long double` and prints 17 digits; with doubles, the shortest
/// round-trip form is what gives the same text for everyday values such as `10.6`.)
pub fn format_human(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    format!("{v}")
}

/// A sorted-set score as Redis 7.0 writes it in text (`%.17g`), e.g. in `ZSCAN` replies.
pub fn format_score(v: f64) -> String {
    crate::resp::number::format_double(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_follows_redis() {
        assert_eq!(parse_double(b"1.5"), Some(1.5));
        assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double(b"+INF"), Some(f64::INFINITY));
        assert_eq!(parse_double(b"1e3"), Some(1000.0));
        assert_eq!(parse_double(b"nan"), None);
        assert_eq!(parse_double(b" 1"), None);
        assert_eq!(parse_double(b"1 "), None);
        assert_eq!(parse_double(b""), None);
        assert_eq!(parse_double(b"abc"), None);
    }

    #[test]
    fn format_is_shortest_round_trip() {
        assert_eq!(format_human(10.5 + 0.1), "10.6");
        assert_eq!(format_human(3.0), "3");
        assert_eq!(format_human(-0.0), "0");
        assert_eq!(format_human(5.0e3), "5000");
        assert_eq!(format_human(1e20), "100000000000000000000");
    }
}
