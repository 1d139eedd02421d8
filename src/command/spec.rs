//! `CommandSpec`: what Redis 7.0 says about a command in `COMMAND INFO` and `COMMAND DOCS`, and
//! the exact reply elements for both.
//!
//! Cluster clients build their routing from this metadata: redis-py and go-redis read the key
//! positions from `COMMAND` (INFO) to find which argument to hash, redis-cli 7 reads `COMMAND
//! DOCS` for its hints. So the values and the reply layout follow Redis 7.0.15 field by field,
//! including the order of flags and categories and which parts are sets. The data itself is
//! generated from redis-server 7.0.15 into `table/generated.rs` (`scripts/gen-command-table.py`),
//! written with the builders below; this file holds the shapes and how they become frames.

use super::parse::Parse;
use super::{Command, CommandError};
use crate::resp::Frame;

/// How a spec turns the arguments after its name into a `Command`.
pub(crate) type Parser = fn(&mut Parse<'_>) -> Result<Command, CommandError>;

/// Everything Redis reports about one command or subcommand.
#[derive(Debug)]
pub struct CommandSpec {
    /// Full lower-case name: `get`, or `cluster|slots` for a subcommand.
    pub name: &'static str,
    /// Redis' signed arity: `n` means exactly `n` arguments (name included), `-n` at least `n`.
    pub arity: i32,
    /// Command flags (`write`, `readonly`, `fast`, …).
    pub flags: &'static [CommandFlag],
    /// Legacy key range: position of the first key (0: no keys).
    pub first_key: i32,
    /// Legacy key range: position of the last key (negative: counted from the end).
    pub last_key: i32,
    /// Legacy key range: distance between keys.
    pub key_step: i32,
    /// ACL categories (`@read`, `@string`, …).
    pub acl_categories: &'static [AclCategory],
    /// Hints for cluster-aware clients, e.g. `request_policy:all_shards`.
    pub tips: &'static [&'static str],
    /// Where the keys are, in Redis 7's key-spec form.
    pub key_specs: &'static [KeySpec],
    /// Subcommands of a container command (`CLUSTER`, `COMMAND`): only those we support.
    pub subcommands: &'static [CommandSpec],
    /// The `COMMAND DOCS` part.
    pub docs: CommandDocs,
    /// The parser for the arguments after the name(s).
    pub(crate) parser: Parser,
}

/// Command flags, in the order Redis lists them (`addReplyFlagsForCommand`). Flags Redis hides
/// from `COMMAND` (`may_replicate`, `sentinel`, …) are not represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandFlag {
    /// May modify the keyspace.
    Write,
    /// Reads data, never modifies it.
    Readonly,
    /// May grow memory: refused when over `maxmemory`.
    Denyoom,
    /// Administrative.
    Admin,
    /// Pub/sub related.
    Pubsub,
    /// Not allowed in scripts.
    Noscript,
    /// May block the client.
    Blocking,
    /// Allowed while loading the dataset.
    Loading,
    /// Allowed on a replica with stale data.
    Stale,
    /// Not shown in `MONITOR`.
    SkipMonitor,
    /// Not shown in `SLOWLOG`.
    SkipSlowlog,
    /// Cluster: accepted on an importing slot after `ASKING`.
    Asking,
    /// O(1) or O(log N), never delays the server.
    Fast,
    /// Allowed before authentication.
    NoAuth,
    /// Key arguments may be absent.
    NoMandatoryKeys,
    /// Refused during async loading.
    NoAsyncLoading,
    /// Not allowed inside `MULTI`.
    NoMulti,
    /// Key positions depend on the arguments.
    MovableKeys,
    /// Allowed while a script is busy.
    AllowBusy,
}

