//! The group registry: the slot groups this node is a member of (a set that can change while
//! the node runs: groups are looked up on every use, never held in a map built once), and the
//! cluster layout as this node last learned it (`topology`, rebuilt from every newer version
//! of the cluster metadata this node adopts: `adopt`). Readers take a snapshot of the layout
//! (`Arc<Topology>`) and never hold a lock.
//!
//! It also carries who this node is (its incarnation and its standing in the cluster: member,
//! enrolling, refused), the node's lifecycle (serving, handing off, closing), which both sides obey
//! during a graceful stop, and the peers that announced they are stopping (so leadership is
//! not handed back to them).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, RwLock};

use super::Group;
use crate::cluster::incarnation::{RaftId, Standing};
use crate::cluster::metadata::{ClusterMetadata, META_GROUP};
use crate::cluster::topology::Topology;
use crate::cluster::{GroupId, NodeId};
use crate::peer_view::PeerView;
use crate::raft::flusher::FlusherHandle;

/// Where a node is in its life. Only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lifecycle {
    Serving,
    /// Stopping: no elections, leadership being handed to other members; clients are still
    /// served (with `-MOVED` for groups led elsewhere) so they learn the new leaders.
    HandingOff,
    /// Stopping: no new client connections; existing ones close once idle.
    Closing,
}

pub struct GroupRegistry {
    /// The layout as of the newest metadata adopted (the command line's before any).
    topology: RwLock<Arc<Topology>>,
    /// The newest cluster metadata this node adopted; the sender wakes whoever reconciles to
    /// it (hosting groups, driving membership changes).
    metadata: tokio::sync::watch::Sender<Option<Arc<ClusterMetadata>>>,
    /// This life of the node's data directory (`cluster::incarnation`).
    incarnation: u64,
    standing: RwLock<Standing>,
    groups: RwLock<BTreeMap<GroupId, Arc<Group>>>,
    flusher: FlusherHandle,
    lifecycle: tokio::sync::watch::Sender<Lifecycle>,
    /// Peers that told us they are stopping; cleared when they handshake again after restart.
    leaving: Mutex<BTreeSet<NodeId>>,
    /// What the peers last said: leaders of groups not hosted here, and who answers at all.
    peer_view: PeerView,
}

impl GroupRegistry {
    /// A registry hosting no group yet, for incarnation `incarnation` of this node.
    pub fn new(
        topology: Arc<Topology>,
        incarnation: u64,
        standing: Standing,
        flusher: FlusherHandle,
    ) -> Self {
        Self {
            topology: RwLock::new(topology),
            metadata: tokio::sync::watch::Sender::new(None),
            incarnation,
            standing: RwLock::new(standing),
            groups: RwLock::default(),
            flusher,
            lifecycle: tokio::sync::watch::Sender::new(Lifecycle::Serving),
            leaving: Mutex::default(),
            peer_view: PeerView::default(),
        }
    }

    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// The Raft identity of this incarnation.
    pub fn self_raft_id(&self) -> RaftId {
        RaftId {
            node: self.topology().self_id(),
            incarnation: self.incarnation,
        }
    }

    pub fn standing(&self) -> Standing {
        self.standing
            .read()
            .map(|s| s.clone())
            .unwrap_or(Standing::Enrolling {
                waiting_for: Vec::new(),
            })
    }

    pub fn set_standing(&self, standing: Standing) {
        if let Ok(mut s) = self.standing.write() {
            *s = standing;
        }
    }

    pub fn peer_view(&self) -> &PeerView {
        &self.peer_view
    }

    /// The newest cluster metadata adopted here (`None` before the meta group wrote its first
    /// version and this node learned it).
    pub fn metadata(&self) -> Option<Arc<ClusterMetadata>> {
        self.metadata.borrow().clone()
    }

    /// A receiver woken by every metadata version adopted.
    pub fn watch_metadata(&self) -> tokio::sync::watch::Receiver<Option<Arc<ClusterMetadata>>> {
        self.metadata.subscribe()
    }

