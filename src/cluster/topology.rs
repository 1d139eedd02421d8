//! The cluster layout: which nodes exist, how the 16384 slots split into slot groups, and which
//! nodes replicate each group. Every node computes it from the same configuration
//! (`--initial-cluster`, `--groups`, `--replicas`) and must get the same answer; the layout's
//! fingerprint is the cluster id carried by every message between nodes, so nodes started with
//! different layouts refuse each other's messages instead of mixing their logs.
//!
//! It also holds the optional external client addresses (`--external-cluster`): the address
//! of each node as clients outside the cluster network dial it (published container ports,
//! NAT). They are not part of the layout or the cluster id: they only change what clients are
//! told, never who replicates what, so changing them needs no new data directory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::RangeInclusive;

use thiserror::Error;

use crate::cluster::incarnation::Incarnations;
use crate::cluster::metadata::{meta_size, ClusterMetadata, NodeRecord, NodeState, META_GROUP};
use crate::cluster::slot::SLOT_COUNT;
use crate::cluster::{GroupId, NodeAddr, NodeId};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TopologyError {
    #[error("--initial-cluster: entry '{0}' is not ID=HOST:PORT@GPORT")]
    BadEntry(String),
    #[error("--initial-cluster: node id '{0}' is not a positive integer")]
    BadNodeId(String),
    #[error("--initial-cluster: node {0} is listed twice")]
    DuplicateNode(NodeId),
    #[error("--initial-cluster: address '{0}' is listed for two nodes")]
    DuplicateAddress(String),
    #[error("--initial-cluster is empty")]
    Empty,
    #[error("--node-id {0} is not in --initial-cluster")]
    SelfMissing(NodeId),
    #[error("--groups must be between 1 and {SLOT_COUNT}, got {0}")]
    BadGroupCount(u32),
    #[error("--replicas must be at least 1, got {0}")]
    BadReplicas(usize),
    #[error("--external-cluster: entry '{0}' is not ID=HOST:PORT")]
    BadExternalEntry(String),
    #[error("--external-cluster: node {0} is not in --initial-cluster")]
    ExternalUnknownNode(NodeId),
    #[error("--external-cluster: node {0} has no entry (every node needs one)")]
    ExternalMissingNode(NodeId),
    #[error("--external-cluster: node {0} is listed twice")]
    ExternalDuplicateNode(NodeId),
}

/// Which network a client reached this node through. It decides the address the client is
/// given for every node in `CLUSTER SLOTS`/`SHARDS`/`NODES` and `-MOVED`: a client must be
/// sent to addresses that work from where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientNetwork {
    /// Through `--port`: the `--initial-cluster` addresses (the cluster network's names).
    Cluster,
    /// Through `--external-port`: the `--external-cluster` addresses.
    External,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    pub id: GroupId,
    pub slots: RangeInclusive<u16>,
    /// Voters of the group. The first is the preferred leader, which spreads leaders evenly.
    pub members: Vec<NodeId>,
}

#[derive(Debug, Clone)]
pub struct Topology {
    self_id: NodeId,
    nodes: BTreeMap<NodeId, NodeAddr>,
    groups: Vec<GroupSpec>,
    /// `slot_group[slot]` is the group owning `slot`.
    slot_group: Vec<GroupId>,
    canonical: String,
    cluster_id: String,
    /// `--external-cluster`: every node's RESP address for clients outside the cluster network.
    external: Option<BTreeMap<NodeId, String>>,
    /// Members of the meta group (`cluster::metadata`).
    meta: Vec<NodeId>,
    /// The metadata version this layout was built from (0: the command line's, before the meta
    /// group wrote its first version).
    version: u64,
}

