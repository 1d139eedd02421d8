//! What this node has heard from its peers: the leader each peer believes its slot groups have,
//! and when each peer last answered. Every node asks every peer twice a second (`Leaders` on
//! the peer channel; the loop is in `node.rs`).
//!
//! Why: a node that does not host a group (`--replicas` below the node count) has no Raft
//! state of it, yet must show clients the same master for it as every other node does, or a
//! client that sends a command "to every primary" (`SCAN`, `DBSIZE`, `FLUSHALL`) would miss
//! the group. And `CLUSTER NODES` reports a peer that stopped answering as `fail?`, as Redis
//! marks a node it cannot reach.
//!
//! Plain data behind a lock: it knows neither gRPC nor openraft nor RESP.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cluster::incarnation::RaftId;
use crate::cluster::{GroupId, NodeId};

/// A peer not heard from for this long is shown as unreachable.
pub const UNREACHABLE_AFTER: Duration = Duration::from_secs(3);

/// One peer's report on one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderReport {
    pub group: GroupId,
    /// The leader the peer believes the group has.
    pub leader: Option<NodeId>,
    /// The peer's current term in the group.
    pub term: u64,
    /// The group's members (voters and learners) in the configuration the peer knows to be
    /// committed, when that configuration is not joint.
    pub members: Option<Vec<RaftId>>,
}

/// The best knowledge of one group's leader: the newest term reported, and the last leader
/// known (kept while a newer term has not yet elected one, so clients are not sent to a
/// random member during an election).
#[derive(Debug, Clone, Copy, Default)]
struct Hint {
    term: u64,
    leader: Option<NodeId>,
}

pub struct PeerView {
    hints: Mutex<BTreeMap<GroupId, Hint>>,
    /// Per group: the committed configuration its leader reported of itself, with the term.
    /// A node drops its copy of a group it is no longer meant to be in only once the leader
    /// says the group committed a configuration without it.
    configs: Mutex<BTreeMap<GroupId, (u64, Vec<RaftId>)>>,
    heard: Mutex<BTreeMap<NodeId, Instant>>,
    /// Peers count as reachable until they have had `UNREACHABLE_AFTER` to answer.
    started: Instant,
}

impl Default for PeerView {
    fn default() -> Self {
        Self {
            hints: Mutex::default(),
            configs: Mutex::default(),
            heard: Mutex::default(),
            started: Instant::now(),
        }
    }
}

impl PeerView {
    /// Records that `from` answered, with its reports.
    pub fn record(&self, from: NodeId, reports: &[LeaderReport]) {
        if let Ok(mut heard) = self.heard.lock() {
            heard.insert(from, Instant::now());
        }
        if let Ok(mut configs) = self.configs.lock() {
            for r in reports {
                // Only a leader's word on its own group: it alone knows what committed.
                let (Some(members), true) = (&r.members, r.leader == Some(from)) else {
                    continue;
                };
                let newer = configs.get(&r.group).is_none_or(|(t, _)| r.term >= *t);
                if newer {
                    configs.insert(r.group, (r.term, members.clone()));
                }
            }
        }
        let Ok(mut hints) = self.hints.lock() else {
            return;
        };
        for r in reports {
            let hint = hints.entry(r.group).or_default();
            // Raft elects at most one leader per term: a report of a newer term supersedes,
            // and within one term a report that names the leader completes one that did not.
            if r.term > hint.term {
                hint.term = r.term;
                if r.leader.is_some() {
                    hint.leader = r.leader;
                }
            } else if r.term == hint.term && r.leader.is_some() {
                hint.leader = r.leader;
            }
        }
    }

    /// The leader of `group` as the peers last reported it.
    pub fn leader(&self, group: GroupId) -> Option<NodeId> {
        self.hints.lock().ok()?.get(&group).and_then(|h| h.leader)
    }

    /// The members of `group` in the newest committed configuration a leader reported.
    pub fn committed_members(&self, group: GroupId) -> Option<Vec<RaftId>> {
        self.configs
            .lock()
            .ok()?
            .get(&group)
            .map(|(_, m)| m.clone())
    }

    /// Whether `node` answered within `UNREACHABLE_AFTER` (or this node started only just).
    pub fn reachable(&self, node: NodeId) -> bool {
        let now = Instant::now();
        if now.duration_since(self.started) < UNREACHABLE_AFTER {
            return true;
        }
        self.heard
            .lock()
            .ok()
            .and_then(|h| h.get(&node).copied())
            .is_some_and(|t| now.duration_since(t) < UNREACHABLE_AFTER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(group: GroupId, leader: Option<NodeId>, term: u64) -> LeaderReport {
        LeaderReport {
            group,
            leader,
            term,
            members: None,
        }
    }

    #[test]
    fn newer_terms_supersede_and_an_election_keeps_the_last_known_leader() {
        let view = PeerView::default();
        assert_eq!(view.leader(0), None);
        view.record(2, &[report(0, Some(1), 3)]);
        assert_eq!(view.leader(0), Some(1));
        // A stale report (an old leader cut off from the others) changes nothing.
        view.record(3, &[report(0, Some(3), 2)]);
        assert_eq!(view.leader(0), Some(1));
        // An election started (term 4, no leader yet): keep sending clients to the last one.
        view.record(3, &[report(0, None, 4)]);
        assert_eq!(view.leader(0), Some(1));
        // Someone who knows the winner of term 4.
        view.record(2, &[report(0, Some(2), 4)]);
        assert_eq!(view.leader(0), Some(2));
        // A member that has not heard of the winner yet does not erase it.
        view.record(3, &[report(0, None, 4)]);
        assert_eq!(view.leader(0), Some(2));
    }

    #[test]
    fn a_peer_that_stops_answering_becomes_unreachable() {
        let view = PeerView {
            started: Instant::now() - UNREACHABLE_AFTER * 2,
            ..PeerView::default()
        };
        assert!(!view.reachable(2), "never heard from");
        view.record(2, &[]);
        assert!(view.reachable(2));
        view.heard
            .lock()
            .unwrap()
            .insert(2, Instant::now() - UNREACHABLE_AFTER);
        assert!(!view.reachable(2));
        // Right after a start every peer is given time to answer.
        assert!(PeerView::default().reachable(2));
    }
}
