//! Snapshot files, and the handle openraft passes around for one (`SnapshotData`).
//!
//! A group's snapshot is one file, `snapshots/group-N.snap`: a magic line, the snapshot meta
//! and the keyspace, each bincode, written and read as a stream so that no copy of the whole
//! snapshot is ever held in memory besides the keyspace itself. A file is written atomically
//! (temporary file, fsync, rename, fsync of the directory): after a crash the path holds the
//! previous complete snapshot or the new complete one.
//!
//! `SnapshotData` is an open handle on such a file, read by offset (`pread`): it keeps its
//! content even when a newer snapshot replaces the path meanwhile, and several transfers can
//! read it at once. A file received from a leader (`received`) is taken over by the install
//! (renamed into place); a local one is copied.
//!
//! It must not know the network or openraft's state machine API.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::codec;
use super::SnapshotMeta;
use crate::keyspace::Keyspace;

const MAGIC: &[u8] = b"SLOTRAFT-SNAPSHOT 1\n";

/// Buffer of the streamed reads and writes, and the size of one chunk on the wire.
pub const CHUNK: usize = 1 << 20;

/// An open snapshot file.
#[derive(Debug)]
pub struct SnapshotData {
    file: File,
    len: u64,
    /// The file was received from a leader: the install may rename it into place.
    received: Option<PathBuf>,
}

