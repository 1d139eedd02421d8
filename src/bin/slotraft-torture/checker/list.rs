//! The list-append checker (`RPUSH` of unique values, `LRANGE` reads). Lists only grow, so every
//! read must be a prefix of the final list, and real time constrains the order:
//!
//! - every acknowledged append is in the final list (lost otherwise), no value twice, no value
//!   nobody appended, no value whose append failed definitely;
//! - order: if append `a` was acknowledged before append `b` was invoked, `a` precedes `b`;
//! - every successful read is a prefix of the final list, contains every append acknowledged
//!   before the read was invoked, and no append invoked after the read completed; and a read
//!   that started after another completed is at least as long (no going back in time).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::history::{Call, History, Output, Status};

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ListVerdict {
    pub key: String,
    pub attempted: usize,
    pub acknowledged: usize,
    pub failed: usize,
    pub indeterminate: usize,
    /// Length of the final list.
    pub final_len: usize,
    /// Successful reads checked against the final list (the final read included).
    pub reads: usize,
    /// Acknowledged appends missing from the final list.
    pub lost: Vec<u64>,
    pub duplicated: Vec<u64>,
    pub unexpected: Vec<u64>,
    pub failed_but_present: Vec<u64>,
    /// Descriptions of order and read anomalies (capped).
    pub anomalies: Vec<String>,
    /// `false` when no read succeeded.
    pub read: bool,
}

impl ListVerdict {
    pub fn ok(&self) -> bool {
        self.read
            && self.lost.is_empty()
            && self.duplicated.is_empty()
            && self.unexpected.is_empty()
            && self.failed_but_present.is_empty()
            && self.anomalies.is_empty()
    }
}

const MAX_ANOMALIES: usize = 20;

struct Append {
    status: Status,
    invoke: u64,
    /// Acknowledgement time (`None` unless `ok`).
    acked: Option<u64>,
}

struct Read<'a> {
    invoke: u64,
    complete: u64,
    values: &'a [u64],
}

