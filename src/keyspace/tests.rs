//! Keyspace apply semantics, including expiry determinism.

use bytes::Bytes;

use super::*;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn set(key: &str, value: &str) -> WriteOp {
    WriteOp::Set {
        key: b(key),
        value: b(value),
        condition: SetCondition::Always,
        expiry: SetExpiry::Clear,
        get: false,
    }
}

#[test]
fn set_then_get_returns_value() {
    let mut ks = Keyspace::new();
    assert_eq!(ks.apply(1000, &set("k", "v")), Ok(Reply::Ok));
    assert_eq!(ks.get(1000, b"k"), Ok(Some(b("v"))));
}

#[test]
fn set_nx_and_xx_conditions() {
    let mut ks = Keyspace::new();
    let nx = |v: &str| WriteOp::Set {
        key: b("k"),
        value: b(v),
        condition: SetCondition::IfNotExists,
        expiry: SetExpiry::Clear,
        get: false,
    };
    let xx = WriteOp::Set {
        key: b("missing"),
        value: b("v"),
        condition: SetCondition::IfExists,
        expiry: SetExpiry::Clear,
        get: false,
    };
    assert_eq!(ks.apply(1, &nx("a")), Ok(Reply::Ok));
    assert_eq!(ks.apply(1, &nx("b")), Ok(Reply::Nil));
    assert_eq!(ks.get(1, b"k"), Ok(Some(b("a"))));
    assert_eq!(ks.apply(1, &xx), Ok(Reply::Nil));
    assert!(!ks.exists(1, b"missing"));
}

#[test]
fn set_get_returns_old_value_even_when_condition_fails() {
    let mut ks = Keyspace::new();
    ks.apply(1, &set("k", "old")).unwrap();
    let op = WriteOp::Set {
        key: b("k"),
        value: b("new"),
        condition: SetCondition::IfNotExists,
        expiry: SetExpiry::Clear,
        get: true,
    };
    assert_eq!(ks.apply(1, &op), Ok(Reply::Bulk(b("old"))));
    assert_eq!(ks.get(1, b"k"), Ok(Some(b("old"))));
}

#[test]
fn keepttl_keeps_and_plain_set_clears_deadline() {
    let mut ks = Keyspace::new();
    let with_ttl = WriteOp::Set {
        key: b("k"),
        value: b("v"),
        condition: SetCondition::Always,
        expiry: SetExpiry::At(10_000),
        get: false,
    };
    ks.apply(1000, &with_ttl).unwrap();
    assert_eq!(ks.pttl(1000, b"k"), 9000);
    let keep = WriteOp::Set {
        key: b("k"),
        value: b("v2"),
        condition: SetCondition::Always,
        expiry: SetExpiry::Keep,
        get: false,
    };
    ks.apply(2000, &keep).unwrap();
    assert_eq!(ks.pttl(2000, b"k"), 8000);
    ks.apply(3000, &set("k", "v3")).unwrap();
    assert_eq!(ks.pttl(3000, b"k"), -1);
}

#[test]
fn reads_never_return_expired_keys() {
    let mut ks = Keyspace::new();
    let op = WriteOp::Set {
        key: b("k"),
        value: b("v"),
        condition: SetCondition::Always,
        expiry: SetExpiry::At(5000),
        get: false,
    };
    ks.apply(1000, &op).unwrap();
    assert_eq!(ks.get(4999, b"k"), Ok(Some(b("v"))));
    assert_eq!(ks.get(5000, b"k"), Ok(None));
    assert_eq!(ks.pttl(5000, b"k"), -2);
    assert!(!ks.exists(6000, b"k"));
    assert_eq!(ks.len(6000), 0);
}

