//! The command table: every supported command with its Redis 7.0 metadata and its parser, and
//! the look-ups built on it (name resolution with arity check, `COMMAND GETKEYS`).
//!
//! Values are copied from Redis 7.0.15's `COMMAND INFO` and `COMMAND DOCS` replies, and a test
//! compares the frames we build with replies captured from that server
//! (`testdata/redis-7.0.15-command-info-docs.resp`). Adding a command means adding its entry
//! here, its variant in `Command`, and its replies to the capture.

use bytes::Bytes;

use super::spec::{
    AclCategory as Acl, Arg, ArgKind, BeginSearch, CommandDocs, CommandFlag as Flag,
    CommandGroup as Group, CommandSpec, FindKeys, KeySpec, KeySpecFlag as Key,
};
use super::{cluster, connection, keyspace, server, string, CommandError};

/// Every supported top-level command.
pub fn all() -> &'static [CommandSpec] {
    COMMANDS
}

/// The spec named `name`, any case; `container|sub` names a subcommand (`cluster|slots`), as in
/// `COMMAND INFO`.
pub fn lookup(name: &str) -> Option<&'static CommandSpec> {
    match name.split_once('|') {
        None => find(COMMANDS, name.as_bytes()),
        Some((container, sub)) => find(
            find(COMMANDS, container.as_bytes())?.subcommands,
            sub.as_bytes(),
        ),
    }
}

fn find(specs: &'static [CommandSpec], name: &[u8]) -> Option<&'static CommandSpec> {
    specs
        .iter()
        .find(|spec| spec.short_name().as_bytes().eq_ignore_ascii_case(name))
}

/// The command or subcommand a request names, as Redis' `lookupCommand` picks it: the
/// subcommand named by the second argument when the first is a container and there is a second
/// argument, the command itself otherwise. Checks existence and arity, in that order.
fn command_of(args: &[Bytes]) -> Result<&'static CommandSpec, Unresolved> {
    let name = args.first().ok_or(Unresolved::UnknownCommand)?;
    let base = find(COMMANDS, name).ok_or(Unresolved::UnknownCommand)?;
    match args.get(1) {
        Some(sub) if !base.subcommands.is_empty() => {
            find(base.subcommands, sub).ok_or(Unresolved::UnknownSubcommand)
        }
        _ => Ok(base),
    }
}

/// Why a request names no spec.
enum Unresolved {
    UnknownCommand,
    UnknownSubcommand,
}

/// The spec a request names, or the error Redis gives: unknown command, unknown subcommand,
/// then wrong arity.
pub(crate) fn resolve(args: &[Bytes]) -> Result<&'static CommandSpec, CommandError> {
    let spec = command_of(args).map_err(|why| match why {
        Unresolved::UnknownCommand => CommandError::UnknownCommand {
            name: args.first().cloned().unwrap_or_default(),
            args: args.iter().skip(1).cloned().collect(),
        },
        Unresolved::UnknownSubcommand => CommandError::UnknownSubcommand {
            cmd: args[0].clone(),
            sub: args[1].clone(),
        },
    })?;
    if !spec.arity_allows(args.len()) {
        return Err(CommandError::WrongArity(spec.name));
    }
    Ok(spec)
}

