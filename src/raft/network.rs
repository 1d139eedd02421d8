//! The client half of the gRPC network between nodes: how openraft reaches a peer.
//!
//! `Peers` keeps one lazily connected HTTP/2 channel per peer node; every group's client to that
//! peer is a clone of it, so all groups share one connection. A node never builds a client to
//! itself (openraft never asks for one: a node does not replicate to itself).
//!
//! Replication is pipelined: each group's `stream_append` to a peer is a substream of the one
//! replication stream to that peer (see `mux`), and keeps sending AppendEntries without waiting
//! for replies; replies come back in order.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt};
use openraft::errors::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory, RaftNetworkV2};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, StreamAppendResult,
    TransferLeaderRequest, TransferLeaderResponse, VoteRequest, VoteResponse,
};
use openraft::OptionalSend;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::transport::{Channel, Endpoint};

use super::codec::{decode, encode};
use super::mux::MuxConn;
use super::{GroupId, NodeAddr, NodeId, TypeConfig, Vote};
use crate::peer_view::LeaderReport;
use crate::proto::raft::raft_service_client::RaftServiceClient;
use crate::proto::raft::{Envelope, LeadersRequest, LeavingRequest, SnapshotChunk};

/// Size of one snapshot chunk on the wire.
const SNAPSHOT_CHUNK: usize = 1 << 20;

/// The channels to the other nodes of the cluster, shared by all groups.
#[derive(Clone)]
pub struct Peers {
    cluster_id: String,
    self_id: NodeId,
    channels: Arc<Mutex<HashMap<NodeId, Channel>>>,
    /// The replication stream to each peer, replaced when it fails.
    replication: Arc<Mutex<HashMap<NodeId, Arc<MuxConn>>>>,
}

impl Peers {
    pub fn new(cluster_id: String, self_id: NodeId) -> Self {
        Self {
            cluster_id,
            self_id,
            channels: Arc::default(),
            replication: Arc::default(),
        }
    }

    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    pub fn self_id(&self) -> NodeId {
        self.self_id
    }

    /// The shared channel to `node`, created on first use; it connects when first used and
    /// reconnects by itself after failures.
    pub fn channel(&self, node: NodeId, addr: &str) -> Result<Channel, tonic::transport::Error> {
        let mut channels = self.channels.lock().expect("peer map lock");
        if let Some(ch) = channels.get(&node) {
            return Ok(ch.clone());
        }
        let ch = Endpoint::from_shared(format!("http://{addr}"))?
            .connect_timeout(Duration::from_millis(500))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(5))
            .keep_alive_timeout(Duration::from_secs(5))
            .connect_lazy();
        channels.insert(node, ch.clone());
        Ok(ch)
    }

    /// The replication stream to `node`, opened on first use and reopened after it failed.
    pub fn replication(
        &self,
        node: NodeId,
        addr: &str,
    ) -> Result<Arc<MuxConn>, tonic::transport::Error> {
        let channel = self.channel(node, addr)?;
        let mut streams = self.replication.lock().expect("replication map lock");
        if let Some(conn) = streams.get(&node) {
            if !conn.is_closed() {
                return Ok(conn.clone());
            }
        }
        let conn = MuxConn::start(channel, self.cluster_id.clone(), self.self_id);
        streams.insert(node, conn.clone());
        Ok(conn)
    }

    /// Tells every peer in `peers` (id, gRPC address) that this node is stopping, so none of
    /// them hands it leadership meanwhile. Best effort and bounded: a peer that is down does
    /// not need telling.
    pub async fn announce_leaving(&self, peers: Vec<(NodeId, String)>, timeout: Duration) {
        let calls = peers.into_iter().map(|(id, addr)| async move {
            let Ok(channel) = self.channel(id, &addr) else {
                return;
            };
            let req = LeavingRequest {
                cluster_id: self.cluster_id.clone(),
                from_node: self.self_id,
            };
            let mut client = RaftServiceClient::new(channel);
            match tokio::time::timeout(timeout, client.leaving(req)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::debug!(node = id, error = %e, "leaving notice failed"),
                Err(_) => tracing::debug!(node = id, "leaving notice timed out"),
            }
        });
        futures::future::join_all(calls).await;
    }

    /// Asks `node` which leader it believes each of its groups has (bounded by `timeout`).
    pub async fn leaders(
        &self,
        node: NodeId,
        addr: &str,
        timeout: Duration,
    ) -> Result<Vec<LeaderReport>, String> {
        let channel = self.channel(node, addr).map_err(|e| e.to_string())?;
        let req = LeadersRequest {
            cluster_id: self.cluster_id.clone(),
            from_node: self.self_id,
        };
        let mut client = RaftServiceClient::new(channel);
        let reply = tokio::time::timeout(timeout, client.leaders(req))
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|status| status.message().to_string())?
            .into_inner();
        Ok(reply
            .groups
            .into_iter()
            .map(|g| LeaderReport {
                group: g.group_id,
                leader: (g.leader != 0).then_some(g.leader),
                term: g.term,
            })
            .collect())
    }

    fn envelope<T: Serialize>(&self, group: GroupId, msg: &T) -> Result<Envelope, std::io::Error> {
        Ok(Envelope {
            cluster_id: self.cluster_id.clone(),
            group_id: group,
            from_node: self.self_id,
            payload: encode(msg)?,
        })
    }
}

/// Builds clients for one group.
pub struct NetworkFactory {
    group: GroupId,
    peers: Peers,
}

