//! The `redis` crate's async cluster client (unmodified) against a real 3-node cluster: every
//! command family over every slot group, with every group's leadership moved in the middle.
//! The client must follow `-MOVED` and carry on; at the end nothing is lost and nothing is
//! doubled (counters, lists and appends would show a write applied twice).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use redis::cluster::ClusterClient;
use redis::AsyncCommands;
use support::Cluster;

const CTL: &str = env!("CARGO_BIN_EXE_slotraft-ctl");

/// Moves every slot group's leadership to the next node with `slotraft-ctl transfer-leader`.
fn transfer_every_leader(cluster: &Cluster) -> usize {
    let mut c = support::connect(&cluster.addrs()[0]).unwrap();
    let slots: Vec<redis::Value> = redis::cmd("CLUSTER").arg("SLOTS").query(&mut c).unwrap();
    let mut moved = 0;
    for entry in slots {
        let redis::Value::Array(items) = entry else {
            panic!("bad CLUSTER SLOTS entry")
        };
        let (redis::Value::Int(start), redis::Value::Array(master)) = (&items[0], &items[2]) else {
            panic!("bad CLUSTER SLOTS entry")
        };
        let redis::Value::Int(port) = master[1] else {
            panic!("bad master entry")
        };
        let leader = cluster
            .nodes
            .iter()
            .find(|n| i64::from(n.port) == port)
            .unwrap();
        let redis::Value::Int(end) = items[1] else {
            panic!("bad CLUSTER SLOTS entry")
        };
        // A master's adjacent groups are one range: 16 groups of 1024 slots each.
        for group in start / 1024..=end / 1024 {
            let target = leader.id % cluster.nodes.len() as u64 + 1;
            let out = Command::new(CTL)
                .args(["--node", &format!("127.0.0.1:{}", leader.grpc_port)])
                .args(["transfer-leader", "--group", &group.to_string()])
                .args(["--to", &target.to_string()])
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            moved += 1;
        }
    }
    moved
}

#[derive(Default)]
struct Model {
    strings: BTreeMap<String, String>,
    hashes: BTreeMap<String, BTreeMap<String, String>>,
    lists: BTreeMap<String, Vec<String>>,
    sets: BTreeMap<String, BTreeSet<String>>,
    zsets: BTreeMap<String, BTreeMap<String, f64>>,
}

async fn round(con: &mut redis::cluster_async::ClusterConnection, e: &str, n: i64, m: &mut Model) {
    let k = |name: &str| format!("{e}:{name}");
    let _: () = con.set(k("s"), format!("v{n}")).await.unwrap();
    m.strings.insert(k("s"), format!("v{n}"));
    let counter: i64 = con.incr(k("n"), 1).await.unwrap();
    assert_eq!(counter, n, "counter {e} (a doubled INCR shows here)");
    m.strings.insert(k("n"), n.to_string());
    let _: i64 = con.append(k("log"), format!("{n};")).await.unwrap();
    m.strings
        .insert(k("log"), (1..=n).map(|i| format!("{i};")).collect());
    let _: i64 = con.hset(k("h"), format!("f{n}"), n).await.unwrap();
    let count: i64 = con.hincr(k("h"), "count", 1).await.unwrap();
    assert_eq!(count, n);
    let h = m.hashes.entry(k("h")).or_default();
    h.insert(format!("f{n}"), n.to_string());
    h.insert("count".into(), n.to_string());
    let len: i64 = con.rpush(k("l"), format!("e{n}")).await.unwrap();
    assert_eq!(len, n, "list {e} (a doubled RPUSH shows here)");
    m.lists.entry(k("l")).or_default().push(format!("e{n}"));
    let _: i64 = con.sadd(k("set"), format!("m{n}")).await.unwrap();
    m.sets.entry(k("set")).or_default().insert(format!("m{n}"));
    let _: i64 = con.zadd(k("z"), format!("m{n}"), n).await.unwrap();
    let score: f64 = con.zincr(k("z"), "m1", 0.5).await.unwrap();
    assert_eq!(score, 1.0 + 0.5 * n as f64);
    let z = m.zsets.entry(k("z")).or_default();
    z.insert(format!("m{n}"), n as f64);
    z.insert("m1".into(), 1.0 + 0.5 * n as f64);
}

#[test]
fn redis_crate_async_cluster_client_every_family_across_leader_change() {
    let cluster = Cluster::start(3, &[]);
    let nodes: Vec<String> = cluster
        .addrs()
        .iter()
        .map(|a| format!("redis://{a}/"))
        .collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = ClusterClient::new(nodes).unwrap();
    let mut con = rt.block_on(client.get_async_connection()).unwrap();
    let entities: Vec<String> = (0..64).map(|i| format!("rs:{{{i}}}")).collect();
    let mut model = Model::default();
    rt.block_on(async {
        for n in 1..=2 {
            for e in &entities {
                round(&mut con, e, n, &mut model).await;
            }
        }
    });
    assert_eq!(transfer_every_leader(&cluster), 16);
    rt.block_on(async {
        for n in 3..=4 {
            for e in &entities {
                round(&mut con, e, n, &mut model).await;
            }
        }
        for (k, v) in &model.strings {
            let got: String = con.get(k).await.unwrap();
            assert_eq!(&got, v, "{k}");
        }
        for (k, v) in &model.hashes {
            let got: BTreeMap<String, String> = con.hgetall(k).await.unwrap();
            assert_eq!(&got, v, "{k}");
        }
        for (k, v) in &model.lists {
            let got: Vec<String> = con.lrange(k, 0, -1).await.unwrap();
            assert_eq!(&got, v, "{k}");
        }
        for (k, v) in &model.sets {
            let got: BTreeSet<String> = con.smembers(k).await.unwrap();
            assert_eq!(&got, v, "{k}");
        }
        for (k, v) in &model.zsets {
            let got: Vec<(String, f64)> = con.zrange_withscores(k, 0, -1).await.unwrap();
            let got: BTreeMap<String, f64> = got.into_iter().collect();
            assert_eq!(&got, v, "{k}");
        }
    });
}
