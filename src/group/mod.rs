//! The group API: where the RESP side (commands, routing) and the Raft side (openraft, the log,
//! the peer network) meet, and besides `raft/` the one place that names openraft.
//!
//! The RESP side asks a `Group` to `propose` a write, to `confirm_read` before reading its
//! applied state, and who leads it; answers come back as `GroupError`, never as openraft's
//! types. `GroupRegistry` holds the set of groups this node hosts, which can change at run time.
//! `leadership` moves leaderships on purpose (balancer, graceful hand-off).
//!
//! It must not know RESP: no frames, no client addresses, no reply texts.

pub mod error;
pub mod leadership;
pub mod membership;
pub mod meta;
pub mod registry;

use std::time::Duration;

use openraft::async_runtime::watch::WatchReceiver;
use openraft::errors::{ClientWriteError, LinearizableReadError, RaftError};
use openraft::{ReadPolicy, ServerState};

pub use error::GroupError;
pub use registry::{GroupRegistry, Lifecycle};

use crate::cluster::{GroupId, NodeId};
use crate::keyspace::{KeyspaceError, WriteOp};
use crate::raft::state_machine::SharedState;
use crate::raft::{Metrics, Raft, RaftId, Request};
use crate::reply::Reply;

/// How long the `unsafe-ack` build waits for a commit before acknowledging regardless.
#[cfg(feature = "unsafe-ack")]
const UNSAFE_ACK_AFTER: Duration = Duration::from_millis(20);

/// One group hosted here (a slot group, or the meta group). Its intended members are in the
/// registry's layout, its actual ones in its Raft configuration (`voters`, `learners`).
pub struct Group {
    id: GroupId,
    /// This node's id: tells "another node leads" from "this node is handing off". Raft knows
    /// members by incarnation (`RaftId`); the group API speaks node ids, which is unambiguous
    /// because a group has at most one incarnation of each node as a member.
    self_id: NodeId,
    raft: Raft,
    /// The applied keyspace, read after `confirm_read` (or stale, after `READONLY`).
    state: SharedState,
}

impl Group {
    pub fn new(id: GroupId, self_id: NodeId, raft: Raft, state: SharedState) -> Self {
        Self {
            id,
            self_id,
            raft,
            state,
        }
    }

    pub fn id(&self) -> GroupId {
        self.id
    }

    /// The applied keyspace.
    pub fn state(&self) -> &SharedState {
        &self.state
    }

    /// The openraft handle, for the Raft side (gRPC service, replication, node assembly,
    /// operator calls). The RESP side uses the methods below.
    pub fn raft(&self) -> &Raft {
        &self.raft
    }

    /// The leader as this node currently believes it to be (may be stale; writes and
    /// linearizable reads confirm it through openraft).
    pub fn current_leader(&self) -> Option<NodeId> {
        // Read one field and release the borrow at once (on every command: no full clone).
        self.raft
            .metrics()
            .borrow_watched()
            .current_leader
            .map(|l| l.node)
    }

    /// The group's voters as Raft identities (node and incarnation).
    pub fn voters(&self) -> Vec<RaftId> {
        let metrics = self.raft.metrics();
        let m = metrics.borrow_watched();
        let voters = m.membership_config.membership().voter_ids().collect();
        voters
    }

    /// The group's learners (members being added: they receive the log but do not vote).
    pub fn learners(&self) -> Vec<RaftId> {
        let metrics = self.raft.metrics();
        let m = metrics.borrow_watched();
        let learners = m.membership_config.membership().learner_ids().collect();
        learners
    }

    /// Asks openraft to hand leadership to voter `to`. For operators and the balancer, not
    /// for clients: the error is a sentence. Named by incarnation: while a node's new
    /// incarnation replaces its old one, both can be in the configuration, and only one of
    /// them answers.
    pub async fn transfer_leader(&self, to: RaftId) -> Result<(), String> {
        if !self.voters().contains(&to) {
            return Err(format!("{to} is not a voter of slot group {}", self.id()));
        }
        self.raft
            .trigger()
            .transfer_leader(to)
            .await
            .map_err(|e| e.to_string())
    }

    /// Whether this node is the group's leader right now.
    pub fn is_leader(&self) -> bool {
        self.raft.metrics().borrow_watched().state == ServerState::Leader
    }

    /// This node's current term in the group.
    pub fn term(&self) -> u64 {
        self.raft.metrics().borrow_watched().current_term
    }

    /// A copy of the group's Raft metrics.
    pub fn metrics(&self) -> Metrics {
        // Clone out of the watch at once: holding the borrow can deadlock openraft.
        self.raft.metrics().borrow_watched().clone()
    }

