//! Table tests: our `COMMAND INFO`/`COMMAND DOCS` replies against replies captured from
//! redis-server 7.0.15, and `COMMAND GETKEYS` behaviour.

use bytes::{Bytes, BytesMut};

use super::*;
use crate::resp::{Frame, Protocol};

/// Replies captured from redis-server 7.0.15 (standalone, default config) by sending, for each
/// name: `COMMAND INFO name` and `COMMAND DOCS name` over RESP3 (after `HELLO 3`), then the same
/// two over RESP2. The file is a RESP stream: per name, the name as a bulk string followed by the
/// four raw replies.
const CAPTURE: &[u8] = include_bytes!("../testdata/redis-7.0.15-command-info-docs.resp");

/// One captured entry: raw bytes of each reply, and the parsed frame.
struct Captured {
    name: String,
    replies: Vec<(Bytes, Frame)>,
}

fn captured() -> Vec<Captured> {
    let mut entries = Vec::new();
    let mut pos = 0;
    let next = |pos: &mut usize| {
        let (frame, used) = Frame::parse(&CAPTURE[*pos..]).unwrap().unwrap();
        let raw = Bytes::copy_from_slice(&CAPTURE[*pos..*pos + used]);
        *pos += used;
        (raw, frame)
    };
    while pos < CAPTURE.len() {
        let (_, Frame::Bulk(name)) = next(&mut pos) else {
            panic!("capture entries start with the name");
        };
        let replies = (0..4).map(|_| next(&mut pos)).collect();
        entries.push(Captured {
            name: String::from_utf8(name.to_vec()).unwrap(),
            replies,
        });
    }
    entries
}

fn encode(frame: &Frame, proto: Protocol) -> Bytes {
    let mut out = BytesMut::new();
    frame.encode(&mut out, proto);
    out.freeze()
}

/// The `COMMAND INFO name` reply for one spec.
fn info_reply(spec: &CommandSpec) -> Frame {
    Frame::Array(vec![spec.info_frame()])
}

/// The `COMMAND DOCS name` reply for one spec.
fn docs_reply(spec: &CommandSpec) -> Frame {
    Frame::Map(vec![(Frame::bulk(spec.name), spec.docs_frame())])
}

/// Every spec, subcommands included.
fn every_spec() -> Vec<&'static CommandSpec> {
    all()
        .iter()
        .flat_map(|spec| std::iter::once(spec).chain(spec.subcommands))
        .collect()
}

#[test]
fn capture_covers_exactly_the_table() {
    let mut captured: Vec<String> = captured().into_iter().map(|c| c.name).collect();
    let mut ours: Vec<String> = every_spec().iter().map(|s| s.name.to_string()).collect();
    captured.sort();
    ours.sort();
    assert_eq!(captured, ours);
}

#[test]
fn info_and_docs_match_redis_byte_for_byte() {
    for entry in captured() {
        let spec = lookup(&entry.name).unwrap();
        if !spec.subcommands.is_empty() {
            continue; // Containers: see the next test.
        }
        let expected = [
            (info_reply(spec), Protocol::Resp3),
            (docs_reply(spec), Protocol::Resp3),
            (info_reply(spec), Protocol::Resp2),
            (docs_reply(spec), Protocol::Resp2),
        ];
        for ((raw, _), (ours, proto)) in entry.replies.iter().zip(expected) {
            let ours = encode(&ours, proto);
            assert_eq!(
                ours,
                raw,
                "{} over {proto:?}:\n ours:  {:?}\n redis: {:?}",
                entry.name,
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(raw)
            );
        }
    }
}