impl CommandFlag {
    /// Every flag, in Redis' reply order.
    pub const ALL: [CommandFlag; 19] = [
        CommandFlag::Write,
        CommandFlag::Readonly,
        CommandFlag::Denyoom,
        CommandFlag::Admin,
        CommandFlag::Pubsub,
        CommandFlag::Noscript,
        CommandFlag::Blocking,
        CommandFlag::Loading,
        CommandFlag::Stale,
        CommandFlag::SkipMonitor,
        CommandFlag::SkipSlowlog,
        CommandFlag::Asking,
        CommandFlag::Fast,
        CommandFlag::NoAuth,
        CommandFlag::NoMandatoryKeys,
        CommandFlag::NoAsyncLoading,
        CommandFlag::NoMulti,
        CommandFlag::MovableKeys,
        CommandFlag::AllowBusy,
    ];

    /// The name in `COMMAND INFO`.
    pub fn name(self) -> &'static str {
        match self {
            CommandFlag::Write => "write",
            CommandFlag::Readonly => "readonly",
            CommandFlag::Denyoom => "denyoom",
            CommandFlag::Admin => "admin",
            CommandFlag::Pubsub => "pubsub",
            CommandFlag::Noscript => "noscript",
            CommandFlag::Blocking => "blocking",
            CommandFlag::Loading => "loading",
            CommandFlag::Stale => "stale",
            CommandFlag::SkipMonitor => "skip_monitor",
            CommandFlag::SkipSlowlog => "skip_slowlog",
            CommandFlag::Asking => "asking",
            CommandFlag::Fast => "fast",
            CommandFlag::NoAuth => "no_auth",
            CommandFlag::NoMandatoryKeys => "no_mandatory_keys",
            CommandFlag::NoAsyncLoading => "no_async_loading",
            CommandFlag::NoMulti => "no_multi",
            CommandFlag::MovableKeys => "movablekeys",
            CommandFlag::AllowBusy => "allow_busy",
        }
    }
}

/// ACL categories, in the order Redis lists them (`ACLCommandCategories`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclCategory {
    /// Works on keys regardless of type.
    Keyspace,
    /// Reads data.
    Read,
    /// Writes data.
    Write,
    /// Set type.
    Set,
    /// Sorted set type.
    SortedSet,
    /// List type.
    List,
    /// Hash type.
    Hash,
    /// String type.
    String,
    /// Bitmaps.
    Bitmap,
    /// HyperLogLog.
    HyperLogLog,
    /// Geo.
    Geo,
    /// Streams.
    Stream,
    /// Pub/sub.
    PubSub,
    /// Administration.
    Admin,
    /// Fast commands.
    Fast,
    /// Everything not fast.
    Slow,
    /// May block.
    Blocking,
    /// Possibly dangerous.
    Dangerous,
    /// Connection handling.
    Connection,
    /// `MULTI`/`EXEC`.
    Transaction,
    /// Scripting.
    Scripting,
}

impl AclCategory {
    /// Every category, in Redis' reply order.
    pub const ALL: [AclCategory; 21] = [
        AclCategory::Keyspace,
        AclCategory::Read,
        AclCategory::Write,
        AclCategory::Set,
        AclCategory::SortedSet,
        AclCategory::List,
        AclCategory::Hash,
        AclCategory::String,
        AclCategory::Bitmap,
        AclCategory::HyperLogLog,
        AclCategory::Geo,
        AclCategory::Stream,
        AclCategory::PubSub,
        AclCategory::Admin,
        AclCategory::Fast,
        AclCategory::Slow,
        AclCategory::Blocking,
        AclCategory::Dangerous,
        AclCategory::Connection,
        AclCategory::Transaction,
        AclCategory::Scripting,
    ];