/// Parses `1=HOST:PORT@GPORT,2=...`.
pub fn parse_initial_cluster(text: &str) -> Result<BTreeMap<NodeId, NodeAddr>, TopologyError> {
    let mut nodes = BTreeMap::new();
    let mut seen_addrs = std::collections::HashSet::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = || TopologyError::BadEntry(entry.to_string());
        let (id, addr) = entry.split_once('=').ok_or_else(bad)?;
        let id: NodeId = id
            .trim()
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| TopologyError::BadNodeId(id.to_string()))?;
        let (resp, gport) = addr.trim().rsplit_once('@').ok_or_else(bad)?;
        let (host, port) = resp.rsplit_once(':').ok_or_else(bad)?;
        if host.is_empty()
            || port.parse::<u16>().map_or(true, |p| p == 0)
            || gport.parse::<u16>().map_or(true, |p| p == 0)
        {
            return Err(bad());
        }
        let node = NodeAddr {
            resp: resp.to_string(),
            grpc: format!("{host}:{gport}"),
        };
        if !seen_addrs.insert(node.resp.clone()) {
            return Err(TopologyError::DuplicateAddress(node.resp));
        }
        if !seen_addrs.insert(node.grpc.clone()) {
            return Err(TopologyError::DuplicateAddress(node.grpc));
        }
        if nodes.insert(id, node).is_some() {
            return Err(TopologyError::DuplicateNode(id));
        }
    }
    if nodes.is_empty() {
        return Err(TopologyError::Empty);
    }
    Ok(nodes)
}

impl Topology {
    pub fn new(
        self_id: NodeId,
        nodes: BTreeMap<NodeId, NodeAddr>,
        groups: u32,
        replicas: usize,
    ) -> Result<Self, TopologyError> {
        if nodes.is_empty() {
            return Err(TopologyError::Empty);
        }
        if !nodes.contains_key(&self_id) {
            return Err(TopologyError::SelfMissing(self_id));
        }
        if groups == 0 || groups > u32::from(SLOT_COUNT) {
            return Err(TopologyError::BadGroupCount(groups));
        }
        if replicas == 0 {
            return Err(TopologyError::BadReplicas(replicas));
        }
        let replicas = replicas.min(nodes.len());
        let ids: Vec<NodeId> = nodes.keys().copied().collect();
        let total = u32::from(SLOT_COUNT);
        let mut specs = Vec::with_capacity(groups as usize);
        let mut slot_group = vec![0; SLOT_COUNT as usize];
        for g in 0..groups {
            let start = (g * total / groups) as u16;
            let end = ((g + 1) * total / groups - 1) as u16;
            let members = (0..replicas)
                .map(|i| ids[(g as usize + i) % ids.len()])
                .collect();
            for slot in start..=end {
                slot_group[slot as usize] = g;
            }
            specs.push(GroupSpec {
                id: g,
                slots: start..=end,
                members,
            });
        }
        let mut canonical = String::new();
        for (id, addr) in &nodes {
            let _ = write!(canonical, "{id}={addr},");
        }
        let _ = write!(canonical, "groups={groups},replicas={replicas}");
        let cluster_id = format!("{:016x}", fnv1a(canonical.as_bytes()));
        let meta = ids.iter().copied().take(meta_size(ids.len())).collect();
        Ok(Self {
            self_id,
            nodes,
            groups: specs,
            slot_group,
            canonical,
            cluster_id,
            external: None,
            meta,
            version: 0,
        })
    }

    /// The cluster metadata's first version: this (command line) layout with the incarnations
    /// agreed at creation. Every node computes the same one, so whichever meta leader writes it
    /// first writes what the others would have.
    pub fn first_metadata(&self, agreed: &Incarnations) -> ClusterMetadata {
        let nodes: BTreeMap<NodeId, NodeRecord> = self
            .nodes
            .iter()
            .map(|(&id, addr)| {
                let record = NodeRecord {
                    addr: addr.clone(),
                    external: self.external.as_ref().and_then(|e| e.get(&id).cloned()),
                    incarnation: agreed.raft_id(id).map_or(0, |r| r.incarnation),
                    state: NodeState::Active,
                };
                (id, record)
            })
            .collect();
        ClusterMetadata {
            version: 1,
            meta: nodes.keys().copied().take(meta_size(nodes.len())).collect(),
            nodes,
            groups: self.groups.iter().map(|g| g.members.clone()).collect(),
        }
    }

