//! The command table: every supported command with its Redis 7.0 metadata and its parser, and
//! the look-ups built on it (name resolution with arity check, `COMMAND GETKEYS`).
//!
//! The specs are generated (`table/generated.rs`) by `scripts/gen-command-table.py` from
//! redis-server 7.0.15's `COMMAND INFO` and `COMMAND DOCS` for the names in
//! `table/commands.txt`, and a test compares the frames we build with replies captured from that
//! server at the same time (`testdata/redis-7.0.15-command-info-docs.resp`). Adding a command:
//! its line in `commands.txt`, rerun the script, its parser and its line in `parser_index.rs`, its
//! variant in `Command`.

use bytes::Bytes;

use super::spec::{
    BeginSearch, CommandFlag as Flag, CommandSpec, FindKeys, KeySpec, KeySpecFlag as Key,
};
use super::{CommandError, ListFilter};

mod generated;

use generated::COMMANDS;

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
        Unresolved::UnknownSubcommand => match topology_change(&args[0], &args[1]) {
            Some(instead) => CommandError::ManagedByOperator {
                sub: String::from_utf8_lossy(&args[1]).to_ascii_uppercase(),
                instead,
            },
            None => CommandError::UnknownSubcommand {
                cmd: args[0].clone(),
                sub: args[1].clone(),
            },
        },
    })?;
    if !spec.arity_allows(args.len()) {
        return Err(CommandError::WrongArity(spec.name));
    }
    Ok(spec)
}

/// For Redis Cluster's topology changes, which `slotraft-ctl` command does the same here.
fn topology_change(cmd: &[u8], sub: &[u8]) -> Option<&'static str> {
    if !cmd.eq_ignore_ascii_case(b"cluster") {
        return None;
    }
    const SLOTS: &str =
        "slot ranges belong to slot groups, whose replicas move with `slotraft-ctl \
                         move-replica` and `slotraft-ctl rebalance` (moving slots between groups \
                         is not supported yet)";
    let table: [(&[u8], &'static str); 14] = [
        (
            b"meet",
            "start the new node with `slotraft-server --join HOST:GPORT`, then run \
             `slotraft-ctl add-node ID`",
        ),
        (b"forget", "use `slotraft-ctl remove-node ID`"),
        (b"addslots", SLOTS),
        (b"addslotsrange", SLOTS),
        (b"delslots", SLOTS),
        (b"delslotsrange", SLOTS),
        (b"flushslots", SLOTS),
        (b"setslot", SLOTS),
        (
            b"replicate",
            "use `slotraft-ctl move-replica` (every node is a master of the groups it leads)",
        ),
        (
            b"failover",
            "use `slotraft-ctl transfer-leader`, or `slotraft-ctl replace-node` for a dead node",
        ),
        (b"reset", "use `slotraft-ctl remove-node ID`"),
        (
            b"saveconfig",
            "the cluster's configuration is kept by the meta group",
        ),
        (
            b"bumpepoch",
            "the cluster's configuration is kept by the meta group",
        ),
        (
            b"set-config-epoch",
            "the cluster's configuration is kept by the meta group",
        ),
    ];
    table
        .iter()
        .find(|(name, _)| sub.eq_ignore_ascii_case(name))
        .map(|(_, instead)| *instead)
}

/// `COMMAND LIST [FILTERBY …]`: every command's full name followed by its subcommands' (as
/// Redis' `commandListWithFilter` walks them), those the filter keeps.
pub fn list(filter: Option<&ListFilter>) -> Vec<&'static str> {
    let keep = |spec: &CommandSpec| match filter {
        None => true,
        // No modules are ever loaded.
        Some(ListFilter::Module(_)) => false,
        Some(ListFilter::AclCategory(name)) => spec
            .acl_categories
            .iter()
            .any(|c| c.name().as_bytes()[1..].eq_ignore_ascii_case(name)),
        Some(ListFilter::Pattern(pattern)) => {
            crate::glob::glob_match_case(pattern, spec.name.as_bytes(), true)
        }
    };
    COMMANDS
        .iter()
        .flat_map(|spec| std::iter::once(spec).chain(spec.subcommands))
        .filter(|spec| keep(spec))
        .map(|spec| spec.name)
        .collect()
}

/// `COMMAND GETKEYS`: the keys of the command line `args` (name first), as Redis 7.0 finds them.
/// Checks, in Redis' order: the command exists, it has keys at all, the argument count fits its
/// arity; then the keys, which must not be missing unless the command allows that.
pub fn get_keys(args: &[Bytes]) -> Result<Vec<Bytes>, CommandError> {
    let spec = command_of(args).map_err(|_| CommandError::GetKeysUnknownCommand)?;
    keys_for(spec, args)
}

