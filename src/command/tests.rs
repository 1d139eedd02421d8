//! Parsing tests: every command's valid forms and every error path, with Redis 7.0's exact
//! texts (expected texts were checked against redis-server 7.0.15).

use bytes::Bytes;

use super::*;

fn args(line: &[&str]) -> Vec<Bytes> {
    line.iter()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect()
}

fn parse(line: &[&str]) -> Result<Command, CommandError> {
    Command::parse(&args(line))
}

fn ok(line: &[&str]) -> Command {
    parse(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

/// Parses `line`, expecting an error with Redis text `text`.
fn fails(line: &[&str], text: &str) {
    match parse(line) {
        Ok(command) => panic!("{line:?} parsed as {command:?}, expected {text:?}"),
        Err(error) => assert_eq!(error.to_string(), text, "{line:?}"),
    }
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

#[test]
fn unknown_commands_and_subcommands() {
    fails(
        &["foo", "a", "b"],
        "ERR unknown command 'foo', with args beginning with: 'a' 'b' ",
    );
    fails(
        &["foo"],
        "ERR unknown command 'foo', with args beginning with: ",
    );
    // Commands Redis has that we do not support yet.
    fails(
        &["BLPOP", "l", "0"],
        "ERR unknown command 'BLPOP', with args beginning with: 'l' '0' ",
    );
    fails(
        &["cluster", "foo"],
        "ERR unknown subcommand 'foo'. Try CLUSTER HELP.",
    );
    // Topology changes name the slotraft-ctl command that does them.
    fails(
        &["CLUSTER", "addslots", "1"],
        "ERR CLUSTER ADDSLOTS is not supported: slotraft changes its nodes and replicas through \
         Raft (the meta group); slot ranges belong to slot groups, whose replicas move with \
         `slotraft-ctl move-replica` and `slotraft-ctl rebalance` (moving slots between groups \
         is not supported yet)",
    );
    fails(
        &["cluster", "MEET", "127.0.0.1", "7004"],
        "ERR CLUSTER MEET is not supported: slotraft changes its nodes and replicas through Raft \
         (the meta group); start the new node with `slotraft-server --join HOST:GPORT`, then run \
         `slotraft-ctl add-node ID`",
    );
    fails(
        &["cluster", "forget", "abc"],
        "ERR CLUSTER FORGET is not supported: slotraft changes its nodes and replicas through \
         Raft (the meta group); use `slotraft-ctl remove-node ID`",
    );
    fails(
        &["command", "foo"],
        "ERR unknown subcommand 'foo'. Try COMMAND HELP.",
    );
    fails(
        &["Command", "getkeysandflags", "get", "a"],
        "ERR unknown subcommand 'getkeysandflags'. Try COMMAND HELP.",
    );
    assert!(matches!(
        Command::parse(&[]),
        Err(CommandError::UnknownCommand { .. })
    ));
}

#[test]
fn names_are_case_insensitive() {
    assert_eq!(ok(&["gEt", "k"]), Command::Get(b("k")));
    assert_eq!(
        ok(&["ClUsTeR", "SlOtS"]),
        Command::Cluster(ClusterSub::Slots)
    );
}

/// For every spec and argument count: when the count breaks the table arity, parsing fails
/// with that spec's arity error, exactly as Redis' dispatcher does. (Counts within the table
/// arity that a command refuses itself — `LPOP k 1 1`, `SPOP k 1 1` — are checked against a
/// real redis-server by `tests/clients/test_redis_parity.py::test_argument_counts_like_redis`.)
#[test]
fn arity_is_checked_against_the_table_for_every_command() {
    for spec in table::all()
        .iter()
        .flat_map(|s| std::iter::once(s).chain(s.subcommands))
    {
        let names: Vec<&str> = spec.name.split('|').collect();
        for argc in names.len()..=8 {
            let mut line = names.clone();
            line.resize(argc, "1");
            let result = parse(&line);
            if !spec.arity_allows(argc) {
                assert_eq!(
                    result,
                    Err(CommandError::WrongArity(spec.name)),
                    "{line:?} breaks arity {}",
                    spec.arity
                );
            }
        }
    }
    fails(&["get"], "ERR wrong number of arguments for 'get' command");
    fails(
        &["cluster"],
        "ERR wrong number of arguments for 'cluster' command",
    );
    fails(
        &["cluster", "keyslot"],
        "ERR wrong number of arguments for 'cluster|keyslot' command",
    );
    fails(
        &["cluster", "slots", "x"],
        "ERR wrong number of arguments for 'cluster|slots' command",
    );
    fails(
        &["command", "count", "x"],
        "ERR wrong number of arguments for 'command|count' command",
    );
    fails(
        &["command", "getkeys", "get"],
        "ERR wrong number of arguments for 'command|getkeys' command",
    );
}

#[test]
fn ping_echo_quit() {
    assert_eq!(ok(&["PING"]), Command::Ping(None));
    assert_eq!(ok(&["ping", "hi"]), Command::Ping(Some(b("hi"))));
    fails(
        &["ping", "a", "b"],
        "ERR wrong number of arguments for 'ping' command",
    );
    assert_eq!(ok(&["echo", "x"]), Command::Echo(b("x")));
    fails(
        &["echo"],
        "ERR wrong number of arguments for 'echo' command",
    );
    assert_eq!(ok(&["QUIT"]), Command::Quit);
    assert_eq!(ok(&["quit", "ignored"]), Command::Quit);
}

#[test]
fn hello_forms() {
    assert_eq!(
        ok(&["HELLO"]),
        Command::Hello {
            protover: None,
            auth: None,
            setname: None
        }
    );
    assert_eq!(
        ok(&["hello", "3", "AUTH", "user", "pass", "setname", "conn-1"]),
        Command::Hello {
            protover: Some(3),
            auth: Some((b("user"), b("pass"))),
            setname: Some(b("conn-1")),
        }
    );
    assert_eq!(
        ok(&["hello", "2", "setname", ""]),
        Command::Hello {
            protover: Some(2),
            auth: None,
            setname: Some(b("")),
        }
    );
}

#[test]
fn hello_errors() {
    for version in ["1", "4", "-1", "4294967298"] {
        fails(&["hello", version], "NOPROTO unsupported protocol version");
    }
    fails(
        &["hello", "x"],
        "ERR Protocol version is not an integer or out of range",
    );
    fails(
        &["hello", "3", "foo"],
        "ERR Syntax error in HELLO option 'foo'",
    );
    fails(
        &["hello", "3", "auth", "a"],
        "ERR Syntax error in HELLO option 'auth'",
    );
    fails(
        &["hello", "3", "setname"],
        "ERR Syntax error in HELLO option 'setname'",
    );
    fails(
        &["hello", "3", "setname", "a b"],
        "ERR Client names cannot contain spaces, newlines or special characters.",
    );
}

#[test]
fn select_takes_any_c_int() {
    assert_eq!(ok(&["select", "0"]), Command::Select(0));
    assert_eq!(ok(&["select", "15"]), Command::Select(15));
    assert_eq!(ok(&["select", "-2147483648"]), Command::Select(-2147483648));
    fails(&["select", "x"], NOT_INTEGER);
    fails(
        &["select", "99999999999"],
        "ERR value is out of range, value must between -2147483648 and 2147483647",
    );
}

#[test]
fn readonly_readwrite_dbsize_info() {
    assert_eq!(ok(&["READONLY"]), Command::ReadOnly);
    assert_eq!(ok(&["readwrite"]), Command::ReadWrite);
    fails(
        &["readonly", "x"],
        "ERR wrong number of arguments for 'readonly' command",
    );
    assert_eq!(ok(&["dbsize"]), Command::DbSize);
    assert_eq!(ok(&["INFO"]), Command::Info(vec![]));
    assert_eq!(
        ok(&["info", "Server", "CLIENTS"]),
        Command::Info(vec!["server".into(), "clients".into()])
    );
}

#[test]
fn command_subcommands() {
    assert_eq!(ok(&["COMMAND"]), Command::Command(CommandSub::All));
    assert_eq!(
        ok(&["command", "COUNT"]),
        Command::Command(CommandSub::Count)
    );
    assert_eq!(
        ok(&["command", "list"]),
        Command::Command(CommandSub::List(None))
    );
    assert_eq!(
        ok(&["command", "list", "FilterBy", "AclCat", "string"]),
        Command::Command(CommandSub::List(Some(ListFilter::AclCategory(
            "string".into()
        ))))
    );
    assert_eq!(
        ok(&["command", "list", "filterby", "pattern", "c*"]),
        Command::Command(CommandSub::List(Some(ListFilter::Pattern("c*".into()))))
    );
    assert_eq!(
        ok(&["command", "list", "filterby", "module", "m"]),
        Command::Command(CommandSub::List(Some(ListFilter::Module("m".into()))))
    );
    fails(&["command", "list", "x"], SYNTAX);
    fails(&["command", "list", "filterby", "nosuch", "x"], SYNTAX);
    fails(&["command", "list", "filterby", "pattern"], SYNTAX);
    fails(
        &["command", "list", "filterby", "pattern", "a", "b"],
        SYNTAX,
    );
    assert_eq!(ok(&["command", "help"]), Command::Command(CommandSub::Help));
    assert_eq!(
        ok(&["command", "info"]),
        Command::Command(CommandSub::Info(vec![]))
    );
    assert_eq!(
        ok(&["command", "info", "get", "set"]),
        Command::Command(CommandSub::Info(args(&["get", "set"])))
    );
    assert_eq!(
        ok(&["command", "docs", "get"]),
        Command::Command(CommandSub::Docs(args(&["get"])))
    );
    assert_eq!(
        ok(&["command", "getkeys", "set", "k", "v"]),
        Command::Command(CommandSub::GetKeys(args(&["set", "k", "v"])))
    );
}

#[test]
fn cluster_subcommands() {
    let cases: &[(&[&str], ClusterSub)] = &[
        (&["cluster", "slots"], ClusterSub::Slots),
        (&["cluster", "shards"], ClusterSub::Shards),
        (&["cluster", "nodes"], ClusterSub::Nodes),
        (&["cluster", "info"], ClusterSub::Info),
        (&["cluster", "myid"], ClusterSub::MyId),
        (&["cluster", "help"], ClusterSub::Help),
        (
            &["cluster", "keyslot", "{user}x"],
            ClusterSub::KeySlot(b("{user}x")),
        ),
        (
            &["cluster", "countkeysinslot", "0"],
            ClusterSub::CountKeysInSlot(0),
        ),
        (
            &["cluster", "countkeysinslot", "16383"],
            ClusterSub::CountKeysInSlot(16383),
        ),
    ];
    for (line, sub) in cases {
        let command = ok(line);
        assert_eq!(command, Command::Cluster(sub.clone()));
        assert_eq!(
            Command::parse_named(&args(line)).unwrap().0,
            format!("cluster|{}", line[1])
        );
    }
    fails(&["cluster", "countkeysinslot", "16384"], "ERR Invalid slot");
    fails(&["cluster", "countkeysinslot", "-1"], "ERR Invalid slot");
    fails(&["cluster", "countkeysinslot", "abc"], NOT_INTEGER);
}

#[test]
fn get_del_exists_mget_ttl_persist() {
    assert_eq!(ok(&["GET", "k"]), Command::Get(b("k")));
    assert_eq!(ok(&["del", "a", "b"]), Command::Del(args(&["a", "b"])));
    assert_eq!(ok(&["exists", "a"]), Command::Exists(args(&["a"])));
    assert_eq!(ok(&["mget", "a", "b"]), Command::MGet(args(&["a", "b"])));
    assert_eq!(
        ok(&["ttl", "k"]),
        Command::Ttl {
            key: b("k"),
            unit: TimeUnit::Seconds
        }
    );
    assert_eq!(
        ok(&["PTTL", "k"]),
        Command::Ttl {
            key: b("k"),
            unit: TimeUnit::Milliseconds
        }
    );
    assert_eq!(ok(&["persist", "k"]), Command::Persist(b("k")));
    fails(&["del"], "ERR wrong number of arguments for 'del' command");
}

#[test]
fn counters() {
    let incr = |key: &str, delta| Command::IncrBy { key: b(key), delta };
    assert_eq!(ok(&["INCR", "n"]), incr("n", 1));
    assert_eq!(ok(&["decr", "n"]), incr("n", -1));
    assert_eq!(ok(&["incrby", "n", "-5"]), incr("n", -5));
    assert_eq!(ok(&["decrby", "n", "5"]), incr("n", -5));
    assert_eq!(
        ok(&["decrby", "n", "-9223372036854775807"]),
        incr("n", i64::MAX)
    );
    assert_eq!(
        ok(&["incrby", "n", "-9223372036854775808"]),
        incr("n", i64::MIN)
    );
    fails(
        &["decrby", "n", "-9223372036854775808"],
        "ERR decrement would overflow",
    );
    for bad in [" 1", "+1", "01", "1.5", "x", "9223372036854775808"] {
        fails(&["incrby", "n", bad], NOT_INTEGER);
        fails(&["decrby", "n", bad], NOT_INTEGER);
    }
}

#[test]
fn mset_pairs() {
    assert_eq!(
        ok(&["MSET", "a", "1", "b", "2"]),
        Command::MSet(vec![(b("a"), b("1")), (b("b"), b("2"))])
    );
    fails(
        &["mset", "a", "1", "b"],
        "ERR wrong number of arguments for 'mset' command",
    );
    fails(
        &["mset", "a"],
        "ERR wrong number of arguments for 'mset' command",
    );
}

fn set(condition: SetCondition, expiry: SetExpiry, get: bool) -> Command {
    Command::Set(SetArgs {
        key: b("k"),
        value: b("v"),
        condition,
        expiry,
        get,
    })
}

#[test]
fn set_options() {
    use SetCondition::*;
    use TimeUnit::*;
    let cases: &[(&[&str], Command)] = &[
        (&[], set(Always, SetExpiry::None, false)),
        (&["NX"], set(IfNotExists, SetExpiry::None, false)),
        (&["xx"], set(IfExists, SetExpiry::None, false)),
        (&["nx", "nx"], set(IfNotExists, SetExpiry::None, false)),
        (&["NX", "GET"], set(IfNotExists, SetExpiry::None, true)),
        (&["get", "xx"], set(IfExists, SetExpiry::None, true)),
        (&["KEEPTTL"], set(Always, SetExpiry::KeepTtl, false)),
        (
            &["ex", "10"],
            set(Always, SetExpiry::In(Seconds, 10), false),
        ),
        (
            &["PX", "1500"],
            set(Always, SetExpiry::In(Milliseconds, 1500), false),
        ),
        (
            &["EXAT", "1700000000"],
            set(Always, SetExpiry::At(Seconds, 1700000000), false),
        ),
        (
            &["pxat", "1700000000000"],
            set(Always, SetExpiry::At(Milliseconds, 1700000000000), false),
        ),
        (
            &["ex", "1", "ex", "2"],
            set(Always, SetExpiry::In(Seconds, 2), false),
        ),
        (
            &["EX", "10", "NX", "GET"],
            set(IfNotExists, SetExpiry::In(Seconds, 10), true),
        ),
        (
            &["px", "9223372036854775807"],
            set(Always, SetExpiry::In(Milliseconds, i64::MAX), false),
        ),
        (
            &["ex", "9223372036854775"],
            set(Always, SetExpiry::In(Seconds, 9223372036854775), false),
        ),
    ];
    for (options, expected) in cases {
        let mut line = vec!["SET", "k", "v"];
        line.extend_from_slice(options);
        assert_eq!(&ok(&line), expected, "{line:?}");
    }
}

#[test]
fn set_errors() {
    let set_with = |options: &[&str], text: &str| {
        let mut line = vec!["set", "k", "v"];
        line.extend_from_slice(options);
        fails(&line, text);
    };
    let invalid = "ERR invalid expire time in 'set' command";
    set_with(&["nx", "xx"], SYNTAX);
    set_with(&["xx", "nx"], SYNTAX);
    set_with(&["ex"], SYNTAX);
    set_with(&["ex", "1", "px", "1"], SYNTAX);
    set_with(&["exat", "1", "ex", "1"], SYNTAX);
    set_with(&["keepttl", "ex", "1"], SYNTAX);
    set_with(&["ex", "1", "keepttl"], SYNTAX);
    set_with(&["foo"], SYNTAX);
    set_with(&["ex", "abc", "nx", "xx"], SYNTAX);
    set_with(&["ex", "abc"], NOT_INTEGER);
    set_with(&["ex", "0"], invalid);
    set_with(&["px", "-1"], invalid);
    set_with(&["exat", "0"], invalid);
    set_with(&["pxat", "-1"], invalid);
    set_with(&["ex", "9223372036854776"], invalid);
    set_with(&["exat", "9223372036854776"], invalid);
}

#[test]
fn set_deadlines_add_the_leaders_clock() {
    use TimeUnit::*;
    let now = 1_700_000_000_000;
    assert_eq!(SetExpiry::None.deadline_ms(now), Ok(None));
    assert_eq!(SetExpiry::KeepTtl.deadline_ms(now), Ok(None));
    assert_eq!(
        SetExpiry::In(Seconds, 10).deadline_ms(now),
        Ok(Some(now + 10_000))
    );
    assert_eq!(
        SetExpiry::In(Milliseconds, 5).deadline_ms(now),
        Ok(Some(now + 5))
    );
    assert_eq!(SetExpiry::At(Seconds, 2).deadline_ms(now), Ok(Some(2000)));
    assert_eq!(
        SetExpiry::In(Milliseconds, i64::MAX).deadline_ms(now),
        Err(CommandError::InvalidExpireTime("set"))
    );
}

#[test]
fn expire_forms() {
    use ExpireCondition::*;
    let expire = |amount, unit, condition| Command::Expire {
        key: b("k"),
        amount,
        unit,
        condition,
    };
    let cases: &[(&[&str], Command)] = &[
        (
            &["expire", "k", "10"],
            expire(10, TimeUnit::Seconds, Always),
        ),
        (
            &["PEXPIRE", "k", "-5"],
            expire(-5, TimeUnit::Milliseconds, Always),
        ),
        (
            &["expire", "k", "10", "nx"],
            expire(10, TimeUnit::Seconds, Nx),
        ),
        (
            &["expire", "k", "10", "XX"],
            expire(10, TimeUnit::Seconds, Xx),
        ),
        (
            &["expire", "k", "10", "gt"],
            expire(10, TimeUnit::Seconds, Gt),
        ),
        (
            &["expire", "k", "10", "xx", "gt"],
            expire(10, TimeUnit::Seconds, Gt),
        ),
        (
            &["expire", "k", "10", "lt"],
            expire(10, TimeUnit::Seconds, Lt),
        ),
        (
            &["expire", "k", "10", "lt", "xx"],
            expire(10, TimeUnit::Seconds, XxLt),
        ),
        (
            &["expire", "k", "10", "nx", "nx"],
            expire(10, TimeUnit::Seconds, Nx),
        ),
        (
            &["expire", "k", "-9223372036854775"],
            expire(-9223372036854775, TimeUnit::Seconds, Always),
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(&ok(line), expected, "{line:?}");
    }
    assert_eq!(
        Command::parse_named(&args(&["pexpire", "k", "1"]))
            .unwrap()
            .0,
        "pexpire"
    );
}

#[test]
fn expire_errors_in_redis_order() {
    fails(&["expire", "k", "abc", "foo"], "ERR Unsupported option foo");
    fails(
        &["expire", "k", "abc", "nx", "xx"],
        "ERR NX and XX, GT or LT options at the same time are not compatible",
    );
    fails(
        &["expire", "k", "10", "nx", "gt"],
        "ERR NX and XX, GT or LT options at the same time are not compatible",
    );
    fails(
        &["expire", "k", "10", "gt", "lt"],
        "ERR GT and LT options at the same time are not compatible",
    );
    fails(&["expire", "k", "abc"], NOT_INTEGER);
    fails(
        &["expire", "k", "9223372036854776"],
        "ERR invalid expire time in 'expire' command",
    );
    fails(
        &["expire", "k", "-9223372036854776"],
        "ERR invalid expire time in 'expire' command",
    );
}

#[test]
fn names_keys_and_write_flags_come_from_the_table() {
    let cases: &[(&[&str], &str, &[&str], bool)] = &[
        (&["ping"], "ping", &[], false),
        (&["hello"], "hello", &[], false),
        (&["command", "count"], "command|count", &[], false),
        (&["cluster", "keyslot", "k"], "cluster|keyslot", &[], false),
        (&["get", "k"], "get", &["k"], false),
        (&["set", "k", "v"], "set", &["k"], true),
        (&["incr", "k"], "incr", &["k"], true),
        (&["del", "a", "b"], "del", &["a", "b"], true),
        (&["exists", "a", "b"], "exists", &["a", "b"], false),
        (&["mget", "a", "b"], "mget", &["a", "b"], false),
        (&["mset", "a", "1", "b", "2"], "mset", &["a", "b"], true),
        (&["expire", "k", "1"], "expire", &["k"], true),
        (&["ttl", "k"], "ttl", &["k"], false),
        (&["persist", "k"], "persist", &["k"], true),
        (&["dbsize"], "dbsize", &[], false),
    ];
    for (line, name, keys, write) in cases {
        // The name, keys and write flag all come from the one table.
        let (parsed_name, _) = Command::parse_named(&args(line)).unwrap();
        assert_eq!(parsed_name, *name);
        let spec = table::lookup(parsed_name).expect("in the table");
        assert_eq!(
            table::get_keys(&args(line)).unwrap_or_default(),
            args(keys),
            "{line:?}"
        );
        assert_eq!(spec.has_flag(spec::CommandFlag::Write), *write, "{line:?}");
    }
}

#[test]
fn client_name_rule() {
    assert_eq!(connection::validate_client_name(b""), Ok(()));
    assert_eq!(connection::validate_client_name(b"app-1:x"), Ok(()));
    for bad in [&b"a b"[..], b"a\nb", b"\x7f", "é".as_bytes()] {
        assert_eq!(
            connection::validate_client_name(bad),
            Err(CommandError::InvalidClientName)
        );
    }
}

#[test]
fn client_setinfo_is_served_outside_the_7_0_table() {
    assert_eq!(
        ok(&["client", "SETINFO", "lib-name", "redis-py(redis-py_v5)"]),
        Command::Client(ClientSub::SetInfo(
            LibAttr::Name,
            b("redis-py(redis-py_v5)")
        ))
    );
    assert_eq!(
        ok(&["CLIENT", "setinfo", "LIB-VER", ""]),
        Command::Client(ClientSub::SetInfo(LibAttr::Version, b("")))
    );
    fails(
        &["CLIENT", "SETINFO", "lib-name"],
        "ERR wrong number of arguments for 'client|setinfo' command",
    );
    fails(
        &["CLIENT", "SETINFO", "lib-name", "a", "b"],
        "ERR wrong number of arguments for 'client|setinfo' command",
    );
    fails(
        &["CLIENT", "SETINFO", "Lib-Color", "x"],
        "ERR Unrecognized option 'Lib-Color'",
    );
    fails(
        &["CLIENT", "SETINFO", "lib-ver", "1 2"],
        "ERR lib-ver cannot contain spaces, newlines or special characters.",
    );
    // Not in the command table: COMMAND INFO answers as Redis 7.0.15 does.
    assert!(table::lookup("client|setinfo").is_none());
}
