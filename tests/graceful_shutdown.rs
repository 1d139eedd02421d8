//! Graceful stop of a leader under write load: three real server processes; the node that
//! leads the most slot groups gets SIGTERM (what `docker-compose stop` and systemd send) while
//! four clients write continuously; later it is restarted and the then-busiest leader gets
//! SIGTERM too (the restarted node got groups back through the leader balancer).
//!
//! Asserts: the writers see no reply other than `+OK` and `-MOVED` — no `-CLUSTERDOWN`,
//! `-TRYAGAIN`, `-OUTCOMEUNKNOWN`, and no connection closed under a pending command; each
//! stopped node exits with status 0, having handed off every group it led and closed every
//! client connection before its stop timeout (its logged stop report says `still_led=0
//! open_connections=0`); every acknowledged write is readable afterwards. How long the stop
//! took is printed, not asserted (machines are noisy).
//!
//! The writers behave like cluster clients: they keep a slot map from `CLUSTER SLOTS`, follow
//! `-MOVED` (refreshing the map), check a pooled connection is still open before reusing it
//! (as redis-py does), and try another node when a connect is refused (nothing was sent).

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::Value;
use slotraft::cluster::slot::key_slot;
use support::*;

/// One raw RESP connection: lets the writer see every reply exactly as the server sent it.
struct RawConn {
    reader: BufReader<TcpStream>,
}

impl RawConn {
    fn open(addr: &str) -> std::io::Result<RawConn> {
        let sock_addr = addr
            .parse()
            .map_err(|e| std::io::Error::other(format!("{addr}: {e}")))?;
        let s = TcpStream::connect_timeout(&sock_addr, Duration::from_secs(1))?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        s.set_nodelay(true)?;
        Ok(RawConn {
            reader: BufReader::new(s),
        })
    }

    /// False once the server has closed it (EOF pending): checked before reuse, like
    /// redis-py's `can_read()` check when a connection leaves the pool.
    fn is_open(&self) -> bool {
        let s = self.reader.get_ref();
        if !self.reader.buffer().is_empty() || s.set_nonblocking(true).is_err() {
            return false;
        }
        let mut byte = [0u8; 1];
        let open =
            matches!(s.peek(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        let _ = s.set_nonblocking(false);
        open
    }

    /// Sends `SET key value` and returns the reply line (`+OK`, `-MOVED ...`, ...).
    fn set(&mut self, key: &str, value: &str) -> std::io::Result<String> {
        let req = format!(
            "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
            key.len(),
            value.len()
        );
        self.reader.get_mut().write_all(req.as_bytes())?;
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other("connection closed by the server"));
        }
        Ok(line.trim_end().to_string())
    }
}

#[derive(Default)]
struct WriterReport {
    acked: Vec<String>,
    moved: usize,
    errors: Vec<String>,
}

/// A cluster-client-like writer that reports every reply other than `+OK`/`-MOVED`.
struct Writer {
    entries: Vec<String>,
    slots: Vec<(u16, u16, String)>,
    conns: HashMap<String, RawConn>,
}

impl Writer {
    fn new(entries: Vec<String>) -> Writer {
        let mut w = Writer {
            entries,
            slots: Vec::new(),
            conns: HashMap::new(),
        };
        w.refresh_slots();
        w
    }

    /// Reloads the slot map from the first node that answers `CLUSTER SLOTS`.
    fn refresh_slots(&mut self) {
        for addr in self.entries.clone() {
            let Ok(mut c) = connect(&addr) else { continue };
            let Ok(slots) = redis::cmd("CLUSTER")
                .arg("SLOTS")
                .query::<Vec<Value>>(&mut c)
            else {
                continue;
            };
            let mut map = Vec::new();
            for s in slots {
                if let Value::Array(items) = s {
                    if let (Value::Int(a), Value::Int(b), Value::Array(master)) =
                        (&items[0], &items[1], &items[2])
                    {
                        if let (Value::BulkString(host), Value::Int(port)) =
                            (&master[0], &master[1])
                        {
                            let host = String::from_utf8_lossy(host);
                            map.push((*a as u16, *b as u16, format!("{host}:{port}")));
                        }
                    }
                }
            }
            self.slots = map;
            return;
        }
    }

    fn addr_for(&self, slot: u16) -> String {
        self.slots
            .iter()
            .find(|(a, b, _)| (*a..=*b).contains(&slot))
            .map(|(_, _, addr)| addr.clone())
            .unwrap_or_else(|| self.entries[0].clone())
    }

