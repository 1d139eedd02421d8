//! Unit tests of the benchmark's own arithmetic and files.

use std::time::{Duration, Instant};

use crate::load::{cpu_seconds, json_str, percentile};
use crate::report::median;

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
