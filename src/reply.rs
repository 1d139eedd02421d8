//! `Reply`: the protocol-neutral result of executing a command.
//!
//! The keyspace produces replies without knowing RESP; the server turns them into frames
//! (RESP2 or RESP3, per connection) in exactly one place, `Reply::into_frame`. Replies of writes
//! travel back from the state machine to the proposing connection, so they are serializable.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::resp::Frame;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// `+OK`.
    Ok,
    /// Absent value: `$-1` in RESP2, `_` in RESP3.
    Nil,
    Integer(i64),
    Bulk(Bytes),
    Array(Vec<Reply>),
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

    pub fn into_frame(self) -> Frame {
        match self {
            Reply::Ok => Frame::Simple("OK".into()),
            Reply::Nil => Frame::Null,
            Reply::Integer(i) => Frame::Integer(i),
            Reply::Bulk(b) => Frame::Bulk(b),
            Reply::Array(items) => Frame::Array(items.into_iter().map(Reply::into_frame).collect()),
            Reply::Status(s) => Frame::Simple(s),
            Reply::Error(e) => Frame::Error(e),
        }
    }
}
