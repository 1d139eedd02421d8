//! openraft's storage conformance suite (`openraft::testing::log::Suite`) run against the
//! sled log store, its group-commit flusher and the keyspace state machine.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use openraft::testing::log::{StoreBuilder, Suite};
use openraft::StorageError;
use slotraft::raft::flusher::FlusherHandle;
use slotraft::raft::log_store::LogStore;
use slotraft::raft::state_machine::StateMachine;
use slotraft::raft::TypeConfig;

struct SledBuilder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for SledBuilder {
    async fn build(
        &self,
    ) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError<TypeConfig>> {
        let dir = tempfile::tempdir().unwrap();
        let log_dir = dir.path().join("raft-log");
        let db = sled::Config::new()
            .path(&log_dir)
            .flush_every_ms(None)
            .open()
            .unwrap();
        let flusher =
            FlusherHandle::start(db.clone(), &log_dir, Arc::new(AtomicBool::new(false))).unwrap();
        let log = LogStore::open(&db, 0, flusher).unwrap();
        let sm = StateMachine::open(0, &dir.path().join("snapshots")).unwrap();
        Ok((dir, log, sm))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sled_log_store_passes_openraft_conformance_suite() {
    Suite::test_all(SledBuilder)
        .await
        .expect("conformance suite");
}
