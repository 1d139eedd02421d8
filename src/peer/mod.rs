//! The peer side of a node: everything that travels between nodes over gRPC (tonic, one HTTP/2
//! channel per peer shared by all groups). Above the group API: it hands peers' Raft messages
//! to the groups hosted here and carries the groups' messages to other nodes.
//!
//! - `peers`: the channel to each peer, and calls that are not one group's (leaving notice,
//!   leader reports);
//! - `group_client`: openraft's network for one group (`RaftNetworkV2`);
//! - `mux`, `mux_client`, `mux_server`: every group's pipelined replication to one peer on one
//!   stream;
//! - `rpc_error`: how a failed call is reported to openraft;
//! - `service`: the gRPC server of the Raft messages;
//! - `handshake`: the layout and incarnation exchange with every peer at start;
//! - `enrol`: how a new data directory learns whether it is a member or refused;
//! - `leader_poll`: asking every peer which leaders its groups have (`peer_view`);
//! - `admin`: the operator API (`slotraft-ctl`).
//!
//! It must not know RESP.

pub mod admin;
pub mod enrol;
pub mod group_client;
pub mod handshake;
pub mod join;
pub mod leader_poll;
pub mod meta_leader;
pub mod mux;
pub mod mux_client;
pub mod mux_server;
pub mod peers;
pub mod rpc_error;
pub mod service;
