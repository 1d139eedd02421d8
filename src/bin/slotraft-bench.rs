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

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use bytes::Bytes;
use clap::{Parser, Subcommand, ValueEnum};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use slotraft::client::{encode_request, parse_moved, Connection, SlotMap};
use slotraft::cluster::slot::key_slot;
use slotraft::resp::Frame;

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

// ---------------------------------------------------------------------------------------------
// Client (on the crate's RESP connection and slot map)
// ---------------------------------------------------------------------------------------------

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

async fn connect(addr: &str) -> anyhow::Result<Connection> {
    Connection::connect(addr, CONNECT_TIMEOUT)
        .await
        .with_context(|| format!("connect to {addr}"))
}

async fn fetch_slots(conn: &mut Connection, via: &str) -> anyhow::Result<SlotMap> {
    let reply = conn.call(&[b"CLUSTER", b"SLOTS"]).await?;
    SlotMap::from_cluster_slots(&reply, via).map_err(|e| anyhow!(e))
}

/// One client's connections: a single one, or one per cluster node, opened on demand.
struct Client {
    kind: Kind,
    single: Arc<str>,
    map: Option<SlotMap>,
    conns: HashMap<Arc<str>, Connection>,
    refresh_via: Option<Arc<str>>,
}

/// What one request came back with.
enum Outcome {
    Replies(Vec<Frame>),
    /// An error reply or an I/O error, with its text.
    Failed(String),
}

impl Client {
    async fn new(args: &RunArgs) -> anyhow::Result<Client> {
        let single: Arc<str> = Arc::from(args.addr.as_str());
        let mut client = Client {
            kind: args.kind,
            single: single.clone(),
            map: None,
            conns: HashMap::new(),
            refresh_via: None,
        };
        match args.kind {
            Kind::Single => {
                client.conns.insert(single.clone(), connect(&single).await?);
            }
            Kind::Cluster => {
                let mut seed = connect(&single).await?;
                let map = fetch_slots(&mut seed, &single).await?;
                for addr in map.addrs() {
                    let conn = connect(&addr).await?;
                    client.conns.insert(addr, conn);
                }
                client.map = Some(map);
            }
        }
        Ok(client)
    }

    async fn conn(&mut self, addr: &Arc<str>) -> anyhow::Result<&mut Connection> {
        if !self.conns.contains_key(addr) {
            let conn = connect(addr).await?;
            self.conns.insert(addr.clone(), conn);
        }
        Ok(self.conns.get_mut(addr).expect("just inserted"))
    }

    fn addr_for(&self, key: &[u8]) -> Arc<str> {
        match (&self.kind, &self.map) {
            (Kind::Cluster, Some(map)) => map
                .owner(key_slot(key))
                .cloned()
                .unwrap_or_else(|| self.single.clone()),
            _ => self.single.clone(),
        }
    }

    async fn refresh(&mut self) {
        let Some(via) = self.refresh_via.take() else {
            return;
        };
        let fetched = match self.conn(&via).await {
            Ok(conn) => fetch_slots(conn, &via).await,
            Err(e) => Err(e),
        };
        match fetched {
            Ok(map) => self.map = Some(map),
            Err(e) => {
                // Keep the old map (with the MOVED slot already patched); drop the connection
                // in case it is the broken part, and try again after the next redirect.
                eprintln!("slotraft-bench: slot map refresh via {via} failed: {e:#}");
                self.conns.remove(&via);
            }
        }
    }

