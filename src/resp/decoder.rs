//! Cutting client requests out of the bytes a connection has read, as Redis' server does it
//! (`processMultibulkBuffer` and `processInlineBuffer` in Redis 7.0 `networking.c`).
//!
//! Owns request framing only: a request comes out as its raw arguments, and what they mean is
//! the command layer's business. Requests are not general RESP frames: a request is either an
//! array of bulk strings (`*N\r\n$len\r\n…`) or, when the first byte is not `*`, one inline line
//! of space-separated words (`PING\r\n`, what `telnet` users type). Redis' leniencies are kept
//! where clients could depend on them: the two bytes after a bulk payload and the byte after a
//! count line's `\r` are skipped unchecked, and `*0`, `*-1` (any count ≤ 0) and blank inline
//! lines are empty requests that are silently skipped.
//!
//! On a `ProtocolError` the caller replies with the error text and closes the connection, as
//! Redis does: after malformed input the stream position is unknown.

use bytes::{Buf, Bytes, BytesMut};

use super::inline::split_inline;
use super::number::parse_i64;
use super::ProtocolError;

/// Size limits applied while decoding requests; the configurable half of rule 6 ("bad input
/// never hurts anyone else").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk string accepted (`proto-max-bulk-len`, default 512 MiB). A larger declared
    /// length is refused at once instead of being waited for.
    pub max_bulk_len: usize,
    /// Most arguments in one request (default 1024 × 1024, Redis 6's fixed limit). Redis 7.0
    /// allows up to `INT_MAX`; a bound keeps one request's argument vector reasonable.
    pub max_array_len: usize,
    /// Longest inline request, and longest `*N` / `$N` count line, waited for before giving up
    /// (`PROTO_INLINE_MAX_SIZE`, 64 KiB).
    pub max_inline_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_array_len: 1024 * 1024,
            max_inline_len: 64 * 1024,
        }
    }
}

/// Most argument slots reserved up front, whatever the request declares: the rest grow as the
/// arguments actually arrive (Redis caps its `argv` preallocation the same way).
const MAX_PREALLOCATED_ARGS: usize = 1024;

/// Takes one complete request off the front of `buf` and returns its arguments.
///
/// `Ok(None)` means no complete request is buffered yet: read more and call again. Nothing of a
/// partial request is consumed, but complete empty requests in front of it (blank inline lines,
/// `*0`) are, since they are finished no-ops, exactly as Redis drops them; a client sending only
/// blank lines must not make the buffer grow forever. Nothing is allocated from a declared
/// length: `$536870912` followed by a few bytes costs a few bytes.
///
/// The arguments of a multibulk request share one buffer cut from `buf` (no copy per argument).
/// Each call scans the partial request again from its start: simple, and cheap unless a single
/// request has a huge number of arguments arriving in many small reads.
pub fn decode_request(
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    loop {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        if first == b'*' {
            let Some(scanned) = scan_multibulk(buf, limits)? else {
                return Ok(None);
            };
            let request = buf.split_to(scanned.consumed).freeze();
            if scanned.args.is_empty() {
                continue;
            }
            let args = scanned
                .args
                .into_iter()
                .map(|range| request.slice(range))
                .collect();
            return Ok(Some(args));
        } else {
            let Some((args, consumed)) = scan_inline(buf, limits)? else {
                return Ok(None);
            };
            buf.advance(consumed);
            if args.is_empty() {
                continue;
            }
            return Ok(Some(args));
        }
    }
}

/// Where a complete multibulk request's arguments lie in the buffer.
struct Multibulk {
    /// Bytes the request occupies, count line to the last payload's terminator.
    consumed: usize,
    /// Byte range of each argument's payload.
    args: Vec<std::ops::Range<usize>>,
}

fn scan_multibulk(buf: &[u8], limits: &Limits) -> Result<Option<Multibulk>, ProtocolError> {
    let Some(cr) = find_cr(buf, limits.max_inline_len)
        .map_err(|()| ProtocolError::TooBigMultibulkCountString)?
    else {
        return Ok(None);
    };
    let count = parse_i64(&buf[1..cr]).ok_or(ProtocolError::InvalidMultibulkLength)?;
    if count > i64::try_from(limits.max_array_len).unwrap_or(i64::MAX) {
        return Err(ProtocolError::InvalidMultibulkLength);
    }
    let mut pos = cr + 2;
    let count = usize::try_from(count).unwrap_or(0);
    let mut args = Vec::with_capacity(count.min(MAX_PREALLOCATED_ARGS));
    for _ in 0..count {
        let rest = &buf[pos..];
        let Some(cr) = find_cr(rest, limits.max_inline_len)
            .map_err(|()| ProtocolError::TooBigBulkCountString)?
        else {
            return Ok(None);
        };
        if rest[0] != b'$' {
            return Err(ProtocolError::ExpectedBulk(rest[0]));
        }
        let len = parse_i64(&rest[1..cr])
            .and_then(|len| usize::try_from(len).ok())
            .filter(|&len| len <= limits.max_bulk_len)
            .ok_or(ProtocolError::InvalidBulkLength)?;
        pos += cr + 2;
        // The payload and its two terminator bytes, which Redis skips without looking at.
        if buf.len() - pos < len + 2 {
            return Ok(None);
        }
        args.push(pos..pos + len);
        pos += len + 2;
    }
    Ok(Some(Multibulk {
        consumed: pos,
        args,
    }))
}