    /// The name in `COMMAND INFO`, with its `@`.
    pub fn name(self) -> &'static str {
        match self {
            AclCategory::Keyspace => "@keyspace",
            AclCategory::Read => "@read",
            AclCategory::Write => "@write",
            AclCategory::Set => "@set",
            AclCategory::SortedSet => "@sortedset",
            AclCategory::List => "@list",
            AclCategory::Hash => "@hash",
            AclCategory::String => "@string",
            AclCategory::Bitmap => "@bitmap",
            AclCategory::HyperLogLog => "@hyperloglog",
            AclCategory::Geo => "@geo",
            AclCategory::Stream => "@stream",
            AclCategory::PubSub => "@pubsub",
            AclCategory::Admin => "@admin",
            AclCategory::Fast => "@fast",
            AclCategory::Slow => "@slow",
            AclCategory::Blocking => "@blocking",
            AclCategory::Dangerous => "@dangerous",
            AclCategory::Connection => "@connection",
            AclCategory::Transaction => "@transaction",
            AclCategory::Scripting => "@scripting",
        }
    }
}

/// One Redis 7 key spec: where a group of keys starts, how far it goes, and what the command
/// does to those keys.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// Free text Redis attaches to some specs (e.g. why `SET` is `RW`).
    pub notes: Option<&'static str>,
    /// What happens to the keys.
    pub flags: &'static [KeySpecFlag],
    /// Where the search for the first key starts.
    pub begin_search: BeginSearch,
    /// How the keys are laid out from there.
    pub find_keys: FindKeys,
}

/// Key-spec flags, in Redis' reply order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpecFlag {
    /// Read-only access.
    Ro,
    /// Read-write: reads and modifies.
    Rw,
    /// Overwrite: replaces without reading.
    Ow,
    /// Removes the key.
    Rm,
    /// Returns or exposes user data.
    Access,
    /// Updates data in place.
    Update,
    /// Adds data.
    Insert,
    /// Deletes data.
    Delete,
    /// Not really a key (only hashed for the slot).
    NotKey,
    /// The spec may miss some keys.
    Incomplete,
    /// Flags depend on the arguments.
    VariableFlags,
}

impl KeySpecFlag {
    /// Every flag, in Redis' reply order.
    pub const ALL: [KeySpecFlag; 11] = [
        KeySpecFlag::Ro,
        KeySpecFlag::Rw,
        KeySpecFlag::Ow,
        KeySpecFlag::Rm,
        KeySpecFlag::Access,
        KeySpecFlag::Update,
        KeySpecFlag::Insert,
        KeySpecFlag::Delete,
        KeySpecFlag::NotKey,
        KeySpecFlag::Incomplete,
        KeySpecFlag::VariableFlags,
    ];

    /// The name in `COMMAND INFO`.
    pub fn name(self) -> &'static str {
        match self {
            KeySpecFlag::Ro => "RO",
            KeySpecFlag::Rw => "RW",
            KeySpecFlag::Ow => "OW",
            KeySpecFlag::Rm => "RM",
            KeySpecFlag::Access => "access",
            KeySpecFlag::Update => "update",
            KeySpecFlag::Insert => "insert",
            KeySpecFlag::Delete => "delete",
            KeySpecFlag::NotKey => "not_key",
            KeySpecFlag::Incomplete => "incomplete",
            KeySpecFlag::VariableFlags => "variable_flags",
        }
    }
}

/// Where a key spec starts looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// Redis cannot say (`type: unknown`): the keys are found by other means.
    Unknown,
    /// At a fixed argument index.
    Index(i32),
    /// After a keyword, searched from `start_from` (negative: from the end).
    Keyword {
        /// The keyword, e.g. `STREAMS`.
        keyword: &'static str,
        /// Where the search for the keyword starts.
        start_from: i32,
    },
}

/// How the keys lie after the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Redis cannot say (`type: unknown`): the keys are found by other means.
    Unknown,
    /// Keys from the start to `last_key` (relative; negative counts from the end), every
    /// `key_step` arguments; `limit` divides the count when `last_key` is -1 (0: no limit).
    Range {
        /// Last key, relative to the first one, or from the end when negative.
        last_key: i32,
        /// Distance between keys.
        key_step: i32,
        /// Fraction of the remaining arguments that are keys (0: all).
        limit: i32,
    },
    /// The number of keys is an argument (`keynum_index`), keys follow from `first_key`.
    Keynum {
        /// Index of the key count, relative to the start.
        keynum_index: i32,
        /// Index of the first key, relative to the start.
        first_key: i32,
        /// Distance between keys.
        key_step: i32,
    },
}

