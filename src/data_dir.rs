//! What a data directory records about itself: the layout and node it belongs to (the
//! `cluster-layout` file, checked before anything else opens), and, inside the sled database
//! that holds the Raft logs, this incarnation's id and the incarnations the cluster agreed on.
//!
//! The incarnation lives in the same database as the logs on purpose: whoever empties or
//! replaces `raft-log/` (the votes and entries this node promised to keep) also drops the
//! incarnation, so the node comes back as a new one and cannot pass for the member it was.
//! It must not know the network or Raft: `peer/enrol.rs` decides, this module remembers.

use std::io;
use std::path::Path;

use thiserror::Error;

use crate::cluster::incarnation::Incarnations;
use crate::cluster::metadata::ClusterMetadata;
use crate::cluster::topology::Topology;
use crate::cluster::NodeId;
use crate::raft::codec::{decode, encode};

const TREE: &str = "node";
const KEY_INCARNATION: &[u8] = b"incarnation";
const KEY_INCARNATIONS: &[u8] = b"incarnations";
const KEY_METADATA: &[u8] = b"metadata";

#[derive(Debug, Error)]
pub enum DataDirError {
    #[error("data directory {dir}: {source}")]
    Io { dir: String, source: io::Error },
    #[error("data directory {dir} belongs to cluster layout [{stored}], but this node was started with [{current}]; refusing to start (use the original --initial-cluster/--groups/--replicas or a new --dir)")]
    LayoutChanged {
        dir: String,
        stored: String,
        current: String,
    },
    #[error("data directory {dir} belongs to node {stored}, but this node was started as --node-id {current}")]
    NodeChanged {
        dir: String,
        stored: NodeId,
        current: NodeId,
    },
    #[error("data directory {dir} holds Raft logs written before node incarnations existed (an earlier slotraft 0.1 build); it cannot be used by this version: start the node with a new --dir")]
    Legacy { dir: String },
}

