//! Three real `slotraft-server` processes on loopback, with faults injected by signals.
//! Each test says in its first lines which fault it injects and what it asserts.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use redis::Value;
use support::*;

/// Fault: `kill -9` of the node leading the most slot groups, while a client keeps writing.
/// Asserts: every write acknowledged before, during and after the kill is readable through the
/// new leaders.
#[test]
fn acknowledged_writes_survive_kill_of_leader() {
    let mut cluster = Cluster::start(3, &[]);
    let mut client = RoutedClient::new(cluster.addrs());
    let mut acked = write_keys(&mut client, "before", 300);
    assert_eq!(
        acked.len(),
        300,
        "a healthy cluster acknowledges every write"
    );
    let victim = cluster.busiest_leader();
    cluster.node(victim).kill();
    let survivors: Vec<String> = cluster.addrs();
    let mut client = RoutedClient::new(survivors);
    acked.extend(write_keys(&mut client, "during", 300));
    assert!(
        acked.len() > 300,
        "the surviving majority keeps accepting writes"
    );
    assert_all_readable(cluster.addrs(), &acked);
    // The old leader comes back as a follower and everything is still there.
    cluster.node(victim).start();
    cluster.wait_healthy(Duration::from_secs(30));
    assert_all_readable(cluster.addrs(), &acked);
}

/// Fault: `kill -9` of all three nodes at once, then a restart.
/// Asserts: every acknowledged write is readable after the restart (the log was fsynced
/// before each acknowledgement, on a quorum).
#[test]
fn acknowledged_writes_survive_kill_of_all_nodes() {
    let mut cluster = Cluster::start(3, &[]);
    let mut client = RoutedClient::new(cluster.addrs());
    let mut acked = write_keys(&mut client, "k", 500);
    let incr: i64 = (0..50)
        .filter(|_| {
            matches!(
                client.run(redis::cmd("INCR").arg("counter")),
                Outcome::Ok(_)
            )
        })
        .count() as i64;
    assert_eq!(acked.len(), 500);
    for n in &mut cluster.nodes {
        n.kill();
    }
    for n in &mut cluster.nodes {
        n.start();
    }
    cluster.wait_healthy(Duration::from_secs(30));
    assert_all_readable(cluster.addrs(), &acked);
    let mut client = RoutedClient::new(cluster.addrs());
    let counter = value_str(&client.read(&get_cmd("counter"), Duration::from_secs(10)));
    assert_eq!(
        counter,
        Some(incr.to_string()),
        "INCR applied exactly once per acknowledgement"
    );
    acked.extend(write_keys(&mut client, "after", 50));
    assert_eq!(acked.len(), 550, "the restarted cluster takes writes again");
}

/// Fault: both followers of every group are paused (`kill -STOP`), so the leader is cut off
/// from its quorum while clients can still reach it.
/// Asserts: the cut-off leader acknowledges no write and answers no linearizable read; after
/// the followers resume, the cluster serves reads and writes again.
#[test]
fn leader_cut_off_from_quorum_acknowledges_nothing() {
    let mut cluster = Cluster::start(3, &[]);
    let mut client = RoutedClient::new(cluster.addrs());
    assert!(matches!(
        client.run(&set_cmd("k", "before")),
        Outcome::Ok(_)
    ));
    // The node that leads the group of "k".
    let leader_addr = match get_cmd("k").query::<Value>(&mut connect(&cluster.addrs()[0]).unwrap())
    {
        Ok(_) => cluster.addrs()[0].clone(),
        Err(e) => e.redirect_node().expect("MOVED").0.to_string(),
    };
    let leader = cluster
        .nodes
        .iter()
        .find(|n| n.addr() == leader_addr)
        .unwrap()
        .id;
    let others: Vec<u64> = cluster
        .nodes
        .iter()
        .map(|n| n.id)
        .filter(|&id| id != leader)
        .collect();
    for &id in &others {
        cluster.node(id).signal("STOP");
    }
    let mut conn = connect(&leader_addr).unwrap();
    let started = Instant::now();
    let write = set_cmd("k", "while-cut-off").query::<Value>(&mut conn);
    assert!(
        write.is_err(),
        "a leader without quorum acknowledged a write: {write:?}"
    );
    let read = get_cmd("k").query::<Value>(&mut conn);
    assert!(
        read.is_err(),
        "a leader without quorum answered a linearizable read: {read:?}"
    );
    eprintln!(
        "cut-off leader answered write and read with errors after {:?}: {:?} / {:?}",
        started.elapsed(),
        write,
        read
    );
    for &id in &others {
        cluster.node(id).signal("CONT");
    }
    cluster.wait_healthy(Duration::from_secs(30));
    let mut client = RoutedClient::new(cluster.addrs());
    assert!(matches!(client.run(&set_cmd("k", "after")), Outcome::Ok(_)));
    assert_eq!(
        value_str(&client.read(&get_cmd("k"), Duration::from_secs(10))).as_deref(),
        Some("after")
    );
}

