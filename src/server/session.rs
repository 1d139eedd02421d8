//! One client connection's state (`Session`: protocol, authentication, `READONLY`, the
//! `MULTI` queue, watched keys, the listener it came through) and the commands that change it
//! before anything else runs: `AUTH` and `HELLO`.

use std::net::SocketAddr;

use bytes::Bytes;

use super::clients::ClientInfo;
use super::context::Context;
use super::info;
use super::replies::err;
use crate::cluster::topology::ClientNetwork;
use crate::keyspace::WatchedKey;
use crate::resp::{Frame, Protocol};

/// Per-connection state.
pub struct Session {
    pub id: u64,
    pub peer: SocketAddr,
    pub local: Option<SocketAddr>,
    pub protocol: Protocol,
    /// Set by `READONLY`: reads may be served by followers.
    pub readonly: bool,
    pub name: Option<Bytes>,
    /// `CLIENT SETINFO LIB-NAME` / `LIB-VER`: shown in `CLIENT LIST`.
    pub lib_name: Option<Bytes>,
    pub lib_ver: Option<Bytes>,
    /// False until `AUTH` succeeds, when a password is required.
    pub authenticated: bool,
    /// Commands queued since `MULTI`.
    pub multi: Option<Transaction>,
    /// Keys under `WATCH`, with their versions.
    pub watched: Vec<WatchedKey>,
    pub created: std::time::Instant,
    pub last_command: &'static str,
    /// The network the client came through (which listener): decides the node addresses it
    /// is given in `CLUSTER SLOTS`/`SHARDS`/`NODES` and `-MOVED`.
    pub network: ClientNetwork,
}

impl Session {
    pub fn new(id: u64, peer: SocketAddr, network: ClientNetwork) -> Self {
        Self {
            id,
            peer,
            local: None,
            protocol: Protocol::Resp2,
            readonly: false,
            name: None,
            lib_name: None,
            lib_ver: None,
            authenticated: false,
            multi: None,
            watched: Vec::new(),
            created: std::time::Instant::now(),
            last_command: "NULL",
            network,
        }
    }

    pub(super) fn resp3(&self) -> bool {
        self.protocol == Protocol::Resp3
    }

    /// The snapshot `CLIENT LIST` shows.
    pub fn info(&self) -> ClientInfo {
        let text = |b: &Option<Bytes>| {
            b.as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        ClientInfo {
            id: self.id,
            addr: self.peer,
            laddr: self.local,
            name: text(&self.name),
            lib_name: text(&self.lib_name),
            lib_ver: text(&self.lib_ver),
            created: self.created,
            last_command_at: std::time::Instant::now(),
            last_command: self.last_command,
            resp: if self.resp3() { 3 } else { 2 },
            multi: self.multi.as_ref().map_or(-1, |t| t.steps.len() as i64),
            user: "default".into(),
        }
    }
}

/// The commands queued since `MULTI`, as the client sent them: like Redis, queuing checks only
/// that the command exists and its arity; the rest (syntax, values) is checked at `EXEC` and
/// reported in place.
#[derive(Debug, Default)]
pub struct Transaction {
    pub steps: Vec<Vec<Bytes>>,
    /// A command failed to queue (syntax, arity): `EXEC` answers `EXECABORT`.
    pub failed: bool,
}

impl Context {
    /// `AUTH`: the one user is `default`; with no `requirepass`, any password is accepted (as
    /// Redis' `nopass` default user does).
    pub(super) fn authenticate(
        &self,
        session: &mut Session,
        username: Option<&Bytes>,
        password: &Bytes,
    ) -> Result<(), Frame> {
        let required = self
            .requirepass
            .read()
            .map(|p| p.clone())
            .map_err(|_| err("ERR internal error"))?;
        let user_ok = username.is_none_or(|u| u.as_ref() == b"default");
        match required {
            None if username.is_none() => Err(err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")),
            None if user_ok => {
                session.authenticated = true;
                Ok(())
            }
            Some(pass) if user_ok && constant_time_eq(&pass, password) => {
                session.authenticated = true;
                Ok(())
            }
            _ => Err(err(
                "WRONGPASS invalid username-password pair or user is disabled.",
            )),
        }
    }

    pub(super) fn hello(&self, session: &Session) -> Frame {
        let proto = match session.protocol {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        };
        Frame::Map(vec![
            (Frame::bulk("server"), Frame::bulk("redis")),
            (Frame::bulk("version"), Frame::bulk(info::REDIS_VERSION)),
            (Frame::bulk("proto"), Frame::Integer(proto)),
            (Frame::bulk("id"), Frame::Integer(session.id as i64)),
            (Frame::bulk("mode"), Frame::bulk("cluster")),
            (Frame::bulk("role"), Frame::bulk("master")),
            (Frame::bulk("modules"), Frame::Array(vec![])),
        ])
    }
}

/// A command that may run without `AUTH` when a password is set (Redis' `no-auth` flag).
pub(super) fn allowed_before_auth(name: &[u8]) -> bool {
    [&b"auth"[..], b"hello", b"quit"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

/// Compares a password without leaking where it differs through timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
