//! One torture run from start to verdict: network and cluster up, clients and nemesis for the
//! run's duration, heal, wait for recovery, final reads, history to disk, checkers, report.
//! Also the named fault families and the suite that runs several of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;
use tokio::time::Instant;

use super::checker::{self, Verdicts};
use super::client::{Client, Outcome};
use super::cluster::{Cluster, ServerSettings};
use super::history::{History, Status};
use super::nemesis::{self, Fault, Schedule};
use super::network::{NetMode, Network};
use super::workload::{self, Load, Workload, FINAL_CLIENT};
use slotraft::resp::Frame;

/// Named sets of faults: what CI runs briefly and soaks run long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// No faults: the baseline.
    None,
    /// `kill -9` of a random node, the leader, a majority, all nodes.
    Crash,
    /// `SIGSTOP`/`SIGCONT` of the leader.
    Pause,
    /// Majority/minority, leader isolated, non-transitive ring.
    Partition,
    /// Leadership transfers and snapshots under load (with a small `--snapshot-logs`), plus
    /// kills of random nodes so that restarted nodes catch up by snapshot.
    Transfer,
    /// Everything at once.
    Mixed,
    /// A node that lost its data directory (always the same one) in the interleaving that
    /// would lose writes if it counted as its old self, plus kills and pauses: the wiped node
    /// comes back as a new incarnation and must not count toward any quorum.
    Wipe,
    /// Membership changes under load: a wiped node readmitted, replicas of slot groups and of
    /// the meta group moved, each cut into by kills and partitions, plus kills of random nodes
    /// and the leader cut off. Needs a node outside each group: with as many nodes as
    /// replicas, the run gets one more node (see [`nodes_for`]).
    Membership,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::None => "none",
            Family::Crash => "crash",
            Family::Pause => "pause",
            Family::Partition => "partition",
            Family::Transfer => "transfer",
            Family::Mixed => "mixed",
            Family::Wipe => "wipe",
            Family::Membership => "membership",
        }
    }

    pub fn faults(self) -> Vec<Fault> {
        use Fault::*;
        match self {
            Family::None => vec![],
            Family::Crash => vec![KillRandom, KillLeader, KillMajority, KillAll],
            Family::Pause => vec![PauseLeader],
            Family::Partition => vec![PartitionHalves, PartitionLeader, PartitionRing],
            Family::Transfer => vec![TransferLeader, Snapshot, KillRandom],
            Family::Wipe => vec![Wipe, KillRandom, Wipe, PauseLeader],
            Family::Membership => vec![Readmit, MoveReplica, KillRandom, PartitionLeader],
            Family::Mixed => vec![
                KillRandom,
                KillLeader,
                KillMajority,
                KillAll,
                PauseLeader,
                PartitionHalves,
                PartitionLeader,
                PartitionRing,
                TransferLeader,
                Snapshot,
            ],
        }
    }
}

/// How many nodes a run of `faults` starts: `nodes`, or, when membership faults need a node
/// outside every group and `nodes` has none (`nodes <= replicas`), `replicas + 1` (with three
/// replicas, four nodes: the meta group then has three members too, so its replicas can move
/// as well; with five nodes it would have five).
pub fn nodes_for(faults: &[Fault], nodes: usize, replicas: usize) -> usize {
    if faults.iter().any(|f| f.is_membership()) && nodes <= replicas {
        replicas + 1
    } else {
        nodes
    }
}

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub name: String,
    pub nodes: usize,
    pub net: NetMode,
    pub settings: ServerSettings,
    pub faults: Vec<Fault>,
    pub workloads: Vec<Workload>,
    pub load: Load,
    pub duration: Duration,
    pub schedule: Schedule,
    /// The run's directory: history, reports, node data and logs.
    pub out: PathBuf,
    pub seed: u64,
    /// Linearizability search steps per register key.
    pub budget: u64,
    /// How long the healed cluster may take to serve every group again.
    pub recovery_timeout: Duration,
    /// Keep node data directories even when the run passes.
    pub keep_data: bool,
}

/// Operations invoked while one kind of fault was active.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Availability {
    pub fault: String,
    pub injections: usize,
    pub ops: usize,
    pub ok: usize,
    pub fail: usize,
    pub info: usize,
}

