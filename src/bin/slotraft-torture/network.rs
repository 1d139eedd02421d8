//! The network the nodes live on, and real partitions of it.
//!
//! `netns` mode: each node runs in its own network namespace with its own address
//! (`10.213.S.i/24`) on a veth pair attached to a bridge in the root namespace; the bridge has
//! `10.213.S.254`, so the harness (root namespace) reaches every node, and nodes reach each
//! other through the bridge. Every node can use the same ports, and the `--initial-cluster`
//! list is the same for all (it names each node by its own address). A partition is a set of
//! nftables DROP rules *inside* each node's namespace (a `blocked` address set hooked on input
//! and output): node-to-node traffic is cut in both directions while the harness, whose address
//! is never blocked, keeps reaching nodes on every side. Healing flushes the sets.
//!
//! `loopback` mode: all nodes on 127.0.0.1 with distinct ports; no partitions (for machines
//! where namespaces are not available).
//!
//! Everything created is named after this process (`st<pid>…`) and removed on drop.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

/// How nodes are addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum NetMode {
    /// One network namespace per node, partitions with nftables.
    Netns,
    /// Loopback only, no partitions.
    Loopback,
}

pub struct Network {
    mode: NetMode,
    /// Prefix of every name created (namespaces, links).
    tag: String,
    /// Third octet of 10.213.S.0/24.
    subnet: u8,
    nodes: usize,
    /// Whether the FORWARD accept rule for the bridge was inserted (and must be removed).
    forward_rule: bool,
    /// Base port in loopback mode.
    base_port: u16,
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    run(Command::new("ip").args(args))
}

const RULES: &str = "table inet torture {
  set blocked { type ipv4_addr; }
  chain input { type filter hook input priority 0; policy accept; ip saddr @blocked drop; }
  chain output { type filter hook output priority 0; policy accept; ip daddr @blocked drop; }
}
";

impl Network {
    /// Loopback mode: node i (1-based) gets RESP port `base_port + i`.
    pub fn loopback(nodes: usize, base_port: u16) -> Network {
        Network {
            mode: NetMode::Loopback,
            tag: String::new(),
            subnet: 0,
            nodes,
            forward_rule: false,
            base_port,
        }
    }

    /// Creates the bridge and one namespace per node (needs root, `ip` and `nft`).
    pub fn netns(nodes: usize) -> anyhow::Result<Network> {
        let pid = std::process::id();
        let tag = format!("st{}", pid % 100_000);
        // A /24 no existing interface uses.
        let used = String::from_utf8_lossy(
            &Command::new("ip")
                .args(["-4", "-o", "addr"])
                .output()
                .context("running ip (install iproute2)")?
                .stdout,
        )
        .into_owned();
        let subnet = (0..250u32)
            .map(|i| ((pid + i) % 250) as u8)
            .find(|s| !used.contains(&format!("10.213.{s}.")))
            .context("no free 10.213.x.0/24 subnet")?;
        let mut net = Network {
            mode: NetMode::Netns,
            tag,
            subnet,
            nodes,
            forward_rule: false,
            base_port: 6379,
        };
        net.create().inspect_err(|_| net.destroy())?;
        Ok(net)
    }

    fn bridge(&self) -> String {
        format!("{}br", self.tag)
    }
    fn ns(&self, node: usize) -> String {
        format!("{}n{node}", self.tag)
    }
    fn veth(&self, node: usize) -> String {
        format!("{}v{node}", self.tag)
    }

    fn create(&mut self) -> anyhow::Result<()> {
        let br = self.bridge();
        ip(&["link", "add", &br, "type", "bridge"])?;
        ip(&[
            "addr",
            "add",
            &format!("10.213.{}.254/24", self.subnet),
            "dev",
            &br,
        ])?;
        ip(&["link", "set", &br, "up"])?;
        // Docker-style hosts drop forwarded (and, with br_netfilter, bridged) packets by
        // default; let this bridge's own traffic through.
        if run(
            Command::new("iptables").args(["-I", "FORWARD", "-i", &br, "-o", &br, "-j", "ACCEPT"])
        )
        .is_ok()
        {
            self.forward_rule = true;
        }
        for i in 1..=self.nodes {
            let (ns, veth) = (self.ns(i), self.veth(i));
            ip(&["netns", "add", &ns])?;
            ip(&[
                "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ])?;
            ip(&["link", "set", &veth, "master", &br, "up"])?;
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{}/24", self.host(i)),
                "dev",
                "eth0",
            ])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            self.nft(i, RULES)?;
        }
        Ok(())
    }

    fn nft(&self, node: usize, script: &str) -> anyhow::Result<()> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns(node), "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("running nft (install nftables)")?;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(script.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "nft in {} failed: {}",
                self.ns(node),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    fn destroy(&mut self) {
        if self.mode != NetMode::Netns {
            return;
        }
        for i in 1..=self.nodes {
            let _ = ip(&["link", "del", &self.veth(i)]);
            let _ = ip(&["netns", "del", &self.ns(i)]);
        }
        let br = self.bridge();
        let _ = ip(&["link", "del", &br]);
        if self.forward_rule {
            let _ = run(Command::new("iptables")
                .args(["-D", "FORWARD", "-i", &br, "-o", &br, "-j", "ACCEPT"]));
            self.forward_rule = false;
        }
    }

    /// Whether partitions are possible (`netns` mode).
    pub fn can_partition(&self) -> bool {
        self.mode == NetMode::Netns
    }

    /// Node `i`'s address (1-based).
    pub fn host(&self, node: usize) -> String {
        match self.mode {
            NetMode::Netns => format!("10.213.{}.{node}", self.subnet),
            NetMode::Loopback => "127.0.0.1".into(),
        }
    }

    /// Node `i`'s RESP port.
    pub fn port(&self, node: usize) -> u16 {
        match self.mode {
            NetMode::Netns => self.base_port,
            NetMode::Loopback => self.base_port + node as u16,
        }
    }

    /// The command that runs `program` as node `i` (inside its namespace in `netns` mode;
    /// `ip netns exec` execs, so the child's pid is the server's).
    pub fn command(&self, node: usize, program: &std::path::Path) -> Command {
        match self.mode {
            NetMode::Netns => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", &self.ns(node)]).arg(program);
                c
            }
            NetMode::Loopback => Command::new(program),
        }
    }

    /// Cuts every link in `cut` (pairs of 1-based node ids, both directions) and heals all
    /// others.
    pub fn partition(&self, cut: &BTreeSet<(usize, usize)>) -> anyhow::Result<()> {
        if self.mode != NetMode::Netns {
            bail!("partitions need --net netns");
        }
        for i in 1..=self.nodes {
            let blocked: Vec<String> = (1..=self.nodes)
                .filter(|&j| cut.contains(&(i.min(j), i.max(j))) && i != j)
                .map(|j| self.host(j))
                .collect();
            let mut script = String::from("flush set inet torture blocked\n");
            if !blocked.is_empty() {
                script.push_str(&format!(
                    "add element inet torture blocked {{ {} }}\n",
                    blocked.join(", ")
                ));
            }
            self.nft(i, &script)?;
        }
        Ok(())
    }

    /// Removes every partition.
    pub fn heal(&self) -> anyhow::Result<()> {
        if self.mode != NetMode::Netns {
            return Ok(());
        }
        self.partition(&BTreeSet::new())
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        self.destroy();
    }
}
