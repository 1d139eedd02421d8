//! The `Frame`: one RESP2 or RESP3 value, how it is written for each protocol version, and how a
//! reply is read back.
//!
//! Replies are built once as RESP3 values; `encode` lowers them to RESP2 for connections that
//! did not send `HELLO 3`, the way Redis' `addReply*` functions do (a map becomes a flat array, a
//! double a bulk string, a boolean an integer, …). The server never parses frames: requests go
//! through `decoder`, which follows Redis' request rules instead. `Frame::parse` is the reply
//! parser for tests and client-side tools.

use std::fmt::Write as _;

use bytes::{BufMut, Bytes, BytesMut};

use super::number::{format_double, parse_i64};
use super::ProtocolError;

/// One RESP value.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+text`: a short status line, such as `OK`.
    Simple(String),
    /// `-text` (or RESP3 `!` blob error when parsed): the full error line, code included
    /// (`ERR …`, `MOVED …`).
    Error(String),
    /// `:n`.
    Integer(i64),
    /// `$len` binary-safe string.
    Bulk(Bytes),
    /// The null of a missing value: RESP3 `_`, RESP2 `$-1`.
    Null,
    /// The null of a missing aggregate: RESP2 `*-1` (e.g. a `BLPOP` time-out), RESP3 `_`.
    NullArray,
    /// `*n` ordered elements.
    Array(Vec<Frame>),
    /// RESP3 `%n` key-value pairs, in reply order; RESP2 flattens it to an array of `2n`.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~n` unordered distinct elements; RESP2 sends an array.
    Set(Vec<Frame>),
    /// RESP3 `,` double; RESP2 sends it as a bulk string in the same text.
    Double(f64),
    /// RESP3 `#t`/`#f`; RESP2 sends the integer 1 or 0.
    Boolean(bool),
    /// RESP3 `=` text with a three-byte format hint (`txt`, `mkd`); RESP2 sends the bare text.
    Verbatim {
        /// The format hint, e.g. `*b"txt"`.
        format: [u8; 3],
        /// The text, without the `fmt:` prefix.
        text: Bytes,
    },
    /// RESP3 `(` arbitrary-precision integer, kept as its decimal text; RESP2 sends a bulk string.
    BigNumber(String),
    /// RESP3 `>` out-of-band push data (pub/sub messages); RESP2 sends an array.
    Push(Vec<Frame>),
}

/// The protocol version a connection speaks, chosen by `HELLO`. New connections speak RESP2.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Protocol {
    /// RESP2, the default until a client sends `HELLO 3`.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

/// How deep `Frame::parse` follows nested aggregates. It recurses once per level, so an
/// unbounded depth would let a hostile peer overflow the stack with `*1\r\n*1\r\n…`.
const MAX_PARSE_DEPTH: usize = 512;

impl Frame {
    /// `+OK`.
    pub fn ok() -> Frame {
        Frame::Simple("OK".to_string())
    }

    /// An error reply; `text` is the whole line after `-`, code included (`"ERR syntax error"`).
    pub fn error(text: impl Into<String>) -> Frame {
        Frame::Error(text.into())
    }

    /// A bulk string.
    pub fn bulk(data: impl Into<Bytes>) -> Frame {
        Frame::Bulk(data.into())
    }

