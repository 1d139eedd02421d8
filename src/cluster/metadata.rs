//! The cluster's metadata: the node registry (each node's addresses, the incarnation the cluster
//! counts as its member, and its state), each slot group's intended members, and the meta
//! group's own intended members. It is kept in the meta group (a Raft group of its own, on up
//! to 3 or 5 nodes), so every change to it is a committed, ordered decision; every node follows
//! the newest version it has seen and reconciles to it.
//!
//! What the metadata says is intent. A group's own Raft configuration stays the authority for
//! its quorum: the group's leader moves the configuration toward the intended members one
//! change at a time (`group/membership.rs`), learner first. A node that is no longer an intended
//! member drops its copy of a group only after the group committed a configuration without it.
//!
//! The operations an operator asks for (`replace_node`, `move_replica`, ...) are pure functions
//! from one version to the next, refused with a sentence when they would leave a group without
//! a quorum or name nodes that cannot take part. A leaf: no tokio, openraft or network.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::incarnation::{Incarnations, RaftId};
use super::{GroupId, NodeAddr, NodeId};

/// The meta group's id; never a slot group's (those count up from 0).
pub const META_GROUP: GroupId = u32::MAX;

/// How many nodes of a new cluster host the meta group.
pub fn meta_size(nodes: usize) -> usize {
    if nodes >= 5 {
        5
    } else {
        nodes.min(3)
    }
}

/// A node's part in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeState {
    /// Registered (`--join`), holds nothing yet; `add-node` makes it active.
    Joining,
    /// Takes replicas.
    Active,
    /// Being emptied (`remove-node`): its replicas move to other nodes.
    Draining,
    /// Gone: holds nothing, and its id is not reused for a member.
    Removed,
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeState::Joining => "joining",
            NodeState::Active => "active",
            NodeState::Draining => "draining",
            NodeState::Removed => "removed",
        })
    }
}

/// One node in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub addr: NodeAddr,
    /// The RESP address for clients outside the cluster network (`--external-cluster`), if
    /// the cluster uses one.
    #[serde(default)]
    pub external: Option<String>,
    /// The incarnation the cluster counts as this node's member.
    pub incarnation: u64,
    pub state: NodeState,
}

/// Everything the meta group records. `version` grows by one with every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterMetadata {
    pub version: u64,
    pub nodes: BTreeMap<NodeId, NodeRecord>,
    /// Intended members of each slot group, indexed by group id; the first is the preferred
    /// leader. The slot ranges are fixed at creation (moving slots is not a membership change).
    pub groups: Vec<Vec<NodeId>>,
    /// Intended members of the meta group.
    pub meta: Vec<NodeId>,
}

/// Why an operation was refused; the text is what the operator reads.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum MetadataError {
    #[error("node {0} is not in the cluster")]
    UnknownNode(NodeId),
    #[error("slot group {0} does not exist")]
    UnknownGroup(GroupId),
    #[error("node {node} is {state}, so it cannot {what}")]
    WrongState {
        node: NodeId,
        state: NodeState,
        what: &'static str,
    },
    #[error("node {node} is already a member of slot group {group}")]
    AlreadyMember { node: NodeId, group: String },
    #[error("node {node} is not a member of slot group {group}")]
    NotMember { node: NodeId, group: String },
    #[error("node {node}'s member is already incarnation {incarnation:016x}: nothing to replace")]
    SameIncarnation { node: NodeId, incarnation: u64 },
    #[error("{0}")]
    Refused(String),
}

fn group_name(id: GroupId) -> String {
    if id == META_GROUP {
        "meta".to_string()
    } else {
        id.to_string()
    }
}

impl ClusterMetadata {
    /// The intended members of group `id` (a slot group or `META_GROUP`).
    pub fn members(&self, id: GroupId) -> Option<&[NodeId]> {
        if id == META_GROUP {
            return Some(&self.meta);
        }
        self.groups.get(id as usize).map(Vec::as_slice)
    }

    fn members_mut(&mut self, id: GroupId) -> Result<&mut Vec<NodeId>, MetadataError> {
        if id == META_GROUP {
            return Ok(&mut self.meta);
        }
        self.groups
            .get_mut(id as usize)
            .ok_or(MetadataError::UnknownGroup(id))
    }