/// The position of the `\r` ending the count line at the start of `buf`, once the byte after it
/// has arrived too (`Ok(None)` until then). `Err` when there is no `\r` at all and more than
/// `max_len` bytes are waiting: the line is not going to end.
fn find_cr(buf: &[u8], max_len: usize) -> Result<Option<usize>, ()> {
    match buf.iter().position(|&b| b == b'\r') {
        None if buf.len() > max_len => Err(()),
        None => Ok(None),
        Some(cr) if cr + 2 > buf.len() => Ok(None),
        Some(cr) => Ok(Some(cr)),
    }
}

/// The arguments of the inline request at the front of `buf` and the bytes it occupies.
fn scan_inline(buf: &[u8], limits: &Limits) -> Result<Option<(Vec<Bytes>, usize)>, ProtocolError> {
    let Some(newline) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > limits.max_inline_len {
            return Err(ProtocolError::TooBigInlineRequest);
        }
        return Ok(None);
    };
    let end = if newline > 0 && buf[newline - 1] == b'\r' {
        newline - 1
    } else {
        newline
    };
    let args = split_inline(&buf[..end])?;
    Ok(Some((args, newline + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoded request as plain byte vectors, for comparisons.
    type Decoded = Result<Option<Vec<Vec<u8>>>, ProtocolError>;

    fn decode(bytes: &[u8]) -> Decoded {
        decode_with(bytes, &Limits::default()).0
    }

    /// Decodes one request from `bytes`; also returns what is left in the buffer.
    fn decode_with(bytes: &[u8], limits: &Limits) -> (Decoded, Vec<u8>) {
        let mut buf = BytesMut::from(bytes);
        let result = decode_request(&mut buf, limits)
            .map(|req| req.map(|args| args.into_iter().map(|a| a.to_vec()).collect()));
        (result, buf.to_vec())
    }

    fn args(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_request_decodes_and_is_consumed() {
        let (result, rest) = decode_with(b"*2\r\n$4\r\nECHO\r\n$3\r\nhey\r\n", &Limits::default());
        assert_eq!(result, Ok(Some(args(&["ECHO", "hey"]))));
        assert!(rest.is_empty());
    }

    #[test]
    fn binary_payloads_are_kept_verbatim() {
        let result = decode(b"*2\r\n$3\r\nGET\r\n$5\r\na\r\n\0b\r\n");
        assert_eq!(
            result,
            Ok(Some(vec![b"GET".to_vec(), b"a\r\n\0b".to_vec()]))
        );
    }

    #[test]
    fn every_truncation_is_incomplete_and_consumes_nothing() {
        let requests: &[&[u8]] = &[
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\n",
            b"*1\r\n$0\r\n\r\n",
            b"SET k \"quoted value\"\r\n",
            b"PING\n",
        ];
        for request in requests {
            for cut in 0..request.len() {
                let (result, rest) = decode_with(&request[..cut], &Limits::default());
                assert_eq!(
                    result,
                    Ok(None),
                    "{:?} cut at {cut}",
                    String::from_utf8_lossy(request)
                );
                assert_eq!(rest, &request[..cut]);
            }
            let (result, rest) = decode_with(request, &Limits::default());
            assert!(matches!(result, Ok(Some(_))));
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn pipelined_requests_come_out_one_at_a_time_in_order() {
        let mut buf = BytesMut::from(
            &b"*1\r\n$4\r\nPING\r\nECHO a\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n\r\nQUIT\r\n*1\r\n$4\r\nPI"[..],
        );
        let limits = Limits::default();
        let mut seen = Vec::new();
        while let Some(request) = decode_request(&mut buf, &limits).unwrap() {
            seen.push(request.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
        }
        assert_eq!(
            seen,
            vec![
                args(&["PING"]),
                args(&["ECHO", "a"]),
                args(&["GET", "k"]),
                args(&["QUIT"]),
            ]
        );
        assert_eq!(&buf[..], b"*1\r\n$4\r\nPI");
    }

    #[test]
    fn empty_requests_are_skipped() {
        assert_eq!(
            decode(b"*0\r\n*-1\r\n*-5\r\n\r\n\n   \r\nPING\r\n"),
            Ok(Some(args(&["PING"])))
        );
        let (result, rest) = decode_with(b"*0\r\n\r\n", &Limits::default());
        assert_eq!(result, Ok(None));
        assert!(rest.is_empty(), "finished no-op requests are dropped");
    }

    #[test]
    fn inline_requests_split_with_quotes() {
        assert_eq!(
            decode(b"set k 'a b'\r\n"),
            Ok(Some(args(&["set", "k", "a b"])))
        );
        assert_eq!(decode(b"PING\n"), Ok(Some(args(&["PING"]))));
        assert_eq!(
            decode(b"ECHO \"x\\ty\"\r\n"),
            Ok(Some(vec![b"ECHO".to_vec(), b"x\ty".to_vec()]))
        );
        assert_eq!(
            decode(b"ECHO \"abc\r\n"),
            Err(ProtocolError::UnbalancedQuotes)
        );
    }

    #[test]
    fn redis_leniencies_are_kept() {
        // Redis skips the two bytes after a payload and the byte after a count line's `\r`.
        let (result, rest) = decode_with(b"*1\r\n$4\r\nPINGXYPING\r\n", &Limits::default());
        assert_eq!(result, Ok(Some(args(&["PING"]))));
        assert_eq!(rest, b"PING\r\n");
        assert_eq!(decode(b"*1\rX$4\r\nPING\r\n"), Ok(Some(args(&["PING"]))));
    }

    #[test]
    fn bad_counts_and_lengths_get_redis_errors() {
        use ProtocolError::*;
        let cases: &[(&[u8], ProtocolError)] = &[
            (b"*\r\n", InvalidMultibulkLength),
            (b"*abc\r\n", InvalidMultibulkLength),
            (b"*007\r\n", InvalidMultibulkLength),
            (b"*+1\r\n", InvalidMultibulkLength),
            (b"*1048577\r\n", InvalidMultibulkLength),
            (b"*99999999999999999999\r\n", InvalidMultibulkLength),
            (b"*1\r\n$-1\r\n", InvalidBulkLength),
            (b"*1\r\n$\r\n", InvalidBulkLength),
            (b"*1\r\n$04\r\nPING\r\n", InvalidBulkLength),
            (b"*1\r\n$536870913\r\n", InvalidBulkLength),
            (b"*1\r\n:4\r\n", ExpectedBulk(b':')),
            (b"*2\r\n$1\r\na\r\n*1\r\n", ExpectedBulk(b'*')),
            (b"*1\r\n\r\n", ExpectedBulk(b'\r')),
        ];
        for (bytes, error) in cases {
            assert_eq!(
                decode(bytes),
                Err(error.clone()),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
            assert!(error.to_string().starts_with("ERR Protocol error: "));
        }
        assert_eq!(
            ExpectedBulk(b'\r').to_string(),
            "ERR Protocol error: expected '$', got ' '"
        );
    }

    #[test]
    fn lines_that_never_end_are_refused_past_the_inline_limit() {
        use ProtocolError::*;
        // Thresholds as measured on Redis 7.0.15: more than 64 KiB from the line's start.
        let mut at_limit = b"*".to_vec();
        at_limit.extend(std::iter::repeat_n(b'1', 65535));
        assert_eq!(decode(&at_limit), Ok(None));
        at_limit.push(b'1');
        assert_eq!(decode(&at_limit), Err(TooBigMultibulkCountString));

        let mut bulk_line = b"*1\r\n$".to_vec();
        bulk_line.extend(std::iter::repeat_n(b'1', 65535));
        assert_eq!(decode(&bulk_line), Ok(None));
        bulk_line.push(b'1');
        assert_eq!(decode(&bulk_line), Err(TooBigBulkCountString));

        let inline = vec![b'P'; 65536];
        assert_eq!(decode(&inline), Ok(None));
        assert_eq!(
            decode(&[inline, b"P".to_vec()].concat()),
            Err(TooBigInlineRequest)
        );
    }

    #[test]
    fn limits_are_configurable() {
        let limits = Limits {
            max_bulk_len: 3,
            max_array_len: 2,
            max_inline_len: 8,
        };
        let (result, _) = decode_with(b"*1\r\n$4\r\nPING\r\n", &limits);
        assert_eq!(result, Err(ProtocolError::InvalidBulkLength));
        let (result, _) = decode_with(b"*3\r\n", &limits);
        assert_eq!(result, Err(ProtocolError::InvalidMultibulkLength));
        let (result, _) = decode_with(b"PINGPINGP", &limits);
        assert_eq!(result, Err(ProtocolError::TooBigInlineRequest));
        let (result, _) = decode_with(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", &limits);
        assert_eq!(result, Ok(Some(args(&["GET", "k"]))));
    }

    #[test]
    fn a_huge_declared_bulk_is_not_allocated_up_front() {
        let input = b"*2\r\n$3\r\nSET\r\n$536870912\r\nabc";
        let mut buf = BytesMut::from(&input[..]);
        let capacity_before = buf.capacity();
        assert_eq!(decode_request(&mut buf, &Limits::default()), Ok(None));
        assert_eq!(buf.capacity(), capacity_before);
        assert_eq!(&buf[..], &input[..]);
    }

    #[test]
    fn a_huge_declared_count_is_not_allocated_up_front() {
        let limits = Limits {
            max_array_len: usize::MAX,
            ..Limits::default()
        };
        // With 2^31 slots reserved this would need 32 GiB and abort the test process.
        let (result, _) = decode_with(b"*2147483647\r\n$1\r\na\r\n", &limits);
        assert_eq!(result, Ok(None));
    }
}
