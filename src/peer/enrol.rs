//! Enrolment: how a node whose data directory is new learns where it stands, before it hosts
//! any slot group.
//!
//! It asks every node of the layout (by handshake) which incarnations the cluster counts as
//! members. If any peer knows them, the cluster already exists: this incarnation is the member
//! only if the agreement names it (it was recorded, then the node crashed before keeping it);
//! otherwise the node is a new life of an old member — its directory was emptied or replaced,
//! and it holds none of the votes and entries that member promised — and it is refused: it
//! hosts no group and votes in none.
//!
//! If no peer knows them, the cluster is being created. One node decides, the lowest id of the
//! layout (the creator): once every node has answered, it records every answering incarnation
//! as the members; the others adopt that agreement from whichever node has it. Creation
//! therefore needs every node of `--initial-cluster` up once. A node that reaches no one waits:
//! it cannot tell a new cluster from an old one it lost track of, and guessing "new" is exactly
//! how a wiped node would rejoin with nothing.
//!
//! It must not know the data directory: `node.rs` records what this decides.

use std::collections::BTreeMap;
use std::time::Duration;

use super::handshake::{ask, HandshakeError};
use super::peers::Peers;
use crate::cluster::incarnation::{Incarnations, RaftId, Standing};
use crate::cluster::NodeId;
use crate::group::GroupRegistry;

/// How often the peers that have not settled it are asked again.
const RETRY: Duration = Duration::from_millis(300);

