//! A node that lost its data directory, on real `slotraft-server` processes: it comes back as
//! a new incarnation and must not be counted as the member it was (that member's votes and log
//! entries count toward commits the cluster acknowledged; the new one has none of them).
//! Each test says in its first lines which fault it injects and what it asserts.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use redis::Value;
use support::*;

const CTL: &str = env!("CARGO_BIN_EXE_slotraft-ctl");

/// `slotraft-ctl status` of `node` (stdout), and whether `health` passes.
fn ctl_status(node: &NodeProc) -> (String, bool) {
    let addr = format!("127.0.0.1:{}", node.grpc_port);
    let status = Command::new(CTL)
        .args(["--node", &addr, "status"])
        .output()
        .unwrap();
    let health = Command::new(CTL)
        .args(["--node", &addr, "health"])
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&status.stdout).into_owned(),
        health.status.success(),
    )
}

/// Waits until `node`'s status says it is refused, and returns that status.
fn wait_refused(node: &NodeProc, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let (status, healthy) = ctl_status(node);
        if status.contains("refused:") {
            assert!(!healthy, "a refused node must fail its health check");
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "node {} never reported itself refused; status:\n{status}",
            node.id
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The operator's scenario that used to lose writes (3 nodes A=1, B=2, C=3, 16 groups):
/// C is down while A and B acknowledge writes; A is killed, its data directory emptied, and
/// started again with its old command line; B goes down and C comes back.
/// Asserts: while only A (a new incarnation) and C are up, no write is acknowledged and no read
/// answers anything but an acknowledged value (the groups have one real member up, not a
/// quorum); once B returns, every acknowledged write is readable; A stays refused, says so in
/// its log and in `slotraft-ctl status`, fails `health`, and takes part in no group.
#[test]
fn a_wiped_node_is_not_counted_as_its_old_self() {
    let mut cluster = Cluster::start(3, &[]);
    let (a, b, c) = (1, 2, 3);
    let addr = |cluster: &mut Cluster, id| cluster.node(id).addr();

    let mut client = RoutedClient::new(cluster.addrs());
    let mut acked = write_keys(&mut client, "all-up", 100);
    assert_eq!(
        acked.len(),
        100,
        "a healthy cluster acknowledges every write"
    );

    cluster.node(c).kill();
    let mut client = RoutedClient::new(vec![addr(&mut cluster, a), addr(&mut cluster, b)]);
    let while_c_down = write_keys(&mut client, "c-down", 300);
    assert!(
        while_c_down.len() > 250,
        "A and B are a quorum of every group: {} of 300 acknowledged",
        while_c_down.len()
    );
    acked.extend(while_c_down.clone());

    cluster.node(a).kill();
    wipe(cluster.node(a), None);
    cluster.node(a).start();
    cluster.node(b).kill();
    cluster.node(c).start();
    // Time for A and C to elect leaders, if they (wrongly) could.
    std::thread::sleep(Duration::from_secs(4));

    let only_a_and_c = vec![addr(&mut cluster, a), addr(&mut cluster, c)];
    for (i, (key, value)) in while_c_down.iter().enumerate().take(16) {
        for node_addr in &only_a_and_c {
            let mut conn = connect(node_addr).unwrap();
            let write: redis::RedisResult<Value> =
                set_cmd(&format!("probe:{i}"), "x").query(&mut conn);
            assert!(
                write.is_err(),
                "{node_addr} acknowledged a write with only one real member of its group up: {write:?}"
            );
            let read: redis::RedisResult<Value> = get_cmd(key).query(&mut conn);
            if let Ok(v) = &read {
                assert_eq!(
                    value_str(v).as_deref(),
                    Some(value.as_str()),
                    "{node_addr} answered a read of an acknowledged key wrongly: lost write {key}"
                );
            }
        }
    }

    cluster.node(b).start();
    cluster.wait_healthy(Duration::from_secs(30));
    let b_and_c = vec![addr(&mut cluster, b), addr(&mut cluster, c)];
    assert_all_readable(b_and_c.clone(), &acked);
    let mut client = RoutedClient::new(b_and_c);
    // B and C serve new writes again.
    let after = write_keys(&mut client, "b-back", 50);
    assert_eq!(after.len(), 50, "B and C are a quorum again");

    let status = wait_refused(cluster.node(a), Duration::from_secs(10));
    assert!(
        status.contains("emptied or replaced"),
        "the refusal says why:\n{status}"
    );
    assert!(
        !status.contains("Leader") && !status.contains("Follower"),
        "a refused node hosts no slot group:\n{status}"
    );
    let log = std::fs::read_to_string(&cluster.node(a).log).unwrap();
    assert!(
        log.contains("ERROR") && log.contains("emptied or replaced"),
        "the refusal is in the node's log"
    );
    // The members notice too: the node answers as an incarnation they do not count.
    let peer_log = std::fs::read_to_string(&cluster.node(b).log).unwrap()
        + &std::fs::read_to_string(&cluster.node(c).log).unwrap();
    assert!(
        peer_log.contains("node 1 answers as incarnation"),
        "peers report the replaced node"
    );
    // Restarting it again changes nothing: it remembers it is refused.
    cluster.node(a).kill();
    cluster.node(a).start();
    wait_refused(cluster.node(a), Duration::from_secs(10));
    // Clients that enter through the refused node are redirected to the real leaders.
    let mut via_a = RoutedClient::new(vec![addr(&mut cluster, a)]);
    let (k, v) = acked.iter().next().unwrap();
    assert_eq!(
        value_str(&via_a.read(&get_cmd(k), Duration::from_secs(20))).as_deref(),
        Some(v.as_str())
    );
}

/// Fault: only the Raft log directory (`raft-log/`) of a follower is deleted while it is
/// stopped; its layout file is kept. Asserts: it is a new incarnation all the same (the
/// incarnation lives with the log), so it is refused; the other two keep serving every group
/// with every acknowledged write.
#[test]
fn an_emptied_raft_log_alone_is_a_new_incarnation() {
    let mut cluster = Cluster::start(3, &[]);
    let mut client = RoutedClient::new(cluster.addrs());
    let acked = write_keys(&mut client, "k", 100);
    assert_eq!(acked.len(), 100);
    let before = ctl_status(cluster.node(2)).0;
    assert!(before.contains(": member"), "{before}");

    cluster.node(2).kill();
    wipe(cluster.node(2), Some("raft-log"));
    cluster.node(2).start();
    let after = wait_refused(cluster.node(2), Duration::from_secs(20));
    let incarnation = |s: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix("incarnation "))
            .and_then(|l| l.split(':').next())
            .map(str::to_string)
    };
    assert_ne!(
        incarnation(&before),
        incarnation(&after),
        "a new incarnation"
    );

    let survivors = vec![cluster.node(1).addr(), cluster.node(3).addr()];
    assert_all_readable(survivors.clone(), &acked);
    let mut client = RoutedClient::new(survivors);
    assert_eq!(write_keys(&mut client, "after", 50).len(), 50);
}

