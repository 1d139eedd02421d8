//! Node incarnations: a node id names a machine slot in the layout (`--node-id`), an
//! incarnation names one life of its data directory. A node that loses its directory comes back
//! with a new incarnation, and the cluster must not mistake it for the member it was: that
//! member voted and held log entries that count toward commits other nodes acknowledged, and
//! the new incarnation has neither.
//!
//! So Raft never sees bare node ids: every group's members are `RaftId`s (node and incarnation),
//! and `Incarnations` is the cluster's agreement on which incarnation of each node is the
//! member. It is settled once, when the cluster is created (`peer/enrol.rs`), and kept in every
//! node's data directory (`data_dir.rs`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::NodeId;

/// One incarnation of one node: the identity openraft knows members by.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct RaftId {
    pub node: NodeId,
    /// Random, chosen when the node's data directory was created; never 0.
    pub incarnation: u64,
}

impl fmt::Display for RaftId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:016x}", self.node, self.incarnation)
    }
}

/// openraft's storage test suite (`tests/log_store_conformance.rs`) names members by number.
/// Incarnation 0 is never a real one, so such an id can never pass for a member.
impl From<u64> for RaftId {
    fn from(node: u64) -> Self {
        RaftId {
            node,
            incarnation: 0,
        }
    }
}

/// The incarnation of every node that the cluster counts as its member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incarnations(BTreeMap<NodeId, u64>);

impl Incarnations {
    pub fn new(map: BTreeMap<NodeId, u64>) -> Self {
        Self(map)
    }

    /// The member identity of `node`, if the cluster has one.
    pub fn raft_id(&self, node: NodeId) -> Option<RaftId> {
        self.0
            .get(&node)
            .map(|&incarnation| RaftId { node, incarnation })
    }

    /// Whether `id` is the incarnation the cluster counts as its member.
    pub fn is_member(&self, id: RaftId) -> bool {
        self.0.get(&id.node) == Some(&id.incarnation)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_map(&self) -> &BTreeMap<NodeId, u64> {
        &self.0
    }
}

impl fmt::Display for Incarnations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (&node, &incarnation) in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{}", RaftId { node, incarnation })?;
        }
        Ok(())
    }
}

/// Where this node stands in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// A new data directory whose cluster has not settled the incarnations yet: the node waits
    /// for every node of the layout to answer, then for the creator to record the members (listed
    /// here: the nodes awaited).
    Enrolling { waiting_for: Vec<NodeId> },
    /// This incarnation is the cluster's member: it hosts its groups.
    Member(Incarnations),
    /// The cluster counts another incarnation of this node as its member: this one hosts no
    /// group, votes in none, and can come back only by replacing that member.
    Refused {
        incarnations: Incarnations,
        reason: String,
    },
}

impl Standing {
    /// The cluster's agreement, once this node knows it (member or refused).
    pub fn incarnations(&self) -> Option<&Incarnations> {
        match self {
            Standing::Enrolling { .. } => None,
            Standing::Member(i)
            | Standing::Refused {
                incarnations: i, ..
            } => Some(i),
        }
    }

    /// One line for operators (`slotraft-ctl status`, logs).
    pub fn describe(&self) -> String {
        match self {
            Standing::Enrolling { waiting_for } => {
                let ids: Vec<String> = waiting_for.iter().map(|n| n.to_string()).collect();
                format!(
                    "enrolling: creating the cluster, waiting for node(s) {}",
                    ids.join(", ")
                )
            }
            Standing::Member(_) => "member".to_string(),
            Standing::Refused { reason, .. } => format!("refused: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_is_by_node_and_incarnation() {
        let inc = Incarnations::new(BTreeMap::from([(1, 10), (2, 20)]));
        assert!(inc.is_member(RaftId {
            node: 1,
            incarnation: 10
        }));
        assert!(!inc.is_member(RaftId {
            node: 1,
            incarnation: 11
        }));
        assert!(!inc.is_member(RaftId {
            node: 3,
            incarnation: 10
        }));
        assert_eq!(
            inc.raft_id(2),
            Some(RaftId {
                node: 2,
                incarnation: 20
            })
        );
        assert_eq!(inc.to_string(), "1.000000000000000a 2.0000000000000014");
    }
}
