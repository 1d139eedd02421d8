//! The parser of every command in the generated table, under the name the generator gives it:
//! the command's name with `|` and `-` replaced by `_` (`set`, `cluster_slots`,
//! `command_getkeys`). `table/generated.rs` refers to `parsers::<ident>`; the functions live
//! with their command family. Adding a command to `table/commands.txt` means adding its line
//! here.

// Connection.
pub(crate) use super::connection::parse_echo as echo;
pub(crate) use super::connection::parse_hello as hello;
pub(crate) use super::connection::parse_ping as ping;
pub(crate) use super::connection::parse_quit as quit;
pub(crate) use super::connection::parse_readonly as readonly;
pub(crate) use super::connection::parse_readwrite as readwrite;
pub(crate) use super::connection::parse_select as select;

// Server.
pub(crate) use super::server::parse_command as command;
pub(crate) use super::server::parse_command_count as command_count;
pub(crate) use super::server::parse_command_docs as command_docs;
pub(crate) use super::server::parse_command_getkeys as command_getkeys;
pub(crate) use super::server::parse_command_help as command_help;
pub(crate) use super::server::parse_command_info as command_info;
pub(crate) use super::server::parse_command_list as command_list;
pub(crate) use super::server::parse_dbsize as dbsize;
pub(crate) use super::server::parse_info as info;

// Cluster.
pub(crate) use super::cluster::parse_cluster as cluster;
pub(crate) use super::cluster::parse_countkeysinslot as cluster_countkeysinslot;
pub(crate) use super::cluster::parse_help as cluster_help;
pub(crate) use super::cluster::parse_info as cluster_info;
pub(crate) use super::cluster::parse_keyslot as cluster_keyslot;
pub(crate) use super::cluster::parse_myid as cluster_myid;
pub(crate) use super::cluster::parse_nodes as cluster_nodes;
pub(crate) use super::cluster::parse_shards as cluster_shards;
pub(crate) use super::cluster::parse_slots as cluster_slots;

// Strings.
pub(crate) use super::string::parse_decr as decr;
pub(crate) use super::string::parse_decrby as decrby;
pub(crate) use super::string::parse_get as get;
pub(crate) use super::string::parse_incr as incr;
pub(crate) use super::string::parse_incrby as incrby;
pub(crate) use super::string::parse_mget as mget;
pub(crate) use super::string::parse_mset as mset;
pub(crate) use super::string::parse_set as set;

// Keyspace.
pub(crate) use super::keyspace::parse_del as del;
pub(crate) use super::keyspace::parse_exists as exists;
pub(crate) use super::keyspace::parse_expire as expire;
pub(crate) use super::keyspace::parse_persist as persist;
pub(crate) use super::keyspace::parse_pexpire as pexpire;
pub(crate) use super::keyspace::parse_pttl as pttl;
pub(crate) use super::keyspace::parse_ttl as ttl;
