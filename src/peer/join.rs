//! Joining a running cluster (`--join HOST:GPORT`): a node with a new data directory asks any
//! node of the cluster to register it (the call is forwarded to the meta group's leader) and
//! learns the cluster's id, its creating layout (the slot ranges) and the current metadata.
//! The node then holds nothing until an operator makes it active (`slotraft-ctl add-node`).
//!
//! It must not know the data directory: `node.rs` records what this returns.

use std::time::Duration;

use tonic::transport::Endpoint;

use crate::cluster::metadata::ClusterMetadata;
use crate::cluster::{NodeAddr, NodeId};
use crate::proto::raft::raft_service_client::RaftServiceClient;
use crate::proto::raft::JoinRequest;

/// How often an unanswered join is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// What the cluster answered.
pub struct Joined {
    pub cluster_id: String,
    /// The creating layout's canonical text.
    pub layout: String,
    pub metadata: ClusterMetadata,
}

/// Registers node `node` (incarnation `incarnation`, reachable at `addr`) through `target`;
/// retries while the cluster cannot answer, and fails when it refuses (a clear reason).
pub async fn join(
    target: &str,
    node: NodeId,
    addr: &NodeAddr,
    external: Option<&str>,
    incarnation: u64,
) -> Result<Joined, String> {
    let endpoint = Endpoint::from_shared(format!("http://{target}"))
        .map_err(|e| format!("--join {target}: {e}"))?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10));
    loop {
        let request = JoinRequest {
            cluster_id: String::new(),
            node_id: node,
            resp_addr: addr.resp.clone(),
            grpc_addr: addr.grpc.clone(),
            incarnation,
            external_addr: external.unwrap_or_default().to_string(),
        };
        let answer = match endpoint.connect().await {
            Ok(channel) => RaftServiceClient::new(channel).join(request).await,
            Err(e) => Err(tonic::Status::unavailable(e.to_string())),
        };
        match answer {
            Ok(reply) => {
                let reply = reply.into_inner();
                let metadata = serde_json::from_slice(&reply.metadata)
                    .map_err(|e| format!("--join {target}: unreadable cluster metadata: {e}"))?;
                return Ok(Joined {
                    cluster_id: reply.cluster_id,
                    layout: reply.layout,
                    metadata,
                });
            }
            Err(status) if status.code() == tonic::Code::FailedPrecondition => {
                return Err(format!("--join {target}: refused: {}", status.message()));
            }
            Err(status) => {
                tracing::info!(target, error = %status.message(), "cluster not reached yet; retrying");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}
