//! Routing: which slot group a command's keys belong to, and whether this node may serve it.
//! The outcomes are the closed set Redis's `getNodeByQuery` lists, as an enum.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::cluster::slot::key_slot;
use crate::cluster::{GroupId, NodeId};
use crate::group::{Group, GroupRegistry};

/// Where a keyed command must run.
pub enum Route {
    /// Here: this node hosts the group and may serve the command.
    Local(Local),
    /// Another node should be asked: `-MOVED slot host:port` (the address depends on the
    /// client's network, so the caller formats it).
    Moved { slot: u16, node: NodeId },
    /// No leader known for the group, even after waiting an election timeout.
    Down { group: GroupId },
}

/// A command that runs on this node.
pub struct Local {
    pub group: Arc<Group>,
    pub slot: u16,
    /// This node leads the group (as far as it knows; the proposal or read confirms it);
    /// otherwise it follows and the client allowed stale reads (`READONLY`).
    pub leader: bool,
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
    pub async fn route(&self, slot: u16, allow_follower: bool) -> Route {
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
            None => group.wait_for_leader(self.leader_wait).await,
        };
        match leader {
            Some(l) if l == self_id => Route::Local(Local {
                group,
                slot,
                leader: true,
            }),
            // A follower serves stale reads only once it has a leader and has applied what it
            // knows to be committed; right after a restart it has not.
            Some(_) if allow_follower && group.caught_up() => Route::Local(Local {
                group,
                slot,
                leader: false,
            }),
            Some(l) => Route::Moved { slot, node: l },
            None => Route::Down { group: group_id },
        }
    }
}
