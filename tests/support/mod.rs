//! Test support: real `slotraft-server` processes on loopback with temporary data dirs, and a
//! small client that follows `-MOVED` like a cluster client does.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis::{RedisResult, Value};

pub const SERVER: &str = env!("CARGO_BIN_EXE_slotraft-server");

/// A free loopback port (the OS picks it; we release it for the server to take).
pub fn free_port() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        // RESP port and gRPC port = port + 10000 must both fit and be free.
        if port < 55000 && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
}

pub struct NodeProc {
    pub id: u64,
    pub port: u16,
    pub grpc_port: u16,
    pub dir: PathBuf,
    pub args: Vec<String>,
    pub child: Option<Child>,
    pub log: PathBuf,
    /// `RUST_LOG` for this node.
    pub log_filter: String,
}

impl NodeProc {
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "node {} already running", self.id);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(SERVER)
            .args(&self.args)
            .env("RUST_LOG", &self.log_filter)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start slotraft-server");
        self.child = Some(child);
    }

    /// `kill -9`: no chance to flush anything.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let ok = Command::new("kill")
                .arg(format!("-{sig}"))
                .arg(c.id().to_string())
                .status()
                .unwrap()
                .success();
            assert!(ok, "kill -{sig} failed");
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        if let Some(c) = &self.child {
            // A stopped process ignores SIGKILL until continued on some kernels; continue first.
            let _ = Command::new("kill")
                .arg("-CONT")
                .arg(c.id().to_string())
                .status();
        }
        self.kill();
    }
}

pub struct Cluster {
    pub nodes: Vec<NodeProc>,
    _tmp: tempfile::TempDir,
}

impl Cluster {
    /// Starts `n` nodes that form one cluster; `extra` is appended to every node's arguments.
    pub fn start(n: usize, extra: &[&str]) -> Cluster {
        Self::start_with_log_filter(n, extra, "info,openraft=error")
    }

    /// Like `start`, with the nodes' `RUST_LOG` set to `filter`.
    pub fn start_with_log_filter(n: usize, extra: &[&str], filter: &str) -> Cluster {
        let tmp = tempfile::tempdir().unwrap();
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let initial: Vec<String> = ports
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{}=127.0.0.1:{}@{}", i + 1, p, p + 10000))
            .collect();
        let initial = initial.join(",");
        let mut nodes = Vec::new();
        for (i, &port) in ports.iter().enumerate() {
            let id = (i + 1) as u64;
            let dir = tmp.path().join(format!("node{id}"));
            let mut args = vec![
                "--node-id".to_string(),
                id.to_string(),
                "--port".into(),
                port.to_string(),
                "--dir".into(),
                dir.display().to_string(),
                "--initial-cluster".into(),
                initial.clone(),
            ];
            args.extend(with_test_timings(extra));
            let log = tmp.path().join(format!("node{id}.log"));
            let mut node = NodeProc {
                id,
                port,
                grpc_port: port + 10000,
                dir,
                args,
                child: None,
                log,
                log_filter: filter.to_string(),
            };
            node.start();
            nodes.push(node);
        }
        let cluster = Cluster { nodes, _tmp: tmp };
        cluster.wait_healthy(Duration::from_secs(30));
        cluster
    }

    /// Starts one more node that joins the cluster through node 1 (`--join`); it holds
    /// nothing until `slotraft-ctl add-node`. Returns its id.
    pub fn join_node(&mut self, extra: &[&str]) -> u64 {
        let id = self.nodes.len() as u64 + 1;
        let port = free_port();
        let base = self.nodes[0].dir.parent().unwrap().to_path_buf();
        let dir = base.join(format!("node{id}"));
        let mut args: Vec<String> = vec![
            "--node-id".into(),
            id.to_string(),
            "--port".into(),
            port.to_string(),
            "--dir".into(),
            dir.display().to_string(),
            "--join".into(),
            format!("127.0.0.1:{}", self.nodes[0].grpc_port),
        ];
        args.extend(with_test_timings(extra));
        let mut node = NodeProc {
            id,
            port,
            grpc_port: port + 10000,
            dir,
            args,
            child: None,
            log: base.join(format!("node{id}.log")),
            log_filter: self.nodes[0].log_filter.clone(),
        };
        node.start();
        self.nodes.push(node);
        id
    }

