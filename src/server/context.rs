//! `Context`: what every connection of a node's RESP listener shares (the group registry,
//! stats, client list, limits, timeouts, `requirepass`, the values `CONFIG GET` reports).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;

use super::clients::ClientRegistry;
use super::route::Router;
use super::stats::ServerStats;
use crate::group::GroupRegistry;
use crate::resp::Limits;

/// Shared by all connections.
pub struct Context {
    pub registry: Arc<GroupRegistry>,
    pub stats: Arc<ServerStats>,
    pub clients: Arc<ClientRegistry>,
    pub limits: Limits,
    pub maxclients: usize,
    /// How long a command waits for a leaderless group to elect one.
    pub leader_wait: Duration,
    /// How long a proposed write waits for its commit before its outcome is reported unknown.
    pub write_timeout: Duration,
    /// `requirepass`: when set, clients must `AUTH` first. Changed by `CONFIG SET`.
    pub requirepass: RwLock<Option<Bytes>>,
    /// Static values `CONFIG GET` reports (port, dir, …).
    pub config_values: Vec<(&'static str, String)>,
}

impl Context {
    /// The context a node's RESP listener runs with.
    pub fn new(registry: Arc<GroupRegistry>, config: &crate::config::Config) -> Context {
        let config_values = vec![
            ("port", config.port.to_string()),
            ("bind", config.bind.clone()),
            ("dir", config.dir.display().to_string()),
            ("maxclients", config.maxclients.to_string()),
            ("proto-max-bulk-len", config.limits.max_bulk_len.to_string()),
            ("cluster-enabled", "yes".into()),
            (
                "cluster-node-timeout",
                config.election_timeout_ms.to_string(),
            ),
            ("databases", "1".into()),
            // The Raft log is fsynced before every acknowledgement: the equivalent of an
            // always-fsynced AOF, with no RDB snapshots on a timer.
            ("appendonly", "yes".into()),
            ("appendfsync", "always".into()),
            ("save", String::new()),
            ("maxmemory", "0".into()),
            ("maxmemory-policy", "noeviction".into()),
            ("timeout", "0".into()),
            ("tcp-keepalive", "300".into()),
            ("cluster-require-full-coverage", "yes".into()),
            ("cluster-allow-reads-when-down", "no".into()),
            ("lua-time-limit", "5000".into()),
            ("busy-reply-threshold", "5000".into()),
            ("slowlog-log-slower-than", "10000".into()),
            ("slowlog-max-len", "128".into()),
            ("notify-keyspace-events", String::new()),
            ("hash-max-listpack-entries", "128".into()),
            ("set-max-intset-entries", "512".into()),
            ("zset-max-listpack-entries", "128".into()),
        ];
        Context {
            registry,
            stats: Arc::new(ServerStats::default()),
            clients: Arc::new(ClientRegistry::default()),
            limits: config.limits.clone(),
            maxclients: config.maxclients,
            leader_wait: Duration::from_millis(config.election_timeout_ms * 2),
            write_timeout: Duration::from_millis(config.write_timeout_ms),
            requirepass: RwLock::new(config.requirepass.clone().map(Bytes::from)),
            config_values,
        }
    }

    pub(super) fn router(&self) -> Router<'_> {
        Router {
            registry: &self.registry,
            leader_wait: self.leader_wait,
        }
    }
}
