//! `slotraft-bench report`: reads the JSON lines of runs back and prints the comparison table
//! (medians over repeated runs) with the ratios of one target against its baselines.

use std::collections::HashMap;
use std::fmt::Write as _;

use anyhow::Context as _;

use crate::ReportArgs;

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

pub(crate) fn median(v: &[f64]) -> f64 {
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

pub(crate) fn report(args: &ReportArgs) -> anyhow::Result<()> {
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
