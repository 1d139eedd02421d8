//! The cluster under test: N real `slotraft-server` processes with their own data directories
//! and logs, on a [`Network`], plus what the nemesis needs to act on them: `kill -9` and
//! restart, `SIGSTOP`/`SIGCONT`, the current leaders (from the admin gRPC API), leadership
//! transfers and snapshots, membership changes (readmitting a wiped node, moving a replica) and
//! whether every group has reached the members the cluster metadata intends ("settled").

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};

use super::client::{Client, Outcome};
use super::network::Network;
use slotraft::proto::admin::admin_client::AdminClient;
use slotraft::proto::admin::{
    MoveReplicaRequest, ReplaceNodeRequest, SnapshotRequest, StatusReply, StatusRequest,
    TransferLeaderRequest,
};
use slotraft::resp::Frame;
// The line an `unsafe-ack` server logs at startup; the harness looks for it to label a run.
use slotraft::UNSAFE_MARKER;

/// Server settings the torture runs care about.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub binary: PathBuf,
    pub groups: u32,
    pub replicas: usize,
    pub snapshot_logs: u64,
    pub election_timeout_ms: u64,
    pub heartbeat_ms: u64,
    pub write_timeout_ms: u64,
    /// `RUST_LOG` for the servers.
    pub log_filter: String,
}

pub struct Node {
    pub id: usize,
    pub resp: String,
    pub grpc: String,
    log: PathBuf,
    /// The node's data directory (`--dir`).
    dir: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    paused: bool,
}

impl Node {
    pub fn running(&self) -> bool {
        self.child.is_some()
    }
    fn signal(&self, sig: libc::c_int) {
        if let Some(c) = &self.child {
            // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
            unsafe {
                libc::kill(c.id() as libc::pid_t, sig);
            }
        }
    }
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    net: Network,
    settings: ServerSettings,
}

impl Cluster {
    /// Starts every node in `dir` (one data directory and one log file per node) and waits
    /// until all report every slot group with a leader.
    pub async fn start(
        net: Network,
        n: usize,
        settings: ServerSettings,
        dir: &Path,
    ) -> anyhow::Result<Cluster> {
        std::fs::create_dir_all(dir)?;
        let initial: Vec<String> = (1..=n)
            .map(|i| {
                let port = net.port(i);
                format!("{i}={}:{port}@{}", net.host(i), port + 10000)
            })
            .collect();
        let initial = initial.join(",");
        let nodes = (1..=n)
            .map(|i| {
                let (host, port) = (net.host(i), net.port(i));
                let args: Vec<String> = [
                    "--node-id".to_string(),
                    i.to_string(),
                    "--bind".into(),
                    host.clone(),
                    "--port".into(),
                    port.to_string(),
                    "--dir".into(),
                    dir.join(format!("node{i}")).display().to_string(),
                    "--initial-cluster".into(),
                    initial.clone(),
                    "--groups".into(),
                    settings.groups.to_string(),
                    "--replicas".into(),
                    settings.replicas.to_string(),
                    "--snapshot-logs".into(),
                    settings.snapshot_logs.to_string(),
                    "--election-timeout-ms".into(),
                    settings.election_timeout_ms.to_string(),
                    "--heartbeat-ms".into(),
                    settings.heartbeat_ms.to_string(),
                    "--write-timeout-ms".into(),
                    settings.write_timeout_ms.to_string(),
                ]
                .into();
                Node {
                    id: i,
                    resp: format!("{host}:{port}"),
                    grpc: format!("{host}:{}", port + 10000),
                    log: dir.join(format!("node{i}.log")),
                    dir: dir.join(format!("node{i}")),
                    args,
                    child: None,
                    paused: false,
                }
            })
            .collect();
        let mut cluster = Cluster {
            nodes,
            net,
            settings,
        };
        for i in 1..=n {
            cluster.start_node(i)?;
        }
        cluster.wait_healthy(Duration::from_secs(60)).await?;
        Ok(cluster)
    }

    pub fn net(&self) -> &Network {
        &self.net
    }

    pub fn node(&self, id: usize) -> &Node {
        &self.nodes[id - 1]
    }

