//! Workloads: what the concurrent clients do, and the final reads after the cluster healed.
//! Every operation goes through the [`Recorder`] (invocation before sending, completion after
//! the outcome is known), so the history is the ground truth the checkers judge.
//!
//! - `register`: `GET`/`SET`/`INCR` on a few keys; `SET` values are unique per run (client and
//!   counter encoded), so the linearizability search prunes fast.
//! - `set`: every client `SET`s unique keys (`set{tag}:client:n`, value = key) — the set is
//!   the keyspace; final read: `MGET` of every attempted key, per hash tag. Works with the
//!   string commands alone.
//! - `sadd`: the same with real sets: `SADD` of unique elements to a few set keys, `SMEMBERS`.
//! - `list`: `RPUSH` of unique values to a few keys, `LRANGE key 0 -1` reads during the run
//!   and at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::time::Instant;

use super::client::{Client, Outcome};
use super::history::{Call, Output, Recorder, Status};
use slotraft::resp::Frame;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    Register,
    Set,
    Sadd,
    List,
}

impl Workload {
    /// The commands the server must know for this workload.
    pub fn commands(self) -> &'static [&'static str] {
        match self {
            Workload::Register => &["get", "set", "incr"],
            Workload::Set => &["set", "mget"],
            Workload::Sadd => &["sadd", "smembers"],
            Workload::List => &["rpush", "lrange"],
        }
    }
}

/// Shape of the load.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Concurrent clients per workload.
    pub clients: usize,
    /// Registers, set keys, list keys per workload.
    pub keys: usize,
    /// Upper bound on one request.
    pub op_timeout: Duration,
}

/// The set name the strings variant of the set workload records.
pub const STRING_SET: &str = "strings";
const TAGS: u64 = 8;

/// One client: runs `workload` until `end`.
pub async fn run_client(
    workload: Workload,
    client_id: u64,
    nodes: Vec<String>,
    load: Load,
    rec: Recorder,
    end: Instant,
    seed: u64,
) {
    let mut rng = StdRng::seed_from_u64(seed ^ client_id.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut client = Client::new(nodes, load.op_timeout, client_id as usize);
    let mut n: u64 = 0;
    while Instant::now() < end {
        n += 1;
        let k = rng.gen_range(0..load.keys.max(1));
        match workload {
            Workload::Register => {
                let key = format!("reg{k}");
                let roll = rng.gen_range(0..100);
                if roll < 50 {
                    read_register(&mut client, &rec, client_id, &key).await;
                } else if roll < 85 {
                    // Unique values: client and counter, with room for INCRs in between.
                    let value = ((client_id as i64) << 40) | ((n as i64) << 10);
                    let text = value.to_string();
                    let id = rec.invoke(
                        client_id,
                        Call::Write {
                            key: key.clone(),
                            value,
                        },
                    );
                    let out = client
                        .call(key.as_bytes(), &[b"SET", key.as_bytes(), text.as_bytes()])
                        .await;
                    complete(&rec, id, out, |_| Output::Done);
                } else {
                    let id = rec.invoke(client_id, Call::Incr { key: key.clone() });
                    let out = client
                        .call(key.as_bytes(), &[b"INCR", key.as_bytes()])
                        .await;
                    complete(&rec, id, out, |f| match f {
                        Frame::Integer(v) => Output::Value(Some(*v)),
                        _ => Output::Done,
                    });
                }
            }
            Workload::Set => {
                let key = format!("set{{{}}}:{client_id}:{n}", n % TAGS);
                let id = rec.invoke(
                    client_id,
                    Call::Add {
                        set: STRING_SET.into(),
                        element: key.clone(),
                    },
                );
                let out = client
                    .call(key.as_bytes(), &[b"SET", key.as_bytes(), key.as_bytes()])
                    .await;
                complete(&rec, id, out, |_| Output::Done);
            }
            Workload::Sadd => {
                let set = format!("sadd{k}");
                let element = format!("{client_id}-{n}");
                let id = rec.invoke(
                    client_id,
                    Call::Add {
                        set: set.clone(),
                        element: element.clone(),
                    },
                );
                let out = client
                    .call(
                        set.as_bytes(),
                        &[b"SADD", set.as_bytes(), element.as_bytes()],
                    )
                    .await;
                complete(&rec, id, out, |_| Output::Done);
            }
            Workload::List => {
                let key = format!("list{k}");
                if rng.gen_range(0..100) < 15 {
                    read_list(&mut client, &rec, client_id, &key).await;
                } else {
                    let value = (client_id << 32) | n;
                    let text = value.to_string();
                    let id = rec.invoke(
                        client_id,
                        Call::Append {
                            key: key.clone(),
                            value,
                        },
                    );
                    let out = client
                        .call(key.as_bytes(), &[b"RPUSH", key.as_bytes(), text.as_bytes()])
                        .await;
                    complete(&rec, id, out, |_| Output::Done);
                }
            }
        }
        // A little air between requests keeps a 2-core machine responsive.
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..3))).await;
    }
}

fn complete(rec: &Recorder, id: u64, out: Outcome, ok: impl FnOnce(&Frame) -> Output) {
    match out {
        Outcome::Ok(frame) => rec.complete(id, Status::Ok, Some(ok(&frame)), None),
        Outcome::Fail(e) => rec.complete(id, Status::Fail, None, Some(e)),
        Outcome::Info(e) => rec.complete(id, Status::Info, None, Some(e)),
    }
}

