//! `slotraft-ctl`: the operator CLI. Talks gRPC to any node's admin service.
//!
//! `health` is also the container health check (the image has no shell): it exits 0 only when
//! the node answers, is its cluster's member (not enrolling, not a refused new incarnation),
//! knows a leader for every slot group it hosts, and has applied what it knows to be committed.

use std::time::Duration;

use clap::{Parser, Subcommand};
use slotraft::proto::admin::admin_client::AdminClient;
use slotraft::proto::admin::{SnapshotRequest, StatusRequest, TransferLeaderRequest};

#[derive(Parser)]
#[command(
    name = "slotraft-ctl",
    version,
    about = "Operate a slotraft cluster over gRPC"
)]
struct Cli {
    /// gRPC address of any node (HOST:GPORT)
    #[arg(long, default_value = "127.0.0.1:16379")]
    node: String,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Cluster and slot-group status as this node sees it
    Status,
    /// Move a slot group's leadership to another member (ask the current leader)
    TransferLeader {
        #[arg(long)]
        group: u32,
        #[arg(long)]
        to: u64,
    },
    /// Build snapshots now (all groups, or the given ones) and purge the log behind them
    Snapshot {
        #[arg(long)]
        group: Vec<u32>,
    },
    /// Exit 0 if the node knows a leader for each of its groups and has applied what is
    /// committed; exit 1 (with the reason) otherwise. Used as the container health check.
    Health,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", cli.node))?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach {}: {e}", cli.node))?;
    let mut client = AdminClient::new(channel);
    match cli.command {
        Cmd::Status => {
            let s = client.status(StatusRequest {}).await?.into_inner();
            println!("node {} of cluster {}", s.node_id, s.cluster_id);
            println!("incarnation {}: {}", s.incarnation, s.standing);
            for n in &s.nodes {
                println!(
                    "  node {:>3}  resp {:<22} grpc {}",
                    n.node_id, n.resp_addr, n.grpc_addr
                );
            }
            println!(
                "{:>5} {:>11} {:>10} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>8}  voters",
                "group",
                "slots",
                "state",
                "leader",
                "term",
                "last_log",
                "committed",
                "applied",
                "snapshot",
                "keys"
            );
            for g in &s.groups {
                println!(
                    "{:>5} {:>5}-{:<5} {:>10} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>8}  {}",
                    g.group_id,
                    g.slot_start,
                    g.slot_end,
                    g.state,
                    g.leader,
                    g.term,
                    g.last_log_index,
                    g.committed,
                    g.applied,
                    g.snapshot_index,
                    g.keys,
                    g.voters.join(" ")
                );
            }
        }
        Cmd::TransferLeader { group, to } => {
            client
                .transfer_leader(TransferLeaderRequest {
                    group_id: group,
                    to_node: to,
                })
                .await?;
            println!("leadership of group {group} handed to node {to}");
        }
        Cmd::Health => {
            let s = client.status(StatusRequest {}).await?.into_inner();
            if s.standing != "member" {
                anyhow::bail!("node {} unhealthy: {}", s.node_id, s.standing);
            }
            let problems: Vec<String> = s
                .groups
                .iter()
                .filter_map(|g| {
                    if g.leader == 0 {
                        Some(format!("group {} has no leader", g.group_id))
                    } else if g.applied < g.committed {
                        Some(format!(
                            "group {} applied {} of {} committed",
                            g.group_id, g.applied, g.committed
                        ))
                    } else {
                        None
                    }
                })
                .collect();
            if !problems.is_empty() {
                anyhow::bail!("node {} unhealthy: {}", s.node_id, problems.join("; "));
            }
            println!("node {} healthy: {} groups", s.node_id, s.groups.len());
        }
        Cmd::Snapshot { group } => {
            client
                .snapshot(SnapshotRequest { group_ids: group })
                .await?;
            println!("snapshot triggered");
        }
    }
    Ok(())
}
