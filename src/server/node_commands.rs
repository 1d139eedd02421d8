//! Commands that act on this node rather than on one slot: `CLIENT`, `CONFIG`, `SCAN`,
//! `FLUSHALL`. `SCAN` and `FLUSHALL` cover the slot groups this node leads, as Redis Cluster
//! masters cover their own slots (cluster clients send them to every master).

use std::sync::Arc;

use bytes::Bytes;

use super::cluster_view;
use super::context::Context;
use super::replies::{err, help};
use super::session::Session;
use crate::cluster::topology::ClientNetwork;
use crate::command::{self, ClientSub, ConfigSub, LibAttr};
use crate::command::{ClusterSub, CommandSub};
use crate::group::{Group, GroupError};
use crate::keyspace::{glob_match, ScanArgs, WriteOp};
use crate::resp::Frame;

/// Bits of a node-level `SCAN` cursor that hold the position inside one group's key order;
/// the bits above hold the group's id + 1 (see `scan`).
const GROUP_SHIFT: u32 = 48;

impl Context {
    pub(super) fn client(&self, session: &mut Session, sub: ClientSub) -> Frame {
        match sub {
            ClientSub::Help => Frame::Array(
                ClientSub::HELP
                    .iter()
                    .map(|l| Frame::Simple((*l).to_string()))
                    .collect(),
            ),
            ClientSub::SetName(name) => {
                session.name = (!name.is_empty()).then_some(name);
                Frame::ok()
            }
            ClientSub::SetInfo(attr, value) => {
                let value = (!value.is_empty()).then_some(value);
                match attr {
                    LibAttr::Name => session.lib_name = value,
                    LibAttr::Version => session.lib_ver = value,
                }
                Frame::ok()
            }
            ClientSub::GetName => session.name.clone().map(Frame::Bulk).unwrap_or(Frame::Null),
            ClientSub::Id => Frame::Integer(session.id as i64),
            ClientSub::Info => Frame::Verbatim {
                format: *b"txt",
                text: format!("{}\n", session.info().line()).into(),
            },
            ClientSub::List { ids, normal_only } => {
                self.clients.update(session.info());
                let mut text = String::new();
                if !normal_only {
                    for c in self.clients.list() {
                        if ids.as_ref().is_some_and(|ids| !ids.contains(&c.id)) {
                            continue;
                        }
                        text.push_str(&c.line());
                        text.push('\n');
                    }
                }
                Frame::Verbatim {
                    format: *b"txt",
                    text: text.into(),
                }
            }
            ClientSub::Kill(filter) => {
                let me = session.id;
                let n = self.clients.kill(|c| {
                    (!filter.skip_me || c.id != me || filter.legacy)
                        && filter.id.is_none_or(|id| id == c.id)
                        && filter
                            .addr
                            .as_ref()
                            .is_none_or(|a| a.as_ref() == c.addr.to_string().as_bytes())
                        && filter.laddr.as_ref().is_none_or(|a| {
                            c.laddr
                                .is_some_and(|l| a.as_ref() == l.to_string().as_bytes())
                        })
                        && filter
                            .user
                            .as_ref()
                            .is_none_or(|u| u.as_ref() == c.user.as_bytes())
                });
                if filter.legacy {
                    if n == 0 {
                        err("ERR No such client")
                    } else {
                        Frame::ok()
                    }
                } else {
                    Frame::Integer(n as i64)
                }
            }
        }
    }

