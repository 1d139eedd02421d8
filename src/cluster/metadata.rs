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
use super::topology::Topology;
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
    /// The first version: the layout of `--initial-cluster` with the incarnations agreed at
    /// creation. Every node computes the same one, so whichever meta leader writes it first
    /// writes what the others would have.
    pub fn initial(topology: &Topology, agreed: &Incarnations) -> Self {
        let nodes = topology
            .nodes()
            .iter()
            .map(|(&id, addr)| {
                let record = NodeRecord {
                    addr: addr.clone(),
                    incarnation: agreed.raft_id(id).map_or(0, |r| r.incarnation),
                    state: NodeState::Active,
                };
                (id, record)
            })
            .collect::<BTreeMap<_, _>>();
        let meta = nodes.keys().copied().take(meta_size(nodes.len())).collect();
        Self {
            version: 1,
            nodes,
            groups: topology
                .groups()
                .iter()
                .map(|g| g.members.clone())
                .collect(),
            meta,
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::topology::parse_initial_cluster;

    fn three() -> ClusterMetadata {
        let nodes = parse_initial_cluster(
            "1=127.0.0.1:7001@17001,2=127.0.0.1:7002@17002,3=127.0.0.1:7003@17003",
        )
        .unwrap();
        let t = Topology::new(1, nodes, 4, 3).unwrap();
        let agreed = Incarnations::new(BTreeMap::from([(1, 10), (2, 20), (3, 30)]));
        ClusterMetadata::initial(&t, &agreed)
    }

    #[test]
    fn the_initial_version_is_the_command_line_layout() {
        let m = three();
        assert_eq!(m.version, 1);
        assert_eq!(m.groups[0], vec![1, 2, 3]);
        assert_eq!(m.groups[1], vec![2, 3, 1]);
        assert_eq!(m.meta, vec![1, 2, 3]);
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
}
