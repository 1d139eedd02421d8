//! The registry of open client connections, for `CLIENT LIST`, `CLIENT INFO` and
//! `CLIENT KILL`. Each connection publishes a small snapshot of itself after every command and
//! holds a kill switch that `CLIENT KILL` trips.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Notify;

/// What `CLIENT LIST` shows about one connection.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: Option<SocketAddr>,
    pub name: String,
    /// `CLIENT SETINFO` values (empty when unset).
    pub lib_name: String,
    pub lib_ver: String,
    pub created: Instant,
    pub last_command_at: Instant,
    pub last_command: &'static str,
    pub resp: u8,
    pub multi: i64,
    pub user: String,
}

impl ClientInfo {
    /// One line of `CLIENT LIST` / the reply of `CLIENT INFO`, fields in Redis 7.0's order plus
    /// 7.2's `lib-name`/`lib-ver` at the end (`fd`, buffer and memory figures are placeholders:
    /// tokio owns the sockets and buffers).
    pub fn line(&self) -> String {
        let now = Instant::now();
        format!(
            "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags=N db=0 sub=0 psub=0 ssub=0 multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user={} redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr.map(|a| a.to_string()).unwrap_or_default(),
            self.name,
            now.duration_since(self.created).as_secs(),
            now.duration_since(self.last_command_at).as_secs(),
            self.multi,
            self.last_command,
            self.user,
            self.resp,
            self.lib_name,
            self.lib_ver,
        )
    }
}

struct Entry {
    info: ClientInfo,
    kill: Arc<Notify>,
}

#[derive(Default)]
pub struct ClientRegistry {
    clients: Mutex<BTreeMap<u64, Entry>>,
}

impl ClientRegistry {
    /// Registers a connection; the returned `Notify` fires when `CLIENT KILL` picks it.
    pub fn register(&self, info: ClientInfo) -> Arc<Notify> {
        let kill = Arc::new(Notify::new());
        if let Ok(mut map) = self.clients.lock() {
            map.insert(
                info.id,
                Entry {
                    info,
                    kill: kill.clone(),
                },
            );
        }
        kill
    }

    pub fn update(&self, info: ClientInfo) {
        if let Ok(mut map) = self.clients.lock() {
            if let Some(entry) = map.get_mut(&info.id) {
                entry.info = info;
            }
        }
    }

    pub fn unregister(&self, id: u64) {
        if let Ok(mut map) = self.clients.lock() {
            map.remove(&id);
        }
    }

    pub fn list(&self) -> Vec<ClientInfo> {
        self.clients
            .lock()
            .map(|m| m.values().map(|e| e.info.clone()).collect())
            .unwrap_or_default()
    }

    /// Trips the kill switch of every connection `pick` selects; returns how many.
    pub fn kill(&self, pick: impl Fn(&ClientInfo) -> bool) -> usize {
        let Ok(map) = self.clients.lock() else {
            return 0;
        };
        let mut n = 0;
        for entry in map.values().filter(|e| pick(&e.info)) {
            entry.kill.notify_one();
            n += 1;
        }
        n
    }
}
