//! What every node of a cluster agrees on, shared by the RESP side and the Raft side: node and
//! group identifiers and addresses, the hash-slot function (`slot`) and the layout of nodes and
//! slot groups (`topology`). A leaf: no tokio, openraft, tonic or RESP inside.

pub mod incarnation;
pub mod metadata;
pub mod slot;
pub mod topology;

use std::fmt;

use serde::{Deserialize, Serialize};

/// A node's id in `--initial-cluster` (each life of its data directory is an incarnation:
/// `incarnation::RaftId`).
pub type NodeId = u64;
/// A slot group's id: its position among the groups, in slot order.
pub type GroupId = u32;

/// Where a node can be reached; stored in each group's membership.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAddr {
    /// `host:port` of the RESP listener, as clients should dial it.
    pub resp: String,
    /// `host:port` of the gRPC listener, as peers should dial it.
    pub grpc: String,
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.resp, self.grpc)
    }
}