/// Redis lists all 27 `CLUSTER` subcommands (in hash order); we list the ones we support. The
/// rest of the reply must match, and each of our subcommands must appear in Redis' list as is.
#[test]
fn containers_match_redis_apart_from_unsupported_subcommands() {
    for entry in captured() {
        let spec = lookup(&entry.name).unwrap();
        if spec.subcommands.is_empty() {
            continue;
        }
        for (i, proto) in [(0, Protocol::Resp3), (2, Protocol::Resp2)] {
            // INFO: 10 elements, the last one the subcommand list.
            let Frame::Array(reply) = &entry.replies[i].1 else {
                panic!()
            };
            let Frame::Array(redis) = &reply[0] else {
                panic!()
            };
            let Frame::Array(ours) = info_reply(spec) else {
                panic!()
            };
            let Frame::Array(ours) = &ours[0] else {
                panic!()
            };
            let ours: Vec<Frame> = ours.iter().map(|f| reparse(f, proto)).collect();
            assert_eq!(redis[..9], ours[..9], "{} {proto:?}", entry.name);
            let (Frame::Array(redis_subs), Frame::Array(our_subs)) = (&redis[9], &ours[9]) else {
                panic!("subcommands are an array");
            };
            for sub in our_subs {
                assert!(redis_subs.contains(sub), "{sub:?} not in Redis' list");
            }

            // DOCS: a map whose last field is the subcommand map (flattened in RESP2).
            let redis = fields(&entry.replies[i + 1].1)[0].1.clone();
            let ours = reparse(&docs_reply(spec), proto);
            let ours = fields(&ours)[0].1.clone();
            let (redis, ours) = (fields(&redis), fields(&ours));
            assert_eq!(
                redis[..redis.len() - 1],
                ours[..ours.len() - 1],
                "{}",
                entry.name
            );
            let redis_subs = fields(&redis.last().unwrap().1);
            for sub in fields(&ours.last().unwrap().1) {
                assert!(redis_subs.contains(&sub), "{sub:?} not in Redis' docs");
            }
        }
    }
}

/// What a client parsing our bytes over `proto` sees.
fn reparse(frame: &Frame, proto: Protocol) -> Frame {
    Frame::parse(&encode(frame, proto)).unwrap().unwrap().0
}

/// Key-value pairs of a RESP3 map or a RESP2 flattened one.
fn fields(frame: &Frame) -> Vec<(Frame, Frame)> {
    match frame {
        Frame::Map(pairs) => pairs.clone(),
        Frame::Array(items) => items
            .chunks(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect(),
        other => panic!("not a map: {other:?}"),
    }
}

#[test]
fn lookup_is_case_insensitive_and_knows_subcommands() {
    assert_eq!(lookup("GET").unwrap().name, "get");
    assert_eq!(lookup("Cluster|SLOTS").unwrap().name, "cluster|slots");
    assert!(lookup("cluster|addslots").is_none());
    assert!(lookup("get|x").is_none());
    assert!(lookup("nosuch").is_none());
    let listed: Vec<&str> = include_str!("commands.txt")
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty() && !l.contains('|'))
        .collect();
    assert_eq!(all().iter().map(|s| s.name).collect::<Vec<_>>(), listed);
}

#[test]
fn spec_names_are_lower_case_and_unique() {
    let specs = every_spec();
    for spec in &specs {
        assert_eq!(spec.name, spec.name.to_ascii_lowercase());
        assert_eq!(specs.iter().filter(|s| s.name == spec.name).count(), 1);
    }
}

fn args(list: &[&str]) -> Vec<Bytes> {
    list.iter()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect()
}

fn keys(list: &[&str]) -> Result<Vec<String>, CommandError> {
    get_keys(&args(list)).map(|keys| {
        keys.iter()
            .map(|k| String::from_utf8(k.to_vec()).unwrap())
            .collect()
    })
}

// Expected results checked against redis-server 7.0.15.
#[test]
fn getkeys_follows_the_key_specs() {
    assert_eq!(keys(&["GET", "a"]).unwrap(), ["a"]);
    assert_eq!(keys(&["set", "a", "b", "EX", "10"]).unwrap(), ["a"]);
    assert_eq!(keys(&["del", "a", "b", "c"]).unwrap(), ["a", "b", "c"]);
    assert_eq!(keys(&["mset", "a", "1", "b", "2"]).unwrap(), ["a", "b"]);
    assert_eq!(keys(&["mset", "a", "1", "b"]).unwrap(), ["a", "b"]);
    assert_eq!(keys(&["expire", "a", "10", "NX"]).unwrap(), ["a"]);
}

#[test]
fn getkeys_errors_come_in_redis_order() {
    assert_eq!(
        keys(&["foo", "a"]),
        Err(CommandError::GetKeysUnknownCommand)
    );
    assert_eq!(
        keys(&["cluster", "foo", "a"]),
        Err(CommandError::GetKeysUnknownCommand)
    );
    assert_eq!(keys(&["ping", "a"]), Err(CommandError::GetKeysNoKeys));
    // ECHO takes exactly one argument, but "no keys" is checked first.
    assert_eq!(keys(&["echo", "a", "b"]), Err(CommandError::GetKeysNoKeys));
    assert_eq!(
        keys(&["cluster", "keyslot", "a"]),
        Err(CommandError::GetKeysNoKeys)
    );
    assert_eq!(
        keys(&["get", "a", "b"]),
        Err(CommandError::GetKeysWrongArity)
    );
    assert_eq!(keys(&["mset", "a"]), Err(CommandError::GetKeysWrongArity));
}