/// Asks the peers until this incarnation's standing is settled (member or refused); meanwhile
/// the registry shows it as enrolling, with the nodes still awaited. An error is a peer of
/// another layout (fatal).
pub async fn enrol(registry: &GroupRegistry, peers: &Peers) -> Result<Standing, String> {
    let topology = registry.topology();
    let me = registry.self_raft_id();
    let nodes: Vec<NodeId> = topology.nodes().keys().copied().collect();
    let mut answers: BTreeMap<NodeId, Answer> = BTreeMap::new();
    loop {
        for (&id, addr) in topology.nodes() {
            if id == me.node {
                continue;
            }
            match ask(registry, peers, id, &addr.grpc, Duration::from_secs(1)).await {
                Ok(reply) => {
                    let answer = Answer {
                        incarnation: reply.incarnation,
                        incarnations: Incarnations::new(reply.incarnations.into_iter().collect()),
                    };
                    answers.insert(id, answer);
                }
                Err(HandshakeError::Mismatch(why)) => return Err(why),
                Err(HandshakeError::Unreachable(_)) => {
                    answers.remove(&id);
                }
            }
        }
        let standing = decide(&nodes, me, &answers);
        if !matches!(standing, Standing::Enrolling { .. }) {
            return Ok(standing);
        }
        // Said once per change of whom it waits for, not on every round.
        if registry.standing() != standing {
            tracing::info!("{}", standing.describe());
            registry.set_standing(standing);
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// The standing of incarnation `me` in a cluster that agreed on `agreed`.
pub fn standing_in(agreed: &Incarnations, me: RaftId) -> Standing {
    if agreed.is_member(me) {
        return Standing::Member(agreed.clone());
    }
    let member = agreed
        .raft_id(me.node)
        .map_or_else(|| "none".to_string(), |m| m.to_string());
    Standing::Refused {
        incarnations: agreed.clone(),
        reason: format!(
            "this data directory is incarnation {me}, but the cluster's member for node {} is \
             incarnation {member}; the directory was emptied or replaced and holds none of the \
             votes and log entries that member promised to keep, so this node takes part in no \
             slot group (README: \"A node that lost its data directory\")",
            me.node
        ),
    }
}

/// What a peer answered: its incarnation, and the members as it knows them (empty if none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub incarnation: u64,
    pub incarnations: Incarnations,
}

/// The standing that the answers so far give incarnation `me`, in a layout of `nodes`.
pub fn decide(nodes: &[NodeId], me: RaftId, answers: &BTreeMap<NodeId, Answer>) -> Standing {
    let complete = |i: &Incarnations| nodes.iter().all(|n| i.raft_id(*n).is_some());
    let known: Vec<&Incarnations> = answers
        .values()
        .map(|a| &a.incarnations)
        .filter(|i| !i.is_empty())
        .collect();
    if let Some(&agreed) = known.first() {
        // Every agreement is a copy of the creator's one decision; a peer with a different or
        // partial one is broken, and no answer is better than a wrong one.
        if !complete(agreed) || known.iter().any(|i| *i != agreed) {
            tracing::error!(?known, "peers disagree on the cluster's members; waiting");
            return Standing::Enrolling {
                waiting_for: Vec::new(),
            };
        }
        return standing_in(agreed, me);
    }
    let missing: Vec<NodeId> = nodes
        .iter()
        .copied()
        .filter(|n| *n != me.node && !answers.contains_key(n))
        .collect();
    let creator = nodes.iter().copied().min().unwrap_or(me.node);
    if !missing.is_empty() {
        return Standing::Enrolling {
            waiting_for: missing,
        };
    }
    if me.node != creator {
        // Everyone answered and no one knows the members yet: the creator decides.
        return Standing::Enrolling {
            waiting_for: vec![creator],
        };
    }
    let mut members: BTreeMap<NodeId, u64> =
        answers.iter().map(|(&n, a)| (n, a.incarnation)).collect();
    members.insert(me.node, me.incarnation);
    Standing::Member(Incarnations::new(members))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: [NodeId; 3] = [1, 2, 3];

    fn id(node: NodeId, incarnation: u64) -> RaftId {
        RaftId { node, incarnation }
    }

    fn fresh(incarnation: u64) -> Answer {
        Answer {
            incarnation,
            incarnations: Incarnations::default(),
        }
    }

    fn knowing(incarnation: u64, members: &[(NodeId, u64)]) -> Answer {
        Answer {
            incarnation,
            incarnations: Incarnations::new(members.iter().copied().collect()),
        }
    }

    #[test]
    fn the_creator_records_everyone_once_all_answered() {
        let partial = BTreeMap::from([(2, fresh(20))]);
        assert_eq!(
            decide(&NODES, id(1, 10), &partial),
            Standing::Enrolling {
                waiting_for: vec![3]
            }
        );
        let all = BTreeMap::from([(2, fresh(20)), (3, fresh(30))]);
        assert_eq!(
            decide(&NODES, id(1, 10), &all),
            Standing::Member(Incarnations::new(BTreeMap::from([
                (1, 10),
                (2, 20),
                (3, 30)
            ])))
        );
    }

    #[test]
    fn others_wait_for_the_creator() {
        let all = BTreeMap::from([(1, fresh(10)), (3, fresh(30))]);
        assert_eq!(
            decide(&NODES, id(2, 20), &all),
            Standing::Enrolling {
                waiting_for: vec![1]
            }
        );
        let agreed = [(1, 10), (2, 20), (3, 30)];
        let adopted = BTreeMap::from([(1, knowing(10, &agreed)), (3, fresh(30))]);
        assert!(matches!(
            decide(&NODES, id(2, 20), &adopted),
            Standing::Member(_)
        ));
    }

    #[test]
    fn a_new_incarnation_of_a_member_is_refused() {
        // Node 1 lost its directory: the others know it as incarnation 10.
        let agreed = [(1, 10), (2, 20), (3, 30)];
        let answers = BTreeMap::from([(2, knowing(20, &agreed))]);
        let standing = decide(&NODES, id(1, 11), &answers);
        let Standing::Refused { reason, .. } = standing else {
            panic!("not refused: {standing:?}")
        };
        assert!(reason.contains("1.000000000000000a"), "{reason}");
    }

    #[test]
    fn a_lone_node_never_creates_a_cluster_it_may_have_left() {
        // Even the creator: peers that are down may hold the cluster it forgot.
        assert_eq!(
            decide(&NODES, id(1, 11), &BTreeMap::new()),
            Standing::Enrolling {
                waiting_for: vec![2, 3]
            }
        );
        // A single-node layout is created at once.
        assert!(matches!(
            decide(&[1], id(1, 11), &BTreeMap::new()),
            Standing::Member(_)
        ));
    }

    #[test]
    fn disagreeing_or_partial_agreements_decide_nothing() {
        let answers = BTreeMap::from([
            (2, knowing(20, &[(1, 10), (2, 20), (3, 30)])),
            (3, knowing(30, &[(1, 12), (2, 20), (3, 30)])),
        ]);
        assert!(matches!(
            decide(&NODES, id(1, 10), &answers),
            Standing::Enrolling { .. }
        ));
        let partial = BTreeMap::from([(2, knowing(20, &[(1, 10), (2, 20)]))]);
        assert!(matches!(
            decide(&NODES, id(1, 10), &partial),
            Standing::Enrolling { .. }
        ));
    }
}
