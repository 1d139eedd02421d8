//! The Raft side of a node: openraft's type configuration for slot groups, and the storage that
//! openraft drives — the sled log store with its group-commit flusher, the keyspace state
//! machine with its snapshots (streamed through files: `snapshot_file`), and the codec of Raft
//! messages. The network between nodes is
//! `peer/`.
//!
//! One `openraft::Raft` instance runs per slot group this node is a member of. All groups share
//! one sled database, one flusher thread and one HTTP/2 channel per peer node.

pub mod codec;
pub mod flusher;
pub mod log_store;
pub mod snapshot_file;
pub mod state_machine;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::cluster::incarnation::RaftId;
pub use crate::cluster::{GroupId, NodeAddr, NodeId};
use crate::keyspace::{KeyspaceError, WriteOp};
use crate::reply::Reply;

/// A log entry's application payload: the write, and the leader's clock when it proposed it.
/// Applying uses `now_ms` instead of the replica's clock, which keeps expiry deterministic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub now_ms: u64,
    pub op: WriteOp,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{}", self.op, self.now_ms)
    }
}

/// What applying an entry produced; sent back to the proposing connection.
pub type Response = Result<Reply, KeyspaceError>;

openraft::declare_raft_types!(
    /// The openraft type configuration shared by every slot group.
    pub TypeConfig:
        D = Request,
        R = Response,
        NodeId = RaftId,
        Node = NodeAddr,
);

pub type Raft = openraft::Raft<TypeConfig, state_machine::StateMachine>;
pub type LogId = openraft::alias::LogIdOf<TypeConfig>;
pub type Vote = openraft::alias::VoteOf<TypeConfig>;
pub type Entry = openraft::alias::EntryOf<TypeConfig>;
pub type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
pub type Snapshot = openraft::alias::SnapshotOf<TypeConfig, snapshot_file::SnapshotData>;
pub type Metrics = openraft::RaftMetrics<TypeConfig>;
pub type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
