//! The group registry: the slot groups this node is a member of, each with its openraft handle
//! and the applied state the RESP side reads. This is where the RESP side (commands, routing)
//! and the peer side (gRPC, Raft) meet; neither knows the other.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::raft::flusher::FlusherHandle;
use crate::raft::state_machine::SharedState;
use openraft::async_runtime::watch::WatchReceiver;

use crate::raft::{GroupId, Metrics, NodeId, Raft};
use crate::topology::{GroupSpec, Topology};

/// One slot group hosted here.
pub struct Group {
    pub spec: GroupSpec,
    pub raft: Raft,
    /// The applied keyspace, read after openraft confirms a read is linearizable.
    pub state: SharedState,
}

impl Group {
    pub fn id(&self) -> GroupId {
        self.spec.id
    }

    /// The leader as this node currently believes it to be (may be stale; writes and
    /// linearizable reads confirm it through openraft).
    pub fn current_leader(&self) -> Option<NodeId> {
        // Read one field and release the borrow at once (on every command: no full clone).
        self.raft.metrics().borrow_watched().current_leader
    }

    /// A copy of the group's Raft metrics.
    pub fn metrics(&self) -> Metrics {
        // Clone out of the watch at once: holding the borrow can deadlock openraft.
        self.raft.metrics().borrow_watched().clone()
    }
}

pub struct GroupRegistry {
    topology: Arc<Topology>,
    groups: BTreeMap<GroupId, Group>,
    flusher: FlusherHandle,
}

impl GroupRegistry {
    pub fn new(topology: Arc<Topology>, groups: Vec<Group>, flusher: FlusherHandle) -> Self {
        let groups = groups.into_iter().map(|g| (g.id(), g)).collect();
        Self {
            topology,
            groups,
            flusher,
        }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    pub fn group(&self, id: GroupId) -> Option<&Group> {
        self.groups.get(&id)
    }

    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    pub fn flusher(&self) -> &FlusherHandle {
        &self.flusher
    }
}