/// `COMMAND GETKEYS` replies captured from redis-server 7.0.15 by `scripts/gen-command-table.py`
/// for the lines of `table/getkeys-cases.txt`: per line, the line as a RESP array, Redis' reply
/// and the `COMMAND INFO` reply for its first word (all RESP2).
const GETKEYS_CAPTURE: &[u8] = include_bytes!("../testdata/redis-7.0.15-command-getkeys.resp");

struct GetKeysCase {
    args: Vec<Bytes>,
    reply: Frame,
    info: Frame,
}

fn getkeys_cases() -> Vec<GetKeysCase> {
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < GETKEYS_CAPTURE.len() {
        let (frame, used) = Frame::parse(&GETKEYS_CAPTURE[pos..]).unwrap().unwrap();
        frames.push(frame);
        pos += used;
    }
    frames
        .chunks(3)
        .map(|c| {
            let Frame::Array(args) = &c[0] else { panic!() };
            let args = args
                .iter()
                .map(|a| match a {
                    Frame::Bulk(b) => b.clone(),
                    other => panic!("{other:?}"),
                })
                .collect();
            GetKeysCase {
                args,
                reply: c[1].clone(),
                info: c[2].clone(),
            }
        })
        .collect()
}

/// What our `get_keys` result looks like as Redis' reply.
fn as_reply(result: Result<Vec<Bytes>, CommandError>) -> Frame {
    match result {
        Ok(keys) => Frame::Array(keys.into_iter().map(Frame::Bulk).collect()),
        Err(e) => Frame::Error(e.to_string()),
    }
}

fn leak(frame: &Frame) -> &'static str {
    match frame {
        Frame::Bulk(b) => Box::leak(String::from_utf8(b.to_vec()).unwrap().into_boxed_str()),
        Frame::Simple(s) => Box::leak(s.clone().into_boxed_str()),
        other => panic!("not a string: {other:?}"),
    }
}

fn int_of(frame: &Frame) -> i32 {
    match frame {
        Frame::Integer(n) => i32::try_from(*n).unwrap(),
        other => panic!("not an integer: {other:?}"),
    }
}

fn items(frame: &Frame) -> &[Frame] {
    match frame {
        Frame::Array(items) | Frame::Set(items) => items,
        other => panic!("not a list: {other:?}"),
    }
}

fn get<'a>(map: &'a [(Frame, Frame)], name: &str) -> &'a Frame {
    &map.iter()
        .find(|(k, _)| matches!(k, Frame::Bulk(b) if b == name))
        .unwrap_or_else(|| panic!("no {name}"))
        .1
}

/// A spec holding what `COMMAND INFO` says about keys (name, arity, flags, key specs), for the
/// commands we do not serve yet.
fn spec_from_info(info: &Frame) -> &'static CommandSpec {
    use super::super::spec::{CommandDocs, CommandGroup};
    let info = items(info);
    let flags: Vec<Flag> = items(&info[2])
        .iter()
        .map(|f| {
            let name = leak(f);
            *Flag::ALL.iter().find(|x| x.name() == name).unwrap()
        })
        .collect();
    let key_specs: Vec<KeySpec> = items(&info[8])
        .iter()
        .map(|ks| {
            let ks = fields(ks);
            let flags: Vec<Key> = items(get(&ks, "flags"))
                .iter()
                .map(|f| {
                    let name = leak(f);
                    *Key::ALL.iter().find(|x| x.name() == name).unwrap()
                })
                .collect();
            let typed = |name: &str| {
                let m = fields(get(&ks, name));
                (leak(get(&m, "type")), fields(get(&m, "spec")))
            };
            let begin_search = match typed("begin_search") {
                ("index", s) => BeginSearch::Index(int_of(get(&s, "index"))),
                ("keyword", s) => BeginSearch::Keyword {
                    keyword: leak(get(&s, "keyword")),
                    start_from: int_of(get(&s, "startfrom")),
                },
                _ => BeginSearch::Unknown,
            };
            let find_keys = match typed("find_keys") {
                ("range", s) => FindKeys::Range {
                    last_key: int_of(get(&s, "lastkey")),
                    key_step: int_of(get(&s, "keystep")),
                    limit: int_of(get(&s, "limit")),
                },
                ("keynum", s) => FindKeys::Keynum {
                    keynum_index: int_of(get(&s, "keynumidx")),
                    first_key: int_of(get(&s, "firstkey")),
                    key_step: int_of(get(&s, "keystep")),
                },
                _ => FindKeys::Unknown,
            };
            KeySpec::new(Vec::leak(flags), begin_search, find_keys)
        })
        .collect();
    let docs = CommandDocs::new("", "", CommandGroup::Generic, "");
    let spec = CommandSpec::new(leak(&info[0]), int_of(&info[1]), docs, |_| {
        Err(CommandError::Syntax)
    })
    .flags(Vec::leak(flags))
    .keys(0, 0, 0, Vec::leak(key_specs));
    Box::leak(Box::new(spec))
}