    /// Appends this frame to `out` as `proto` wire bytes.
    pub fn encode(&self, out: &mut BytesMut, proto: Protocol) {
        let resp3 = proto == Protocol::Resp3;
        match self {
            Frame::Simple(text) => put_line(out, b'+', text),
            Frame::Error(text) => put_line(out, b'-', text),
            Frame::Integer(n) => put_header(out, b':', *n),
            Frame::Bulk(data) => put_bulk(out, b'$', &[data]),
            Frame::Null if resp3 => out.put_slice(b"_\r\n"),
            Frame::Null => out.put_slice(b"$-1\r\n"),
            Frame::NullArray if resp3 => out.put_slice(b"_\r\n"),
            Frame::NullArray => out.put_slice(b"*-1\r\n"),
            Frame::Array(items) => put_aggregate(out, b'*', items, proto),
            Frame::Set(items) => put_aggregate(out, if resp3 { b'~' } else { b'*' }, items, proto),
            Frame::Push(items) => put_aggregate(out, if resp3 { b'>' } else { b'*' }, items, proto),
            Frame::Map(pairs) => {
                if resp3 {
                    put_header(out, b'%', pairs.len() as i64);
                } else {
                    put_header(out, b'*', 2 * pairs.len() as i64);
                }
                for (key, value) in pairs {
                    key.encode(out, proto);
                    value.encode(out, proto);
                }
            }
            Frame::Double(value) => {
                let text = format_double(*value);
                if resp3 {
                    put_line(out, b',', &text);
                } else {
                    put_bulk(out, b'$', &[text.as_bytes()]);
                }
            }
            Frame::Boolean(value) if resp3 => {
                out.put_slice(if *value { b"#t\r\n" } else { b"#f\r\n" })
            }
            Frame::Boolean(value) => put_header(out, b':', i64::from(*value)),
            Frame::Verbatim { format, text } if resp3 => {
                put_bulk(out, b'=', &[&format[..], b":", text]);
            }
            Frame::Verbatim { text, .. } => put_bulk(out, b'$', &[text]),
            Frame::BigNumber(digits) if resp3 => put_line(out, b'(', digits),
            Frame::BigNumber(digits) => put_bulk(out, b'$', &[digits.as_bytes()]),
        }
    }

    /// This frame as `proto` wire bytes.
    pub fn to_bytes(&self, proto: Protocol) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(&mut out, proto);
        out.freeze()
    }

    /// Parses one RESP2 or RESP3 reply from the front of `buf`.
    ///
    /// Returns the frame and the number of bytes it took, or `None` when `buf` holds only part
    /// of a frame (read more and call again with the longer buffer). RESP3 attributes (`|`) are
    /// read and dropped, the frame they annotate is returned. A blob error (`!`) becomes
    /// `Frame::Error`; a RESP3 `_` becomes `Frame::Null` (RESP2 `*-1` stays `NullArray`).
    /// Streamed strings and aggregates (`$?`) are not supported: Redis never sends them.
    pub fn parse(buf: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
        parse_at(buf, 0, 0)
    }
}

/// A type byte and its text, with `\r` and `\n` made spaces so that a stray newline in a
/// message cannot end the line early and desynchronise the client (Redis does the same).
fn put_line(out: &mut BytesMut, kind: u8, text: &str) {
    out.put_u8(kind);
    if text.bytes().any(|b| b == b'\r' || b == b'\n') {
        out.extend(text.bytes().map(|b| match b {
            b'\r' | b'\n' => b' ',
            other => other,
        }));
    } else {
        out.put_slice(text.as_bytes());
    }
    out.put_slice(b"\r\n");
}

/// A type byte followed by a number and CRLF: integers and aggregate/blob headers.
fn put_header(out: &mut BytesMut, kind: u8, n: i64) {
    out.put_u8(kind);
    // Writing into a BytesMut cannot fail: it grows as needed.
    let _ = write!(out, "{n}\r\n");
}

/// A length-prefixed blob made of `parts` (several parts for the verbatim `fmt:` prefix).
fn put_bulk(out: &mut BytesMut, kind: u8, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    put_header(out, kind, len as i64);
    for part in parts {
        out.put_slice(part);
    }
    out.put_slice(b"\r\n");
}

fn put_aggregate(out: &mut BytesMut, kind: u8, items: &[Frame], proto: Protocol) {
    put_header(out, kind, items.len() as i64);
    for item in items {
        item.encode(out, proto);
    }
}

/// Parse result inside the parser: `None` means "need more bytes".
type Step<T> = Result<Option<(T, usize)>, ProtocolError>;

/// Unwraps a `Step`, returning early from the caller when the input is incomplete.
macro_rules! ready {
    ($step:expr) => {
        match $step? {
            Some(done) => done,
            None => return Ok(None),
        }
    };
}

