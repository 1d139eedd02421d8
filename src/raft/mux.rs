//! Replication of every slot group to one peer over one gRPC stream (`Replicate`).
//!
//! openraft drives one pipelined AppendEntries stream per (group, follower). Sent as one gRPC
//! stream each, every request costs an HTTP/2 message and a task wake-up on each side, per group.
//! Here each group's stream is a numbered *substream* of one stream per peer, and whoever sends
//! takes everything ready at that moment — requests of any group, or replies — into one batch
//! message: under load, one message and one wake-up carry the work of many groups.
//!
//! Client half: [`MuxConn`], one per peer, shared by the groups' clients and replaced when its
//! stream fails (every open substream then fails as unreachable, and openraft retries after its
//! backoff). Server half: [`serve`], which hands each substream to its group's
//! `Raft::stream_append` and batches the replies.
//!
//! Order: a substream's requests leave in order through one queue and reach openraft in order;
//! openraft answers in order; so replies come back in request order, as openraft requires.
//! Memory: the outbound queue per peer is bounded; on the receiving side a substream whose group
//! falls too far behind is closed as unavailable rather than allowed to block the other groups
//! (the leader backs off and reopens it).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use openraft::errors::{NetworkError, RPCError};
use openraft::raft::{AppendEntriesRequest, StreamAppendResult};
use tokio::sync::mpsc;
use tonic::transport::Channel;
use tonic::Streaming;

use super::codec::{decode, encode};
use super::network::{status_to_rpc, unreachable};
use super::{GroupId, NodeId, Raft, TypeConfig};
use crate::proto::raft::raft_service_client::RaftServiceClient;
use crate::proto::raft::{ReplicateBatch, ReplicateFrame, ReplicateReply, ReplicateReplyBatch};
use crate::registry::GroupRegistry;

/// Frames waiting to be sent to one peer, all groups together.
const OUTBOUND_QUEUE: usize = 4096;
/// Frames or replies per batch message: keeps one message's size reasonable.
const MAX_BATCH: usize = 256;
/// Requests queued for one group on the receiving side before its substream is closed as
/// unable to keep up (openraft itself pipelines 64 more behind this).
const SUBSTREAM_QUEUE: usize = 1024;

/// One reply of a substream, as openraft's replication wants it.
pub type AppendReply = Result<StreamAppendResult<TypeConfig>, RPCError<TypeConfig>>;

fn network_error(e: impl std::fmt::Display) -> RPCError<TypeConfig> {
    RPCError::Network(NetworkError::from_string(e.to_string()))
}

/// Takes what is queued into batches of at most `MAX_BATCH`, waiting only for the first item.
fn batched<T: Send + 'static>(rx: mpsc::Receiver<T>) -> impl Stream<Item = Vec<T>> + Send {
    futures::stream::unfold(rx, |mut rx| async move {
        let first = rx.recv().await?;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        Some((batch, rx))
    })
}

// ---------------------------------------------------------------------------------------------
// Client half.

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
    pub fn start(channel: Channel, cluster_id: String, from_node: NodeId) -> Arc<Self> {
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

/// Serves one peer's `Replicate` stream whose first batch, `first`, has been checked to come
/// from this cluster: routes each substream to its group and returns the batched replies.
pub fn serve(
    registry: Arc<GroupRegistry>,
    first: ReplicateBatch,
    inbound: Streaming<ReplicateBatch>,
) -> impl Stream<Item = Result<ReplicateReplyBatch, tonic::Status>> + Send + 'static {
    let (tx, rx) = mpsc::channel::<ReplicateReply>(OUTBOUND_QUEUE);
    tokio::spawn(dispatch(registry, first, inbound, tx));
    batched(rx).map(|replies| Ok(ReplicateReplyBatch { replies }))
}

/// One substream on the receiving side: `None` once closed (its later frames are dropped).
type Substream = Option<SubstreamHandle>;

struct SubstreamHandle {
    requests: mpsc::Sender<AppendEntriesRequest<TypeConfig>>,
    /// Why the substream was closed early (error text, transient?): sent in its end reply,
    /// after the replies to the requests it already took.
    closed_because: Arc<Mutex<Option<(String, bool)>>>,
}

