//! The RESP front end: the client listener, one task per connection, and command execution
//! (routing to the owning slot group, linearizable reads, Raft-committed writes).
//!
//! A `SET` from a client: `connection` decodes the request → `dispatch` parses it into a
//! `Command` and routes its key's slot to a group (`route`) → `write` builds the `WriteOp` with
//! absolute deadlines and proposes it through the group API (`group::Group::propose`) →
//! log append + group-commit fsync
//! (`raft::log_store`, `raft::flusher`) and replication (`peer::group_client`, `peer::mux_client`) → commit → apply
//! (`raft::state_machine`) → the `Reply` comes back here and is encoded as a RESP frame.

pub mod clients;
pub mod cluster_view;
pub mod connection;
pub mod context;
pub mod dispatch;
pub mod info;
pub mod keyed;
pub mod listener;
pub mod node_commands;
pub mod prepare;
pub mod replies;
pub mod route;
pub mod session;
pub mod stats;
pub mod transaction;

pub use listener::{serve, serve_network};