impl Availability {
    pub fn ok_percent(&self) -> f64 {
        if self.ops == 0 {
            0.0
        } else {
            100.0 * self.ok as f64 / self.ops as f64
        }
    }
}

/// The outcome of one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub name: String,
    pub faults: Vec<Fault>,
    pub workloads: Vec<Workload>,
    pub nodes: usize,
    pub seconds: f64,
    /// Whether the servers were an `unsafe-ack` build (expected to fail).
    pub unsafe_build: bool,
    /// Client operations (final reads excluded) and how they ended.
    pub ops: usize,
    pub ok: usize,
    pub fail: usize,
    pub info: usize,
    /// Writes acknowledged / indeterminate.
    pub acknowledged_writes: usize,
    pub indeterminate_writes: usize,
    /// Acknowledged adds and appends missing at the end.
    pub lost: usize,
    pub linearizability: String,
    pub valid: bool,
    pub anomalies: Vec<String>,
    pub availability: Vec<Availability>,
    pub history: PathBuf,
    pub verdicts: Verdicts,
}

/// Runs one torture run and writes `history.jsonl`, `report.json` and `report.md` into
/// `opts.out`.
pub async fn run(opts: &RunOptions) -> anyhow::Result<RunSummary> {
    let started = std::time::Instant::now();
    if opts.out.exists() {
        std::fs::remove_dir_all(&opts.out)
            .with_context(|| format!("clearing {}", opts.out.display()))?;
    }
    std::fs::create_dir_all(&opts.out)?;
    if opts.net == NetMode::Loopback && opts.faults.iter().any(|f| f.is_partition()) {
        bail!("partition faults need --net netns (root, iproute2, nftables)");
    }
    let net = match opts.net {
        NetMode::Netns => Network::netns(opts.nodes)?,
        NetMode::Loopback => Network::loopback(opts.nodes, free_base_port(opts.nodes)?),
    };
    let data = opts.out.join("nodes");
    eprintln!(
        "torture {}: starting {} nodes ({:?}) in {}",
        opts.name,
        opts.nodes,
        opts.net,
        data.display()
    );
    let cluster = Cluster::start(net, opts.nodes, opts.settings.clone(), &data).await?;
    let unsafe_build = cluster.unsafe_build();
    check_commands(&cluster, &opts.workloads).await?;

    let rec = super::history::Recorder::new();
    let end = Instant::now() + opts.duration;
    let mut clients = Vec::new();
    for (w_index, &w) in opts.workloads.iter().enumerate() {
        for c in 0..opts.load.clients {
            let id = (w_index as u64 + 1) * 1000 + c as u64;
            clients.push(tokio::spawn(workload::run_client(
                w,
                id,
                cluster.resp_addrs(),
                opts.load,
                rec.clone(),
                end,
                opts.seed,
            )));
        }
    }
    let addrs = cluster.resp_addrs();
    let nemesis = tokio::spawn(nemesis::run(
        cluster,
        opts.faults.clone(),
        opts.schedule,
        rec.clone(),
        end,
        opts.seed,
    ));
    for c in clients {
        c.await?;
    }
    let (mut cluster, mut anomalies) = nemesis.await?;
    for (id, status) in cluster.exited() {
        anomalies.push(format!(
            "node {id} exited on its own ({status}) during the run"
        ));
    }
    cluster.heal_all()?;
    if let Err(e) = cluster.wait_healthy(opts.recovery_timeout).await {
        anomalies.push(format!("cluster did not recover after healing: {e}"));
    }
    if opts.faults.iter().any(|f| f.is_membership()) {
        if let Err(e) = cluster.wait_settled(opts.recovery_timeout, None).await {
            anomalies.push(format!("after healing: {e:#}"));
        }
    }
    eprintln!("torture {}: final reads", opts.name);
    workload::final_reads(
        &opts.workloads,
        addrs,
        opts.load,
        &rec,
        opts.recovery_timeout,
    )
    .await;
    for (id, status) in cluster.exited() {
        anomalies.push(format!(
            "node {id} exited on its own ({status}) after healing"
        ));
    }
    drop(cluster);

    let history = rec.snapshot();
    let history_path = opts.out.join("history.jsonl");
    history.save(&history_path)?;
    eprintln!(
        "torture {}: checking {} operations",
        opts.name,
        history.ops.len()
    );
    let verdicts = checker::check(&history, opts.budget);
    anomalies.extend(verdicts.anomalies());
    let summary = summarize(
        opts,
        &history,
        verdicts,
        anomalies,
        unsafe_build,
        history_path,
        started.elapsed(),
    );
    std::fs::write(
        opts.out.join("report.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    std::fs::write(
        opts.out.join("report.md"),
        report_markdown(std::slice::from_ref(&summary)),
    )?;
    if summary.valid && !opts.keep_data {
        let _ = std::fs::remove_dir_all(&data);
    }
    Ok(summary)
}

/// Fails early, with a clear message, when the server lacks a workload's commands.
async fn check_commands(cluster: &Cluster, workloads: &[Workload]) -> anyhow::Result<()> {
    let mut client = Client::new(cluster.resp_addrs(), Duration::from_secs(5), 0);
    for w in workloads {
        for &name in w.commands() {
            let out = client
                .call(b"", &[b"COMMAND", b"INFO", name.as_bytes()])
                .await;
            let known = matches!(&out, Outcome::Ok(Frame::Array(v)) if v.first().is_some_and(|f| *f != Frame::Null && *f != Frame::NullArray));
            if !known {
                bail!("the server does not support {name} (needed by the {w:?} workload)");
            }
        }
    }
    Ok(())
}

fn free_base_port(nodes: usize) -> anyhow::Result<u16> {
    let start = 20000 + (std::process::id() % 2000) as u16 * 10;
    for base in (start..50000).step_by(16) {
        let free = (1..=nodes as u16).all(|i| {
            std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()
                && std::net::TcpListener::bind(("127.0.0.1", base + i + 10000)).is_ok()
        });
        if free {
            return Ok(base);
        }
    }
    bail!("no free loopback ports")
}

fn summarize(
    opts: &RunOptions,
    history: &History,
    verdicts: Verdicts,
    anomalies: Vec<String>,
    unsafe_build: bool,
    history_path: PathBuf,
    elapsed: Duration,
) -> RunSummary {
    let client_ops: Vec<_> = history
        .ops
        .iter()
        .filter(|o| o.client != FINAL_CLIENT)
        .collect();
    let count = |s: Status| client_ops.iter().filter(|o| o.status == Some(s)).count();
    let writes = |s: Status| {
        client_ops
            .iter()
            .filter(|o| o.call.is_write() && o.status == Some(s))
            .count()
    };
    // Fault windows: [start, stop) per fault name.
    let mut windows: Vec<(u64, u64, String)> = Vec::new();
    let mut open: BTreeMap<String, u64> = BTreeMap::new();
    for e in &history.nemesis {
        match e.action.as_str() {
            "start" => {
                open.insert(e.fault.clone(), e.time_ns);
            }
            "stop" => {
                if let Some(t) = open.remove(&e.fault) {
                    windows.push((t, e.time_ns, e.fault.clone()));
                }
            }
            _ => {}
        }
    }
    for (fault, t) in open {
        windows.push((t, u64::MAX, fault));
    }
    let mut avail: BTreeMap<String, Availability> = BTreeMap::new();
    for (_, _, f) in &windows {
        let a = avail.entry(f.clone()).or_default();
        a.fault = f.clone();
        a.injections += 1;
    }
    for o in &client_ops {
        let fault = windows
            .iter()
            .find(|(s, e, _)| o.invoke_ns >= *s && o.invoke_ns < *e)
            .map(|(_, _, f)| f.clone())
            .unwrap_or_else(|| "(no fault)".to_string());
        let a = avail.entry(fault.clone()).or_default();
        a.fault = fault;
        a.ops += 1;
        match o.status {
            Some(Status::Ok) => a.ok += 1,
            Some(Status::Fail) => a.fail += 1,
            _ => a.info += 1,
        }
    }
    let valid = anomalies.is_empty() && verdicts.valid();
    RunSummary {
        name: opts.name.clone(),
        faults: opts.faults.clone(),
        workloads: opts.workloads.clone(),
        nodes: opts.nodes,
        seconds: elapsed.as_secs_f64(),
        unsafe_build,
        ops: client_ops.len(),
        ok: count(Status::Ok),
        fail: count(Status::Fail),
        info: count(Status::Info),
        acknowledged_writes: writes(Status::Ok),
        indeterminate_writes: writes(Status::Info),
        lost: verdicts.lost(),
        linearizability: verdicts.register.summary().to_string(),
        valid,
        anomalies,
        availability: avail.into_values().collect(),
        history: history_path,
        verdicts,
    }
}

/// The human report: one table row per run, then availability per fault and the anomalies.
pub fn report_markdown(runs: &[RunSummary]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| run | faults | nodes | s | ops | ok | fail | info | acknowledged writes | indeterminate writes | lost acknowledged writes | linearizability | verdict |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in runs {
        let faults: Vec<&str> = r.faults.iter().map(|f| f.name()).collect();
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            if r.unsafe_build {
                " (unsafe-ack build)"
            } else {
                ""
            },
            if faults.is_empty() {
                "none".to_string()
            } else {
                faults.join(" ")
            },
            r.nodes,
            r.seconds,
            r.ops,
            r.ok,
            r.fail,
            r.info,
            r.acknowledged_writes,
            r.indeterminate_writes,
            r.lost,
            r.linearizability,
            if r.valid { "PASS" } else { "FAIL" }
        );
    }
    for r in runs {
        let _ = writeln!(out, "\n### {} — availability per fault\n", r.name);
        let _ = writeln!(
            out,
            "| fault | injections | ops invoked | ok | fail | info | ok % |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for a in &r.availability {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {:.1} |",
                a.fault,
                a.injections,
                a.ops,
                a.ok,
                a.fail,
                a.info,
                a.ok_percent()
            );
        }
        let _ = writeln!(out, "\nhistory: `{}`", r.history.display());
        if r.anomalies.is_empty() {
            let _ = writeln!(out, "\nanomalies: none");
        } else {
            let _ = writeln!(out, "\nanomalies:");
            for a in r.anomalies.iter().take(50) {
                let _ = writeln!(out, "- {a}");
            }
        }
    }
    out
}

