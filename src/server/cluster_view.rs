//! What `CLUSTER SLOTS`, `CLUSTER SHARDS`, `CLUSTER NODES` and `CLUSTER INFO` say: the slot
//! groups presented as a Redis Cluster in which **every node is a master, of exactly the slot
//! ranges whose groups it leads, and no node is shown as a replica** (ARCHITECTURE.md,
//! "Toward clients: every node a master" argues the choice). All four replies are built from
//! one `Placement`, so they cannot disagree.
//!
//! A group's master is its leader as this node believes it (`GroupRegistry::leader_of`: its
//! own Raft state for a group it hosts, the peers' reports for one it does not). A group whose
//! leader nobody has reported yet is shown under its preferred member, which knows more and
//! redirects; its slots count as not ok in `CLUSTER INFO`. A node that leads no group is a
//! master without slots: listed in `CLUSTER NODES` and `CLUSTER SHARDS`, absent from
//! `CLUSTER SLOTS`, exactly as Redis shows a master that holds no slots.
//!
//! Addresses are those of the client's network (`ClientNetwork`): a client that came through
//! the external listener is given every node's `--external-cluster` address.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::ops::RangeInclusive;

use std::sync::Arc;

use crate::cluster::topology::{ClientNetwork, Topology};
use crate::cluster::NodeId;
use crate::group::GroupRegistry;
use crate::resp::Frame;

pub struct ClusterView<'a> {
    registry: &'a GroupRegistry,
    /// The layout when the view was taken: one reply describes one version of it.
    topology: Arc<Topology>,
    network: ClientNetwork,
    placement: Placement,
}

/// Who is master of which slots, taken once per reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Maximal runs of slots with one master, in slot order (adjacent groups with the same
    /// master are merged, as Redis prints contiguous slots of one node as one range).
    pub ranges: Vec<(RangeInclusive<u16>, NodeId)>,
    /// Slots whose group has a known leader.
    pub slots_ok: usize,
}

impl Placement {
    /// `groups`: each group's slot range (in slot order) and its leader if known, with the
    /// member to show when it is not.
    pub fn new(
        groups: impl IntoIterator<Item = (RangeInclusive<u16>, Option<NodeId>, NodeId)>,
    ) -> Self {
        let mut ranges: Vec<(RangeInclusive<u16>, NodeId)> = Vec::new();
        let mut slots_ok = 0;
        for (slots, leader, fallback) in groups {
            if leader.is_some() {
                slots_ok += slots.len();
            }
            let master = leader.unwrap_or(fallback);
            match ranges.last_mut() {
                Some((last, m))
                    if *m == master && *last.end() as u32 + 1 == *slots.start() as u32 =>
                {
                    *last = *last.start()..=*slots.end();
                }
                _ => ranges.push((slots, master)),
            }
        }
        Self { ranges, slots_ok }
    }

    /// The slot ranges `node` is master of, in slot order (empty for a node that leads none).
    pub fn ranges_of(&self, node: NodeId) -> impl Iterator<Item = &RangeInclusive<u16>> {
        self.ranges
            .iter()
            .filter(move |(_, m)| *m == node)
            .map(|(r, _)| r)
    }

    /// Masters that hold at least one slot (Redis's `cluster_size`).
    pub fn masters_with_slots(&self) -> usize {
        let masters: std::collections::BTreeSet<NodeId> =
            self.ranges.iter().map(|(_, m)| *m).collect();
        masters.len()
    }
}

fn split_host_port(addr: &str) -> (&str, u16) {
    match addr.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().unwrap_or(0)),
        None => (addr, 0),
    }
}

impl<'a> ClusterView<'a> {
    pub fn new(registry: &'a GroupRegistry, network: ClientNetwork) -> Self {
        let topology = registry.topology();
        let placement = Placement::new(topology.groups().iter().map(|spec| {
            (
                spec.slots.clone(),
                registry.leader_of(spec.id),
                spec.members[0],
            )
        }));
        Self {
            registry,
            topology,
            network,
            placement,
        }
    }

    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    /// `host:port` of `id` for this view's client.
    fn addr(&self, id: NodeId) -> &str {
        self.topology.client_addr(id, self.network).unwrap_or("")
    }

    fn node_entry(&self, id: NodeId) -> Frame {
        let (host, port) = split_host_port(self.addr(id));
        Frame::Array(vec![
            Frame::bulk(host.to_string()),
            Frame::Integer(i64::from(port)),
            Frame::bulk(self.registry.topology().node_name(id)),
            Frame::Map(vec![]),
        ])
    }

