//! Asking every peer which leaders its groups have (the `Leaders` call), to fill `peer_view`:
//! leaders of groups not hosted here, and which peers answer at all.

use std::sync::Arc;
use std::time::Duration;

use super::peers::Peers;
use crate::cluster::NodeId;
use crate::group::GroupRegistry;

/// Asks every peer, twice a second, which leaders its groups have (see `peer_view`): the
/// leaders of groups not hosted here, and which peers answer at all.
pub async fn poll_peers(registry: Arc<GroupRegistry>, peers: Peers) {
    const EVERY: Duration = Duration::from_millis(500);
    let topology = registry.topology();
    let others: Vec<(NodeId, String)> = topology
        .nodes()
        .iter()
        .filter(|(&id, _)| id != topology.self_id())
        .map(|(&id, addr)| (id, addr.grpc.clone()))
        .collect();
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let asks = others.iter().map(|(id, addr)| {
            let peers = &peers;
            async move { (*id, peers.leaders(*id, addr, EVERY).await) }
        });
        for (id, answer) in futures::future::join_all(asks).await {
            match answer {
                Ok(reports) => registry.peer_view().record(id, &reports),
                Err(e) => tracing::trace!(node = id, error = %e, "peer did not report its leaders"),
            }
        }
    }
}