#[test]
fn expiry_is_decided_by_entry_time_not_apply_time() {
    // Two replicas apply the same entries at different wall-clock moments; both must agree.
    let entries = [
        (
            1000,
            WriteOp::ExpireAt {
                key: b("x"),
                at_ms: 0,
                condition: ExpireCondition::Always,
            },
        ),
        (
            1000,
            WriteOp::Set {
                key: b("k"),
                value: b("v"),
                condition: SetCondition::Always,
                expiry: SetExpiry::At(2000),
                get: false,
            },
        ),
        // At entry time 1500 the key is live: NX must fail.
        (
            1500,
            WriteOp::Set {
                key: b("k"),
                value: b("late"),
                condition: SetCondition::IfNotExists,
                expiry: SetExpiry::Clear,
                get: false,
            },
        ),
        (
            2500,
            WriteOp::IncrBy {
                key: b("k2"),
                delta: 5,
            },
        ),
    ];
    let mut a = Keyspace::new();
    let mut b_ = Keyspace::new();
    let ra: Vec<_> = entries.iter().map(|(t, op)| a.apply(*t, op)).collect();
    let rb: Vec<_> = entries.iter().map(|(t, op)| b_.apply(*t, op)).collect();
    assert_eq!(ra, rb);
    assert_eq!(a, b_);
    assert_eq!(ra[2], Ok(Reply::Nil));
}

#[test]
fn apply_time_never_runs_backwards() {
    let mut ks = Keyspace::new();
    let op = WriteOp::Set {
        key: b("k"),
        value: b("v"),
        condition: SetCondition::Always,
        expiry: SetExpiry::At(2000),
        get: false,
    };
    ks.apply(1000, &op).unwrap();
    ks.apply(
        3000,
        &WriteOp::Del {
            keys: vec![b("other")],
        },
    )
    .unwrap();
    // A later entry stamped by a leader whose clock is behind still sees the key as expired.
    let nx = WriteOp::Set {
        key: b("k"),
        value: b("new"),
        condition: SetCondition::IfNotExists,
        expiry: SetExpiry::Clear,
        get: false,
    };
    assert_eq!(ks.apply(1500, &nx), Ok(Reply::Ok));
}

#[test]
fn evict_expired_only_removes_still_expired_keys() {
    let mut ks = Keyspace::new();
    let with_ttl = |k: &str| WriteOp::Set {
        key: b(k),
        value: b("v"),
        condition: SetCondition::Always,
        expiry: SetExpiry::At(2000),
        get: false,
    };
    ks.apply(1000, &with_ttl("a")).unwrap();
    ks.apply(1000, &with_ttl("b")).unwrap();
    assert_eq!(ks.expired_keys(2000, 10).len(), 2);
    // "b" is rewritten after the leader picked it for eviction.
    ks.apply(2100, &set("b", "fresh")).unwrap();
    let evict = WriteOp::EvictExpired {
        keys: vec![b("a"), b("b")],
    };
    assert_eq!(ks.apply(2200, &evict), Ok(Reply::Integer(1)));
    assert_eq!(ks.get(2200, b"b"), Ok(Some(b("fresh"))));
}

#[test]
fn incr_semantics_and_errors() {
    let mut ks = Keyspace::new();
    let incr = |d: i64| WriteOp::IncrBy {
        key: b("n"),
        delta: d,
    };
    assert_eq!(ks.apply(1, &incr(1)), Ok(Reply::Integer(1)));
    assert_eq!(ks.apply(1, &incr(-11)), Ok(Reply::Integer(-10)));
    ks.apply(1, &set("n", &i64::MAX.to_string())).unwrap();
    assert_eq!(ks.apply(1, &incr(1)), Err(KeyspaceError::Overflow));
    ks.apply(1, &set("n", "abc")).unwrap();
    assert_eq!(ks.apply(1, &incr(1)), Err(KeyspaceError::NotInteger));
    ks.apply(1, &set("n", " 1")).unwrap();
    assert_eq!(ks.apply(1, &incr(1)), Err(KeyspaceError::NotInteger));
    assert_eq!(
        KeyspaceError::Overflow.to_string(),
        "ERR increment or decrement would overflow"
    );
}

#[test]
fn incr_keeps_deadline() {
    let mut ks = Keyspace::new();
    let op = WriteOp::Set {
        key: b("n"),
        value: b("1"),
        condition: SetCondition::Always,
        expiry: SetExpiry::At(9000),
        get: false,
    };
    ks.apply(1000, &op).unwrap();
    ks.apply(
        1000,
        &WriteOp::IncrBy {
            key: b("n"),
            delta: 1,
        },
    )
    .unwrap();
    assert_eq!(ks.pttl(1000, b"n"), 8000);
}

