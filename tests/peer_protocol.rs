//! The gRPC port between nodes faced with bad peers: a real `slotraft-server` process, and a test
//! that speaks its peer protocol directly.
//!
//! Asserts that messages from another cluster are refused with an error naming both clusters,
//! that messages addressed to another incarnation of the node (the member it was before its
//! data directory was replaced) are refused on every entry point,
//! that a broken substream of the shared replication stream fails alone (unknown group,
//! undecodable request) while the stream keeps serving the others, that snapshot transfers
//! that are not what they announce are refused and leave nothing on disk, and that the node keeps
//! serving clients with its data intact afterwards.

mod support;

use std::time::Duration;

use futures::StreamExt;
use openraft::raft::{AppendEntriesRequest, StreamAppendError, StreamAppendResult};
use slotraft::cluster::topology::{parse_initial_cluster, Topology};
use slotraft::proto::raft::raft_service_client::RaftServiceClient;
use slotraft::proto::raft::{
    Envelope, HandshakeRequest, ReplicateBatch, ReplicateFrame, ReplicateReply, SnapshotChunk,
};
use slotraft::raft::codec::{decode, encode};
use slotraft::raft::{RaftId, TypeConfig, Vote};
use support::*;

/// The cluster id the node computes from its own arguments.
fn cluster_id_of(node: &NodeProc) -> String {
    let at = node
        .args
        .iter()
        .position(|a| a == "--initial-cluster")
        .unwrap();
    let nodes = parse_initial_cluster(&node.args[at + 1]).unwrap();
    Topology::new(node.id, nodes, 16, 3)
        .unwrap()
        .cluster_id()
        .to_string()
}

async fn client(node: &NodeProc) -> RaftServiceClient<tonic::transport::Channel> {
    RaftServiceClient::connect(format!("http://127.0.0.1:{}", node.grpc_port))
        .await
        .unwrap()
}

fn frame(substream: u64, group_id: u32, payload: Vec<u8>) -> ReplicateFrame {
    ReplicateFrame {
        substream,
        group_id,
        payload,
        end: false,
    }
}