    pub(super) fn config(&self, sub: ConfigSub, resp3: bool) -> Frame {
        let _ = resp3;
        match sub {
            ConfigSub::Help => Frame::Array(
                ConfigSub::HELP
                    .iter()
                    .map(|l| Frame::Simple((*l).to_string()))
                    .collect(),
            ),
            ConfigSub::ResetStat => Frame::ok(),
            ConfigSub::Rewrite => err("ERR The server is running without a config file"),
            ConfigSub::Get(patterns) => {
                let mut values = self.config_values.clone();
                let pass = self
                    .requirepass
                    .read()
                    .ok()
                    .and_then(|p| p.clone())
                    .map(|p| String::from_utf8_lossy(&p).into_owned())
                    .unwrap_or_default();
                values.push(("requirepass", pass));
                let mut out: Vec<(Frame, Frame)> = Vec::new();
                for (name, value) in values {
                    let matches = patterns
                        .iter()
                        .any(|p| glob_match(&p.to_ascii_lowercase(), name.as_bytes()));
                    if matches && !out.iter().any(|(n, _)| n == &Frame::bulk(name)) {
                        out.push((Frame::bulk(name), Frame::bulk(value)));
                    }
                }
                Frame::Map(out)
            }
            ConfigSub::Set(pairs) => {
                // All or nothing: check every pair before changing anything.
                for (name, _) in &pairs {
                    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
                    if lower != "requirepass" {
                        let known = self.config_values.iter().any(|(n, _)| *n == lower);
                        return err(if known {
                            format!("ERR CONFIG SET failed (possibly related to argument '{lower}') - slotraft sets this parameter at startup only (see slotraft-server --help)")
                        } else {
                            format!(
                                "ERR Unknown option or number of arguments for CONFIG SET - '{lower}'"
                            )
                        });
                    }
                }
                for (_, value) in pairs {
                    if let Ok(mut pass) = self.requirepass.write() {
                        *pass = (!value.is_empty()).then_some(value);
                    }
                }
                Frame::ok()
            }
        }
    }

    /// `SCAN` over the groups this node leads, in group-id order. The cursor names the group
    /// (its id + 1, so that no cursor but the last is 0) and the position inside it; naming
    /// the group rather than its place among the led groups keeps a cursor meaningful when
    /// this node gains or loses a group between two calls.
    pub(super) fn scan(&self, args: ScanArgs, now: u64) -> Frame {
        let (first, mut position) = match args.cursor >> GROUP_SHIFT {
            0 => (0, args.cursor << (64 - GROUP_SHIFT)),
            g => ((g - 1) as u32, args.cursor << (64 - GROUP_SHIFT)),
        };
        let groups: Vec<Arc<Group>> = self
            .led_groups()
            .into_iter()
            .filter(|g| g.id() >= first)
            .collect();
        if groups.first().is_none_or(|g| g.id() != first) {
            position = 0;
        }
        let cursor_of = |group: &Group, at: u64| (u64::from(group.id()) + 1) << GROUP_SHIFT | at;
        let mut keys: Vec<Bytes> = Vec::new();
        let mut next = 0u64;
        for (i, group) in groups.iter().enumerate() {
            let step = ScanArgs {
                cursor: position,
                count: args.count.saturating_sub(keys.len()).max(1),
                ..args.clone()
            };
            let (resume, found) = group
                .state()
                .read()
                .map(|s| s.keyspace.scan(now, &step))
                .unwrap_or((0, Vec::new()));
            keys.extend(found);
            if resume != 0 {
                // Resume at or before `resume` (low bits dropped): keys may repeat, none skip.
                next = cursor_of(group, resume >> (64 - GROUP_SHIFT));
                break;
            }
            position = 0;
            if keys.len() >= args.count {
                next = groups.get(i + 1).map_or(0, |g| cursor_of(g, 0));
                break;
            }
        }
        Frame::Array(vec![
            Frame::bulk(next.to_string()),
            Frame::Array(keys.into_iter().map(Frame::Bulk).collect()),
        ])
    }

