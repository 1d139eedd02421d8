//! A small cluster client for the torture workloads: one request at a time, real sockets,
//! `-MOVED` followed (and remembered per slot) like a cluster client does, and every outcome
//! classified the way the checkers need it:
//!
//! - a reply that is not an error → `Ok`;
//! - `-MOVED` → follow it (the command did not run here); `-CLUSTERDOWN`, `-TRYAGAIN`, any other
//!   error reply, or no node accepting a connection → `Fail` (certainly not applied);
//! - `-OUTCOMEUNKNOWN`, a timeout, or a connection that breaks after the request was written →
//!   `Info` (may or may not have been applied).
//!
//! Built on the crate's own RESP connection (`slotraft::client`), not on a client library, so
//! that exactly what was sent and when is under the harness' control.

use std::collections::HashMap;
use std::time::Duration;

use slotraft::client::{encode_request, parse_moved, Connection};
use slotraft::cluster::slot::key_slot;
use slotraft::resp::Frame;
use tokio::time::Instant;

/// How a request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Frame),
    Fail(String),
    Info(String),
}

/// A client of the whole cluster.
pub struct Client {
    /// Every node's RESP address: entry points when the slot's owner is unknown or down.
    nodes: Vec<String>,
    /// The node each slot was last redirected to.
    owners: HashMap<u16, String>,
    conns: HashMap<String, Connection>,
    /// Upper bound on one request, redirects included.
    timeout: Duration,
    /// Rotates the entry point so that clients spread over nodes.
    next_entry: usize,
}

const MAX_REDIRECTS: usize = 8;

impl Client {
    pub fn new(nodes: Vec<String>, timeout: Duration, seed: usize) -> Client {
        Client {
            next_entry: seed % nodes.len().max(1),
            nodes,
            owners: HashMap::new(),
            conns: HashMap::new(),
            timeout,
        }
    }

    fn entry(&mut self) -> String {
        self.next_entry = (self.next_entry + 1) % self.nodes.len();
        self.nodes[self.next_entry].clone()
    }

    /// Runs one command about `key` (the routing key) and classifies its outcome.
    pub async fn call(&mut self, key: &[u8], args: &[&[u8]]) -> Outcome {
        let slot = key_slot(key);
        let mut request = Vec::new();
        encode_request(&mut request, args);
        let deadline = Instant::now() + self.timeout;
        let mut addr = match self.owners.get(&slot) {
            Some(a) => a.clone(),
            None => self.entry(),
        };
        let mut refused = 0;
        let mut redirects = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                // Nothing was written in this round (or we would have returned): but an
                // earlier round may have been redirected only, so this is a definite failure.
                return Outcome::Fail("no node reachable before the deadline".into());
            }
            if !self.conns.contains_key(&addr) {
                match Connection::connect(&addr, remaining.min(Duration::from_secs(1))).await {
                    Ok(c) => {
                        self.conns.insert(addr.clone(), c);
                    }
                    Err(e) => {
                        // Nothing was sent: safe to try elsewhere.
                        refused += 1;
                        self.owners.remove(&slot);
                        if refused > 2 * self.nodes.len() {
                            return Outcome::Fail(format!("cannot connect: {addr}: {e}"));
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        addr = self.entry();
                        continue;
                    }
                }
            }
            let conn = self.conns.get_mut(&addr).expect("connected above");
            let exchange = async {
                conn.send(&request).await?;
                conn.read_frame().await
            };
            let frame = match tokio::time::timeout(remaining, exchange).await {
                Ok(Ok(frame)) => frame,
                Ok(Err(e)) => {
                    self.conns.remove(&addr);
                    self.owners.remove(&slot);
                    return Outcome::Info(format!("{addr}: {e}"));
                }
                Err(_) => {
                    self.conns.remove(&addr);
                    self.owners.remove(&slot);
                    return Outcome::Info(format!("{addr}: timed out"));
                }
            };
            let Frame::Error(text) = frame else {
                self.owners.insert(slot, addr);
                return Outcome::Ok(frame);
            };
            let code = text.split_whitespace().next().unwrap_or("");
            match code {
                "MOVED" if redirects < MAX_REDIRECTS => {
                    redirects += 1;
                    match parse_moved(&text) {
                        Some((_, to)) => {
                            addr = to.to_string();
                            self.owners.insert(slot, addr.clone());
                        }
                        None => return Outcome::Fail(text),
                    }
                }
                "OUTCOMEUNKNOWN" => {
                    self.owners.remove(&slot);
                    return Outcome::Info(text);
                }
                _ => {
                    self.owners.remove(&slot);
                    return Outcome::Fail(text);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn classifies_replies_and_follows_moved() {
        // A fake node: first MOVED to itself once, then CLUSTERDOWN, then OUTCOMEUNKNOWN, then +OK.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let replies = vec![
            format!("-MOVED 12182 {addr}\r\n"),
            "+OK\r\n".to_string(),
            "-CLUSTERDOWN no leader\r\n".to_string(),
            "-OUTCOMEUNKNOWN maybe\r\n".to_string(),
        ];
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 1024];
            for r in replies {
                let _ = s.read(&mut buf).await.unwrap();
                s.write_all(r.as_bytes()).await.unwrap();
            }
            // Then swallow a request and never answer.
            let _ = s.read(&mut buf).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let mut c = Client::new(vec![addr], Duration::from_millis(500), 0);
        assert_eq!(
            c.call(b"foo", &[b"SET", b"foo", b"1"]).await,
            Outcome::Ok(Frame::Simple("OK".into()))
        );
        assert!(matches!(
            c.call(b"foo", &[b"SET", b"foo", b"1"]).await,
            Outcome::Fail(_)
        ));
        assert!(matches!(
            c.call(b"foo", &[b"SET", b"foo", b"1"]).await,
            Outcome::Info(_)
        ));
        assert!(
            matches!(
                c.call(b"foo", &[b"SET", b"foo", b"1"]).await,
                Outcome::Info(_)
            ),
            "a timeout after sending is indeterminate"
        );
    }
}
