//! `slotraft-bench`: a closed-loop load generator over raw RESP, for comparing slotraft with
//! Redis on the same machine, with the same client.
//!
//! `slotraft-bench run` drives one target (a Redis Cluster-style cluster routed by
//! `CLUSTER SLOTS`, or a single server) with `--concurrency` clients. Each client is a task with
//! its own connection(s) that sends one request, waits for the reply, and only then sends the
//! next (closed loop). With `--wait "N T"` every `SET` is followed by `WAIT N T` on the same
//! connection, pipelined right behind the `SET` in the same write; the pair counts as one
//! operation and its latency runs from the write until the `WAIT` reply. The run prints one JSON
//! line: ops, errors, ops/s, latency percentiles (computed by sorting all recorded latencies).
//! Every error reply and every I/O error is counted; none is ignored or retried silently.
//!
//! `slotraft-bench report FILE...` reads those JSON lines back and prints the comparison table
//! (medians over repeated runs) with the ratios of one target against two baselines.
//! `bench/run.sh` uses both; see `bench/README.md`.

mod client;
mod load;
mod report;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use load::run;
use report::report;

/// Redirections followed for one operation before it counts as an error.
const MAX_REDIRECTS: usize = 5;

#[derive(Parser, Debug)]
#[command(
    name = "slotraft-bench",
    version,
    about = "Closed-loop RESP benchmark for slotraft and Redis"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run one load against one target and print one JSON line.
    Run(RunArgs),
    /// Read JSON lines written by `run` and print the table and the ratios.
    Report(ReportArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A cluster: route every key by `CLUSTER SLOTS` from the seed, follow `-MOVED`.
    Cluster,
    /// One server at `--addr`.
    Single,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    Set,
    Get,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Set => "set",
            Workload::Get => "get",
        }
    }
}

#[derive(Parser, Debug, Clone)]
struct RunArgs {
    /// How to reach the target.
    #[arg(long = "target", value_enum, default_value = "single")]
    kind: Kind,
    /// Seed node (cluster) or server (single), HOST:PORT.
    #[arg(long, default_value = "127.0.0.1:6379")]
    addr: String,
    /// Name of the target in the output [default: the --target kind]
    #[arg(long)]
    label: Option<String>,
    #[arg(long, value_enum, default_value = "set")]
    workload: Workload,
    /// Number of closed-loop clients.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Measured seconds (after the warm-up); ignored when --requests is given.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring starts (duration mode only).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Total number of operations instead of a duration (no warm-up).
    #[arg(long)]
    requests: Option<u64>,
    /// Value size in bytes for SET.
    #[arg(long, default_value_t = 64)]
    value_size: usize,
    /// Number of distinct keys; each operation picks one uniformly at random.
    #[arg(long, default_value_t = 10000)]
    keyspace: usize,
    /// Key prefix; keys are PREFIX + zero-padded index.
    #[arg(long, default_value = "bench:key:")]
    key_prefix: String,
    /// Send `WAIT <this>` (e.g. "2 100") after every SET, pipelined behind it.
    #[arg(long)]
    wait: Option<String>,
    /// Before the run, SET every key of the keyspace once (no WAIT), so GETs find values.
    #[arg(long)]
    preload: bool,
    /// Clients used by --preload.
    #[arg(long, default_value_t = 50)]
    preload_concurrency: usize,
    /// Server process ids (comma-separated) whose CPU time (user + system, from /proc) during
    /// the measured window is reported per operation. CPU per operation is steadier than ops/s
    /// on a noisy machine, and it is what a server on busy cores is limited by.
    #[arg(long, value_delimiter = ',')]
    cpu_pids: Vec<u32>,
    /// Offered load in operations per second, spread evenly over the clients (duration mode
    /// only); 0 = closed loop, as fast as replies come. Below saturation, the server CPU per
    /// operation at a fixed rate compares two builds without the machine's speed of the moment
    /// changing how much batching each one gets.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
}

#[derive(Parser, Debug)]
struct ReportArgs {
    /// JSON-lines files written by `slotraft-bench run`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Target whose numbers are divided by the baselines'.
    #[arg(long, default_value = "slotraft")]
    subject: String,
    /// Durable baseline (first ratio column).
    #[arg(long, default_value = "redis+WAIT")]
    durable: String,
    /// Non-durable baseline (second ratio column).
    #[arg(long, default_value = "redis-plain")]
    plain: String,
    /// Goal for subject/durable ops/s on SET at the highest concurrency.
    #[arg(long, default_value_t = 0.5)]
    goal: f64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let line = runtime.block_on(run(args))?;
            println!("{line}");
            Ok(())
        }
        Cmd::Report(args) => report(&args),
    }
}
