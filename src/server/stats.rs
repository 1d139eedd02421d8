//! Counters shown by `INFO`: connections and commands. Relaxed atomics: they are statistics,
//! never used for decisions.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
pub struct ServerStats {
    pub started: Instant,
    pub connected_clients: AtomicU64,
    pub total_connections: AtomicU64,
    pub total_commands: AtomicU64,
    pub rejected_connections: AtomicU64,
    next_client_id: AtomicU64,
    /// Calls per command name, for `INFO commandstats`.
    per_command: Mutex<HashMap<&'static str, u64>>,
}

impl Default for ServerStats {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            connected_clients: AtomicU64::new(0),
            total_connections: AtomicU64::new(0),
            total_commands: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            next_client_id: AtomicU64::new(1),
            per_command: Mutex::default(),
        }
    }
}

impl ServerStats {
    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn count_command(&self, name: &'static str) {
        self.total_commands.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut map) = self.per_command.lock() {
            *map.entry(name).or_insert(0) += 1;
        }
    }

    pub fn per_command(&self) -> Vec<(&'static str, u64)> {
        let mut v: Vec<_> = self
            .per_command
            .lock()
            .map(|m| m.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}
