//! The operator API (gRPC `slotraft.admin.Admin`): status of every slot group on this node,
//! leader transfer and on-demand snapshots. `slotraft-ctl` is its client.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::group::GroupRegistry;
use crate::proto::admin::admin_server::Admin;
use crate::proto::admin::{
    GroupStatus, NodeInfo, SnapshotReply, SnapshotRequest, StatusReply, StatusRequest,
    TransferLeaderReply, TransferLeaderRequest,
};

pub struct AdminServer {
    registry: Arc<GroupRegistry>,
}

impl AdminServer {
    pub fn new(registry: Arc<GroupRegistry>) -> Self {
        Self { registry }
    }
}

#[tonic::async_trait]
impl Admin for AdminServer {
    async fn status(&self, _: Request<StatusRequest>) -> Result<Response<StatusReply>, Status> {
        let topology = self.registry.topology();
        let now = crate::clock::now_ms();
        let groups = self
            .registry
            .groups()
            .iter()
            .map(|g| {
                let m = g.metrics();
                let keys = g
                    .state()
                    .read()
                    .map(|s| s.keyspace.len(now) as u64)
                    .unwrap_or(0);
                GroupStatus {
                    group_id: g.id(),
                    slot_start: u32::from(*g.spec().slots.start()),
                    slot_end: u32::from(*g.spec().slots.end()),
                    members: g.spec().members.clone(),
                    leader: m.current_leader.map_or(0, |l| l.node),
                    term: m.current_term,
                    state: format!("{:?}", m.state),
                    last_log_index: m.last_log_index.unwrap_or(0),
                    committed: m.local_committed.map(|c| c.index).unwrap_or(0),
                    applied: m.last_applied.map(|c| c.index).unwrap_or(0),
                    snapshot_index: m.snapshot.map(|c| c.index).unwrap_or(0),
                    keys,
                    voters: g.voters().iter().map(|v| v.to_string()).collect(),
                }
            })
            .collect();
        let nodes = topology
            .nodes()
            .iter()
            .map(|(id, addr)| NodeInfo {
                node_id: *id,
                resp_addr: addr.resp.clone(),
                grpc_addr: addr.grpc.clone(),
            })
            .collect();
        Ok(Response::new(StatusReply {
            node_id: topology.self_id(),
            cluster_id: topology.cluster_id().to_string(),
            nodes,
            groups,
            incarnation: format!("{:016x}", self.registry.incarnation()),
            standing: self.registry.standing().describe(),
        }))
    }

    async fn transfer_leader(
        &self,
        request: Request<TransferLeaderRequest>,
    ) -> Result<Response<TransferLeaderReply>, Status> {
        let req = request.into_inner();
        let group = self.registry.group(req.group_id).ok_or_else(|| {
            Status::not_found(format!(
                "slot group {} is not hosted on this node",
                req.group_id
            ))
        })?;
        if !group.spec().members.contains(&req.to_node) {
            return Err(Status::invalid_argument(format!(
                "node {} is not a member of slot group {}",
                req.to_node, req.group_id
            )));
        }
        if !group.is_leader() {
            return Err(Status::failed_precondition(format!(
                "this node does not lead slot group {}; ask node {:?}",
                req.group_id,
                group.current_leader()
            )));
        }
        group
            .transfer_leader(req.to_node)
            .await
            .map_err(Status::unavailable)?;
        Ok(Response::new(TransferLeaderReply {}))
    }

    async fn snapshot(
        &self,
        request: Request<SnapshotRequest>,
    ) -> Result<Response<SnapshotReply>, Status> {
        let wanted = request.into_inner().group_ids;
        for group in self.registry.groups() {
            if wanted.is_empty() || wanted.contains(&group.id()) {
                group
                    .raft()
                    .trigger()
                    .snapshot()
                    .await
                    .map_err(|e| Status::unavailable(e.to_string()))?;
            }
        }
        Ok(Response::new(SnapshotReply {}))
    }
}
