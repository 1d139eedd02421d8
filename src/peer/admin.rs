//! The operator API (gRPC `slotraft.admin.Admin`): status of every group on this node and of the
//! cluster metadata it follows, leader transfer, on-demand snapshots, and membership changes.
//! `slotraft-ctl` is its client.
//!
//! A membership change is a new version of the cluster metadata, committed in the meta group:
//! the node asked forwards the call to the meta group's leader (any node can be asked), which
//! computes the next version (`cluster::metadata`: refused with a reason when it does not
//! apply) and commits it by compare-and-set (`group::meta`). Each group's leader then carries it
//! out (`group::membership`); `status` shows how far that has come.

use std::sync::Arc;
use std::time::Duration;

use tonic::{Request, Response, Status};

use super::handshake::ask;
use super::meta_leader::{self, MetaLeader};
use super::peers::Peers;
use crate::cluster::metadata::{ClusterMetadata, MetadataError, META_GROUP};
use crate::cluster::NodeId;
use crate::group::membership::{configuration, next_step, Step};
use crate::group::meta::{self, MetaError};
use crate::group::GroupRegistry;
use crate::proto::admin::admin_client::AdminClient;
use crate::proto::admin::admin_server::Admin;
use crate::proto::admin::{
    AddNodeRequest, ChangeReply, GroupPlan, GroupStatus, MoveReplicaRequest, NodeInfo, NodeRecord,
    RebalanceRequest, RemoveNodeRequest, ReplaceNodeRequest, SnapshotReply, SnapshotRequest,
    StatusReply, StatusRequest, TransferLeaderReply, TransferLeaderRequest,
};

/// Bound on committing one metadata change.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a call waits for the meta group to have a leader (and its first metadata).
const LEADER_WAIT: Duration = Duration::from_secs(5);

pub struct AdminServer {
    registry: Arc<GroupRegistry>,
    peers: Peers,
}

impl AdminServer {
    pub fn new(registry: Arc<GroupRegistry>, peers: Peers) -> Self {
        Self { registry, peers }
    }

