//! What can go wrong when the RESP side asks a group to propose a write or confirm a read,
//! in slotraft's own terms (openraft's error types stay inside `group/`). The RESP side turns
//! each into exactly one Redis reply (`-MOVED`, `-CLUSTERDOWN`, `-TRYAGAIN`, `-OUTCOMEUNKNOWN`).

use thiserror::Error;

use crate::cluster::NodeId;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GroupError {
    /// Refused before anything was appended or read: this node does not lead the group. The
    /// request certainly did not happen and may be sent elsewhere.
    #[error("not the leader (leader: {leader:?}, handing off: {handing_off})")]
    NotLeader {
        /// The node that leads, when known (never this node).
        leader: Option<NodeId>,
        /// This node is handing its leadership over: the target is named, but until it wins
        /// its election it would send the client straight back. Wait, then route again.
        handing_off: bool,
    },
    /// A write was proposed and then leadership was lost, or the commit did not come in time:
    /// it may or may not be applied.
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(String),
    /// A read could not confirm with a quorum that this node still leads; nothing was read.
    #[error("leadership not confirmed: {0}")]
    Unconfirmed(String),
}
