//! `CLUSTER` subcommands: the topology queries cluster clients send to find slot owners.
//!
//! Only the read-only queries exist here. Redis' topology changes (`ADDSLOTS`, `MEET`,
//! `FAILOVER`, …) have no meaning when membership and slot ownership are decided through Raft,
//! so they are unknown subcommands.

use bytes::Bytes;

use super::parse::Parse;
use super::{Command, CommandError};
use crate::cluster::slot::SLOT_COUNT;

/// The supported `CLUSTER` subcommands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterSub {
    /// `CLUSTER SLOTS`: slot ranges and their nodes (deprecated in 7.0, still used by clients).
    Slots,
    /// `CLUSTER SHARDS`: the 7.0 replacement of `SLOTS`.
    Shards,
    /// `CLUSTER NODES`: the node table in `nodes.conf` text form.
    Nodes,
    /// `CLUSTER KEYSLOT key`: the slot of a key (the argument is hashed, not looked up).
    KeySlot(Bytes),
    /// `CLUSTER INFO`: `cluster_state:ok` and friends.
    Info,
    /// `CLUSTER MYID`: this node's id.
    MyId,
    /// `CLUSTER COUNTKEYSINSLOT slot`, slot already checked to be below 16384.
    CountKeysInSlot(u16),
    /// `CLUSTER HELP`.
    Help,
}

impl ClusterSub {
    /// The `CLUSTER HELP` reply lines (each sent as a simple string), worded as in Redis 7.0,
    /// for the subcommands we support.
    pub const HELP: &'static [&'static str] = &[
        "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "COUNTKEYSINSLOT <slot>",
        "    Return the number of keys in <slot>.",
        "INFO",
        "    Return information about the cluster.",
        "KEYSLOT <key>",
        "    Return the hash slot for <key>.",
        "MYID",
        "    Return the node id.",
        "NODES",
        "    Return cluster configuration seen by node. Output format:",
        "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
        "SLOTS",
        "    Return information about slots range mappings. Each range is made of:",
        "    start, end, master and replicas IP addresses, ports and ids",
        "SHARDS",
        "    Return information about slot range mappings and the nodes associated with them.",
        "HELP",
        "    Prints this help.",
    ];
}

pub(crate) fn parse_cluster(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    // The table's arity (-2) sends every valid CLUSTER request to a subcommand; this is only
    // reached if that ever changes.
    Err(CommandError::WrongArity(p.name()))
}

fn no_args(p: &mut Parse<'_>, sub: ClusterSub) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Cluster(sub))
}

pub(crate) fn parse_slots(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    no_args(p, ClusterSub::Slots)
}

pub(crate) fn parse_shards(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    no_args(p, ClusterSub::Shards)
}

pub(crate) fn parse_nodes(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    no_args(p, ClusterSub::Nodes)
}

pub(crate) fn parse_info(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    no_args(p, ClusterSub::Info)
}

pub(crate) fn parse_myid(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    no_args(p, ClusterSub::MyId)
}

pub(crate) fn parse_help(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    no_args(p, ClusterSub::Help)
}

pub(crate) fn parse_keyslot(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    no_args(p, ClusterSub::KeySlot(key))
}

pub(crate) fn parse_countkeysinslot(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let slot = p.next_int()?;
    let slot = u16::try_from(slot)
        .ok()
        .filter(|&slot| slot < SLOT_COUNT)
        .ok_or(CommandError::InvalidSlot)?;
    no_args(p, ClusterSub::CountKeysInSlot(slot))
}