    /// The layout of the cluster a node joined (`--join`): built from the creating layout's
    /// canonical text (which the cluster sent it), for node `self_id`, which it does not list.
    /// `with_metadata` then adds the nodes as they are now, this one among them.
    pub fn joined(self_id: NodeId, canonical: &str) -> Result<Self, TopologyError> {
        let bad = || TopologyError::BadEntry(canonical.to_string());
        let mut nodes = BTreeMap::new();
        let (mut groups, mut replicas) = (None, None);
        for entry in canonical.split(',') {
            let (key, value) = entry.split_once('=').ok_or_else(bad)?;
            match key {
                "groups" => groups = value.parse::<u32>().ok(),
                "replicas" => replicas = value.parse::<usize>().ok(),
                id => {
                    let id: NodeId = id.parse().map_err(|_| bad())?;
                    let (resp, grpc) = value.split_once('@').ok_or_else(bad)?;
                    let addr = NodeAddr {
                        resp: resp.to_string(),
                        grpc: grpc.to_string(),
                    };
                    nodes.insert(id, addr);
                }
            }
        }
        let (Some(groups), Some(replicas)) = (groups, replicas) else {
            return Err(bad());
        };
        let first = *nodes.keys().next().ok_or(TopologyError::Empty)?;
        let mut topology = Self::new(first, nodes, groups, replicas)?;
        if topology.canonical != canonical {
            return Err(bad());
        }
        topology.self_id = self_id;
        Ok(topology)
    }

    /// This layout as the metadata `meta` says it is now: the nodes that are not removed, and
    /// each group's intended members. The slot ranges, the cluster id and the command line's
    /// layout (`canonical`) stay: they name the cluster, which membership changes do not.
    pub fn with_metadata(&self, meta: &ClusterMetadata) -> Self {
        let mut next = self.clone();
        let current = meta
            .nodes
            .iter()
            .filter(|(_, r)| r.state != NodeState::Removed);
        next.nodes = current
            .clone()
            .map(|(&id, r)| (id, r.addr.clone()))
            .collect();
        let external: BTreeMap<NodeId, String> = current
            .filter_map(|(&id, r)| Some((id, r.external.clone()?)))
            .collect();
        if !external.is_empty() {
            next.external = Some(external);
        }
        for spec in &mut next.groups {
            if let Some(members) = meta.groups.get(spec.id as usize) {
                spec.members = members.clone();
            }
        }
        next.meta = meta.meta.clone();
        next.version = meta.version;
        next
    }

    /// The metadata version this layout follows (0: the command line's).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The intended members of group `id` (a slot group or the meta group); the first is the
    /// preferred leader.
    pub fn members(&self, id: GroupId) -> &[NodeId] {
        if id == META_GROUP {
            return &self.meta;
        }
        self.groups
            .get(id as usize)
            .map_or(&[], |g| g.members.as_slice())
    }

