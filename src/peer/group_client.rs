//! How openraft reaches a peer for one group: `NetworkFactory` builds a `GroupClient` per
//! (group, peer), a clone of the one channel to that peer (`Peers`). Unary calls (votes,
//! AppendEntries, leader transfer), pipelined AppendEntries as a substream of the peer's
//! replication stream (`mux_client`), snapshots as a stream of 1 MiB chunks read from the
//! snapshot file as they are sent.

use std::future::Future;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use openraft::errors::{NetworkError, RPCError, ReplicationClosed, StreamingError};
use openraft::network::{RPCOption, RaftNetworkFactory, RaftNetworkV2};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, StreamAppendResult,
    TransferLeaderRequest, TransferLeaderResponse, VoteRequest, VoteResponse,
};
use openraft::OptionalSend;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::transport::Channel;

use super::peers::Peers;
use super::rpc_error::{status_to_rpc, unreachable};
use crate::cluster::{GroupId, NodeAddr};
use crate::proto::raft::raft_service_client::RaftServiceClient;
use crate::proto::raft::{Envelope, SnapshotChunk};
use crate::raft::codec::decode;
use crate::raft::snapshot_file::SnapshotData;
use crate::raft::{RaftId, Snapshot, TypeConfig, Vote};

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

    async fn new_client(&mut self, target: RaftId, node: &NodeAddr) -> Self::Network {
        debug_assert_ne!(
            target.node,
            self.peers.self_id(),
            "a node never replicates to itself"
        );
        GroupClient {
            group: self.group,
            target,
            addr: node.grpc.clone(),
            peers: self.peers.clone(),
            client: self
                .peers
                .channel(target.node, &node.grpc)
                .map(RaftServiceClient::new)
                .map_err(|e| e.to_string()),
        }
    }
}

/// One group's client to one member on a peer node.
pub struct GroupClient {
    group: GroupId,
    /// The member (node and incarnation) every message is addressed to.
    target: RaftId,
    /// The peer's gRPC address.
    addr: String,
    peers: Peers,
    /// An invalid peer address surfaces as an error on every call rather than a panic.
    client: Result<RaftServiceClient<Channel>, String>,
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
            .envelope(self.group, self.target, req)
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let reply = tokio::time::timeout(option.hard_ttl(), call(self.client()?, envelope))
            .await
            .map_err(|_| unreachable(format!("rpc to node {} timed out", self.target)))?
            .map_err(status_to_rpc)?;
        decode(&reply.into_inner().payload).map_err(|e| RPCError::Network(NetworkError::new(&e)))
    }
}

impl RaftNetworkV2<TypeConfig> for GroupClient {
    type SnapshotData = SnapshotData;

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
        snapshot: Snapshot,
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
            .envelope(self.group, self.target, &(vote, snapshot.meta.clone()))
            .map_err(|e| StreamingError::Network(NetworkError::new(&e)))?;
        let data = Arc::new(snapshot.snapshot);
        let first = SnapshotChunk {
            header: Some(header),
            data: Default::default(),
            total_len: data.len(),
        };
        // Read from the file as the stream is pulled: one chunk in hand at a time.
        let group = self.group;
        let rest = futures::stream::unfold((data, 0u64), move |(data, offset)| async move {
            let file = data.clone();
            let chunk = tokio::task::spawn_blocking(move || file.chunk(offset))
                .await
                .map_err(std::io::Error::other)
                .and_then(|r| r);
            match chunk {
                Ok(chunk) if chunk.is_empty() => None,
                Ok(chunk) => {
                    let next = offset + chunk.len() as u64;
                    let piece = SnapshotChunk {
                        header: None,
                        data: chunk,
                        total_len: 0,
                    };
                    Some((piece, (data, next)))
                }
                Err(e) => {
                    // Ending early makes the receiver refuse the transfer as short.
                    tracing::warn!(group, error = %e, "reading the snapshot to send failed");
                    None
                }
            }
        });
        let send = client.install_snapshot(futures::stream::once(async { first }).chain(rest));
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