    /// Whether a follower may serve stale reads: it knows a leader and has applied what it
    /// knows to be committed (right after a restart it has not).
    pub fn caught_up(&self) -> bool {
        // Read the fields under one short borrow: no clone on the follower read path.
        let metrics = self.raft.metrics();
        let m = metrics.borrow_watched();
        m.current_leader.is_some()
            && m.last_applied.as_ref().map(|l| l.index)
                >= m.local_committed.as_ref().map(|c| c.index)
    }

    /// Waits up to `timeout` for the group to have a leader.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Option<NodeId> {
        let waited = self
            .raft
            .wait(Some(timeout))
            .metrics(|m| m.current_leader.is_some(), "slot group has a leader")
            .await;
        waited.ok().and_then(|m| m.current_leader).map(|l| l.node)
    }

    /// After `GroupError::NotLeader { handing_off: true }`: waits up to `timeout` until this
    /// node has seen leadership leave it (the target won its election), so that routing again
    /// sends the client to the new leader instead of back here. True once it has.
    pub async fn wait_for_handoff(&self, timeout: Duration) -> bool {
        let me = self.self_id;
        if self.current_leader() != Some(me) {
            return true;
        }
        self.raft
            .wait(Some(timeout))
            .metrics(
                |m| m.current_leader.is_some_and(|l| l.node != me),
                "leadership handed off",
            )
            .await
            .is_ok()
    }

    /// Turns openraft's "forward to leader" into `NotLeader`.
    fn not_leader(&self, leader: Option<RaftId>) -> GroupError {
        let me = self.self_id;
        let leader = leader.map(|l| l.node);
        GroupError::NotLeader {
            leader: leader.filter(|&id| id != me),
            handing_off: leader.is_some() && self.current_leader() == Some(me),
        }
    }

    /// Proposes `op` (stamped with the leader's clock `now_ms`) and waits up to `timeout` for
    /// it to be committed and applied here; the result is what applying it produced.
    pub async fn propose(
        &self,
        op: WriteOp,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<Result<Reply, KeyspaceError>, GroupError> {
        let request = Request { now_ms, op };
        #[cfg(not(feature = "unsafe-ack"))]
        let proposal = self.raft.client_write(request);
        // TEST-ONLY, broken on purpose (see the `unsafe-ack` feature in Cargo.toml): a write
        // not committed within UNSAFE_ACK_AFTER is acknowledged anyway, the way asynchronous
        // replication acknowledges. The torture suite must catch this.
        #[cfg(feature = "unsafe-ack")]
        let proposal = {
            let raft = self.raft.clone();
            let mut task = tokio::spawn(async move { raft.client_write(request).await });
            match tokio::time::timeout(UNSAFE_ACK_AFTER, &mut task).await {
                // A bare +OK whatever the command.
                Err(_) => return Ok(Ok(Reply::Ok)),
                Ok(joined) => async move { joined.expect("client_write task panicked") },
            }
        };
        match tokio::time::timeout(timeout, proposal).await {
            Ok(Ok(resp)) => Ok(resp.data),
            // Rejected before it was appended: safe to send the client elsewhere.
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => {
                Err(self.not_leader(f.leader_id))
            }
            Ok(Err(RaftError::APIError(ClientWriteError::LogEntryDiscarded(_)))) => {
                Err(GroupError::OutcomeUnknown(
                    "leadership changed after the write was proposed".into(),
                ))
            }
            Ok(Err(e)) => Err(GroupError::OutcomeUnknown(e.to_string())),
            Err(_) => Err(GroupError::OutcomeUnknown(
                "no commit within the write timeout (leader cut off from its quorum?)".into(),
            )),
        }
    }

    /// ReadIndex: confirms with a quorum that this node still leads, then waits until the
    /// state machine has applied everything committed at that moment (bounded by `timeout`).
    /// openraft batches the confirmations of concurrent readers into shared heartbeat rounds.
    pub async fn confirm_read(&self, timeout: Duration) -> Result<(), GroupError> {
        let confirm = self.raft.ensure_linearizable(ReadPolicy::ReadIndex);
        match tokio::time::timeout(timeout, confirm).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(RaftError::APIError(LinearizableReadError::ForwardToLeader(f)))) => {
                Err(self.not_leader(f.leader_id))
            }
            Ok(Err(e)) => Err(GroupError::Unconfirmed(e.to_string())),
            Err(_) => Err(GroupError::Unconfirmed(
                "no quorum answered (partitioned?)".into(),
            )),
        }
    }
}
