//! RESP, the Redis serialization protocol: the byte-level face that clients talk to.
//!
//! Owns framing only, in both directions: cutting requests (arrays of bulk strings, or inline
//! lines) out of a connection's input exactly as Redis' server does, and writing reply values as
//! RESP2 or RESP3. It knows nothing of commands, keys, slots or Raft, and does no I/O: the
//! connection task feeds it bytes and writes out what it encodes. Kept free of tokio so that the
//! codec can be tested, fuzzed and reused (by client tools) on plain byte slices.
//!
//! - [`decoder`]: requests in (`decode_request`), with Redis' limits and error texts.
//! - [`frame`]: reply values (`Frame`), their RESP2/RESP3 encoding, and a reply parser.
//! - [`inline`]: `sdssplitargs` quoting for inline requests.
//! - [`number`]: Redis' strict integer syntax and `%.17g` doubles.
//! - [`error`]: `ProtocolError`, whose texts are Redis' own.

pub mod decoder;
pub mod error;
pub mod frame;
pub mod inline;
pub mod number;

pub use decoder::{decode_request, Limits};
pub use error::ProtocolError;
pub use frame::{Frame, Protocol};
