//! `slotraft-torture`: Jepsen-style fault injection against real `slotraft-server` processes.
//!
//! ```text
//! slotraft-torture run --family partition --duration 60 --out torture-out/partition
//! slotraft-torture suite --families crash,pause,partition,transfer --duration 600 --out soak
//! slotraft-torture run --family membership --duration 60 --out torture-out/membership
//! slotraft-torture check --history torture-out/partition/history.jsonl
//! ```
//!
//! Exit status: 0 when every check passed, 1 on any anomaly (with `--expect-lost-writes`: 0
//! only when lost acknowledged writes were found — for the unsafe build), 2 on usage errors.
//!
//! The suite: Jepsen-style fault injection against real `slotraft-server` processes,
//! with checkers that decide whether anything acknowledged was lost and whether reads were
//! linearizable. A binary of its own: nothing here is compiled into the server library.
//!
//! - [`history`]: operations (invoke/complete, ok/fail/info) and nemesis events; JSON lines;
//! - [`checker`]: pure verdicts from a history (register linearizability, set, list-append);
//! - [`client`]: a cluster client that follows `-MOVED` and classifies outcomes honestly;
//! - [`workload`]: what the clients do, and the final reads;
//! - [`network`]: one network namespace per node, partitions with nftables;
//! - [`cluster`]: the server processes (kill, pause, restart, leaders, transfers, snapshots,
//!   membership changes and waiting for them to settle);
//! - [`nemesis`]: the fault schedule;
//! - [`runner`]: one run end to end, fault families, the report.
//!
//! The suite must be able to fail: the checkers are unit-tested with histories that are not
//! linearizable or lose writes, and CI runs it against a server built with the test-only
//! `unsafe-ack` feature, which must be reported as losing acknowledged writes.

mod checker;
mod client;
mod cluster;
mod history;
mod nemesis;
mod network;
mod runner;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::cluster::ServerSettings;
use crate::nemesis::{Fault, Schedule};
use crate::network::NetMode;
use crate::runner::{Family, RunOptions, RunSummary};
use crate::workload::{Load, Workload};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "slotraft-torture",
    about = "Fault injection and linearizability checking"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// One run: a fault family (or a list of faults), then the checks and a report.
    Run {
        #[command(flatten)]
        common: Common,
        /// A named family of faults.
        #[arg(long, conflicts_with = "faults")]
        family: Option<Family>,
        /// Faults to pick from (comma-separated), instead of a family.
        #[arg(long, value_delimiter = ',')]
        faults: Vec<Fault>,
        /// Succeed only if lost acknowledged writes are found (for the unsafe-ack build).
        #[arg(long)]
        expect_lost_writes: bool,
    },
    /// Several families one after another, each in `OUT/<family>`, with `OUT/summary.md`.
    Suite {
        #[command(flatten)]
        common: Common,
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "crash,pause,partition,transfer"
        )]
        families: Vec<Family>,
    },
    /// Re-checks a stored history file.
    Check {
        #[arg(long)]
        history: PathBuf,
        #[arg(long, default_value_t = 20_000_000)]
        budget: u64,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// The server binary [default: slotraft-server next to this binary; env SLOTRAFT_SERVER]
    #[arg(long, env = "SLOTRAFT_SERVER")]
    server: Option<PathBuf>,
    /// Output directory (history, reports, node data and logs).
    #[arg(long, default_value = "torture-out")]
    out: PathBuf,
    /// Seconds of load per run.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Nodes (with `readmit` or `move-replica`: at least `--replicas` + 1, raised if fewer).
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Network: one namespace per node (partitions possible; needs root) or loopback.
    #[arg(long, value_enum)]
    net: Option<NetMode>,
    #[arg(long, value_delimiter = ',', default_value = "register,set,sadd,list")]
    workloads: Vec<Workload>,
    /// Concurrent clients per workload.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Register / set / list keys per workload.
    #[arg(long, default_value_t = 4)]
    keys: usize,
    /// Upper bound on one client request, ms.
    #[arg(long, default_value_t = 5000)]
    op_timeout_ms: u64,
    /// Quiet seconds before each fault (randomized between half and all of it).
    #[arg(long, default_value_t = 3.0)]
    quiet: f64,
    /// Seconds each fault is held.
    #[arg(long, default_value_t = 4.0)]
    hold: f64,
    #[arg(long, default_value_t = 3)]
    groups: u32,
    #[arg(long, default_value_t = 3)]
    replicas: usize,
    /// Small, so that snapshots and log purges happen during the faults.
    #[arg(long, default_value_t = 100)]
    snapshot_logs: u64,
    #[arg(long, default_value_t = 500)]
    election_timeout_ms: u64,
    #[arg(long, default_value_t = 100)]
    heartbeat_ms: u64,
    #[arg(long, default_value_t = 2000)]
    write_timeout_ms: u64,
    /// RUST_LOG for the servers.
    #[arg(long, default_value = "info,openraft=error,sled=warn")]
    log_filter: String,
    /// Random seed [default: from the clock]; printed in the report for replays.
    #[arg(long)]
    seed: Option<u64>,
    /// Linearizability search steps per register key before giving up (verdict "unknown").
    #[arg(long, default_value_t = 20_000_000)]
    budget: u64,
    /// Seconds the healed cluster may take to serve every group again.
    #[arg(long, default_value_t = 60)]
    recovery_timeout: u64,
    /// Keep the nodes' data directories even when the run passes.
    #[arg(long)]
    keep_data: bool,
}

