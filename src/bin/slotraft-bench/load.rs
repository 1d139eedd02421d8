//! The load: closed-loop (or paced) client tasks, their statistics, the server CPU read from
//! `/proc` over the measured window, and the JSON line one run prints.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use slotraft::client::encode_request;
use slotraft::resp::Frame;

use crate::client::{Client, Outcome};
use crate::{Kind, RunArgs, Workload};

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
pub(crate) fn cpu_seconds(pids: &[u32]) -> anyhow::Result<f64> {
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

pub(crate) fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

pub(crate) fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<String> {
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