    pub(super) async fn flush_all(&self, now: u64) -> Frame {
        for group in self.led_groups() {
            let id = group.id();
            match group.propose(WriteOp::FlushAll, now, self.write_timeout).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return err(format!("ERR FLUSHALL failed on slot group {id}: {e}")),
                Err(GroupError::OutcomeUnknown(why)) => {
                    return err(format!(
                        "OUTCOMEUNKNOWN FLUSHALL on slot group {id} may or may not have been applied: {why}"
                    ))
                }
                Err(e) => return err(format!("ERR FLUSHALL failed on slot group {id}: {e}")),
            }
        }
        Frame::ok()
    }

    /// Groups this node currently leads, in group-id order: the slots it is "master" of
    /// toward clients.
    pub(super) fn led_groups(&self) -> Vec<Arc<Group>> {
        let me = self.registry.topology().self_id();
        self.registry
            .groups()
            .into_iter()
            .filter(|g| g.current_leader() == Some(me))
            .collect()
    }

    pub(super) fn cluster(&self, sub: ClusterSub, network: ClientNetwork, now: u64) -> Frame {
        let view = cluster_view::ClusterView::new(&self.registry, network);
        match sub {
            ClusterSub::Help => help(ClusterSub::HELP),
            ClusterSub::Slots => view.slots(),
            ClusterSub::Shards => view.shards(),
            ClusterSub::Nodes => Frame::Bulk(view.nodes().into()),
            ClusterSub::Info => Frame::Verbatim {
                format: *b"txt",
                text: view.info().into(),
            },
            ClusterSub::MyId => Frame::bulk(
                self.registry
                    .topology()
                    .node_name(self.registry.topology().self_id()),
            ),
            ClusterSub::KeySlot(key) => {
                Frame::Integer(i64::from(crate::cluster::slot::key_slot(&key)))
            }
            ClusterSub::CountKeysInSlot(slot) => {
                let group = self
                    .registry
                    .group(self.registry.topology().group_of_slot(slot));
                let count = group
                    .map(|g| {
                        g.state()
                            .read()
                            .map(|s| s.keyspace.count_in_slot(now, slot))
                            .unwrap_or(0)
                    })
                    .unwrap_or(0);
                Frame::Integer(count as i64)
            }
        }
    }
}

pub(super) fn command_reply(sub: CommandSub) -> Frame {
    match sub {
        CommandSub::Help => help(CommandSub::HELP),
        CommandSub::All => Frame::Array(
            command::table::all()
                .iter()
                .map(|s| s.info_frame())
                .collect(),
        ),
        CommandSub::Count => Frame::Integer(command::table::all().len() as i64),
        CommandSub::List(filter) => Frame::Array(
            command::table::list(filter.as_ref())
                .into_iter()
                .map(Frame::bulk)
                .collect(),
        ),
        // No names: every command, as Redis 7 does. An unknown name answers nil.
        CommandSub::Info(names) if names.is_empty() => Frame::Array(
            command::table::all()
                .iter()
                .map(|s| s.info_frame())
                .collect(),
        ),
        CommandSub::Info(names) => Frame::Array(
            names
                .iter()
                .map(|n| {
                    std::str::from_utf8(n)
                        .ok()
                        .and_then(command::table::lookup)
                        .map(|s| s.info_frame())
                        .unwrap_or(Frame::Null)
                })
                .collect(),
        ),
        CommandSub::Docs(names) => {
            let specs: Vec<_> = if names.is_empty() {
                command::table::all().iter().collect()
            } else {
                names
                    .iter()
                    .filter_map(|n| {
                        std::str::from_utf8(n)
                            .ok()
                            .and_then(|n| command::table::lookup(&n.to_ascii_lowercase()))
                    })
                    .collect()
            };
            Frame::Map(
                specs
                    .into_iter()
                    .map(|s| (Frame::bulk(s.name), s.docs_frame()))
                    .collect(),
            )
        }
        CommandSub::GetKeys(args) => match command::table::get_keys(&args) {
            Ok(keys) => Frame::Array(keys.into_iter().map(Frame::Bulk).collect()),
            Err(e) => err(e.to_string()),
        },
    }
}