/// Every captured line: through the live table when we serve the command, else through a spec
/// built from Redis' `COMMAND INFO` (subcommands resolved as Redis does).
#[test]
fn getkeys_matches_redis_for_captured_lines() {
    let cases = getkeys_cases();
    assert!(cases.len() > 50);
    for case in cases {
        let line: Vec<_> = case
            .args
            .iter()
            .map(|a| String::from_utf8_lossy(a))
            .collect();
        // The request as a client sends it: `COMMAND GETKEYS` has an arity of its own.
        let request: Vec<Bytes> = args(&["command", "getkeys"])
            .into_iter()
            .chain(case.args.iter().cloned())
            .collect();
        let served = find(COMMANDS, &case.args[0]).is_some();
        let ours = if let Err(e) = crate::command::Command::parse(&request) {
            Frame::Error(e.to_string())
        } else if served || matches!(items(&case.info)[0], Frame::Null) {
            as_reply(get_keys(&case.args))
        } else {
            let top = &items(&case.info)[0];
            let subs = items(&items(top)[9]);
            let info = match case.args.get(1) {
                Some(sub) if !subs.is_empty() => subs
                    .iter()
                    .find(|s| {
                        let name = leak(&items(s)[0]);
                        name.rsplit('|')
                            .next()
                            .unwrap()
                            .as_bytes()
                            .eq_ignore_ascii_case(sub)
                    })
                    .expect("subcommand known to Redis"),
                _ => top,
            };
            as_reply(keys_for(spec_from_info(info), &case.args))
        };
        assert_eq!(ours, case.reply, "COMMAND GETKEYS {line:?}");
    }
}

#[test]
fn command_list_walks_subcommands_and_filters_like_redis() {
    let all = list(None);
    assert_eq!(all.len(), every_spec().len());
    assert_eq!(all[0], "ping");
    assert!(all.contains(&"cluster|slots"));
    let aclcat = |c: &str| list(Some(&ListFilter::AclCategory(Bytes::from(c.to_string()))));
    let pattern = |p: &str| list(Some(&ListFilter::Pattern(Bytes::from(p.to_string()))));
    assert_eq!(
        aclcat("STRING"),
        [
            "get",
            "set",
            "getex",
            "getdel",
            "getset",
            "setnx",
            "setex",
            "psetex",
            "mget",
            "mset",
            "msetnx",
            "append",
            "strlen",
            "getrange",
            "setrange",
            "incr",
            "incrby",
            "decr",
            "decrby",
            "incrbyfloat"
        ]
    );
    assert!(aclcat("nosuch").is_empty());
    assert!(aclcat("@string").is_empty());
    assert_eq!(pattern("CLUSTER|S*"), ["cluster|slots", "cluster|shards"]);
    assert_eq!(pattern("p[e-i]?g"), ["ping"]);
    assert_eq!(pattern("*ttl"), ["ttl", "pttl"]);
    assert_eq!(pattern("[^a-z]*"), Vec::<&str>::new());
    assert_eq!(pattern("command\\|count"), ["command|count"]);
    assert_eq!(pattern("*").len(), all.len());
    assert!(list(Some(&ListFilter::Module(Bytes::from_static(b"x")))).is_empty());
}

#[test]
fn glob_matches_like_stringmatchlen() {
    for (pattern, string, expected) in [
        ("a*b", "aXXb", true),
        ("a*b", "aXXc", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("[abc]x", "bx", true),
        ("[^abc]x", "bx", false),
        ("[a-c]", "B", true),
        ("[c-a]", "b", true),
        ("a\\*", "a*", true),
        ("a\\*", "ab", false),
        ("**", "", true),
        ("a*", "a", true),
        ("[ab", "a", true),
    ] {
        assert_eq!(
            crate::glob::glob_match_case(pattern.as_bytes(), string.as_bytes(), true),
            expected,
            "{pattern} {string}"
        );
    }
}
