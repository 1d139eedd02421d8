//! Routing: which slot group a command's keys belong to, and whether this node may serve it.
//! The outcomes are the closed set Redis's `getNodeByQuery` lists, as an enum.

use std::time::Duration;

use bytes::Bytes;

use crate::raft::{GroupId, NodeId};
use crate::registry::{Group, GroupRegistry};
use crate::slot::key_slot;

/// Where a keyed command must run.
pub enum Route<'a> {
    /// This node leads the group (as far as it knows; openraft confirms on the way).
    Leader(&'a Group, u16),
    /// This node follows the group and the client allowed stale reads (`READONLY`).
    Follower(&'a Group, u16),
    /// Another node should be asked: `-MOVED slot host:port` (the address depends on the
    /// client's network, so the caller formats it).
    Moved { slot: u16, node: NodeId },
    /// Keys in different slots: `-CROSSSLOT`.
    CrossSlot,
    /// No leader known for the group, even after waiting an election timeout.
    Down { group: GroupId },
}

/// The single slot of `keys`, or `None` when they span several slots.
pub fn common_slot<'k>(keys: impl IntoIterator<Item = &'k Bytes>) -> Option<Option<u16>> {
    let mut slot = None;
    for key in keys {
        let s = key_slot(key);
        match slot {
            None => slot = Some(s),
            Some(prev) if prev != s => return None,
            Some(_) => {}
        }
    }
    Some(slot)
}

pub struct Router<'a> {
    pub registry: &'a GroupRegistry,
    /// How long to wait for a group without a leader to elect one.
    pub leader_wait: Duration,
}

impl<'a> Router<'a> {
    /// Routes a command on `slot`. `allow_follower`: the command is a read and the client sent
    /// `READONLY`.
    pub async fn route(&self, slot: u16, allow_follower: bool) -> Route<'a> {
        let topology = self.registry.topology();
        let group_id = topology.group_of_slot(slot);
        let Some(group) = self.registry.group(group_id) else {
            // Not a member: send the client to the leader the peers reported, or else to the
            // group's preferred member, which knows more.
            let spec = topology.group(group_id).expect("every slot has a group");
            return Route::Moved {
                slot,
                node: self.registry.leader_of(group_id).unwrap_or(spec.members[0]),
            };
        };
        let self_id = topology.self_id();
        let leader = match group.current_leader() {
            Some(leader) => Some(leader),
            None => self.wait_for_leader(group).await,
        };
        match leader {
            Some(l) if l == self_id => Route::Leader(group, slot),
            // A follower serves stale reads only once it has a leader and has applied what it
            // knows to be committed; right after a restart it has not.
            Some(_) if allow_follower && caught_up(group) => Route::Follower(group, slot),
            Some(l) => Route::Moved { slot, node: l },
            None => Route::Down { group: group_id },
        }
    }

    async fn wait_for_leader(&self, group: &Group) -> Option<NodeId> {
        let waited = group
            .raft
            .wait(Some(self.leader_wait))
            .metrics(|m| m.current_leader.is_some(), "slot group has a leader")
            .await;
        waited.ok().and_then(|m| m.current_leader)
    }
}

fn caught_up(group: &Group) -> bool {
    let m = group.metrics();
    m.current_leader.is_some()
        && m.last_applied.as_ref().map(|l| l.index) >= m.local_committed.as_ref().map(|c| c.index)
}