    /// `CLUSTER SLOTS`: one entry per range, the master alone (no replicas are shown).
    pub fn slots(&self) -> Frame {
        Frame::Array(
            self.placement
                .ranges
                .iter()
                .map(|(slots, master)| {
                    Frame::Array(vec![
                        Frame::Integer(i64::from(*slots.start())),
                        Frame::Integer(i64::from(*slots.end())),
                        self.node_entry(*master),
                    ])
                })
                .collect(),
        )
    }

    /// `CLUSTER SHARDS`: one shard per node (each node is a master), with all its ranges.
    pub fn shards(&self) -> Frame {
        let topology = self.registry.topology();
        let shards = topology.nodes().keys().map(|&id| {
            let (host, port) = split_host_port(self.addr(id));
            let health = if self.registry.peer_reachable(id) {
                "online"
            } else {
                "failed"
            };
            let node = Frame::Map(vec![
                (Frame::bulk("id"), Frame::bulk(topology.node_name(id))),
                (Frame::bulk("port"), Frame::Integer(i64::from(port))),
                (Frame::bulk("ip"), Frame::bulk(host.to_string())),
                (Frame::bulk("endpoint"), Frame::bulk(host.to_string())),
                (Frame::bulk("role"), Frame::bulk("master")),
                (Frame::bulk("replication-offset"), Frame::Integer(0)),
                (Frame::bulk("health"), Frame::bulk(health)),
            ]);
            let slots = self
                .placement
                .ranges_of(id)
                .flat_map(|r| [*r.start(), *r.end()])
                .map(|s| Frame::Integer(i64::from(s)))
                .collect();
            Frame::Map(vec![
                (Frame::bulk("slots"), Frame::Array(slots)),
                (Frame::bulk("nodes"), Frame::Array(vec![node])),
            ])
        });
        Frame::Array(shards.collect())
    }

    /// `CLUSTER NODES`, in Redis 7.0's format: every node a master with its slot ranges; a
    /// peer this node has not heard from lately is flagged `fail?` with its link
    /// `disconnected`, as Redis shows a node it cannot reach.
    pub fn nodes(&self) -> String {
        let topology = self.registry.topology();
        let mut out = String::new();
        for (&id, addr) in topology.nodes() {
            let (host, port) = split_host_port(self.addr(id));
            let gport = split_host_port(&addr.grpc).1;
            // Redis 7.0 appends ",hostname" only when a hostname is announced: here, when the
            // address is a name rather than an IP.
            let hostname = if host.parse::<IpAddr>().is_ok() {
                String::new()
            } else {
                format!(",{host}")
            };
            let myself = if id == topology.self_id() {
                "myself,"
            } else {
                ""
            };
            let (fail, link) = if self.registry.peer_reachable(id) {
                ("", "connected")
            } else {
                (",fail?", "disconnected")
            };
            let _ = write!(
                out,
                "{} {host}:{port}@{gport}{hostname} {myself}master{fail} - 0 0 {id} {link}",
                topology.node_name(id)
            );
            for r in self.placement.ranges_of(id) {
                if r.start() == r.end() {
                    let _ = write!(out, " {}", r.start());
                } else {
                    let _ = write!(out, " {}-{}", r.start(), r.end());
                }
            }
            out.push('\n');
        }
        out
    }

    pub fn info(&self) -> String {
        let topology = self.registry.topology();
        let slots_ok = self.placement.slots_ok;
        let epoch = self
            .registry
            .groups()
            .iter()
            .map(|g| g.term())
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
            self.placement.masters_with_slots(),
            topology.groups().len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_groups_of_one_master_merge_and_every_slot_is_covered_once() {
        let p = Placement::new([
            (0..=99, Some(1), 1),
            (100..=199, Some(1), 2),
            (200..=299, None, 2),
            (300..=16383, Some(1), 3),
        ]);
        assert_eq!(
            p.ranges,
            vec![(0..=199, 1), (200..=299, 2), (300..=16383, 1)]
        );
        assert_eq!(p.slots_ok, 16384 - 100);
        assert_eq!(p.ranges_of(1).count(), 2);
        assert_eq!(
            p.ranges_of(3).count(),
            0,
            "a node that leads nothing has no slots"
        );
        assert_eq!(p.masters_with_slots(), 2);
    }
}