    /// Sends `request` (holding `replies` pipelined commands, all about `key`) and reads the
    /// replies, following `-MOVED` on the first one. Returns the outcome and how many
    /// redirections were followed.
    async fn request(&mut self, key: &[u8], request: &[u8], replies: usize) -> (Outcome, u64) {
        let mut moved = 0;
        loop {
            self.refresh().await;
            let addr = self.addr_for(key);
            let result: anyhow::Result<Vec<Frame>> = async {
                let conn = self.conn(&addr).await?;
                conn.send(request).await?;
                let mut out = Vec::with_capacity(replies);
                for _ in 0..replies {
                    out.push(conn.read_frame().await?);
                }
                Ok(out)
            }
            .await;
            let values = match result {
                Ok(v) => v,
                Err(e) => {
                    self.conns.remove(&addr);
                    return (Outcome::Failed(format!("{addr}: {e:#}")), moved);
                }
            };
            if let (Kind::Cluster, Some(Frame::Error(e))) = (self.kind, values.first()) {
                if let Some((slot, to)) = parse_moved(e) {
                    if moved as usize >= MAX_REDIRECTS {
                        return (
                            Outcome::Failed(format!(
                                "gave up after {MAX_REDIRECTS} redirections: {e}"
                            )),
                            moved,
                        );
                    }
                    moved += 1;
                    let to: Arc<str> = Arc::from(to);
                    self.refresh_via = Some(to.clone());
                    self.refresh().await;
                    if let Some(map) = self.map.as_mut() {
                        map.set_owner(slot, to);
                    }
                    continue;
                }
            }
            return (Outcome::Replies(values), moved);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Load
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Stats {
    ops: u64,
    errors: u64,
    moved: u64,
    misses: u64,
    wait_short: u64,
    first_error: Option<String>,
    latencies_ns: Vec<u64>,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.ops += other.ops;
        self.errors += other.errors;
        self.moved += other.moved;
        self.misses += other.misses;
        self.wait_short += other.wait_short;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.latencies_ns.extend(other.latencies_ns);
    }

    fn error(&mut self, text: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(text);
        }
    }
}

/// When a task stops.
#[derive(Clone)]
enum Plan {
    /// Run until `end`; record only operations started at or after `measure_from`. With a
    /// `pace`, start operations no more often than one per `pace` (a client that falls behind
    /// sends at once and does not catch up with a burst).
    Timed {
        measure_from: Instant,
        end: Instant,
        pace: Option<Duration>,
    },
    /// Take operations from a shared budget until it runs out.
    Count(Arc<AtomicI64>),
    /// Preload: SET the keys `task, task + stride, ...` once each.
    Keys { task: usize, stride: usize },
}

struct Shared {
    keys: Vec<Bytes>,
    value: Bytes,
    wait: Option<(Bytes, Bytes, i64)>,
    workload: Workload,
}

async fn worker(mut client: Client, shared: Arc<Shared>, plan: Plan, seed: u64) -> Stats {
    let mut stats = Stats::default();
    // Per-task random numbers: no shared state, no locking.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut buf = Vec::with_capacity(256 + shared.value.len());
    let mut next_key = match plan {
        Plan::Keys { task, .. } => task,
        _ => 0,
    };
    // Paced clients start at staggered offsets so that their sends spread over the period.
    let mut next_send = match &plan {
        Plan::Timed {
            pace: Some(pace), ..
        } => Some(Instant::now() + pace.mul_f64(rng.gen_range(0..1000) as f64 / 1000.0)),
        _ => None,
    };
    loop {
        let (index, record) = match &plan {
            Plan::Timed {
                measure_from,
                end,
                pace,
            } => {
                if let (Some(at), Some(pace)) = (next_send, pace) {
                    tokio::time::sleep_until(at.into()).await;
                    next_send = Some((at + *pace).max(Instant::now()));
                }
                let now = Instant::now();
                if now >= *end {
                    break;
                }
                (rng.gen_range(0..shared.keys.len()), now >= *measure_from)
            }
            Plan::Count(left) => {
                if left.fetch_sub(1, Ordering::Relaxed) <= 0 {
                    break;
                }
                (rng.gen_range(0..shared.keys.len()), true)
            }
            Plan::Keys { stride, .. } => {
                if next_key >= shared.keys.len() {
                    break;
                }
                let i = next_key;
                next_key += stride;
                (i, true)
            }
        };
        let key = &shared.keys[index];
        let preload = matches!(plan, Plan::Keys { .. });
        let workload = if preload {
            Workload::Set
        } else {
            shared.workload
        };
        buf.clear();
        let wait = if preload { None } else { shared.wait.as_ref() };
        let replies = match workload {
            Workload::Set => {
                encode_request(&mut buf, &[b"SET", key, &shared.value]);
                if let Some((n, t, _)) = wait {
                    encode_request(&mut buf, &[b"WAIT", n, t]);
                    2
                } else {
                    1
                }
            }
            Workload::Get => {
                encode_request(&mut buf, &[b"GET", key]);
                1
            }
        };
        let started = Instant::now();
        let (outcome, moved) = client.request(key, &buf, replies).await;
        let elapsed = started.elapsed();
        if !record {
            continue;
        }
        stats.moved += moved;
        let values = match outcome {
            Outcome::Failed(text) => {
                stats.error(text);
                // An I/O error or a redirection loop: do not spin against a dead target.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            Outcome::Replies(v) => v,
        };
        let mut failed = None;
        match (workload, values.first()) {
            (_, Some(Frame::Error(e))) => failed = Some(e.clone()),
            (Workload::Set, Some(Frame::Simple(s))) if s == "OK" => {}
            (Workload::Get, Some(Frame::Bulk(v))) => {
                if v.len() != shared.value.len() {
                    failed = Some(format!("GET returned {} bytes", v.len()));
                }
            }
            (Workload::Get, Some(Frame::Null)) => stats.misses += 1,
            (_, other) => failed = Some(format!("unexpected reply {other:?}")),
        }
        if failed.is_none() && replies == 2 {
            match (values.get(1), wait) {
                (Some(Frame::Integer(n)), Some((_, _, want))) => {
                    if n < want {
                        stats.wait_short += 1;
                    }
                }
                (Some(Frame::Error(e)), _) => failed = Some(format!("WAIT: {e}")),
                (other, _) => failed = Some(format!("WAIT: unexpected reply {other:?}")),
            }
        }
        match failed {
            Some(text) => stats.error(text),
            None => {
                stats.ops += 1;
                stats.latencies_ns.push(elapsed.as_nanos() as u64);
            }
        }
    }
    stats
}

/// CPU time (user + system) the processes `pids` have used so far, in seconds (/proc/PID/stat).
fn cpu_seconds(pids: &[u32]) -> anyhow::Result<f64> {
    // SAFETY: sysconf only reads a configuration value.
    let ticks_per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks_per_sec <= 0 {
        bail!("sysconf(_SC_CLK_TCK) failed");
    }
    let mut ticks = 0u64;
    for pid in pids {
        let path = format!("/proc/{pid}/stat");
        let stat = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
        // The command name (field 2) is in parentheses and may contain spaces; fields from the
        // third on follow the last ')'. utime and stime are fields 14 and 15.
        let rest = stat
            .rfind(')')
            .map(|i| &stat[i + 1..])
            .with_context(|| format!("{path}: no ')'"))?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        for i in [11, 12] {
            ticks += fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .with_context(|| format!("{path}: no utime/stime"))?;
        }
    }
    Ok(ticks as f64 / ticks_per_sec as f64)
}

/// Samples the CPU time of `pids` at `from` and at `to` and returns the difference in seconds.
async fn cpu_in_window(pids: Vec<u32>, from: Instant, to: Instant) -> anyhow::Result<f64> {
    tokio::time::sleep_until(from.into()).await;
    let before = cpu_seconds(&pids)?;
    tokio::time::sleep_until(to.into()).await;
    Ok(cpu_seconds(&pids)? - before)
}

/// Opens `n` clients, runs them under `plan_for(task)`, returns merged stats, wall time and,
/// when `cpu` names processes and a window `(from, to)` after the start, their CPU seconds in it.
async fn drive(
    args: &RunArgs,
    shared: &Arc<Shared>,
    n: usize,
    plan_for: impl Fn(usize, Instant) -> Plan,
    warmup: Duration,
    cpu: Option<(Duration, Duration)>,
) -> anyhow::Result<(Stats, Duration, Option<f64>)> {
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        clients.push(Client::new(args).await?);
    }
    let start = Instant::now();
    let sampler = match cpu {
        Some((from, to)) if !args.cpu_pids.is_empty() => Some(tokio::spawn(cpu_in_window(
            args.cpu_pids.clone(),
            start + from,
            start + to,
        ))),
        _ => None,
    };
    let mut handles = Vec::with_capacity(n);
    for (task, client) in clients.into_iter().enumerate() {
        let plan = plan_for(task, start);
        handles.push(tokio::spawn(worker(
            client,
            shared.clone(),
            plan,
            task as u64 + 1,
        )));
    }
    let mut stats = Stats::default();
    for h in handles {
        stats.merge(h.await?);
    }
    let wall = start.elapsed().saturating_sub(warmup);
    let cpu_secs = match sampler {
        Some(handle) => Some(handle.await??),
        None => None,
    };
    Ok((stats, wall, cpu_secs))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

async fn run(args: RunArgs) -> anyhow::Result<String> {
    if args.concurrency == 0 || args.keyspace == 0 || args.preload_concurrency == 0 {
        bail!("--concurrency, --keyspace and --preload-concurrency must be positive");
    }
    if !(args.rate.is_finite() && args.rate >= 0.0) {
        bail!(
            "--rate must be a number of operations per second >= 0, got {}",
            args.rate
        );
    }
    let wait = match &args.wait {
        None => None,
        Some(spec) => {
            let parts: Vec<&str> = spec.split_whitespace().collect();
            let [n, t] = parts[..] else {
                bail!("--wait takes \"NUMREPLICAS TIMEOUT_MS\", got {spec:?}");
            };
            let want: i64 = n.parse().context("--wait NUMREPLICAS")?;
            let _: u64 = t.parse().context("--wait TIMEOUT_MS")?;
            Some((
                Bytes::copy_from_slice(n.as_bytes()),
                Bytes::copy_from_slice(t.as_bytes()),
                want,
            ))
        }
    };
    let width = (args.keyspace - 1).to_string().len().max(8);
    let keys = (0..args.keyspace)
        .map(|i| Bytes::from(format!("{}{i:0width$}", args.key_prefix)))
        .collect();
    let shared = Arc::new(Shared {
        keys,
        value: Bytes::from(vec![b'v'; args.value_size]),
        wait,
        workload: args.workload,
    });

    let mut preload_errors = 0;
    if args.preload {
        let n = args.preload_concurrency.min(args.keyspace);
        let (stats, wall, _) = drive(
            &args,
            &shared,
            n,
            |task, _| Plan::Keys { task, stride: n },
            Duration::ZERO,
            None,
        )
        .await?;
        preload_errors = stats.errors;
        eprintln!(
            "slotraft-bench: preloaded {} keys in {:.1}s ({} errors{})",
            stats.ops,
            wall.as_secs_f64(),
            stats.errors,
            stats
                .first_error
                .map(|e| format!(", first: {e}"))
                .unwrap_or_default()
        );
    }

    let (mut stats, wall, cpu_secs) = match args.requests {
        Some(total) => {
            let left = Arc::new(AtomicI64::new(total as i64));
            drive(
                &args,
                &shared,
                args.concurrency,
                |_, _| Plan::Count(left.clone()),
                Duration::ZERO,
                None,
            )
            .await?
        }
        None => {
            let warmup = Duration::from_secs_f64(args.warmup.max(0.0));
            let pace = (args.rate > 0.0)
                .then(|| Duration::from_secs_f64(args.concurrency as f64 / args.rate));
            let measured = Duration::from_secs_f64(args.duration.max(0.001));
            let (stats, _, cpu_secs) = drive(
                &args,
                &shared,
                args.concurrency,
                |_, start| Plan::Timed {
                    measure_from: start + warmup,
                    end: start + warmup + measured,
                    pace,
                },
                warmup,
                Some((warmup, warmup + measured)),
            )
            .await?;
            // Operations started inside the window count; the window is the divisor.
            (stats, measured, cpu_secs)
        }
    };
    stats.latencies_ns.sort_unstable();
    let lat = &stats.latencies_ns;
    let secs = wall.as_secs_f64().max(1e-9);
    let mean_us = if lat.is_empty() {
        0.0
    } else {
        lat.iter().map(|&x| x as f64).sum::<f64>() / lat.len() as f64 / 1000.0
    };
    let label = args.label.clone().unwrap_or_else(|| match args.kind {
        Kind::Cluster => "cluster".into(),
        Kind::Single => "single".into(),
    });
    let kind = match args.kind {
        Kind::Cluster => "cluster",
        Kind::Single => "single",
    };
    let mut line = String::new();
    let _ = write!(
        line,
        "{{\"target\":{},\"kind\":\"{kind}\",\"addr\":{},\"workload\":\"{}\",\"wait\":{},\
         \"concurrency\":{},\"value_size\":{},\"keyspace\":{},\"seconds\":{:.3},\"ops\":{},\
         \"errors\":{},\"moved\":{},\"misses\":{},\"wait_short\":{},\"preload_errors\":{},\
         \"ops_per_sec\":{:.1},\"mean_us\":{:.1},\"p50_us\":{:.1},\"p99_us\":{:.1},\
         \"p999_us\":{:.1},\"max_us\":{:.1},\"server_cpu_us_per_op\":{},\"first_error\":{}}}",
        json_str(&label),
        json_str(&args.addr),
        args.workload.name(),
        args.wait
            .as_deref()
            .map(json_str)
            .unwrap_or_else(|| "null".into()),
        args.concurrency,
        args.value_size,
        args.keyspace,
        secs,
        stats.ops,
        stats.errors,
        stats.moved,
        stats.misses,
        stats.wait_short,
        preload_errors,
        stats.ops as f64 / secs,
        mean_us,
        percentile(lat, 50.0),
        percentile(lat, 99.0),
        percentile(lat, 99.9),
        lat.last().map(|&x| x as f64 / 1000.0).unwrap_or(0.0),
        match cpu_secs {
            Some(cpu) if stats.ops > 0 => format!("{:.1}", cpu * 1e6 / stats.ops as f64),
            _ => "null".into(),
        },
        stats
            .first_error
            .as_deref()
            .map(json_str)
            .unwrap_or_else(|| "null".into()),
    );
    Ok(line)
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Cell {
    ops_per_sec: Vec<f64>,
    p50_us: Vec<f64>,
    p99_us: Vec<f64>,
    /// Server CPU microseconds per operation, from runs that measured it.
    cpu_us: Vec<f64>,
    errors: u64,
    wait_short: u64,
    runs: usize,
}

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

fn report(args: &ReportArgs) -> anyhow::Result<()> {
    // (target, workload, concurrency) in order of first appearance.
    let mut order: Vec<(String, String, u64)> = Vec::new();
    let mut cells: HashMap<(String, String, u64), Cell> = HashMap::new();
    for file in &args.files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("read {}", file.display()))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: bad JSON line", file.display(), n + 1))?;
            let s = |k: &str| {
                obj.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let f = |k: &str| obj.get(k).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
            let key = (s("target"), s("workload"), f("concurrency") as u64);
            if !cells.contains_key(&key) {
                order.push(key.clone());
            }
            let cell = cells.entry(key).or_default();
            cell.ops_per_sec.push(f("ops_per_sec"));
            cell.p50_us.push(f("p50_us"));
            cell.p99_us.push(f("p99_us"));
            if f("server_cpu_us_per_op").is_finite() {
                cell.cpu_us.push(f("server_cpu_us_per_op"));
            }
            cell.errors += (f("errors") + f("preload_errors").max(0.0)) as u64;
            cell.wait_short += f("wait_short").max(0.0) as u64;
            cell.runs += 1;
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<8} {:>5} {:>12} {:>9} {:>9} {:>10} {:>7} {:>5}",
        "target", "workload", "conc", "ops/s", "p50 ms", "p99 ms", "cpu us/op", "errors", "runs"
    );
    let mut warn = Vec::new();
    for key in &order {
        let c = &cells[key];
        let _ = writeln!(
            out,
            "{:<14} {:<8} {:>5} {:>12.0} {:>9.3} {:>9.3} {:>10} {:>7} {:>5}",
            key.0,
            key.1,
            key.2,
            median(&c.ops_per_sec),
            median(&c.p50_us) / 1000.0,
            median(&c.p99_us) / 1000.0,
            if c.cpu_us.is_empty() {
                "-".to_string()
            } else {
                format!("{:.0}", median(&c.cpu_us))
            },
            c.errors,
            c.runs
        );
        if c.wait_short > 0 {
            warn.push(format!(
                "{} {} c{}: {} WAIT replies counted fewer replicas than asked for",
                key.0, key.1, key.2, c.wait_short
            ));
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "ratios {s} / baseline, medians (ops/s: >1 means {s} is faster; p50, p99, cpu per op: <1 means {s} is quicker or cheaper)",
        s = args.subject
    );
    let header = format!(
        "{:<14} {:>5}   {:<35} {:<35}",
        "",
        "",
        format!("vs {}", args.durable),
        format!("vs {}", args.plain)
    );
    let _ = writeln!(out, "{}", header.trim_end());
    let _ = writeln!(
        out,
        "{:<14} {:>5}   {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "workload", "conc", "ops/s", "p50", "p99", "cpu/op", "ops/s", "p50", "p99", "cpu/op"
    );
    let mut combos: Vec<(String, u64)> = Vec::new();
    for (t, w, c) in &order {
        if t == &args.subject && !combos.contains(&(w.clone(), *c)) {
            combos.push((w.clone(), *c));
        }
    }
    // (ops/s, p50, p99, cpu per op); cpu is NaN unless both sides measured it.
    let ratio = |w: &str, c: u64, base: &str| -> Option<(f64, f64, f64, f64)> {
        let s = cells.get(&(args.subject.clone(), w.to_string(), c))?;
        let b = cells.get(&(base.to_string(), w.to_string(), c))?;
        Some((
            median(&s.ops_per_sec) / median(&b.ops_per_sec),
            median(&s.p50_us) / median(&b.p50_us),
            median(&s.p99_us) / median(&b.p99_us),
            median(&s.cpu_us) / median(&b.cpu_us),
        ))
    };
    let fmt = |r: Option<(f64, f64, f64, f64)>| match r {
        Some((o, p50, p99, cpu)) if cpu.is_finite() => {
            format!("{o:>8.3} {p50:>8.2} {p99:>8.2} {cpu:>8.2}")
        }
        Some((o, p50, p99, _)) => format!("{o:>8.3} {p50:>8.2} {p99:>8.2} {:>8}", "-"),
        None => format!("{:>8} {:>8} {:>8} {:>8}", "-", "-", "-", "-"),
    };
    for (w, c) in &combos {
        let _ = writeln!(
            out,
            "{:<14} {:>5}   {} {}",
            w,
            c,
            fmt(ratio(w, *c, &args.durable)),
            fmt(ratio(w, *c, &args.plain))
        );
    }
    if let Some(max_c) = combos
        .iter()
        .filter(|(w, _)| w == "set")
        .map(|(_, c)| *c)
        .max()
    {
        if let Some((o, _, _, _)) = ratio("set", max_c, &args.durable) {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "goal: durable SET at c{max_c}: {}/{} = {o:.2} (goal >= {}): {}",
                args.subject,
                args.durable,
                args.goal,
                if o >= args.goal { "MET" } else { "NOT MET" }
            );
        }
    }
    let errors: u64 = cells.values().map(|c| c.errors).sum();
    if errors > 0 {
        warn.push(format!(
            "{errors} errors in total: see first_error in the JSON lines"
        ));
    }
    for w in warn {
        let _ = writeln!(out, "WARNING: {w}");
    }
    print!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_medians() {
        let v: Vec<u64> = (1..=100).map(|x| x * 1000).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn report_reads_what_run_writes() {
        let line = format!(
            "{{\"target\":{},\"ops_per_sec\":12.5,\"wait\":null,\"first_error\":{}}}",
            json_str("redis+WAIT"),
            json_str("MOVED \"x\"\n")
        );
        let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&line).unwrap();
        assert_eq!(obj["target"], "redis+WAIT");
        assert_eq!(obj["ops_per_sec"], 12.5);
        assert!(obj["wait"].is_null());
        assert_eq!(obj["first_error"], "MOVED \"x\"\n");
    }

    #[test]
    fn cpu_time_of_processes_grows_with_work() {
        let me = [std::process::id()];
        let before = cpu_seconds(&me).unwrap();
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let used = cpu_seconds(&me).unwrap() - before;
        // 300 ms of spinning; clock ticks are 10 ms and a busy machine may deschedule us.
        assert!((0.05..5.0).contains(&used), "measured {used} s of CPU");
        let err = cpu_seconds(&[u32::MAX]).unwrap_err().to_string();
        assert!(err.contains(&format!("/proc/{}/stat", u32::MAX)), "{err}");
    }
}