impl NetworkFactory {
    pub fn new(group: GroupId, peers: Peers) -> Self {
        Self { group, peers }
    }
}

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = GroupClient;

    async fn new_client(&mut self, target: NodeId, node: &NodeAddr) -> Self::Network {
        debug_assert_ne!(
            target, self.peers.self_id,
            "a node never replicates to itself"
        );
        GroupClient {
            group: self.group,
            target,
            addr: node.grpc.clone(),
            peers: self.peers.clone(),
            client: self
                .peers
                .channel(target, &node.grpc)
                .map(RaftServiceClient::new)
                .map_err(|e| e.to_string()),
        }
    }
}

/// One group's client to one peer node.
pub struct GroupClient {
    group: GroupId,
    target: NodeId,
    /// The peer's gRPC address.
    addr: String,
    peers: Peers,
    /// An invalid peer address surfaces as an error on every call rather than a panic.
    client: Result<RaftServiceClient<Channel>, String>,
}

pub(super) fn unreachable(e: impl std::fmt::Display) -> RPCError<TypeConfig> {
    RPCError::Unreachable(Unreachable::from_string(e.to_string()))
}

pub(super) fn status_to_rpc(status: tonic::Status) -> RPCError<TypeConfig> {
    match status.code() {
        // The peer is down or the connection broke: back off before retrying.
        tonic::Code::Unavailable | tonic::Code::Cancelled | tonic::Code::Unknown => {
            unreachable(status)
        }
        _ => RPCError::Network(NetworkError::new(&status)),
    }
}

impl GroupClient {
    fn client(&self) -> Result<RaftServiceClient<Channel>, RPCError<TypeConfig>> {
        self.client.clone().map_err(unreachable)
    }

    async fn unary<Req, Resp, F, Fut>(
        &self,
        req: &Req,
        option: &RPCOption,
        call: F,
    ) -> Result<Resp, RPCError<TypeConfig>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        F: FnOnce(RaftServiceClient<Channel>, Envelope) -> Fut,
        Fut: Future<Output = Result<tonic::Response<crate::proto::raft::Reply>, tonic::Status>>,
    {
        let envelope = self
            .peers
            .envelope(self.group, req)
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let reply = tokio::time::timeout(option.hard_ttl(), call(self.client()?, envelope))
            .await
            .map_err(|_| unreachable(format!("rpc to node {} timed out", self.target)))?
            .map_err(status_to_rpc)?;
        decode(&reply.into_inner().payload).map_err(|e| RPCError::Network(NetworkError::new(&e)))
    }
}

impl RaftNetworkV2<TypeConfig> for GroupClient {
    type SnapshotData = Vec<u8>;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(&rpc, &option, |mut c, e| async move {
            c.append_entries(e).await
        })
        .await
    }

    fn stream_append<'s, S>(
        &'s mut self,
        input: S,
        _option: RPCOption,
    ) -> openraft::base::BoxFuture<
        's,
        Result<
            openraft::base::BoxStream<
                's,
                Result<StreamAppendResult<TypeConfig>, RPCError<TypeConfig>>,
            >,
            RPCError<TypeConfig>,
        >,
    >
    where
        S: Stream<Item = AppendEntriesRequest<TypeConfig>> + OptionalSend + Unpin + 'static,
    {
        let peers = self.peers.clone();
        let (group, target, addr) = (self.group, self.target, self.addr.clone());
        Box::pin(async move {
            // Pull the first request before connecting: openraft applies its replication
            // backoff while producing requests, so a peer that is down is retried at the
            // backoff's pace instead of in a tight reconnect loop.
            let mut input = input;
            let Some(first) = input.next().await else {
                let empty: openraft::base::BoxStream<'s, _> = Box::pin(futures::stream::empty());
                return Ok(empty);
            };
            let conn = peers.replication(target, &addr).map_err(unreachable)?;
            let replies = conn.open_substream(group, first, input)?;
            let replies: openraft::base::BoxStream<'s, _> = Box::pin(
                tokio_stream::wrappers::UnboundedReceiverStream::new(replies),
            );
            Ok(replies)
        })
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(&rpc, &option, |mut c, e| async move { c.vote(e).await })
            .await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(&rpc, &option, |mut c, e| async move { c.pre_vote(e).await })
            .await
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: openraft::alias::SnapshotOf<TypeConfig, Vec<u8>>,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let to_streaming = |e: RPCError<TypeConfig>| match e {
            RPCError::Unreachable(u) => StreamingError::Unreachable(u),
            RPCError::Network(n) => StreamingError::Network(n),
            other => StreamingError::Network(NetworkError::new(&other)),
        };
        let mut client = self.client().map_err(to_streaming)?;
        let header = self
            .peers
            .envelope(self.group, &(vote, snapshot.meta.clone()))
            .map_err(|e| StreamingError::Network(NetworkError::new(&e)))?;
        let data = bytes::Bytes::from(snapshot.snapshot);
        let mut chunks = vec![SnapshotChunk {
            header: Some(header),
            data: bytes::Bytes::new().into(),
        }];
        let mut offset = 0;
        while offset < data.len() {
            let end = (offset + SNAPSHOT_CHUNK).min(data.len());
            chunks.push(SnapshotChunk {
                header: None,
                data: data.slice(offset..end).into(),
            });
            offset = end;
        }
        let send = client.install_snapshot(futures::stream::iter(chunks));
        tokio::select! {
            closed = cancel => Err(StreamingError::Closed(closed)),
            reply = send => {
                let reply = reply.map_err(|s| to_streaming(status_to_rpc(s)))?;
                decode(&reply.into_inner().payload).map_err(|e| StreamingError::Network(NetworkError::new(&e)))
            }
        }
    }

    async fn transfer_leader(
        &mut self,
        req: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(&req, &option, |mut c, e| async move {
            c.transfer_leader(e).await
        })
        .await
    }
}
