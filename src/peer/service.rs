//! The server half of the gRPC network between nodes: hands peers' Raft messages to the right
//! group's openraft instance.
//!
//! Every message is checked first: its cluster id must be this node's (a node of another
//! cluster, or of this cluster started with another layout, is refused with an error naming
//! both ids), it must be addressed to this incarnation (a node whose data directory was
//! replaced is not the member the sender means, and must neither vote nor take entries in its
//! place), and its group must be one this node is a member of.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use openraft::raft::{AppendEntriesRequest, TransferLeaderRequest, VoteRequest};
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tonic::{Request, Response, Status, Streaming};

use super::meta_leader::{self, MetaLeader};
use super::peers::Peers;
use crate::cluster::NodeAddr;
use crate::group::meta::{self, MetaError};
use crate::group::GroupRegistry;
use crate::proto::raft::raft_service_client::RaftServiceClient;
use crate::proto::raft::raft_service_server::RaftService;
use crate::proto::raft::{
    Envelope, GroupLeader, HandshakeReply, HandshakeRequest, JoinReply, JoinRequest, LeadersReply,
    LeadersRequest, LeavingReply, LeavingRequest, RaftMember, ReplicateBatch, ReplicateReplyBatch,
    Reply, SnapshotChunk,
};
use crate::raft::codec::{decode, encode};
use crate::raft::snapshot_file::{self, SnapshotData};
use crate::raft::state_machine::snapshot_path;
use crate::raft::{Raft, Snapshot, SnapshotMeta, TypeConfig, Vote};

pub struct RaftServer {
    registry: Arc<GroupRegistry>,
    inbox: SnapshotInbox,
    /// To forward a join to the meta group's leader.
    peers: Peers,
}

/// Where snapshots sent by leaders are stored while they arrive, and how large one may be.
#[derive(Debug, Clone)]
pub struct SnapshotInbox {
    /// The node's snapshot directory (`--dir`/snapshots).
    pub dir: PathBuf,
    /// `--max-snapshot-bytes`.
    pub max_bytes: u64,
}

impl RaftServer {
    pub fn new(registry: Arc<GroupRegistry>, inbox: SnapshotInbox, peers: Peers) -> Self {
        Self {
            registry,
            inbox,
            peers,
        }
    }

    fn check_cluster(&self, cluster_id: &str, from: u64) -> Result<(), Status> {
        let topology = self.registry.topology();
        let ours = topology.cluster_id();
        if cluster_id != ours {
            return Err(Status::failed_precondition(format!(
                "cluster id mismatch: node {from} sent a message for cluster {cluster_id}, \
                 this node belongs to cluster {ours} (different --initial-cluster, --groups or --replicas?)"
            )));
        }
        Ok(())
    }

    /// Refuses a message meant for another incarnation of this node.
    fn check_addressee(&self, to_incarnation: u64, from: u64) -> Result<(), Status> {
        let me = self.registry.self_raft_id();
        if to_incarnation != me.incarnation {
            let meant = crate::cluster::incarnation::RaftId {
                node: me.node,
                incarnation: to_incarnation,
            };
            return Err(Status::failed_precondition(format!(
                "node {from} sent a message for member {meant}, but this is incarnation {me}: \
                 this node's data directory was emptied or replaced, it is not that member"
            )));
        }
        Ok(())
    }

    fn raft_for(&self, envelope: &Envelope) -> Result<Raft, Status> {
        self.check_cluster(&envelope.cluster_id, envelope.from_node)?;
        self.check_addressee(envelope.to_incarnation, envelope.from_node)?;
        self.registry
            .group(envelope.group_id)
            .map(|g| g.raft().clone())
            .ok_or_else(|| {
                Status::not_found(format!(
                    "this node is not a member of slot group {}",
                    envelope.group_id
                ))
            })
    }
}

fn payload<T: serde::de::DeserializeOwned>(envelope: &Envelope) -> Result<T, Status> {
    decode(&envelope.payload)
        .map_err(|e| Status::invalid_argument(format!("undecodable raft message: {e}")))
}

fn reply<T: Serialize>(value: &T) -> Result<Response<Reply>, Status> {
    let payload = encode(value).map_err(|e| Status::internal(e.to_string()))?;
    Ok(Response::new(Reply { payload }))
}