/// The `COMMAND DOCS` of a command.
#[derive(Debug, Clone, Copy)]
pub struct CommandDocs {
    /// One-line description.
    pub summary: Option<&'static str>,
    /// Redis version that introduced it.
    pub since: Option<&'static str>,
    /// Documentation group.
    pub group: CommandGroup,
    /// Time complexity, as prose (`SYNC`, `PSYNC` have none).
    pub complexity: Option<&'static str>,
    /// Documentation flags (`deprecated`, `syscmd`).
    pub doc_flags: &'static [DocFlag],
    /// Redis version that deprecated it.
    pub deprecated_since: Option<&'static str>,
    /// What to use instead, as Markdown (e.g. "`CLUSTER SHARDS`").
    pub replaced_by: Option<&'static str>,
    /// Behaviour changes: (version, description).
    pub history: &'static [(&'static str, &'static str)],
    /// Argument syntax.
    pub arguments: &'static [Arg],
}

/// Documentation flags, in Redis' reply order (`addReplyDocFlagsForCommand`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFlag {
    /// The command is deprecated.
    Deprecated,
    /// A system command, not meant to be called by users.
    Syscmd,
}

impl DocFlag {
    /// Every flag, in Redis' reply order.
    pub const ALL: [DocFlag; 2] = [DocFlag::Deprecated, DocFlag::Syscmd];

    /// The name in `COMMAND DOCS`.
    pub fn name(self) -> &'static str {
        match self {
            DocFlag::Deprecated => "deprecated",
            DocFlag::Syscmd => "syscmd",
        }
    }
}

/// Documentation groups (Redis 7.0's `COMMAND_GROUP_STR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandGroup {
    /// Commands on any key.
    Generic,
    /// String commands.
    String,
    /// List commands.
    List,
    /// Set commands.
    Set,
    /// Sorted set commands.
    SortedSet,
    /// Hash commands.
    Hash,
    /// Pub/sub.
    PubSub,
    /// `MULTI`/`EXEC` and friends.
    Transactions,
    /// Connection handling.
    Connection,
    /// Server administration.
    Server,
    /// Scripting and functions.
    Scripting,
    /// HyperLogLog.
    HyperLogLog,
    /// Redis Cluster.
    Cluster,
    /// Sentinel.
    Sentinel,
    /// Geo.
    Geo,
    /// Streams.
    Stream,
    /// Bitmaps.
    Bitmap,
}

impl CommandGroup {
    /// The name in `COMMAND DOCS`.
    pub fn name(self) -> &'static str {
        match self {
            CommandGroup::Generic => "generic",
            CommandGroup::String => "string",
            CommandGroup::List => "list",
            CommandGroup::Set => "set",
            CommandGroup::SortedSet => "sorted-set",
            CommandGroup::Hash => "hash",
            CommandGroup::PubSub => "pubsub",
            CommandGroup::Transactions => "transactions",
            CommandGroup::Connection => "connection",
            CommandGroup::Server => "server",
            CommandGroup::Scripting => "scripting",
            CommandGroup::HyperLogLog => "hyperloglog",
            CommandGroup::Cluster => "cluster",
            CommandGroup::Sentinel => "sentinel",
            CommandGroup::Geo => "geo",
            CommandGroup::Stream => "stream",
            CommandGroup::Bitmap => "bitmap",
        }
    }
}

