//! Splitting an inline request line into arguments, with the quoting rules of Redis'
//! `sdssplitargs` (what `redis-cli` users and `telnet` sessions rely on).
//!
//! Rules, as in Redis: arguments are separated by spaces, tabs, `\r` or `\n` (runs of any C
//! `isspace` byte between arguments are skipped); `"double quotes"` understand `\n \r \t \b \a`,
//! `\xHH` and `\<any>`; `'single quotes'` understand only `\'`; a closing quote must be followed
//! by a space or the end of the line, and an unclosed quote is an error. Quotes may also start in
//! the middle of an argument (`a"b c"` is `ab c`). A NUL byte ends the line, as it ends the C
//! string Redis splits.

use bytes::Bytes;

use super::ProtocolError;

/// The arguments of one inline request line (without its line terminator).
pub fn split_inline(line: &[u8]) -> Result<Vec<Bytes>, ProtocolError> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    // The C code reads one byte past the current one freely, relying on the terminating NUL;
    // `at` gives the same view of the slice.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_c_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Ok(args);
        }
        let mut current = Vec::new();
        let mut quote = Quote::None;
        let mut done = false;
        while !done {
            let c = at(p);
            match quote {
                Quote::Double => {
                    if c == b'\\' && at(p + 1) == b'x' && is_hex(at(p + 2)) && is_hex(at(p + 3)) {
                        current.push(hex_value(at(p + 2)) * 16 + hex_value(at(p + 3)));
                        p += 3;
                    } else if c == b'\\' && at(p + 1) != 0 {
                        p += 1;
                        current.push(match at(p) {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    } else if c == b'"' {
                        if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                            return Err(ProtocolError::UnbalancedQuotes);
                        }
                        done = true;
                    } else if c == 0 {
                        return Err(ProtocolError::UnbalancedQuotes);
                    } else {
                        current.push(c);
                    }
                }
                Quote::Single => {
                    if c == b'\\' && at(p + 1) == b'\'' {
                        p += 1;
                        current.push(b'\'');
                    } else if c == b'\'' {
                        if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                            return Err(ProtocolError::UnbalancedQuotes);
                        }
                        done = true;
                    } else if c == 0 {
                        return Err(ProtocolError::UnbalancedQuotes);
                    } else {
                        current.push(c);
                    }
                }
                Quote::None => match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => quote = Quote::Double,
                    b'\'' => quote = Quote::Single,
                    other => current.push(other),
                },
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        args.push(Bytes::from(current));
    }
}

/// Which quotes the scanner is inside.
#[derive(Clone, Copy)]
enum Quote {
    None,
    Double,
    Single,
}

/// C's `isspace` in the "C" locale. Note `\v` and `\f` separate arguments only between them:
/// inside an unquoted argument they are ordinary bytes, exactly as in `sdssplitargs`.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
        split_inline(line).map(|args| args.into_iter().map(|a| a.to_vec()).collect())
    }

    fn ok(line: &[u8], expected: &[&[u8]]) {
        assert_eq!(
            split(line),
            Ok(expected.iter().map(|a| a.to_vec()).collect()),
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }

    // Expected values checked against redis-server 7.0.15 with ECHO over raw sockets.
    #[test]
    fn plain_words_split_on_blanks() {
        ok(b"SET  key\tvalue", &[b"SET", b"key", b"value"]);
        ok(b"   ", &[]);
        ok(b"", &[]);
        ok(b"ECHO\x0bx", &[b"ECHO\x0bx"]);
        ok(b"ECHO \x0bx", &[b"ECHO", b"x"]);
        ok(b"ECHO a\rb", &[b"ECHO", b"a", b"b"]);
    }

    #[test]
    fn double_quotes_understand_escapes() {
        ok(br#"ECHO "a\x41\n""#, &[b"ECHO", b"aA\n"]);
        ok(br#"ECHO "\xZZ""#, &[b"ECHO", b"xZZ"]);
        ok(br#"ECHO "\x4""#, &[b"ECHO", b"x4"]);
        ok(br#"ECHO "\q""#, &[b"ECHO", b"q"]);
        ok(br#"ECHO "\a\b\r\t""#, &[b"ECHO", b"\x07\x08\r\t"]);
        ok(br#"ECHO "a b" c"#, &[b"ECHO", b"a b", b"c"]);
        ok(br#"ECHO """#, &[b"ECHO", b""]);
        ok(br#"ECHO a"b c""#, &[b"ECHO", b"ab c"]);
    }

    #[test]
    fn single_quotes_understand_only_escaped_quote() {
        ok(br"ECHO 'a\'b'", &[b"ECHO", b"a'b"]);
        ok(br"ECHO 'a\nb'", &[b"ECHO", br"a\nb"]);
        ok(br"ECHO ''", &[b"ECHO", b""]);
    }

    #[test]
    fn unbalanced_quotes_are_errors() {
        for line in [
            &br#"ECHO "abc"#[..],
            br#"ECHO "abc"def"#,
            br#"ECHO ""x"#,
            br"ECHO 'ab'x",
            br"ECHO 'ab",
            br#"ECHO "a\"#,
        ] {
            assert_eq!(
                split(line),
                Err(ProtocolError::UnbalancedQuotes),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn nul_ends_the_line() {
        ok(b"ECHO a\0b c", &[b"ECHO", b"a"]);
    }
}