impl Common {
    fn options(&self, name: &str, out: PathBuf, faults: Vec<Fault>) -> anyhow::Result<RunOptions> {
        let server = match &self.server {
            Some(s) => s.clone(),
            None => std::env::current_exe()?.with_file_name("slotraft-server"),
        };
        if !server.exists() {
            anyhow::bail!("server binary {} not found (--server)", server.display());
        }
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let net = self.net.unwrap_or(if root {
            NetMode::Netns
        } else {
            NetMode::Loopback
        });
        let seed = self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
        let mut workloads = self.workloads.clone();
        workloads.sort();
        workloads.dedup();
        let nodes = runner::nodes_for(&faults, self.nodes, self.replicas);
        if nodes != self.nodes {
            eprintln!(
                "torture {name}: {nodes} nodes instead of {}: membership faults need a node \
                 outside each group of {} replicas",
                self.nodes, self.replicas
            );
        }
        Ok(RunOptions {
            name: name.to_string(),
            nodes,
            net,
            settings: ServerSettings {
                binary: std::fs::canonicalize(server)?,
                groups: self.groups,
                replicas: self.replicas,
                snapshot_logs: self.snapshot_logs,
                election_timeout_ms: self.election_timeout_ms,
                heartbeat_ms: self.heartbeat_ms,
                write_timeout_ms: self.write_timeout_ms,
                log_filter: self.log_filter.clone(),
            },
            faults,
            workloads,
            load: Load {
                clients: self.clients,
                keys: self.keys,
                op_timeout: Duration::from_millis(self.op_timeout_ms),
            },
            duration: Duration::from_secs(self.duration),
            schedule: Schedule {
                quiet: Duration::from_secs_f64(self.quiet),
                hold: Duration::from_secs_f64(self.hold),
            },
            out,
            seed,
            budget: self.budget,
            recovery_timeout: Duration::from_secs(self.recovery_timeout),
            keep_data: self.keep_data,
        })
    }
}

fn print_summary(s: &RunSummary) {
    eprintln!(
        "torture {}: {} ops ({} ok, {} fail, {} info), {} acknowledged writes, {} indeterminate, \
         {} lost, registers {}: {}{}",
        s.name,
        s.ops,
        s.ok,
        s.fail,
        s.info,
        s.acknowledged_writes,
        s.indeterminate_writes,
        s.lost,
        s.linearizability,
        if s.valid { "PASS" } else { "FAIL" },
        if s.unsafe_build {
            " (unsafe-ack build)"
        } else {
            ""
        },
    );
    for a in s.anomalies.iter().take(20) {
        eprintln!("  anomaly: {a}");
    }
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("slotraft-torture: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match cli.command {
        Cmd::Check { history, budget } => {
            let v = runner::check_file(&history, budget)?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            let anomalies = v.anomalies();
            for a in &anomalies {
                eprintln!("anomaly: {a}");
            }
            Ok(if v.valid() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Cmd::Run {
            common,
            family,
            faults,
            expect_lost_writes,
        } => {
            let (name, faults) = match family {
                Some(f) => (f.name().to_string(), f.faults()),
                None if faults.is_empty() => ("none".to_string(), vec![]),
                None => (
                    faults
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join("+"),
                    faults,
                ),
            };
            let opts = common.options(&name, common.out.clone(), faults)?;
            let summary = runtime.block_on(interruptible(runner::run(&opts)))?;
            print_summary(&summary);
            println!(
                "{}",
                runner::report_markdown(std::slice::from_ref(&summary))
            );
            let passed = if expect_lost_writes {
                summary.lost > 0
            } else {
                summary.valid
            };
            Ok(if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Cmd::Suite { common, families } => {
            let mut summaries = Vec::new();
            for f in families {
                let opts = common.options(f.name(), common.out.join(f.name()), f.faults())?;
                let summary = runtime.block_on(interruptible(runner::run(&opts)))?;
                print_summary(&summary);
                summaries.push(summary);
            }
            let report = runner::report_markdown(&summaries);
            std::fs::write(common.out.join("summary.md"), &report)?;
            println!("{report}");
            Ok(if summaries.iter().all(|s| s.valid) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// Runs `fut`, or stops on Ctrl-C / SIGTERM (dropping the cluster kills the servers and
/// removes the namespaces).
async fn interruptible<T>(
    fut: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = fut => r,
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted"),
        _ = term.recv() => anyhow::bail!("terminated"),
    }
}