/// One argument in `COMMAND DOCS`.
#[derive(Debug, Clone, Copy)]
pub struct Arg {
    /// Argument name.
    pub name: &'static str,
    /// Argument type.
    pub kind: ArgKind,
    /// For keys: which key spec covers it.
    pub key_spec_index: Option<i32>,
    /// The literal token introducing it (`EX`, `AUTH`).
    pub token: Option<&'static str>,
    /// A short description, for the few arguments Redis describes.
    pub summary: Option<&'static str>,
    /// Redis version that added it.
    pub since: Option<&'static str>,
    /// Redis version that deprecated it.
    pub deprecated_since: Option<&'static str>,
    /// May be left out.
    pub optional: bool,
    /// May repeat.
    pub multiple: bool,
    /// The token repeats along with the argument.
    pub multiple_token: bool,
    /// Members of a `oneof` or `block`.
    pub arguments: &'static [Arg],
}

/// Argument types of `COMMAND DOCS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// Any string.
    String,
    /// An integer.
    Integer,
    /// A floating point number.
    Double,
    /// A key.
    Key,
    /// A glob-style pattern.
    Pattern,
    /// A Unix timestamp.
    UnixTime,
    /// A token alone, no value.
    PureToken,
    /// Exactly one of the members.
    OneOf,
    /// All the members, together.
    Block,
}

impl ArgKind {
    /// The name in `COMMAND DOCS`.
    pub fn name(self) -> &'static str {
        match self {
            ArgKind::String => "string",
            ArgKind::Integer => "integer",
            ArgKind::Double => "double",
            ArgKind::Key => "key",
            ArgKind::Pattern => "pattern",
            ArgKind::UnixTime => "unix-time",
            ArgKind::PureToken => "pure-token",
            ArgKind::OneOf => "oneof",
            ArgKind::Block => "block",
        }
    }
}

// Builders, so that the table reads as data: `Arg::new("key", ArgKind::Key).key_spec(0)`.
impl Arg {
    /// A required, single argument with no token.
    pub const fn new(name: &'static str, kind: ArgKind) -> Arg {
        Arg {
            name,
            kind,
            key_spec_index: None,
            token: None,
            summary: None,
            since: None,
            deprecated_since: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            arguments: &[],
        }
    }

    /// A key argument covered by key spec `index`.
    pub const fn key(name: &'static str, index: i32) -> Arg {
        Arg::new(name, ArgKind::Key).key_spec(index)
    }

    /// Sets the key spec that covers it.
    pub const fn key_spec(mut self, index: i32) -> Arg {
        self.key_spec_index = Some(index);
        self
    }

    /// Sets the description.
    pub const fn summary(mut self, summary: &'static str) -> Arg {
        self.summary = Some(summary);
        self
    }

    /// Sets the version that deprecated it.
    pub const fn deprecated_since(mut self, since: &'static str) -> Arg {
        self.deprecated_since = Some(since);
        self
    }

    /// Marks the token as repeating with each value.
    pub const fn multiple_token(mut self) -> Arg {
        self.multiple_token = true;
        self
    }

    /// A bare token such as `NX`.
    pub const fn pure_token(name: &'static str, token: &'static str) -> Arg {
        Arg::new(name, ArgKind::PureToken).token(token)
    }

    /// Sets the token.
    pub const fn token(mut self, token: &'static str) -> Arg {
        self.token = Some(token);
        self
    }

    /// Sets the version that added it.
    pub const fn since(mut self, since: &'static str) -> Arg {
        self.since = Some(since);
        self
    }

    /// Marks it optional.
    pub const fn optional(mut self) -> Arg {
        self.optional = true;
        self
    }

    /// Marks it repeatable.
    pub const fn multiple(mut self) -> Arg {
        self.multiple = true;
        self
    }

    /// Sets the members of a `oneof` or `block`.
    pub const fn members(mut self, arguments: &'static [Arg]) -> Arg {
        self.arguments = arguments;
        self
    }
}

impl KeySpec {
    /// Any spec.
    pub const fn new(
        flags: &'static [KeySpecFlag],
        begin_search: BeginSearch,
        find_keys: FindKeys,
    ) -> KeySpec {
        KeySpec {
            notes: None,
            flags,
            begin_search,
            find_keys,
        }
    }

