//! `Reply`: the protocol-neutral result of executing a command.
//!
//! The keyspace produces replies without knowing RESP; the server turns them into frames
//! (RESP2 or RESP3, per connection) in exactly one place, `Reply::into_frame`. Replies of writes
//! travel back from the state machine to the proposing connection, so they are serializable.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::resp::Frame;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// `+OK`.
    Ok,
    /// Absent value: `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// Absent aggregate: `*-1` in RESP2, `_` in RESP3 (`LPOP key count` on no key, aborted
    /// `EXEC`).
    NullArray,
    Integer(i64),
    Bulk(Bytes),
    /// A float: RESP3 double, RESP2 bulk string (`ZSCORE`).
    Double(f64),
    Array(Vec<Reply>),
    /// Field/value pairs: RESP3 map, RESP2 flat array (`HGETALL`).
    Map(Vec<(Reply, Reply)>),
    /// Unordered distinct members: RESP3 set, RESP2 array (`SMEMBERS`).
    Set(Vec<Reply>),
    /// Pairs in order: RESP3 array of two-element arrays, RESP2 flat array
    /// (`ZRANGE … WITHSCORES`, `HRANDFIELD … WITHVALUES`).
    Pairs(Vec<(Reply, Reply)>),
    /// A simple status string other than OK (e.g. `PONG`).
    Status(String),
    /// An error reply; the text is the full Redis error line without the leading `-`.
    Error(String),
}

impl Reply {
    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }

    pub fn from_option(value: Option<Bytes>) -> Reply {
        value.map(Reply::Bulk).unwrap_or(Reply::Nil)
    }

    /// The frame for a connection speaking RESP3 (`resp3`) or RESP2. Most shapes are the
    /// same frame either way (the encoder downgrades maps, sets and doubles); `Pairs` differ.
    pub fn into_frame(self, resp3: bool) -> Frame {
        match self {
            Reply::Ok => Frame::Simple("OK".into()),
            Reply::Nil => Frame::Null,
            Reply::NullArray => Frame::NullArray,
            Reply::Integer(i) => Frame::Integer(i),
            Reply::Bulk(b) => Frame::Bulk(b),
            Reply::Double(d) => Frame::Double(d),
            Reply::Array(items) => {
                Frame::Array(items.into_iter().map(|r| r.into_frame(resp3)).collect())
            }
            Reply::Map(pairs) => Frame::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into_frame(resp3), v.into_frame(resp3)))
                    .collect(),
            ),
            Reply::Set(items) => {
                Frame::Set(items.into_iter().map(|r| r.into_frame(resp3)).collect())
            }
            Reply::Pairs(pairs) if resp3 => Frame::Array(
                pairs
                    .into_iter()
                    .map(|(a, b)| Frame::Array(vec![a.into_frame(resp3), b.into_frame(resp3)]))
                    .collect(),
            ),
            Reply::Pairs(pairs) => Frame::Array(
                pairs
                    .into_iter()
                    .flat_map(|(a, b)| [a.into_frame(resp3), b.into_frame(resp3)])
                    .collect(),
            ),
            Reply::Status(s) => Frame::Simple(s),
            Reply::Error(e) => Frame::Error(e),
        }
    }
}