    /// The meta group's leader: `None` when it is this node, else a client to it.
    /// Waits up to `LEADER_WAIT` for one to be known (right after a start, or during an
    /// election of the meta group, there is none for a moment).
    async fn meta_leader(&self) -> Result<Option<AdminClient<tonic::transport::Channel>>, Status> {
        let deadline = tokio::time::Instant::now() + LEADER_WAIT;
        loop {
            match meta_leader::find(&self.registry, &self.peers) {
                Ok(MetaLeader::Here(_)) if self.registry.metadata().is_some() => return Ok(None),
                Ok(MetaLeader::There { channel, .. }) => {
                    return Ok(Some(AdminClient::new(channel)))
                }
                Ok(MetaLeader::Here(_)) if tokio::time::Instant::now() >= deadline => {
                    return Err(Status::unavailable(
                        "the meta group has not written the cluster metadata yet",
                    ))
                }
                Err(status) if tokio::time::Instant::now() >= deadline => return Err(status),
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Commits the change `f` on the meta group (this node leads it).
    async fn change<F>(&self, f: F) -> Result<ClusterMetadata, Status>
    where
        F: Fn(&ClusterMetadata) -> Result<Option<ClusterMetadata>, MetadataError>,
    {
        let group = self
            .registry
            .meta_group()
            .ok_or_else(|| Status::unavailable("this node does not host the meta group"))?;
        let next = meta::update(&group, f, CHANGE_TIMEOUT)
            .await
            .map_err(|e| match e {
                MetaError::Refused(e) => Status::failed_precondition(e.to_string()),
                other => Status::unavailable(other.to_string()),
            })?;
        // Followers learn it from the meta group; this node acts on it at once.
        self.registry.adopt(next.clone());
        Ok(next)
    }

    /// The incarnation node `node` answers as now.
    async fn incarnation_of(&self, node: NodeId) -> Result<u64, Status> {
        let topology = self.registry.topology();
        let addr = topology
            .node(node)
            .ok_or_else(|| Status::not_found(format!("node {node} is not in the cluster")))?;
        let reply = ask(
            &self.registry,
            &self.peers,
            node,
            &addr.grpc,
            Duration::from_secs(2),
        )
        .await
        .map_err(|e| {
            Status::unavailable(format!(
                "node {node} must be running to be readmitted, and it does not answer: {e:?}"
            ))
        })?;
        Ok(reply.incarnation)
    }

    fn plans(&self, meta: &ClusterMetadata) -> Vec<GroupPlan> {
        meta.group_ids()
            .map(|id| {
                let mut plan = GroupPlan {
                    group_id: id,
                    intended: meta.members(id).unwrap_or_default().to_vec(),
                    ..GroupPlan::default()
                };
                if let Some(group) = self.registry.group(id).filter(|g| g.is_leader()) {
                    let config = configuration(&group);
                    plan.voters = config.voters.iter().map(|v| v.to_string()).collect();
                    plan.learners = config.learners.iter().map(|v| v.to_string()).collect();
                    let target = meta.intended_voters(id).into_iter().collect();
                    plan.progress = match next_step(&config, &target, self.registry.self_raft_id())
                    {
                        Step::Done => String::new(),
                        Step::Wait(why) => why,
                        Step::HandOff(to) => format!("handing leadership to node {to}"),
                        Step::AddLearner(l) => format!("adding learner {l}"),
                        Step::ReplaceVoters(_) => "changing voters".to_string(),
                        Step::RemoveLearners(_) => "removing learners".to_string(),
                    };
                }
                plan
            })
            .collect()
    }
}

fn change_reply(meta: &ClusterMetadata, summary: String) -> Response<ChangeReply> {
    Response::new(ChangeReply {
        metadata_version: meta.version,
        summary,
    })
}

#[tonic::async_trait]
impl Admin for AdminServer {
    async fn status(&self, _: Request<StatusRequest>) -> Result<Response<StatusReply>, Status> {
        let topology = self.registry.topology();
        let now = crate::clock::now_ms();
        let groups = self
            .registry
            .groups()
            .iter()
            .map(|g| {
                let m = g.metrics();
                let keys = g
                    .state()
                    .read()
                    .map(|s| s.keyspace.len(now) as u64)
                    .unwrap_or(0);
                let spec = topology.group(g.id());
                GroupStatus {
                    group_id: g.id(),
                    slot_start: spec.map_or(0, |s| u32::from(*s.slots.start())),
                    slot_end: spec.map_or(0, |s| u32::from(*s.slots.end())),
                    members: topology.members(g.id()).to_vec(),
                    leader: m.current_leader.map_or(0, |l| l.node),
                    term: m.current_term,
                    state: format!("{:?}", m.state),
                    last_log_index: m.last_log_index.unwrap_or(0),
                    committed: m.local_committed.map(|c| c.index).unwrap_or(0),
                    applied: m.last_applied.map(|c| c.index).unwrap_or(0),
                    snapshot_index: m.snapshot.map(|c| c.index).unwrap_or(0),
                    keys,
                    voters: g.voters().iter().map(|v| v.to_string()).collect(),
                }
            })
            .collect();
        let nodes = topology
            .nodes()
            .iter()
            .map(|(id, addr)| NodeInfo {
                node_id: *id,
                resp_addr: addr.resp.clone(),
                grpc_addr: addr.grpc.clone(),
            })
            .collect();
        let meta = self.registry.metadata();
        let registry = meta
            .iter()
            .flat_map(|m| m.nodes.iter())
            .map(|(&id, r)| NodeRecord {
                node_id: id,
                resp_addr: r.addr.resp.clone(),
                grpc_addr: r.addr.grpc.clone(),
                incarnation: format!("{:016x}", r.incarnation),
                state: r.state.to_string(),
            })
            .collect();
        Ok(Response::new(StatusReply {
            node_id: topology.self_id(),
            cluster_id: topology.cluster_id().to_string(),
            nodes,
            groups,
            incarnation: format!("{:016x}", self.registry.incarnation()),
            standing: self.registry.standing().describe(),
            metadata_version: meta.as_ref().map_or(0, |m| m.version),
            registry,
            plans: meta.as_deref().map(|m| self.plans(m)).unwrap_or_default(),
        }))
    }

    async fn replace_node(
        &self,
        request: Request<ReplaceNodeRequest>,
    ) -> Result<Response<ChangeReply>, Status> {
        let req = request.into_inner();
        if let Some(mut leader) = self.meta_leader().await? {
            return leader.replace_node(req).await;
        }
        if req.dead == req.new {
            let node = req.new;
            let incarnation = self.incarnation_of(node).await?;
            let next = self
                .change(|m| m.readmit(node, incarnation).map(Some))
                .await?;
            let groups = next.groups_of(node);
            return Ok(change_reply(
                &next,
                format!(
                    "node {node} is readmitted as incarnation {incarnation:016x}; {} group(s) \
                     replace its old incarnation, each adding it as a learner and promoting it \
                     once caught up",
                    groups.len()
                ),
            ));
        }
        let (dead, new) = (req.dead, req.new);
        let next = self.change(|m| m.replace(dead, new).map(Some)).await?;
        Ok(change_reply(
            &next,
            format!(
                "node {new} takes node {dead}'s place in {} group(s); node {dead} is removed",
                next.groups_of(new).len()
            ),
        ))
    }

    async fn add_node(
        &self,
        request: Request<AddNodeRequest>,
    ) -> Result<Response<ChangeReply>, Status> {
        let req = request.into_inner();
        if let Some(mut leader) = self.meta_leader().await? {
            return leader.add_node(req).await;
        }
        let node = req.node_id;
        let next = self.change(|m| m.add_node(node).map(Some)).await?;
        Ok(change_reply(
            &next,
            format!(
                "node {node} is active; replicas spread again: it is meant to hold {} group(s)",
                next.groups_of(node).len()
            ),
        ))
    }

    async fn remove_node(
        &self,
        request: Request<RemoveNodeRequest>,
    ) -> Result<Response<ChangeReply>, Status> {
        let req = request.into_inner();
        if let Some(mut leader) = self.meta_leader().await? {
            return leader.remove_node(req).await;
        }
        let node = req.node_id;
        let next = self.change(|m| m.remove_node(node).map(Some)).await?;
        Ok(change_reply(
            &next,
            format!(
                "node {node} is draining: its replicas move to the other nodes, and it is removed \
                 once no group's configuration holds it"
            ),
        ))
    }

    async fn rebalance(
        &self,
        request: Request<RebalanceRequest>,
    ) -> Result<Response<ChangeReply>, Status> {
        let req = request.into_inner();
        if let Some(mut leader) = self.meta_leader().await? {
            return leader.rebalance(req).await;
        }
        let before = self.registry.metadata().map_or(0, |m| m.version);
        let next = self.change(|m| Ok(m.rebalance())).await?;
        let summary = if next.version > before {
            "replicas and preferred leaderships spread evenly over the active nodes".to_string()
        } else {
            "already balanced: nothing to move".to_string()
        };
        Ok(change_reply(&next, summary))
    }

    async fn move_replica(
        &self,
        request: Request<MoveReplicaRequest>,
    ) -> Result<Response<ChangeReply>, Status> {
        let req = request.into_inner();
        if let Some(mut leader) = self.meta_leader().await? {
            return leader.move_replica(req).await;
        }
        let (group, from, to) = (req.group_id, req.from_node, req.to_node);
        let before = self.registry.metadata().map_or(0, |m| m.version);
        let next = self
            .change(|m| {
                // A retried move that is already recorded changes nothing.
                let done = m
                    .members(group)
                    .is_some_and(|ms| ms.contains(&to) && !ms.contains(&from));
                if done {
                    return Ok(None);
                }
                m.move_replica(group, from, to).map(Some)
            })
            .await?;
        let name = if group == META_GROUP {
            "the meta group".to_string()
        } else {
            format!("slot group {group}")
        };
        let summary = if next.version > before {
            format!("{name}: node {to} takes node {from}'s replica")
        } else {
            format!("{name}: node {to} already has node {from}'s replica (nothing to do)")
        };
        Ok(change_reply(&next, summary))
    }

    async fn transfer_leader(
        &self,
        request: Request<TransferLeaderRequest>,
    ) -> Result<Response<TransferLeaderReply>, Status> {
        let req = request.into_inner();
        let group = self.registry.group(req.group_id).ok_or_else(|| {
            Status::not_found(format!(
                "slot group {} is not hosted on this node",
                req.group_id
            ))
        })?;
        let Some(target) = group
            .voters()
            .into_iter()
            .find(|v| v.node == req.to_node && self.registry.is_member_incarnation(*v))
        else {
            return Err(Status::invalid_argument(format!(
                "node {} is not a voter of slot group {}",
                req.to_node, req.group_id
            )));
        };
        if !group.is_leader() {
            return Err(Status::failed_precondition(format!(
                "this node does not lead slot group {}; ask node {:?}",
                req.group_id,
                group.current_leader()
            )));
        }
        group
            .transfer_leader(target)
            .await
            .map_err(Status::unavailable)?;
        Ok(Response::new(TransferLeaderReply {}))
    }

    async fn snapshot(
        &self,
        request: Request<SnapshotRequest>,
    ) -> Result<Response<SnapshotReply>, Status> {
        let wanted = request.into_inner().group_ids;
        for group in self.registry.groups() {
            if wanted.is_empty() || wanted.contains(&group.id()) {
                group
                    .raft()
                    .trigger()
                    .snapshot()
                    .await
                    .map_err(|e| Status::unavailable(e.to_string()))?;
            }
        }
        Ok(Response::new(SnapshotReply {}))
    }
}
