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