#[test]
fn expire_conditions_follow_redis() {
    let mut ks = Keyspace::new();
    ks.apply(1000, &set("k", "v")).unwrap();
    let exp = |at: u64, c| WriteOp::ExpireAt {
        key: b("k"),
        at_ms: at,
        condition: c,
    };
    assert_eq!(
        ks.apply(1000, &exp(5000, ExpireCondition::IfSome)),
        Ok(Reply::Integer(0))
    );
    assert_eq!(
        ks.apply(1000, &exp(5000, ExpireCondition::IfGreater)),
        Ok(Reply::Integer(0))
    );
    assert_eq!(
        ks.apply(1000, &exp(5000, ExpireCondition::IfNone)),
        Ok(Reply::Integer(1))
    );
    assert_eq!(
        ks.apply(1000, &exp(6000, ExpireCondition::IfLess)),
        Ok(Reply::Integer(0))
    );
    assert_eq!(
        ks.apply(1000, &exp(6000, ExpireCondition::IfGreater)),
        Ok(Reply::Integer(1))
    );
    assert_eq!(ks.pttl(1000, b"k"), 5000);
    assert_eq!(
        ks.apply(1000, &WriteOp::Persist { key: b("k") }),
        Ok(Reply::Integer(1))
    );
    assert_eq!(
        ks.apply(1000, &WriteOp::Persist { key: b("k") }),
        Ok(Reply::Integer(0))
    );
    // A deadline in the past deletes the key.
    assert_eq!(
        ks.apply(1000, &exp(10, ExpireCondition::Always)),
        Ok(Reply::Integer(1))
    );
    assert!(!ks.exists(1000, b"k"));
    assert_eq!(
        ks.apply(1000, &exp(5000, ExpireCondition::Always)),
        Ok(Reply::Integer(0))
    );
}

#[test]
fn del_counts_only_live_keys() {
    let mut ks = Keyspace::new();
    ks.apply(1, &set("a", "1")).unwrap();
    let op = WriteOp::Set {
        key: b("b"),
        value: b("2"),
        condition: SetCondition::Always,
        expiry: SetExpiry::At(10),
        get: false,
    };
    ks.apply(1, &op).unwrap();
    let del = WriteOp::Del {
        keys: vec![b("a"), b("b"), b("c")],
    };
    assert_eq!(ks.apply(20, &del), Ok(Reply::Integer(1)));
}

#[test]
fn parse_i64_matches_redis_string2ll() {
    assert_eq!(parse_i64(b"0"), Some(0));
    assert_eq!(parse_i64(b"-12"), Some(-12));
    assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
    assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
    for bad in [
        &b""[..],
        b"+1",
        b"01",
        b"-0",
        b" 1",
        b"1 ",
        b"1.0",
        b"9223372036854775808",
        b"-",
    ] {
        assert_eq!(parse_i64(bad), None, "{:?}", std::str::from_utf8(bad));
    }
}