async fn dispatch(
    registry: Arc<GroupRegistry>,
    first: ReplicateBatch,
    mut inbound: Streaming<ReplicateBatch>,
    replies: mpsc::Sender<ReplicateReply>,
) {
    let cluster_id = first.cluster_id.clone();
    let mut substreams: HashMap<u64, Substream> = HashMap::new();
    let mut batch = first;
    loop {
        for frame in batch.frames {
            if frame.end {
                // No more requests: the group's stream answers those queued, then ends.
                substreams.remove(&frame.substream);
                continue;
            }
            let substream = substreams
                .entry(frame.substream)
                .or_insert_with(|| open(&registry, &frame, &replies));
            let Some(handle) = substream else {
                continue;
            };
            let failure = match decode::<AppendEntriesRequest<TypeConfig>>(&frame.payload) {
                Ok(req) => match handle.requests.try_send(req) {
                    Ok(()) => None,
                    Err(mpsc::error::TrySendError::Full(_)) => Some((
                        format!(
                            "slot group {} cannot keep up with replication; retry later",
                            frame.group_id
                        ),
                        true,
                    )),
                    // The group's stream ended (openraft rejected a request) and said so.
                    Err(mpsc::error::TrySendError::Closed(_)) => Some((String::new(), false)),
                },
                Err(e) => Some((format!("undecodable append request: {e}"), false)),
            };
            if let Some(reason) = failure {
                *handle.closed_because.lock().expect("substream lock") = Some(reason);
                // Dropping the sender ends the substream once its queued requests are answered.
                *substream = None;
            }
        }
        batch = match inbound.message().await {
            Ok(Some(b)) => b,
            // The peer closed the stream or it broke: dropping the substreams ends them.
            _ => return,
        };
        if batch.cluster_id != cluster_id {
            tracing::warn!(
                from = batch.from_node,
                "cluster id changed mid-stream; closing it"
            );
            return;
        }
    }
}

fn end_reply(substream: u64, error: String, unavailable: bool) -> ReplicateReply {
    ReplicateReply {
        substream,
        payload: Vec::new(),
        end: true,
        error,
        unavailable,
    }
}

/// Starts serving a new substream for `frame`'s group.
fn open(
    registry: &GroupRegistry,
    frame: &ReplicateFrame,
    replies: &mpsc::Sender<ReplicateReply>,
) -> Substream {
    let Some(group) = registry.group(frame.group_id) else {
        let end = end_reply(
            frame.substream,
            format!("this node is not a member of slot group {}", frame.group_id),
            false,
        );
        // Never blocks for long: the reply side drains continuously.
        let replies = replies.clone();
        tokio::spawn(async move { replies.send(end).await });
        return None;
    };
    let (tx, rx) = mpsc::channel(SUBSTREAM_QUEUE);
    let closed_because = Arc::new(Mutex::new(None));
    tokio::spawn(run_substream(
        group.raft.clone(),
        frame.substream,
        rx,
        closed_because.clone(),
        replies.clone(),
    ));
    Some(SubstreamHandle {
        requests: tx,
        closed_because,
    })
}

/// Feeds one substream's requests to openraft and sends its replies back, in order.
async fn run_substream(
    raft: Raft,
    id: u64,
    requests: mpsc::Receiver<AppendEntriesRequest<TypeConfig>>,
    closed_because: Arc<Mutex<Option<(String, bool)>>>,
    replies: mpsc::Sender<ReplicateReply>,
) {
    let requests = tokio_stream::wrappers::ReceiverStream::new(requests);
    let results = raft.stream_append(requests);
    futures::pin_mut!(results);
    while let Some(result) = results.next().await {
        let reply = match result.map(|r| encode(&r)) {
            Ok(Ok(payload)) => ReplicateReply {
                substream: id,
                payload,
                end: false,
                error: String::new(),
                unavailable: false,
            },
            Ok(Err(e)) => end_reply(id, format!("cannot encode append reply: {e}"), false),
            // The group's Raft stopped (shutdown or storage failure): the peer should back off.
            Err(fatal) => end_reply(id, format!("raft group unavailable: {fatal}"), true),
        };
        let last = reply.end;
        if replies.send(reply).await.is_err() || last {
            return;
        }
    }
    // The requests ran out (the peer said no more follow, or the substream was closed early)
    // or openraft ended the stream after a rejection (conflict, higher vote) it just sent.
    let (error, unavailable) = closed_because
        .lock()
        .expect("substream lock")
        .take()
        .unwrap_or_default();
    let _ = replies.send(end_reply(id, error, unavailable)).await;
}