/// Stores a snapshot transfer in the file at `path` as it arrives (`first` is the data of its
/// first chunk): exactly `total` bytes, or an error.
async fn receive(
    path: &Path,
    first: Vec<u8>,
    inbound: &mut Streaming<SnapshotChunk>,
    total: u64,
) -> Result<(), Status> {
    let io = |e: std::io::Error| Status::internal(format!("storing a received snapshot: {e}"));
    let mut file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut got = 0u64;
    let mut chunk = first;
    loop {
        got += chunk.len() as u64;
        if got > total {
            return Err(Status::invalid_argument(format!(
                "snapshot transfer longer than the {total} bytes it announced"
            )));
        }
        file.write_all(&chunk).await.map_err(io)?;
        chunk = match inbound.message().await? {
            Some(next) => next.data,
            None => break,
        };
    }
    if got != total {
        return Err(Status::invalid_argument(format!(
            "snapshot transfer ended after {got} of the {total} bytes it announced"
        )));
    }
    file.flush().await.map_err(io)?;
    Ok(())
}

/// The received file at `path`, if it is a snapshot file of what the transfer announced
/// (openraft stops a group whose install fails, so a file that is plainly not the announced
/// snapshot is refused here, as the peer's error).
fn checked(path: PathBuf, announced: &SnapshotMeta) -> Result<SnapshotData, Status> {
    let data = SnapshotData::received(path).map_err(|e| Status::internal(e.to_string()))?;
    match data.meta() {
        Ok(meta) if meta == *announced => Ok(data),
        Ok(meta) => Err(Status::invalid_argument(format!(
            "snapshot file holds {meta:?}, but the transfer announced {announced:?}"
        ))),
        Err(e) => Err(Status::invalid_argument(format!(
            "received snapshot is not a snapshot file: {e}"
        ))),
    }
}

fn fatal(e: impl std::fmt::Display) -> Status {
    // The group's Raft stopped (shutdown or storage failure): the peer should back off.
    Status::unavailable(format!("raft group unavailable: {e}"))
}

