//! The cluster under test: N real `slotraft-server` processes with their own data directories
//! and logs, on a [`Network`], plus what the nemesis needs to act on them: `kill -9` and
//! restart, `SIGSTOP`/`SIGCONT`, the current leaders (from the admin gRPC API), leadership
//! transfers and snapshots.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};

use super::client::{Client, Outcome};
use super::network::Network;
use slotraft::proto::admin::admin_client::AdminClient;
use slotraft::proto::admin::{SnapshotRequest, StatusRequest, TransferLeaderRequest};
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
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://{}", self.node(id).grpc))?
                .connect_timeout(Duration::from_millis(500))
                .timeout(Duration::from_secs(2));
        Ok(AdminClient::new(endpoint.connect().await?))
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

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 1..=self.nodes.len() {
            // A stopped process must be continued before it can die on some kernels.
            self.resume(i);
            self.kill(i);
        }
    }
}