    fn write(&mut self, key: &str, report: &mut WriterReport) {
        let slot = key_slot(key.as_bytes());
        let mut addr = self.addr_for(slot);
        for _ in 0..16 {
            if self.conns.get(&addr).is_some_and(|c| !c.is_open()) {
                self.conns.remove(&addr);
            }
            if !self.conns.contains_key(&addr) {
                match RawConn::open(&addr) {
                    Ok(c) => {
                        self.conns.insert(addr.clone(), c);
                    }
                    Err(_) => {
                        // Refused: that node is down and nothing was sent. Ask another node
                        // for the slot map, as cluster clients do.
                        self.entries.rotate_left(1);
                        self.refresh_slots();
                        addr = self.addr_for(slot);
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                }
            }
            let conn = self.conns.get_mut(&addr).expect("connection just inserted");
            match conn.set(key, key) {
                Ok(reply) if reply == "+OK" => {
                    report.acked.push(key.to_string());
                    return;
                }
                Ok(reply) if reply.starts_with("-MOVED ") => {
                    report.moved += 1;
                    addr = reply.rsplit(' ').next().unwrap_or_default().to_string();
                    self.refresh_slots();
                }
                Ok(reply) => {
                    report.errors.push(format!("{key} at {addr}: {reply}"));
                    return;
                }
                Err(e) => {
                    self.conns.remove(&addr);
                    report.errors.push(format!("{key} at {addr}: {e}"));
                    return;
                }
            }
        }
        report.errors.push(format!("{key}: too many redirects"));
    }
}

/// Starts `n` writer threads writing distinct keys until `stop` is set.
fn start_writers(
    n: usize,
    entries: Vec<String>,
    round: &str,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<WriterReport>> {
    (0..n)
        .map(|t| {
            let entries = entries.clone();
            let stop = stop.clone();
            let prefix = format!("{round}-w{t}");
            std::thread::spawn(move || {
                let mut writer = Writer::new(entries);
                let mut report = WriterReport::default();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    writer.write(&format!("{prefix}-{i}"), &mut report);
                    i += 1;
                }
                report
            })
        })
        .collect()
}

/// SIGTERMs node `id` and waits for it to exit; returns how long that took.
fn terminate(cluster: &mut Cluster, id: u64) -> Duration {
    let node = cluster.node(id);
    let started = Instant::now();
    node.signal("TERM");
    let mut child = node.child.take().expect("node running");
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let took = started.elapsed();
            assert!(
                status.success(),
                "node {id} exited with {status} after SIGTERM"
            );
            return took;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("node {id} did not exit within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One round: writers run, the busiest leader is SIGTERMed, writers run on, then stop.
fn stop_leader_under_load(cluster: &mut Cluster, round: &str) -> (u64, Duration, WriterReport) {
    let victim = cluster.busiest_leader();
    let stop = Arc::new(AtomicBool::new(false));
    let writers = start_writers(4, cluster.addrs(), round, stop.clone());
    std::thread::sleep(Duration::from_millis(1500));
    let took = terminate(cluster, victim);
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let mut total = WriterReport::default();
    for w in writers {
        let r = w.join().expect("writer thread");
        total.acked.extend(r.acked);
        total.moved += r.moved;
        total.errors.extend(r.errors);
    }
    eprintln!(
        "{round}: node {victim} exited {took:?} after SIGTERM; {} writes acknowledged, {} MOVED followed, {} errors",
        total.acked.len(),
        total.moved,
        total.errors.len()
    );
    (victim, took, total)
}

/// The last stop report node `id` logged (`… stopped led_at_start=… still_led=…
/// open_connections=… elapsed_ms=…`).
fn stop_report(cluster: &Cluster, id: u64) -> String {
    let Some(node) = cluster.nodes.iter().find(|n| n.id == id) else {
        return String::new();
    };
    let text = std::fs::read_to_string(&node.log).unwrap_or_default();
    text.lines()
        .rev()
        .find(|l| l.contains("still_led="))
        .unwrap_or_default()
        .to_string()
}

fn assert_clean(cluster: &Cluster, round: &str, victim: u64, report: &WriterReport) {
    if !report.errors.is_empty() {
        cluster.dump_logs();
    }
    assert!(
        report.errors.is_empty(),
        "{round}: writers saw errors other than MOVED during a graceful stop: {:?}",
        &report.errors[..report.errors.len().min(10)]
    );
    let stopped = stop_report(cluster, victim);
    eprintln!("{round}: node {victim} stop report: {stopped}");
    assert!(
        stopped.contains("still_led=0 ") && stopped.contains("open_connections=0 "),
        "{round}: node {victim} did not hand off everything and drain its clients before its \
         stop timeout: {stopped:?}"
    );
    assert!(
        report.acked.len() > 100,
        "{round}: too few writes to mean anything"
    );
}

fn assert_readable(cluster: &Cluster, keys: &[String]) {
    let mut reader = RoutedClient::new(cluster.addrs());
    for key in keys {
        let v = reader.read(&get_cmd(key), Duration::from_secs(10));
        assert_eq!(
            v,
            Value::BulkString(key.clone().into_bytes()),
            "acknowledged write of {key} is not readable"
        );
    }
}

#[test]
fn sigterm_hands_off_leadership_without_client_errors() {
    let mut cluster = Cluster::start(3, &[]);

    let (victim, _, first) = stop_leader_under_load(&mut cluster, "r1");
    assert_clean(&cluster, "r1", victim, &first);
    assert_readable(&cluster, &first.acked);

    // Back up; the balancer returns its preferred groups once it has caught up.
    cluster.node(victim).start();
    cluster.wait_healthy(Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(5));

    let (victim, _, second) = stop_leader_under_load(&mut cluster, "r2");
    assert_clean(&cluster, "r2", victim, &second);
    assert_readable(&cluster, &second.acked);
}
