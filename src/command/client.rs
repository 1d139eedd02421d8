//! `AUTH` and the `CLIENT` subcommands: `SETNAME GETNAME ID INFO LIST KILL HELP SETINFO`.
//!
//! `CLIENT SETINFO` arrived in Redis 7.2, after the 7.0.15 release whose metadata the command
//! table carries (byte for byte). Current clients (redis-py, go-redis, Jedis) send it on every
//! new connection, so it is served as Redis 7.2 serves it — `+OK`, and `lib-name=`/`lib-ver=`
//! in `CLIENT LIST`/`INFO` — but it stays out of the table: `COMMAND` answers as 7.0.15 does.

use bytes::Bytes;

use super::connection::validate_client_name;
use super::parse::{parse_int, Parse};
use super::{Command, CommandError};

/// `CLIENT subcommand …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientSub {
    SetName(Bytes),
    GetName,
    Id,
    Info,
    /// `CLIENT LIST [ID id …]` (`TYPE` filters other than `normal` list nobody: there are no
    /// replica or pub/sub connections).
    List {
        ids: Option<Vec<u64>>,
        normal_only: bool,
    },
    Kill(KillFilter),
    Help,
    /// `CLIENT SETINFO LIB-NAME|LIB-VER value` (Redis 7.2); an empty value clears it.
    SetInfo(LibAttr, Bytes),
}

/// What `CLIENT SETINFO` sets: the client library's name or version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibAttr {
    Name,
    Version,
}

/// Which connections `CLIENT KILL` closes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KillFilter {
    /// The old form `CLIENT KILL addr:port`: replies `OK` or an error instead of a count.
    pub legacy: bool,
    pub id: Option<u64>,
    pub addr: Option<Bytes>,
    pub laddr: Option<Bytes>,
    pub user: Option<Bytes>,
    /// `SKIPME yes|no` (default yes).
    pub skip_me: bool,
}

impl ClientSub {
    pub const HELP: &'static [&'static str] = &[
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * ID <client-id>",
        "      Kill connections by client id.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "HELP",
        "    Print this help.",
    ];
}

/// `AUTH [username] password`.
pub(crate) fn parse_auth(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let first = p.next_bytes()?;
    let second = p.next_optional();
    p.finish().map_err(|_| CommandError::Syntax)?;
    Ok(match second {
        None => Command::Auth {
            username: None,
            password: first,
        },
        Some(password) => Command::Auth {
            username: Some(first),
            password,
        },
    })
}

pub(crate) fn parse_client(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    // Only reached without a subcommand argument: the table resolves `client|…` first.
    Err(CommandError::WrongArity(p.name()))
}

/// The full name of `CLIENT SETINFO` (it has no entry in the 7.0.15 command table).
pub(crate) const SETINFO_NAME: &str = "client|setinfo";

/// Whether a request is `CLIENT SETINFO …` (any case), which the command table does not know.
pub(crate) fn is_client_setinfo(args: &[Bytes]) -> bool {
    matches!(args, [cmd, sub, ..] if cmd.eq_ignore_ascii_case(b"client") && sub.eq_ignore_ascii_case(b"setinfo"))
}

/// `CLIENT SETINFO attr value`, checked as Redis 7.2's `clientSetinfoCommand` does: arity 4,
/// then the attribute, then the value's characters.
pub(crate) fn parse_client_setinfo(args: &[Bytes]) -> Result<Command, CommandError> {
    let [_, _, attr, value] = args else {
        return Err(CommandError::WrongArity(SETINFO_NAME));
    };
    let which = if attr.eq_ignore_ascii_case(b"lib-name") {
        LibAttr::Name
    } else if attr.eq_ignore_ascii_case(b"lib-ver") {
        LibAttr::Version
    } else {
        return Err(CommandError::UnrecognizedClientInfo(attr.clone()));
    };
    if validate_client_name(value).is_err() {
        return Err(CommandError::InvalidClientInfo(attr.clone()));
    }
    Ok(Command::Client(ClientSub::SetInfo(which, value.clone())))
}

pub(crate) fn parse_client_setname(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let name = p.next_bytes()?;
    p.finish()?;
    validate_client_name(&name)?;
    Ok(Command::Client(ClientSub::SetName(name)))
}

pub(crate) fn parse_client_getname(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Client(ClientSub::GetName))
}

pub(crate) fn parse_client_id(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Client(ClientSub::Id))
}

pub(crate) fn parse_client_info(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Client(ClientSub::Info))
}

pub(crate) fn parse_client_help(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Client(ClientSub::Help))
}

/// `CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id …]`.
pub(crate) fn parse_client_list(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let mut ids = None;
    let mut normal_only = false;
    while let Some(option) = p.next_option() {
        match option.as_str() {
            "TYPE" if p.remaining() > 0 => {
                let kind = p.next_bytes()?;
                let kind = String::from_utf8_lossy(&kind).to_ascii_lowercase();
                match kind.as_str() {
                    "normal" => {}
                    "master" | "replica" | "slave" | "pubsub" => normal_only = true,
                    _ => {
                        return Err(CommandError::NotSupported(format!(
                            "ERR Unknown client type '{kind}'"
                        )))
                    }
                }
            }
            "ID" if p.remaining() > 0 => {
                let mut list = Vec::new();
                for id in p.rest() {
                    let id = parse_int(&id)
                        .ok()
                        .and_then(|i| u64::try_from(i).ok())
                        .filter(|i| *i > 0)
                        .ok_or(CommandError::Invalid("ERR Invalid client ID"))?;
                    list.push(id);
                }
                ids = Some(list);
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(Command::Client(ClientSub::List { ids, normal_only }))
}

/// `CLIENT KILL ip:port` or `CLIENT KILL <filter> <value> …`.
pub(crate) fn parse_client_kill(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let mut filter = KillFilter {
        skip_me: true,
        ..KillFilter::default()
    };
    if p.remaining() == 1 {
        filter.legacy = true;
        filter.addr = Some(p.next_bytes()?);
        return Ok(Command::Client(ClientSub::Kill(filter)));
    }
    while let Some(option) = p.next_option() {
        if p.remaining() == 0 {
            return Err(CommandError::Syntax);
        }
        let value = p.next_bytes()?;
        match option.as_str() {
            "ID" => {
                filter.id = Some(
                    parse_int(&value)
                        .ok()
                        .and_then(|i| u64::try_from(i).ok())
                        .filter(|i| *i > 0)
                        .ok_or(CommandError::Invalid(
                            "ERR client-id should be greater than 0",
                        ))?,
                )
            }
            "ADDR" => filter.addr = Some(value),
            "LADDR" => filter.laddr = Some(value),
            "USER" => filter.user = Some(value),
            "SKIPME" => {
                filter.skip_me = match String::from_utf8_lossy(&value)
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(CommandError::Syntax),
                }
            }
            "TYPE" => {}
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(Command::Client(ClientSub::Kill(filter)))
}
