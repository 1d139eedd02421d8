//! `slotraft-ctl`: the operator CLI. Talks gRPC to any node's admin service.
//!
//! `health` is also the container health check (the image has no shell): it exits 0 only when
//! the node answers, is its cluster's member (not enrolling, not a refused new incarnation),
//! knows a leader for every slot group it hosts, and has applied what it knows to be committed.

use std::time::Duration;

use clap::{Parser, Subcommand};
use slotraft::proto::admin::admin_client::AdminClient;
use slotraft::proto::admin::{
    AddNodeRequest, ChangeReply, MoveReplicaRequest, RebalanceRequest, RemoveNodeRequest,
    ReplaceNodeRequest, SnapshotRequest, StatusReply, StatusRequest, TransferLeaderRequest,
};
use tonic::transport::Channel;

/// The meta group's id in `GroupPlan.group_id`.
const META_GROUP: u32 = u32::MAX;

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
    /// Cluster and slot-group status as this node sees it; with --wait, also follow every
    /// membership change in progress (asking every node) until all groups have their intended
    /// members
    Status {
        #[arg(long)]
        wait: bool,
    },
    /// Replace node DEAD by node NEW in every group it is a member of. With NEW equal to DEAD,
    /// readmit that node after it lost its data directory: it must be running again (it is
    /// refused until then), and its new incarnation replaces the old one everywhere
    ReplaceNode {
        dead: u64,
        new: u64,
        /// Wait until every group has its intended members
        #[arg(long)]
        wait: bool,
    },
    /// Make a node that joined (`slotraft-server --join`) active and give it its share of
    /// replicas and leaderships
    AddNode {
        id: u64,
        #[arg(long)]
        wait: bool,
    },
    /// Drain a node (its replicas move to the other nodes), then remove it from the cluster.
    /// Refused when the other nodes are too few to keep every group at its size
    RemoveNode {
        id: u64,
        #[arg(long)]
        wait: bool,
    },
    /// Spread replicas and preferred leaderships evenly over the active nodes
    Rebalance {
        #[arg(long)]
        wait: bool,
    },
    /// Move one replica of a slot group (or of the meta group: --group meta) to another node
    MoveReplica {
        #[arg(long)]
        group: String,
        #[arg(long)]
        from: u64,
        #[arg(long)]
        to: u64,
        #[arg(long)]
        wait: bool,
    },
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
        Cmd::Status { wait } => {
            let s = client.status(StatusRequest {}).await?.into_inner();
            print_status(&s);
            if wait {
                wait_settled(&mut client).await?;
            }
        }
        Cmd::ReplaceNode { dead, new, wait } => {
            let reply = client
                .replace_node(ReplaceNodeRequest { dead, new })
                .await?
                .into_inner();
            print_change(&reply);
            if wait {
                wait_settled(&mut client).await?;
            }
        }
        Cmd::AddNode { id, wait } => {
            let reply = client
                .add_node(AddNodeRequest { node_id: id })
                .await?
                .into_inner();
            print_change(&reply);
            if wait {
                wait_settled(&mut client).await?;
            }
        }
        Cmd::RemoveNode { id, wait } => {
            let reply = client
                .remove_node(RemoveNodeRequest { node_id: id })
                .await?
                .into_inner();
            print_change(&reply);
            if wait {
                wait_settled(&mut client).await?;
                wait_removed(&mut client, id).await?;
            }
        }
        Cmd::Rebalance { wait } => {
            let reply = client.rebalance(RebalanceRequest {}).await?.into_inner();
            print_change(&reply);
            if wait {
                wait_settled(&mut client).await?;
            }
        }
        Cmd::MoveReplica {
            group,
            from,
            to,
            wait,
        } => {
            let group_id = match group.as_str() {
                "meta" => META_GROUP,
                g => g
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--group: '{g}' is not a group id or 'meta'"))?,
            };
            let reply = client
                .move_replica(MoveReplicaRequest {
                    group_id,
                    from_node: from,
                    to_node: to,
                })
                .await?
                .into_inner();
            print_change(&reply);
            if wait {
                wait_settled(&mut client).await?;
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

fn print_status(s: &StatusReply) {
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
    if s.metadata_version == 0 {
        println!("cluster metadata: none yet (the meta group is starting)");
        return;
    }
    println!("cluster metadata version {}", s.metadata_version);
    for n in &s.registry {
        println!(
            "  node {:>3}  {:<9} incarnation {}  resp {:<22} grpc {}",
            n.node_id, n.state, n.incarnation, n.resp_addr, n.grpc_addr
        );
    }
    for p in s.plans.iter().filter(|p| !p.voters.is_empty()) {
        println!(
            "  {} led here: intended {:?}, voters [{}], learners [{}]{}",
            group_name(p.group_id),
            p.intended,
            p.voters.join(" "),
            p.learners.join(" "),
            if p.progress.is_empty() {
                String::new()
            } else {
                format!(": {}", p.progress)
            }
        );
    }
}

fn group_name(id: u32) -> String {
    if id == META_GROUP {
        "meta group".to_string()
    } else {
        format!("group {id}")
    }
}

fn print_change(reply: &ChangeReply) {
    println!(
        "metadata version {}: {}",
        reply.metadata_version, reply.summary
    );
}

/// Asks every node of the registry until every group's leader reports its intended members as
/// its voters, with no learners left; prints what is still moving at most once a second.
async fn wait_settled(client: &mut AdminClient<Channel>) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    loop {
        let s = client.status(StatusRequest {}).await?.into_inner();
        let expected: std::collections::BTreeMap<u64, String> = s
            .registry
            .iter()
            .map(|n| (n.node_id, n.incarnation.clone()))
            .collect();
        let mut led = std::collections::BTreeMap::new();
        for n in s.registry.iter().filter(|n| n.state != "removed") {
            let Ok(endpoint) =
                tonic::transport::Endpoint::from_shared(format!("http://{}", n.grpc_addr))
            else {
                continue;
            };
            let Ok(channel) = endpoint
                .connect_timeout(Duration::from_secs(1))
                .timeout(Duration::from_secs(2))
                .connect()
                .await
            else {
                continue;
            };
            if let Ok(reply) = AdminClient::new(channel).status(StatusRequest {}).await {
                for p in reply.into_inner().plans {
                    if !p.voters.is_empty() {
                        led.insert(p.group_id, p);
                    }
                }
            }
        }
        let groups: Vec<u32> = s.plans.iter().map(|p| p.group_id).collect();
        let mut moving = Vec::new();
        for id in &groups {
            let Some(p) = led.get(id) else {
                moving.push(format!("{}: no leader reported", group_name(*id)));
                continue;
            };
            let mut want: Vec<String> = p
                .intended
                .iter()
                .map(|n| format!("{n}.{}", expected.get(n).cloned().unwrap_or_default()))
                .collect();
            want.sort();
            let mut have = p.voters.clone();
            have.sort();
            if want != have || !p.learners.is_empty() {
                let doing = if p.progress.is_empty() {
                    "waiting for its leader".to_string()
                } else {
                    p.progress.clone()
                };
                moving.push(format!(
                    "{}: voters [{}] -> [{}]: {doing}",
                    group_name(*id),
                    have.join(" "),
                    want.join(" ")
                ));
            }
        }
        if moving.is_empty() {
            println!("every group has its intended members");
            return Ok(());
        }
        println!("{} group(s) changing:", moving.len());
        for m in &moving {
            println!("  {m}");
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!("membership changes still in progress after 10 minutes");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits until the registry shows node `id` removed (it is, once no group holds it).
async fn wait_removed(client: &mut AdminClient<Channel>, id: u64) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let s = client.status(StatusRequest {}).await?.into_inner();
        if s.registry
            .iter()
            .any(|n| n.node_id == id && n.state == "removed")
        {
            println!("node {id} is removed: it can be stopped");
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!("node {id} is not removed after 2 minutes");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
