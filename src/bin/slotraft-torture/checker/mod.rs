//! Checkers: pure functions from a [`History`] to verdicts. No I/O, no clocks, no cluster; they
//! are unit-tested with hand-written histories, including ones that must fail.
//!
//! - [`register`]: linearizability of GET/SET/INCR registers (WGL search, per key);
//! - [`set`]: every acknowledged add present at the end (lost-write count);
//! - [`list`]: every acknowledged append present, in an order real time allows.

pub mod list;
pub mod register;
pub mod set;

use serde::Serialize;

use super::history::History;

/// Everything the checkers found in one history.
#[derive(Debug, Clone, Serialize)]
pub struct Verdicts {
    pub register: register::RegisterReport,
    pub sets: Vec<set::SetVerdict>,
    pub lists: Vec<list::ListVerdict>,
}

impl Verdicts {
    /// Acknowledged writes missing at the end, over all sets and lists.
    pub fn lost(&self) -> usize {
        self.sets.iter().map(|s| s.lost.len()).sum::<usize>()
            + self.lists.iter().map(|l| l.lost.len()).sum::<usize>()
    }

    /// No anomaly anywhere (and every verdict was reached).
    pub fn valid(&self) -> bool {
        self.register.linearizable()
            && self.sets.iter().all(|s| s.ok())
            && self.lists.iter().all(|l| l.ok())
    }

    /// One line per anomaly, for the report.
    pub fn anomalies(&self) -> Vec<String> {
        let mut out = Vec::new();
        for k in &self.register.keys {
            match &k.verdict {
                register::Verdict::Linearizable => {}
                register::Verdict::NotLinearizable { witness } => {
                    out.push(format!("register {}: not linearizable: {witness}", k.key))
                }
                register::Verdict::Unknown { reason } => {
                    out.push(format!("register {}: no verdict: {reason}", k.key))
                }
            }
        }
        for s in &self.sets {
            if !s.read {
                out.push(format!("set {}: no successful final read", s.set));
            }
            if !s.lost.is_empty() {
                out.push(format!(
                    "set {}: {} acknowledged adds lost, e.g. {:?}",
                    s.set,
                    s.lost.len(),
                    &s.lost[..s.lost.len().min(5)]
                ));
            }
            if !s.unexpected.is_empty() {
                out.push(format!(
                    "set {}: {} elements never added, e.g. {:?}",
                    s.set,
                    s.unexpected.len(),
                    &s.unexpected[..s.unexpected.len().min(5)]
                ));
            }
            if !s.failed_but_present.is_empty() {
                out.push(format!(
                    "set {}: {} adds that failed definitely are present, e.g. {:?}",
                    s.set,
                    s.failed_but_present.len(),
                    &s.failed_but_present[..s.failed_but_present.len().min(5)]
                ));
            }
        }
        for l in &self.lists {
            if !l.read {
                out.push(format!("list {}: no successful read", l.key));
            }
            for (what, values) in [
                ("acknowledged appends lost", &l.lost),
                ("values duplicated", &l.duplicated),
                ("values never appended", &l.unexpected),
                (
                    "appends that failed definitely are present",
                    &l.failed_but_present,
                ),
            ] {
                if !values.is_empty() {
                    out.push(format!(
                        "list {}: {} {what}, e.g. {:?}",
                        l.key,
                        values.len(),
                        &values[..values.len().min(5)]
                    ));
                }
            }
            for a in &l.anomalies {
                out.push(format!("list {}: {a}", l.key));
            }
        }
        out
    }
}

/// Runs every checker. `budget`: search steps per register key.
pub fn check(history: &History, budget: u64) -> Verdicts {
    Verdicts {
        register: register::check(history, budget),
        sets: set::check(history),
        lists: list::check(history),
    }
}
