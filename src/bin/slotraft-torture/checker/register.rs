//! Linearizability of registers (`GET`/`SET`/`INCR` on a few keys): the Wing–Gong search with
//! Lowe's memoization, as Porcupine and Knossos implement it, run per key (a history is
//! linearizable iff each key's sub-history is: P-compositionality).
//!
//! The search walks the history's call/return events in real-time order as a linked list.
//! At a call it tries to linearize that operation now (the model accepts its output from the
//! current state), removes it from the list and starts over; at a return whose operation was
//! not linearized yet it backtracks. A `(set of linearized ops, state)` pair already seen is
//! never explored twice. The set is kept as a 128-bit Zobrist hash (updated by XOR when an op
//! is linearized or undone), so a step costs O(1) instead of copying a bitset; two different
//! sets colliding is a 2^-128 event per pair.
//!
//! Indeterminate operations (`info`: timeout, connection lost, `-OUTCOMEUNKNOWN`) are writes
//! that may have taken effect at any time after their invocation, or never: their return is
//! placed after every other event and their output is unknown, so the search may linearize
//! them anywhere later, including after the last read (which is the same as never). An
//! indeterminate read constrains nothing and is dropped; a failed operation (`fail`) certainly
//! did not happen and is dropped.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::history::{Call, History, Op, Output, Status};

/// A register operation as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegOp {
    /// Observed this value (`None`: nil).
    Read(Option<i64>),
    Write(i64),
    /// `INCR`; the returned value when known.
    Incr(Option<i64>),
}

/// The register model: the state is the value (`None`: the key does not exist).
fn step(state: Option<i64>, op: RegOp) -> Option<Option<i64>> {
    match op {
        RegOp::Read(v) => (v == state).then_some(state),
        RegOp::Write(v) => Some(Some(v)),
        RegOp::Incr(out) => {
            let next = state.unwrap_or(0).checked_add(1)?;
            match out {
                Some(o) if o != next => None,
                _ => Some(Some(next)),
            }
        }
    }
}

/// One key's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    Linearizable,
    /// No order explains the results; `witness` names the operation whose result no
    /// linearization of what came before it can produce.
    NotLinearizable {
        witness: String,
    },
    /// The search exceeded its budget: no verdict (counts as a failure in CI).
    Unknown {
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyVerdict {
    pub key: String,
    /// Operations the search considered (acknowledged ones plus indeterminate writes).
    pub ops: usize,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegisterReport {
    pub keys: Vec<KeyVerdict>,
}

impl RegisterReport {
    pub fn linearizable(&self) -> bool {
        self.keys
            .iter()
            .all(|k| matches!(k.verdict, Verdict::Linearizable))
    }

    /// "linearizable", "NOT linearizable", "unknown" or "n/a" (no register ops).
    pub fn summary(&self) -> &'static str {
        if self.keys.is_empty() {
            "n/a"
        } else if self
            .keys
            .iter()
            .any(|k| matches!(k.verdict, Verdict::NotLinearizable { .. }))
        {
            "NOT linearizable"
        } else if self.linearizable() {
            "linearizable"
        } else {
            "unknown"
        }
    }
}

/// Checks every register key of `history`. `budget` bounds the search steps per key.
pub fn check(history: &History, budget: u64) -> RegisterReport {
    let mut by_key: BTreeMap<&str, Vec<&Op>> = BTreeMap::new();
    for op in &history.ops {
        if matches!(
            op.call,
            Call::Read { .. } | Call::Write { .. } | Call::Incr { .. }
        ) {
            by_key.entry(op.call.key()).or_default().push(op);
        }
    }
    let keys = by_key
        .into_iter()
        .map(|(key, ops)| {
            let entries = entries(&ops);
            let verdict = search(&entries, budget);
            KeyVerdict {
                key: key.to_string(),
                ops: entries.len(),
                verdict,
            }
        })
        .collect();
    RegisterReport { keys }
}

/// An operation in the search: its interval (`ret == u64::MAX`: open-ended) and model op.
struct Entry<'a> {
    call: u64,
    ret: u64,
    op: RegOp,
    source: &'a Op,
}

