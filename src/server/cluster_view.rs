//! What `CLUSTER SLOTS`, `CLUSTER SHARDS`, `CLUSTER NODES` and `CLUSTER INFO` say: the slot
//! groups presented as Redis Cluster shards. A group's current leader plays the shard's master
//! and its other members the replicas, so cluster clients send writes straight to the leader.
//! A group whose leader this node does not know is shown with its preferred member as master;
//! a client that lands on a non-leader is redirected with `-MOVED`.
//!
//! Addresses are those of the client's network (`ClientNetwork`): a client that came through
//! the external listener is given every node's `--external-cluster` address.

use std::fmt::Write as _;

use crate::raft::NodeId;
use crate::registry::GroupRegistry;
use crate::resp::Frame;
use crate::topology::{ClientNetwork, GroupSpec};

pub struct ClusterView<'a> {
    registry: &'a GroupRegistry,
    network: ClientNetwork,
}

/// One slot group as a shard.
struct Shard<'a> {
    spec: &'a GroupSpec,
    master: NodeId,
    replicas: Vec<NodeId>,
    leader_known: bool,
}

fn split_host_port(addr: &str) -> (&str, u16) {
    match addr.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().unwrap_or(0)),
        None => (addr, 0),
    }
}

impl<'a> ClusterView<'a> {
    pub fn new(registry: &'a GroupRegistry, network: ClientNetwork) -> Self {
        Self { registry, network }
    }

    /// `host:port` of `id` for this view's client.
    fn addr(&self, id: NodeId) -> &'a str {
        self.registry
            .topology()
            .client_addr(id, self.network)
            .unwrap_or("")
    }

    fn shard_list(&self) -> Vec<Shard<'a>> {
        self.registry
            .topology()
            .groups()
            .iter()
            .map(|spec| {
                let leader = self
                    .registry
                    .group(spec.id)
                    .and_then(|g| g.current_leader());
                let master = leader.unwrap_or(spec.members[0]);
                let replicas = spec
                    .members
                    .iter()
                    .copied()
                    .filter(|m| *m != master)
                    .collect();
                Shard {
                    spec,
                    master,
                    replicas,
                    leader_known: leader.is_some(),
                }
            })
            .collect()
    }

    fn node_entry(&self, id: NodeId) -> Frame {
        let topology = self.registry.topology();
        let (host, port) = split_host_port(self.addr(id));
        Frame::Array(vec![
            Frame::bulk(host.to_string()),
            Frame::Integer(i64::from(port)),
            Frame::bulk(topology.node_name(id)),
            Frame::Map(vec![]),
        ])
    }

    pub fn slots(&self) -> Frame {
        Frame::Array(
            self.shard_list()
                .iter()
                .map(|s| {
                    let mut entry = vec![
                        Frame::Integer(i64::from(*s.spec.slots.start())),
                        Frame::Integer(i64::from(*s.spec.slots.end())),
                        self.node_entry(s.master),
                    ];
                    entry.extend(s.replicas.iter().map(|r| self.node_entry(*r)));
                    Frame::Array(entry)
                })
                .collect(),
        )
    }

    pub fn shards(&self) -> Frame {
        let topology = self.registry.topology();
        let node = |id: NodeId, role: &str| {
            let (host, port) = split_host_port(self.addr(id));
            Frame::Map(vec![
                (Frame::bulk("id"), Frame::bulk(topology.node_name(id))),
                (Frame::bulk("port"), Frame::Integer(i64::from(port))),
                (Frame::bulk("ip"), Frame::bulk(host.to_string())),
                (Frame::bulk("endpoint"), Frame::bulk(host.to_string())),
                (Frame::bulk("role"), Frame::bulk(role.to_string())),
                (Frame::bulk("replication-offset"), Frame::Integer(0)),
                (Frame::bulk("health"), Frame::bulk("online")),
            ])
        };
        Frame::Array(
            self.shard_list()
                .iter()
                .map(|s| {
                    let mut nodes = vec![node(s.master, "master")];
                    nodes.extend(s.replicas.iter().map(|r| node(*r, "replica")));
                    Frame::Map(vec![
                        (
                            Frame::bulk("slots"),
                            Frame::Array(vec![
                                Frame::Integer(i64::from(*s.spec.slots.start())),
                                Frame::Integer(i64::from(*s.spec.slots.end())),
                            ]),
                        ),
                        (Frame::bulk("nodes"), Frame::Array(nodes)),
                    ])
                })
                .collect(),
        )
    }

    /// `CLUSTER NODES`: Redis's format cannot say "master of these slots and replica of those",
    /// so every node is listed as a master with the slot ranges of the groups it leads.
    pub fn nodes(&self) -> String {
        let topology = self.registry.topology();
        let shards = self.shard_list();
        let mut out = String::new();
        for (&id, addr) in topology.nodes() {
            let (host, port) = split_host_port(self.addr(id));
            let gport = split_host_port(&addr.grpc).1;
            let myself = if id == topology.self_id() {
                "myself,"
            } else {
                ""
            };
            let _ = write!(
                out,
                "{} {host}:{port}@{gport},{host} {myself}master - 0 0 {id} connected",
                topology.node_name(id)
            );
            for s in shards.iter().filter(|s| s.master == id) {
                let _ = write!(out, " {}-{}", s.spec.slots.start(), s.spec.slots.end());
            }
            out.push('\n');
        }
        out
    }

    pub fn info(&self) -> String {
        let topology = self.registry.topology();
        let shards = self.shard_list();
        let slots_ok: usize = shards
            .iter()
            .filter(|s| s.leader_known)
            .map(|s| s.spec.slots.len())
            .sum();
        let masters: std::collections::BTreeSet<_> = shards.iter().map(|s| s.master).collect();
        let epoch = self
            .registry
            .groups()
            .map(|g| g.metrics().current_term)
            .max()
            .unwrap_or(0);
        let state = if slots_ok == 16384 { "ok" } else { "fail" };
        format!(
            "cluster_enabled:1\r\ncluster_state:{state}\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:{slots_ok}\r\n\
             cluster_slots_pfail:0\r\ncluster_slots_fail:{}\r\ncluster_known_nodes:{}\r\ncluster_size:{}\r\n\
             cluster_current_epoch:{epoch}\r\ncluster_my_epoch:{epoch}\r\ncluster_stats_messages_sent:0\r\n\
             cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n\
             slotraft_slot_groups:{}\r\n",
            16384 - slots_ok,
            topology.nodes().len(),
            masters.len(),
            topology.groups().len(),
        )
    }
}