pub fn check(history: &History) -> Vec<ListVerdict> {
    let mut appends: BTreeMap<&str, HashMap<u64, Append>> = BTreeMap::new();
    let mut reads: BTreeMap<&str, Vec<Read<'_>>> = BTreeMap::new();
    for op in &history.ops {
        let status = op.status.unwrap_or(Status::Info);
        match (&op.call, status, &op.output) {
            (Call::Append { key, value }, _, _) => {
                appends.entry(key).or_default().insert(
                    *value,
                    Append {
                        status,
                        invoke: op.invoke_ns,
                        acked: (status == Status::Ok).then_some(op.complete_ns.unwrap_or(0)),
                    },
                );
            }
            (Call::ReadList { key }, Status::Ok, Some(Output::List(values))) => {
                reads.entry(key).or_default().push(Read {
                    invoke: op.invoke_ns,
                    complete: op.complete_ns.unwrap_or(u64::MAX),
                    values,
                });
            }
            _ => {}
        }
    }
    let mut keys: Vec<&str> = appends.keys().chain(reads.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .map(|key| {
            let empty = HashMap::new();
            check_key(
                key,
                appends.get(key).unwrap_or(&empty),
                reads.remove(key).unwrap_or_default(),
            )
        })
        .collect()
}

fn check_key(key: &str, appends: &HashMap<u64, Append>, mut reads: Vec<Read<'_>>) -> ListVerdict {
    let mut v = ListVerdict {
        key: key.to_string(),
        attempted: appends.len(),
        read: !reads.is_empty(),
        ..ListVerdict::default()
    };
    for a in appends.values() {
        match a.status {
            Status::Ok => v.acknowledged += 1,
            Status::Fail => v.failed += 1,
            Status::Info => v.indeterminate += 1,
        }
    }
    let note = |v: &mut ListVerdict, text: String| {
        if v.anomalies.len() < MAX_ANOMALIES {
            v.anomalies.push(text);
        }
    };
    // The final list: the last read to complete.
    reads.sort_by_key(|r| r.complete);
    let Some(last) = reads.last() else {
        v.lost = sorted(
            appends
                .iter()
                .filter(|(_, a)| a.status == Status::Ok)
                .map(|(&x, _)| x),
        );
        return v;
    };
    let fin = last.values;
    v.final_len = fin.len();
    v.reads = reads.len();
    let mut pos: HashMap<u64, usize> = HashMap::with_capacity(fin.len());
    for (i, &x) in fin.iter().enumerate() {
        if pos.insert(x, i).is_some() {
            v.duplicated.push(x);
        }
        match appends.get(&x) {
            None => v.unexpected.push(x),
            Some(a) if a.status == Status::Fail => v.failed_but_present.push(x),
            Some(_) => {}
        }
    }
    v.lost = sorted(
        appends
            .iter()
            .filter(|(x, a)| a.status == Status::Ok && !pos.contains_key(x))
            .map(|(&x, _)| x),
    );

    // Order: scanning from the end, the earliest acknowledgement among later elements must not
    // precede this element's invocation.
    let mut min_ack_after: Option<(u64, u64)> = None; // (ack time, value)
    for &x in fin.iter().rev() {
        if let Some(a) = appends.get(&x) {
            if let Some((ack, later)) = min_ack_after {
                if ack < a.invoke {
                    note(
                        &mut v,
                        format!(
                            "{later} was acknowledged at {ack} ns, before {x} was invoked at {} \
                             ns, yet {x} comes first in the list",
                            a.invoke
                        ),
                    );
                }
            }
            if let Some(ack) = a.acked {
                if min_ack_after.is_none_or(|(m, _)| ack < m) {
                    min_ack_after = Some((ack, x));
                }
            }
        }
    }

    // Reads: prefixes of the final list, fresh enough, not from the future, monotonic.
    let mut acked: Vec<(u64, u64)> = appends
        .iter()
        .filter_map(|(&x, a)| a.acked.map(|t| (t, x)))
        .collect();
    acked.sort_unstable();
    for r in &reads {
        if r.values.len() > fin.len() || fin[..r.values.len()] != *r.values {
            note(
                &mut v,
                format!(
                    "read [{}..{} ns] of {} values is not a prefix of the final list",
                    r.invoke,
                    r.complete,
                    r.values.len()
                ),
            );
            continue;
        }
        // Every append acknowledged before the read was invoked must be in it.
        for &(t, x) in acked.iter().take_while(|(t, _)| *t < r.invoke) {
            if pos.get(&x).is_some_and(|&p| p >= r.values.len()) {
                note(
                    &mut v,
                    format!(
                        "read [{}..{} ns] misses {x}, acknowledged at {t} ns (stale read)",
                        r.invoke, r.complete
                    ),
                );
                break;
            }
        }
        if let Some(&x) = r
            .values
            .iter()
            .find(|x| appends.get(x).is_some_and(|a| a.invoke > r.complete))
        {
            note(
                &mut v,
                format!(
                    "read [{}..{} ns] contains {x}, appended only after the read completed",
                    r.invoke, r.complete
                ),
            );
        }
    }
    // Monotonic reads: sweep by invocation, against the longest read completed before it.
    let mut by_invoke: Vec<&Read<'_>> = reads.iter().collect();
    by_invoke.sort_by_key(|r| r.invoke);
    let mut done = 0;
    let mut longest_done = 0;
    for r in by_invoke {
        while done < reads.len() && reads[done].complete < r.invoke {
            longest_done = longest_done.max(reads[done].values.len());
            done += 1;
        }
        if r.values.len() < longest_done {
            note(
                &mut v,
                format!(
                    "read [{}..{} ns] saw {} values after an earlier read saw {longest_done}",
                    r.invoke,
                    r.complete,
                    r.values.len()
                ),
            );
        }
    }
    v
}

fn sorted(it: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut v: Vec<u64> = it.collect();
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Op;

    struct Rows(Vec<Op>);
    impl Rows {
        fn push(&mut self, call: Call, t0: u64, t1: u64, status: Status, output: Option<Output>) {
            let id = self.0.len() as u64;
            self.0.push(Op {
                id,
                client: id,
                call,
                invoke_ns: t0,
                complete_ns: Some(t1),
                status: Some(status),
                output,
                error: None,
            });
        }
        fn append(&mut self, value: u64, t0: u64, t1: u64, status: Status) -> &mut Self {
            let out = (status == Status::Ok).then_some(Output::Done);
            self.push(
                Call::Append {
                    key: "l".into(),
                    value,
                },
                t0,
                t1,
                status,
                out,
            );
            self
        }
        fn read(&mut self, values: &[u64], t0: u64, t1: u64) -> &mut Self {
            self.push(
                Call::ReadList { key: "l".into() },
                t0,
                t1,
                Status::Ok,
                Some(Output::List(values.to_vec())),
            );
            self
        }
        fn verdict(&self) -> ListVerdict {
            let mut v = check(&History {
                ops: self.0.clone(),
                nemesis: vec![],
            });
            assert_eq!(v.len(), 1);
            v.remove(0)
        }
    }
    fn rows() -> Rows {
        Rows(Vec::new())
    }

    #[test]
    fn consistent_history_passes() {
        let v = rows()
            .append(1, 0, 10, Status::Ok)
            .append(2, 5, 15, Status::Ok) // concurrent with 1
            .read(&[2], 7, 8) // 2 before 1 is allowed: they were concurrent
            .append(3, 20, 30, Status::Info) // may or may not be there
            .append(4, 21, 22, Status::Fail)
            .read(&[2, 1], 40, 41)
            .verdict();
        assert!(v.ok(), "{v:?}");
        assert_eq!((v.acknowledged, v.indeterminate, v.failed), (2, 1, 1));
    }

    #[test]
    fn lost_append_is_reported() {
        let v = rows()
            .append(1, 0, 1, Status::Ok)
            .append(2, 2, 3, Status::Ok)
            .read(&[1], 10, 11)
            .verdict();
        assert_eq!(v.lost, vec![2]);
        assert!(!v.ok());
    }

    #[test]
    fn order_against_real_time_is_reported() {
        // 1 was acknowledged before 2 was invoked, but the list has 2 first.
        let v = rows()
            .append(1, 0, 1, Status::Ok)
            .append(2, 2, 3, Status::Ok)
            .read(&[2, 1], 10, 11)
            .verdict();
        assert!(!v.ok());
        assert_eq!(v.anomalies.len(), 1, "{v:?}");
    }

    #[test]
    fn duplicates_unexpected_and_failed_values_are_reported() {
        let v = rows()
            .append(1, 0, 1, Status::Ok)
            .append(2, 2, 3, Status::Fail)
            .read(&[1, 1, 2, 99], 10, 11)
            .verdict();
        assert_eq!(v.duplicated, vec![1]);
        assert_eq!(v.failed_but_present, vec![2]);
        assert_eq!(v.unexpected, vec![99]);
        assert!(!v.ok());
    }

    #[test]
    fn stale_and_divergent_reads_are_reported() {
        // A read that misses an acknowledged append.
        let stale = rows()
            .append(1, 0, 1, Status::Ok)
            .read(&[], 5, 6)
            .read(&[1], 10, 11)
            .verdict();
        assert!(!stale.ok(), "{stale:?}");
        // A read that is not a prefix of the final list (a lost, then replaced, suffix).
        let divergent = rows()
            .append(1, 0, 1, Status::Ok)
            .append(2, 0, 100, Status::Info)
            .append(3, 0, 100, Status::Info)
            .read(&[1, 2], 10, 11)
            .read(&[1, 3], 200, 201)
            .verdict();
        assert!(!divergent.ok(), "{divergent:?}");
    }

    #[test]
    fn reads_must_be_monotonic() {
        let v = rows()
            .append(1, 0, 100, Status::Info)
            .read(&[1], 10, 11)
            .read(&[], 20, 21)
            .read(&[1], 30, 31)
            .verdict();
        assert!(!v.ok(), "{v:?}");
    }
}