    /// Adds the external client addresses (`ID=HOST:PORT,...`, one per node of the layout).
    pub fn with_external(mut self, text: &str) -> Result<Self, TopologyError> {
        let mut external = BTreeMap::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || TopologyError::BadExternalEntry(entry.to_string());
            let (id, addr) = entry.split_once('=').ok_or_else(bad)?;
            let id: NodeId = id.trim().parse().map_err(|_| bad())?;
            let addr = addr.trim();
            let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
            if host.is_empty() || host.contains('@') || port.parse::<u16>().map_or(true, |p| p == 0)
            {
                return Err(bad());
            }
            if !self.nodes.contains_key(&id) {
                return Err(TopologyError::ExternalUnknownNode(id));
            }
            if external.insert(id, addr.to_string()).is_some() {
                return Err(TopologyError::ExternalDuplicateNode(id));
            }
        }
        if let Some(missing) = self.nodes.keys().find(|id| !external.contains_key(id)) {
            return Err(TopologyError::ExternalMissingNode(*missing));
        }
        self.external = Some(external);
        Ok(self)
    }

    /// This node's external client address, when `--external-cluster` is set.
    pub fn self_external(&self) -> Option<&str> {
        self.external
            .as_ref()
            .and_then(|e| e.get(&self.self_id))
            .map(String::as_str)
    }

    /// The RESP address (`host:port`) of `id` for a client on `network`. Clients on the
    /// external network get the external address; without `--external-cluster` every client
    /// gets the `--initial-cluster` address.
    pub fn client_addr(&self, id: NodeId, network: ClientNetwork) -> Option<&str> {
        match (network, &self.external) {
            (ClientNetwork::External, Some(external)) => external.get(&id).map(String::as_str),
            _ => self.nodes.get(&id).map(|n| n.resp.as_str()),
        }
    }

    pub fn self_id(&self) -> NodeId {
        self.self_id
    }

    /// This node's addresses. A node the metadata removed still knows its own.
    pub fn self_addr(&self) -> Option<&NodeAddr> {
        self.nodes.get(&self.self_id)
    }

    pub fn nodes(&self) -> &BTreeMap<NodeId, NodeAddr> {
        &self.nodes
    }

    pub fn node(&self, id: NodeId) -> Option<&NodeAddr> {
        self.nodes.get(&id)
    }

    pub fn groups(&self) -> &[GroupSpec] {
        &self.groups
    }

    pub fn group(&self, id: GroupId) -> Option<&GroupSpec> {
        self.groups.get(id as usize)
    }

    pub fn group_of_slot(&self, slot: u16) -> GroupId {
        self.slot_group[slot as usize]
    }

    /// The layout as text: identical on every node of one cluster.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// Fingerprint of the layout; carried by every message between nodes.
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// A 40-hex-digit node name, as Redis Cluster node ids look; stable for a node of a layout.
    pub fn node_name(&self, id: NodeId) -> String {
        let h = fnv1a(format!("{}/{id}", self.cluster_id).as_bytes());
        format!("{h:016x}{:016x}{id:08x}", fnv1a(&h.to_be_bytes()))
    }
}