fn register_value(f: &Frame) -> Output {
    match f {
        Frame::Null => Output::Value(None),
        Frame::Bulk(b) => Output::Value(Some(
            std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(i64::MIN),
        )),
        _ => Output::Value(Some(i64::MIN)),
    }
}

fn list_values(f: &Frame) -> Output {
    match f {
        Frame::Array(items) => Output::List(
            items
                .iter()
                .map(|i| match i {
                    Frame::Bulk(b) => std::str::from_utf8(b)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(u64::MAX),
                    _ => u64::MAX,
                })
                .collect(),
        ),
        // An empty list reads as an empty array; anything else cannot be checked.
        Frame::Null | Frame::NullArray => Output::List(vec![]),
        _ => Output::List(vec![u64::MAX]),
    }
}

fn members(f: &Frame) -> Vec<String> {
    match f {
        Frame::Array(items) | Frame::Set(items) => items
            .iter()
            .map(|i| match i {
                Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            })
            .collect(),
        other => vec![format!("{other:?}")],
    }
}

async fn read_register(client: &mut Client, rec: &Recorder, client_id: u64, key: &str) -> bool {
    let id = rec.invoke(client_id, Call::Read { key: key.into() });
    let out = client.call(key.as_bytes(), &[b"GET", key.as_bytes()]).await;
    let ok = matches!(out, Outcome::Ok(_));
    complete(rec, id, out, register_value);
    ok
}

async fn read_list(client: &mut Client, rec: &Recorder, client_id: u64, key: &str) -> bool {
    let id = rec.invoke(client_id, Call::ReadList { key: key.into() });
    let out = client
        .call(key.as_bytes(), &[b"LRANGE", key.as_bytes(), b"0", b"-1"])
        .await;
    let ok = matches!(out, Outcome::Ok(_));
    complete(rec, id, out, list_values);
    ok
}

/// Client id of the final reads.
pub const FINAL_CLIENT: u64 = 1_000_000;

/// After the cluster healed: reads everything each workload wrote, retrying until a read
/// succeeds or `timeout` passes (then the checker reports the missing read).
pub async fn final_reads(
    workloads: &[Workload],
    nodes: Vec<String>,
    load: Load,
    rec: &Recorder,
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    let mut client = Client::new(nodes, load.op_timeout, 0);
    let retry = || tokio::time::sleep(Duration::from_millis(200));
    for &w in workloads {
        match w {
            Workload::Register => {
                for k in 0..load.keys {
                    let key = format!("reg{k}");
                    while !read_register(&mut client, rec, FINAL_CLIENT, &key).await
                        && Instant::now() < deadline
                    {
                        retry().await;
                    }
                }
            }
            Workload::List => {
                for k in 0..load.keys {
                    let key = format!("list{k}");
                    while !read_list(&mut client, rec, FINAL_CLIENT, &key).await
                        && Instant::now() < deadline
                    {
                        retry().await;
                    }
                }
            }
            Workload::Sadd => {
                for k in 0..load.keys {
                    let set = format!("sadd{k}");
                    loop {
                        let id = rec.invoke(FINAL_CLIENT, Call::ReadSet { set: set.clone() });
                        let out = client
                            .call(set.as_bytes(), &[b"SMEMBERS", set.as_bytes()])
                            .await;
                        let ok = matches!(out, Outcome::Ok(_));
                        complete(rec, id, out, |f| Output::Members(members(f)));
                        if ok || Instant::now() >= deadline {
                            break;
                        }
                        retry().await;
                    }
                }
            }
            Workload::Set => {
                read_string_set(&mut client, rec, deadline).await;
            }
        }
    }
}

/// `MGET`s every key the set workload tried to write, by hash tag in chunks, and records the
/// whole sweep as one `ReadSet` whose interval covers every chunk (recorded only if every
/// chunk succeeded).
async fn read_string_set(client: &mut Client, rec: &Recorder, deadline: Instant) {
    let attempted: Vec<String> = rec
        .snapshot()
        .ops
        .into_iter()
        .filter_map(|o| match o.call {
            Call::Add { set, element } if set == STRING_SET => Some(element),
            _ => None,
        })
        .collect();
    if attempted.is_empty() {
        return;
    }
    let mut by_tag: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for k in attempted {
        let tag = k[k.find('{').unwrap_or(0)..=k.find('}').unwrap_or(0)].to_string();
        by_tag.entry(tag).or_default().push(k);
    }
    let started = rec.now_ns();
    let mut present = Vec::new();
    for keys in by_tag.values() {
        for chunk in keys.chunks(200) {
            let mut args: Vec<&[u8]> = vec![b"MGET"];
            args.extend(chunk.iter().map(|k| k.as_bytes()));
            loop {
                match client.call(chunk[0].as_bytes(), &args).await {
                    Outcome::Ok(Frame::Array(values)) => {
                        for (k, v) in chunk.iter().zip(values) {
                            match v {
                                Frame::Bulk(b) if b == k.as_bytes() => present.push(k.clone()),
                                Frame::Null => {}
                                // A value nobody wrote: reported as an unexpected element.
                                other => present.push(format!("{k}={other:?}")),
                            }
                        }
                        break;
                    }
                    _ if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(200)).await
                    }
                    _ => return,
                }
            }
        }
    }
    let id = rec.invoke_at(
        FINAL_CLIENT,
        Call::ReadSet {
            set: STRING_SET.into(),
        },
        started,
    );
    rec.complete(id, Status::Ok, Some(Output::Members(present)), None);
}
