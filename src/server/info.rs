//! `INFO`: the sections Redis clients and tools read, in Redis's `field:value` format.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::context::Context;

/// The Redis version whose command semantics slotraft follows; clients gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";

const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cluster",
    "keyspace",
];

pub fn render(ctx: &Context, requested: &[String]) -> String {
    let wanted: Vec<String> = requested.iter().map(|s| s.to_ascii_lowercase()).collect();
    let all = wanted.is_empty()
        || wanted
            .iter()
            .any(|w| w == "all" || w == "everything" || w == "default");
    let mut out = String::new();
    for section in SECTIONS {
        if all || wanted.iter().any(|w| w == section) {
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            section_text(ctx, section, &mut out);
        }
    }
    if wanted
        .iter()
        .any(|w| w == "commandstats" || w == "everything" || w == "all")
    {
        out.push_str("\r\n# Commandstats\r\n");
        for (name, calls) in ctx.stats.per_command() {
            let _ = write!(out, "cmdstat_{name}:calls={calls},usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0\r\n");
        }
    }
    out
}

fn section_text(ctx: &Context, section: &str, out: &mut String) {
    let topology = ctx.registry.topology();
    let now = crate::clock::now_ms();
    match section {
        "server" => {
            let uptime = ctx.stats.started.elapsed().as_secs();
            let port = topology
                .self_addr()
                .and_then(|a| a.resp.rsplit(':').next())
                .unwrap_or("0")
                .to_string();
            let _ = write!(
                out,
                "# Server\r\nredis_version:{REDIS_VERSION}\r\nslotraft_version:{}\r\nredis_mode:cluster\r\n\
                 os:{}\r\narch_bits:64\r\nprocess_id:{}\r\ntcp_port:{port}\r\nuptime_in_seconds:{uptime}\r\n\
                 uptime_in_days:{}\r\nrun_id:{}\r\n",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::process::id(),
                uptime / 86400,
                topology.node_name(topology.self_id()),
            );
        }
        "clients" => {
            let _ = write!(
                out,
                "# Clients\r\nconnected_clients:{}\r\nmaxclients:{}\r\nblocked_clients:0\r\n",
                ctx.stats.connected_clients.load(Ordering::Relaxed),
                ctx.maxclients
            );
        }
        "memory" => {
            let _ = write!(
                out,
                "# Memory\r\nused_memory:{}\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n",
                resident_bytes()
            );
        }
        "persistence" => {
            let stats = ctx.registry.flusher().stats();
            let _ = write!(
                out,
                "# Persistence\r\nloading:0\r\naof_enabled:0\r\nslotraft_log_syncs:{}\r\nslotraft_log_synced_requests:{}\r\n",
                stats.syncs.load(Ordering::Relaxed),
                stats.requests.load(Ordering::Relaxed)
            );
        }
        "stats" => {
            let _ = write!(
                out,
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\nrejected_connections:{}\r\n",
                ctx.stats.total_connections.load(Ordering::Relaxed),
                ctx.stats.total_commands.load(Ordering::Relaxed),
                ctx.stats.rejected_connections.load(Ordering::Relaxed)
            );
        }
        "replication" => {
            let led = ctx.led_groups().len();
            let _ = write!(
                out,
                "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nslotraft_groups_hosted:{}\r\nslotraft_groups_led:{led}\r\n",
                ctx.registry.groups().len()
            );
        }
        "cluster" => out.push_str("# Cluster\r\ncluster_enabled:1\r\n"),
        "keyspace" => {
            out.push_str("# Keyspace\r\n");
            let (mut keys, mut expires) = (0, 0);
            for g in ctx.led_groups() {
                if let Ok(state) = g.state().read() {
                    keys += state.keyspace.len(now);
                    expires += state.keyspace.expires_count();
                }
            }
            if keys > 0 {
                let _ = write!(out, "db0:keys={keys},expires={expires},avg_ttl=0\r\n");
            }
        }
        _ => {}
    }
}

/// Resident set size from /proc (Linux); 0 elsewhere.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}
