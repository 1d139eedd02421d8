//! Server configuration: command-line flags, an optional TOML config file with the same keys
//! (flags win), defaults, and validation. Every rejected value is reported with the flag that
//! carries it.

use std::path::PathBuf;

use clap::Parser;
use serde::Deserialize;
use thiserror::Error;

use crate::cluster::topology::{parse_initial_cluster, Topology, TopologyError};
use crate::resp::Limits;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("--config {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--config {path}: {message}")]
    ParseFile { path: PathBuf, message: String },
    #[error("--{flag}: {message}")]
    Invalid { flag: &'static str, message: String },
    #[error(transparent)]
    Topology(#[from] TopologyError),
}

/// `slotraft-server` command line. Every option can also be set in the `--config` file under
/// the same name (e.g. `node-id = 2`).
#[derive(Debug, Default, Parser, Deserialize)]
#[command(
    name = "slotraft-server",
    version,
    about = "Redis-compatible server where every slot group is a Raft group"
)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Args {
    /// TOML file with any of these options; flags override it.
    #[arg(long)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// This node's id in --initial-cluster [default: 1]
    #[arg(long)]
    pub node_id: Option<u64>,
    /// Address to listen on for RESP and gRPC [default: 127.0.0.1]
    #[arg(long)]
    pub bind: Option<String>,
    /// RESP port [default: 6379]
    #[arg(long)]
    pub port: Option<u16>,
    /// gRPC port for peers and slotraft-ctl [default: port + 10000]
    #[arg(long)]
    pub grpc_port: Option<u16>,
    /// Data directory [default: ./slotraft-data]
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// All nodes as ID=HOST:PORT@GPORT,... (addresses others use) [default: this node alone]
    #[arg(long)]
    pub initial_cluster: Option<String>,
    /// Join a running cluster through this node's gRPC address (HOST:GPORT), instead of
    /// creating one with --initial-cluster; the node holds nothing until `slotraft-ctl
    /// add-node` [default: none]
    #[arg(long)]
    pub join: Option<String>,
    /// Host name or IP that peers and clients use to reach this node, when it is not --bind
    /// (for a node that joins) [default: --bind, or 127.0.0.1 when binding all addresses]
    #[arg(long)]
    pub advertise: Option<String>,
    /// Number of slot groups [default: 16]
    #[arg(long)]
    pub groups: Option<u32>,
    /// Replicas per slot group, capped at the node count [default: 3]
    #[arg(long)]
    pub replicas: Option<usize>,
    /// Raft election timeout, lower bound in ms (upper bound is twice it) [default: 1000]
    #[arg(long)]
    pub election_timeout_ms: Option<u64>,
    /// Raft heartbeat interval in ms [default: 200]
    #[arg(long)]
    pub heartbeat_ms: Option<u64>,
    /// Build a snapshot after this many log entries; the log is purged behind it [default: 50000]
    #[arg(long)]
    pub snapshot_logs: Option<u64>,
    /// Give up waiting for a write's commit after this many ms and report its outcome unknown [default: 10000]
    #[arg(long)]
    pub write_timeout_ms: Option<u64>,
    /// Largest bulk string accepted from clients, bytes (Redis proto-max-bulk-len) [default: 536870912]
    #[arg(long)]
    pub proto_max_bulk_len: Option<usize>,
    /// Largest multibulk count accepted from clients [default: 1048576]
    #[arg(long)]
    pub proto_max_array_len: Option<usize>,
    /// Longest inline command accepted from clients, bytes [default: 65536]
    #[arg(long)]
    pub proto_max_inline_len: Option<usize>,
    /// Maximum number of simultaneous client connections [default: 10000]
    #[arg(long)]
    pub maxclients: Option<usize>,
    /// Every node's RESP address for clients outside the cluster network, as ID=HOST:PORT,...
    /// (e.g. published container ports); clients that connect to --external-port are given
    /// these addresses in CLUSTER SLOTS and -MOVED [default: none]
    #[arg(long)]
    pub external_cluster: Option<String>,
    /// RESP port for clients outside the cluster network [default: the port of this node's
    /// --external-cluster entry]
    #[arg(long)]
    pub external_port: Option<u16>,
    /// How long a stopping node may take to hand off leadership and let clients finish, in ms
    /// [default: 10000]
    #[arg(long)]
    pub shutdown_timeout_ms: Option<u64>,
    /// Require clients to AUTH with this password (Redis requirepass) [default: none]
    #[arg(long)]
    pub requirepass: Option<String>,
    /// Largest snapshot accepted from a leader, in bytes; a larger transfer is refused before
    /// it is stored [default: 34359738368 (32 GiB)]
    #[arg(long)]
    pub max_snapshot_bytes: Option<u64>,
}

