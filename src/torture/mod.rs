//! The torture suite: Jepsen-style fault injection against real `slotraft-server` processes,
//! with checkers that decide whether anything acknowledged was lost and whether reads were
//! linearizable. Driven by the `slotraft-torture` binary; nothing here is used by the server.
//!
//! - [`history`]: operations (invoke/complete, ok/fail/info) and nemesis events; JSON lines;
//! - [`checker`]: pure verdicts from a history (register linearizability, set, list-append);
//! - [`client`]: a cluster client that follows `-MOVED` and classifies outcomes honestly;
//! - [`workload`]: what the clients do, and the final reads;
//! - [`network`]: one network namespace per node, partitions with nftables;
//! - [`cluster`]: the server processes (kill, pause, restart, leaders, transfers, snapshots);
//! - [`nemesis`]: the fault schedule;
//! - [`runner`]: one run end to end, fault families, the report.
//!
//! The suite must be able to fail: the checkers are unit-tested with histories that are not
//! linearizable or lose writes, and CI runs it against a server built with the test-only
//! `unsafe-ack` feature, which must be reported as losing acknowledged writes.

pub mod checker;
pub mod client;
pub mod cluster;
pub mod history;
pub mod nemesis;
pub mod network;
pub mod runner;
pub mod workload;
