//! Membership changes on real `slotraft-server` processes, driven through `slotraft-ctl` as an
//! operator would: a node that lost its disk is readmitted, replicas move between nodes.
//! Each test says in its first lines which fault or operation it applies and what it asserts.

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;

const CTL: &str = env!("CARGO_BIN_EXE_slotraft-ctl");

/// Runs `slotraft-ctl --node <node's gRPC> args...`; returns (success, stdout + stderr).
fn ctl(node: &NodeProc, args: &[&str]) -> (bool, String) {
    let addr = format!("127.0.0.1:{}", node.grpc_port);
    let out = Command::new(CTL)
        .args(["--node", &addr])
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The incarnation `node` reports in `slotraft-ctl status`.
fn incarnation(node: &NodeProc) -> String {
    let (_, status) = ctl(node, &["status"]);
    status
        .lines()
        .find_map(|l| l.strip_prefix("incarnation "))
        .and_then(|l| l.split(':').next())
        .unwrap_or_else(|| panic!("no incarnation in status:\n{status}"))
        .to_string()
}

/// Waits until `check(status of node)` holds.
fn wait_status(node: &NodeProc, what: &str, timeout: Duration, check: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        let (_, status) = ctl(node, &["status"]);
        if check(&status) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "node {}: {what} did not happen within {timeout:?}; status:\n{status}",
            node.id
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The groups `node` hosts, with its Raft state in each ("Leader", "Follower", "Learner").
fn hosted(node: &NodeProc) -> BTreeMap<u32, String> {
    let (_, status) = ctl(node, &["status"]);
    status
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let id = cols.first()?.parse().ok()?;
            let state = cols.get(2)?.to_string();
            cols.get(1)?.contains('-').then_some((id, state))
        })
        .collect()
}

/// Fault: node 2 is killed, its data directory emptied, and it is started again with its old
/// command line (a disk replaced). Operation: `slotraft-ctl replace-node 2 2 --wait`.
/// Asserts: before the operation the node is refused (hosts nothing); the operation readmits
/// its new incarnation, and `--wait` returns once every group (the meta group included) has it
/// as a voter in place of the old one; the node is a healthy member hosting as many groups as
/// before; and it holds every acknowledged write: with node 1 then killed, nodes 2 and 3 (a
/// quorum of every group only because the new incarnation votes) serve every write
/// acknowledged before the wipe, while it was refused, and after.
#[test]
fn a_wiped_node_is_readmitted_by_replace_node_and_holds_every_write() {
    let mut cluster = Cluster::start(3, &["--groups", "8"]);
    let mut client = RoutedClient::new(cluster.addrs());
    let mut acked = write_keys(&mut client, "before", 200);
    assert_eq!(acked.len(), 200);
    let groups_before = hosted(cluster.node(2)).len();
    assert_eq!(
        groups_before, 8,
        "3 nodes, 3 replicas: every node hosts every group"
    );
    let old = incarnation(cluster.node(2));

    cluster.node(2).kill();
    wipe(cluster.node(2), None);
    cluster.node(2).start();
    wait_status(cluster.node(2), "refusal", Duration::from_secs(20), |s| {
        s.contains("refused:")
    });
    let new = incarnation(cluster.node(2));
    assert_ne!(old, new);
    assert!(hosted(cluster.node(2)).is_empty(), "refused: hosts nothing");

    let mut client = RoutedClient::new(vec![cluster.node(1).addr(), cluster.node(3).addr()]);
    // Some writes fail while node 2's former groups elect new leaders; the rest must be kept.
    let while_refused = write_keys(&mut client, "refused", 200);
    assert!(
        while_refused.len() > 100,
        "nodes 1 and 3 are a quorum of every group: {} of 200 acknowledged",
        while_refused.len()
    );
    acked.extend(while_refused);

    // Asked through node 3, whichever node leads the meta group.
    let (ok, out) = ctl(cluster.node(3), &["replace-node", "2", "2", "--wait"]);
    assert!(ok, "replace-node failed:\n{out}");
    assert!(
        out.contains(&format!("readmitted as incarnation {new}")),
        "{out}"
    );
    assert!(
        out.contains("every group has its intended members"),
        "{out}"
    );

    wait_status(
        cluster.node(2),
        "membership",
        Duration::from_secs(20),
        |s| s.contains(": member"),
    );
    let groups_after = hosted(cluster.node(2));
    assert_eq!(groups_after.len(), groups_before, "{groups_after:?}");
    let (healthy, out) = ctl(cluster.node(2), &["health"]);
    assert!(healthy, "{out}");
    // Every group's voters name the new incarnation, none the old.
    let (_, status) = ctl(cluster.node(1), &["status"]);
    assert!(!status.contains(&format!("2.{old}")), "{status}");
    let group_rows = status
        .lines()
        .filter(|l| l.contains(&format!("2.{new}")) && !l.contains("led here"))
        .count();
    assert_eq!(
        group_rows, 8,
        "every slot group hosted on node 1 lists the new incarnation:\n{status}"
    );

    let mut client = RoutedClient::new(cluster.addrs());
    let after = write_keys(&mut client, "after", 100);
    assert_eq!(after.len(), 100);
    acked.extend(after);

    cluster.node(1).kill();
    let two_and_three = vec![cluster.node(2).addr(), cluster.node(3).addr()];
    assert_all_readable(two_and_three.clone(), &acked);
    let mut client = RoutedClient::new(two_and_three);
    assert_eq!(
        write_keys(&mut client, "without-1", 50).len(),
        50,
        "nodes 2 and 3 are a quorum"
    );
}

