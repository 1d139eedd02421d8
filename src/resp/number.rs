//! Numbers as Redis reads and writes them on the wire.
//!
//! Owns the two text forms whose quirks clients can observe: Redis' strict integer syntax
//! (`string2ll` in `util.c`: no `+`, no leading zeros, no spaces, at most 20 characters), used for
//! protocol lengths and for every integer argument, and Redis 7.0's `%.17g` rendering of doubles.
//! Both are pure functions over bytes; what a number means is the caller's business.

/// Parses `text` with Redis' `string2ll` rules.
///
/// Rejected, as in Redis: the empty string, a leading `+`, leading zeros (`"01"`), `"-0"`,
/// surrounding spaces, anything of 21 bytes or more, and values outside `i64`. Using `str::parse`
/// instead would accept `"+1"` and `"007"`, and clients testing against Redis would notice.
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    // LONG_STR_SIZE in Redis: 20 digits plus a sign is the longest valid input.
    const MAX_LEN: usize = 21;
    if text.is_empty() || text.len() >= MAX_LEN {
        return None;
    }
    if text == b"0" {
        return Some(0);
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut value: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        // i64::MIN has no positive counterpart, so compare against its magnitude.
        if value > i64::MIN.unsigned_abs() {
            None
        } else {
            Some((value as i64).wrapping_neg())
        }
    } else {
        i64::try_from(value).ok()
    }
}

/// Renders `value` as Redis 7.0 does in double replies (`addReplyDouble`): `inf`, `-inf`, and
/// otherwise C's `%.17g` (17 significant digits, trailing zeros dropped, exponent form below
/// 1e-4 and from 1e17 up). So `0.1` is `0.10000000000000001`, as Redis 7.0 clients see it.
/// NaN, which Redis never stores, is written `nan` as RESP3 specifies.
pub fn format_double(value: f64) -> String {
    // The precision of `%.17g`: enough digits to round-trip any double.
    const PRECISION: i32 = 17;
    if value.is_nan() {
        return "nan".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Rust's exact formatting gives the 17 correctly rounded significant digits; only the
    // layout of `%g` is left to do.
    let scientific = format!("{:.*e}", (PRECISION - 1) as usize, value);
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` output always has an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` exponent is an integer");
    let sign = if value < 0.0 { "-" } else { "" };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();

    if !(-4..PRECISION).contains(&exponent) {
        let fraction = digits[1..].trim_end_matches('0');
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        let dot = if fraction.is_empty() { "" } else { "." };
        format!(
            "{sign}{}{dot}{fraction}e{exp_sign}{:02}",
            &digits[..1],
            exponent.abs()
        )
    } else if exponent >= 0 {
        let split = exponent as usize + 1;
        let (int_part, fraction) = digits.split_at(split);
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            format!("{sign}{int_part}")
        } else {
            format!("{sign}{int_part}.{fraction}")
        }
    } else {
        let zeros = "0".repeat((-exponent - 1) as usize);
        format!("{sign}0.{zeros}{}", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"42"), Some(42));
        assert_eq!(parse_i64(b"-42"), Some(-42));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b"01",
            b"-0",
            b"00",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"000000000000000000001",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn doubles_render_like_percent_17g() {
        // Expected strings from C's printf("%.17g") (and Redis 7.0.15's ZSCORE replies).
        let cases: &[(f64, &str)] = &[
            (0.1, "0.10000000000000001"),
            (1e300, "1.0000000000000001e+300"),
            (3.0, "3"),
            (1.5e-7, "1.4999999999999999e-07"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (12345678901234567.0, "12345678901234568"),
            (0.0001, "0.0001"),
            (1e-5, "1.0000000000000001e-05"),
            (-2.5, "-2.5"),
            (5e-324, "4.9406564584124654e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (100.0, "100"),
            (0.30000000000000004, "0.30000000000000004"),
            // Exact ties at the 17th digit: C rounds half to even, and so must we.
            (1234567890123456.0 + 0.25, "1234567890123456.2"),
            (1234567890123456.0 + 0.75, "1234567890123456.8"),
            (3.1, "3.1000000000000001"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for &(value, expected) in cases {
            assert_eq!(format_double(value), expected, "{value:e}");
        }
    }

    #[test]
    fn rendered_doubles_round_trip() {
        let mut x = 1.0e-310_f64;
        while x < 1.0e308 {
            for v in [x, -x, x * 1.2345, x / 3.0] {
                assert_eq!(format_double(v).parse::<f64>().unwrap(), v);
            }
            x *= 7.77;
        }
    }
}