fn parse_at(buf: &[u8], pos: usize, depth: usize) -> Step<Frame> {
    if depth > MAX_PARSE_DEPTH {
        return Err(ProtocolError::NestingTooDeep);
    }
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    if !b"+-:_#,($!=*~>%|".contains(&kind) {
        return Err(ProtocolError::UnknownFrameType(kind));
    }
    let Some((line, mut pos)) = read_line(buf, pos + 1) else {
        return Ok(None);
    };
    let frame = match kind {
        b'+' => Frame::Simple(String::from_utf8_lossy(line).into_owned()),
        b'-' => Frame::Error(String::from_utf8_lossy(line).into_owned()),
        b':' => Frame::Integer(parse_i64(line).ok_or(ProtocolError::InvalidInteger)?),
        b'_' => Frame::Null,
        b'#' => match line {
            b"t" => Frame::Boolean(true),
            b"f" => Frame::Boolean(false),
            _ => return Err(ProtocolError::InvalidBoolean),
        },
        b',' => Frame::Double(
            std::str::from_utf8(line)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(ProtocolError::InvalidDouble)?,
        ),
        b'(' => {
            let digits = line.strip_prefix(b"-").unwrap_or(line);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(ProtocolError::InvalidBigNumber);
            }
            Frame::BigNumber(String::from_utf8_lossy(line).into_owned())
        }
        b'$' | b'!' | b'=' => {
            let len = parse_i64(line).ok_or(ProtocolError::InvalidLength)?;
            if len == -1 && kind == b'$' {
                return Ok(Some((Frame::Null, pos)));
            }
            let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidLength)?;
            let (data, next) = ready!(read_blob(buf, pos, len));
            pos = next;
            match kind {
                b'$' => Frame::Bulk(Bytes::copy_from_slice(data)),
                b'!' => Frame::Error(String::from_utf8_lossy(data).into_owned()),
                _ => match data {
                    [a, b, c, b':', text @ ..] => Frame::Verbatim {
                        format: [*a, *b, *c],
                        text: Bytes::copy_from_slice(text),
                    },
                    _ => return Err(ProtocolError::InvalidVerbatim),
                },
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let count = parse_i64(line).ok_or(ProtocolError::InvalidLength)?;
            if count == -1 && kind == b'*' {
                return Ok(Some((Frame::NullArray, pos)));
            }
            let count = usize::try_from(count).map_err(|_| ProtocolError::InvalidLength)?;
            // Capacity from what is buffered, not from the declared count: a peer can declare
            // billions of elements in a dozen bytes.
            let capacity = count.min(buf.len() - pos);
            if kind == b'%' || kind == b'|' {
                let mut pairs = Vec::with_capacity(capacity);
                for _ in 0..count {
                    let (key, next) = ready!(parse_at(buf, pos, depth + 1));
                    let (value, next) = ready!(parse_at(buf, next, depth + 1));
                    pairs.push((key, value));
                    pos = next;
                }
                if kind == b'|' {
                    // An attribute annotates the frame that follows it; callers get that frame.
                    return parse_at(buf, pos, depth);
                }
                Frame::Map(pairs)
            } else {
                let mut items = Vec::with_capacity(capacity);
                for _ in 0..count {
                    let (item, next) = ready!(parse_at(buf, pos, depth + 1));
                    items.push(item);
                    pos = next;
                }
                match kind {
                    b'*' => Frame::Array(items),
                    b'~' => Frame::Set(items),
                    _ => Frame::Push(items),
                }
            }
        }
        // Every other byte was refused above.
        other => return Err(ProtocolError::UnknownFrameType(other)),
    };
    Ok(Some((frame, pos)))
}

