//! Command execution: parse, then the one `match` over `Command` that sends each command down
//! one of three paths.
//!
//! - connection and server commands (`PING`, `HELLO`, `CLUSTER …`, `INFO`, …) answer locally;
//! - reads run on the group's leader after the group's ReadIndex confirms leadership with a
//!   quorum and the state machine has applied up to the read index (linearizable), or on a
//!   follower after `READONLY` (stale reads, as Redis Cluster replicas serve them);
//! - writes become a `WriteOp` with every deadline made absolute, are proposed through
//!   the group API (`group::Group::propose`), and are answered only with the result of
//!   applying the committed entry (`keyed`, `prepare`).

use bytes::Bytes;

use super::context::Context;
use super::info;
use super::node_commands::command_reply;
use super::prepare::{prepare, Prepared};
use super::replies::err;
use super::session::{allowed_before_auth, Session, Transaction};
use crate::command::{Command, CommandError, TimeUnit};
use crate::keyspace::{ReadOp, TtlKind};
use crate::resp::{Frame, Protocol};

pub struct Outcome {
    pub frame: Frame,
    /// Close the connection after writing `frame` (QUIT).
    pub close: bool,
}

fn reply(frame: Frame) -> Outcome {
    Outcome {
        frame,
        close: false,
    }
}

impl Context {
    pub async fn execute(&self, session: &mut Session, args: Vec<Bytes>) -> Outcome {
        if !session.authenticated
            && !allowed_before_auth(args.first().map(|a| a.as_ref()).unwrap_or_default())
            && self.requirepass.read().map(|p| p.is_some()).unwrap_or(true)
        {
            if let Some(tx) = session.multi.as_mut() {
                tx.failed = true;
            }
            return reply(err("NOAUTH Authentication required."));
        }
        if session.multi.is_some() {
            if let Some(frame) = self.queue(session, &args) {
                return reply(frame);
            }
        }
        let (name, cmd) = match Command::parse_named(&args) {
            Ok(parsed) => parsed,
            Err(CommandError::WrongArity("exec")) => {
                // Redis aborts the transaction whenever it rejects an EXEC, and says so.
                session.multi = None;
                session.watched.clear();
                return reply(err(format!(
                    "EXECABORT Transaction discarded because of: {}",
                    CommandError::WrongArity("exec")
                        .to_string()
                        .trim_start_matches("ERR ")
                )));
            }
            Err(e) => return reply(err(e.to_string())),
        };
        self.stats.count_command(name);
        session.last_command = name;
        match cmd {
            Command::Quit => Outcome {
                frame: Frame::ok(),
                close: true,
            },
            Command::Exec | Command::Discard if session.multi.is_some() => {
                reply(self.exec_or_discard(session, &cmd).await)
            }
            other => reply(self.run(session, other).await),
        }
    }

    pub(super) async fn run(&self, session: &mut Session, cmd: Command) -> Frame {
        let now = crate::clock::now_ms();
        let resp3 = session.resp3();
        match cmd {
            Command::Quit => Frame::ok(),
            Command::Ping(None) => Frame::Simple("PONG".into()),
            Command::Ping(Some(msg)) => Frame::Bulk(msg),
            Command::Echo(msg) => Frame::Bulk(msg),
            Command::Hello {
                protover,
                auth,
                setname,
            } => {
                if let Some((user, pass)) = auth {
                    if let Err(frame) = self.authenticate(session, Some(&user), &pass) {
                        return frame;
                    }
                } else if !session.authenticated
                    && self.requirepass.read().map(|p| p.is_some()).unwrap_or(true)
                {
                    return err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
                }
                if let Some(v) = protover {
                    session.protocol = if v == 3 {
                        Protocol::Resp3
                    } else {
                        Protocol::Resp2
                    };
                }
                if let Some(name) = setname {
                    session.name = Some(name);
                }
                self.hello(session)
            }
            Command::Auth { username, password } => {
                match self.authenticate(session, username.as_ref(), &password) {
                    Ok(()) => Frame::ok(),
                    Err(frame) => frame,
                }
            }
            Command::Asking => Frame::ok(),
            Command::Wait => Frame::Integer(
                self.registry
                    .groups()
                    .iter()
                    .map(|g| (self.registry.topology().members(g.id()).len() / 2) as i64)
                    .min()
                    .unwrap_or(0),
            ),
            Command::Select(0) => Frame::ok(),
            Command::Select(_) => err("ERR SELECT is not allowed in cluster mode"),
            Command::ReadOnly => {
                session.readonly = true;
                Frame::ok()
            }
            Command::ReadWrite => {
                session.readonly = false;
                Frame::ok()
            }
            Command::Command(sub) => command_reply(sub),
            Command::Info(sections) => Frame::Verbatim {
                format: *b"txt",
                text: info::render(self, &sections).into(),
            },
            Command::Cluster(sub) => self.cluster(sub, session.network, now),
            Command::Client(sub) => self.client(session, sub),
            Command::Config(sub) => self.config(sub, resp3),
            Command::Time => {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                Frame::Array(vec![
                    Frame::bulk(t.as_secs().to_string()),
                    Frame::bulk(t.subsec_micros().to_string()),
                ])
            }
            Command::DbSize => Frame::Integer(
                self.led_groups()
                    .iter()
                    .map(|g| g.state().read().map(|s| s.keyspace.len(now)).unwrap_or(0))
                    .sum::<usize>() as i64,
            ),
            Command::Keys(pattern) => Frame::Array(
                self.led_groups()
                    .iter()
                    .flat_map(|g| {
                        g.state()
                            .read()
                            .map(|s| s.keyspace.keys_matching(now, &pattern))
                            .unwrap_or_default()
                    })
                    .map(Frame::Bulk)
                    .collect(),
            ),
            Command::Scan(args) => self.scan(args, now),
            Command::RandomKey => {
                let mut groups = self.led_groups();
                let seed: u64 = rand::random();
                let len = groups.len().max(1);
                groups.rotate_left((seed as usize) % len);
                let key = groups.iter().find_map(|g| {
                    g.state()
                        .read()
                        .ok()
                        .and_then(|s| s.keyspace.random_key(now, seed))
                });
                key.map(Frame::Bulk).unwrap_or(Frame::Null)
            }
            Command::FlushAll => self.flush_all(now).await,
            Command::Multi => {
                session.multi = Some(Transaction::default());
                Frame::ok()
            }
            Command::Exec => err("ERR EXEC without MULTI"),
            Command::Discard => err("ERR DISCARD without MULTI"),
            Command::Watch(keys) => self.watch(session, keys).await,
            Command::Unwatch => {
                session.watched.clear();
                Frame::ok()
            }

            Command::Get(key) => self.read(session, ReadOp::Get { key }).await,
            Command::Exists(keys) => self.read(session, ReadOp::Exists { keys }).await,
            Command::MGet(keys) => self.read(session, ReadOp::MGet { keys }).await,
            Command::Ttl { key, unit } => {
                let kind = match unit {
                    TimeUnit::Seconds => TtlKind::Ttl,
                    TimeUnit::Milliseconds => TtlKind::PTtl,
                };
                self.read(session, ReadOp::Ttl { key, kind }).await
            }
            Command::Read(op) => self.read(session, op).await,

            other => match prepare(other, now) {
                Ok(Prepared::Write(op, how)) => {
                    self.write(op, how, now, resp3, session.network).await
                }
                // Every command that is not a keyspace write has its arm above.
                Ok(Prepared::Local(cmd)) => {
                    err(format!("ERR internal error: no handler for {cmd:?}"))
                }
                Err(frame) => frame,
            },
        }
    }
}