    /// Every group id: the slot groups, then the meta group.
    pub fn group_ids(&self) -> impl Iterator<Item = GroupId> + '_ {
        (0..self.groups.len() as GroupId).chain(std::iter::once(META_GROUP))
    }

    /// The Raft identity the cluster counts as node `node`'s member.
    pub fn raft_id(&self, node: NodeId) -> Option<RaftId> {
        self.nodes
            .get(&node)
            .filter(|r| r.state != NodeState::Removed && r.incarnation != 0)
            .map(|r| RaftId {
                node,
                incarnation: r.incarnation,
            })
    }

    /// The intended voters of group `id` as Raft identities.
    pub fn intended_voters(&self, id: GroupId) -> Vec<RaftId> {
        self.members(id)
            .unwrap_or_default()
            .iter()
            .filter_map(|&n| self.raft_id(n))
            .collect()
    }

    /// The member incarnation of every node that is not removed (what enrolment and the
    /// handshake compare a node's incarnation with).
    pub fn incarnations(&self) -> Incarnations {
        Incarnations::new(
            self.nodes
                .iter()
                .filter(|(_, r)| r.state != NodeState::Removed)
                .map(|(&id, r)| (id, r.incarnation))
                .collect(),
        )
    }

    /// The groups (slot groups and meta) whose intended members include `node`.
    pub fn groups_of(&self, node: NodeId) -> Vec<GroupId> {
        self.group_ids()
            .filter(|&g| self.members(g).is_some_and(|m| m.contains(&node)))
            .collect()
    }

    fn record(&self, node: NodeId) -> Result<&NodeRecord, MetadataError> {
        self.nodes
            .get(&node)
            .ok_or(MetadataError::UnknownNode(node))
    }

    fn next(&self) -> Self {
        let mut next = self.clone();
        next.version += 1;
        next
    }

    /// `replace-node DEAD NEW` with `NEW == DEAD`: the node came back with a new data
    /// directory (incarnation `incarnation`) and is admitted as the member in place of its old
    /// self. Every group it was a member of replaces the old incarnation by the new one (a
    /// membership change each: the new one is a learner until it has caught up).
    pub fn readmit(&self, node: NodeId, incarnation: u64) -> Result<Self, MetadataError> {
        let record = self.record(node)?;
        if record.state == NodeState::Removed {
            return Err(MetadataError::WrongState {
                node,
                state: record.state,
                what: "be readmitted (a removed node's id is not reused)",
            });
        }
        if record.incarnation == incarnation {
            return Err(MetadataError::SameIncarnation { node, incarnation });
        }
        if incarnation == 0 {
            return Err(MetadataError::Refused(
                "incarnation 0 is never a real one".into(),
            ));
        }
        let mut next = self.next();
        next.nodes.get_mut(&node).expect("checked").incarnation = incarnation;
        Ok(next)
    }

    /// `replace-node DEAD NEW` with two nodes: every group `dead` is an intended member of gets
    /// `new` in its place (same position, so preferred leadership moves with it), and `dead`
    /// is removed from the registry. `new` must be an active or joining node that is a member
    /// of none of those groups.
    pub fn replace(&self, dead: NodeId, new: NodeId) -> Result<Self, MetadataError> {
        if dead == new {
            return Err(MetadataError::Refused(
                "replacing a node by itself: to readmit a node that lost its data directory, \
                 use replace-node with the same id once it runs again (readmit)"
                    .into(),
            ));
        }
        self.record(dead)?;
        let target = self.record(new)?;
        if !matches!(target.state, NodeState::Active | NodeState::Joining) {
            return Err(MetadataError::WrongState {
                node: new,
                state: target.state,
                what: "take replicas",
            });
        }
        let mut next = self.next();
        for g in self.groups_of(dead) {
            let members = next.members_mut(g)?;
            if members.contains(&new) {
                return Err(MetadataError::AlreadyMember {
                    node: new,
                    group: group_name(g),
                });
            }
            for m in members.iter_mut() {
                if *m == dead {
                    *m = new;
                }
            }
        }
        next.nodes.get_mut(&new).expect("checked").state = NodeState::Active;
        next.nodes.get_mut(&dead).expect("checked").state = NodeState::Removed;
        Ok(next)
    }

    /// `move-replica --group G --from A --to B`: B takes A's place among G's intended members.
    pub fn move_replica(
        &self,
        group: GroupId,
        from: NodeId,
        to: NodeId,
    ) -> Result<Self, MetadataError> {
        self.record(from)?;
        let target = self.record(to)?;
        if target.state != NodeState::Active {
            return Err(MetadataError::WrongState {
                node: to,
                state: target.state,
                what: "take replicas",
            });
        }
        let mut next = self.next();
        let members = next.members_mut(group)?;
        if members.contains(&to) {
            return Err(MetadataError::AlreadyMember {
                node: to,
                group: group_name(group),
            });
        }
        let Some(slot) = members.iter_mut().find(|m| **m == from) else {
            return Err(MetadataError::NotMember {
                node: from,
                group: group_name(group),
            });
        };
        *slot = to;
        Ok(next)
    }
}