/// The line starting at `pos`, up to `\r\n`, and the position after it.
fn read_line(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(pos..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((&rest[..end], pos + end + 2))
}

/// `len` payload bytes at `pos` and their trailing `\r\n`.
fn read_blob(buf: &[u8], pos: usize, len: usize) -> Step<&[u8]> {
    let end = pos.checked_add(len).ok_or(ProtocolError::InvalidLength)?;
    if buf.len() < end.saturating_add(2) {
        return Ok(None);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err(ProtocolError::MissingCrlf);
    }
    Ok(Some((&buf[pos..end], end + 2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(frame: &Frame, proto: Protocol) -> Vec<u8> {
        frame.to_bytes(proto).to_vec()
    }

    fn parse_all(bytes: &[u8]) -> Frame {
        let (frame, used) = Frame::parse(bytes).unwrap().expect("complete frame");
        assert_eq!(used, bytes.len(), "parse must consume exactly one frame");
        frame
    }

    /// One of each variant, nested, so that round trips cover aggregates inside aggregates.
    fn every_variant() -> Vec<Frame> {
        vec![
            Frame::ok(),
            Frame::error("ERR syntax error"),
            Frame::Integer(-42),
            Frame::Integer(i64::MIN),
            Frame::bulk("hello"),
            Frame::bulk(Bytes::from_static(b"bin\r\n\0ary")),
            Frame::bulk(""),
            Frame::Null,
            Frame::NullArray,
            Frame::Array(vec![]),
            Frame::Array(vec![Frame::Integer(1), Frame::Array(vec![Frame::Null])]),
            Frame::Map(vec![
                (Frame::bulk("a"), Frame::Integer(1)),
                (
                    Frame::Simple("b".into()),
                    Frame::Set(vec![Frame::Boolean(true)]),
                ),
            ]),
            Frame::Set(vec![Frame::bulk("x"), Frame::bulk("y")]),
            Frame::Double(0.1),
            Frame::Double(-3.0),
            Frame::Double(f64::INFINITY),
            Frame::Double(f64::NEG_INFINITY),
            Frame::Boolean(true),
            Frame::Boolean(false),
            Frame::Verbatim {
                format: *b"txt",
                text: Bytes::from_static(b"Some string"),
            },
            Frame::BigNumber("3492890328409238509324850943850943825024385".into()),
            Frame::BigNumber("-12".into()),
            Frame::Push(vec![
                Frame::bulk("message"),
                Frame::bulk("ch"),
                Frame::bulk("hi"),
            ]),
        ]
    }

    #[test]
    fn resp3_encoding_round_trips_every_variant() {
        for frame in every_variant() {
            let bytes = wire(&frame, Protocol::Resp3);
            let expected = match &frame {
                // RESP3 has one null; the parser cannot tell which Rust variant produced it.
                Frame::NullArray => Frame::Null,
                other => other.clone(),
            };
            assert_eq!(parse_all(&bytes), expected, "{frame:?}");
        }
    }

    #[test]
    fn resp2_encoding_round_trips_to_the_downgraded_value() {
        for frame in every_variant() {
            let bytes = wire(&frame, Protocol::Resp2);
            assert_eq!(parse_all(&bytes), downgrade(&frame), "{frame:?}");
        }
    }

    /// What a RESP2 client sees for each RESP3 value, as Redis' `addReply*` functions send it.
    fn downgrade(frame: &Frame) -> Frame {
        match frame {
            Frame::Map(pairs) => Frame::Array(
                pairs
                    .iter()
                    .flat_map(|(k, v)| [downgrade(k), downgrade(v)])
                    .collect(),
            ),
            Frame::Set(items) | Frame::Push(items) | Frame::Array(items) => {
                Frame::Array(items.iter().map(downgrade).collect())
            }
            Frame::Double(d) => Frame::bulk(format_double(*d)),
            Frame::Boolean(b) => Frame::Integer(i64::from(*b)),
            Frame::Verbatim { text, .. } => Frame::Bulk(text.clone()),
            Frame::BigNumber(n) => Frame::bulk(n.clone()),
            other => other.clone(),
        }
    }

    #[test]
    fn encodings_match_redis_bytes() {
        use Protocol::*;
        let cases: &[(Frame, Protocol, &[u8])] = &[
            (Frame::Null, Resp2, b"$-1\r\n"),
            (Frame::Null, Resp3, b"_\r\n"),
            (Frame::NullArray, Resp2, b"*-1\r\n"),
            (Frame::NullArray, Resp3, b"_\r\n"),
            (Frame::Double(0.1), Resp3, b",0.10000000000000001\r\n"),
            (Frame::Double(0.1), Resp2, b"$19\r\n0.10000000000000001\r\n"),
            (Frame::Double(f64::INFINITY), Resp3, b",inf\r\n"),
            (Frame::Double(f64::NEG_INFINITY), Resp2, b"$4\r\n-inf\r\n"),
            (Frame::Boolean(true), Resp3, b"#t\r\n"),
            (Frame::Boolean(false), Resp2, b":0\r\n"),
            (
                Frame::Map(vec![(Frame::bulk("k"), Frame::Integer(1))]),
                Resp2,
                b"*2\r\n$1\r\nk\r\n:1\r\n",
            ),
            (
                Frame::Map(vec![(Frame::bulk("k"), Frame::Integer(1))]),
                Resp3,
                b"%1\r\n$1\r\nk\r\n:1\r\n",
            ),
            (
                Frame::Set(vec![Frame::Simple("a".into())]),
                Resp3,
                b"~1\r\n+a\r\n",
            ),
            (
                Frame::Set(vec![Frame::Simple("a".into())]),
                Resp2,
                b"*1\r\n+a\r\n",
            ),
            (
                Frame::Verbatim {
                    format: *b"txt",
                    text: Bytes::from_static(b"Some string"),
                },
                Resp3,
                b"=15\r\ntxt:Some string\r\n",
            ),
            (
                Frame::Verbatim {
                    format: *b"txt",
                    text: Bytes::from_static(b"Some string"),
                },
                Resp2,
                b"$11\r\nSome string\r\n",
            ),
            (Frame::BigNumber("123".into()), Resp3, b"(123\r\n"),
            (Frame::BigNumber("123".into()), Resp2, b"$3\r\n123\r\n"),
            (Frame::Push(vec![Frame::Integer(1)]), Resp3, b">1\r\n:1\r\n"),
            (Frame::Push(vec![Frame::Integer(1)]), Resp2, b"*1\r\n:1\r\n"),
        ];
        for (frame, proto, expected) in cases {
            assert_eq!(
                wire(frame, *proto),
                *expected,
                "{frame:?} {proto:?}: {:?}",
                String::from_utf8_lossy(&wire(frame, *proto))
            );
        }
    }

    #[test]
    fn newlines_in_status_and_error_lines_become_spaces() {
        let bytes = wire(&Frame::error("ERR bad\r\nthing"), Protocol::Resp2);
        assert_eq!(bytes, b"-ERR bad  thing\r\n");
        let bytes = wire(&Frame::Simple("a\nb".into()), Protocol::Resp3);
        assert_eq!(bytes, b"+a b\r\n");
    }

    #[test]
    fn every_truncation_is_incomplete_then_the_whole_frame_parses() {
        for frame in every_variant() {
            for proto in [Protocol::Resp2, Protocol::Resp3] {
                let bytes = wire(&frame, proto);
                for cut in 0..bytes.len() {
                    assert_eq!(
                        Frame::parse(&bytes[..cut]),
                        Ok(None),
                        "{frame:?} {proto:?} cut at {cut}"
                    );
                }
                assert!(Frame::parse(&bytes).unwrap().is_some());
            }
        }
    }

    #[test]
    fn parse_stops_after_the_first_frame() {
        let (frame, used) = Frame::parse(b":1\r\n:2\r\n").unwrap().unwrap();
        assert_eq!((frame, used), (Frame::Integer(1), 4));
    }

    #[test]
    fn attributes_are_dropped() {
        let bytes = b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2\r\n";
        assert_eq!(parse_all(bytes), Frame::Array(vec![Frame::Integer(2)]));
    }

    #[test]
    fn blob_errors_parse_as_errors() {
        assert_eq!(
            parse_all(b"!21\r\nSYNTAX invalid syntax\r\n"),
            Frame::error("SYNTAX invalid syntax")
        );
    }

    #[test]
    fn malformed_replies_are_errors() {
        let cases: &[(&[u8], ProtocolError)] = &[
            (b"?x\r\n", ProtocolError::UnknownFrameType(b'?')),
            (b":abc\r\n", ProtocolError::InvalidInteger),
            (b"$-2\r\n", ProtocolError::InvalidLength),
            (b"$abc\r\n", ProtocolError::InvalidLength),
            (b"*-2\r\n", ProtocolError::InvalidLength),
            (b"%-1\r\n", ProtocolError::InvalidLength),
            (b"$?\r\n", ProtocolError::InvalidLength),
            (b"$3\r\nabcde\r\n", ProtocolError::MissingCrlf),
            (b"#x\r\n", ProtocolError::InvalidBoolean),
            (b",one\r\n", ProtocolError::InvalidDouble),
            (b"(12a\r\n", ProtocolError::InvalidBigNumber),
            (b"=3\r\ntxt\r\n", ProtocolError::InvalidVerbatim),
        ];
        for (bytes, error) in cases {
            assert_eq!(
                Frame::parse(bytes),
                Err(error.clone()),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let bytes = b"*1\r\n".repeat(100_000);
        assert_eq!(Frame::parse(&bytes), Err(ProtocolError::NestingTooDeep));
    }

    #[test]
    fn huge_declared_counts_do_not_preallocate() {
        // Would need tens of gigabytes if the declared count sized the vector.
        assert_eq!(Frame::parse(b"*2000000000\r\n:1\r\n"), Ok(None));
        assert_eq!(Frame::parse(b"$2000000000\r\nab"), Ok(None));
    }
}