    /// Adopts `meta` if it is newer than what this node has: the layout is rebuilt from it.
    /// True if it was adopted (the caller records it durably before acting on it). Every
    /// version comes from the meta group's committed state, so the newest one seen is always
    /// a decision the cluster made.
    pub fn adopt(&self, meta: ClusterMetadata) -> bool {
        let newer = self
            .metadata
            .borrow()
            .as_ref()
            .is_none_or(|m| meta.version > m.version);
        if !newer {
            return false;
        }
        if let Ok(mut t) = self.topology.write() {
            *t = Arc::new(t.with_metadata(&meta));
        }
        self.metadata.send_replace(Some(Arc::new(meta)));
        true
    }

    /// Whether `id` is the incarnation the cluster counts as its node's member (true when no
    /// metadata is known yet: then the creation agreement holds, and groups have only those).
    pub fn is_member_incarnation(&self, id: RaftId) -> bool {
        self.metadata()
            .is_none_or(|m| m.raft_id(id.node) == Some(id))
    }

    /// Whether node `id` is this node or a peer that answered lately.
    pub fn peer_reachable(&self, id: NodeId) -> bool {
        id == self.topology().self_id() || self.peer_view.reachable(id)
    }

    /// The leader of group `id` as this node believes it: its own Raft state for a group it
    /// hosts, the peers' reports for one it does not.
    pub fn leader_of(&self, id: GroupId) -> Option<NodeId> {
        match self.group(id) {
            Some(group) => group.current_leader(),
            None => self.peer_view.leader(id),
        }
    }

    /// The layout as this node knows it now (a snapshot: a later change does not alter it).
    pub fn topology(&self) -> Arc<Topology> {
        self.topology
            .read()
            .map(|t| t.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    pub fn group(&self, id: GroupId) -> Option<Arc<Group>> {
        self.groups.read().ok()?.get(&id).cloned()
    }

    /// The slot groups hosted here right now, in group-id order (not the meta group: it holds
    /// no client data).
    pub fn groups(&self) -> Vec<Arc<Group>> {
        self.groups
            .read()
            .map(|g| {
                g.iter()
                    .filter(|(&id, _)| id != META_GROUP)
                    .map(|(_, g)| g.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every group hosted here, the meta group included (for the Raft side: hand-off,
    /// membership changes, shutdown).
    pub fn all_groups(&self) -> Vec<Arc<Group>> {
        self.groups
            .read()
            .map(|g| g.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The meta group, if this node hosts it.
    pub fn meta_group(&self) -> Option<Arc<Group>> {
        self.group(META_GROUP)
    }

    /// Starts hosting `group` (replacing a group of the same id).
    pub fn insert(&self, group: Group) {
        if let Ok(mut groups) = self.groups.write() {
            groups.insert(group.id(), Arc::new(group));
        }
    }

    /// Stops hosting group `id`; the caller shuts its Raft down.
    pub fn remove(&self, id: GroupId) -> Option<Arc<Group>> {
        self.groups.write().ok()?.remove(&id)
    }

    pub fn flusher(&self) -> &FlusherHandle {
        &self.flusher
    }

    pub fn lifecycle(&self) -> Lifecycle {
        *self.lifecycle.borrow()
    }

    /// A receiver that sees every lifecycle change (connections and listeners wait on it).
    pub fn watch_lifecycle(&self) -> tokio::sync::watch::Receiver<Lifecycle> {
        self.lifecycle.subscribe()
    }

    /// Moves the lifecycle forward to `next` (never backward).
    pub fn advance_lifecycle(&self, next: Lifecycle) {
        self.lifecycle.send_if_modified(|current| {
            let forward = next > *current;
            if forward {
                *current = next;
            }
            forward
        });
    }

    /// Records whether peer `id` is stopping.
    pub fn set_peer_leaving(&self, id: NodeId, leaving: bool) {
        if let Ok(mut set) = self.leaving.lock() {
            if leaving {
                set.insert(id);
            } else {
                set.remove(&id);
            }
        }
    }

    /// Whether peer `id` said it is stopping (and has not come back since).
    pub fn is_peer_leaving(&self, id: NodeId) -> bool {
        self.leaving
            .lock()
            .map(|s| s.contains(&id))
            .unwrap_or(false)
    }
}