impl ClusterMetadata {
    /// A node started with `--join` registers: known by its addresses and incarnation, holding
    /// nothing until `add-node` makes it active. Registering again as the same incarnation is
    /// answered with the same version (a retried join); another incarnation of a registered
    /// node is refused (it lost its data directory: `replace-node` readmits it).
    pub fn register(
        &self,
        node: NodeId,
        addr: NodeAddr,
        external: Option<String>,
        incarnation: u64,
    ) -> Result<Option<Self>, MetadataError> {
        if node == 0 || incarnation == 0 {
            return Err(MetadataError::Refused(
                "node id and incarnation must not be 0".into(),
            ));
        }
        // The addresses come from the network: every peer will dial them.
        let host_port = |a: &str| {
            a.rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0))
        };
        for a in [Some(&addr.resp), Some(&addr.grpc), external.as_ref()]
            .into_iter()
            .flatten()
        {
            if !host_port(a) || a.contains(['@', ',', '=']) {
                return Err(MetadataError::Refused(format!(
                    "address '{a}' is not HOST:PORT"
                )));
            }
        }
        if let Some(record) = self.nodes.get(&node) {
            if record.state == NodeState::Removed {
                return Err(MetadataError::WrongState {
                    node,
                    state: record.state,
                    what: "join again (a removed node's id is not reused: pick a new --node-id)",
                });
            }
            if record.incarnation != incarnation {
                return Err(MetadataError::Refused(format!(
                    "node {node} is already in the cluster as incarnation {:016x}; this is \
                     incarnation {incarnation:016x} (a new data directory): readmit it with \
                     `slotraft-ctl replace-node {node} {node}`",
                    record.incarnation
                )));
            }
            if record.addr != addr {
                return Err(MetadataError::Refused(format!(
                    "node {node} is registered with addresses {}, not {addr}",
                    record.addr
                )));
            }
            return Ok(None);
        }
        if let Some((other, _)) = self.nodes.iter().find(|(_, r)| {
            r.state != NodeState::Removed && (r.addr.resp == addr.resp || r.addr.grpc == addr.grpc)
        }) {
            return Err(MetadataError::Refused(format!(
                "address {addr} is already node {other}'s"
            )));
        }
        let mut next = self.next();
        next.nodes.insert(
            node,
            NodeRecord {
                addr,
                external,
                incarnation,
                state: NodeState::Joining,
            },
        );
        Ok(Some(next))
    }

    /// `add-node ID`: a registered (joining) node becomes active, and the replicas and
    /// preferred leaderships are spread again so that it takes its share (`rebalance`).
    pub fn add_node(&self, node: NodeId) -> Result<Self, MetadataError> {
        let record = self.record(node)?;
        match record.state {
            NodeState::Joining | NodeState::Active => {}
            state => {
                return Err(MetadataError::WrongState {
                    node,
                    state,
                    what: "be added",
                })
            }
        }
        let mut next = self.next();
        next.nodes.get_mut(&node).expect("checked").state = NodeState::Active;
        next.spread();
        Ok(next)
    }

    /// `remove-node ID`: the node's replicas move to the other active nodes (each to the least
    /// loaded node not already in the group), it stops being a preferred leader, and it is
    /// marked draining until no group's configuration holds it (then removed: `finish_drain`).
    /// Refused when the other active nodes are too few to keep every group at its size: the
    /// group would be left with fewer replicas, and one more failure without a quorum.
    pub fn remove_node(&self, node: NodeId) -> Result<Self, MetadataError> {
        let record = self.record(node)?;
        if matches!(record.state, NodeState::Removed) {
            return Err(MetadataError::WrongState {
                node,
                state: record.state,
                what: "be removed again",
            });
        }
        let mut next = self.next();
        next.nodes.get_mut(&node).expect("checked").state = NodeState::Draining;
        for g in self.groups_of(node) {
            let size = self.members(g).map_or(0, |m| m.len());
            let Some(to) = next.least_loaded_outside(g) else {
                return Err(MetadataError::Refused(format!(
                    "removing node {node} would leave {} with {} of its {size} replicas: \
                     there is no other active node to take its place (add a node first)",
                    if g == META_GROUP {
                        "the meta group".to_string()
                    } else {
                        format!("slot group {g}")
                    },
                    size - 1
                )));
            };
            for m in next.members_mut(g)?.iter_mut() {
                if *m == node {
                    *m = to;
                }
            }
        }
        next.spread();
        Ok(next)
    }

    /// A draining node that no group's committed configuration holds any more is removed.
    /// `still_held(node)`: whether some group's configuration still has it.
    pub fn finish_drain(&self, still_held: impl Fn(NodeId) -> bool) -> Option<Self> {
        let done: Vec<NodeId> = self
            .nodes
            .iter()
            .filter(|(&id, r)| {
                r.state == NodeState::Draining && self.groups_of(id).is_empty() && !still_held(id)
            })
            .map(|(&id, _)| id)
            .collect();
        if done.is_empty() {
            return None;
        }
        let mut next = self.next();
        for id in done {
            next.nodes.get_mut(&id).expect("listed").state = NodeState::Removed;
        }
        Some(next)
    }

    /// `rebalance`: replicas and preferred leaderships spread evenly over the active nodes.
    /// `None` when they already are.
    pub fn rebalance(&self) -> Option<Self> {
        let mut next = self.next();
        next.spread();
        (next.groups != self.groups || next.meta != self.meta).then_some(next)
    }

    fn active(&self) -> Vec<NodeId> {
        self.nodes
            .iter()
            .filter(|(_, r)| r.state == NodeState::Active)
            .map(|(&id, _)| id)
            .collect()
    }

    /// Slot-group replicas per active node.
    fn load(&self) -> BTreeMap<NodeId, usize> {
        let mut load: BTreeMap<NodeId, usize> = self.active().into_iter().map(|n| (n, 0)).collect();
        for members in &self.groups {
            for m in members {
                if let Some(c) = load.get_mut(m) {
                    *c += 1;
                }
            }
        }
        load
    }

    /// The active node with the fewest replicas that is not a member of group `g` (lowest id
    /// among equals, so every node computes the same plan).
    fn least_loaded_outside(&self, g: GroupId) -> Option<NodeId> {
        let members = self.members(g).unwrap_or_default();
        self.load()
            .into_iter()
            .filter(|(n, _)| !members.contains(n))
            .min_by_key(|&(n, c)| (c, n))
            .map(|(n, _)| n)
    }

    /// Moves replicas from the most to the least loaded active node until they differ by at
    /// most one, then evens out preferred leaderships (the first member of each group) by
    /// reordering members, which needs no Raft change. Deterministic.
    fn spread(&mut self) {
        loop {
            let load = self.load();
            let (Some((&max_node, &max)), Some((&min_node, &min))) = (
                load.iter()
                    .max_by_key(|&(n, c)| (*c, std::cmp::Reverse(*n))),
                load.iter().min_by_key(|&(n, c)| (*c, *n)),
            ) else {
                return;
            };
            if max <= min + 1 {
                break;
            }
            let Some(g) = (0..self.groups.len()).find(|&g| {
                self.groups[g].contains(&max_node) && !self.groups[g].contains(&min_node)
            }) else {
                break;
            };
            for m in self.groups[g].iter_mut() {
                if *m == max_node {
                    *m = min_node;
                }
            }
        }
        // Preferred leaders: move the first position to the member leading the fewest.
        loop {
            let mut leads: BTreeMap<NodeId, usize> =
                self.active().into_iter().map(|n| (n, 0)).collect();
            for members in &self.groups {
                if let Some(c) = members.first().and_then(|f| leads.get_mut(f)) {
                    *c += 1;
                }
            }
            let mut moved = false;
            for g in 0..self.groups.len() {
                let Some(&first) = self.groups[g].first() else {
                    continue;
                };
                let first_leads = leads.get(&first).copied().unwrap_or(usize::MAX);
                let best = self.groups[g]
                    .iter()
                    .enumerate()
                    .skip(1)
                    .filter_map(|(i, n)| leads.get(n).map(|c| (*c, *n, i)))
                    .min();
                if let Some((c, n, i)) = best {
                    if c + 1 < first_leads {
                        self.groups[g].swap(0, i);
                        if let Some(x) = leads.get_mut(&first) {
                            *x -= 1;
                        }
                        *leads.get_mut(&n).expect("active") += 1;
                        moved = true;
                    }
                }
            }
            if !moved {
                break;
            }
        }
        // The meta group keeps its members unless one is no longer active.
        let active = self.active();
        for i in 0..self.meta.len() {
            if !active.contains(&self.meta[i]) {
                if let Some(&to) = active.iter().find(|n| !self.meta.contains(n)) {
                    self.meta[i] = to;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three nodes, four groups of three replicas, as `Topology::first_metadata` lays them out.
    fn three() -> ClusterMetadata {
        let nodes = (1..=3)
            .map(|id| {
                let record = NodeRecord {
                    addr: NodeAddr {
                        resp: format!("127.0.0.1:700{id}"),
                        grpc: format!("127.0.0.1:1700{id}"),
                    },
                    external: None,
                    incarnation: id * 10,
                    state: NodeState::Active,
                };
                (id, record)
            })
            .collect();
        ClusterMetadata {
            version: 1,
            nodes,
            groups: vec![vec![1, 2, 3], vec![2, 3, 1], vec![3, 1, 2], vec![1, 2, 3]],
            meta: vec![1, 2, 3],
        }
    }

    #[test]
    fn intended_voters_are_the_member_incarnations() {
        let m = three();
        assert_eq!(
            m.intended_voters(0),
            vec![
                RaftId {
                    node: 1,
                    incarnation: 10
                },
                RaftId {
                    node: 2,
                    incarnation: 20
                },
                RaftId {
                    node: 3,
                    incarnation: 30
                },
            ]
        );
        assert_eq!(meta_size(1), 1);
        assert_eq!(meta_size(4), 3);
        assert_eq!(meta_size(7), 5);
    }

    #[test]
    fn readmitting_a_wiped_node_changes_only_its_incarnation() {
        let m = three();
        let next = m.readmit(2, 21).unwrap();
        assert_eq!(next.version, 2);
        assert_eq!(next.groups, m.groups);
        assert_eq!(next.raft_id(2).unwrap().incarnation, 21);
        assert!(next.incarnations().is_member(RaftId {
            node: 2,
            incarnation: 21
        }));
        assert_eq!(
            m.readmit(2, 20),
            Err(MetadataError::SameIncarnation {
                node: 2,
                incarnation: 20
            })
        );
        assert_eq!(m.readmit(9, 1), Err(MetadataError::UnknownNode(9)));
    }

    #[test]
    fn replacing_a_node_puts_the_new_one_in_its_place_everywhere() {
        let mut m = three();
        m.nodes.insert(
            4,
            NodeRecord {
                addr: NodeAddr::default(),
                external: None,
                incarnation: 40,
                state: NodeState::Joining,
            },
        );
        let next = m.replace(2, 4).unwrap();
        assert_eq!(next.groups[0], vec![1, 4, 3]);
        assert_eq!(next.groups[1], vec![4, 3, 1]);
        assert_eq!(next.meta, vec![1, 4, 3]);
        assert_eq!(next.nodes[&2].state, NodeState::Removed);
        assert_eq!(next.nodes[&4].state, NodeState::Active);
        assert_eq!(next.raft_id(2), None);
        assert!(!next.incarnations().as_map().contains_key(&2));
        assert!(m.replace(2, 2).is_err());
        assert!(next.replace(1, 2).is_err(), "a removed node takes nothing");
    }

    #[test]
    fn moving_a_replica_keeps_the_group_size() {
        let mut m = three();
        m.nodes.insert(
            4,
            NodeRecord {
                addr: NodeAddr::default(),
                external: None,
                incarnation: 40,
                state: NodeState::Active,
            },
        );
        let next = m.move_replica(1, 3, 4).unwrap();
        assert_eq!(next.groups[1], vec![2, 4, 1]);
        assert!(matches!(
            m.move_replica(1, 3, 2),
            Err(MetadataError::AlreadyMember { .. })
        ));
        assert!(matches!(
            m.move_replica(1, 4, 3),
            Err(MetadataError::AlreadyMember { .. })
        ));
        assert_eq!(m.move_replica(9, 1, 4), Err(MetadataError::UnknownGroup(9)));
        let meta = m.move_replica(META_GROUP, 1, 4).unwrap();
        assert_eq!(meta.meta, vec![4, 2, 3]);
    }

    fn with_node(mut m: ClusterMetadata, id: NodeId, state: NodeState) -> ClusterMetadata {
        m.nodes.insert(
            id,
            NodeRecord {
                addr: NodeAddr {
                    resp: format!("h:{id}"),
                    grpc: format!("h:1{id}"),
                },
                external: None,
                incarnation: id * 10,
                state,
            },
        );
        m
    }

    fn replicas_per_node(m: &ClusterMetadata) -> BTreeMap<NodeId, usize> {
        m.load()
    }

    #[test]
    fn a_joining_node_registers_once_and_a_new_incarnation_of_it_is_refused() {
        let m = three();
        let addr = NodeAddr {
            resp: "h:7004".into(),
            grpc: "h:17004".into(),
        };
        let next = m.register(4, addr.clone(), None, 40).unwrap().unwrap();
        assert_eq!(next.nodes[&4].state, NodeState::Joining);
        assert!(next.groups_of(4).is_empty(), "joining nodes hold nothing");
        assert_eq!(
            next.register(4, addr.clone(), None, 40),
            Ok(None),
            "a retried join"
        );
        let err = next
            .register(4, addr.clone(), None, 41)
            .unwrap_err()
            .to_string();
        assert!(err.contains("replace-node 4 4"), "{err}");
        let taken = NodeAddr {
            resp: "127.0.0.1:7001".into(),
            grpc: "x:1".into(),
        };
        assert!(m.register(5, taken, None, 50).is_err(), "an address in use");
        let bad = NodeAddr {
            resp: "h:0".into(),
            grpc: "h:17005".into(),
        };
        let err = m.register(5, bad, None, 50).unwrap_err().to_string();
        assert_eq!(err, "address 'h:0' is not HOST:PORT");
    }

    #[test]
    fn adding_a_node_gives_it_its_share_of_replicas_and_leaderships() {
        let m = ClusterMetadata {
            groups: (0..12)
                .map(|g| vec![1 + g % 3, 1 + (g + 1) % 3, 1 + (g + 2) % 3])
                .collect(),
            ..three()
        };
        let m = with_node(m, 4, NodeState::Joining);
        let next = m.add_node(4).unwrap();
        let load = replicas_per_node(&next);
        assert_eq!(load.values().sum::<usize>(), 36);
        assert!(load.values().all(|&c| c == 9), "{load:?}");
        let mut leads = BTreeMap::new();
        for g in &next.groups {
            *leads.entry(g[0]).or_insert(0) += 1;
            let distinct: std::collections::BTreeSet<_> = g.iter().collect();
            assert_eq!(distinct.len(), 3, "no node twice in a group: {g:?}");
        }
        assert!(leads.values().all(|&c| c == 3), "{leads:?}");
        assert_eq!(next.rebalance(), None, "already balanced");
    }

    #[test]
    fn removing_a_node_moves_its_replicas_or_is_refused_without_room() {
        let m = three();
        let err = m.remove_node(2).unwrap_err().to_string();
        assert!(
            err.contains("would leave slot group 0 with 2 of its 3 replicas"),
            "{err}"
        );
        let m4 = with_node(three(), 4, NodeState::Active);
        let next = m4.remove_node(2).unwrap();
        assert_eq!(next.nodes[&2].state, NodeState::Draining);
        assert!(next.groups_of(2).is_empty());
        assert!(next.groups.iter().all(|g| g.len() == 3));
        assert!(!next.meta.contains(&2));
        // Removed once no configuration holds it any more.
        assert_eq!(next.finish_drain(|n| n == 2), None);
        let done = next.finish_drain(|_| false).unwrap();
        assert_eq!(done.nodes[&2].state, NodeState::Removed);
    }
}
