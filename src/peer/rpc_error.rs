//! How a failed call to a peer is reported to openraft: `Unreachable` (openraft backs off
//! before retrying) when the peer is down or the connection broke, `Network` otherwise.

use openraft::errors::{NetworkError, RPCError, Unreachable};

use crate::raft::TypeConfig;

pub(super) fn unreachable(e: impl std::fmt::Display) -> RPCError<TypeConfig> {
    RPCError::Unreachable(Unreachable::from_string(e.to_string()))
}

pub(super) fn status_to_rpc(status: tonic::Status) -> RPCError<TypeConfig> {
    match status.code() {
        // The peer is down or the connection broke, or what answers is not the member
        // addressed (another cluster, another incarnation): back off before retrying.
        tonic::Code::Unavailable
        | tonic::Code::Cancelled
        | tonic::Code::Unknown
        | tonic::Code::FailedPrecondition => unreachable(status),
        _ => RPCError::Network(NetworkError::new(&status)),
    }
}