/// The ops the search needs. Pruned, soundly: an indeterminate `SET v` none of whose possible
/// consequences was ever observed (no acknowledged read or INCR returned `v`, nor `v + k` for
/// `k` up to the number of INCRs on the key) is dropped — "it never happened" explains the
/// history whenever "it happened" does. Indeterminate ops stay in the search forever, so each
/// one dropped saves a lot of backtracking after `kill -9` of all nodes.
fn entries<'a>(ops: &[&'a Op]) -> Vec<Entry<'a>> {
    let mut observed: Vec<i64> = ops
        .iter()
        .filter(|o| o.status == Some(Status::Ok))
        .filter_map(|o| match (&o.call, &o.output) {
            (Call::Read { .. } | Call::Incr { .. }, Some(Output::Value(Some(v)))) => Some(*v),
            _ => None,
        })
        .collect();
    observed.sort_unstable();
    let incrs = ops
        .iter()
        .filter(|o| matches!(o.call, Call::Incr { .. }))
        .count() as i64;
    let seen = |v: i64| {
        let from = observed.partition_point(|&x| x < v);
        observed
            .get(from)
            .is_some_and(|&x| x.saturating_sub(v) <= incrs)
    };
    let mut out = Vec::new();
    for &o in ops {
        let status = o.status.unwrap_or(Status::Info);
        let reg = match (&o.call, status, &o.output) {
            (_, Status::Fail, _) => continue,
            (Call::Write { value, .. }, Status::Info, _) if !seen(*value) => continue,
            (Call::Read { .. }, Status::Info, _) => continue,
            (Call::Read { .. }, Status::Ok, Some(Output::Value(v))) => RegOp::Read(*v),
            // An acknowledged read with a reply that is not a register value: impossible to
            // explain, so it must fail the check rather than be skipped.
            (Call::Read { .. }, Status::Ok, _) => RegOp::Read(Some(i64::MIN)),
            (Call::Write { value, .. }, _, _) => RegOp::Write(*value),
            (Call::Incr { .. }, Status::Ok, Some(Output::Value(Some(v)))) => RegOp::Incr(Some(*v)),
            (Call::Incr { .. }, _, _) => RegOp::Incr(None),
            _ => continue,
        };
        let ret = match status {
            Status::Ok => o.complete_ns.unwrap_or(u64::MAX),
            _ => u64::MAX,
        };
        out.push(Entry {
            call: o.invoke_ns,
            ret,
            op: reg,
            source: o,
        });
    }
    out
}

const NIL: usize = usize::MAX;

/// Random 128-bit Zobrist keys, one per op (splitmix64: deterministic, no dependency).
fn zobrist(i: usize) -> u128 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let a = mix(2 * i as u64 + 1);
    let b = mix(a ^ (2 * i as u64 + 2));
    (u128::from(a) << 64) | u128::from(b)
}