/// `COMMAND GETKEYS`: the keys of the command line `args` (name first), found through the key
/// specs as Redis' `getKeysUsingKeySpecs` does. Checks, in Redis' order: the command exists,
/// it has keys at all, the argument count fits its arity.
pub fn get_keys(args: &[Bytes]) -> Result<Vec<Bytes>, CommandError> {
    let spec = command_of(args).map_err(|_| CommandError::GetKeysUnknownCommand)?;
    if spec.key_specs.is_empty() {
        return Err(CommandError::GetKeysNoKeys);
    }
    if !spec.arity_allows(args.len()) {
        return Err(CommandError::GetKeysWrongArity);
    }
    let argc = args.len() as i64;
    let mut keys = Vec::new();
    for key_spec in spec.key_specs {
        let (first, last, step) = match (key_spec.begin_search, key_spec.find_keys) {
            (
                BeginSearch::Index(first),
                FindKeys::Range {
                    last_key,
                    key_step,
                    limit,
                },
            ) => {
                let first = i64::from(first);
                let last = if last_key >= 0 {
                    first + i64::from(last_key)
                } else if limit == 0 {
                    argc + i64::from(last_key)
                } else {
                    first + ((argc - first) / i64::from(limit) + i64::from(last_key))
                };
                (first, last, i64::from(key_step))
            }
            // No supported command has keyword or keynum specs yet; Redis would treat a spec
            // it cannot follow like this: no keys from it.
            _ => continue,
        };
        // Out of bounds means the arguments do not fit the spec: Redis returns no keys at all.
        if last >= argc || last < first || first >= argc || step <= 0 {
            return Ok(Vec::new());
        }
        let mut i = first;
        while i <= last {
            keys.push(args[i as usize].clone());
            i += step;
        }
    }
    if keys.is_empty() && !spec.has_flag(Flag::NoMandatoryKeys) {
        return Err(CommandError::GetKeysInvalidArguments);
    }
    Ok(keys)
}

// Recurring values, named as Redis' JSON command files would describe them.
const CONNECTION: &[Acl] = &[Acl::Fast, Acl::Connection];
const COMMAND_ACL: &[Acl] = &[Acl::Slow, Acl::Connection];
const LOADING_STALE: &[Flag] = &[Flag::Loading, Flag::Stale];
const LOADING_STALE_FAST: &[Flag] = &[Flag::Loading, Flag::Stale, Flag::Fast];
const NO_AUTH: &[Flag] = &[
    Flag::Noscript,
    Flag::Loading,
    Flag::Stale,
    Flag::Fast,
    Flag::NoAuth,
    Flag::AllowBusy,
];
const OUTPUT_ORDER: &[&str] = &["nondeterministic_output_order"];
const OUTPUT: &[&str] = &["nondeterministic_output"];
const KEY: &[Arg] = &[Arg::key("key", 0)];
const KEYS: &[Arg] = &[Arg::key("key", 0).multiple()];
const COMMAND_NAMES: &[Arg] = &[Arg::new("command-name", ArgKind::String)
    .optional()
    .multiple()];
const ONE_KEY_RW_UPDATE: &[KeySpec] = &[KeySpec::range(&[Key::Rw, Key::Update], 1, 0, 1)];
const ONE_KEY_RO_ACCESS: &[KeySpec] = &[KeySpec::range(&[Key::Ro, Key::Access], 1, 0, 1)];
const ONE_KEY_COUNTER: &[KeySpec] = &[KeySpec::range(
    &[Key::Rw, Key::Access, Key::Update],
    1,
    0,
    1,
)];
const COUNTER_FLAGS: &[Flag] = &[Flag::Write, Flag::Denyoom, Flag::Fast];
const COUNTER_ACL: &[Acl] = &[Acl::Write, Acl::String, Acl::Fast];
const EXPIRE_CONDITION: Arg = Arg::new("condition", ArgKind::OneOf)
    .since("7.0.0")
    .optional()
    .members(&[
        Arg::pure_token("nx", "NX"),
        Arg::pure_token("xx", "XX"),
        Arg::pure_token("gt", "GT"),
        Arg::pure_token("lt", "LT"),
    ]);
const EXPIRE_HISTORY: &[(&str, &str)] = &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")];
const TTL_HISTORY: &[(&str, &str)] = &[("2.8.0", "Added the -2 reply.")];
const MULTI_KEY_SUM: &[&str] = &["request_policy:multi_shard", "response_policy:agg_sum"];

const COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "command|count",
        2,
        CommandDocs::new(
            "Get total number of Redis commands",
            "2.8.13",
            Group::Server,
            "O(1)",
        ),
        server::parse_command_count,
    )
    .flags(LOADING_STALE)
    .acl(COMMAND_ACL),
    CommandSpec::new(
        "command|docs",
        -2,
        CommandDocs::new(
            "Get array of specific Redis command documentation",
            "7.0.0",
            Group::Server,
            "O(N) where N is the number of commands to look up",
        )
        .arguments(COMMAND_NAMES),
        server::parse_command_docs,
    )
    .flags(LOADING_STALE)
    .acl(COMMAND_ACL)
    .tips(OUTPUT_ORDER),
    CommandSpec::new(
        "command|info",
        -2,
        CommandDocs::new(
            "Get array of specific Redis command details, or all when no argument is given.",
            "2.8.13",
            Group::Server,
            "O(N) where N is the number of commands to look up",
        )
        .history(&[(
            "7.0.0",
            "Allowed to be called with no argument to get info on all commands.",
        )])
        .arguments(COMMAND_NAMES),
        server::parse_command_info,
    )
    .flags(LOADING_STALE)
    .acl(COMMAND_ACL)
    .tips(OUTPUT_ORDER),
    CommandSpec::new(
        "command|list",
        -2,
        CommandDocs::new(
            "Get an array of Redis command names",
            "7.0.0",
            Group::Server,
            "O(N) where N is the total number of Redis commands",
        )
        .arguments(&[Arg::new("filterby", ArgKind::OneOf)
            .token("FILTERBY")
            .optional()
            .members(&[
                Arg::new("module-name", ArgKind::String).token("MODULE"),
                Arg::new("category", ArgKind::String).token("ACLCAT"),
                Arg::new("pattern", ArgKind::Pattern).token("PATTERN"),
            ])]),
        server::parse_command_list,
    )
    .flags(LOADING_STALE)
    .acl(COMMAND_ACL)
    .tips(OUTPUT_ORDER),
    CommandSpec::new(
        "command|getkeys",
        -4,
        CommandDocs::new(
            "Extract keys given a full Redis command",
            "2.8.13",
            Group::Server,
            "O(N) where N is the number of arguments to the command",
        ),
        server::parse_command_getkeys,
    )
    .flags(LOADING_STALE)
    .acl(COMMAND_ACL),
    CommandSpec::new(
        "command|help",
        2,
        CommandDocs::new(
            "Show helpful text about the different subcommands",
            "5.0.0",
            Group::Server,
            "O(1)",
        ),
        server::parse_command_help,
    )
    .flags(LOADING_STALE)
    .acl(COMMAND_ACL),
];

const CLUSTER_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "cluster|slots",
        2,
        CommandDocs::new(
            "Get array of Cluster slot to node mappings",
            "3.0.0",
            Group::Cluster,
            "O(N) where N is the total number of Cluster nodes",
        )
        .deprecated("7.0.0", "`CLUSTER SHARDS`")
        .history(&[
            ("4.0.0", "Added node IDs."),
            ("7.0.0", "Added additional networking metadata field."),
        ]),
        cluster::parse_slots,
    )
    .flags(&[Flag::Stale])
    .acl(&[Acl::Slow])
    .tips(OUTPUT),
    CommandSpec::new(
        "cluster|shards",
        2,
        CommandDocs::new(
            "Get array of cluster slots to node mappings",
            "7.0.0",
            Group::Cluster,
            "O(N) where N is the total number of cluster nodes",
        ),
        cluster::parse_shards,
    )
    .flags(&[Flag::Stale])
    .acl(&[Acl::Slow])
    .tips(OUTPUT),
    CommandSpec::new(
        "cluster|nodes",
        2,
        CommandDocs::new(
            "Get Cluster config for the node",
            "3.0.0",
            Group::Cluster,
            "O(N) where N is the total number of Cluster nodes",
        ),
        cluster::parse_nodes,
    )
    .flags(&[Flag::Stale])
    .acl(&[Acl::Slow])
    .tips(OUTPUT),
    CommandSpec::new(
        "cluster|keyslot",
        3,
        CommandDocs::new(
            "Returns the hash slot of the specified key",
            "3.0.0",
            Group::Cluster,
            "O(N) where N is the number of bytes in the key",
        )
        .arguments(&[Arg::new("key", ArgKind::String)]),
        cluster::parse_keyslot,
    )
    .flags(&[Flag::Stale])
    .acl(&[Acl::Slow]),
    CommandSpec::new(
        "cluster|info",
        2,
        CommandDocs::new(
            "Provides info about Redis Cluster node state",
            "3.0.0",
            Group::Cluster,
            "O(1)",
        ),
        cluster::parse_info,
    )
    .flags(&[Flag::Stale])
    .acl(&[Acl::Slow])
    .tips(OUTPUT),
    CommandSpec::new(
        "cluster|myid",
        2,
        CommandDocs::new("Return the node id", "3.0.0", Group::Cluster, "O(1)"),
        cluster::parse_myid,
    )
    .flags(&[Flag::Stale])
    .acl(&[Acl::Slow]),
    CommandSpec::new(
        "cluster|countkeysinslot",
        3,
        CommandDocs::new(
            "Return the number of local keys in the specified hash slot",
            "3.0.0",
            Group::Cluster,
            "O(1)",
        )
        .arguments(&[Arg::new("slot", ArgKind::Integer)]),
        cluster::parse_countkeysinslot,
    )
    .flags(&[Flag::Stale])
    .acl(&[Acl::Slow]),
    CommandSpec::new(
        "cluster|help",
        2,
        CommandDocs::new(
            "Show helpful text about the different subcommands",
            "5.0.0",
            Group::Cluster,
            "O(1)",
        ),
        cluster::parse_help,
    )
    .flags(LOADING_STALE)
    .acl(&[Acl::Slow]),
];