impl SnapshotData {
    /// The snapshot at `path`, if there is one.
    pub fn open(path: &Path) -> io::Result<Option<Self>> {
        match File::open(path) {
            Ok(file) => {
                let len = file.metadata()?.len();
                Ok(Some(Self {
                    file,
                    len,
                    received: None,
                }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A file a leader sent, complete at `path`; the install takes it over.
    pub fn received(path: PathBuf) -> io::Result<Self> {
        let file = File::open(&path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            file,
            len,
            received: Some(path),
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Up to `CHUNK` bytes from `offset` (empty at the end).
    pub fn chunk(&self, offset: u64) -> io::Result<Vec<u8>> {
        let want = (self.len.saturating_sub(offset)).min(CHUNK as u64) as usize;
        let mut buf = vec![0; want];
        self.file.read_exact_at(&mut buf, offset)?;
        Ok(buf)
    }

    /// A reader from the start of the file (its own position: the handle is shared).
    fn reader(&self) -> BufReader<At<'_>> {
        BufReader::with_capacity(
            CHUNK,
            At {
                file: &self.file,
                pos: 0,
            },
        )
    }

    /// The meta the file says it holds.
    pub fn meta(&self) -> io::Result<SnapshotMeta> {
        let mut r = self.reader();
        read_magic(&mut r)?;
        codec::decode_from(&mut r)
    }

    /// The meta and the keyspace.
    pub fn decode(&self) -> io::Result<(SnapshotMeta, Keyspace)> {
        let mut r = self.reader();
        read_magic(&mut r)?;
        let meta = codec::decode_from(&mut r)?;
        let keyspace = codec::decode_from(&mut r)?;
        Ok((meta, keyspace))
    }

    /// Makes this file the snapshot at `path`, durably: renamed there if it was received,
    /// copied otherwise.
    pub fn persist_as(mut self, path: &Path) -> io::Result<()> {
        match self.received.take() {
            Some(from) => {
                self.file.sync_all()?;
                if let Err(e) = fs::rename(&from, path) {
                    self.received = Some(from);
                    return Err(e);
                }
            }
            None => {
                let tmp = temp_path(path);
                {
                    let mut out = BufWriter::with_capacity(CHUNK, File::create(&tmp)?);
                    io::copy(&mut self.reader(), &mut out)?;
                    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                }
                fs::rename(&tmp, path)?;
            }
        }
        sync_dir(path)
    }
}

impl Drop for SnapshotData {
    /// A received file that was not installed (refused, or superseded) is removed.
    fn drop(&mut self) {
        if let Some(path) = self.received.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// Writes the snapshot of `keyspace` (as of `meta`) to a temporary file beside `path`; the
/// returned `Pending` makes it the snapshot at `path`. The caller holds whatever lock keeps
/// `keyspace` still only for this call; the fsync and rename happen in `Pending::commit`.
pub fn write(path: &Path, meta: &SnapshotMeta, keyspace: &Keyspace) -> io::Result<Pending> {
    let tmp = temp_path(path);
    let mut out = BufWriter::with_capacity(CHUNK, File::create(&tmp)?);
    out.write_all(MAGIC)?;
    codec::encode_into(meta, &mut out)?;
    codec::encode_into(keyspace, &mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    Ok(Pending {
        file,
        tmp,
        path: path.to_path_buf(),
    })
}

/// A snapshot written but not yet durable and in place.
pub struct Pending {
    file: File,
    tmp: PathBuf,
    path: PathBuf,
}

impl Pending {
    /// Makes it the snapshot at its path, durably.
    pub fn commit(self) -> io::Result<()> {
        self.file.sync_all()?;
        fs::rename(&self.tmp, &self.path)?;
        sync_dir(&self.path)
    }

    /// Drops it (a newer snapshot is already in place).
    pub fn discard(self) -> io::Result<()> {
        fs::remove_file(&self.tmp)
    }
}

/// Where files sent by leaders are received: beside the snapshots, one name per transfer.
pub fn inbox_path(snapshot_path: &Path, transfer: u64) -> PathBuf {
    snapshot_path.with_extension(format!("recv-{transfer:016x}"))
}

/// Removes what interrupted transfers and snapshot writes left in `dir` (after a crash).
pub fn remove_leftovers(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.contains(".recv-") || name.contains(".snap.tmp") {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// A temporary name beside `path`, unique per write (a build and an install may overlap).
fn temp_path(path: &Path) -> PathBuf {
    path.with_extension(format!("snap.tmp-{:016x}", rand::random::<u64>()))
}

fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}

fn read_magic(r: &mut impl Read) -> io::Result<()> {
    let mut magic = [0u8; MAGIC.len()];
    r.read_exact(&mut magic)?;
    if magic != MAGIC {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a slotraft snapshot file (bad magic)",
        ));
    }
    Ok(())
}

/// Reads a shared file handle from its own position.
struct At<'a> {
    file: &'a File,
    pos: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::WriteOp;

    fn keyspace(n: usize) -> Keyspace {
        let mut ks = Keyspace::default();
        let pairs = (0..n)
            .map(|i| (format!("k{i}").into_bytes().into(), vec![b'v'; 100].into()))
            .collect();
        ks.apply_at(1, 0, &WriteOp::MSet { pairs }).unwrap();
        ks
    }

    #[test]
    fn written_snapshot_reads_back_and_survives_replacement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("group-0.snap");
        let meta = SnapshotMeta::default();
        write(&path, &meta, &keyspace(1000))
            .unwrap()
            .commit()
            .unwrap();
        let first = SnapshotData::open(&path).unwrap().unwrap();
        // A newer snapshot replaces the path; the open handle still reads the old content.
        write(&path, &meta, &keyspace(10))
            .unwrap()
            .commit()
            .unwrap();
        let (_, ks) = first.decode().unwrap();
        assert_eq!(ks.len(0), 1000);
        let (_, ks) = SnapshotData::open(&path)
            .unwrap()
            .unwrap()
            .decode()
            .unwrap();
        assert_eq!(ks.len(0), 10);
    }

    #[test]
    fn chunks_rebuild_the_file_and_persist_copies_or_renames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("group-0.snap");
        write(&path, &SnapshotMeta::default(), &keyspace(20_000))
            .unwrap()
            .commit()
            .unwrap();
        let data = SnapshotData::open(&path).unwrap().unwrap();
        assert!(data.len() > CHUNK as u64, "several chunks");
        let inbox = inbox_path(&dir.path().join("group-1.snap"), 7);
        let mut out = File::create(&inbox).unwrap();
        let mut offset = 0;
        loop {
            let chunk = data.chunk(offset).unwrap();
            if chunk.is_empty() {
                break;
            }
            offset += chunk.len() as u64;
            out.write_all(&chunk).unwrap();
        }
        drop(out);
        let target = dir.path().join("group-1.snap");
        SnapshotData::received(inbox.clone())
            .unwrap()
            .persist_as(&target)
            .unwrap();
        assert!(!inbox.exists(), "a received file is renamed into place");
        let (_, ks) = SnapshotData::open(&target)
            .unwrap()
            .unwrap()
            .decode()
            .unwrap();
        assert_eq!(ks.len(0), 20_000);
        // A local snapshot is copied: its own path stays.
        let copy = dir.path().join("group-2.snap");
        data.persist_as(&copy).unwrap();
        assert!(path.exists() && copy.exists());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.snap");
        fs::write(&path, b"SLOTRAFT-SNAPSHOT 1\n\xff\xff\xff\xff\xff\xff").unwrap();
        assert!(SnapshotData::open(&path)
            .unwrap()
            .unwrap()
            .decode()
            .is_err());
        fs::write(&path, b"something else entirely").unwrap();
        assert!(SnapshotData::open(&path).unwrap().unwrap().meta().is_err());
        fs::write(dir.path().join("group-0.recv-0000000000000001"), b"x").unwrap();
        remove_leftovers(dir.path()).unwrap();
        assert!(!dir.path().join("group-0.recv-0000000000000001").exists());
    }
}
