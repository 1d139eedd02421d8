//! The state machine of one slot group: the keyspace plus what openraft needs to know about
//! it (last applied log id, last membership), and its snapshots.
//!
//! The keyspace lives behind a lock shared with the RESP side (`SharedState`), which reads it
//! after openraft confirmed the read is linearizable. `apply` is deterministic: it feeds the
//! leader-stamped `Request` to `Keyspace::apply` and answers every responder.
//!
//! Snapshots are the keyspace encoded with bincode. A snapshot file is written atomically —
//! temporary file, fsync, rename, fsync of the directory — so after a crash the file is either
//! the previous complete snapshot or the new complete one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use futures::{Stream, StreamExt};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::{EntryPayload, OptionalSend};
use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::{GroupId, LogId, Response, Snapshot, SnapshotMeta, StoredMembership, TypeConfig};
use crate::keyspace::Keyspace;
use crate::reply::Reply;

/// The applied state of a group. Guarded by one lock so a snapshot sees the keyspace and the
/// log id it corresponds to together.
#[derive(Debug, Default)]
pub struct Applied {
    pub keyspace: Keyspace,
    pub last_applied: Option<LogId>,
    pub last_membership: StoredMembership,
}

/// Shared between the state machine (writer) and the RESP side (reader).
pub type SharedState = Arc<RwLock<Applied>>;

/// What a snapshot file holds.
#[derive(Serialize, Deserialize)]
struct SnapshotFile {
    meta: SnapshotMeta,
    data: Vec<u8>,
}

pub struct StateMachine {
    group: GroupId,
    state: SharedState,
    snapshot_path: PathBuf,
}

impl StateMachine {
    /// Opens the group's state machine, restoring the last snapshot if one was written.
    pub fn open(group: GroupId, snapshot_dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(snapshot_dir)?;
        let snapshot_path = snapshot_dir.join(format!("group-{group}.snap"));
        let mut applied = Applied::default();
        if let Some(file) = read_snapshot_file(&snapshot_path)? {
            applied.keyspace = decode(&file.data)?;
            applied.last_applied = file.meta.last_log_id;
            applied.last_membership = file.meta.last_membership.clone();
            tracing::info!(group, last_applied = ?applied.last_applied, "restored snapshot");
        }
        Ok(Self {
            group,
            state: Arc::new(RwLock::new(applied)),
            snapshot_path,
        })
    }

    pub fn shared(&self) -> SharedState {
        self.state.clone()
    }

    fn lock_err<T>(_: T) -> io::Error {
        io::Error::other("state machine lock poisoned")
    }
}

fn read_snapshot_file(path: &Path) -> io::Result<Option<SnapshotFile>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(decode(&bytes)?)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_snapshot_file(path: &Path, file: &SnapshotFile) -> io::Result<()> {
    let bytes = encode(file)?;
    let tmp = path.with_extension("snap.tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = Vec<u8>;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        let state = self.state.read().map_err(Self::lock_err)?;
        Ok((state.last_applied, state.last_membership.clone()))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + OptionalSend,
    {
        while let Some(item) = entries.next().await {
            let (entry, responder) = item?;
            let response: Response = {
                let mut state = self.state.write().map_err(Self::lock_err)?;
                let response = match entry.payload {
                    EntryPayload::Blank => Ok(Reply::Ok),
                    EntryPayload::Normal(request) => {
                        state
                            .keyspace
                            .apply_at(entry.log_id.index, request.now_ms, &request.op)
                    }
                    EntryPayload::Membership(membership) => {
                        state.last_membership =
                            StoredMembership::new(Some(entry.log_id), membership);
                        Ok(Reply::Ok)
                    }
                };
                state.last_applied = Some(entry.log_id);
                response
            };
            // Every responder must be answered, or its client waits forever.
            if let Some(responder) = responder {
                responder.send(response);
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            state: self.state.clone(),
            path: self.snapshot_path.clone(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Vec<u8>,
    ) -> Result<(), io::Error> {
        let keyspace: Keyspace = decode(&snapshot)?;
        let file = SnapshotFile {
            meta: meta.clone(),
            data: snapshot,
        };
        let path = self.snapshot_path.clone();
        // Persist first: if we crash after installing in memory but before the file exists,
        // the log (already purged by openraft) could not rebuild this state.
        let file =
            tokio::task::spawn_blocking(move || write_snapshot_file(&path, &file).map(|_| file))
                .await
                .map_err(io::Error::other)??;
        let mut state = self.state.write().map_err(Self::lock_err)?;
        state.keyspace = keyspace;
        state.last_applied = file.meta.last_log_id;
        state.last_membership = file.meta.last_membership.clone();
        tracing::info!(group = self.group, last_applied = ?state.last_applied, "installed snapshot");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        let path = self.snapshot_path.clone();
        let file = tokio::task::spawn_blocking(move || read_snapshot_file(&path))
            .await
            .map_err(io::Error::other)??;
        Ok(file.map(|f| Snapshot {
            meta: f.meta,
            snapshot: f.data,
        }))
    }
}

/// Builds a snapshot of the current applied state and writes it to the group's snapshot file.
pub struct SnapshotBuilder {
    state: SharedState,
    path: PathBuf,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = Vec<u8>;

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        let (meta, data) = {
            let state = self.state.read().map_err(StateMachine::lock_err)?;
            let meta = SnapshotMeta {
                last_log_id: state.last_applied,
                last_membership: state.last_membership.clone(),
            };
            (meta, encode(&state.keyspace)?)
        };
        let file = SnapshotFile { meta, data };
        let path = self.path.clone();
        let file =
            tokio::task::spawn_blocking(move || write_snapshot_file(&path, &file).map(|_| file))
                .await
                .map_err(io::Error::other)??;
        Ok(Snapshot {
            meta: file.meta,
            snapshot: file.data,
        })
    }
}
