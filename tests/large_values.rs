//! Values large enough for sled to store as blob files of their own (64 KiB and more), on real
//! `slotraft-server` processes. sled creates and removes blob files while it runs; the flusher
//! must fsync the new ones without tripping over the removed ones (a blob that vanished
//! between listing the directory and opening it once failed the sync, and with it the write
//! and the group's Raft log: every later write to the group answered `-OUTCOMEUNKNOWN`).

mod support;

use std::time::Duration;

use support::*;

/// Fault: none; load of pipelined 100 KiB SETs into one slot group of a 3-node cluster.
/// Asserts: every SET is acknowledged, every value reads back intact, and the group still
/// takes writes afterwards.
#[test]
fn pipelined_blob_sized_values_are_all_acknowledged() {
    let cluster = Cluster::start(3, &["--groups", "1"]);
    let mut conn = None;
    // The one group's leader.
    for _ in 0..100 {
        for addr in cluster.addrs() {
            let mut c = connect(&addr).unwrap();
            let r: redis::RedisResult<()> = redis::cmd("SET").arg("probe").arg("1").query(&mut c);
            if r.is_ok() {
                conn = Some(c);
                break;
            }
        }
        if conn.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut conn = conn.expect("a leader");
    let value = |i: usize| -> Vec<u8> {
        let mut v = vec![(i % 251) as u8; 100 * 1024];
        v[..8].copy_from_slice(&(i as u64).to_be_bytes());
        v
    };
    const N: usize = 1500;
    for batch in (0..N).collect::<Vec<_>>().chunks(20) {
        let mut pipe = redis::pipe();
        for &i in batch {
            pipe.cmd("SET")
                .arg(format!("big{i}"))
                .arg(value(i))
                .ignore();
        }
        let r: redis::RedisResult<()> = pipe.query(&mut conn);
        r.unwrap_or_else(|e| panic!("a SET of batch from big{} failed: {e}", batch[0]));
    }
    for i in (0..N).step_by(37) {
        let got: Vec<u8> = redis::cmd("GET")
            .arg(format!("big{i}"))
            .query(&mut conn)
            .unwrap();
        assert!(got == value(i), "big{i} reads back changed");
    }
    let r: redis::RedisResult<()> = redis::cmd("SET").arg("after").arg("1").query(&mut conn);
    r.expect("the group still takes writes");
}