/// Fault: none. Asserts: a follower answers `-MOVED <slot> <leader>` with the address that
/// `CLUSTER SLOTS` names as the slot's master, and `READONLY` lets it serve the read itself.
#[test]
fn follower_redirects_to_leader_with_moved() {
    let cluster = Cluster::start(3, &[]);
    let mut client = RoutedClient::new(cluster.addrs());
    assert!(matches!(client.run(&set_cmd("foo", "bar")), Outcome::Ok(_)));
    let mut moved = None;
    for addr in cluster.addrs() {
        let mut c = connect(&addr).unwrap();
        if let Err(e) = set_cmd("foo", "bar2").query::<Value>(&mut c) {
            assert_eq!(e.kind(), redis::ErrorKind::Moved, "{e}");
            let (to, slot) = e.redirect_node().unwrap();
            assert_eq!(slot, 12182, "foo hashes to slot 12182");
            moved = Some((addr, to.to_string()));
            break;
        }
    }
    let (follower, leader) = moved.expect("two of three nodes are followers of foo's group");
    let _: () = redis::cmd("SET")
        .arg("foo")
        .arg("bar2")
        .query(&mut connect(&leader).unwrap())
        .unwrap();
    let slots: Vec<Value> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query(&mut connect(&follower).unwrap())
        .unwrap();
    let owner = slots.iter().find_map(|s| match s {
        Value::Array(items) => {
            let (Value::Int(start), Value::Int(end)) = (&items[0], &items[1]) else {
                return None;
            };
            if (*start..=*end).contains(&12182) {
                if let Value::Array(master) = &items[2] {
                    let host = value_str(&master[0]).unwrap();
                    let Value::Int(port) = master[1] else {
                        return None;
                    };
                    return Some(format!("{host}:{port}"));
                }
            }
            None
        }
        _ => None,
    });
    assert_eq!(owner.as_deref(), Some(leader.as_str()));
    let mut c = connect(&follower).unwrap();
    let _: () = redis::cmd("READONLY").query(&mut c).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let v: Option<String> = redis::cmd("GET").arg("foo").query(&mut c).unwrap();
        if v.as_deref() == Some("bar2") {
            break;
        }
        assert!(Instant::now() < deadline, "follower never caught up: {v:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Fault: none; heartbeats 2 s apart. Asserts: after a write and no more, both `READONLY`
/// followers serve it within 500 ms, four times over. The leader holds a commit-only
/// AppendEntries for a few milliseconds hoping for an entry to ride on (vendored openraft
/// patch); when none comes it must still send it rather than leave the followers behind until
/// the next heartbeat (a heartbeat lands in four such windows by chance with odds of 1 in 256).
#[test]
fn follower_learns_last_commit_without_more_writes() {
    let cluster = Cluster::start(
        3,
        &["--election-timeout-ms", "4000", "--heartbeat-ms", "2000"],
    );
    let mut client = RoutedClient::new(cluster.addrs());
    let mut followers: Vec<redis::Connection> = Vec::new();
    for addr in cluster.addrs() {
        let mut c = connect(&addr).unwrap();
        if set_cmd("foo", "first").query::<Value>(&mut c).is_err() {
            let _: () = redis::cmd("READONLY").query(&mut c).unwrap();
            followers.push(c);
        }
    }
    assert_eq!(followers.len(), 2, "foo's group has two followers");
    for round in 0..4 {
        let value = format!("write-{round}");
        assert!(matches!(
            client.run(&set_cmd("foo", &value)),
            Outcome::Ok(_)
        ));
        let written = Instant::now();
        for c in followers.iter_mut() {
            loop {
                let v: Option<String> = redis::cmd("GET").arg("foo").query(c).unwrap();
                if v.as_deref() == Some(value.as_str()) {
                    break;
                }
                assert!(
                    written.elapsed() < Duration::from_millis(500),
                    "round {round}: a follower has not applied the last write after {:?}: {v:?}",
                    written.elapsed()
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Fault: a follower is killed while the others write enough for several snapshots and log
/// purges, then restarted, first with a `--max-snapshot-bytes` below the snapshot's size.
/// Asserts: with the bound it refuses the transfers (logged, nothing left on disk) and stays
/// behind; without it, it catches up by installing a snapshot streamed over gRPC (its log no
/// longer reaches back far enough) and then holds every acknowledged write.
#[test]
fn lagging_node_catches_up_by_snapshot_after_purge() {
    let mut cluster = Cluster::start(3, &["--groups", "2", "--snapshot-logs", "40"]);
    let mut client = RoutedClient::new(cluster.addrs());
    let mut acked = write_keys(&mut client, "early", 20);
    cluster.node(3).kill();
    let mut client = RoutedClient::new(cluster.addrs());
    acked.extend(write_keys(&mut client, "late", 400));
    assert_eq!(acked.len(), 420);
    // Snapshot now on the survivors (the policy also does, asynchronously), so the log behind
    // the snapshot is purged before node 3 returns.
    for n in &cluster.nodes[..2] {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_slotraft-ctl"))
            .args(["--node", &format!("127.0.0.1:{}", n.grpc_port), "snapshot"])
            .status()
            .unwrap();
        assert!(status.success(), "slotraft-ctl snapshot failed");
    }
    std::thread::sleep(Duration::from_secs(1));
    // First with a bound smaller than any snapshot: node 3 refuses the transfers (before
    // storing them) and stays behind.
    let plain_args = cluster.node(3).args.clone();
    cluster
        .node(3)
        .args
        .extend(["--max-snapshot-bytes".to_string(), "64".to_string()]);
    cluster.node(3).start();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&cluster.nodes[2].log)
        .unwrap()
        .contains("refusing a snapshot larger than --max-snapshot-bytes")
    {
        assert!(Instant::now() < deadline, "node 3 never refused a snapshot");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut c = connect(&cluster.nodes[2].addr()).unwrap();
    let _: () = redis::cmd("READONLY").query(&mut c).unwrap();
    let late: RedisResult<Option<String>> = redis::cmd("GET").arg("late:399").query(&mut c);
    assert!(
        !matches!(late, Ok(Some(_))),
        "node 3 caught up without the snapshot it refused: {late:?}"
    );
    let leftovers = snapshot_leftovers(&cluster.nodes[2].dir);
    assert!(leftovers.is_empty(), "refused transfers left {leftovers:?}");
    cluster.node(3).kill();
    cluster.node(3).args = plain_args;
    cluster.node(3).start();
    cluster.wait_healthy(Duration::from_secs(30));
    // Read every key from node 3 itself (READONLY): it must have caught up.
    let mut c = connect(&cluster.nodes[2].addr()).unwrap();
    let _: () = redis::cmd("READONLY").query(&mut c).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    for (k, v) in &acked {
        loop {
            let got: RedisResult<Option<String>> = redis::cmd("GET").arg(k).query(&mut c);
            match got {
                Ok(Some(g)) if &g == v => break,
                other => {
                    if Instant::now() > deadline {
                        cluster.dump_logs();
                        panic!("node 3 never caught up on {k}: {other:?}");
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }
    let log = std::fs::read_to_string(&cluster.nodes[2].log).unwrap();
    assert!(
        log.contains("installed snapshot"),
        "node 3 caught up without a snapshot; log:\n{log}"
    );
}

use redis::RedisResult;

/// Regression (`down_peer_reconnect_storm`): while a peer is down, each group's replication to
/// it must back off between attempts. Before the fix, the gRPC stream was opened without first
/// pulling a request, which is where openraft waits out its backoff, and a node retried in a
/// tight loop (hundreds of thousands of failed attempts per minute, both cores busy).
/// Fault: `kill -9` of one node for 3 seconds. Asserts: a survivor logs a bounded number of
/// failed replication attempts (openraft logs each one at WARN).
#[test]
fn down_peer_is_retried_with_backoff() {
    let mut cluster = Cluster::start_with_log_filter(3, &[], "info,openraft=warn");
    let log = cluster.nodes[0].log.clone();
    cluster.node(3).kill();
    cluster.wait_healthy(Duration::from_secs(30));
    // Writes leave entries that node 3 should get: every group keeps trying to replicate.
    let mut client = RoutedClient::new(cluster.addrs());
    // Right after the kill some writes may meet a stale leader; most must go through.
    let acked = write_keys(&mut client, "while-down", 100);
    assert!(
        acked.len() >= 50,
        "only {} of 100 writes acknowledged",
        acked.len()
    );
    let before = std::fs::read_to_string(&log)
        .unwrap()
        .matches("Unreachable")
        .count();
    std::thread::sleep(Duration::from_secs(3));
    let after = std::fs::read_to_string(&log)
        .unwrap()
        .matches("Unreachable")
        .count();
    // 16 groups, backoff ≥ 200 ms: at most a few hundred attempts in 3 s. A tight loop makes
    // tens of thousands.
    assert!(
        after - before < 5000,
        "{} failed attempts to reach a down peer in 3 s",
        after - before
    );
    assert!(
        after > before,
        "the down peer was never even tried (is the log level WARN?)"
    );
}

/// Fault: `kill -9` of a single-node cluster (the default deployment), then a restart.
/// Asserts: every acknowledged write, including deadlines set by EXPIRE, is there afterwards.
#[test]
fn single_node_acknowledged_writes_survive_kill_9() {
    let mut cluster = Cluster::start(1, &[]);
    let mut client = RoutedClient::new(cluster.addrs());
    let acked = write_keys(&mut client, "solo", 300);
    assert_eq!(acked.len(), 300);
    assert!(matches!(
        client.run(redis::cmd("EXPIRE").arg("solo:0").arg(1000)),
        Outcome::Ok(Value::Int(1))
    ));
    cluster.node(1).kill();
    cluster.node(1).start();
    cluster.wait_healthy(Duration::from_secs(30));
    assert_all_readable(cluster.addrs(), &acked);
    let mut client = RoutedClient::new(cluster.addrs());
    match client.run(redis::cmd("TTL").arg("solo:0")) {
        Outcome::Ok(Value::Int(ttl)) => {
            assert!((990..=1000).contains(&ttl), "TTL after restart: {ttl}")
        }
        other => panic!("TTL after restart: {other:?}"),
    }
}

/// The term of each slot group's leader, from the admin API of every node (retried until every
/// group reports a leader).
fn leader_terms(cluster: &Cluster, groups: u32) -> BTreeMap<u32, u64> {
    use slotraft::proto::admin::admin_client::AdminClient;
    use slotraft::proto::admin::StatusRequest;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut terms = BTreeMap::new();
        for n in cluster.nodes.iter().filter(|n| n.child.is_some()) {
            let status = rt.block_on(async {
                let mut c = AdminClient::connect(format!("http://127.0.0.1:{}", n.grpc_port))
                    .await
                    .ok()?;
                c.status(StatusRequest {})
                    .await
                    .ok()
                    .map(|r| r.into_inner())
            });
            for g in status.map(|s| s.groups).unwrap_or_default() {
                if g.state == "Leader" {
                    terms.insert(g.group_id, g.term);
                }
            }
        }
        if terms.len() == groups as usize {
            return terms;
        }
        assert!(
            Instant::now() < deadline,
            "not every group has a leader: {terms:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Regression (`restarted_leader_reuses_its_term`, found by the torture suite's crash family:
/// one acknowledged SET lost after `kill -9` of a majority that included a leader, a restart,
/// and `kill -9` of all nodes). openraft by default restores a restarted leader as leader of
/// its old term. But a leader replicates entries before its own fsync completes, so a crash can
/// leave followers with entries the leader lost; the restored leader then appends new entries
/// under the same log ids, the followers keep their old entries (same ids), the logs diverge and
/// a committed, acknowledged write can vanish.
/// Fault: `kill -9` of all nodes and an immediate restart (so no follower times out first).
/// Asserts: every group's leader after the restart has a newer term than before (nobody resumed
/// leadership of its old term), and every acknowledged write is still readable.
#[test]
fn restarted_leader_is_not_restored_in_its_old_term() {
    let mut cluster = Cluster::start(3, &["--groups", "3"]);
    let mut client = RoutedClient::new(cluster.addrs());
    let acked = write_keys(&mut client, "k", 60);
    assert_eq!(acked.len(), 60);
    let before = leader_terms(&cluster, 3);
    for n in &mut cluster.nodes {
        n.kill();
    }
    for n in &mut cluster.nodes {
        n.start();
    }
    cluster.wait_healthy(Duration::from_secs(30));
    let after = leader_terms(&cluster, 3);
    for (group, term) in &before {
        assert!(
            after[group] > *term,
            "group {group} is led in term {} after the restart, as before it: a restarted \
             leader resumed its old term",
            after[group]
        );
    }
    assert_all_readable(cluster.addrs(), &acked);
}
