//! Asking every peer which leaders its groups have (the `Leaders` call), to fill `peer_view`:
//! leaders of groups not hosted here, which peers answer at all, and the configurations the
//! groups' leaders committed. The same call spreads the cluster metadata: a peer with a newer
//! version sends it, and this node adopts it.

use std::sync::Arc;
use std::time::Duration;

use super::peers::Peers;
use crate::cluster::metadata::ClusterMetadata;
use crate::cluster::NodeId;
use crate::group::GroupRegistry;

/// Asks every peer, twice a second, which leaders its groups have (see `peer_view`): the
/// leaders of groups not hosted here, and which peers answer at all.
pub async fn poll_peers(registry: Arc<GroupRegistry>, peers: Peers) {
    const EVERY: Duration = Duration::from_millis(500);
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // The peers as the newest metadata lists them: nodes come and go.
        let topology = registry.topology();
        let others: Vec<(NodeId, String)> = topology
            .nodes()
            .iter()
            .filter(|(&id, _)| id != topology.self_id())
            .map(|(&id, addr)| (id, addr.grpc.clone()))
            .collect();
        let version = registry.metadata().map_or(0, |m| m.version);
        let asks = others.iter().map(|(id, addr)| {
            let peers = &peers;
            async move { (*id, peers.leaders(*id, addr, version, EVERY).await) }
        });
        for (id, answer) in futures::future::join_all(asks).await {
            match answer {
                Ok((reports, metadata)) => {
                    registry.peer_view().record(id, &reports);
                    if !metadata.is_empty() {
                        adopt_from(&registry, id, &metadata);
                    }
                }
                Err(e) => tracing::trace!(node = id, error = %e, "peer did not report its leaders"),
            }
        }
    }
}

fn adopt_from(registry: &GroupRegistry, peer: NodeId, json: &[u8]) {
    match serde_json::from_slice::<ClusterMetadata>(json) {
        Ok(meta) => {
            let version = meta.version;
            if registry.adopt(meta) {
                tracing::info!(version, from = peer, "adopted cluster metadata");
            }
        }
        Err(e) => tracing::warn!(from = peer, error = %e, "peer sent unreadable metadata"),
    }
}
