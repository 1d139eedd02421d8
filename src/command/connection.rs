//! Connection commands: `PING`, `ECHO`, `HELLO`, `QUIT`, `SELECT`, `READONLY`, `READWRITE`.
//!
//! These change or query the state of one client connection and never touch the keyspace, so
//! the connection task answers them itself.

use super::parse::{parse_int, Parse};
use super::{Command, CommandError};

pub(crate) fn parse_ping(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let message = p.next_optional();
    p.finish()?;
    Ok(Command::Ping(message))
}

pub(crate) fn parse_echo(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let message = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Echo(message))
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`, checked in Redis' order:
/// the version first, then the options left to right (a repeated option: the last one wins).
pub(crate) fn parse_hello(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let mut protover = None;
    if let Some(version) = p.next_optional() {
        let version = parse_int(&version).map_err(|_| CommandError::ProtocolVersionNotInteger)?;
        protover = match version {
            2 => Some(2),
            3 => Some(3),
            _ => return Err(CommandError::UnsupportedProtocol),
        };
    }
    let mut auth = None;
    let mut setname = None;
    while let Some(option) = p.next_optional() {
        if option.eq_ignore_ascii_case(b"AUTH") && p.remaining() >= 2 {
            auth = Some((p.next_bytes()?, p.next_bytes()?));
        } else if option.eq_ignore_ascii_case(b"SETNAME") && p.remaining() >= 1 {
            let name = p.next_bytes()?;
            validate_client_name(&name)?;
            setname = Some(name);
        } else {
            return Err(CommandError::HelloOption(option));
        }
    }
    Ok(Command::Hello {
        protover,
        auth,
        setname,
    })
}

/// Redis' client-name rule: empty (meaning "no name"), or printable ASCII without spaces, so
/// that `CLIENT LIST` stays one space-separated line per client.
///
/// Redis checks the name after authenticating, so a request with both a bad password and a bad
/// name gets the name error here where Redis would send `WRONGPASS`.
pub fn validate_client_name(name: &[u8]) -> Result<(), CommandError> {
    if name.iter().all(|b| (b'!'..=b'~').contains(b)) {
        Ok(())
    } else {
        Err(CommandError::InvalidClientName)
    }
}

pub(crate) fn parse_quit(_: &mut Parse<'_>) -> Result<Command, CommandError> {
    // Redis 7.0 ignores QUIT's arguments (its arity is -1).
    Ok(Command::Quit)
}

/// `SELECT index`: Redis reads the index as a C `int`, so values outside it have their own
/// error; which indexes exist is for the server to say.
pub(crate) fn parse_select(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let index = p.next_int()?;
    if i32::try_from(index).is_err() {
        return Err(CommandError::OutOfRange {
            min: i32::MIN.into(),
            max: i32::MAX.into(),
        });
    }
    p.finish()?;
    Ok(Command::Select(index))
}

pub(crate) fn parse_readonly(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::ReadOnly)
}

pub(crate) fn parse_readwrite(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::ReadWrite)
}

/// `ASKING`: a client following `-ASK` sends it; slotraft never answers `-ASK` (slots move
/// with their whole Raft group), so it only acknowledges.
pub(crate) fn parse_asking(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Asking)
}
