//! The server half of the replication stream from one peer (see `mux`): hands each substream
//! to its group's `Raft::stream_append`, in order, and batches the replies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use openraft::raft::AppendEntriesRequest;
use tokio::sync::mpsc;
use tonic::Streaming;

use super::mux::{batched, OUTBOUND_QUEUE, SUBSTREAM_QUEUE};
use crate::group::GroupRegistry;
use crate::proto::raft::{ReplicateBatch, ReplicateFrame, ReplicateReply, ReplicateReplyBatch};
use crate::raft::codec::{decode, encode};
use crate::raft::{Raft, TypeConfig};

/// Serves one peer's `Replicate` stream whose first batch, `first`, has been checked to come
/// from this cluster and to be addressed to this incarnation: routes each substream to its group and returns the batched replies.
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
    let first_incarnation = first.to_incarnation;
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
        if batch.cluster_id != cluster_id || batch.to_incarnation != first_incarnation {
            tracing::warn!(
                from = batch.from_node,
                "cluster id or addressed incarnation changed mid-stream; closing it"
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
        group.raft().clone(),
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