    pub fn node(&mut self, id: u64) -> &mut NodeProc {
        &mut self.nodes[(id - 1) as usize]
    }

    /// Waits until every running node reports every slot group with a leader.
    pub fn wait_healthy(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        for node in self.nodes.iter().filter(|n| n.child.is_some()) {
            loop {
                let ok = connect(&node.addr())
                    .and_then(|mut c| redis::cmd("CLUSTER").arg("INFO").query::<String>(&mut c))
                    .map(|info| info.contains("cluster_state:ok"))
                    .unwrap_or(false);
                if ok {
                    break;
                }
                if Instant::now() > deadline {
                    self.dump_logs();
                    panic!("node {} not healthy within {timeout:?}", node.id);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    pub fn dump_logs(&self) {
        for n in &self.nodes {
            let text = std::fs::read_to_string(&n.log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            eprintln!("---- node {} log (last 40 lines) ----", n.id);
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }

    pub fn addrs(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| n.child.is_some())
            .map(|n| n.addr())
            .collect()
    }

    /// The node id that leads the most slot groups, from `CLUSTER SLOTS` of a running node.
    pub fn busiest_leader(&self) -> u64 {
        let mut counts: HashMap<u16, usize> = HashMap::new();
        let addr = self.addrs()[0].clone();
        let mut c = connect(&addr).unwrap();
        let slots: Vec<Value> = redis::cmd("CLUSTER").arg("SLOTS").query(&mut c).unwrap();
        for s in slots {
            if let Value::Array(items) = s {
                // Count slots, not entries: a master's adjacent groups are one range.
                if let (Value::Int(start), Value::Int(end), Value::Array(master)) =
                    (&items[0], &items[1], &items[2])
                {
                    if let Value::Int(port) = master[1] {
                        *counts.entry(port as u16).or_default() += (end - start + 1) as usize;
                    }
                }
            }
        }
        let port = counts.into_iter().max_by_key(|(_, c)| *c).unwrap().0;
        self.nodes.iter().find(|n| n.port == port).unwrap().id
    }
}

pub fn connect(addr: &str) -> RedisResult<redis::Connection> {
    let client = redis::Client::open(format!("redis://{addr}/"))?;
    let c = client.get_connection_with_timeout(Duration::from_secs(2))?;
    c.set_read_timeout(Some(Duration::from_secs(15)))?;
    c.set_write_timeout(Some(Duration::from_secs(5)))?;
    Ok(c)
}

/// What one command ended with, from the client's point of view.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Value),
    /// A definite error reply (the command did not happen).
    Failed(String),
    /// Timeout, connection loss or an explicit "outcome unknown": may or may not have happened.
    Unknown(String),
}

/// Follows `-MOVED` across nodes, keeping one connection per address.
pub struct RoutedClient {
    conns: HashMap<String, redis::Connection>,
    entry: Vec<String>,
}

impl RoutedClient {
    pub fn new(entry: Vec<String>) -> Self {
        Self {
            conns: HashMap::new(),
            entry,
        }
    }

    pub fn run(&mut self, cmd: &redis::Cmd) -> Outcome {
        let mut addr = self.entry[0].clone();
        let mut entry_idx = 0;
        for _ in 0..20 {
            let conn = match self.conns.get_mut(&addr) {
                Some(c) => c,
                None => match connect(&addr) {
                    Ok(c) => self.conns.entry(addr.clone()).or_insert(c),
                    Err(_) => {
                        // This node is down: try the next entry point.
                        entry_idx += 1;
                        addr = self.entry[entry_idx % self.entry.len()].clone();
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                },
            };
            match cmd.query::<Value>(conn) {
                Ok(v) => return Outcome::Ok(v),
                Err(e) if e.kind() == redis::ErrorKind::Moved => {
                    let (a, _) = e.redirect_node().unwrap();
                    addr = a.to_string();
                }
                Err(e) if e.code() == Some("CLUSTERDOWN") || e.code() == Some("TRYAGAIN") => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() => {
                    self.conns.remove(&addr);
                    return Outcome::Unknown(e.to_string());
                }
                Err(e) if e.code() == Some("OUTCOMEUNKNOWN") => {
                    return Outcome::Unknown(e.to_string())
                }
                Err(e) => return Outcome::Failed(e.to_string()),
            }
        }
        Outcome::Unknown("too many redirects".into())
    }

    /// Runs a read until it gets a definite answer (reads are safe to retry).
    pub fn read(&mut self, cmd: &redis::Cmd, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            match self.run(cmd) {
                Outcome::Ok(v) => return v,
                other if Instant::now() > deadline => panic!("read did not succeed: {other:?}"),
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

pub fn set_cmd(key: &str, value: &str) -> redis::Cmd {
    let mut c = redis::cmd("SET");
    c.arg(key).arg(value);
    c
}

pub fn get_cmd(key: &str) -> redis::Cmd {
    let mut c = redis::cmd("GET");
    c.arg(key);
    c
}

/// A bulk string reply as text; `None` for nil (anything else is a test failure).
pub fn value_str(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Nil => None,
        other => panic!("unexpected reply {other:?}"),
    }
}

/// Writes `count` keys through `client`; returns the acknowledged ones (key → value).
pub fn write_keys(
    client: &mut RoutedClient,
    prefix: &str,
    count: usize,
) -> BTreeMap<String, String> {
    let mut acked = BTreeMap::new();
    for i in 0..count {
        let (k, v) = (format!("{prefix}:{i}"), format!("v{i}-{prefix}"));
        if let Outcome::Ok(_) = client.run(&set_cmd(&k, &v)) {
            acked.insert(k, v);
        }
    }
    acked
}

/// Reads every acknowledged key through the nodes at `entry` (following `-MOVED`) and fails
/// the test, counting them, if any is missing or changed.
pub fn assert_all_readable(entry: Vec<String>, acked: &BTreeMap<String, String>) {
    let mut client = RoutedClient::new(entry);
    let mut missing = Vec::new();
    for (k, v) in acked {
        let got = value_str(&client.read(&get_cmd(k), Duration::from_secs(20)));
        if got.as_deref() != Some(v.as_str()) {
            missing.push((k.clone(), got));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes lost or changed, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
}

/// Files an interrupted or refused snapshot transfer left in a node's `snapshots/`.
pub fn snapshot_leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".recv-"))
        .collect()
}

/// Empties a stopped node's data directory, or only its subdirectory `only`.
pub fn wipe(node: &NodeProc, only: Option<&str>) {
    match only {
        Some(sub) => std::fs::remove_dir_all(node.dir.join(sub)).unwrap(),
        None => {
            for entry in std::fs::read_dir(&node.dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    std::fs::remove_dir_all(&path).unwrap();
                } else {
                    std::fs::remove_file(&path).unwrap();
                }
            }
        }
    }
}

/// `extra`, preceded by the test timings it does not set itself (a flag may appear only once).
fn with_test_timings(extra: &[&str]) -> Vec<String> {
    let mut args = Vec::new();
    for (flag, value) in [
        ("--election-timeout-ms", "500"),
        ("--heartbeat-ms", "100"),
        ("--write-timeout-ms", "3000"),
    ] {
        if !extra.contains(&flag) {
            args.extend([flag.to_string(), value.to_string()]);
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}