/// FNV-1a, 64 bit: a stable hash (std's hasher may change between Rust releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> BTreeMap<NodeId, NodeAddr> {
        parse_initial_cluster(
            "1=127.0.0.1:7001@17001,2=127.0.0.1:7002@17002,3=127.0.0.1:7003@17003",
        )
        .unwrap()
    }

    #[test]
    fn groups_cover_every_slot_contiguously() {
        let t = Topology::new(1, three(), 16, 3).unwrap();
        let mut next = 0u32;
        for g in t.groups() {
            assert_eq!(u32::from(*g.slots.start()), next);
            next = u32::from(*g.slots.end()) + 1;
            for s in g.slots.clone() {
                assert_eq!(t.group_of_slot(s), g.id);
            }
        }
        assert_eq!(next, 16384);
    }

    #[test]
    fn preferred_leaders_are_spread_over_nodes() {
        let t = Topology::new(1, three(), 16, 3).unwrap();
        let mut count = BTreeMap::new();
        for g in t.groups() {
            assert_eq!(g.members.len(), 3);
            *count.entry(g.members[0]).or_insert(0) += 1;
        }
        assert_eq!(count.values().copied().collect::<Vec<_>>(), vec![6, 5, 5]);
    }

    #[test]
    fn replicas_are_capped_at_node_count() {
        let one = parse_initial_cluster("1=127.0.0.1:6379@16379").unwrap();
        let t = Topology::new(1, one, 16, 3).unwrap();
        assert!(t.groups().iter().all(|g| g.members == vec![1]));
    }

    #[test]
    fn same_layout_same_cluster_id_on_every_node() {
        let a = Topology::new(1, three(), 16, 3).unwrap();
        let b = Topology::new(3, three(), 16, 3).unwrap();
        assert_eq!(a.cluster_id(), b.cluster_id());
        let c = Topology::new(1, three(), 8, 3).unwrap();
        assert_ne!(a.cluster_id(), c.cluster_id());
        assert_eq!(a.node_name(2).len(), 40);
    }

    #[test]
    fn bad_layouts_are_rejected_with_the_flag_named() {
        assert_eq!(
            parse_initial_cluster("x"),
            Err(TopologyError::BadEntry("x".into()))
        );
        assert_eq!(
            parse_initial_cluster("0=a:1@2"),
            Err(TopologyError::BadNodeId("0".into()))
        );
        assert_eq!(
            parse_initial_cluster("1=a:1@2,1=b:1@2"),
            Err(TopologyError::DuplicateNode(1))
        );
        assert!(parse_initial_cluster("1=a:0@2").is_err());
        assert!(parse_initial_cluster("1=a:1@x").is_err());
        let err = Topology::new(4, three(), 16, 3).unwrap_err();
        assert_eq!(err.to_string(), "--node-id 4 is not in --initial-cluster");
        assert!(Topology::new(1, three(), 0, 3)
            .unwrap_err()
            .to_string()
            .starts_with("--groups"));
        assert!(Topology::new(1, three(), 16385, 3).is_err());
    }

    #[test]
    fn clients_get_the_addresses_of_the_network_they_came_through() {
        let t = Topology::new(2, three(), 16, 3)
            .unwrap()
            .with_external("1=10.0.0.9:7001, 2=10.0.0.9:7002,3=10.0.0.9:7003")
            .unwrap();
        assert_eq!(
            t.client_addr(3, ClientNetwork::Cluster),
            Some("127.0.0.1:7003")
        );
        assert_eq!(
            t.client_addr(3, ClientNetwork::External),
            Some("10.0.0.9:7003")
        );
        assert_eq!(t.self_external(), Some("10.0.0.9:7002"));
        // External addresses are not part of the layout: same cluster id with or without them.
        assert_eq!(
            t.cluster_id(),
            Topology::new(2, three(), 16, 3).unwrap().cluster_id()
        );
        let plain = Topology::new(1, three(), 16, 3).unwrap();
        assert_eq!(
            plain.client_addr(1, ClientNetwork::External),
            Some("127.0.0.1:7001")
        );
    }

    #[test]
    fn bad_external_addresses_are_rejected_with_the_flag_named() {
        let t = || Topology::new(1, three(), 16, 3).unwrap();
        let cases = [
            ("1=h:1,2=h:2", "--external-cluster: node 3 has no entry"),
            (
                "1=h:1,2=h:2,3=h:3,4=h:4",
                "--external-cluster: node 4 is not",
            ),
            (
                "1=h:1,1=h:2,3=h:3",
                "--external-cluster: node 1 is listed twice",
            ),
            ("1=h:0,2=h:2,3=h:3", "--external-cluster: entry '1=h:0'"),
            ("1=h,2=h:2,3=h:3", "--external-cluster: entry '1=h'"),
            ("x=h:1", "--external-cluster: entry 'x=h:1'"),
        ];
        for (text, want) in cases {
            let err = t().with_external(text).unwrap_err().to_string();
            assert!(err.starts_with(want), "{text}: {err}");
        }
    }

    #[test]
    fn a_joining_node_rebuilds_the_creating_layout_from_its_text() {
        let created = Topology::new(1, three(), 16, 3).unwrap();
        let joined = Topology::joined(4, created.canonical()).unwrap();
        assert_eq!(joined.cluster_id(), created.cluster_id());
        assert_eq!(joined.self_id(), 4);
        assert_eq!(joined.groups(), created.groups());
        assert!(Topology::joined(4, "1=a:1@a:2,groups=x").is_err());
    }

    #[test]
    fn the_first_metadata_is_the_command_line_layout() {
        let t = Topology::new(1, three(), 4, 3).unwrap();
        let agreed = Incarnations::new(BTreeMap::from([(1, 10), (2, 20), (3, 30)]));
        let m = t.first_metadata(&agreed);
        assert_eq!(m.version, 1);
        assert_eq!(m.groups[0], vec![1, 2, 3]);
        assert_eq!(m.groups[1], vec![2, 3, 1]);
        assert_eq!(m.meta, vec![1, 2, 3]);
        assert_eq!(m.nodes[&2].incarnation, 20);
        assert_eq!(m.nodes[&2].addr.resp, "127.0.0.1:7002");
        assert_eq!(m.nodes[&2].external, None);
        // Built back from it, the layout is the same.
        let again = t.with_metadata(&m);
        assert_eq!(again.groups(), t.groups());
        assert_eq!(again.nodes(), t.nodes());
        assert_eq!(again.version(), 1);
    }
}
