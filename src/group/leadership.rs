//! Moving the leadership of slot groups on purpose: the balancer (give each group back to its
//! preferred member once that member is caught up) and a graceful stop (hand every group this
//! node leads to another up-to-date member before exiting). Must not know RESP.
//!
//! openraft's `transfer_leader` marks the leader as transferring — from then on it refuses new
//! proposals (callers get `ForwardToLeader` naming the target) and stops heartbeating — and asks
//! the target to campaign at once. The target ignores the request if its log is behind the
//! leader's last entry at that moment, which under write load is common because AppendEntries
//! are pipelined. The leader would then stay "transferring" until an election timeout makes
//! someone campaign. So `hand_off` re-sends the request until the leader has stepped down: by
//! then replication (which continues during a transfer) has brought the target up to date.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use openraft::ServerState;

use super::{Group, GroupRegistry, Lifecycle};
use crate::raft::{LogId, RaftId};

/// How often a transfer request is re-sent while the target has not taken over.
const RETRY: Duration = Duration::from_millis(100);

/// Hands leadership of `group` to voter `to`; true once this node no longer leads it.
pub async fn hand_off(group: &Group, to: RaftId, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if !group.is_leader() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        if let Err(e) = group.transfer_leader(to).await {
            tracing::debug!(group = group.id(), %to, error = %e, "transfer request failed");
        }
        let wait = RETRY.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        let _ = group
            .raft()
            .wait(Some(wait))
            .metrics(|m| m.state != ServerState::Leader, "stepped down")
            .await;
    }
}

/// The member (other than this node, not stopping) best placed to take over `group`: one whose
/// log matches the leader's last entry if there is one (several: chosen by group id, so a
/// stopping node spreads its groups over the others), else the one furthest along.
pub fn successor(registry: &GroupRegistry, group: &Group) -> Option<RaftId> {
    let self_id = registry.topology().self_id();
    let m = group.metrics();
    let last = m.last_log_index;
    let replication = m.replication.as_ref()?;
    let candidates: Vec<(RaftId, Option<u64>)> = group
        .voters()
        .into_iter()
        .filter(|id| id.node != self_id && !registry.is_peer_leaving(id.node))
        .filter(|id| registry.is_member_incarnation(*id))
        .map(|id| (id, matched(replication, id)))
        .collect();
    let caught_up: Vec<RaftId> = candidates
        .iter()
        .filter(|(_, matched)| matched.is_some() && *matched == last)
        .map(|(id, _)| *id)
        .collect();
    if !caught_up.is_empty() {
        return Some(caught_up[group.id() as usize % caught_up.len()]);
    }
    candidates
        .into_iter()
        .max_by_key(|(_, matched)| *matched)
        .map(|(id, _)| id)
}

/// Moves each group's leadership to its preferred member once that member is caught up, so
/// every node leads its share of groups (and gets it back after a restart). Never hands a
/// group to a member that announced it is stopping, and stops when this node is stopping.
pub async fn balance(registry: Arc<GroupRegistry>) {
    let self_id = registry.topology().self_id();
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        if registry.lifecycle() != Lifecycle::Serving {
            return;
        }
        for group in registry.groups() {
            let Some(&preferred) = registry.topology().members(group.id()).first() else {
                continue;
            };
            // The preferred member's current incarnation, once it is a voter (not while it is
            // still being added as a learner, nor an old incarnation being replaced).
            let Some(target) = group
                .voters()
                .into_iter()
                .find(|v| v.node == preferred && registry.is_member_incarnation(*v))
            else {
                continue;
            };
            if preferred == self_id || registry.is_peer_leaving(preferred) {
                continue;
            }
            let m = group.metrics();
            if m.state != ServerState::Leader {
                continue;
            }
            let last = m.last_log_index;
            let caught_up = m
                .replication
                .as_ref()
                .and_then(|r| matched(r, target))
                .is_some_and(|index| Some(index) == last);
            if caught_up {
                tracing::info!(
                    group = group.id(),
                    to = preferred,
                    "handing leadership to preferred member"
                );
                if !hand_off(&group, target, Duration::from_secs(2)).await {
                    tracing::warn!(
                        group = group.id(),
                        to = preferred,
                        "leader hand-off timed out"
                    );
                }
            }
        }
    }
}

/// The last log index the leader knows member `id` has.
fn matched(replication: &BTreeMap<RaftId, Option<LogId>>, id: RaftId) -> Option<u64> {
    replication
        .get(&id)
        .and_then(|matched| matched.as_ref().map(|l| l.index))
}
