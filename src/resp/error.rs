//! Errors of the RESP layer: input that is not valid RESP.
//!
//! Every variant that a server-side request decoder can produce displays as the exact text
//! Redis 7.0 sends (the reply line without its leading `-`), because clients and test suites
//! compare those texts. After any of them Redis replies and then closes the connection: the
//! stream position is lost, so nothing after the bad bytes can be trusted. The caller (the
//! connection task) must do the same: write `Frame::Error(err.to_string())`, flush, close.

/// Malformed RESP input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// `*<n>` where `<n>` is not a valid integer or exceeds the array limit.
    #[error("ERR Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// `$<n>` where `<n>` is not a valid integer, is negative, or exceeds `proto-max-bulk-len`.
    #[error("ERR Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// An element of a request array that is not a bulk string. Holds the byte found instead.
    #[error("ERR Protocol error: expected '$', got '{}'", shown_byte(*.0))]
    ExpectedBulk(u8),
    /// An inline request with no newline within the inline size limit.
    #[error("ERR Protocol error: too big inline request")]
    TooBigInlineRequest,
    /// A `*<n>` line with no `\r` within the inline size limit.
    #[error("ERR Protocol error: too big mbulk count string")]
    TooBigMultibulkCountString,
    /// A `$<n>` line with no `\r` within the inline size limit.
    #[error("ERR Protocol error: too big bulk count string")]
    TooBigBulkCountString,
    /// An inline request whose quotes do not close, or close with no space after them.
    #[error("ERR Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,

    // The variants below come only from the reply parser (`Frame::parse`), which Redis' server
    // does not have; their texts are ours.
    /// A frame starting with a byte that is no RESP2/RESP3 type.
    #[error("ERR Protocol error: unknown frame type '{}'", shown_byte(*.0))]
    UnknownFrameType(u8),
    /// A length or integer line that is not a valid integer.
    #[error("ERR Protocol error: invalid integer")]
    InvalidInteger,
    /// A length that is negative where only `-1` (null) is allowed, or otherwise unusable.
    #[error("ERR Protocol error: invalid length")]
    InvalidLength,
    /// A `,` line that is not a number.
    #[error("ERR Protocol error: invalid double")]
    InvalidDouble,
    /// A `#` line other than `t` or `f`.
    #[error("ERR Protocol error: invalid boolean")]
    InvalidBoolean,
    /// A `(` line that is not an optionally signed run of digits.
    #[error("ERR Protocol error: invalid big number")]
    InvalidBigNumber,
    /// A `=` payload without its three-byte format and `:`.
    #[error("ERR Protocol error: invalid verbatim string")]
    InvalidVerbatim,
    /// A bulk payload not followed by `\r\n`.
    #[error("ERR Protocol error: expected CRLF after bulk data")]
    MissingCrlf,
    /// Aggregates nested deeper than the parser allows (it recurses once per level).
    #[error("ERR Protocol error: nesting too deep")]
    NestingTooDeep,
}

/// How Redis shows an offending byte in an error reply: `%c`, with `\r` and `\n` turned into
/// spaces (Redis does that to every error text so the reply stays one line). Bytes above ASCII
/// become the Unicode scalar of the same number, since a Rust `String` cannot hold a lone byte.
fn shown_byte(byte: u8) -> char {
    match byte {
        b'\r' | b'\n' => ' ',
        other => char::from(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_redis() {
        assert_eq!(
            ProtocolError::InvalidMultibulkLength.to_string(),
            "ERR Protocol error: invalid multibulk length"
        );
        assert_eq!(
            ProtocolError::ExpectedBulk(b':').to_string(),
            "ERR Protocol error: expected '$', got ':'"
        );
        assert_eq!(
            ProtocolError::ExpectedBulk(b'\r').to_string(),
            "ERR Protocol error: expected '$', got ' '"
        );
    }
}
