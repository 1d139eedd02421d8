//! Keyed reads and writes through the group API: route the keys' slot to a group, confirm a
//! read (ReadIndex) or propose a write, and turn a group's refusal into exactly one reply
//! (rule 4 in ARCHITECTURE.md: `-MOVED`/`-CLUSTERDOWN`/`-TRYAGAIN` only when the command
//! certainly did not happen; `-OUTCOMEUNKNOWN` when a write was proposed and its outcome is
//! not known).

use std::time::Duration;

use bytes::Bytes;

use super::context::Context;
use super::replies::{cluster_down, err, keyspace_result, outcome_unknown, reshape};
use super::route::{common_slot, Local, Route};
use super::session::Session;
use crate::cluster::topology::ClientNetwork;
use crate::cluster::NodeId;
use crate::command::ReplyAs;
use crate::group::GroupError;
use crate::keyspace::{KeyspaceError, ReadOp, WriteOp};
use crate::reply::Reply;
use crate::resp::Frame;

/// What to do after a group refused a request.
enum Refusal {
    /// Route again: a hand-off finished, or an election may have.
    Retry,
    /// Answer the client with this (`-MOVED`, `-CLUSTERDOWN`, `-TRYAGAIN`, `-OUTCOMEUNKNOWN`).
    Reply(Frame),
}

impl Context {
    /// `-MOVED slot host:port`, with the address `node` has on the client's network.
    pub(super) fn moved(&self, network: ClientNetwork, slot: u16, node: NodeId) -> Frame {
        let topology = self.registry.topology();
        let addr = topology.client_addr(node, network).unwrap_or_default();
        err(format!("MOVED {slot} {addr}"))
    }

    /// Turns a group's refusal into the reply for the client, or into "route again".
    /// `write`: a write that finds the group leaderless waits (until `deadline`) for an
    /// election; a read answers `-CLUSTERDOWN` at once.
    async fn refusal(
        &self,
        local: &Local,
        network: ClientNetwork,
        e: GroupError,
        deadline: tokio::time::Instant,
        write: bool,
    ) -> Refusal {
        let group = local.group.id();
        match e {
            // Handing off: the target is named but would send the client straight back until
            // it has won its election. Wait until this node has seen that, then route again.
            GroupError::NotLeader {
                handing_off: true, ..
            } => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if local.group.wait_for_handoff(left).await {
                    Refusal::Retry
                } else {
                    Refusal::Reply(cluster_down(group))
                }
            }
            GroupError::NotLeader {
                leader: Some(id), ..
            } => Refusal::Reply(self.moved(network, local.slot, id)),
            GroupError::NotLeader { leader: None, .. }
                if write && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Refusal::Retry
            }
            GroupError::NotLeader { leader: None, .. } => Refusal::Reply(cluster_down(group)),
            GroupError::OutcomeUnknown(why) => Refusal::Reply(outcome_unknown(group, &why)),
            GroupError::Unconfirmed(why) => Refusal::Reply(err(format!(
                "TRYAGAIN cannot confirm leadership of slot group {group}: {why}"
            ))),
        }
    }

    /// Routes keys to their group; errors are the ready-made reply.
    pub(super) async fn route(
        &self,
        keys: &[Bytes],
        allow_follower: bool,
        network: ClientNetwork,
    ) -> Result<Local, Frame> {
        let slot = match common_slot(keys) {
            None => return Err(err("CROSSSLOT Keys in request don't hash to the same slot")),
            Some(None) => return Err(err("ERR no keys")),
            Some(Some(slot)) => slot,
        };
        match self.router().route(slot, allow_follower).await {
            Route::Local(local) => Ok(local),
            Route::Moved { slot, node } => Err(self.moved(network, slot, node)),
            Route::Down { group } => Err(cluster_down(group)),
        }
    }

    /// A read: linearizable on the leader, or stale on a follower after `READONLY`.
    pub(super) async fn read(&self, session: &Session, mut op: ReadOp) -> Frame {
        let keys: Vec<Bytes> = op.keys().into_iter().cloned().collect();
        op.reseed(rand::random());
        let deadline = tokio::time::Instant::now() + self.leader_wait;
        let group = loop {
            let local = match self.route(&keys, session.readonly, session.network).await {
                Ok(local) => local,
                Err(frame) => return frame,
            };
            if !local.leader {
                break local.group;
            }
            match local.group.confirm_read(self.write_timeout).await {
                Ok(()) => break local.group,
                Err(e) => match self
                    .refusal(&local, session.network, e, deadline, false)
                    .await
                {
                    Refusal::Retry => continue,
                    Refusal::Reply(frame) => return frame,
                },
            }
        };
        let state = match group.state().read() {
            Ok(state) => state,
            Err(_) => return err("ERR internal error: state machine lock poisoned"),
        };
        keyspace_result(
            state.keyspace.read(crate::clock::now_ms(), &op),
            session.resp3(),
        )
    }

    /// Confirms a linearizable read on the leader `local` once, with the reply to send when
    /// that fails (a hand-off in progress is waited out and reported as `-MOVED` to the new
    /// leader).
    pub(super) async fn confirm(&self, local: &Local, network: ClientNetwork) -> Result<(), Frame> {
        let deadline = tokio::time::Instant::now() + self.leader_wait;
        let Err(e) = local.group.confirm_read(self.write_timeout).await else {
            return Ok(());
        };
        match self.refusal(local, network, e, deadline, false).await {
            Refusal::Reply(frame) => Err(frame),
            Refusal::Retry => Err(match local.group.current_leader() {
                Some(leader) => self.moved(network, local.slot, leader),
                None => cluster_down(local.group.id()),
            }),
        }
    }

    /// A write: propose, wait for commit and apply, reply with the applied result.
    pub(super) async fn write(
        &self,
        op: WriteOp,
        how: Option<ReplyAs>,
        now: u64,
        resp3: bool,
        network: ClientNetwork,
    ) -> Frame {
        match self.propose(op, now, network).await {
            Ok(result) => keyspace_result(result.map(|r| reshape(r, how)), resp3),
            Err(frame) => frame,
        }
    }

    /// Proposes a write through the group API and waits for its applied result; `Err` is the
    /// routing or outcome-unknown reply.
    pub(super) async fn propose(
        &self,
        mut op: WriteOp,
        now: u64,
        network: ClientNetwork,
    ) -> Result<Result<Reply, KeyspaceError>, Frame> {
        op.reseed(rand::random());
        let keys: Vec<Bytes> = op.keys().into_iter().cloned().collect();
        let deadline = tokio::time::Instant::now() + self.leader_wait;
        loop {
            let local = self.route(&keys, false, network).await?;
            match local
                .group
                .propose(op.clone(), now, self.write_timeout)
                .await
            {
                Ok(result) => return Ok(result),
                Err(e) => match self.refusal(&local, network, e, deadline, true).await {
                    Refusal::Retry => continue,
                    Refusal::Reply(frame) => return Err(frame),
                },
            }
        }
    }
}