/// The validated configuration a node runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub port: u16,
    pub grpc_port: u16,
    pub dir: PathBuf,
    /// For a node that joins: its own layout until it learns the cluster's.
    pub topology: Topology,
    /// `--join`: the gRPC address of a node of the cluster to join.
    pub join: Option<String>,
    pub election_timeout_ms: u64,
    pub heartbeat_ms: u64,
    pub snapshot_logs: u64,
    pub write_timeout_ms: u64,
    pub limits: Limits,
    pub maxclients: usize,
    /// Second RESP listener for external clients (`--external-port`), when configured.
    pub external_port: Option<u16>,
    pub shutdown_timeout_ms: u64,
    /// `None`: no password (any `AUTH` is accepted, as Redis' `nopass` default user).
    pub requirepass: Option<String>,
    pub max_snapshot_bytes: u64,
}

impl Args {
    /// Fills unset fields from `other` (the config file).
    fn or(self, other: Args) -> Args {
        Args {
            config: self.config,
            node_id: self.node_id.or(other.node_id),
            bind: self.bind.or(other.bind),
            port: self.port.or(other.port),
            grpc_port: self.grpc_port.or(other.grpc_port),
            dir: self.dir.or(other.dir),
            initial_cluster: self.initial_cluster.or(other.initial_cluster),
            join: self.join.or(other.join),
            advertise: self.advertise.or(other.advertise),
            groups: self.groups.or(other.groups),
            replicas: self.replicas.or(other.replicas),
            election_timeout_ms: self.election_timeout_ms.or(other.election_timeout_ms),
            heartbeat_ms: self.heartbeat_ms.or(other.heartbeat_ms),
            snapshot_logs: self.snapshot_logs.or(other.snapshot_logs),
            write_timeout_ms: self.write_timeout_ms.or(other.write_timeout_ms),
            proto_max_bulk_len: self.proto_max_bulk_len.or(other.proto_max_bulk_len),
            proto_max_array_len: self.proto_max_array_len.or(other.proto_max_array_len),
            proto_max_inline_len: self.proto_max_inline_len.or(other.proto_max_inline_len),
            maxclients: self.maxclients.or(other.maxclients),
            external_cluster: self.external_cluster.or(other.external_cluster),
            external_port: self.external_port.or(other.external_port),
            shutdown_timeout_ms: self.shutdown_timeout_ms.or(other.shutdown_timeout_ms),
            max_snapshot_bytes: self.max_snapshot_bytes.or(other.max_snapshot_bytes),
            requirepass: self.requirepass.or(other.requirepass),
        }
    }
}

fn invalid(flag: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        flag,
        message: message.into(),
    }
}

