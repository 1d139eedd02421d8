//! slotraft: a Redis-compatible key-value server that never loses an acknowledged write.
//!
//! The 16384 Redis Cluster hash slots are split into slot groups; each group is a Raft group
//! (openraft) whose log lives in sled and is fsynced before anything is acknowledged. See
//! `ARCHITECTURE.md` for how the modules fit together and how a `SET` travels through them.

pub mod client;
pub mod clock;
pub mod cluster;
pub mod command;
pub mod config;
pub mod data_dir;
pub mod glob;
pub mod group;
pub mod hosting;
pub mod keyspace;
pub mod node;
pub mod peer;
pub mod peer_view;
pub mod proto;
pub mod raft;
pub mod reply;
pub mod resp;
pub mod server;
pub mod shutdown;

/// What a server built with the test-only `unsafe-ack` feature prints at start, so that the
/// torture suite can tell it is running the deliberately broken build.
pub const UNSAFE_MARKER: &str = "UNSAFE-ACK BUILD";
