//! The set checker: every element whose add was acknowledged must be in the final read. The
//! number of lost acknowledged adds is the headline figure of a run.
//!
//! Also flagged: elements present that nobody tried to add (corruption, or a value that is not
//! the one written), and elements present whose add *failed* with a definite error (the server
//! said "this did not happen" and it did: a dishonest error, ARCHITECTURE.md rule 4). Indeterminate adds
//! may be present or absent; both are counted, neither is an anomaly.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::history::{Call, History, Output, Status};

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SetVerdict {
    pub set: String,
    /// Adds attempted / acknowledged / failed / indeterminate.
    pub attempted: usize,
    pub acknowledged: usize,
    pub failed: usize,
    pub indeterminate: usize,
    /// Indeterminate adds found present in the end.
    pub indeterminate_present: usize,
    /// Acknowledged adds missing from the final read (must be 0).
    pub lost: Vec<String>,
    /// Present but never attempted (must be empty).
    pub unexpected: Vec<String>,
    /// Present although the add failed definitely (must be empty).
    pub failed_but_present: Vec<String>,
    /// `false` when no final read succeeded: nothing can be said (an anomaly too).
    pub read: bool,
}

impl SetVerdict {
    pub fn ok(&self) -> bool {
        self.read
            && self.lost.is_empty()
            && self.unexpected.is_empty()
            && self.failed_but_present.is_empty()
    }
}

/// Checks every set of `history` against its last successful `ReadSet`.
pub fn check(history: &History) -> Vec<SetVerdict> {
    let mut adds: BTreeMap<&str, BTreeMap<&str, Status>> = BTreeMap::new();
    let mut reads: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut read_at: BTreeMap<&str, u64> = BTreeMap::new();
    for op in &history.ops {
        let status = op.status.unwrap_or(Status::Info);
        match (&op.call, status, &op.output) {
            (Call::Add { set, element }, _, _) => {
                adds.entry(set).or_default().insert(element, status);
            }
            (Call::ReadSet { set }, Status::Ok, Some(Output::Members(m))) => {
                // The last completed read wins: it is the final read.
                let t = op.complete_ns.unwrap_or(0);
                if read_at.get(set.as_str()).is_none_or(|&prev| t >= prev) {
                    read_at.insert(set, t);
                    reads.insert(set, m.iter().cloned().collect());
                }
            }
            _ => {}
        }
    }
    let names: BTreeSet<&str> = adds.keys().chain(reads.keys()).copied().collect();
    names
        .into_iter()
        .map(|set| {
            let attempts = adds.remove(set).unwrap_or_default();
            let present = reads.get(set);
            let mut v = SetVerdict {
                set: set.to_string(),
                attempted: attempts.len(),
                read: present.is_some(),
                ..SetVerdict::default()
            };
            let empty = BTreeSet::new();
            let present = present.unwrap_or(&empty);
            for (&element, &status) in &attempts {
                let here = present.contains(element);
                match status {
                    Status::Ok => {
                        v.acknowledged += 1;
                        if !here {
                            v.lost.push(element.to_string());
                        }
                    }
                    Status::Fail => {
                        v.failed += 1;
                        if here {
                            v.failed_but_present.push(element.to_string());
                        }
                    }
                    Status::Info => {
                        v.indeterminate += 1;
                        v.indeterminate_present += usize::from(here);
                    }
                }
            }
            v.unexpected = present
                .iter()
                .filter(|e| !attempts.contains_key(e.as_str()))
                .cloned()
                .collect();
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Op;

    fn op(id: u64, call: Call, status: Status, output: Option<Output>) -> Op {
        Op {
            id,
            client: id,
            call,
            invoke_ns: id * 10,
            complete_ns: Some(id * 10 + 5),
            status: Some(status),
            output,
            error: None,
        }
    }
    fn add(id: u64, e: &str, status: Status) -> Op {
        let output = (status == Status::Ok).then_some(Output::Done);
        op(
            id,
            Call::Add {
                set: "s".into(),
                element: e.into(),
            },
            status,
            output,
        )
    }
    fn read(id: u64, members: &[&str]) -> Op {
        op(
            id,
            Call::ReadSet { set: "s".into() },
            Status::Ok,
            Some(Output::Members(
                members.iter().map(|m| m.to_string()).collect(),
            )),
        )
    }
    fn check_ops(ops: Vec<Op>) -> SetVerdict {
        let mut v = check(&History {
            ops,
            nemesis: vec![],
        });
        assert_eq!(v.len(), 1);
        v.remove(0)
    }

    #[test]
    fn all_acknowledged_present_passes() {
        let v = check_ops(vec![
            add(0, "a", Status::Ok),
            add(1, "b", Status::Info),
            add(2, "c", Status::Fail),
            read(3, &["a"]),
        ]);
        assert!(v.ok(), "{v:?}");
        assert_eq!(
            (v.acknowledged, v.indeterminate, v.failed),
            (1, 1, 1),
            "counts"
        );
    }

    #[test]
    fn lost_acknowledged_add_is_reported() {
        let v = check_ops(vec![
            add(0, "a", Status::Ok),
            add(1, "b", Status::Ok),
            read(2, &["a"]),
        ]);
        assert!(!v.ok());
        assert_eq!(v.lost, vec!["b".to_string()]);
    }

    #[test]
    fn unexpected_and_failed_elements_are_reported() {
        let v = check_ops(vec![
            add(0, "a", Status::Ok),
            add(1, "b", Status::Fail),
            read(2, &["a", "b", "zzz"]),
        ]);
        assert!(!v.ok());
        assert_eq!(v.failed_but_present, vec!["b".to_string()]);
        assert_eq!(v.unexpected, vec!["zzz".to_string()]);
    }

    #[test]
    fn indeterminate_add_may_be_present_or_absent() {
        for members in [&["a", "b"][..], &["a"][..]] {
            let v = check_ops(vec![
                add(0, "a", Status::Ok),
                add(1, "b", Status::Info),
                read(2, members),
            ]);
            assert!(v.ok(), "{members:?}");
            assert_eq!(v.indeterminate_present, members.len() - 1);
        }
    }

    #[test]
    fn the_last_read_is_the_final_one() {
        let v = check_ops(vec![
            add(0, "a", Status::Ok),
            read(1, &[]),
            add(2, "b", Status::Ok),
            read(3, &["a", "b"]),
        ]);
        assert!(v.ok(), "{v:?}");
    }

    #[test]
    fn no_final_read_is_a_failure() {
        let v = check_ops(vec![add(0, "a", Status::Ok)]);
        assert!(!v.read);
        assert!(!v.ok());
    }
}
