//! The group-commit flusher: the only place that makes Raft log writes durable.
//!
//! Upstream sled 0.34's `flush` ends in `sync_file_range`, which neither flushes the disk's write
//! cache nor the file's metadata (sled issue 1452). The vendored sled (vendor/sled,
//! SLOTRAFT-PATCH.md) ends every buffer write in `fdatasync` and writes the buffer on the thread
//! that flushes, so sled's `flush` here is the sync. sled never syncs the separate files it
//! writes for large values ("blobs"), so this thread also calls `fsync` on every new blob file and
//! on the blob directory (ARCHITECTURE.md rule 5).
//!
//! Appends of all groups queue here; one thread takes everything queued, does one flush + sync
//! for the lot and only then reports each append complete to openraft (group commit). A vote
//! write waits for the same sync before `save_vote` returns. A failed sync fails every request in
//! the batch: openraft then stops the group instead of acknowledging anything.

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

use openraft::storage::IOFlushed;
use tokio::sync::oneshot;

use super::TypeConfig;

/// Something waiting for the next durable point.
enum Waiter {
    /// A log append: openraft's callback.
    Append(IOFlushed<TypeConfig>),
    /// Anything else (vote, tests): a plain signal.
    Signal(oneshot::Sender<io::Result<()>>),
}

/// Counters a test or `INFO` can read.
#[derive(Debug, Default)]
pub struct FlusherStats {
    /// Completed syncs.
    pub syncs: AtomicU64,
    /// Requests made durable (a sync covers one or more).
    pub requests: AtomicU64,
}

/// Cheap to clone; every log store holds one.
#[derive(Clone)]
pub struct FlusherHandle {
    tx: mpsc::Sender<Waiter>,
    stats: Arc<FlusherStats>,
    /// Set when a value big enough to become a sled blob file was written since the last
    /// sync; only then does the next sync look for new blob files (a directory scan per sync
    /// would cost four syscalls for nothing).
    large_write: Arc<AtomicBool>,
}

/// sled 0.34 stores a message in its own blob file when it exceeds a quarter of a segment
/// (512 KiB by default); anything at least this large may have become one.
pub const BLOB_CANDIDATE_BYTES: usize = 64 * 1024;

impl FlusherHandle {
    /// Starts the flusher thread for the sled database stored in `dir`.
    ///
    /// `fail_sync` is a fault-injection switch for tests: while it is set, every sync fails
    /// with an I/O error, as a dying disk would.
    pub fn start(db: sled::Db, dir: &Path, fail_sync: Arc<AtomicBool>) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let stats = Arc::new(FlusherStats::default());
        // Blobs may exist from before a restart: check once at the first sync.
        let large_write = Arc::new(AtomicBool::new(true));
        let mut syncer = Syncer::new(db, dir, fail_sync, large_write.clone())?;
        let thread_stats = stats.clone();
        std::thread::Builder::new()
            .name("slotraft-flusher".into())
            .spawn(move || run(rx, &mut syncer, &thread_stats))?;
        Ok(Self {
            tx,
            stats,
            large_write,
        })
    }

    /// Tells the flusher that a write of `len` bytes was made, so it knows whether sled may
    /// have created a blob file that needs its own fsync.
    pub fn note_write_len(&self, len: usize) {
        if len >= BLOB_CANDIDATE_BYTES {
            self.large_write.store(true, Ordering::SeqCst);
        }
    }

    /// Completes `callback` once everything written to sled before this call is durable.
    pub fn append_done_when_durable(&self, callback: IOFlushed<TypeConfig>) {
        if let Err(mpsc::SendError(Waiter::Append(cb))) = self.tx.send(Waiter::Append(callback)) {
            cb.io_completed(Err(io::Error::other("flusher stopped")));
        }
    }

    /// Waits until everything written to sled before this call is durable.
    pub async fn sync(&self) -> io::Result<()> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Waiter::Signal(tx))
            .map_err(|_| io::Error::other("flusher stopped"))?;
        rx.await.map_err(|_| io::Error::other("flusher stopped"))?
    }

    pub fn stats(&self) -> &FlusherStats {
        &self.stats
    }
}

fn run(rx: mpsc::Receiver<Waiter>, syncer: &mut Syncer, stats: &FlusherStats) {
    while let Ok(first) = rx.recv() {
        // Everything queued while the previous sync ran rides on this one.
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        let result = syncer.sync();
        if let Err(e) = &result {
            tracing::error!(error = %e, "log sync failed; failing {} pending writes", batch.len());
        }
        stats.syncs.fetch_add(1, Ordering::Relaxed);
        stats
            .requests
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        for waiter in batch {
            let r = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            };
            match waiter {
                Waiter::Append(cb) => cb.io_completed(r),
                Waiter::Signal(tx) => {
                    let _ = tx.send(r);
                }
            }
        }
    }
}

/// Knows which files sled writes and how to make them durable.
struct Syncer {
    db: sled::Db,
    dir: PathBuf,
    /// Blob files already synced; blob files are written once and never modified.
    synced_blobs: HashSet<std::ffi::OsString>,
    fail_sync: Arc<AtomicBool>,
    large_write: Arc<AtomicBool>,
}

impl Syncer {
    fn new(
        db: sled::Db,
        dir: &Path,
        fail_sync: Arc<AtomicBool>,
        large_write: Arc<AtomicBool>,
    ) -> io::Result<Self> {
        Ok(Self {
            db,
            dir: dir.to_path_buf(),
            synced_blobs: HashSet::new(),
            fail_sync,
            large_write,
        })
    }

    fn sync(&mut self) -> io::Result<()> {
        if self.fail_sync.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected sync failure"));
        }
        // The vendored sled ends every buffer write in `fdatasync` (vendor/sled/SLOTRAFT-PATCH.md),
        // so once `flush` returns, everything written before this call is durable.
        self.db.flush().map_err(io::Error::other)?;
        // Cleared before scanning: a large write racing with this scan sets it again and is
        // caught by the next sync, which its own waiter waits for.
        if self.large_write.swap(false, Ordering::SeqCst) {
            if let Err(e) = self.sync_new_blobs() {
                self.large_write.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
        Ok(())
    }

    fn sync_new_blobs(&mut self) -> io::Result<()> {
        let blob_dir = self.dir.join("blobs");
        let entries = match std::fs::read_dir(&blob_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut present = HashSet::new();
        let mut synced_any = false;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            if !self.synced_blobs.contains(&name) {
                match File::open(entry.path()) {
                    Ok(file) => file.sync_all()?,
                    // sled removed it between the listing and the open: nothing refers to it
                    // any more, so nothing needs it durable (it used to fail the sync, and
                    // with it every write waiting on it).
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
                synced_any = true;
            }
            present.insert(name);
        }
        if synced_any {
            // New directory entries are durable only once the directory itself is synced.
            File::open(&blob_dir)?.sync_all()?;
        }
        self.synced_blobs = present;
        Ok(())
    }
}
