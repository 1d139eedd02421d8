//! The handshake between nodes: each says which layout it runs, which incarnation answers, and
//! which incarnations the cluster counts as members. `ask` is one exchange (used by `enrol`
//! while a new data directory finds its standing); `spawn_handshakes` runs once every peer
//! after start: a peer whose layout differs (another `--initial-cluster`, `--groups` or
//! `--replicas`) is fatal for this node, so two clusters never mix their logs, and a peer
//! answering as an incarnation the cluster does not count is reported. A peer that is down is
//! asked again until it answers.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::peers::Peers;
use crate::cluster::incarnation::RaftId;
use crate::cluster::NodeId;
use crate::group::GroupRegistry;
use crate::proto::raft::raft_service_client::RaftServiceClient;
use crate::proto::raft::{HandshakeReply, HandshakeRequest};

/// Why one exchange did not give an answer.
#[derive(Debug)]
pub enum HandshakeError {
    /// The peer runs another layout: fatal, with the peer's explanation.
    Mismatch(String),
    /// The peer is down, unreachable or has an invalid address: ask again later.
    Unreachable(String),
}

/// One handshake with node `id` at gRPC address `addr`, bounded by `timeout`.
pub async fn ask(
    registry: &GroupRegistry,
    peers: &Peers,
    id: NodeId,
    addr: &str,
    timeout: Duration,
) -> Result<HandshakeReply, HandshakeError> {
    let channel = peers
        .channel(id, addr)
        .map_err(|e| HandshakeError::Unreachable(format!("invalid gRPC address {addr}: {e}")))?;
    let topology = registry.topology();
    let req = HandshakeRequest {
        cluster_id: topology.cluster_id().to_string(),
        from_node: topology.self_id(),
        layout: topology.canonical().to_string(),
        from_incarnation: registry.incarnation(),
    };
    let mut client = RaftServiceClient::new(channel);
    match tokio::time::timeout(timeout, client.handshake(req)).await {
        Ok(Ok(reply)) => Ok(reply.into_inner()),
        Ok(Err(status)) if status.code() == tonic::Code::FailedPrecondition => {
            Err(HandshakeError::Mismatch(status.message().to_string()))
        }
        Ok(Err(status)) => Err(HandshakeError::Unreachable(status.message().to_string())),
        Err(_) => Err(HandshakeError::Unreachable("timed out".into())),
    }
}

/// Handshakes with every peer once; a peer with a different layout is fatal for this node.
pub fn spawn_handshakes(
    registry: &Arc<GroupRegistry>,
    peers: &Peers,
    fatal: watch::Sender<Option<String>>,
) {
    let fatal = Arc::new(fatal);
    let topology = registry.topology();
    for (&id, addr) in topology.nodes() {
        if id == topology.self_id() {
            continue;
        }
        let (registry, peers, fatal) = (registry.clone(), peers.clone(), fatal.clone());
        let addr = addr.grpc.clone();
        tokio::spawn(async move {
            loop {
                match ask(&registry, &peers, id, &addr, Duration::from_secs(2)).await {
                    Ok(reply) => {
                        report_incarnation(&registry, id, reply.incarnation);
                        return;
                    }
                    Err(HandshakeError::Mismatch(why)) => {
                        let _ = fatal.send(Some(format!("refusing to join: {why}")));
                        return;
                    }
                    Err(HandshakeError::Unreachable(_)) => {
                        tokio::time::sleep(Duration::from_millis(500)).await
                    }
                }
            }
        });
    }
}

/// Logs a peer that answers as another incarnation than the cluster's member: it lost its data
/// directory, and the groups count it as down until it is replaced.
fn report_incarnation(registry: &GroupRegistry, id: NodeId, incarnation: u64) {
    let Some(member) = registry
        .standing()
        .incarnations()
        .and_then(|i| i.raft_id(id))
    else {
        return;
    };
    if member.incarnation != incarnation {
        tracing::error!(
            "node {id} answers as incarnation {}, but the cluster's member is {member}: its data \
             directory was emptied or replaced, so it holds none of the log it promised to keep; \
             the slot groups count it as down",
            RaftId {
                node: id,
                incarnation
            }
        );
    }
}
