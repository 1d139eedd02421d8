//! The state machine of one slot group: the keyspace plus what openraft needs to know about
//! it (last applied log id, last membership), and its snapshots.
//!
//! The keyspace lives behind a lock shared with the RESP side (`SharedState`), which reads it
//! after openraft confirmed the read is linearizable. `apply` is deterministic: it feeds the
//! leader-stamped `Request` to `Keyspace::apply` and answers every responder.
//!
//! Snapshots are files (`snapshot_file`): built by streaming the keyspace to disk under the
//! state's read lock, sent and received in chunks, installed by streaming them back in; no
//! whole copy of a snapshot is held in memory on either side.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use super::snapshot_file::{self, SnapshotData};
use super::{GroupId, LogId, Response, Snapshot, SnapshotMeta, StoredMembership, TypeConfig};
use crate::keyspace::Keyspace;
use crate::reply::Reply;
use futures::{Stream, StreamExt};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::{EntryPayload, OptionalSend};

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

pub struct StateMachine {
    group: GroupId,
    state: SharedState,
    snapshot_path: PathBuf,
    /// Serializes replacing the snapshot file: openraft builds snapshots in a task of their
    /// own, so a build can finish after a newer snapshot was installed (see `put_in_place`).
    file_lock: Arc<Mutex<()>>,
}

impl StateMachine {
    /// Opens the group's state machine, restoring the last snapshot if one was written.
    pub fn open(group: GroupId, snapshot_dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(snapshot_dir)?;
        let snapshot_path = snapshot_path(snapshot_dir, group);
        let mut applied = Applied::default();
        if let Some(data) = SnapshotData::open(&snapshot_path)? {
            let (meta, keyspace) = data.decode()?;
            applied.keyspace = keyspace;
            applied.last_applied = meta.last_log_id;
            applied.last_membership = meta.last_membership;
            tracing::info!(group, last_applied = ?applied.last_applied, "restored snapshot");
        }
        Ok(Self {
            group,
            state: Arc::new(RwLock::new(applied)),
            snapshot_path,
            file_lock: Arc::default(),
        })
    }

    /// The last log id the restored snapshot covers (`None`: no snapshot).
    pub fn restored_up_to(&self) -> Option<LogId> {
        self.state.read().ok().and_then(|s| s.last_applied)
    }

    pub fn shared(&self) -> SharedState {
        self.state.clone()
    }

    fn lock_err<T>(_: T) -> io::Error {
        io::Error::other("state machine lock poisoned")
    }
}

/// Puts a built snapshot (of `meta`) in place at `path`, unless the file there is already
/// newer: a build that started before an install of a newer snapshot and finished after it
/// must not replace it, or a restart would restore the older state while the log behind the
/// newer one is already purged, and the entries between would be lost on this node.
/// Returns the snapshot now at `path`.
fn put_in_place(
    lock: &Mutex<()>,
    path: &Path,
    meta: &SnapshotMeta,
    pending: snapshot_file::Pending,
) -> io::Result<Snapshot> {
    let _only_one = lock.lock().map_err(StateMachine::lock_err)?;
    let current = match SnapshotData::open(path)? {
        Some(data) => Some(data.meta()?),
        None => None,
    };
    match current {
        Some(current) if current.last_log_id >= meta.last_log_id => pending.discard()?,
        _ => pending.commit()?,
    }
    let data = SnapshotData::open(path)?
        .ok_or_else(|| io::Error::other("snapshot file vanished after writing it"))?;
    Ok(Snapshot {
        meta: data.meta()?,
        snapshot: data,
    })
}

/// The snapshot file of `group` in `snapshot_dir` (received transfers go beside it).
pub fn snapshot_path(snapshot_dir: &Path, group: GroupId) -> PathBuf {
    snapshot_dir.join(format!("group-{group}.snap"))
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = SnapshotData;
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
            file_lock: self.file_lock.clone(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: SnapshotData,
    ) -> Result<(), io::Error> {
        let path = self.snapshot_path.clone();
        let lock = self.file_lock.clone();
        let expected = meta.clone();
        // Decode first (a broken file is refused before anything changes), then persist: if
        // we crashed after installing in memory but before the file is in place, the log
        // (already purged by openraft) could not rebuild this state.
        let (meta, keyspace) = tokio::task::spawn_blocking(move || {
            let (meta, keyspace) = snapshot.decode()?;
            if meta != expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("snapshot file holds {meta:?}, but was sent as {expected:?}"),
                ));
            }
            let _only_one = lock.lock().map_err(StateMachine::lock_err)?;
            snapshot.persist_as(&path)?;
            Ok((meta, keyspace))
        })
        .await
        .map_err(io::Error::other)??;
        let mut state = self.state.write().map_err(Self::lock_err)?;
        state.keyspace = keyspace;
        state.last_applied = meta.last_log_id;
        state.last_membership = meta.last_membership;
        tracing::info!(group = self.group, last_applied = ?state.last_applied, "installed snapshot");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        let path = self.snapshot_path.clone();
        tokio::task::spawn_blocking(move || {
            let Some(data) = SnapshotData::open(&path)? else {
                return Ok(None);
            };
            let meta = data.meta()?;
            Ok(Some(Snapshot {
                meta,
                snapshot: data,
            }))
        })
        .await
        .map_err(io::Error::other)?
    }
}

/// Builds a snapshot of the current applied state and writes it to the group's snapshot file.
pub struct SnapshotBuilder {
    state: SharedState,
    path: PathBuf,
    file_lock: Arc<Mutex<()>>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = SnapshotData;

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        let state = self.state.clone();
        let path = self.path.clone();
        let lock = self.file_lock.clone();
        tokio::task::spawn_blocking(move || {
            // The keyspace is streamed to the file under the read lock (writes wait, reads
            // go on); the fsync and rename happen after it is released.
            let (meta, pending) = {
                let state = state.read().map_err(StateMachine::lock_err)?;
                let meta = SnapshotMeta {
                    last_log_id: state.last_applied,
                    last_membership: state.last_membership.clone(),
                };
                let pending = snapshot_file::write(&path, &meta, &state.keyspace)?;
                (meta, pending)
            };
            put_in_place(&lock, &path, &meta, pending)
        })
        .await
        .map_err(io::Error::other)?
    }
}