type ReplicateReplies =
    Pin<Box<dyn Stream<Item = Result<ReplicateReplyBatch, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl RaftService for RaftServer {
    async fn join(&self, request: Request<JoinRequest>) -> Result<Response<JoinReply>, Status> {
        let req = request.into_inner();
        let topology = self.registry.topology();
        if !req.cluster_id.is_empty() {
            self.check_cluster(&req.cluster_id, req.node_id)?;
        }
        let group = match meta_leader::find(&self.registry, &self.peers)? {
            MetaLeader::There { channel, .. } => {
                return RaftServiceClient::new(channel).join(req).await;
            }
            MetaLeader::Here(group) => group,
        };
        let addr = NodeAddr {
            resp: req.resp_addr.clone(),
            grpc: req.grpc_addr.clone(),
        };
        let external = (!req.external_addr.is_empty()).then(|| req.external_addr.clone());
        let (node, incarnation) = (req.node_id, req.incarnation);
        let meta = meta::update(
            &group,
            |m| m.register(node, addr.clone(), external.clone(), incarnation),
            Duration::from_secs(5),
        )
        .await
        .map_err(|e| match e {
            MetaError::Refused(e) => Status::failed_precondition(e.to_string()),
            other => Status::unavailable(other.to_string()),
        })?;
        tracing::info!(node, version = meta.version, "node registered (joining)");
        let metadata = serde_json::to_vec(&meta).map_err(|e| Status::internal(e.to_string()))?;
        self.registry.adopt(meta);
        Ok(Response::new(JoinReply {
            cluster_id: topology.cluster_id().to_string(),
            layout: topology.canonical().to_string(),
            metadata,
        }))
    }

    async fn handshake(
        &self,
        request: Request<HandshakeRequest>,
    ) -> Result<Response<HandshakeReply>, Status> {
        let req = request.into_inner();
        let topology = self.registry.topology();
        if req.cluster_id != topology.cluster_id() {
            return Err(Status::failed_precondition(format!(
                "cluster layout mismatch: node {} has layout [{}], node {} has layout [{}]",
                req.from_node,
                req.layout,
                topology.self_id(),
                topology.canonical()
            )));
        }
        // A node handshakes when it starts: if it had announced it was stopping, it is back.
        self.registry.set_peer_leaving(req.from_node, false);
        let incarnations = self
            .registry
            .standing()
            .incarnations()
            .map(|i| i.as_map().clone().into_iter().collect())
            .unwrap_or_default();
        Ok(Response::new(HandshakeReply {
            cluster_id: topology.cluster_id().to_string(),
            node_id: topology.self_id(),
            layout: topology.canonical().to_string(),
            incarnation: self.registry.incarnation(),
            incarnations,
        }))
    }

    async fn vote(&self, request: Request<Envelope>) -> Result<Response<Reply>, Status> {
        let envelope = request.into_inner();
        let raft = self.raft_for(&envelope)?;
        let rpc: VoteRequest<TypeConfig> = payload(&envelope)?;
        reply(&raft.vote(rpc).await.map_err(fatal)?)
    }

    async fn pre_vote(&self, request: Request<Envelope>) -> Result<Response<Reply>, Status> {
        let envelope = request.into_inner();
        let raft = self.raft_for(&envelope)?;
        let rpc: VoteRequest<TypeConfig> = payload(&envelope)?;
        reply(&raft.pre_vote(rpc).await.map_err(fatal)?)
    }

    async fn append_entries(&self, request: Request<Envelope>) -> Result<Response<Reply>, Status> {
        let envelope = request.into_inner();
        let raft = self.raft_for(&envelope)?;
        let rpc: AppendEntriesRequest<TypeConfig> = payload(&envelope)?;
        reply(&raft.append_entries(rpc).await.map_err(fatal)?)
    }

    type ReplicateStream = ReplicateReplies;

    async fn replicate(
        &self,
        request: Request<Streaming<ReplicateBatch>>,
    ) -> Result<Response<Self::ReplicateStream>, Status> {
        let mut inbound = request.into_inner();
        let Some(first) = inbound.message().await? else {
            return Ok(Response::new(Box::pin(futures::stream::empty())));
        };
        self.check_cluster(&first.cluster_id, first.from_node)?;
        self.check_addressee(first.to_incarnation, first.from_node)?;
        Ok(Response::new(Box::pin(super::mux_server::serve(
            self.registry.clone(),
            first,
            inbound,
        ))))
    }

    async fn install_snapshot(
        &self,
        request: Request<Streaming<SnapshotChunk>>,
    ) -> Result<Response<Reply>, Status> {
        let mut inbound = request.into_inner();
        let first = inbound
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("empty snapshot stream"))?;
        let header = first
            .header
            .ok_or_else(|| Status::invalid_argument("snapshot stream without header"))?;
        let raft = self.raft_for(&header)?;
        let (vote, meta): (Vote, SnapshotMeta) = payload(&header)?;
        let total = first.total_len;
        if total > self.inbox.max_bytes {
            tracing::warn!(
                group = header.group_id,
                from = header.from_node,
                bytes = total,
                max = self.inbox.max_bytes,
                "refusing a snapshot larger than --max-snapshot-bytes"
            );
            return Err(Status::resource_exhausted(format!(
                "snapshot of slot group {} is {total} bytes, more than this node accepts \
                 (--max-snapshot-bytes {})",
                header.group_id, self.inbox.max_bytes
            )));
        }
        let path = snapshot_file::inbox_path(
            &snapshot_path(&self.inbox.dir, header.group_id),
            rand::random(),
        );
        let received = receive(&path, first.data, &mut inbound, total).await;
        let data = match received.and_then(|()| checked(path.clone(), &meta)) {
            Ok(data) => data,
            Err(status) => {
                let _ = tokio::fs::remove_file(&path).await;
                return Err(status);
            }
        };
        let snapshot = Snapshot {
            meta,
            snapshot: data,
        };
        reply(
            &raft
                .install_full_snapshot(vote, snapshot)
                .await
                .map_err(fatal)?,
        )
    }

    async fn transfer_leader(&self, request: Request<Envelope>) -> Result<Response<Reply>, Status> {
        let envelope = request.into_inner();
        let raft = self.raft_for(&envelope)?;
        let rpc: TransferLeaderRequest<TypeConfig> = payload(&envelope)?;
        reply(&raft.handle_transfer_leader(rpc).await.map_err(fatal)?)
    }

    async fn leaving(
        &self,
        request: Request<LeavingRequest>,
    ) -> Result<Response<LeavingReply>, Status> {
        let req = request.into_inner();
        self.check_cluster(&req.cluster_id, req.from_node)?;
        tracing::info!(
            node = req.from_node,
            "peer is stopping; not handing it leadership"
        );
        self.registry.set_peer_leaving(req.from_node, true);
        Ok(Response::new(LeavingReply {}))
    }

    async fn leaders(
        &self,
        request: Request<LeadersRequest>,
    ) -> Result<Response<LeadersReply>, Status> {
        let req = request.into_inner();
        self.check_cluster(&req.cluster_id, req.from_node)?;
        let groups = self
            .registry
            .all_groups()
            .iter()
            .map(|g| {
                let m = g.metrics();
                let committed = m.committed_membership_config.membership();
                let settled = committed.get_joint_config().len() == 1;
                GroupLeader {
                    group_id: g.id(),
                    leader: m.current_leader.map_or(0, |l| l.node),
                    term: m.current_term,
                    members: committed
                        .nodes()
                        .map(|(id, _)| RaftMember {
                            node: id.node,
                            incarnation: id.incarnation,
                        })
                        .collect(),
                    settled,
                }
            })
            .collect();
        let metadata = match self.registry.metadata() {
            Some(meta) if meta.version > req.metadata_version => {
                serde_json::to_vec(&*meta).map_err(|e| Status::internal(e.to_string()))?
            }
            _ => Vec::new(),
        };
        Ok(Response::new(LeadersReply { groups, metadata }))
    }
}
