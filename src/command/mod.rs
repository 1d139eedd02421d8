//! TEMPORARY placeholder parser (replaced by the full command module).
use bytes::Bytes;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CommandError {
    #[error("ERR unknown command '{0}', with args beginning with: ")]
    Unknown(String),
    #[error("ERR wrong number of arguments for '{0}' command")]
    WrongArity(String),
    #[error("ERR syntax error")]
    Syntax,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
}

#[derive(Debug, Clone, Copy)]
pub enum TimeUnit {
    Seconds,
    Milliseconds,
}
#[derive(Debug, Clone, Copy)]
pub enum ExpireCondition {
    Always,
    Nx,
    Xx,
    Gt,
    Lt,
}
#[derive(Debug, Clone, Copy)]
pub enum SetCondition {
    Always,
    IfNotExists,
    IfExists,
}
#[derive(Debug, Clone, Copy)]
pub enum SetExpiry {
    None,
    KeepTtl,
    In(TimeUnit, i64),
    At(TimeUnit, i64),
}
#[derive(Debug, Clone)]
pub struct SetArgs {
    pub key: Bytes,
    pub value: Bytes,
    pub condition: SetCondition,
    pub expiry: SetExpiry,
    pub get: bool,
}
#[derive(Debug, Clone)]
pub enum CommandSub {
    All,
    Count,
    Info(Vec<Bytes>),
    Docs(Vec<Bytes>),
    List,
    GetKeys(Vec<Bytes>),
}
#[derive(Debug, Clone)]
pub enum ClusterSub {
    Slots,
    Shards,
    Nodes,
    KeySlot(Bytes),
    Info,
    MyId,
    CountKeysInSlot(u16),
}

#[derive(Debug, Clone)]
pub enum Command {
    Ping(Option<Bytes>),
    Echo(Bytes),
    Hello {
        protover: Option<u8>,
        auth: Option<(Bytes, Bytes)>,
        setname: Option<Bytes>,
    },
    Quit,
    Select(i64),
    Command(CommandSub),
    Info(Vec<String>),
    ReadOnly,
    ReadWrite,
    Cluster(ClusterSub),
    Get(Bytes),
    Set(SetArgs),
    Del(Vec<Bytes>),
    Exists(Vec<Bytes>),
    IncrBy {
        key: Bytes,
        delta: i64,
    },
    MGet(Vec<Bytes>),
    MSet(Vec<(Bytes, Bytes)>),
    Expire {
        key: Bytes,
        amount: i64,
        unit: TimeUnit,
        condition: ExpireCondition,
        name: &'static str,
    },
    Ttl {
        key: Bytes,
        unit: TimeUnit,
    },
    Persist(Bytes),
    DbSize,
}

fn int(b: &Bytes) -> Result<i64, CommandError> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(CommandError::NotInteger)
}

