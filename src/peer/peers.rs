//! The channels to the other nodes: `Peers` keeps one lazily connected HTTP/2 channel per peer
//! node; every group's client to that peer is a clone of it, so all groups share one
//! connection. A node never builds a client to itself (openraft never asks for one: a node
//! does not replicate to itself).
//!
//! Replication is pipelined: each group's `stream_append` to a peer is a substream of the one
//! replication stream to that peer (see `mux`), and keeps sending AppendEntries without waiting
//! for replies; replies come back in order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tonic::transport::{Channel, Endpoint};

use super::mux_client::MuxConn;
use crate::cluster::incarnation::RaftId;
use crate::cluster::{GroupId, NodeId};
use crate::peer_view::LeaderReport;
use crate::proto::raft::raft_service_client::RaftServiceClient;
use crate::proto::raft::{Envelope, LeadersRequest, LeavingRequest};
use crate::raft::codec::encode;

/// The channels to the other nodes of the cluster, shared by all groups.
#[derive(Clone)]
pub struct Peers {
    cluster_id: String,
    self_id: NodeId,
    channels: Arc<Mutex<HashMap<NodeId, Channel>>>,
    /// The replication stream to each peer incarnation, replaced when it fails.
    replication: Arc<Mutex<HashMap<RaftId, Arc<MuxConn>>>>,
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

    /// The replication stream to `target`, opened on first use and reopened after it failed.
    pub fn replication(
        &self,
        target: RaftId,
        addr: &str,
    ) -> Result<Arc<MuxConn>, tonic::transport::Error> {
        let channel = self.channel(target.node, addr)?;
        let mut streams = self.replication.lock().expect("replication map lock");
        if let Some(conn) = streams.get(&target) {
            if !conn.is_closed() {
                return Ok(conn.clone());
            }
        }
        let conn = MuxConn::start(channel, self.cluster_id.clone(), self.self_id, target);
        streams.insert(target, conn.clone());
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
    /// Also sends the metadata version this node has, and returns the peer's metadata (JSON)
    /// when it is newer.
    pub async fn leaders(
        &self,
        node: NodeId,
        addr: &str,
        metadata_version: u64,
        timeout: Duration,
    ) -> Result<(Vec<LeaderReport>, Vec<u8>), String> {
        let channel = self.channel(node, addr).map_err(|e| e.to_string())?;
        let req = LeadersRequest {
            cluster_id: self.cluster_id.clone(),
            from_node: self.self_id,
            metadata_version,
        };
        let mut client = RaftServiceClient::new(channel);
        let reply = tokio::time::timeout(timeout, client.leaders(req))
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|status| status.message().to_string())?
            .into_inner();
        let reports = reply
            .groups
            .into_iter()
            .map(|g| LeaderReport {
                group: g.group_id,
                leader: (g.leader != 0).then_some(g.leader),
                term: g.term,
                members: g.settled.then(|| {
                    g.members
                        .iter()
                        .map(|m| RaftId {
                            node: m.node,
                            incarnation: m.incarnation,
                        })
                        .collect()
                }),
            })
            .collect();
        Ok((reports, reply.metadata))
    }

    /// Wraps `msg` of `group` for the member `to`.
    pub(super) fn envelope<T: Serialize>(
        &self,
        group: GroupId,
        to: RaftId,
        msg: &T,
    ) -> Result<Envelope, std::io::Error> {
        Ok(Envelope {
            cluster_id: self.cluster_id.clone(),
            group_id: group,
            from_node: self.self_id,
            payload: encode(msg)?,
            to_incarnation: to.incarnation,
        })
    }
}