impl Config {
    pub fn from_args(args: Args) -> Result<Config, ConfigError> {
        let args = match args.config.clone() {
            Some(path) => {
                let text =
                    std::fs::read_to_string(&path).map_err(|source| ConfigError::ReadFile {
                        path: path.clone(),
                        source,
                    })?;
                let file: Args = toml::from_str(&text).map_err(|e| ConfigError::ParseFile {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                args.or(file)
            }
            None => args,
        };
        let node_id = args.node_id.unwrap_or(1);
        if node_id == 0 {
            return Err(invalid("node-id", "must be a positive integer, got 0"));
        }
        let bind = args.bind.unwrap_or_else(|| "127.0.0.1".into());
        if bind.parse::<std::net::IpAddr>().is_err() {
            return Err(invalid("bind", format!("'{bind}' is not an IP address")));
        }
        let port = args.port.unwrap_or(6379);
        if port == 0 {
            return Err(invalid("port", "must be between 1 and 65535, got 0"));
        }
        let grpc_port = match args.grpc_port {
            Some(0) => return Err(invalid("grpc-port", "must be between 1 and 65535, got 0")),
            Some(p) => p,
            None => port.checked_add(10000).ok_or_else(|| {
                invalid(
                    "grpc-port",
                    format!("port {port} + 10000 exceeds 65535; set --grpc-port"),
                )
            })?,
        };
        if grpc_port == port {
            return Err(invalid(
                "grpc-port",
                format!("must differ from --port ({port})"),
            ));
        }
        if args.join.is_some() {
            for (set, flag) in [
                (args.initial_cluster.is_some(), "initial-cluster"),
                (args.groups.is_some(), "groups"),
                (args.replicas.is_some(), "replicas"),
            ] {
                if set {
                    return Err(invalid(
                        flag,
                        "a node that joins (--join) takes the cluster's layout; leave it out",
                    ));
                }
            }
        }
        if let Some(join) = &args.join {
            let valid = join
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !valid {
                return Err(invalid("join", format!("'{join}' is not HOST:GPORT")));
            }
        }
        let initial_cluster = args.initial_cluster.unwrap_or_else(|| {
            let host = match &args.advertise {
                Some(host) => host.as_str(),
                None if bind == "0.0.0.0" || bind == "::" => "127.0.0.1",
                None => bind.as_str(),
            };
            format!("{node_id}={host}:{port}@{grpc_port}")
        });
        let nodes = parse_initial_cluster(&initial_cluster)?;
        let mut topology = Topology::new(
            node_id,
            nodes,
            args.groups.unwrap_or(16),
            args.replicas.unwrap_or(3),
        )?;
        if let Some(external) = &args.external_cluster {
            topology = topology.with_external(external)?;
        }
        let external_port = match (args.external_port, topology.self_external()) {
            (Some(_), None) => {
                return Err(invalid(
                    "external-port",
                    "needs --external-cluster (the addresses external clients are given)",
                ))
            }
            (Some(p), Some(_)) => Some(p),
            (None, Some(addr)) => addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok()),
            (None, None) => None,
        };
        if let Some(p) = external_port {
            if p == 0 || p == port || p == grpc_port {
                return Err(invalid(
                    "external-port",
                    format!("must be between 1 and 65535 and differ from --port ({port}) and --grpc-port ({grpc_port}), got {p}"),
                ));
            }
        }
        let election_timeout_ms = args.election_timeout_ms.unwrap_or(1000);
        let heartbeat_ms = args.heartbeat_ms.unwrap_or(200);
        if heartbeat_ms == 0 || heartbeat_ms * 2 > election_timeout_ms {
            return Err(invalid(
                "heartbeat-ms",
                format!("must be positive and at most half of --election-timeout-ms ({election_timeout_ms}), got {heartbeat_ms}"),
            ));
        }
        let snapshot_logs = args.snapshot_logs.unwrap_or(50_000);
        if snapshot_logs == 0 {
            return Err(invalid("snapshot-logs", "must be positive"));
        }
        let write_timeout_ms = args.write_timeout_ms.unwrap_or(10_000);
        if write_timeout_ms == 0 {
            return Err(invalid("write-timeout-ms", "must be positive"));
        }
        let defaults = Limits::default();
        let limits = Limits {
            max_bulk_len: positive(
                "proto-max-bulk-len",
                args.proto_max_bulk_len,
                defaults.max_bulk_len,
            )?,
            max_array_len: positive(
                "proto-max-array-len",
                args.proto_max_array_len,
                defaults.max_array_len,
            )?,
            max_inline_len: positive(
                "proto-max-inline-len",
                args.proto_max_inline_len,
                defaults.max_inline_len,
            )?,
        };
        let maxclients = positive("maxclients", args.maxclients, 10_000)?;
        let shutdown_timeout_ms = args.shutdown_timeout_ms.unwrap_or(10_000);
        if shutdown_timeout_ms == 0 {
            return Err(invalid("shutdown-timeout-ms", "must be positive"));
        }
        let max_snapshot_bytes = args.max_snapshot_bytes.unwrap_or(32 << 30);
        if max_snapshot_bytes == 0 {
            return Err(invalid("max-snapshot-bytes", "must be positive"));
        }
        Ok(Config {
            bind,
            port,
            grpc_port,
            dir: args.dir.unwrap_or_else(|| PathBuf::from("./slotraft-data")),
            topology,
            join: args.join,
            election_timeout_ms,
            heartbeat_ms,
            snapshot_logs,
            write_timeout_ms,
            limits,
            maxclients,
            external_port,
            shutdown_timeout_ms,
            requirepass: args.requirepass.filter(|p| !p.is_empty()),
            max_snapshot_bytes,
        })
    }
}

fn positive(
    flag: &'static str,
    value: Option<usize>,
    default: usize,
) -> Result<usize, ConfigError> {
    match value {
        Some(0) => Err(invalid(flag, "must be positive, got 0")),
        Some(v) => Ok(v),
        None => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, ConfigError> {
        let mut all = vec!["slotraft-server"];
        all.extend_from_slice(args);
        Config::from_args(Args::try_parse_from(all).unwrap())
    }

    #[test]
    fn defaults_are_a_single_local_node() {
        let c = parse(&[]).unwrap();
        assert_eq!(
            (c.bind.as_str(), c.port, c.grpc_port),
            ("127.0.0.1", 6379, 16379)
        );
        assert_eq!(c.dir, PathBuf::from("./slotraft-data"));
        assert_eq!(c.topology.nodes().len(), 1);
        assert_eq!(c.topology.groups().len(), 16);
        assert_eq!(c.topology.self_addr().unwrap().resp, "127.0.0.1:6379");
    }

    #[test]
    fn grpc_port_follows_port() {
        assert_eq!(parse(&["--port", "7000"]).unwrap().grpc_port, 17000);
        let err = parse(&["--port", "60000"]).unwrap_err().to_string();
        assert!(err.starts_with("--grpc-port"), "{err}");
    }

    #[test]
    fn invalid_values_name_their_flag() {
        let cases: &[(&[&str], &str)] = &[
            (&["--node-id", "0"], "--node-id"),
            (&["--bind", "nonsense"], "--bind"),
            (&["--groups", "0"], "--groups"),
            (&["--replicas", "0"], "--replicas"),
            (
                &[
                    "--node-id",
                    "2",
                    "--initial-cluster",
                    "1=127.0.0.1:7001@17001",
                ],
                "--node-id 2 is not in --initial-cluster",
            ),
            (&["--initial-cluster", "1=bad"], "--initial-cluster"),
            (&["--heartbeat-ms", "900"], "--heartbeat-ms"),
            (&["--proto-max-bulk-len", "0"], "--proto-max-bulk-len"),
            (&["--external-port", "7001"], "--external-port"),
            (
                &["--external-cluster", "1=127.0.0.1:6379"],
                "--external-port",
            ),
            (&["--external-cluster", "2=h:1"], "--external-cluster"),
            (&["--shutdown-timeout-ms", "0"], "--shutdown-timeout-ms"),
        ];
        for (args, want) in cases {
            let Err(err) = parse(args) else {
                panic!("{args:?} was accepted")
            };
            let err = err.to_string();
            assert!(err.starts_with(want), "{args:?}: {err}");
        }
    }

    #[test]
    fn external_port_defaults_to_the_port_of_this_nodes_external_entry() {
        let ic = "1=node1:6379@16379,2=node2:6379@16379";
        let ext = "1=127.0.0.1:7001,2=127.0.0.1:7002";
        let c = parse(&[
            "--node-id",
            "2",
            "--initial-cluster",
            ic,
            "--external-cluster",
            ext,
        ])
        .unwrap();
        assert_eq!(c.external_port, Some(7002));
        let c = parse(&[
            "--initial-cluster",
            ic,
            "--external-cluster",
            ext,
            "--external-port",
            "6380",
        ])
        .unwrap();
        assert_eq!(c.external_port, Some(6380));
        assert_eq!(parse(&[]).unwrap().external_port, None);
    }

    #[test]
    fn config_file_is_read_and_flags_override_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(&path, "node-id = 2\nport = 7002\ninitial-cluster = \"1=127.0.0.1:7001@17001,2=127.0.0.1:7002@17002\"\ngroups = 4\n").unwrap();
        let c = parse(&["--config", path.to_str().unwrap(), "--groups", "8"]).unwrap();
        assert_eq!(c.topology.self_id(), 2);
        assert_eq!(c.port, 7002);
        assert_eq!(c.topology.groups().len(), 8);
        std::fs::write(&path, "nodeid = 2\n").unwrap();
        let err = parse(&["--config", path.to_str().unwrap()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field"), "{err}");
    }
}
