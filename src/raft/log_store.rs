//! The Raft log of one slot group, stored in the node's sled database.
//!
//! Each group owns one sled tree. Keys starting with `e` hold entries (`e` + big-endian index,
//! so sled's order is log order); keys starting with `m` hold the group's metadata: the vote, the
//! committed log id and the purge marker. Because entries and metadata share a tree, a purge
//! (marker + removals) and a truncation are single atomic sled batches: a crash leaves either
//! the old log or the new one, never a hole.
//!
//! Durability goes through the node's [`FlusherHandle`]: appends are reported complete only after
//! the flusher's fdatasync, and `save_vote` returns only after it.

use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};

use openraft::storage::{IOFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{OptionalSend, RaftTypeConfig};

use super::codec::{decode, encode};
use super::flusher::FlusherHandle;
use super::{Entry, GroupId, LogId, TypeConfig, Vote};

const ENTRY_PREFIX: u8 = b'e';
const META_VOTE: &[u8] = b"mvote";
const META_COMMITTED: &[u8] = b"mcommitted";
const META_PURGED: &[u8] = b"mpurged";

fn entry_key(index: u64) -> [u8; 9] {
    let mut key = [ENTRY_PREFIX; 9];
    key[1..].copy_from_slice(&index.to_be_bytes());
    key
}

fn sled_err(e: sled::Error) -> io::Error {
    match e {
        sled::Error::Io(e) => e,
        other => io::Error::other(other),
    }
}

/// The log of one group; cheap to clone (sled trees are shared handles).
#[derive(Clone)]
pub struct LogStore {
    tree: sled::Tree,
    flusher: FlusherHandle,
}

impl LogStore {
    pub fn open(db: &sled::Db, group: GroupId, flusher: FlusherHandle) -> io::Result<Self> {
        let tree = db.open_tree(format!("group-{group}")).map_err(sled_err)?;
        Ok(Self { tree, flusher })
    }

    /// Deletes the group's log and its commit and purge markers, keeping only the vote: this
    /// node left the group. The vote stays because a Raft member's term must never go back,
    /// should the same incarnation be made a member of the group again (it then starts as an
    /// empty learner, caught up by the leader). One atomic sled batch, synced before returning.
    pub fn forget(db: &sled::Db, group: GroupId) -> io::Result<()> {
        let tree = db.open_tree(format!("group-{group}")).map_err(sled_err)?;
        let mut batch = sled::Batch::default();
        for key in tree.iter().keys() {
            let key = key.map_err(sled_err)?;
            if key.as_ref() != META_VOTE {
                batch.remove(key);
            }
        }
        tree.apply_batch(batch).map_err(sled_err)?;
        db.flush().map_err(sled_err)?;
        Ok(())
    }

    /// The groups whose log holds anything but a vote in this database (groups this node hosted
    /// and has not forgotten).
    pub fn hosted_groups(db: &sled::Db) -> io::Result<Vec<GroupId>> {
        let mut groups = Vec::new();
        for name in db.tree_names() {
            let Some(id) = std::str::from_utf8(&name)
                .ok()
                .and_then(|n| n.strip_prefix("group-"))
                .and_then(|n| n.parse::<GroupId>().ok())
            else {
                continue;
            };
            let tree = db.open_tree(&name).map_err(sled_err)?;
            let has_log = tree
                .iter()
                .keys()
                .any(|k| k.is_ok_and(|k| k.as_ref() != META_VOTE));
            if has_log {
                groups.push(id);
            }
        }
        Ok(groups)
    }

    /// The last log id purged (removed because a snapshot covers it), if any.
    pub fn purged(&self) -> io::Result<Option<LogId>> {
        self.get_meta(META_PURGED)
    }

    fn get_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> io::Result<Option<T>> {
        match self.tree.get(key).map_err(sled_err)? {
            Some(bytes) => Ok(Some(decode(&bytes)?)),
            None => Ok(None),
        }
    }

    fn last_entry_log_id(&self) -> io::Result<Option<LogId>> {
        let last = self
            .tree
            .range(entry_key(0)..=entry_key(u64::MAX))
            .next_back()
            .transpose()
            .map_err(sled_err)?;
        match last {
            Some((_, bytes)) => {
                let entry: Entry = decode(&bytes)?;
                Ok(Some(entry.log_id))
            }
            None => Ok(None),
        }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        let start = match range.start_bound() {
            Bound::Included(i) => *i,
            Bound::Excluded(i) => i.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(i) => Bound::Included(entry_key(*i)),
            Bound::Excluded(i) => Bound::Excluded(entry_key(*i)),
            Bound::Unbounded => Bound::Included(entry_key(u64::MAX)),
        };
        let mut entries = Vec::new();
        for item in self.tree.range((Bound::Included(entry_key(start)), end)) {
            let (_, bytes) = item.map_err(sled_err)?;
            entries.push(decode(&bytes)?);
        }
        Ok(entries)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        self.get_meta(META_VOTE)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        let last_purged_log_id: Option<LogId> = self.get_meta(META_PURGED)?;
        let last_log_id = self.last_entry_log_id()?.or(last_purged_log_id);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        self.tree
            .insert(META_VOTE, encode(vote)?)
            .map_err(sled_err)?;
        // A vote must survive a crash before anyone learns of it: otherwise a restarted node
        // could vote twice in one term.
        self.flusher.sync().await
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        // Not synced on its own: a committed index that is lost in a crash is only a hint
        // that openraft re-learns from the leader; it never makes anything committed.
        self.tree
            .insert(META_COMMITTED, encode(&committed)?)
            .map_err(sled_err)?;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
        Ok(self.get_meta::<Option<LogId>>(META_COMMITTED)?.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: IOFlushed<TypeConfig>,
    ) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        // Plain inserts, not a sled batch: sled's `apply_batch` rolls (writes out and
        // sync_file_range's) its I/O buffer twice per call, which made every append cost two
        // tiny blocking disk writes on top of the group-commit sync. Inserts are enough: sled
        // recovers a prefix of its log after a crash, and entries are inserted in index order,
        // so a crash mid-append leaves a prefix of the entries — never a hole.
        for entry in entries {
            let bytes = encode(&entry)?;
            self.flusher.note_write_len(bytes.len());
            self.tree
                .insert(&entry_key(entry.log_id.index)[..], bytes)
                .map_err(sled_err)?;
        }
        // Do not wait here: openraft keeps working while the flusher syncs this batch together
        // with other groups' appends; the callback tells openraft when it is durable.
        self.flusher.append_done_when_durable(callback);
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        let from = last_log_id.map(|id| id.index + 1).unwrap_or(0);
        let mut batch = sled::Batch::default();
        for item in self.tree.range(entry_key(from)..=entry_key(u64::MAX)) {
            let (key, _) = item.map_err(sled_err)?;
            batch.remove(key);
        }
        // Atomic: sled never exposes half a batch, before or after a crash.
        self.tree.apply_batch(batch).map_err(sled_err)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        let mut batch = sled::Batch::default();
        batch.insert(META_PURGED, encode(&log_id)?);
        for item in self.tree.range(entry_key(0)..=entry_key(log_id.index)) {
            let (key, _) = item.map_err(sled_err)?;
            batch.remove(key);
        }
        self.tree.apply_batch(batch).map_err(sled_err)
    }
}

// Keep the type config's associated types honest at compile time.
const _: fn() = || {
    fn assert_entry<C: RaftTypeConfig<Entry = Entry>>() {}
    assert_entry::<TypeConfig>();
};
