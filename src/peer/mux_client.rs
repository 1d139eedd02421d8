//! The client half of the replication stream to one peer (see `mux`): `MuxConn` numbers each
//! group's AppendEntries stream as a substream, batches whatever is ready into one message, and
//! routes the replies back to each substream in order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use openraft::errors::RPCError;
use openraft::raft::{AppendEntriesRequest, StreamAppendResult};
use tokio::sync::mpsc;
use tonic::transport::Channel;

use super::mux::{batched, network_error, AppendReply, OUTBOUND_QUEUE};
use super::rpc_error::{status_to_rpc, unreachable};
use crate::cluster::incarnation::RaftId;
use crate::cluster::{GroupId, NodeId};
use crate::proto::raft::raft_service_client::RaftServiceClient;
use crate::proto::raft::{ReplicateBatch, ReplicateFrame, ReplicateReplyBatch};
use crate::raft::codec::{decode, encode};
use crate::raft::TypeConfig;

/// The replication stream to one peer.
pub struct MuxConn {
    outbound: mpsc::Sender<ReplicateFrame>,
    state: Mutex<ConnState>,
    next_substream: AtomicU64,
}

struct ConnState {
    /// Where each open substream's replies go.
    substreams: HashMap<u64, mpsc::UnboundedSender<AppendReply>>,
    /// The stream failed: no new substreams; the owner replaces this connection.
    closed: bool,
}

impl MuxConn {
    /// Opens the stream to the peer behind `channel` (lazily: the first frame connects).
    /// Every batch is addressed to member `to` (its incarnation): see `Envelope`.
    pub fn start(channel: Channel, cluster_id: String, from_node: NodeId, to: RaftId) -> Arc<Self> {
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        let conn = Arc::new(Self {
            outbound: tx,
            state: Mutex::new(ConnState {
                substreams: HashMap::new(),
                closed: false,
            }),
            next_substream: AtomicU64::new(1),
        });
        let batches = batched(rx).map(move |frames| ReplicateBatch {
            cluster_id: cluster_id.clone(),
            from_node,
            frames,
            to_incarnation: to.incarnation,
        });
        let reader = conn.clone();
        tokio::spawn(async move {
            let error = reader.run(channel, batches).await;
            tracing::debug!(error = %error, "replication stream to peer ended");
            reader.close(&error);
        });
        conn
    }

    pub fn is_closed(&self) -> bool {
        self.state.lock().expect("mux state lock").closed
    }

    /// Sends the batches and routes the replies until the stream fails; returns why it ended.
    async fn run(
        &self,
        channel: Channel,
        batches: impl Stream<Item = ReplicateBatch> + Send + 'static,
    ) -> RPCError<TypeConfig> {
        let mut client = RaftServiceClient::new(channel);
        let mut replies = match client.replicate(batches).await {
            Ok(response) => response.into_inner(),
            Err(status) => return status_to_rpc(status),
        };
        loop {
            match replies.message().await {
                Ok(Some(batch)) => self.route(batch),
                Ok(None) => return unreachable("peer closed the replication stream"),
                Err(status) => return status_to_rpc(status),
            }
        }
    }

    fn route(&self, batch: ReplicateReplyBatch) {
        let mut state = self.state.lock().expect("mux state lock");
        for reply in batch.replies {
            if reply.end {
                if let Some(tx) = state.substreams.remove(&reply.substream) {
                    if !reply.error.is_empty() {
                        let e = if reply.unavailable {
                            unreachable(&reply.error)
                        } else {
                            network_error(&reply.error)
                        };
                        let _ = tx.send(Err(e));
                    }
                }
                continue;
            }
            let Some(tx) = state.substreams.get(&reply.substream) else {
                continue;
            };
            let item =
                decode::<StreamAppendResult<TypeConfig>>(&reply.payload).map_err(network_error);
            if tx.send(item).is_err() {
                state.substreams.remove(&reply.substream);
            }
        }
    }

    /// Fails every open substream with `error` and refuses new ones.
    fn close(&self, error: &RPCError<TypeConfig>) {
        let mut state = self.state.lock().expect("mux state lock");
        state.closed = true;
        for (_, tx) in state.substreams.drain() {
            let _ = tx.send(Err(error.clone()));
        }
    }

    /// Replicates `group`'s requests, `first` then the rest of `input`, on a new substream;
    /// returns the stream of replies, in request order.
    pub fn open_substream<S>(
        self: &Arc<Self>,
        group: GroupId,
        first: AppendEntriesRequest<TypeConfig>,
        input: S,
    ) -> Result<mpsc::UnboundedReceiver<AppendReply>, RPCError<TypeConfig>>
    where
        S: Stream<Item = AppendEntriesRequest<TypeConfig>> + Send + Unpin + 'static,
    {
        let id = self.next_substream.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut state = self.state.lock().expect("mux state lock");
            if state.closed {
                return Err(unreachable("replication stream to peer is down"));
            }
            state.substreams.insert(id, tx.clone());
        }
        tokio::spawn(self.clone().forward(id, group, first, input, tx));
        Ok(rx)
    }

    /// Sends a substream's requests until openraft stops producing them or stops listening.
    async fn forward<S>(
        self: Arc<Self>,
        id: u64,
        group: GroupId,
        first: AppendEntriesRequest<TypeConfig>,
        mut input: S,
        replies: mpsc::UnboundedSender<AppendReply>,
    ) where
        S: Stream<Item = AppendEntriesRequest<TypeConfig>> + Send + Unpin + 'static,
    {
        let mut next = Some(first);
        // Whether openraft gave the substream up (dropped its reply stream), as opposed to
        // having sent all its requests, whose replies are still to come.
        let mut abandoned = false;
        loop {
            let req = match next.take() {
                Some(req) => req,
                None => tokio::select! {
                    _ = replies.closed() => {
                        abandoned = true;
                        break;
                    }
                    req = input.next() => match req {
                        Some(req) => req,
                        None => break,
                    },
                },
            };
            let payload = match encode(&req) {
                Ok(p) => p,
                Err(e) => {
                    let _ = replies.send(Err(network_error(format!(
                        "cannot encode append request: {e}"
                    ))));
                    abandoned = true;
                    break;
                }
            };
            let frame = ReplicateFrame {
                substream: id,
                group_id: group,
                payload,
                end: false,
            };
            tokio::select! {
                _ = replies.closed() => {
                    abandoned = true;
                    break;
                }
                sent = self.outbound.send(frame) => if sent.is_err() { break },
            }
        }
        if abandoned {
            self.state
                .lock()
                .expect("mux state lock")
                .substreams
                .remove(&id);
        }
        // Tells the peer no more requests follow; it still answers those it has, then ends the
        // substream. Best effort: if the queue is full, the peer keeps an idle substream until
        // the stream ends, which costs it an entry in a map.
        let _ = self.outbound.try_send(ReplicateFrame {
            substream: id,
            group_id: group,
            payload: Vec::new(),
            end: true,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Server half.