/// Re-checks a stored history (`slotraft-torture check`).
pub fn check_file(path: &Path, budget: u64) -> anyhow::Result<Verdicts> {
    let history = History::load(path)?;
    Ok(checker::check(&history, budget))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn families_and_faults_parse_by_their_names() {
        for f in Family::value_variants() {
            assert_eq!(Family::from_str(f.name(), false), Ok(*f));
            for fault in f.faults() {
                assert_eq!(Fault::from_str(fault.name(), false), Ok(fault));
            }
        }
        assert_eq!(Fault::from_str("readmit", false), Ok(Fault::Readmit));
        assert_eq!(
            Fault::from_str("move-replica", false),
            Ok(Fault::MoveReplica)
        );
        assert_eq!(
            Family::from_str("membership", false),
            Ok(Family::Membership)
        );
    }

    #[test]
    fn the_membership_family_changes_membership_among_kills_and_partitions() {
        let faults = Family::Membership.faults();
        assert!(faults.contains(&Fault::Readmit));
        assert!(faults.contains(&Fault::MoveReplica));
        assert!(faults.iter().any(|f| f.is_partition()));
        assert!(faults.contains(&Fault::KillRandom));
        // No other family changes membership (they keep their node counts).
        for f in Family::value_variants() {
            if *f != Family::Membership {
                assert!(!f.faults().iter().any(|x| x.is_membership()), "{f:?}");
            }
        }
    }

    #[test]
    fn membership_faults_get_a_node_outside_the_groups() {
        let membership = Family::Membership.faults();
        assert_eq!(nodes_for(&membership, 3, 3), 4);
        assert_eq!(nodes_for(&membership, 5, 3), 5);
        assert_eq!(nodes_for(&membership, 5, 5), 6);
        assert_eq!(nodes_for(&Family::Crash.faults(), 3, 3), 3);
        assert_eq!(nodes_for(&[], 3, 3), 3);
    }
}