    /// The common spec: keys from a fixed index, as a range.
    pub const fn range(
        flags: &'static [KeySpecFlag],
        index: i32,
        last_key: i32,
        key_step: i32,
    ) -> KeySpec {
        KeySpec {
            notes: None,
            flags,
            begin_search: BeginSearch::Index(index),
            find_keys: FindKeys::Range {
                last_key,
                key_step,
                limit: 0,
            },
        }
    }

    /// Adds Redis' note.
    pub const fn notes(mut self, notes: &'static str) -> KeySpec {
        self.notes = Some(notes);
        self
    }
}

impl CommandDocs {
    /// Docs with no history, arguments or deprecation.
    pub const fn new(
        summary: &'static str,
        since: &'static str,
        group: CommandGroup,
        complexity: &'static str,
    ) -> CommandDocs {
        CommandDocs::of_group(group)
            .summary(summary)
            .since(since)
            .complexity(complexity)
    }

    /// Docs with only a group, for the rare commands that lack a summary, version or complexity.
    pub const fn of_group(group: CommandGroup) -> CommandDocs {
        CommandDocs {
            summary: None,
            since: None,
            group,
            complexity: None,
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            arguments: &[],
        }
    }

    /// Sets the description.
    pub const fn summary(mut self, summary: &'static str) -> CommandDocs {
        self.summary = Some(summary);
        self
    }

    /// Sets the version that introduced it.
    pub const fn since(mut self, since: &'static str) -> CommandDocs {
        self.since = Some(since);
        self
    }

    /// Sets the time complexity.
    pub const fn complexity(mut self, complexity: &'static str) -> CommandDocs {
        self.complexity = Some(complexity);
        self
    }

    /// Sets the arguments.
    pub const fn arguments(mut self, arguments: &'static [Arg]) -> CommandDocs {
        self.arguments = arguments;
        self
    }

    /// Sets the history.
    pub const fn history(
        mut self,
        history: &'static [(&'static str, &'static str)],
    ) -> CommandDocs {
        self.history = history;
        self
    }

    /// Marks it deprecated: the `deprecated` doc flag, since when, and the replacement.
    pub const fn deprecated(self, since: &'static str, replaced_by: &'static str) -> CommandDocs {
        self.doc_flags(&[DocFlag::Deprecated])
            .deprecated_since(since)
            .replaced_by(replaced_by)
    }

    /// Sets the doc flags.
    pub const fn doc_flags(mut self, doc_flags: &'static [DocFlag]) -> CommandDocs {
        self.doc_flags = doc_flags;
        self
    }

    /// Sets the version that deprecated it.
    pub const fn deprecated_since(mut self, since: &'static str) -> CommandDocs {
        self.deprecated_since = Some(since);
        self
    }

    /// Sets what replaces it.
    pub const fn replaced_by(mut self, replaced_by: &'static str) -> CommandDocs {
        self.replaced_by = Some(replaced_by);
        self
    }
}