static COMMANDS: &[CommandSpec] = &[
    // Connection.
    CommandSpec::new(
        "ping",
        -1,
        CommandDocs::new("Ping the server", "1.0.0", Group::Connection, "O(1)")
            .arguments(&[Arg::new("message", ArgKind::String).optional()]),
        connection::parse_ping,
    )
    .flags(&[Flag::Fast])
    .acl(CONNECTION)
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new(
        "echo",
        2,
        CommandDocs::new("Echo the given string", "1.0.0", Group::Connection, "O(1)")
            .arguments(&[Arg::new("message", ArgKind::String)]),
        connection::parse_echo,
    )
    .flags(LOADING_STALE_FAST)
    .acl(CONNECTION),
    CommandSpec::new(
        "hello",
        -1,
        CommandDocs::new("Handshake with Redis", "6.0.0", Group::Connection, "O(1)")
            .history(&[(
                "6.2.0",
                "`protover` made optional; when called without arguments the command reports \
                 the current connection's context.",
            )])
            .arguments(
                &[Arg::new("arguments", ArgKind::Block).optional().members(&[
                    Arg::new("protover", ArgKind::Integer),
                    Arg::new("username_password", ArgKind::Block)
                        .token("AUTH")
                        .optional()
                        .members(&[
                            Arg::new("username", ArgKind::String),
                            Arg::new("password", ArgKind::String),
                        ]),
                    Arg::new("clientname", ArgKind::String)
                        .token("SETNAME")
                        .optional(),
                ])],
            ),
        connection::parse_hello,
    )
    .flags(NO_AUTH)
    .acl(CONNECTION),
    CommandSpec::new(
        "quit",
        -1,
        CommandDocs::new("Close the connection", "1.0.0", Group::Connection, "O(1)"),
        connection::parse_quit,
    )
    .flags(NO_AUTH)
    .acl(CONNECTION),
    CommandSpec::new(
        "select",
        2,
        CommandDocs::new(
            "Change the selected database for the current connection",
            "1.0.0",
            Group::Connection,
            "O(1)",
        )
        .arguments(&[Arg::new("index", ArgKind::Integer)]),
        connection::parse_select,
    )
    .flags(LOADING_STALE_FAST)
    .acl(CONNECTION),
    CommandSpec::new(
        "readonly",
        1,
        CommandDocs::new(
            "Enables read queries for a connection to a cluster replica node",
            "3.0.0",
            Group::Cluster,
            "O(1)",
        ),
        connection::parse_readonly,
    )
    .flags(LOADING_STALE_FAST)
    .acl(CONNECTION),
    CommandSpec::new(
        "readwrite",
        1,
        CommandDocs::new(
            "Disables read queries for a connection to a cluster replica node",
            "3.0.0",
            Group::Cluster,
            "O(1)",
        ),
        connection::parse_readwrite,
    )
    .flags(LOADING_STALE_FAST)
    .acl(CONNECTION),
    // Server.
    CommandSpec::new(
        "command",
        -1,
        CommandDocs::new(
            "Get array of Redis command details",
            "2.8.13",
            Group::Server,
            "O(N) where N is the total number of Redis commands",
        ),
        server::parse_command,
    )
    .flags(LOADING_STALE)
    .acl(COMMAND_ACL)
    .tips(OUTPUT_ORDER)
    .subcommands(COMMAND_SUBCOMMANDS),
    CommandSpec::new(
        "info",
        -1,
        CommandDocs::new(
            "Get information and statistics about the server",
            "1.0.0",
            Group::Server,
            "O(1)",
        )
        .history(&[(
            "7.0.0",
            "Added support for taking multiple section arguments.",
        )])
        .arguments(&[Arg::new("section", ArgKind::String).optional().multiple()]),
        server::parse_info,
    )
    .flags(LOADING_STALE)
    .acl(&[Acl::Slow, Acl::Dangerous])
    .tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ]),
    CommandSpec::new(
        "dbsize",
        1,
        CommandDocs::new(
            "Return the number of keys in the selected database",
            "1.0.0",
            Group::Server,
            "O(1)",
        ),
        server::parse_dbsize,
    )
    .flags(&[Flag::Readonly, Flag::Fast])
    .acl(&[Acl::Keyspace, Acl::Read, Acl::Fast])
    .tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    // Cluster.
    CommandSpec::new(
        "cluster",
        -2,
        CommandDocs::new(
            "A container for cluster commands",
            "3.0.0",
            Group::Cluster,
            "Depends on subcommand.",
        ),
        cluster::parse_cluster,
    )
    .acl(&[Acl::Slow])
    .subcommands(CLUSTER_SUBCOMMANDS),
    // Strings.
    CommandSpec::new(
        "get",
        2,
        CommandDocs::new("Get the value of a key", "1.0.0", Group::String, "O(1)").arguments(KEY),
        string::parse_get,
    )
    .flags(&[Flag::Readonly, Flag::Fast])
    .keys(1, 1, 1, ONE_KEY_RO_ACCESS)
    .acl(&[Acl::Read, Acl::String, Acl::Fast]),
    CommandSpec::new(
        "set",
        -3,
        CommandDocs::new(
            "Set the string value of a key",
            "1.0.0",
            Group::String,
            "O(1)",
        )
        .history(&[
            ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
            ("6.0.0", "Added the `KEEPTTL` option."),
            ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
            (
                "7.0.0",
                "Allowed the `NX` and `GET` options to be used together.",
            ),
        ])
        .arguments(&[
            Arg::key("key", 0),
            Arg::new("value", ArgKind::String),
            Arg::new("condition", ArgKind::OneOf)
                .since("2.6.12")
                .optional()
                .members(&[Arg::pure_token("nx", "NX"), Arg::pure_token("xx", "XX")]),
            Arg::pure_token("get", "GET").since("6.2.0").optional(),
            Arg::new("expiration", ArgKind::OneOf).optional().members(&[
                Arg::new("seconds", ArgKind::Integer)
                    .token("EX")
                    .since("2.6.12"),
                Arg::new("milliseconds", ArgKind::Integer)
                    .token("PX")
                    .since("2.6.12"),
                Arg::new("unix-time-seconds", ArgKind::UnixTime)
                    .token("EXAT")
                    .since("6.2.0"),
                Arg::new("unix-time-milliseconds", ArgKind::UnixTime)
                    .token("PXAT")
                    .since("6.2.0"),
                Arg::pure_token("keepttl", "KEEPTTL").since("6.0.0"),
            ]),
        ]),
        string::parse_set,
    )
    .flags(&[Flag::Write, Flag::Denyoom])
    .keys(
        1,
        1,
        1,
        &[KeySpec::range(
            &[Key::Rw, Key::Access, Key::Update, Key::VariableFlags],
            1,
            0,
            1,
        )
        .notes("RW and ACCESS due to the optional `GET` argument")],
    )
    .acl(&[Acl::Write, Acl::String, Acl::Slow]),
    CommandSpec::new(
        "incr",
        2,
        CommandDocs::new(
            "Increment the integer value of a key by one",
            "1.0.0",
            Group::String,
            "O(1)",
        )
        .arguments(KEY),
        string::parse_incr,
    )
    .flags(COUNTER_FLAGS)
    .keys(1, 1, 1, ONE_KEY_COUNTER)
    .acl(COUNTER_ACL),
    CommandSpec::new(
        "decr",
        2,
        CommandDocs::new(
            "Decrement the integer value of a key by one",
            "1.0.0",
            Group::String,
            "O(1)",
        )
        .arguments(KEY),
        string::parse_decr,
    )
    .flags(COUNTER_FLAGS)
    .keys(1, 1, 1, ONE_KEY_COUNTER)
    .acl(COUNTER_ACL),
    CommandSpec::new(
        "incrby",
        3,
        CommandDocs::new(
            "Increment the integer value of a key by the given amount",
            "1.0.0",
            Group::String,
            "O(1)",
        )
        .arguments(&[Arg::key("key", 0), Arg::new("increment", ArgKind::Integer)]),
        string::parse_incrby,
    )
    .flags(COUNTER_FLAGS)
    .keys(1, 1, 1, ONE_KEY_COUNTER)
    .acl(COUNTER_ACL),
    CommandSpec::new(
        "decrby",
        3,
        CommandDocs::new(
            "Decrement the integer value of a key by the given number",
            "1.0.0",
            Group::String,
            "O(1)",
        )
        .arguments(&[Arg::key("key", 0), Arg::new("decrement", ArgKind::Integer)]),
        string::parse_decrby,
    )
    .flags(COUNTER_FLAGS)
    .keys(1, 1, 1, ONE_KEY_COUNTER)
    .acl(COUNTER_ACL),
    CommandSpec::new(
        "mget",
        -2,
        CommandDocs::new(
            "Get the values of all the given keys",
            "1.0.0",
            Group::String,
            "O(N) where N is the number of keys to retrieve.",
        )
        .arguments(KEYS),
        string::parse_mget,
    )
    .flags(&[Flag::Readonly, Flag::Fast])
    .keys(
        1,
        -1,
        1,
        &[KeySpec::range(&[Key::Ro, Key::Access], 1, -1, 1)],
    )
    .acl(&[Acl::Read, Acl::String, Acl::Fast])
    .tips(&["request_policy:multi_shard"]),
    CommandSpec::new(
        "mset",
        -3,
        CommandDocs::new(
            "Set multiple keys to multiple values",
            "1.0.1",
            Group::String,
            "O(N) where N is the number of keys to set.",
        )
        .arguments(&[Arg::new("key_value", ArgKind::Block)
            .multiple()
            .members(&[Arg::key("key", 0), Arg::new("value", ArgKind::String)])]),
        string::parse_mset,
    )
    .flags(&[Flag::Write, Flag::Denyoom])
    .keys(
        1,
        -1,
        2,
        &[KeySpec::range(&[Key::Ow, Key::Update], 1, -1, 2)],
    )
    .acl(&[Acl::Write, Acl::String, Acl::Slow])
    .tips(&[
        "request_policy:multi_shard",
        "response_policy:all_succeeded",
    ]),
    // Keyspace.
    CommandSpec::new(
        "del",
        -2,
        CommandDocs::new(
            "Delete a key",
            "1.0.0",
            Group::Generic,
            "O(N) where N is the number of keys that will be removed. When a key to remove \
             holds a value other than a string, the individual complexity for this key is O(M) \
             where M is the number of elements in the list, set, sorted set or hash. Removing a \
             single key that holds a string value is O(1).",
        )
        .arguments(KEYS),
        keyspace::parse_del,
    )
    .flags(&[Flag::Write])
    .keys(
        1,
        -1,
        1,
        &[KeySpec::range(&[Key::Rm, Key::Delete], 1, -1, 1)],
    )
    .acl(&[Acl::Keyspace, Acl::Write, Acl::Slow])
    .tips(MULTI_KEY_SUM),
    CommandSpec::new(
        "exists",
        -2,
        CommandDocs::new(
            "Determine if a key exists",
            "1.0.0",
            Group::Generic,
            "O(N) where N is the number of keys to check.",
        )
        .history(&[("3.0.3", "Accepts multiple `key` arguments.")])
        .arguments(KEYS),
        keyspace::parse_exists,
    )
    .flags(&[Flag::Readonly, Flag::Fast])
    .keys(1, -1, 1, &[KeySpec::range(&[Key::Ro], 1, -1, 1)])
    .acl(&[Acl::Keyspace, Acl::Read, Acl::Fast])
    .tips(MULTI_KEY_SUM),
    CommandSpec::new(
        "expire",
        -3,
        CommandDocs::new(
            "Set a key's time to live in seconds",
            "1.0.0",
            Group::Generic,
            "O(1)",
        )
        .history(EXPIRE_HISTORY)
        .arguments(&[
            Arg::key("key", 0),
            Arg::new("seconds", ArgKind::Integer),
            EXPIRE_CONDITION,
        ]),
        keyspace::parse_expire,
    )
    .flags(&[Flag::Write, Flag::Fast])
    .keys(1, 1, 1, ONE_KEY_RW_UPDATE)
    .acl(&[Acl::Keyspace, Acl::Write, Acl::Fast]),
    CommandSpec::new(
        "pexpire",
        -3,
        CommandDocs::new(
            "Set a key's time to live in milliseconds",
            "2.6.0",
            Group::Generic,
            "O(1)",
        )
        .history(EXPIRE_HISTORY)
        .arguments(&[
            Arg::key("key", 0),
            Arg::new("milliseconds", ArgKind::Integer),
            EXPIRE_CONDITION,
        ]),
        keyspace::parse_pexpire,
    )
    .flags(&[Flag::Write, Flag::Fast])
    .keys(1, 1, 1, ONE_KEY_RW_UPDATE)
    .acl(&[Acl::Keyspace, Acl::Write, Acl::Fast]),
    CommandSpec::new(
        "ttl",
        2,
        CommandDocs::new(
            "Get the time to live for a key in seconds",
            "1.0.0",
            Group::Generic,
            "O(1)",
        )
        .history(TTL_HISTORY)
        .arguments(KEY),
        keyspace::parse_ttl,
    )
    .flags(&[Flag::Readonly, Flag::Fast])
    .keys(1, 1, 1, ONE_KEY_RO_ACCESS)
    .acl(&[Acl::Keyspace, Acl::Read, Acl::Fast])
    .tips(OUTPUT),
    CommandSpec::new(
        "pttl",
        2,
        CommandDocs::new(
            "Get the time to live for a key in milliseconds",
            "2.6.0",
            Group::Generic,
            "O(1)",
        )
        .history(TTL_HISTORY)
        .arguments(KEY),
        keyspace::parse_pttl,
    )
    .flags(&[Flag::Readonly, Flag::Fast])
    .keys(1, 1, 1, ONE_KEY_RO_ACCESS)
    .acl(&[Acl::Keyspace, Acl::Read, Acl::Fast])
    .tips(OUTPUT),
    CommandSpec::new(
        "persist",
        2,
        CommandDocs::new(
            "Remove the expiration from a key",
            "2.2.0",
            Group::Generic,
            "O(1)",
        )
        .arguments(KEY),
        keyspace::parse_persist,
    )
    .flags(&[Flag::Write, Flag::Fast])
    .keys(1, 1, 1, ONE_KEY_RW_UPDATE)
    .acl(&[Acl::Keyspace, Acl::Write, Acl::Fast]),
];

#[cfg(test)]
mod tests;