/// Remembers which layout and node a data directory belongs to, and refuses to reuse it for
/// another: a log written under one layout means nothing under another.
pub fn check_layout(dir: &Path, topology: &Topology) -> Result<(), DataDirError> {
    let path = dir.join("cluster-layout");
    let current = format!(
        "node={}\nlayout={}\n",
        topology.self_id(),
        topology.canonical()
    );
    let dir_name = dir.display().to_string();
    let io_err = |source| DataDirError::Io {
        dir: dir_name.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(stored) if stored == current => Ok(()),
        Ok(stored) => {
            let field = |text: &str, key: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(key))
                    .unwrap_or("")
                    .to_string()
            };
            let stored_node: NodeId = field(&stored, "node=").parse().unwrap_or(0);
            if stored_node != topology.self_id() {
                return Err(DataDirError::NodeChanged {
                    dir: dir_name,
                    stored: stored_node,
                    current: topology.self_id(),
                });
            }
            Err(DataDirError::LayoutChanged {
                dir: dir_name,
                stored: field(&stored, "layout="),
                current: topology.canonical().to_string(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => write_stamp(dir, &current).map_err(io_err),
        Err(source) => Err(io_err(source)),
    }
}

/// The layout a joined node's directory belongs to (node id, canonical layout text), if it has
/// joined a cluster already.
pub fn stored_layout(dir: &Path) -> Result<Option<(NodeId, String)>, DataDirError> {
    match std::fs::read_to_string(dir.join("cluster-layout")) {
        Ok(stored) => {
            let field = |key: &str| {
                stored
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .unwrap_or("")
                    .to_string()
            };
            Ok(Some((
                field("node=").parse().unwrap_or(0),
                field("layout="),
            )))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DataDirError::Io {
            dir: dir.display().to_string(),
            source,
        }),
    }
}

/// Records that node `node`'s directory belongs to the cluster of layout `canonical` (a node
/// that joined it: written once the join is answered and the metadata stored).
pub fn stamp_joined(dir: &Path, node: NodeId, canonical: &str) -> Result<(), DataDirError> {
    write_stamp(dir, &format!("node={node}\nlayout={canonical}\n")).map_err(|source| {
        DataDirError::Io {
            dir: dir.display().to_string(),
            source,
        }
    })
}

/// Writes the `cluster-layout` file atomically and durably.
fn write_stamp(dir: &Path, text: &str) -> io::Result<()> {
    let path = dir.join("cluster-layout");
    let tmp = dir.join("cluster-layout.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// The node's records in its sled database (a cheap handle: clones share the database).
#[derive(Clone)]
pub struct NodeRecords {
    tree: sled::Tree,
    db: sled::Db,
    dir: String,
}

impl NodeRecords {
    pub fn open(db: &sled::Db, dir: &Path) -> Result<Self, DataDirError> {
        let dir = dir.display().to_string();
        let tree = db.open_tree(TREE).map_err(|e| sled_err(&dir, e))?;
        Ok(Self {
            tree,
            db: db.clone(),
            dir,
        })
    }

    /// This incarnation's id; a database without one gets a new random id (durably, before
    /// the node says anything to anyone).
    pub fn incarnation(&self) -> Result<u64, DataDirError> {
        if let Some(bytes) = self.tree.get(KEY_INCARNATION).map_err(|e| self.err(e))? {
            return decode(&bytes).map_err(|source| self.io(source));
        }
        if self.has_group_logs()? {
            return Err(DataDirError::Legacy {
                dir: self.dir.clone(),
            });
        }
        let incarnation = loop {
            let candidate: u64 = rand::random();
            if candidate != 0 {
                break candidate;
            }
        };
        self.put(KEY_INCARNATION, &incarnation)?;
        Ok(incarnation)
    }

    /// The incarnations the cluster agreed on, once this node has learned them.
    pub fn incarnations(&self) -> Result<Option<Incarnations>, DataDirError> {
        match self.tree.get(KEY_INCARNATIONS).map_err(|e| self.err(e))? {
            Some(bytes) => decode(&bytes).map(Some).map_err(|source| self.io(source)),
            None => Ok(None),
        }
    }

    /// Records the cluster's agreement durably (before any group starts on it).
    pub fn store_incarnations(&self, incarnations: &Incarnations) -> Result<(), DataDirError> {
        self.put(KEY_INCARNATIONS, incarnations)
    }

    /// The newest cluster metadata this node adopted, if any (so a restarted node knows the
    /// current members and addresses before it hears from anyone).
    pub fn metadata(&self) -> Result<Option<ClusterMetadata>, DataDirError> {
        match self.tree.get(KEY_METADATA).map_err(|e| self.err(e))? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| self.io(std::io::Error::other(e))),
            None => Ok(None),
        }
    }

    /// Records adopted metadata durably, with the agreement on incarnations it implies (before
    /// the node acts on it: hosts or drops a group, or takes part as a readmitted member).
    pub fn store_metadata(&self, meta: &ClusterMetadata) -> Result<(), DataDirError> {
        let bytes = serde_json::to_vec(meta).map_err(|e| self.io(std::io::Error::other(e)))?;
        self.tree
            .insert(KEY_METADATA, bytes)
            .map_err(|e| self.err(e))?;
        self.put(KEY_INCARNATIONS, &meta.incarnations())
    }

    fn put<T: serde::Serialize>(&self, key: &[u8], value: &T) -> Result<(), DataDirError> {
        let bytes = encode(value).map_err(|source| self.io(source))?;
        self.tree.insert(key, bytes).map_err(|e| self.err(e))?;
        self.db.flush().map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Whether any group's log has something in it (a database from before incarnations).
    fn has_group_logs(&self) -> Result<bool, DataDirError> {
        for name in self.db.tree_names() {
            if !name.starts_with(b"group-") {
                continue;
            }
            let tree = self.db.open_tree(&name).map_err(|e| self.err(e))?;
            if !tree.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn err(&self, e: sled::Error) -> DataDirError {
        sled_err(&self.dir, e)
    }

    fn io(&self, source: io::Error) -> DataDirError {
        DataDirError::Io {
            dir: self.dir.clone(),
            source,
        }
    }
}

fn sled_err(dir: &str, e: sled::Error) -> DataDirError {
    DataDirError::Io {
        dir: dir.to_string(),
        source: match e {
            sled::Error::Io(e) => e,
            other => io::Error::other(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn open(dir: &Path) -> (sled::Db, NodeRecords) {
        let db = sled::Config::new()
            .path(dir.join("raft-log"))
            .open()
            .unwrap();
        let records = NodeRecords::open(&db, dir).unwrap();
        (db, records)
    }

    #[test]
    fn incarnation_is_created_once_and_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let first = {
            let (_db, r) = open(tmp.path());
            let first = r.incarnation().unwrap();
            assert_eq!(r.incarnation().unwrap(), first);
            assert_eq!(r.incarnations().unwrap(), None);
            r.store_incarnations(&Incarnations::new(BTreeMap::from([(1, first)])))
                .unwrap();
            first
        };
        let (_db, r) = open(tmp.path());
        assert_eq!(r.incarnation().unwrap(), first, "kept across a restart");
        assert_eq!(
            r.incarnations().unwrap(),
            Some(Incarnations::new(BTreeMap::from([(1, first)])))
        );
    }

    #[test]
    fn an_emptied_log_directory_is_a_new_incarnation() {
        let tmp = tempfile::tempdir().unwrap();
        let first = {
            let (_db, r) = open(tmp.path());
            r.incarnation().unwrap()
        };
        std::fs::remove_dir_all(tmp.path().join("raft-log")).unwrap();
        let (_db, r) = open(tmp.path());
        assert_ne!(r.incarnation().unwrap(), first);
        assert_eq!(r.incarnations().unwrap(), None);
    }

    #[test]
    fn logs_without_an_incarnation_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (db, r) = open(tmp.path());
        db.open_tree("group-0")
            .unwrap()
            .insert(b"mvote", b"x")
            .unwrap();
        assert!(matches!(r.incarnation(), Err(DataDirError::Legacy { .. })));
    }
}