#[test]
fn peers_of_another_cluster_and_broken_substreams_are_refused() {
    let mut cluster = Cluster::start(1, &[]);
    let node = cluster.node(1);
    let ours = cluster_id_of(node);
    let mut redis = connect(&node.addr()).unwrap();
    let _: () = redis::cmd("SET")
        .arg("kept")
        .arg("v1")
        .query(&mut redis)
        .unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut c = client(node).await;

        // Another cluster: refused on every entry point, with both sides named.
        let err = c
            .handshake(HandshakeRequest {
                cluster_id: "other".into(),
                from_node: 7,
                layout: "7=elsewhere".into(),
                from_incarnation: 1,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition);
        assert!(
            err.message().contains("7=elsewhere")
                && err.message().contains("cluster layout mismatch"),
            "{}",
            err.message()
        );
        let err = c
            .vote(Envelope {
                cluster_id: "other".into(),
                group_id: 0,
                from_node: 7,
                payload: vec![1, 2, 3],
                to_incarnation: 1,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition);
        assert!(err.message().contains(&ours), "{}", err.message());
        let foreign = ReplicateBatch {
            cluster_id: "other".into(),
            from_node: 7,
            frames: vec![frame(1, 0, vec![0; 8])],
            to_incarnation: 1,
        };
        let err = c
            .replicate(futures::stream::iter([foreign]))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition);
        assert!(
            err.message().contains("cluster id mismatch") && err.message().contains(&ours),
            "{}",
            err.message()
        );

        // Our cluster, but addressed to another incarnation of the node: refused, whatever
        // the message, before any group sees it.
        let hello = c
            .handshake(HandshakeRequest {
                cluster_id: ours.clone(),
                from_node: 9,
                layout: String::new(),
                from_incarnation: 1,
            })
            .await
            .unwrap()
            .into_inner();
        let incarnation = hello.incarnation;
        assert_ne!(incarnation, 0);
        assert_eq!(
            hello.incarnations.get(&1),
            Some(&incarnation),
            "the node is its cluster's member: {hello:?}"
        );
        let other_life = incarnation.wrapping_add(1);
        let vote =
            openraft::raft::VoteRequest::<TypeConfig>::new(Vote::new(99, RaftId::from(9)), None);
        let err = c
            .vote(Envelope {
                cluster_id: ours.clone(),
                group_id: 0,
                from_node: 9,
                payload: encode(&vote).unwrap(),
                to_incarnation: other_life,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition);
        assert!(
            err.message().contains("emptied or replaced"),
            "{}",
            err.message()
        );
        let misaddressed = ReplicateBatch {
            cluster_id: ours.clone(),
            from_node: 9,
            frames: vec![frame(1, 0, vec![0; 8])],
            to_incarnation: other_life,
        };
        let err = c
            .replicate(futures::stream::iter([misaddressed]))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition);

        // Our cluster: an unknown group and a garbage request each end their own substream
        // with an error; a well-formed request from a stale leader on a third substream is
        // still answered (rejected by the group's higher vote).
        let stale = AppendEntriesRequest::<TypeConfig> {
            vote: Vote::new_committed(0, RaftId::from(9)),
            prev_log_id: None,
            entries: Vec::new(),
            leader_commit: None,
        };
        let batch = ReplicateBatch {
            cluster_id: ours.clone(),
            from_node: 9,
            to_incarnation: incarnation,
            frames: vec![
                frame(1, 999, encode(&stale).unwrap()),
                frame(2, 0, vec![0xff; 16]),
                frame(3, 0, encode(&stale).unwrap()),
            ],
        };
        // Keep the request stream open until the replies are in, as a peer does.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tx.send(batch).await.unwrap();
        let mut replies = c
            .replicate(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .unwrap()
            .into_inner();
        let mut got: Vec<ReplicateReply> = Vec::new();
        let deadline = tokio::time::sleep(Duration::from_secs(10));
        tokio::pin!(deadline);
        while got.iter().filter(|r| r.end).count() < 3 {
            tokio::select! {
                _ = &mut deadline => panic!("replies missing; got {got:?}"),
                batch = replies.next() => got.extend(batch.expect("stream open").unwrap().replies),
            }
        }
        drop(tx);

        let end_of = |s: u64| got.iter().find(|r| r.substream == s && r.end).unwrap();
        assert!(
            end_of(1).error.contains("not a member of slot group 999"),
            "{:?}",
            end_of(1)
        );
        assert!(
            end_of(2).error.contains("undecodable append request"),
            "{:?}",
            end_of(2)
        );
        let answer = got
            .iter()
            .find(|r| r.substream == 3 && !r.end)
            .unwrap_or_else(|| panic!("substream 3 unanswered: {got:?}"));
        let result: StreamAppendResult<TypeConfig> = decode(&answer.payload).unwrap();
        assert!(
            matches!(result, Err(StreamAppendError::HigherVote(_))),
            "{result:?}"
        );
        assert!(end_of(3).error.is_empty(), "{:?}", end_of(3));

        // Snapshot transfers that are not what they announce are refused before any group
        // sees them: too large for --max-snapshot-bytes, ending short, running long, or not a
        // snapshot file at all.
        let header = Envelope {
            cluster_id: ours.clone(),
            group_id: 0,
            from_node: 9,
            payload: encode(&(
                Vote::new_committed(99, RaftId::from(9)),
                slotraft::raft::SnapshotMeta::default(),
            ))
            .unwrap(),
            to_incarnation: incarnation,
        };
        let transfer = |total_len: u64, pieces: Vec<Vec<u8>>| {
            let mut chunks = vec![SnapshotChunk {
                header: Some(header.clone()),
                data: Vec::new(),
                total_len,
            }];
            chunks.extend(pieces.into_iter().map(|data| SnapshotChunk {
                header: None,
                data,
                total_len: 0,
            }));
            futures::stream::iter(chunks)
        };
        let cases = [
            (
                u64::MAX,
                vec![],
                tonic::Code::ResourceExhausted,
                "--max-snapshot-bytes",
            ),
            (
                10,
                vec![vec![0; 5]],
                tonic::Code::InvalidArgument,
                "ended after 5 of the 10",
            ),
            (
                5,
                vec![vec![0; 3], vec![0; 3]],
                tonic::Code::InvalidArgument,
                "longer than",
            ),
            (
                6,
                vec![vec![7; 6]],
                tonic::Code::InvalidArgument,
                "not a snapshot file",
            ),
        ];
        for (total, pieces, code, text) in cases {
            let err = c
                .install_snapshot(transfer(total, pieces))
                .await
                .unwrap_err();
            assert_eq!(err.code(), code, "{}", err.message());
            assert!(err.message().contains(text), "{}", err.message());
        }
    });
    let leftovers = snapshot_leftovers(&node.dir);
    assert!(leftovers.is_empty(), "refused transfers left {leftovers:?}");

    // Still serving, nothing lost.
    let v: String = redis::cmd("GET").arg("kept").query(&mut redis).unwrap();
    assert_eq!(v, "v1");
    let _: () = redis::cmd("SET")
        .arg("after")
        .arg("v2")
        .query(&mut redis)
        .unwrap();
    let v: String = redis::cmd("GET").arg("after").query(&mut redis).unwrap();
    assert_eq!(v, "v2");
}
