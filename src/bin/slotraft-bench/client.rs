//! One benchmark client's connections: a single server, or one connection per cluster master
//! routed by `CLUSTER SLOTS` and corrected by `-MOVED` (on the crate's `slotraft::client`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use slotraft::client::{parse_moved, Connection, SlotMap};
use slotraft::cluster::slot::key_slot;
use slotraft::resp::Frame;

use crate::{Kind, RunArgs, MAX_REDIRECTS};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

async fn connect(addr: &str) -> anyhow::Result<Connection> {
    Connection::connect(addr, CONNECT_TIMEOUT)
        .await
        .with_context(|| format!("connect to {addr}"))
}

async fn fetch_slots(conn: &mut Connection, via: &str) -> anyhow::Result<SlotMap> {
    let reply = conn.call(&[b"CLUSTER", b"SLOTS"]).await?;
    SlotMap::from_cluster_slots(&reply, via).map_err(|e| anyhow!(e))
}

/// One client's connections: a single one, or one per cluster node, opened on demand.
pub(crate) struct Client {
    kind: Kind,
    single: Arc<str>,
    map: Option<SlotMap>,
    conns: HashMap<Arc<str>, Connection>,
    refresh_via: Option<Arc<str>>,
}

/// What one request came back with.
pub(crate) enum Outcome {
    Replies(Vec<Frame>),
    /// An error reply or an I/O error, with its text.
    Failed(String),
}

impl Client {
    pub(crate) async fn new(args: &RunArgs) -> anyhow::Result<Client> {
        let single: Arc<str> = Arc::from(args.addr.as_str());
        let mut client = Client {
            kind: args.kind,
            single: single.clone(),
            map: None,
            conns: HashMap::new(),
            refresh_via: None,
        };
        match args.kind {
            Kind::Single => {
                client.conns.insert(single.clone(), connect(&single).await?);
            }
            Kind::Cluster => {
                let mut seed = connect(&single).await?;
                let map = fetch_slots(&mut seed, &single).await?;
                for addr in map.addrs() {
                    let conn = connect(&addr).await?;
                    client.conns.insert(addr, conn);
                }
                client.map = Some(map);
            }
        }
        Ok(client)
    }

    async fn conn(&mut self, addr: &Arc<str>) -> anyhow::Result<&mut Connection> {
        if !self.conns.contains_key(addr) {
            let conn = connect(addr).await?;
            self.conns.insert(addr.clone(), conn);
        }
        Ok(self.conns.get_mut(addr).expect("just inserted"))
    }

    fn addr_for(&self, key: &[u8]) -> Arc<str> {
        match (&self.kind, &self.map) {
            (Kind::Cluster, Some(map)) => map
                .owner(key_slot(key))
                .cloned()
                .unwrap_or_else(|| self.single.clone()),
            _ => self.single.clone(),
        }
    }

    async fn refresh(&mut self) {
        let Some(via) = self.refresh_via.take() else {
            return;
        };
        let fetched = match self.conn(&via).await {
            Ok(conn) => fetch_slots(conn, &via).await,
            Err(e) => Err(e),
        };
        match fetched {
            Ok(map) => self.map = Some(map),
            Err(e) => {
                // Keep the old map (with the MOVED slot already patched); drop the connection
                // in case it is the broken part, and try again after the next redirect.
                eprintln!("slotraft-bench: slot map refresh via {via} failed: {e:#}");
                self.conns.remove(&via);
            }
        }
    }

    /// Sends `request` (holding `replies` pipelined commands, all about `key`) and reads the
    /// replies, following `-MOVED` on the first one. Returns the outcome and how many
    /// redirections were followed.
    pub(crate) async fn request(
        &mut self,
        key: &[u8],
        request: &[u8],
        replies: usize,
    ) -> (Outcome, u64) {
        let mut moved = 0;
        loop {
            self.refresh().await;
            let addr = self.addr_for(key);
            let result: anyhow::Result<Vec<Frame>> = async {
                let conn = self.conn(&addr).await?;
                conn.send(request).await?;
                let mut out = Vec::with_capacity(replies);
                for _ in 0..replies {
                    out.push(conn.read_frame().await?);
                }
                Ok(out)
            }
            .await;
            let values = match result {
                Ok(v) => v,
                Err(e) => {
                    self.conns.remove(&addr);
                    return (Outcome::Failed(format!("{addr}: {e:#}")), moved);
                }
            };
            if let (Kind::Cluster, Some(Frame::Error(e))) = (self.kind, values.first()) {
                if let Some((slot, to)) = parse_moved(e) {
                    if moved as usize >= MAX_REDIRECTS {
                        return (
                            Outcome::Failed(format!(
                                "gave up after {MAX_REDIRECTS} redirections: {e}"
                            )),
                            moved,
                        );
                    }
                    moved += 1;
                    let to: Arc<str> = Arc::from(to);
                    self.refresh_via = Some(to.clone());
                    self.refresh().await;
                    if let Some(map) = self.map.as_mut() {
                        map.set_owner(slot, to);
                    }
                    continue;
                }
            }
            return (Outcome::Replies(values), moved);
        }
    }
}
