//! The meta group's API: the cluster metadata (`cluster::metadata`) is one key of the meta
//! group's keyspace, read from its applied state and changed by compare-and-set.
//!
//! A change is an ordinary transaction entry: `WATCH` of the key at the version read, then
//! `SET` of the next version. The keyspace decides at apply time whether the key changed since
//! (`Keyspace::changed_since`), the same on every replica, so two operators changing the
//! cluster at once cannot overwrite each other: the loser reads again and recomputes (or is
//! refused, if its change no longer applies). The meta group thus needs no state machine, log
//! store or Raft type of its own.
//!
//! Must not know RESP or gRPC.

use std::time::Duration;

use bytes::Bytes;

use super::{Group, GroupError};
use crate::cluster::metadata::{ClusterMetadata, MetadataError};
use crate::keyspace::{MultiOp, MultiStep, SetCondition, SetExpiry, WatchedKey, WriteOp};
use crate::reply::Reply;

/// The key the metadata is stored under, in the meta group's keyspace.
const KEY: &[u8] = b"slotraft:cluster-metadata";

/// Why a change of the metadata did not happen (or may not have).
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error(transparent)]
    Refused(#[from] MetadataError),
    #[error("the meta group: {0}")]
    Group(#[from] GroupError),
    #[error("the meta group has no cluster metadata yet (is it still starting?)")]
    Missing,
    #[error("the meta group's stored metadata is unreadable: {0}")]
    Corrupt(String),
}

/// The metadata as applied on this replica, with the keyspace version of its key and the
/// applied index it was read at (what a compare-and-set watches).
pub fn read(group: &Group) -> Result<Option<(ClusterMetadata, WatchedKey)>, MetaError> {
    let state = group
        .state()
        .read()
        .map_err(|_| MetaError::Corrupt("state lock poisoned".into()))?;
    let now = crate::clock::now_ms();
    let Some(bytes) = state
        .keyspace
        .get(now, KEY)
        .map_err(|e| MetaError::Corrupt(e.to_string()))?
    else {
        return Ok(None);
    };
    let meta: ClusterMetadata =
        serde_json::from_slice(&bytes).map_err(|e| MetaError::Corrupt(e.to_string()))?;
    let watched = WatchedKey {
        key: Bytes::from_static(KEY),
        version: state.keyspace.version(now, KEY),
        watched_at_index: state.last_applied.map_or(0, |l| l.index),
    };
    Ok(Some((meta, watched)))
}

/// Writes the first version if the meta group has none yet (on its leader). Every node would
/// write the same first version (`ClusterMetadata::initial`), so a race is harmless.
pub async fn initialize(
    group: &Group,
    first: &ClusterMetadata,
    timeout: Duration,
) -> Result<(), MetaError> {
    group.confirm_read(timeout).await?;
    if read(group)?.is_some() {
        return Ok(());
    }
    let op = set_op(first, None)?;
    group
        .propose(op, crate::clock::now_ms(), timeout)
        .await?
        .map_err(|e| MetaError::Corrupt(e.to_string()))?;
    Ok(())
}

/// Changes the metadata on the meta group's leader: reads the current version (linearizably),
/// computes the next with `change`, and commits it unless another change came first (then it
/// starts over with the newer version). Returns the version committed, or the current one when
/// `change` finds nothing to do (`None`: a retried request whose change is already made).
pub async fn update<F>(
    group: &Group,
    change: F,
    timeout: Duration,
) -> Result<ClusterMetadata, MetaError>
where
    F: Fn(&ClusterMetadata) -> Result<Option<ClusterMetadata>, MetadataError>,
{
    loop {
        group.confirm_read(timeout).await?;
        let (current, watched) = read(group)?.ok_or(MetaError::Missing)?;
        let Some(next) = change(&current)? else {
            return Ok(current);
        };
        let op = set_op(&next, Some(watched))?;
        match group.propose(op, crate::clock::now_ms(), timeout).await? {
            // The watched key changed between the read and the commit: read again.
            Ok(Reply::NullArray) => continue,
            Ok(_) => return Ok(next),
            Err(e) => return Err(MetaError::Corrupt(e.to_string())),
        }
    }
}

fn set_op(meta: &ClusterMetadata, watched: Option<WatchedKey>) -> Result<WriteOp, MetaError> {
    let value = serde_json::to_vec(meta).map_err(|e| MetaError::Corrupt(e.to_string()))?;
    let set = WriteOp::Set {
        key: Bytes::from_static(KEY),
        value: Bytes::from(value),
        condition: match watched {
            Some(_) => SetCondition::Always,
            None => SetCondition::IfNotExists,
        },
        expiry: SetExpiry::Clear,
        get: false,
    };
    Ok(WriteOp::Multi(MultiOp {
        ops: vec![MultiStep::Write(set)],
        watched: watched.into_iter().collect(),
    }))
}