fn search(entries: &[Entry<'_>], budget: u64) -> Verdict {
    let n = entries.len();
    if n == 0 {
        return Verdict::Linearizable;
    }
    // Events: (time, 0 = call / 1 = return, op). Calls first on ties: touching intervals count
    // as concurrent, which only ever allows more orders.
    let mut events: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * n);
    for (i, e) in entries.iter().enumerate() {
        events.push((e.call, 0, i));
        events.push((e.ret, 1, i));
    }
    events.sort_unstable();
    // Node 0 is the list head; event k is node k + 1.
    let nodes = events.len() + 1;
    let mut next = vec![NIL; nodes];
    let mut prev = vec![NIL; nodes];
    let mut is_call = vec![false; nodes];
    let mut op_of = vec![0usize; nodes];
    let mut ret_node = vec![0usize; n];
    for (k, &(_, kind, op)) in events.iter().enumerate() {
        let node = k + 1;
        prev[node] = k;
        next[k] = node;
        is_call[node] = kind == 0;
        op_of[node] = op;
        if kind == 1 {
            ret_node[op] = node;
        }
    }
    let keys: Vec<u128> = (0..n).map(zobrist).collect();

    let lift = |next: &mut Vec<usize>, prev: &mut Vec<usize>, node: usize| {
        let (p, nx) = (prev[node], next[node]);
        next[p] = nx;
        if nx != NIL {
            prev[nx] = p;
        }
    };
    let unlift = |next: &mut Vec<usize>, prev: &mut Vec<usize>, node: usize| {
        let (p, nx) = (prev[node], next[node]);
        next[p] = node;
        if nx != NIL {
            prev[nx] = node;
        }
    };

    let mut linearized: u128 = 0;
    let mut state: Option<i64> = None;
    let mut cache: HashSet<(u128, Option<i64>)> = HashSet::new();
    let mut stack: Vec<(usize, Option<i64>)> = Vec::new();
    let mut deepest = (0usize, 0usize); // (ops linearized, op whose return blocked)
    let mut steps: u64 = 0;
    let mut entry = next[0];
    while next[0] != NIL {
        steps += 1;
        if steps > budget {
            return Verdict::Unknown {
                reason: format!("search budget of {budget} steps exhausted ({n} ops)"),
            };
        }
        if entry == NIL {
            // Cannot happen: the list always ends with a return event. Be loud, not wrong.
            return Verdict::Unknown {
                reason: "internal: ran off the event list".into(),
            };
        }
        let op = op_of[entry];
        if is_call[entry] {
            if let Some(new_state) = step(state, entries[op].op) {
                let lin = linearized ^ keys[op];
                if cache.insert((lin, new_state)) {
                    stack.push((entry, state));
                    state = new_state;
                    linearized = lin;
                    lift(&mut next, &mut prev, entry);
                    lift(&mut next, &mut prev, ret_node[op]);
                    entry = next[0];
                    continue;
                }
            }
            entry = next[entry];
        } else {
            if stack.len() >= deepest.0 {
                deepest = (stack.len(), op);
            }
            let Some((call_node, prev_state)) = stack.pop() else {
                return not_linearizable(entries, deepest);
            };
            let undone = op_of[call_node];
            unlift(&mut next, &mut prev, ret_node[undone]);
            unlift(&mut next, &mut prev, call_node);
            linearized ^= keys[undone];
            state = prev_state;
            entry = next[call_node];
        }
    }
    Verdict::Linearizable
}

