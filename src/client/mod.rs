//! A small RESP client for slotraft's own tools (the benchmark, the torture suite) and tests:
//! one connection speaking the crate's frames (`connection`), and what a Redis Cluster client
//! needs besides (`slot_map`: who serves each slot from `CLUSTER SLOTS`, and `-MOVED`). Each
//! tool keeps its own policy on top (the torture suite classifies every outcome, the benchmark
//! pipelines); nothing here is used by the server.

pub mod connection;
pub mod slot_map;

pub use connection::{encode_request, Connection};
pub use slot_map::{parse_moved, SlotMap};