#[test]
fn snapshot_round_trip_preserves_state() {
    let mut ks = Keyspace::new();
    ks.apply(1, &set("a", "1")).unwrap();
    let bytes = bincode::serde::encode_to_vec(&ks, bincode::config::standard()).unwrap();
    let (back, _): (Keyspace, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(ks, back);
}

fn snapshot(ks: &Keyspace) -> Keyspace {
    let bytes = bincode::serde::encode_to_vec(ks, bincode::config::standard()).unwrap();
    bincode::serde::decode_from_slice(&bytes, bincode::config::standard())
        .unwrap()
        .0
}

fn sadd(key: &str, members: &[&str]) -> WriteOp {
    WriteOp::SAdd {
        key: b(key),
        members: members.iter().map(|m| b(m)).collect(),
    }
}

/// SPOP picks at random, so replicas must pick the same members: the leader's seed travels in
/// the op and collections keep a deterministic order — also on a replica that restored the set
/// from a snapshot.
#[test]
fn spop_with_the_same_seed_pops_the_same_members_on_every_replica() {
    let mut leader = Keyspace::new();
    let members: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    leader.apply(1, &sadd("s", &refs)).unwrap();
    leader
        .apply(
            1,
            &WriteOp::SRem {
                key: b("s"),
                members: vec![b("m7"), b("m99")],
            },
        )
        .unwrap();
    let mut restored = snapshot(&leader);
    let mut follower = leader.clone();
    for seed in [1u64, 42, 7_000_000] {
        let op = WriteOp::SPop {
            key: b("s"),
            count: Some(5),
            seed,
        };
        let a = leader.apply(2, &op).unwrap();
        assert_eq!(follower.apply(2, &op).unwrap(), a);
        assert_eq!(restored.apply(2, &op).unwrap(), a);
    }
    assert_eq!(leader, follower);
    assert_eq!(
        leader.read(3, &ReadOp::SMembers { key: b("s") }),
        restored.read(3, &ReadOp::SMembers { key: b("s") })
    );
    // Different seeds do pick differently (the seed is really used).
    let mut x = leader.clone();
    let mut y = leader.clone();
    let pick = |ks: &mut Keyspace, seed| {
        ks.apply(
            4,
            &WriteOp::SPop {
                key: b("s"),
                count: Some(10),
                seed,
            },
        )
        .unwrap()
    };
    assert_ne!(pick(&mut x, 1), pick(&mut y, 2));
}

#[test]
fn emptied_collections_are_removed() {
    let mut ks = Keyspace::new();
    ks.apply(1, &sadd("s", &["a"])).unwrap();
    ks.apply(
        1,
        &WriteOp::SRem {
            key: b("s"),
            members: vec![b("a")],
        },
    )
    .unwrap();
    assert!(!ks.exists(1, b"s"));
    ks.apply(
        1,
        &WriteOp::Push {
            key: b("l"),
            values: vec![b("x")],
            end: End::Right,
            only_if_exists: false,
        },
    )
    .unwrap();
    ks.apply(
        1,
        &WriteOp::Pop {
            key: b("l"),
            end: End::Left,
            count: None,
        },
    )
    .unwrap();
    assert!(!ks.exists(1, b"l"));
    ks.apply(
        1,
        &WriteOp::HSet {
            key: b("h"),
            pairs: vec![(b("f"), b("v"))],
            nx: false,
        },
    )
    .unwrap();
    ks.apply(
        1,
        &WriteOp::HDel {
            key: b("h"),
            fields: vec![b("f")],
        },
    )
    .unwrap();
    assert!(!ks.exists(1, b"h"));
    assert_eq!(ks.len(1), 0);
}

fn multi(watched: Vec<WatchedKey>) -> WriteOp {
    WriteOp::Multi(MultiOp {
        ops: vec![MultiStep::Write(set("k", "from-tx"))],
        watched,
    })
}

/// WATCH is decided at apply time from versions (log indexes), so every replica agrees.
#[test]
fn watch_aborts_exec_when_the_key_changed_even_by_delete_and_recreate() {
    let mut ks = Keyspace::new();
    ks.apply_at(1, 1, &set("k", "v1")).unwrap();
    let watched = |ks: &Keyspace| WatchedKey {
        key: b("k"),
        version: ks.version(1, b"k"),
        watched_at_index: 1,
    };
    // Unchanged: the transaction runs.
    let w = watched(&ks);
    assert_eq!(
        ks.apply_at(2, 1, &multi(vec![w])).unwrap(),
        Reply::Array(vec![Reply::Ok])
    );
    // Changed by another write: nil.
    let w = watched(&ks);
    ks.apply_at(3, 1, &set("k", "other")).unwrap();
    assert_eq!(
        ks.apply_at(4, 1, &multi(vec![w])).unwrap(),
        Reply::NullArray
    );
    // Deleted: the tombstone's version differs.
    let w = watched(&ks);
    ks.apply_at(5, 1, &WriteOp::Del { keys: vec![b("k")] })
        .unwrap();
    assert_eq!(
        ks.apply_at(6, 1, &multi(vec![w])).unwrap(),
        Reply::NullArray
    );
    // A key that did not exist when watched and was created in between: nil.
    let w = WatchedKey {
        key: b("new"),
        version: ks.version(1, b"new"),
        watched_at_index: 6,
    };
    ks.apply_at(7, 1, &set("new", "x")).unwrap();
    let op = WriteOp::Multi(MultiOp {
        ops: vec![],
        watched: vec![w],
    });
    assert_eq!(ks.apply_at(8, 1, &op).unwrap(), Reply::NullArray);
    // Replicas that restored a snapshot decide the same.
    let mut replica = snapshot(&ks);
    let w = watched(&ks);
    assert_eq!(
        ks.apply_at(9, 1, &multi(vec![w.clone()])),
        replica.apply_at(9, 1, &multi(vec![w]))
    );
}

#[test]
fn scan_visits_every_key_present_throughout_while_keys_come_and_go() {
    let mut ks = Keyspace::new();
    for i in 0..500 {
        ks.apply(1, &set(&format!("stay{i}"), "v")).unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0;
    let mut round = 0;
    loop {
        let args = ScanArgs {
            cursor,
            pattern: None,
            count: 17,
            kind: None,
            deferred_error: None,
        };
        let (next, keys) = ks.scan(1, &args);
        seen.extend(keys);
        // Churn between steps: add and remove other keys.
        ks.apply(1, &set(&format!("churn{round}"), "v")).unwrap();
        if round > 0 {
            ks.apply(
                1,
                &WriteOp::Del {
                    keys: vec![b(&format!("churn{}", round - 1))],
                },
            )
            .unwrap();
        }
        round += 1;
        if next == 0 {
            break;
        }
        cursor = next;
        assert!(round < 10_000, "scan does not terminate");
    }
    for i in 0..500 {
        assert!(seen.contains(&b(&format!("stay{i}"))), "stay{i} missed");
    }
}

/// The derived indexes — deadlines (what active expiry and DBSIZE read instead of scanning
/// every key) and per-slot key counts (COUNTKEYSINSLOT) — must match the stored keys after
/// every kind of write that sets, keeps, moves or drops a key or deadline, and must be rebuilt
/// identically from a snapshot.
#[test]
fn derived_indexes_follow_every_write_and_survive_snapshots() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut ks = Keyspace::new();
    let keys = ["a", "b", "c", "d", "e"];
    let mut now = 1_000;
    for step in 0..5_000 {
        now += rng.gen_range(0..20);
        let k = b(keys[rng.gen_range(0..keys.len())]);
        let other = b(keys[rng.gen_range(0..keys.len())]);
        let at = now + rng.gen_range(0..200);
        let op = match rng.gen_range(0..12) {
            0 => set(keys[rng.gen_range(0..keys.len())], "v"),
            1 => WriteOp::Set {
                key: k,
                value: b("v"),
                condition: SetCondition::Always,
                expiry: SetExpiry::At(at),
                get: false,
            },
            2 => WriteOp::Set {
                key: k,
                value: b("w"),
                condition: SetCondition::Always,
                expiry: SetExpiry::Keep,
                get: false,
            },
            3 => WriteOp::ExpireAt {
                key: k,
                at_ms: at,
                condition: ExpireCondition::Always,
            },
            4 => WriteOp::Persist { key: k },
            5 => WriteOp::GetEx {
                key: k,
                expiry: if rng.gen_bool(0.5) {
                    GetExExpiry::Persist
                } else {
                    GetExExpiry::At(at)
                },
            },
            6 => WriteOp::Rename {
                src: k,
                dst: other,
                nx: false,
            },
            7 => WriteOp::Copy {
                src: k,
                dst: other,
                replace: true,
            },
            8 => WriteOp::Del { keys: vec![k] },
            9 => WriteOp::IncrBy { key: k, delta: 1 },
            10 => WriteOp::EvictExpired {
                keys: ks.expired_keys(now, 3),
            },
            _ if step % 500 == 0 => WriteOp::FlushAll,
            _ => set(keys[rng.gen_range(0..keys.len())], "x"),
        };
        let _ = ks.apply(now, &op);
        assert!(ks.indexes_consistent(), "after {op:?} at step {step}");
        let expired_by_scan = ks
            .items
            .iter()
            .filter(|(_, item)| !item.is_live(now))
            .count();
        assert_eq!(ks.expired_keys(now, usize::MAX).len(), expired_by_scan);
        let live_by_scan = ks.items.values().filter(|i| i.is_live(now)).count();
        assert_eq!(ks.len(now), live_by_scan, "DBSIZE after {op:?}");
        for key in keys {
            let slot = crate::cluster::slot::key_slot(key.as_bytes());
            let in_slot_by_scan = ks
                .items
                .iter()
                .filter(|(k, i)| i.is_live(now) && crate::cluster::slot::key_slot(&k.key) == slot)
                .count();
            assert_eq!(
                ks.count_in_slot(now, slot),
                in_slot_by_scan,
                "COUNTKEYSINSLOT {slot}"
            );
        }
    }
    let restored = snapshot(&ks);
    assert!(restored.indexes_consistent());
    assert_eq!(restored, ks);
}