/// Fault: a follower's `snapshots/` directory is deleted while it is stopped, after its log was
/// purged behind a snapshot (its Raft log and incarnation are kept). Asserts: it refuses to
/// start (exit status non-zero, an error naming the group and the gap) instead of starting
/// with a keyspace that silently lacks the purged entries; the other two serve every
/// acknowledged write.
#[test]
fn a_lost_snapshot_behind_a_purged_log_is_refused_at_start() {
    let mut cluster = Cluster::start(3, &["--groups", "2", "--snapshot-logs", "40"]);
    let mut client = RoutedClient::new(cluster.addrs());
    let acked = write_keys(&mut client, "k", 300);
    assert_eq!(acked.len(), 300);
    let node2 = format!("127.0.0.1:{}", cluster.node(2).grpc_port);
    let ok = Command::new(CTL)
        .args(["--node", &node2, "snapshot"])
        .status()
        .unwrap()
        .success();
    assert!(ok, "slotraft-ctl snapshot failed");
    std::thread::sleep(Duration::from_secs(1));

    cluster.node(2).kill();
    std::fs::remove_dir_all(cluster.node(2).dir.join("snapshots")).unwrap();
    cluster.node(2).start();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = cluster.node(2).child.as_mut().unwrap().try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "node 2 started with its snapshots gone"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    cluster.node(2).child = None;
    assert!(!status.success(), "refused with a failure exit: {status}");
    let log = std::fs::read_to_string(&cluster.node(2).log).unwrap();
    assert!(
        log.contains("the entries between are gone"),
        "the refusal says why; log:\n{log}"
    );

    assert_all_readable(vec![cluster.node(1).addr(), cluster.node(3).addr()], &acked);
}
