//! Reaching the meta group's leader from any node: a change of the cluster metadata (an
//! operator's call, a node joining) is committed there, so the node asked either is that leader
//! or forwards the call to it over the peer channel.

use std::sync::Arc;

use tonic::transport::Channel;
use tonic::Status;

use super::peers::Peers;
use crate::cluster::metadata::META_GROUP;
use crate::cluster::NodeId;
use crate::group::{Group, GroupRegistry};

/// Where the meta group's leader is.
pub enum MetaLeader {
    /// This node leads it.
    Here(Arc<Group>),
    /// Another node does: a channel to it.
    There { node: NodeId, channel: Channel },
}

/// Finds the meta group's leader as this node knows it (its own Raft state if it hosts the
/// meta group, else what the peers reported). `Unavailable` when none is known.
pub fn find(registry: &GroupRegistry, peers: &Peers) -> Result<MetaLeader, Status> {
    if let Some(group) = registry.meta_group().filter(|g| g.is_leader()) {
        return Ok(MetaLeader::Here(group));
    }
    let topology = registry.topology();
    let leader = registry
        .leader_of(META_GROUP)
        .filter(|&l| l != topology.self_id())
        .ok_or_else(|| {
            Status::unavailable(format!(
                "the meta group has no leader known here (its members are nodes {:?}: is a \
                 majority of them up?)",
                topology.members(META_GROUP)
            ))
        })?;
    let addr = topology
        .node(leader)
        .ok_or_else(|| Status::unavailable(format!("no address known for node {leader}")))?;
    let channel = peers
        .channel(leader, &addr.grpc)
        .map_err(|e| Status::unavailable(e.to_string()))?;
    Ok(MetaLeader::There {
        node: leader,
        channel,
    })
}
