//! Errors of the command layer: a request that is well-framed RESP but not a valid command.
//!
//! Each variant displays as the exact text Redis 7.0 replies with (the line without its leading
//! `-`, error code included), because client libraries and test suites match on these texts.
//! None of them closes the connection: the command is rejected and the next one is read.

use bytes::Bytes;

/// A request that names no supported command, or does not follow its syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A command name we do not know (or do not support yet: Redis has it, we do not).
    #[error(
        "ERR unknown command '{}', with args beginning with: {}",
        quoted_name(name),
        quoted_args(args)
    )]
    UnknownCommand {
        /// The name as the client sent it.
        name: Bytes,
        /// The arguments after the name; only the first 128 bytes or so are shown.
        args: Vec<Bytes>,
    },
    /// A container command (`CLUSTER`, `COMMAND`) with a subcommand we do not know.
    #[error(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        quoted_name(sub),
        container_upper(cmd)
    )]
    UnknownSubcommand {
        /// The container name as the client sent it (shown upper-cased, as Redis does).
        cmd: Bytes,
        /// The subcommand as the client sent it.
        sub: Bytes,
    },
    /// A Redis Cluster topology change (`CLUSTER MEET`, `ADDSLOTS`, `FORGET`, ...): slotraft
    /// changes its membership through the meta group, by operator calls; the text names the
    /// `slotraft-ctl` command that does what the client asked.
    #[error("ERR CLUSTER {sub} is not supported: slotraft changes its nodes and replicas through Raft (the meta group); {instead}")]
    ManagedByOperator {
        /// The subcommand, upper-cased.
        sub: String,
        /// What to use instead.
        instead: &'static str,
    },
    /// Argument count outside the command's arity. Holds the full name (`get`, `cluster|slots`).
    #[error("ERR wrong number of arguments for '{0}' command")]
    WrongArity(&'static str),
    /// Options that do not fit together or are not known.
    #[error("ERR syntax error")]
    Syntax,
    /// An argument that should be an integer (Redis' strict syntax) and is not, or overflows.
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    /// An integer outside the range a command accepts (e.g. `SELECT` takes a C `int`).
    #[error("ERR value is out of range, value must between {min} and {max}")]
    OutOfRange {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// A TTL that is not positive where it must be, or overflows milliseconds since the epoch.
    /// Holds the command name (`set`, `expire`, `pexpire`).
    #[error("ERR invalid expire time in '{0}' command")]
    InvalidExpireTime(&'static str),
    /// `DECRBY key -9223372036854775808`: negating the decrement would overflow.
    #[error("ERR decrement would overflow")]
    DecrementOverflow,
    /// An `EXPIRE` option other than `NX`, `XX`, `GT`, `LT`.
    #[error("ERR Unsupported option {}", String::from_utf8_lossy(.0))]
    UnsupportedOption(Bytes),
    /// `EXPIRE … NX` together with `XX`, `GT` or `LT`.
    #[error("ERR NX and XX, GT or LT options at the same time are not compatible")]
    ExpireNxConflict,
    /// `EXPIRE … GT LT`.
    #[error("ERR GT and LT options at the same time are not compatible")]
    ExpireGtLtConflict,
    /// A slot number outside `0..16384`.
    #[error("ERR Invalid slot")]
    InvalidSlot,
    /// `HELLO` with a protocol version that is not an integer.
    #[error("ERR Protocol version is not an integer or out of range")]
    ProtocolVersionNotInteger,
    /// `HELLO` with a protocol version other than 2 or 3.
    #[error("NOPROTO unsupported protocol version")]
    UnsupportedProtocol,
    /// `HELLO` with an unknown option, or an option missing its arguments.
    #[error("ERR Syntax error in HELLO option '{}'", String::from_utf8_lossy(.0))]
    HelloOption(Bytes),
    /// A client name with bytes outside `!`..=`~` (a space would break `CLIENT LIST` output).
    #[error("ERR Client names cannot contain spaces, newlines or special characters.")]
    InvalidClientName,
    /// `CLIENT SETINFO` with an attribute other than `LIB-NAME`/`LIB-VER` (as sent).
    #[error("ERR Unrecognized option '{}'", String::from_utf8_lossy(.0))]
    UnrecognizedClientInfo(Bytes),
    /// `CLIENT SETINFO` value with bytes outside `!`..=`~`; names the attribute as sent.
    #[error("ERR {} cannot contain spaces, newlines or special characters.", String::from_utf8_lossy(.0))]
    InvalidClientInfo(Bytes),
    /// `COMMAND GETKEYS` for a command we do not know.
    #[error("ERR Invalid command specified")]
    GetKeysUnknownCommand,
    /// `COMMAND GETKEYS` for a command that takes no keys.
    #[error("ERR The command has no key arguments")]
    GetKeysNoKeys,
    /// `COMMAND GETKEYS` for a command given the wrong number of arguments.
    #[error("ERR Invalid number of arguments specified for command")]
    GetKeysWrongArity,
    /// `COMMAND GETKEYS` where the key specs found no key in the arguments.
    #[error("ERR Invalid arguments specified for command")]
    GetKeysInvalidArguments,

    #[error("ERR value is not a valid float")]
    NotFloat,

    #[error("ERR value is out of range, must be positive")]
    NotPositive,

    /// A command-specific rule with a fixed Redis error text (the whole line, `ERR …`).
    #[error("{0}")]
    Invalid(&'static str),

    /// A command that Redis Cluster refuses, or that slotraft does not offer; the text says
    /// which and why.
    #[error("{0}")]
    NotSupported(String),
}

/// Redis prints names with `%.128s`: at most 128 bytes.
const SHOWN_NAME_BYTES: usize = 128;

/// Redis stops listing arguments once the list reaches 128 bytes.
const SHOWN_ARGS_BYTES: usize = 128;

fn quoted_name(name: &[u8]) -> String {
    shown(&name[..name.len().min(SHOWN_NAME_BYTES)])
}

/// `'a' 'b' ` — each argument quoted and followed by a space, the list cut to 128 bytes the way
/// Redis' loop does it (the last argument shown is truncated to the remaining budget).
fn quoted_args(args: &[Bytes]) -> String {
    let mut list: Vec<u8> = Vec::new();
    for arg in args {
        if list.len() >= SHOWN_ARGS_BYTES {
            break;
        }
        let budget = SHOWN_ARGS_BYTES - list.len();
        list.push(b'\'');
        list.extend_from_slice(&arg[..arg.len().min(budget)]);
        list.extend_from_slice(b"' ");
    }
    shown(&list)
}

fn container_upper(cmd: &[u8]) -> String {
    shown(&cmd.to_ascii_uppercase())
}

/// Client bytes as error text: Redis turns `\r` and `\n` into spaces so the reply stays one
/// line. Invalid UTF-8 is replaced, since a `String` cannot carry it.
fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(name: &str, args: &[&str]) -> String {
        CommandError::UnknownCommand {
            name: Bytes::copy_from_slice(name.as_bytes()),
            args: args
                .iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect(),
        }
        .to_string()
    }

    // Expected texts captured from redis-server 7.0.15.
    #[test]
    fn unknown_command_text_matches_redis() {
        assert_eq!(
            unknown("foo", &["a", "b"]),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
        assert_eq!(
            unknown("foo", &[]),
            "ERR unknown command 'foo', with args beginning with: "
        );
        assert_eq!(
            unknown("FOO", &["a\r\nb"]),
            "ERR unknown command 'FOO', with args beginning with: 'a  b' "
        );
    }

    #[test]
    fn unknown_command_arguments_are_cut_at_128_bytes() {
        let long = "x".repeat(200);
        assert_eq!(
            unknown("foo", &[&long, "next"]),
            format!(
                "ERR unknown command 'foo', with args beginning with: '{}' ",
                "x".repeat(128)
            )
        );
        // 10 arguments of 20 bytes: each takes 23 bytes of the list; the sixth starts at 115
        // and gets the remaining 13 bytes, then the list is full.
        let twenty = "y".repeat(20);
        let args = vec![twenty.as_str(); 10];
        let shown_args = format!("{}'{}' ", format!("'{twenty}' ").repeat(5), "y".repeat(13));
        assert_eq!(
            unknown("foo", &args),
            format!("ERR unknown command 'foo', with args beginning with: {shown_args}")
        );
        let long_name = "n".repeat(300);
        assert!(unknown(&long_name, &[]).contains(&format!("'{}'", "n".repeat(128))));
    }

    #[test]
    fn other_texts_match_redis() {
        let sub = CommandError::UnknownSubcommand {
            cmd: Bytes::from_static(b"cluster"),
            sub: Bytes::from_static(b"foo"),
        };
        assert_eq!(
            sub.to_string(),
            "ERR unknown subcommand 'foo'. Try CLUSTER HELP."
        );
        let long_sub = CommandError::UnknownSubcommand {
            cmd: Bytes::from_static(b"Cluster"),
            sub: Bytes::from("x".repeat(200)),
        };
        assert_eq!(
            long_sub.to_string(),
            format!(
                "ERR unknown subcommand '{}'. Try CLUSTER HELP.",
                "x".repeat(128)
            )
        );
        assert_eq!(
            CommandError::WrongArity("cluster|keyslot").to_string(),
            "ERR wrong number of arguments for 'cluster|keyslot' command"
        );
        assert_eq!(
            CommandError::OutOfRange {
                min: i32::MIN.into(),
                max: i32::MAX.into()
            }
            .to_string(),
            "ERR value is out of range, value must between -2147483648 and 2147483647"
        );
        assert_eq!(
            CommandError::UnsupportedOption(Bytes::from_static(b"foo")).to_string(),
            "ERR Unsupported option foo"
        );
        assert_eq!(
            CommandError::HelloOption(Bytes::from_static(b"auth")).to_string(),
            "ERR Syntax error in HELLO option 'auth'"
        );
        assert_eq!(
            CommandError::UnsupportedProtocol.to_string(),
            "NOPROTO unsupported protocol version"
        );
    }
}
