//! Graceful stop (SIGTERM, SIGINT): leave the cluster so that clients see nothing but `-MOVED`.
//!
//! 1. Lifecycle → `HandingOff`: this node stops campaigning in every group and tells its peers
//!    it is leaving (so their balancers do not give it leadership back).
//! 2. Every group it leads is handed to an up-to-date member (`leadership::hand_off`); this is
//!    re-checked until it leads nothing, since a transfer already under way may still land here.
//!    Writes proposed before a hand-off are not lost: the successor has them (openraft only
//!    lets an up-to-date target take over), commits them, and this node answers those clients
//!    once it applies them.
//! 3. Clients keep being served — every keyed command now gets `-MOVED` to the new leader —
//!    until none has sent a command for a quiet period: cluster clients have learned the new
//!    leaders and will not come back here.
//! 4. Lifecycle → `Closing`: no new connections; each connection closes once it has answered
//!    its last command; wait (bounded) until all are gone.
//! 5. Every group's Raft shuts down.
//!
//! Everything is bounded by one deadline; past it the node stops anyway (as `kill` would).

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use crate::group::leadership;
use crate::group::{GroupRegistry, Lifecycle};
use crate::peer::peers::Peers;
use crate::server::stats::ServerStats;

/// No client command for this long means clients have moved on (step 3).
const QUIET: Duration = Duration::from_millis(500);

/// What the stop achieved; logged by the caller.
#[derive(Debug, Default)]
pub struct StopReport {
    /// Groups this node led when the stop began.
    pub led_at_start: usize,
    /// Groups still led when it gave up handing off (0 on a clean stop).
    pub still_led: usize,
    /// Client connections still open when it stopped waiting for them.
    pub open_connections: u64,
    pub elapsed: Duration,
}

pub async fn stop(
    registry: &GroupRegistry,
    peers: &Peers,
    stats: &ServerStats,
    timeout: Duration,
) -> StopReport {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut report = StopReport {
        led_at_start: registry
            .all_groups()
            .into_iter()
            .filter(|g| g.is_leader())
            .count(),
        ..StopReport::default()
    };

    // 1. Take no new leadership.
    registry.advance_lifecycle(Lifecycle::HandingOff);
    for group in registry.all_groups() {
        group.raft().runtime_config().elect(false);
    }
    let topology = registry.topology();
    let others: Vec<_> = topology
        .nodes()
        .iter()
        .filter(|(id, _)| **id != topology.self_id())
        .map(|(id, addr)| (*id, addr.grpc.clone()))
        .collect();
    peers
        .announce_leaving(others, Duration::from_millis(500))
        .await;

    // 2. Hand off every led group, until none is led or time is up.
    while Instant::now() < deadline {
        let led: Vec<_> = registry
            .all_groups()
            .into_iter()
            .filter(|g| g.is_leader())
            .collect();
        if led.is_empty() {
            break;
        }
        let hand_offs = led.into_iter().map(|group| async move {
            let Some(to) = leadership::successor(registry, &group) else {
                return;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            tracing::info!(group = group.id(), %to, "stopping: handing off leadership");
            leadership::hand_off(&group, to, left.min(Duration::from_secs(3))).await;
        });
        futures::future::join_all(hand_offs).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    report.still_led = registry
        .all_groups()
        .into_iter()
        .filter(|g| g.is_leader())
        .count();

    // 3. Let clients learn the new leaders from our -MOVED replies.
    let mut last = stats.total_commands.load(Ordering::Relaxed);
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline && quiet_since.elapsed() < QUIET {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = stats.total_commands.load(Ordering::Relaxed);
        if now != last {
            last = now;
            quiet_since = Instant::now();
        }
    }

    // 4. Close client connections as they become idle.
    registry.advance_lifecycle(Lifecycle::Closing);
    while Instant::now() < deadline && stats.connected_clients.load(Ordering::Relaxed) > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    report.open_connections = stats.connected_clients.load(Ordering::Relaxed);

    // 5. Stop Raft.
    for group in registry.all_groups() {
        let _ = group.raft().shutdown().await;
    }
    report.elapsed = started.elapsed();
    report
}