    pub fn resp_addrs(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.resp.clone()).collect()
    }

    pub fn start_node(&mut self, id: usize) -> anyhow::Result<()> {
        let mut cmd = self.net.command(id, &self.settings.binary);
        let node = &mut self.nodes[id - 1];
        if node.child.is_some() {
            return Ok(());
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)?;
        let child = cmd
            .args(&node.args)
            .env("RUST_LOG", &self.settings.log_filter)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.settings.binary.display()))?;
        node.child = Some(child);
        node.paused = false;
        Ok(())
    }

    /// `kill -9`: no chance to flush anything.
    pub fn kill(&mut self, id: usize) {
        let node = &mut self.nodes[id - 1];
        if let Some(mut c) = node.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        node.paused = false;
    }

    /// Empties the data directory of node `id`, which must be stopped: its disk is lost.
    pub fn wipe(&mut self, id: usize) -> anyhow::Result<()> {
        let node = &self.nodes[id - 1];
        anyhow::ensure!(
            !node.running(),
            "node {id} must be stopped to wipe its directory"
        );
        if node.dir.exists() {
            std::fs::remove_dir_all(&node.dir)
                .with_context(|| format!("wiping {}", node.dir.display()))?;
        }
        std::fs::create_dir_all(&node.dir)?;
        Ok(())
    }

    pub fn pause(&mut self, id: usize) {
        let node = &mut self.nodes[id - 1];
        if node.running() && !node.paused {
            node.signal(libc::SIGSTOP);
            node.paused = true;
        }
    }

    pub fn resume(&mut self, id: usize) {
        let node = &mut self.nodes[id - 1];
        if node.paused {
            node.signal(libc::SIGCONT);
            node.paused = false;
        }
    }

    /// Undoes every fault: resumes paused nodes, restarts killed ones, heals the network.
    pub fn heal_all(&mut self) -> anyhow::Result<()> {
        self.net.heal()?;
        for i in 1..=self.nodes.len() {
            self.resume(i);
            self.start_node(i)?;
        }
        Ok(())
    }

    /// Whether any node's log says it is an `unsafe-ack` build.
    pub fn unsafe_build(&self) -> bool {
        self.nodes.iter().any(|n| {
            std::fs::read_to_string(&n.log)
                .map(|t| t.contains(UNSAFE_MARKER))
                .unwrap_or(false)
        })
    }

    /// Servers that exited on their own (crashed): `(node, exit status)`.
    pub fn exited(&mut self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for n in &mut self.nodes {
            if let Some(c) = &mut n.child {
                if let Ok(Some(status)) = c.try_wait() {
                    out.push((n.id, status.to_string()));
                    n.child = None;
                }
            }
        }
        out
    }

    /// Waits until every running node answers `CLUSTER INFO` with `cluster_state:ok`.
    pub async fn wait_healthy(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        for i in 1..=self.nodes.len() {
            if !self.nodes[i - 1].running() || self.nodes[i - 1].paused {
                continue;
            }
            let addr = self.nodes[i - 1].resp.clone();
            loop {
                let mut c = Client::new(vec![addr.clone()], Duration::from_secs(2), 0);
                if let Outcome::Ok(frame) = c.call(b"", &[b"CLUSTER", b"INFO"]).await {
                    let text = match frame {
                        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                        Frame::Verbatim { text, .. } => String::from_utf8_lossy(&text).into_owned(),
                        _ => String::new(),
                    };
                    if text.contains("cluster_state:ok") {
                        break;
                    }
                }
                if let Some((id, status)) = self.exited().first() {
                    bail!("node {id} exited ({status}); see its log");
                }
                if tokio::time::Instant::now() > deadline {
                    bail!("node {i} not healthy within {timeout:?}; see its log");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }

    async fn admin(&self, id: usize) -> anyhow::Result<AdminClient<tonic::transport::Channel>> {
        self.admin_within(id, Duration::from_secs(2)).await
    }

    async fn admin_within(
        &self,
        id: usize,
        timeout: Duration,
    ) -> anyhow::Result<AdminClient<tonic::transport::Channel>> {
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://{}", self.node(id).grpc))?
                .connect_timeout(Duration::from_millis(500))
                .timeout(timeout);
        Ok(AdminClient::new(endpoint.connect().await?))
    }

    /// Node `id`'s admin status.
    pub async fn status(&self, id: usize) -> anyhow::Result<StatusReply> {
        Ok(self
            .admin(id)
            .await?
            .status(StatusRequest {})
            .await?
            .into_inner())
    }

    /// The status of every node that runs, is not paused and answers.
    pub async fn statuses(&self) -> Vec<StatusReply> {
        let mut out = Vec::new();
        for n in self.nodes.iter().filter(|n| n.running() && !n.paused) {
            if let Ok(s) = self.status(n.id).await {
                out.push(s);
            }
        }
        out
    }

    /// `replace-node NODE NODE` asked of node `via`: readmits `node`, which runs again with an
    /// empty data directory. Answers the change's summary.
    pub async fn readmit(&self, via: usize, node: usize) -> Result<String, tonic::Status> {
        let mut admin = self
            .admin_within(via, CHANGE_RPC_TIMEOUT)
            .await
            .map_err(|e| tonic::Status::unavailable(format!("node {via}: {e}")))?;
        let reply = admin
            .replace_node(ReplaceNodeRequest {
                dead: node as u64,
                new: node as u64,
            })
            .await?
            .into_inner();
        Ok(format!("v{}: {}", reply.metadata_version, reply.summary))
    }

    /// `move-replica` asked of node `via`: `to` takes `from`'s place among `group`'s members.
    pub async fn move_replica(
        &self,
        via: usize,
        group: u32,
        from: usize,
        to: usize,
    ) -> Result<String, tonic::Status> {
        let mut admin = self
            .admin_within(via, CHANGE_RPC_TIMEOUT)
            .await
            .map_err(|e| tonic::Status::unavailable(format!("node {via}: {e}")))?;
        let reply = admin
            .move_replica(MoveReplicaRequest {
                group_id: group,
                from_node: from as u64,
                to_node: to as u64,
            })
            .await?
            .into_inner();
        Ok(format!("v{}: {}", reply.metadata_version, reply.summary))
    }

    /// Waits until every group (the meta group included) is led with exactly the members the
    /// newest cluster metadata intends, at their registered incarnations, and no learners
    /// (see [`unsettled`]); also, if given, until node `member`'s standing is `member`.
    pub async fn wait_settled(
        &self,
        timeout: Duration,
        member: Option<usize>,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let replies = self.statuses().await;
            let mut moving = unsettled(&replies);
            if let Some(m) = member {
                match replies.iter().find(|r| r.node_id == m as u64) {
                    Some(r) if r.standing == "member" => {}
                    Some(r) => moving.push(format!("node {m} is {}", r.standing)),
                    None => moving.push(format!("node {m} does not answer")),
                }
            }
            if moving.is_empty() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let version = Metadata::newest(&replies).map_or(0, |m| m.version);
                bail!(
                    "membership not settled within {timeout:?} (metadata version {version}): {}",
                    moving.join("; ")
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Slot group → (leader, members), as reported by the nodes that say they lead it
    /// (nodes that are down, paused or cut off are skipped).
    pub async fn leaders(&self) -> BTreeMap<u32, (usize, Vec<usize>)> {
        let mut out = BTreeMap::new();
        for n in self.nodes.iter().filter(|n| n.running() && !n.paused) {
            let Ok(mut admin) = self.admin(n.id).await else {
                continue;
            };
            let Ok(status) = admin.status(StatusRequest {}).await else {
                continue;
            };
            for g in status.into_inner().groups {
                if g.state == "Leader" {
                    let members = g.members.iter().map(|&m| m as usize).collect();
                    out.insert(g.group_id, (g.leader as usize, members));
                }
            }
        }
        out
    }

    /// The node leading the most groups (ties: the lowest id), if any leads.
    pub async fn busiest_leader(&self) -> Option<usize> {
        let mut count: BTreeMap<usize, usize> = BTreeMap::new();
        for (leader, _) in self.leaders().await.values() {
            *count.entry(*leader).or_default() += 1;
        }
        count
            .into_iter()
            .max_by_key(|&(id, c)| (c, std::cmp::Reverse(id)))
            .map(|(id, _)| id)
    }

    /// Asks `group`'s leader to hand leadership to `to`.
    pub async fn transfer_leader(
        &self,
        leader: usize,
        group: u32,
        to: usize,
    ) -> anyhow::Result<()> {
        self.admin(leader)
            .await?
            .transfer_leader(TransferLeaderRequest {
                group_id: group,
                to_node: to as u64,
            })
            .await?;
        Ok(())
    }

    /// Makes `id` build snapshots of all its groups now (and purge its log behind them).
    pub async fn snapshot(&self, id: usize) -> anyhow::Result<()> {
        self.admin(id)
            .await?
            .snapshot(SnapshotRequest { group_ids: vec![] })
            .await?;
        Ok(())
    }
}

/// Bound on one membership-change call (the server commits it within 5 s, after forwarding it
/// to the meta group's leader).
const CHANGE_RPC_TIMEOUT: Duration = Duration::from_secs(10);

/// The newest cluster metadata among `replies`: its version, each registered node's
/// incarnation (hex) and state, and each group's intended members.
pub struct Metadata {
    pub version: u64,
    pub incarnations: BTreeMap<u64, String>,
    pub states: BTreeMap<u64, String>,
    pub intended: BTreeMap<u32, Vec<u64>>,
}

impl Metadata {
    pub fn newest(replies: &[StatusReply]) -> Option<Metadata> {
        let s = replies
            .iter()
            .filter(|r| r.metadata_version > 0)
            .max_by_key(|r| r.metadata_version)?;
        Some(Metadata {
            version: s.metadata_version,
            incarnations: s
                .registry
                .iter()
                .map(|n| (n.node_id, n.incarnation.clone()))
                .collect(),
            states: s
                .registry
                .iter()
                .map(|n| (n.node_id, n.state.clone()))
                .collect(),
            intended: s
                .plans
                .iter()
                .map(|p| (p.group_id, p.intended.clone()))
                .collect(),
        })
    }

    /// Active nodes that are not among `group`'s intended members.
    pub fn outsiders(&self, group: u32) -> Vec<u64> {
        let members = self.intended.get(&group).cloned().unwrap_or_default();
        self.states
            .iter()
            .filter(|(id, state)| *state == "active" && !members.contains(id))
            .map(|(&id, _)| id)
            .collect()
    }
}

/// The node that reports leading `group` (`GroupPlan.voters` is filled only on its leader), if
/// one does; the highest id if several still claim it.
pub fn plan_leader(replies: &[StatusReply], group: u32) -> Option<usize> {
    replies
        .iter()
        .filter(|r| {
            r.plans
                .iter()
                .any(|p| p.group_id == group && !p.voters.is_empty())
        })
        .map(|r| r.node_id as usize)
        .max()
}

/// What is still moving, per group, judged from the nodes' status `replies`: empty when every
/// group of the newest metadata has a leader reporting its intended members (with the
/// registry's incarnations, "NODE.INCARNATION") as its voters and no learners, and no other
/// node still claiming to lead it otherwise. The same judgement as `slotraft-ctl status
/// --wait`, but against the newest metadata any node reports, so that a node that has not yet
/// learned a change cannot make it look done.
pub fn unsettled(replies: &[StatusReply]) -> Vec<String> {
    let Some(meta) = Metadata::newest(replies) else {
        return vec!["no node reports cluster metadata".to_string()];
    };
    let mut moving = Vec::new();
    for (&group, members) in &meta.intended {
        let want: BTreeSet<String> = members
            .iter()
            .map(|n| {
                let inc = meta.incarnations.get(n).map_or("?", String::as_str);
                format!("{n}.{inc}")
            })
            .collect();
        let name = if group == u32::MAX {
            "meta group".to_string()
        } else {
            format!("group {group}")
        };
        let mut led = false;
        for r in replies {
            for p in r
                .plans
                .iter()
                .filter(|p| p.group_id == group && !p.voters.is_empty())
            {
                led = true;
                let have: BTreeSet<String> = p.voters.iter().cloned().collect();
                if have != want || !p.learners.is_empty() {
                    moving.push(format!(
                        "{name} on leader {}: voters [{}] learners [{}] -> [{}]{}",
                        r.node_id,
                        p.voters.join(" "),
                        p.learners.join(" "),
                        want.iter().cloned().collect::<Vec<_>>().join(" "),
                        if p.progress.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", p.progress)
                        }
                    ));
                }
            }
        }
        if !led {
            moving.push(format!("{name}: no leader reported"));
        }
    }
    moving
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 1..=self.nodes.len() {
            // A stopped process must be continued before it can die on some kernels.
            self.resume(i);
            self.kill(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotraft::proto::admin::{GroupPlan, NodeRecord};

    fn reply(node: u64, version: u64, plans: Vec<GroupPlan>) -> StatusReply {
        StatusReply {
            node_id: node,
            metadata_version: version,
            registry: (1..=4)
                .map(|id| NodeRecord {
                    node_id: id,
                    incarnation: format!("{:016x}", id * 10 + version),
                    state: "active".into(),
                    ..NodeRecord::default()
                })
                .collect(),
            plans,
            ..StatusReply::default()
        }
    }

    fn plan(group: u32, intended: &[u64], voters: &[&str], learners: &[&str]) -> GroupPlan {
        GroupPlan {
            group_id: group,
            intended: intended.to_vec(),
            voters: voters.iter().map(|v| v.to_string()).collect(),
            learners: learners.iter().map(|v| v.to_string()).collect(),
            progress: String::new(),
        }
    }

    #[test]
    fn settled_only_when_each_leader_has_the_newest_intended_members() {
        // Version 1: group 0 on nodes 1, 2, 3 (incarnations 1 -> "..0b", 2 -> "..15", ...).
        let v1 = |n: u64| format!("{n}.{:016x}", n * 10 + 1);
        let (a, b, c, d) = (v1(1), v1(2), v1(3), v1(4));
        let led = reply(1, 1, vec![plan(0, &[1, 2, 3], &[&a, &b, &c], &[])]);
        let follower = reply(2, 1, vec![plan(0, &[1, 2, 3], &[], &[])]);
        assert!(unsettled(&[led.clone(), follower.clone()]).is_empty());
        // No leader reported.
        assert_eq!(unsettled(std::slice::from_ref(&follower)).len(), 1);
        assert_eq!(unsettled(&[]).len(), 1);
        // A move 3 -> 4 in progress: learner 4, then voters not yet the intended ones.
        let learning = reply(1, 1, vec![plan(0, &[1, 2, 4], &[&a, &b, &c], &[&d])]);
        assert_eq!(unsettled(&[learning]).len(), 1);
        let moved = reply(1, 1, vec![plan(0, &[1, 2, 4], &[&a, &b, &d], &[])]);
        assert!(unsettled(&[moved]).is_empty());
        // A newer version known to a follower only: the leader's voters are judged against it
        // (here every incarnation changed), so the change is not done.
        let newer = reply(3, 2, vec![plan(0, &[1, 2, 3], &[], &[])]);
        assert_eq!(unsettled(&[led.clone(), newer]).len(), 1);
        // Two nodes claiming the lead with different voters: not settled.
        let stale = reply(3, 1, vec![plan(0, &[1, 2, 3], &[&a, &b, &d], &[])]);
        assert_eq!(unsettled(&[led.clone(), stale]).len(), 1);
        // The meta group is judged like the others, and the leader is found by plan.
        let meta = reply(4, 1, vec![plan(u32::MAX, &[1, 2, 4], &[&a, &b, &d], &[])]);
        assert_eq!(plan_leader(&[led.clone(), meta.clone()], u32::MAX), Some(4));
        assert_eq!(plan_leader(&[led.clone(), meta.clone()], 0), Some(1));
        assert_eq!(plan_leader(&[follower], 0), None);
        let m = Metadata::newest(&[meta]).expect("metadata");
        assert_eq!(m.outsiders(u32::MAX), vec![3]);
    }
}