/// `COMMAND GETKEYS` for a command line whose spec is already resolved.
pub(crate) fn keys_for(spec: &CommandSpec, args: &[Bytes]) -> Result<Vec<Bytes>, CommandError> {
    if !has_keys(spec) {
        return Err(CommandError::GetKeysNoKeys);
    }
    if !spec.arity_allows(args.len()) {
        return Err(CommandError::GetKeysWrongArity);
    }
    let positions = key_positions(spec, args);
    if positions.is_empty() && !spec.has_flag(Flag::NoMandatoryKeys) {
        return Err(CommandError::GetKeysInvalidArguments);
    }
    Ok(positions.into_iter().map(|i| args[i].clone()).collect())
}

/// Redis' `doesCommandHaveKeys`: a key spec that is not `not_key`, or a key-finding function.
fn has_keys(spec: &CommandSpec) -> bool {
    spec.key_specs
        .iter()
        .any(|k| !k.flags.contains(&Key::NotKey))
        || generic_getkeys(spec.name).is_some()
}

/// Redis' `migrateGetKeys`: the key at 3, or with `KEYS` (searched from 6, skipping the values
/// of `AUTH` and `AUTH2`) everything after it, which needs an empty key at 3.
fn migrate_key_positions(args: &[Bytes]) -> Vec<usize> {
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < args.len() {
        let arg = &args[i];
        if arg.eq_ignore_ascii_case(b"keys") {
            if !args[3].is_empty() {
                return Vec::new();
            }
            first = i + 1;
            num = args.len() - first;
            break;
        }
        if arg.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if arg.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        }
        i += 1;
    }
    (first..first + num).collect()
}

/// The positions in `args` (name at 0) of the keys of a command line that fits `spec`'s arity,
/// as Redis' `getKeysFromCommandWithSpecs` finds them: through the key specs, and when they do
/// not fit the arguments, through the command's own key-finding function (`genericGetKeys` for
/// the commands of `GENERIC_GETKEYS`, `migrateGetKeys`), else none. (`SORT`'s `sortGetKeys` is
/// not reproduced: `SORT … STORE` finds only the first key.)
pub(crate) fn key_positions(spec: &CommandSpec, args: &[Bytes]) -> Vec<usize> {
    if let Some(positions) = positions_from_specs(spec.key_specs, args) {
        return positions;
    }
    if spec.name == "migrate" {
        return migrate_key_positions(args);
    }
    match generic_getkeys(spec.name) {
        Some(proc) => proc.positions(args),
        None => Vec::new(),
    }
}

/// Redis' `getKeysUsingKeySpecs`: every spec that is not `not_key`, in order; `None` when one
/// does not fit the arguments (Redis' `invalid_spec`). A keyword spec whose keyword is absent
/// contributes nothing, an `incomplete` one that applied fails the search. (Redis skips the specs when one is `variable_flags` and asks the
/// command's function instead; the only such spec we have, `SET`'s, gives the same key.)
fn positions_from_specs(specs: &[KeySpec], args: &[Bytes]) -> Option<Vec<usize>> {
    let argc = args.len() as i64;
    let mut positions = Vec::new();
    for spec in specs {
        if spec.flags.contains(&Key::NotKey) {
            continue;
        }
        let first = match spec.begin_search {
            BeginSearch::Index(index) => i64::from(index),
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => match find_keyword(args, keyword, start_from) {
                Some(at) => at + 1,
                None => continue,
            },
            BeginSearch::Unknown => return None,
        };
        let (first, last, step) = match spec.find_keys {
            FindKeys::Range {
                last_key,
                key_step,
                limit,
            } => {
                let last = if last_key >= 0 {
                    first + i64::from(last_key)
                } else if limit == 0 {
                    argc + i64::from(last_key)
                } else {
                    first + ((argc - first) / i64::from(limit) + i64::from(last_key))
                };
                (first, last, i64::from(key_step))
            }
            FindKeys::Keynum {
                keynum_index,
                first_key,
                key_step,
            } => {
                let at = first + i64::from(keynum_index);
                if at < 0 || at >= argc {
                    return None;
                }
                let numkeys = super::parse::parse_int(&args[at as usize])
                    .ok()
                    .filter(|n| *n >= 0)?;
                let first = first + i64::from(first_key);
                (first, first.checked_add(numkeys)? - 1, i64::from(key_step))
            }
            FindKeys::Unknown => return None,
        };
        // Out of bounds: the arguments do not fit the spec.
        if last >= argc || last < first || first >= argc || step <= 0 {
            return None;
        }
        let mut i = first;
        while i <= last {
            positions.push(i as usize);
            i += step;
        }
        // An `incomplete` spec that applied makes the whole search fail (after its bounds
        // check, as Redis does): the command's own function knows better.
        if spec.flags.contains(&Key::Incomplete) {
            return None;
        }
    }
    Some(positions)
}