impl Command {
    pub fn parse(args: &[Bytes]) -> Result<Command, CommandError> {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let a = &args[1..];
        let arity = |n: usize| {
            if a.len() == n {
                Ok(())
            } else {
                Err(CommandError::WrongArity(name.clone()))
            }
        };
        Ok(match name.as_str() {
            "ping" => Command::Ping(a.first().cloned()),
            "echo" => {
                arity(1)?;
                Command::Echo(a[0].clone())
            }
            "hello" => Command::Hello {
                protover: a.first().map(|v| int(v).map(|v| v as u8)).transpose()?,
                auth: None,
                setname: None,
            },
            "quit" => Command::Quit,
            "select" => {
                arity(1)?;
                Command::Select(int(&a[0])?)
            }
            "command" => Command::Command(
                match a
                    .first()
                    .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
                    .as_deref()
                {
                    None => CommandSub::All,
                    Some("count") => CommandSub::Count,
                    Some("list") => CommandSub::List,
                    Some("info") => CommandSub::Info(a[1..].to_vec()),
                    Some("docs") => CommandSub::Docs(a[1..].to_vec()),
                    Some("getkeys") => CommandSub::GetKeys(a[1..].to_vec()),
                    _ => return Err(CommandError::Syntax),
                },
            ),
            "info" => Command::Info(
                a.iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            ),
            "readonly" => Command::ReadOnly,
            "readwrite" => Command::ReadWrite,
            "cluster" => Command::Cluster(
                match a
                    .first()
                    .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
                    .as_deref()
                {
                    Some("slots") => ClusterSub::Slots,
                    Some("shards") => ClusterSub::Shards,
                    Some("nodes") => ClusterSub::Nodes,
                    Some("info") => ClusterSub::Info,
                    Some("myid") => ClusterSub::MyId,
                    Some("keyslot") => {
                        ClusterSub::KeySlot(a.get(1).cloned().ok_or(CommandError::Syntax)?)
                    }
                    Some("countkeysinslot") => ClusterSub::CountKeysInSlot(int(a
                        .get(1)
                        .ok_or(CommandError::Syntax)?)?
                        as u16),
                    _ => return Err(CommandError::Syntax),
                },
            ),
            "get" => {
                arity(1)?;
                Command::Get(a[0].clone())
            }
            "set" => {
                if a.len() < 2 {
                    return Err(CommandError::WrongArity(name));
                }
                let mut s = SetArgs {
                    key: a[0].clone(),
                    value: a[1].clone(),
                    condition: SetCondition::Always,
                    expiry: SetExpiry::None,
                    get: false,
                };
                let mut i = 2;
                while i < a.len() {
                    match String::from_utf8_lossy(&a[i]).to_ascii_lowercase().as_str() {
                        "nx" => s.condition = SetCondition::IfNotExists,
                        "xx" => s.condition = SetCondition::IfExists,
                        "get" => s.get = true,
                        "keepttl" => s.expiry = SetExpiry::KeepTtl,
                        "ex" => {
                            i += 1;
                            s.expiry = SetExpiry::In(
                                TimeUnit::Seconds,
                                int(a.get(i).ok_or(CommandError::Syntax)?)?,
                            )
                        }
                        "px" => {
                            i += 1;
                            s.expiry = SetExpiry::In(
                                TimeUnit::Milliseconds,
                                int(a.get(i).ok_or(CommandError::Syntax)?)?,
                            )
                        }
                        _ => return Err(CommandError::Syntax),
                    }
                    i += 1;
                }
                Command::Set(s)
            }
            "del" => Command::Del(a.to_vec()),
            "exists" => Command::Exists(a.to_vec()),
            "incr" => {
                arity(1)?;
                Command::IncrBy {
                    key: a[0].clone(),
                    delta: 1,
                }
            }
            "decr" => {
                arity(1)?;
                Command::IncrBy {
                    key: a[0].clone(),
                    delta: -1,
                }
            }
            "incrby" => {
                arity(2)?;
                Command::IncrBy {
                    key: a[0].clone(),
                    delta: int(&a[1])?,
                }
            }
            "mget" => Command::MGet(a.to_vec()),
            "mset" => Command::MSet(a.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect()),
            "expire" => {
                arity(2)?;
                Command::Expire {
                    key: a[0].clone(),
                    amount: int(&a[1])?,
                    unit: TimeUnit::Seconds,
                    condition: ExpireCondition::Always,
                    name: "expire",
                }
            }
            "ttl" => {
                arity(1)?;
                Command::Ttl {
                    key: a[0].clone(),
                    unit: TimeUnit::Seconds,
                }
            }
            "pttl" => {
                arity(1)?;
                Command::Ttl {
                    key: a[0].clone(),
                    unit: TimeUnit::Milliseconds,
                }
            }
            "persist" => {
                arity(1)?;
                Command::Persist(a[0].clone())
            }
            "dbsize" => Command::DbSize,
            _ => return Err(CommandError::Unknown(name)),
        })
    }
    pub fn name(&self) -> &'static str {
        "cmd"
    }
}

pub mod table {
    use crate::resp::Frame;
    pub struct CommandSpec {
        pub name: &'static str,
    }
    impl CommandSpec {
        pub fn info_frame(&self) -> Frame {
            Frame::Null
        }
        pub fn docs_frame(&self) -> Frame {
            Frame::Null
        }
    }
    pub fn all() -> &'static [CommandSpec] {
        &[]
    }
    pub fn lookup(_: &str) -> Option<&'static CommandSpec> {
        None
    }
    pub fn get_keys(_: &[bytes::Bytes]) -> Result<Vec<bytes::Bytes>, super::CommandError> {
        Ok(vec![])
    }
}
