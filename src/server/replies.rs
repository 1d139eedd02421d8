//! Ready-made replies that several paths send: error frames, a keyspace result as a frame
//! (RESP2 or RESP3), reshaped write replies, `-CLUSTERDOWN` and `-OUTCOMEUNKNOWN` texts, and
//! `HELP` listings. The one place that writes these texts.

use crate::cluster::GroupId;
use crate::command::ReplyAs;
use crate::keyspace::KeyspaceError;
use crate::reply::Reply;
use crate::resp::Frame;

pub(super) fn err(text: impl Into<String>) -> Frame {
    Frame::Error(text.into())
}

pub(super) fn keyspace_result(r: Result<Reply, KeyspaceError>, resp3: bool) -> Frame {
    match r {
        Ok(reply) => reply.into_frame(resp3),
        Err(e) => err(e.to_string()),
    }
}

/// Reshapes a write's reply for commands that share another command's op.
pub(super) fn reshape(reply: Reply, how: Option<ReplyAs>) -> Reply {
    match (how, reply) {
        (_, Reply::Error(e)) => Reply::Error(e),
        (None, r) => r,
        (Some(ReplyAs::Flag), Reply::Ok) => Reply::Integer(1),
        (Some(ReplyAs::Flag), Reply::Nil) => Reply::Integer(0),
        (Some(ReplyAs::Flag), r) => r,
        (Some(ReplyAs::Ok), _) => Reply::Ok,
    }
}

pub(super) fn cluster_down(group: GroupId) -> Frame {
    err(format!(
        "CLUSTERDOWN The cluster is down: slot group {group} has no leader"
    ))
}

pub(super) fn outcome_unknown(group: GroupId, why: &str) -> Frame {
    err(format!(
        "OUTCOMEUNKNOWN the write may or may not have been applied (slot group {group}: {why}); check before retrying a non-idempotent write"
    ))
}

pub(super) fn help(lines: &[&str]) -> Frame {
    Frame::Array(
        lines
            .iter()
            .map(|l| Frame::Simple((*l).to_string()))
            .collect(),
    )
}