/// Where `keyword` is (any case), as Redis' keyword search walks: from `start_from` up to the
/// last argument but one, or, when negative, from `argc + start_from` down to index 2 (the ends
/// excluded: a keyword there could have no key after it, or be the command's first argument).
fn find_keyword(args: &[Bytes], keyword: &str, start_from: i32) -> Option<i64> {
    let argc = args.len() as i64;
    let (start, end) = if start_from > 0 {
        (i64::from(start_from), argc - 1)
    } else {
        (argc + i64::from(start_from), 1)
    };
    let step = if start <= end { 1 } else { -1 };
    let mut i = start;
    while i != end && (1..argc).contains(&i) {
        if args[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
            return Some(i);
        }
        i += step;
    }
    None
}

/// The arguments of Redis' `genericGetKeys(storeKeyOfs, keyCountOfs, firstKeyOfs, keyStep)`,
/// the key-finding function of the numkeys commands.
#[derive(Debug, Clone, Copy)]
struct GenericGetKeys {
    store_key: usize,
    key_count: usize,
    first_key: usize,
    key_step: usize,
}

/// Commands whose Redis key-finding function is `genericGetKeys`, which Redis falls back to
/// when their key specs do not fit (e.g. `numkeys` of 0, or not a clean integer: it reads the
/// count with `atoi`, and lists the destination key last).
const GENERIC_GETKEYS: &[(&str, GenericGetKeys)] = &[
    ("zunionstore", GenericGetKeys::new(1, 2, 3, 1)),
    ("zinterstore", GenericGetKeys::new(1, 2, 3, 1)),
    ("zdiffstore", GenericGetKeys::new(1, 2, 3, 1)),
    ("zunion", GenericGetKeys::new(0, 1, 2, 1)),
    ("zinter", GenericGetKeys::new(0, 1, 2, 1)),
    ("zdiff", GenericGetKeys::new(0, 1, 2, 1)),
    ("sintercard", GenericGetKeys::new(0, 1, 2, 1)),
    ("lmpop", GenericGetKeys::new(0, 1, 2, 1)),
    ("zmpop", GenericGetKeys::new(0, 1, 2, 1)),
    ("blmpop", GenericGetKeys::new(0, 2, 3, 1)),
    ("bzmpop", GenericGetKeys::new(0, 2, 3, 1)),
    ("eval", GenericGetKeys::new(0, 2, 3, 1)),
    ("evalsha", GenericGetKeys::new(0, 2, 3, 1)),
    ("eval_ro", GenericGetKeys::new(0, 2, 3, 1)),
    ("evalsha_ro", GenericGetKeys::new(0, 2, 3, 1)),
    ("fcall", GenericGetKeys::new(0, 2, 3, 1)),
    ("fcall_ro", GenericGetKeys::new(0, 2, 3, 1)),
];

fn generic_getkeys(name: &str) -> Option<GenericGetKeys> {
    GENERIC_GETKEYS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, proc)| *proc)
}

impl GenericGetKeys {
    const fn new(store_key: usize, key_count: usize, first_key: usize, key_step: usize) -> Self {
        GenericGetKeys {
            store_key,
            key_count,
            first_key,
            key_step,
        }
    }

    fn positions(self, args: &[Bytes]) -> Vec<usize> {
        let Some(count) = args.get(self.key_count) else {
            return Vec::new();
        };
        let num = atoi(count);
        let room = args.len().saturating_sub(self.first_key) / self.key_step;
        if num < 1 || num as u64 > room as u64 {
            return Vec::new();
        }
        let mut positions: Vec<usize> = (0..num as usize)
            .map(|i| self.first_key + i * self.key_step)
            .collect();
        if self.store_key != 0 {
            positions.push(self.store_key);
        }
        positions
    }
}

/// C's `atoi`: optional leading whitespace and sign, then digits up to the first non-digit
/// (saturating where C would overflow).
fn atoi(s: &[u8]) -> i64 {
    let mut rest = s.trim_ascii_start();
    let negative = match rest.first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    let mut n: i64 = 0;
    for &b in rest.iter().take_while(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if negative {
        -n
    } else {
        n
    }
}

#[cfg(test)]
mod tests;