/// Operation: in a 4-node cluster (3 replicas per group, so each group leaves out one node),
/// move one replica of a group to the node that lacks it, and one replica of the meta group.
/// Asserts: `--wait` returns once the group's voters are the intended ones; the target hosts
/// the group and the source no longer does (it closed its copy and deleted its log); every
/// acknowledged write is readable throughout; a move naming a non-member or a node that is
/// already a member is refused with the reason; then with the source killed the group still
/// serves every write (the target votes).
#[test]
fn a_replica_moves_to_another_node_and_the_source_forgets_it() {
    let mut cluster = Cluster::start(4, &["--groups", "4"]);
    let mut client = RoutedClient::new(cluster.addrs());
    let acked = write_keys(&mut client, "k", 300);
    assert_eq!(acked.len(), 300);

    // Group 0's members are nodes 1, 2, 3 (consecutive from 0 mod 4): move node 2's to node 4.
    assert!(!hosted(cluster.node(4)).contains_key(&0));
    assert!(hosted(cluster.node(2)).contains_key(&0));
    let (ok, out) = ctl(
        cluster.node(1),
        &[
            "move-replica",
            "--group",
            "0",
            "--from",
            "2",
            "--to",
            "4",
            "--wait",
        ],
    );
    assert!(ok, "move-replica failed:\n{out}");
    assert!(
        out.contains("every group has its intended members"),
        "{out}"
    );
    wait_status(
        cluster.node(2),
        "group 0 closed",
        Duration::from_secs(20),
        |_| true,
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while hosted(cluster.node(2)).contains_key(&0) {
        assert!(
            Instant::now() < deadline,
            "node 2 still hosts group 0 after leaving it"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(hosted(cluster.node(4)).contains_key(&0));
    assert_all_readable(cluster.addrs(), &acked);

    // Retrying the same move is safe: nothing changes.
    let (ok, out) = ctl(
        cluster.node(3),
        &["move-replica", "--group", "0", "--from", "2", "--to", "4"],
    );
    assert!(ok && out.contains("(nothing to do)"), "{out}");
    let (ok, out) = ctl(
        cluster.node(3),
        &["move-replica", "--group", "0", "--from", "3", "--to", "4"],
    );
    assert!(
        !ok && out.contains("node 4 is already a member of slot group 0"),
        "{out}"
    );
    let (ok, out) = ctl(
        cluster.node(3),
        &["move-replica", "--group", "0", "--from", "4", "--to", "1"],
    );
    assert!(!ok && out.contains("node 1 is already a member"), "{out}");

    // The meta group (nodes 1, 2, 3) moves node 3's replica to node 4.
    let (ok, out) = ctl(
        cluster.node(4),
        &[
            "move-replica",
            "--group",
            "meta",
            "--from",
            "3",
            "--to",
            "4",
            "--wait",
        ],
    );
    assert!(ok, "moving the meta group's replica failed:\n{out}");

    // Group 0 without node 2: nodes 1, 3, 4; kill 3 and group 0 still has 1 and 4.
    cluster.node(3).kill();
    let rest = vec![cluster.node(1).addr(), cluster.node(4).addr()];
    let group0: BTreeMap<String, String> = acked
        .iter()
        .filter(|(k, _)| slotraft::cluster::slot::key_slot(k.as_bytes()) < 4096)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert!(!group0.is_empty());
    assert_all_readable(rest, &group0);
}

/// Writes keys through `entry` on a thread until `stop` is set; returns the acknowledged ones.
fn write_until(
    entry: Vec<String>,
    prefix: &'static str,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<BTreeMap<String, String>> {
    std::thread::spawn(move || {
        let mut client = RoutedClient::new(entry);
        let mut acked = BTreeMap::new();
        let mut i = 0;
        while !stop.load(Ordering::Relaxed) {
            let (k, v) = (format!("{prefix}:{i}"), format!("v{i}"));
            if let Outcome::Ok(_) = client.run(&set_cmd(&k, &v)) {
                acked.insert(k, v);
            }
            i += 1;
        }
        acked
    })
}

/// The node ids `CLUSTER SLOTS` names as masters, asked of `addr`.
fn masters(addr: &str) -> Vec<u16> {
    let mut conn = connect(addr).unwrap();
    let slots: Vec<redis::Value> = redis::cmd("CLUSTER").arg("SLOTS").query(&mut conn).unwrap();
    let mut ports: Vec<u16> = slots
        .iter()
        .filter_map(|range| match range {
            redis::Value::Array(items) => match items.get(2) {
                Some(redis::Value::Array(master)) => match master.get(1) {
                    Some(redis::Value::Int(port)) => Some(*port as u16),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect();
    ports.sort();
    ports.dedup();
    ports
}

/// Operations: a fourth node starts with `--join` (it registers and holds nothing), `add-node 4
/// --wait` while a client writes, then `remove-node 1 --wait` while a client writes; then a
/// `remove-node` that would leave groups short of replicas. Asserts: the joined node is listed
/// as joining and hosts nothing until added; once added it hosts its share of replicas and
/// leads some groups (clients see it in `CLUSTER SLOTS`); the removed node ends `removed`,
/// hosts nothing, says so in its status, and is no master in `CLUSTER SLOTS`; the refused
/// removal names the group it would leave short; every write acknowledged during both
/// operations is readable afterwards from the remaining nodes.
#[test]
fn a_node_joins_takes_its_share_and_another_is_removed_under_writes() {
    let mut cluster = Cluster::start(3, &["--groups", "6"]);
    let new = cluster.join_node(&[]);
    assert_eq!(new, 4);
    wait_status(
        cluster.node(4),
        "registration",
        Duration::from_secs(20),
        |s| s.contains("node   4  joining"),
    );
    assert!(
        hosted(cluster.node(4)).is_empty(),
        "a joining node holds nothing"
    );
    let (_, seen_by_1) = ctl(cluster.node(1), &["status"]);
    assert!(seen_by_1.contains("node   4  joining"), "{seen_by_1}");

    let stop = Arc::new(AtomicBool::new(false));
    let writer = write_until(cluster.addrs(), "adding", stop.clone());
    let (ok, out) = ctl(cluster.node(2), &["add-node", "4", "--wait"]);
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let mut acked = writer.join().unwrap();
    assert!(ok, "add-node failed:\n{out}");
    assert!(
        out.contains("every group has its intended members"),
        "{out}"
    );
    assert!(
        acked.len() > 50,
        "writes went on during the add: {}",
        acked.len()
    );
    let share = hosted(cluster.node(4)).len();
    assert!(
        share >= 4,
        "6 groups x 3 replicas over 4 nodes: node 4 hosts {share}"
    );
    // The leader balancer hands node 4 the groups it is now preferred for.
    let port4 = cluster.node(4).port;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !masters(&cluster.node(1).addr()).contains(&port4) {
        assert!(Instant::now() < deadline, "node 4 never became a master");
        std::thread::sleep(Duration::from_millis(200));
    }

    let survivors = vec![
        cluster.node(2).addr(),
        cluster.node(3).addr(),
        cluster.node(4).addr(),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let writer = write_until(survivors.clone(), "removing", stop.clone());
    let (ok, out) = ctl(cluster.node(3), &["remove-node", "1", "--wait"]);
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let during_remove = writer.join().unwrap();
    assert!(ok, "remove-node failed:\n{out}");
    assert!(out.contains("node 1 is removed"), "{out}");
    assert!(
        during_remove.len() > 50,
        "writes went on: {}",
        during_remove.len()
    );
    acked.extend(during_remove);

    wait_status(
        cluster.node(1),
        "its removal",
        Duration::from_secs(20),
        |s| s.contains("was removed from the cluster"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !hosted(cluster.node(1)).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the removed node still hosts groups"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let port1 = cluster.node(1).port;
    assert!(!masters(&cluster.node(2).addr()).contains(&port1));

    // Three nodes left, three replicas per group: removing one more would leave groups short.
    let (ok, out) = ctl(cluster.node(2), &["remove-node", "3"]);
    assert!(!ok, "{out}");
    assert!(out.contains("with 2 of its 3 replicas"), "{out}");

    cluster.node(1).kill();
    assert_all_readable(survivors, &acked);
}

/// Fault: the target of a move is down from the start, so it can never catch up. Operation:
/// `move-replica` of group 0 from node 2 to the dead node 4, then the operator moves it back
/// (4 → 2). Asserts: while the target is down the group keeps its voters (the target is a
/// learner, never promoted; the leader's status says it is catching up) and serves writes;
/// the move back settles (`--wait` returns) with the stale learner removed; node 4, restarted,
/// does not host group 0; every acknowledged write is readable.
#[test]
fn a_move_to_a_dead_node_is_never_promoted_and_can_be_moved_back() {
    let mut cluster = Cluster::start(4, &["--groups", "4"]);
    cluster.node(4).kill();
    let (ok, out) = ctl(
        cluster.node(1),
        &["move-replica", "--group", "0", "--from", "2", "--to", "4"],
    );
    assert!(ok, "{out}");

    // The leader of group 0 (one of nodes 1, 2, 3) shows node 4 as a learner catching up.
    let deadline = Instant::now() + Duration::from_secs(20);
    'found: loop {
        for id in 1..=3 {
            let (_, status) = ctl(cluster.node(id), &["status"]);
            let stuck = status.lines().any(|l| {
                l.contains("group 0 led here")
                    && l.contains("learners [4.")
                    && l.contains("catching up")
            });
            if stuck {
                assert!(
                    status.lines().any(|l| l.contains("group 0 led here")
                        && l.contains("voters [1.")
                        && l.contains(" 2.")),
                    "node 2 must still be a voter:\n{status}"
                );
                break 'found;
            }
        }
        if Instant::now() >= deadline {
            cluster.dump_logs();
            let all: Vec<String> = (1..=3)
                .map(|id| ctl(cluster.node(id), &["status"]).1)
                .collect();
            panic!(
                "group 0's leader never showed node 4 catching up:\n{}",
                all.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Group 0 (keys below slot 4096) keeps its voters, hence its quorum, while the target is
    // down: every write to it is acknowledged.
    let mut client = RoutedClient::new(cluster.addrs()[..3].to_vec());
    let mut acked = BTreeMap::new();
    for i in 0..200 {
        let (k, v) = (format!("{{b}}k{i}"), format!("v{i}"));
        assert!(slotraft::cluster::slot::key_slot(k.as_bytes()) < 4096);
        match client.run(&set_cmd(&k, &v)) {
            Outcome::Ok(_) => {
                acked.insert(k, v);
            }
            other => panic!("write {k} to group 0 not acknowledged: {other:?}"),
        }
    }

    let (ok, out) = ctl(
        cluster.node(3),
        &[
            "move-replica",
            "--group",
            "0",
            "--from",
            "4",
            "--to",
            "2",
            "--wait",
        ],
    );
    assert!(ok, "moving back did not settle:\n{out}");
    assert!(
        out.contains("every group has its intended members"),
        "{out}"
    );

    cluster.node(4).start();
    cluster.wait_healthy(Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !hosted(cluster.node(4)).contains_key(&0),
        "node 4 is not a member of group 0"
    );
    assert_all_readable(cluster.addrs(), &acked);
}