impl CommandSpec {
    /// A spec with no flags, keys, categories, tips or subcommands.
    pub(crate) const fn new(
        name: &'static str,
        arity: i32,
        docs: CommandDocs,
        parser: Parser,
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags: &[],
            first_key: 0,
            last_key: 0,
            key_step: 0,
            acl_categories: &[],
            tips: &[],
            key_specs: &[],
            subcommands: &[],
            docs,
            parser,
        }
    }

    pub(crate) const fn flags(mut self, flags: &'static [CommandFlag]) -> CommandSpec {
        self.flags = flags;
        self
    }

    pub(crate) const fn acl(mut self, categories: &'static [AclCategory]) -> CommandSpec {
        self.acl_categories = categories;
        self
    }

    pub(crate) const fn tips(mut self, tips: &'static [&'static str]) -> CommandSpec {
        self.tips = tips;
        self
    }

    /// Sets the legacy key range and the key specs together, since they describe the same keys.
    pub(crate) const fn keys(
        mut self,
        first_key: i32,
        last_key: i32,
        key_step: i32,
        key_specs: &'static [KeySpec],
    ) -> CommandSpec {
        self.first_key = first_key;
        self.last_key = last_key;
        self.key_step = key_step;
        self.key_specs = key_specs;
        self
    }

    pub(crate) const fn subcommands(mut self, subcommands: &'static [CommandSpec]) -> CommandSpec {
        self.subcommands = subcommands;
        self
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_allows(&self, argc: usize) -> bool {
        let argc = i64::try_from(argc).unwrap_or(i64::MAX);
        let arity = i64::from(self.arity);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// Whether the command has the flag.
    pub fn has_flag(&self, flag: CommandFlag) -> bool {
        self.flags.contains(&flag)
    }

    /// The subcommand part of the name (`slots` for `cluster|slots`), or the whole name.
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    /// This command's element of the `COMMAND` / `COMMAND INFO` reply: the 10-element array
    /// of Redis 7.0 (name, arity, flags, first key, last key, step, ACL categories, tips, key
    /// specs, subcommands).
    pub fn info_frame(&self) -> Frame {
        let flags = CommandFlag::ALL
            .iter()
            .filter(|f| self.flags.contains(f))
            .map(|f| Frame::Simple(f.name().to_string()))
            .collect();
        let categories = AclCategory::ALL
            .iter()
            .filter(|c| self.acl_categories.contains(c))
            .map(|c| Frame::Simple(c.name().to_string()))
            .collect();
        let tips = self.tips.iter().map(|t| Frame::bulk(*t)).collect();
        let key_specs = self.key_specs.iter().map(KeySpec::frame).collect();
        // Redis sends an empty set when there are no subcommands, an array otherwise.
        let subcommands = if self.subcommands.is_empty() {
            Frame::Set(vec![])
        } else {
            Frame::Array(
                self.subcommands
                    .iter()
                    .map(CommandSpec::info_frame)
                    .collect(),
            )
        };
        Frame::Array(vec![
            Frame::bulk(self.name),
            Frame::Integer(self.arity.into()),
            Frame::Set(flags),
            Frame::Integer(self.first_key.into()),
            Frame::Integer(self.last_key.into()),
            Frame::Integer(self.key_step.into()),
            Frame::Set(categories),
            Frame::Set(tips),
            Frame::Set(key_specs),
            subcommands,
        ])
    }

    /// This command's value in the `COMMAND DOCS` reply map (the caller pairs it with
    /// `Frame::bulk(spec.name)`).
    pub fn docs_frame(&self) -> Frame {
        let docs = &self.docs;
        // Field order of Redis' `addReplyCommandDocs`; absent values are left out.
        let mut map = Vec::with_capacity(10);
        if let Some(summary) = docs.summary {
            map.push(field("summary", Frame::bulk(summary)));
        }
        if let Some(since) = docs.since {
            map.push(field("since", Frame::bulk(since)));
        }
        map.push(field("group", Frame::bulk(docs.group.name())));
        if let Some(complexity) = docs.complexity {
            map.push(field("complexity", Frame::bulk(complexity)));
        }
        if !docs.doc_flags.is_empty() {
            let flags = DocFlag::ALL
                .iter()
                .filter(|f| docs.doc_flags.contains(f))
                .map(|f| Frame::Simple(f.name().to_string()))
                .collect();
            map.push(field("doc_flags", Frame::Set(flags)));
        }
        if let Some(since) = docs.deprecated_since {
            map.push(field("deprecated_since", Frame::bulk(since)));
        }
        if let Some(replaced_by) = docs.replaced_by {
            map.push(field("replaced_by", Frame::bulk(replaced_by)));
        }
        if !docs.history.is_empty() {
            let history = docs
                .history
                .iter()
                .map(|(version, change)| {
                    Frame::Array(vec![Frame::bulk(*version), Frame::bulk(*change)])
                })
                .collect();
            map.push(field("history", Frame::Set(history)));
        }
        if !docs.arguments.is_empty() {
            map.push(field("arguments", args_frame(docs.arguments)));
        }
        if !self.subcommands.is_empty() {
            let subcommands = self
                .subcommands
                .iter()
                .map(|sub| (Frame::bulk(sub.name), sub.docs_frame()))
                .collect();
            map.push(field("subcommands", Frame::Map(subcommands)));
        }
        Frame::Map(map)
    }
}

impl KeySpec {
    fn frame(&self) -> Frame {
        let mut map = Vec::with_capacity(4);
        if let Some(notes) = self.notes {
            map.push(field("notes", Frame::bulk(notes)));
        }
        let flags = KeySpecFlag::ALL
            .iter()
            .filter(|f| self.flags.contains(f))
            .map(|f| Frame::Simple(f.name().to_string()))
            .collect();
        map.push(field("flags", Frame::Set(flags)));
        let begin_search = match self.begin_search {
            BeginSearch::Unknown => typed("unknown", vec![]),
            BeginSearch::Index(index) => typed("index", vec![field("index", int(index))]),
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => typed(
                "keyword",
                vec![
                    field("keyword", Frame::bulk(keyword)),
                    field("startfrom", int(start_from)),
                ],
            ),
        };
        map.push(field("begin_search", begin_search));
        let find_keys = match self.find_keys {
            FindKeys::Unknown => typed("unknown", vec![]),
            FindKeys::Range {
                last_key,
                key_step,
                limit,
            } => typed(
                "range",
                vec![
                    field("lastkey", int(last_key)),
                    field("keystep", int(key_step)),
                    field("limit", int(limit)),
                ],
            ),
            FindKeys::Keynum {
                keynum_index,
                first_key,
                key_step,
            } => typed(
                "keynum",
                vec![
                    field("keynumidx", int(keynum_index)),
                    field("firstkey", int(first_key)),
                    field("keystep", int(key_step)),
                ],
            ),
        };
        map.push(field("find_keys", find_keys));
        Frame::Map(map)
    }
}

fn args_frame(args: &[Arg]) -> Frame {
    Frame::Array(args.iter().map(arg_frame).collect())
}

/// One argument's map, fields in the order of Redis' `addReplyCommandArgList`.
fn arg_frame(arg: &Arg) -> Frame {
    let mut map = vec![
        field("name", Frame::bulk(arg.name)),
        field("type", Frame::bulk(arg.kind.name())),
    ];
    if let Some(index) = arg.key_spec_index {
        map.push(field("key_spec_index", int(index)));
    }
    if let Some(token) = arg.token {
        map.push(field("token", Frame::bulk(token)));
    }
    if let Some(summary) = arg.summary {
        map.push(field("summary", Frame::bulk(summary)));
    }
    if let Some(since) = arg.since {
        map.push(field("since", Frame::bulk(since)));
    }
    if let Some(since) = arg.deprecated_since {
        map.push(field("deprecated_since", Frame::bulk(since)));
    }
    let flags: Vec<Frame> = [
        (arg.optional, "optional"),
        (arg.multiple, "multiple"),
        (arg.multiple_token, "multiple_token"),
    ]
    .iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| Frame::Simple(name.to_string()))
    .collect();
    if !flags.is_empty() {
        map.push(field("flags", Frame::Set(flags)));
    }
    if matches!(arg.kind, ArgKind::OneOf | ArgKind::Block) {
        map.push(field("arguments", args_frame(arg.arguments)));
    }
    Frame::Map(map)
}

fn field(name: &'static str, value: Frame) -> (Frame, Frame) {
    (Frame::bulk(name), value)
}

fn int(n: i32) -> Frame {
    Frame::Integer(n.into())
}

/// `{type: kind, spec: {…}}`, the shape of `begin_search` and `find_keys`.
fn typed(kind: &'static str, spec: Vec<(Frame, Frame)>) -> Frame {
    Frame::Map(vec![
        field("type", Frame::bulk(kind)),
        field("spec", Frame::Map(spec)),
    ])
}