fn not_linearizable(entries: &[Entry<'_>], deepest: (usize, usize)) -> Verdict {
    let (depth, op) = deepest;
    let e = &entries[op];
    Verdict::NotLinearizable {
        witness: format!(
            "op {} (client {}, {:?} -> {:?}, {}..{} ns) cannot be explained by any order of the \
             operations before it (longest linearizable prefix: {depth} ops)",
            e.source.id,
            e.source.client,
            e.source.call,
            e.source.output,
            e.call,
            e.source.complete_ns.unwrap_or(u64::MAX),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::NemesisEvent;

    /// Builds a history from `(client, call, invoke, complete, status, output)` rows.
    fn history(rows: Vec<(u64, Call, u64, u64, Status, Option<Output>)>) -> History {
        let ops = rows
            .into_iter()
            .enumerate()
            .map(|(i, (client, call, t0, t1, status, output))| Op {
                id: i as u64,
                client,
                call,
                invoke_ns: t0,
                complete_ns: Some(t1),
                status: Some(status),
                output,
                error: None,
            })
            .collect();
        History {
            ops,
            nemesis: Vec::<NemesisEvent>::new(),
        }
    }

    fn w(v: i64) -> Call {
        Call::Write {
            key: "x".into(),
            value: v,
        }
    }
    fn r() -> Call {
        Call::Read { key: "x".into() }
    }
    fn inc() -> Call {
        Call::Incr { key: "x".into() }
    }
    fn val(v: Option<i64>) -> Option<Output> {
        Some(Output::Value(v))
    }
    fn verdict(h: &History) -> Verdict {
        let report = check(h, 1_000_000);
        assert_eq!(report.keys.len(), 1);
        report.keys[0].verdict.clone()
    }

    #[test]
    fn sequential_history_is_linearizable() {
        let h = history(vec![
            (1, r(), 0, 1, Status::Ok, val(None)),
            (1, w(1), 2, 3, Status::Ok, Some(Output::Done)),
            (2, r(), 4, 5, Status::Ok, val(Some(1))),
            (2, inc(), 6, 7, Status::Ok, val(Some(2))),
            (1, r(), 8, 9, Status::Ok, val(Some(2))),
        ]);
        assert_eq!(verdict(&h), Verdict::Linearizable);
    }

    #[test]
    fn stale_read_after_acknowledged_write_is_not_linearizable() {
        // The write of 2 completed before the read began, yet the read saw 1.
        let h = history(vec![
            (1, w(1), 0, 1, Status::Ok, Some(Output::Done)),
            (1, w(2), 2, 3, Status::Ok, Some(Output::Done)),
            (2, r(), 4, 5, Status::Ok, val(Some(1))),
        ]);
        assert!(matches!(verdict(&h), Verdict::NotLinearizable { .. }));
    }

    #[test]
    fn concurrent_write_may_be_seen_or_not() {
        // The read overlaps the write of 2: either value is fine.
        for seen in [1, 2] {
            let h = history(vec![
                (1, w(1), 0, 1, Status::Ok, Some(Output::Done)),
                (1, w(2), 2, 10, Status::Ok, Some(Output::Done)),
                (2, r(), 3, 5, Status::Ok, val(Some(seen))),
            ]);
            assert_eq!(verdict(&h), Verdict::Linearizable, "saw {seen}");
        }
    }

    #[test]
    fn reads_must_not_go_back_in_time() {
        // Two sequential reads during a slow write: new value, then old value. Not linearizable
        // (the classic "flip-flop" of a stale follower read).
        let h = history(vec![
            (1, w(1), 0, 1, Status::Ok, Some(Output::Done)),
            (1, w(2), 2, 100, Status::Ok, Some(Output::Done)),
            (2, r(), 3, 4, Status::Ok, val(Some(2))),
            (2, r(), 5, 6, Status::Ok, val(Some(1))),
        ]);
        assert!(matches!(verdict(&h), Verdict::NotLinearizable { .. }));
    }

    #[test]
    fn indeterminate_write_may_take_effect_later_or_never() {
        // The write of 2 timed out at t=3; a read at 10 may see it, and reads at 20/30 may see
        // 1 only if the write never happens... but once seen it cannot be unseen.
        let seen_late = history(vec![
            (1, w(1), 0, 1, Status::Ok, Some(Output::Done)),
            (1, w(2), 2, 3, Status::Info, None),
            (2, r(), 10, 11, Status::Ok, val(Some(1))),
            (2, r(), 20, 21, Status::Ok, val(Some(2))),
        ]);
        assert_eq!(verdict(&seen_late), Verdict::Linearizable);
        let never = history(vec![
            (1, w(1), 0, 1, Status::Ok, Some(Output::Done)),
            (1, w(2), 2, 3, Status::Info, None),
            (2, r(), 10, 11, Status::Ok, val(Some(1))),
        ]);
        assert_eq!(verdict(&never), Verdict::Linearizable);
        let unseen = history(vec![
            (1, w(1), 0, 1, Status::Ok, Some(Output::Done)),
            (1, w(2), 2, 3, Status::Info, None),
            (2, r(), 10, 11, Status::Ok, val(Some(2))),
            (2, r(), 20, 21, Status::Ok, val(Some(1))),
        ]);
        assert!(matches!(verdict(&unseen), Verdict::NotLinearizable { .. }));
    }

    #[test]
    fn unobserved_indeterminate_writes_are_pruned_but_observed_ones_kept() {
        let h = history(vec![
            (1, w(1000), 0, 1, Status::Ok, Some(Output::Done)),
            (2, w(5000), 2, 3, Status::Info, None), // never seen: pruned
            (3, w(9000), 2, 3, Status::Info, None), // seen through an INCR: kept
            (1, inc(), 4, 5, Status::Ok, val(Some(9001))),
            (2, r(), 6, 7, Status::Ok, val(Some(9001))),
        ]);
        let report = check(&h, 1000);
        assert_eq!(report.keys[0].ops, 4, "the unobserved write is dropped");
        assert_eq!(report.keys[0].verdict, Verdict::Linearizable);
    }

    #[test]
    fn failed_write_must_not_be_visible() {
        // A definite failure (-MOVED, -CLUSTERDOWN) means it did not happen.
        let h = history(vec![
            (1, w(1), 0, 1, Status::Ok, Some(Output::Done)),
            (1, w(2), 2, 3, Status::Fail, None),
            (2, r(), 10, 11, Status::Ok, val(Some(2))),
        ]);
        assert!(matches!(verdict(&h), Verdict::NotLinearizable { .. }));
    }

    #[test]
    fn lost_acknowledged_write_is_not_linearizable() {
        let h = history(vec![
            (1, w(1), 0, 1, Status::Ok, Some(Output::Done)),
            (1, w(2), 2, 3, Status::Ok, Some(Output::Done)),
            (2, r(), 100, 101, Status::Ok, val(Some(1))),
        ]);
        assert!(matches!(verdict(&h), Verdict::NotLinearizable { .. }));
    }

    #[test]
    fn increments_count_every_acknowledgement_once() {
        // Two concurrent INCRs both answered 1: one was lost (or applied twice on one value).
        let dup = history(vec![
            (1, inc(), 0, 5, Status::Ok, val(Some(1))),
            (2, inc(), 1, 6, Status::Ok, val(Some(1))),
        ]);
        assert!(matches!(verdict(&dup), Verdict::NotLinearizable { .. }));
        // An indeterminate INCR may explain a jump by two.
        let jump = history(vec![
            (1, inc(), 0, 1, Status::Ok, val(Some(1))),
            (2, inc(), 2, 3, Status::Info, None),
            (1, inc(), 4, 5, Status::Ok, val(Some(3))),
        ]);
        assert_eq!(verdict(&jump), Verdict::Linearizable);
        // ... but not a jump by three.
        let jump3 = history(vec![
            (1, inc(), 0, 1, Status::Ok, val(Some(1))),
            (2, inc(), 2, 3, Status::Info, None),
            (1, inc(), 4, 5, Status::Ok, val(Some(4))),
        ]);
        assert!(matches!(verdict(&jump3), Verdict::NotLinearizable { .. }));
    }

    #[test]
    fn keys_are_checked_independently() {
        let mut h = history(vec![
            (1, w(1), 0, 1, Status::Ok, Some(Output::Done)),
            (2, r(), 2, 3, Status::Ok, val(Some(1))),
        ]);
        h.ops.push(Op {
            id: 2,
            client: 3,
            call: Call::Read { key: "y".into() },
            invoke_ns: 4,
            complete_ns: Some(5),
            status: Some(Status::Ok),
            output: val(Some(1)),
            error: None,
        });
        let report = check(&h, 1000);
        assert_eq!(report.keys.len(), 2);
        assert_eq!(report.keys[0].verdict, Verdict::Linearizable);
        assert!(
            matches!(report.keys[1].verdict, Verdict::NotLinearizable { .. }),
            "y was never written, so reading 1 is impossible"
        );
        assert_eq!(report.summary(), "NOT linearizable");
    }

    #[test]
    fn budget_exhaustion_is_unknown_not_linearizable() {
        let rows = (0..50)
            .map(|i| (i, w(i as i64), 0, 1000, Status::Ok, Some(Output::Done)))
            .chain(std::iter::once((
                99,
                r(),
                2000,
                2001,
                Status::Ok,
                val(Some(-1)),
            )))
            .collect();
        let report = check(&history(rows), 100);
        assert!(matches!(report.keys[0].verdict, Verdict::Unknown { .. }));
        assert_eq!(report.summary(), "unknown");
    }

    #[test]
    fn many_concurrent_clients_check_quickly() {
        // 8 clients, 4000 ops, each op overlapping its neighbours, with indeterminate writes:
        // a generated history that is linearizable by construction (the value changes at each
        // op's midpoint).
        let mut rows = Vec::new();
        let mut value: Option<i64> = None;
        let mut v = 0;
        for i in 0..4000u64 {
            let t0 = i * 10;
            let t1 = t0 + 35; // overlaps the next three ops
            let client = i % 8;
            match i % 5 {
                0 | 1 => rows.push((client, r(), t0, t1, Status::Ok, val(value))),
                2 => {
                    v += 1;
                    value = Some(v * 1000);
                    rows.push((client, w(v * 1000), t0, t1, Status::Ok, Some(Output::Done)));
                }
                3 => {
                    let next = value.unwrap_or(0) + 1;
                    value = Some(next);
                    rows.push((client, inc(), t0, t1, Status::Ok, val(Some(next))));
                }
                _ => {
                    // Timed out and never applied.
                    rows.push((client, w(-(i as i64)), t0, t1, Status::Info, None))
                }
            }
        }
        let started = std::time::Instant::now();
        let report = check(&history(rows), 50_000_000);
        assert_eq!(report.keys[0].verdict, Verdict::Linearizable);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}
