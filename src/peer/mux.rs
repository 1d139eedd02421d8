//! Replication of every slot group to one peer over one gRPC stream (`Replicate`): what its two
//! halves share. The client half is `mux_client`, the server half `mux_server`.
//!
//! openraft drives one pipelined AppendEntries stream per (group, follower). Sent as one gRPC
//! stream each, every request costs an HTTP/2 message and a task wake-up on each side, per group.
//! Here each group's stream is a numbered *substream* of one stream per peer, and whoever sends
//! takes everything ready at that moment — requests of any group, or replies — into one batch
//! message: under load, one message and one wake-up carry the work of many groups.
//!
//! Client half: `mux_client::MuxConn`, one per peer, shared by the groups' clients and replaced
//! when its stream fails (every open substream then fails as unreachable, and openraft retries
//! after its backoff). Server half: `mux_server::serve`, which hands each substream to its
//! group's `Raft::stream_append` and batches the replies.
//!
//! Order: a substream's requests leave in order through one queue and reach openraft in order;
//! openraft answers in order; so replies come back in request order, as openraft requires.
//! Memory: the outbound queue per peer is bounded; on the receiving side a substream whose group
//! falls too far behind is closed as unavailable rather than allowed to block the other groups
//! (the leader backs off and reopens it).

use futures::Stream;
use openraft::errors::{NetworkError, RPCError};
use openraft::raft::StreamAppendResult;
use tokio::sync::mpsc;

use crate::raft::TypeConfig;

/// Frames waiting to be sent to one peer, all groups together.
pub(super) const OUTBOUND_QUEUE: usize = 4096;
/// Frames or replies per batch message: keeps one message's size reasonable.
const MAX_BATCH: usize = 256;
/// Requests queued for one group on the receiving side before its substream is closed as
/// unable to keep up (openraft itself pipelines 64 more behind this).
pub(super) const SUBSTREAM_QUEUE: usize = 1024;

/// One reply of a substream, as openraft's replication wants it.
pub type AppendReply = Result<StreamAppendResult<TypeConfig>, RPCError<TypeConfig>>;

pub(super) fn network_error(e: impl std::fmt::Display) -> RPCError<TypeConfig> {
    RPCError::Network(NetworkError::from_string(e.to_string()))
}

/// Takes what is queued into batches of at most `MAX_BATCH`, waiting only for the first item.
pub(super) fn batched<T: Send + 'static>(
    rx: mpsc::Receiver<T>,
) -> impl Stream<Item = Vec<T>> + Send {
    futures::stream::unfold(rx, |mut rx| async move {
        let first = rx.recv().await?;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        Some((batch, rx))
    })
}

// ---------------------------------------------------------------------------------------------
// Client half.
