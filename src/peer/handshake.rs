//! The layout check with every peer when a node starts: a peer whose cluster layout differs
//! (another `--initial-cluster`, `--groups` or `--replicas`) is fatal for this node, so two
//! clusters never mix their logs. A peer that is down is asked again until it answers.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::peers::Peers;
use crate::cluster::topology::Topology;
use crate::proto::raft::raft_service_client::RaftServiceClient;
use crate::proto::raft::HandshakeRequest;

/// Checks every peer's layout; a peer with a different one is fatal for this node.
pub fn spawn_handshakes(
    topology: &Arc<Topology>,
    peers: &Peers,
    fatal: watch::Sender<Option<String>>,
) {
    let fatal = Arc::new(fatal);
    for (&id, addr) in topology.nodes() {
        if id == topology.self_id() {
            continue;
        }
        let Ok(channel) = peers.channel(id, &addr.grpc) else {
            let _ = fatal.send(Some(format!(
                "node {id}: invalid gRPC address {}",
                addr.grpc
            )));
            continue;
        };
        let topology = topology.clone();
        let fatal = fatal.clone();
        tokio::spawn(async move {
            let mut client = RaftServiceClient::new(channel);
            loop {
                let req = HandshakeRequest {
                    cluster_id: topology.cluster_id().to_string(),
                    from_node: topology.self_id(),
                    layout: topology.canonical().to_string(),
                };
                match client.handshake(req).await {
                    Ok(_) => return,
                    Err(status) if status.code() == tonic::Code::FailedPrecondition => {
                        let _ = fatal.send(Some(format!("refusing to join: {}", status.message())));
                        return;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                }
            }
        });
    }
}
