//! Which groups this node hosts, reconciled to the cluster metadata it follows.
//!
//! - `GroupOpener` opens one group's Raft instance (its log in the node's sled database, its
//!   state machine and snapshots, its network): at start for every group this node has a log
//!   of or is meant to be in, and later for each group the metadata adds it to (the new copy
//!   starts empty; the group's leader adds it as a learner and sends it the log or a snapshot).
//! - `follow` runs for the node's life. It reads the metadata from the meta group when this
//!   node hosts it (and writes the first version if the meta group has none), records every
//!   newer version durably before acting on it, derives this incarnation's standing from it
//!   (a refused incarnation that an operator readmitted becomes the member), opens the groups
//!   it is now meant to be in, and closes and forgets (deletes) a group it is no longer meant
//!   to be in only once the group's leader reports a committed configuration without this
//!   incarnation: a copy is never dropped while the group may still count on it.
//!
//! Must not know RESP.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cluster::incarnation::{Incarnations, Standing};
use crate::cluster::metadata::{ClusterMetadata, NodeState};
use crate::cluster::topology::Topology;
use crate::cluster::{GroupId, NodeId};
use crate::data_dir::NodeRecords;
use crate::group::membership::configuration;
use crate::group::{meta, Group, GroupRegistry, Lifecycle};
use crate::peer::enrol::standing_in;
use crate::peer::group_client::NetworkFactory;
use crate::peer::peers::Peers;
use crate::raft::flusher::FlusherHandle;
use crate::raft::log_store::LogStore;
use crate::raft::state_machine::{snapshot_path, StateMachine};
use crate::raft::{Raft, RaftId};

/// Why a group could not be opened on this node.
#[derive(Debug, thiserror::Error)]
pub enum HostingError {
    #[error("data directory {dir}: {source}")]
    DataDir { dir: String, source: std::io::Error },
    #[error("data directory {dir}: slot group {group}'s log is purged up to {purged}, but its snapshot (snapshots/group-{group}.snap) covers {snapshot}: the entries between are gone, so this node's copy of the group is incomplete. Restore the directory from the same moment, or empty it (the node then comes back as a new incarnation; README: \"A node that lost its data directory\")")]
    SnapshotBehindLog {
        dir: String,
        group: u32,
        purged: String,
        snapshot: String,
    },
    #[error("raft: {0}")]
    Raft(String),
}

/// How often the metadata is compared with what is hosted (also on every new version).
const EVERY: Duration = Duration::from_millis(500);

/// Everything needed to open a group's Raft instance on this node.
#[derive(Clone)]
pub struct GroupOpener {
    pub db: sled::Db,
    pub flusher: FlusherHandle,
    pub snapshot_dir: PathBuf,
    pub raft_config: Arc<openraft::Config>,
    pub peers: Peers,
    pub me: RaftId,
    /// The data directory's name, for errors.
    pub dir_name: String,
}

impl GroupOpener {
    /// Opens group `id` from what this node has of it (nothing, for a group it joins).
    pub async fn open(&self, id: GroupId) -> Result<Group, HostingError> {
        let data_err = |source| HostingError::DataDir {
            dir: self.dir_name.clone(),
            source,
        };
        let log = LogStore::open(&self.db, id, self.flusher.clone()).map_err(data_err)?;
        let sm = StateMachine::open(id, &self.snapshot_dir).map_err(data_err)?;
        // openraft purges only what a snapshot covers; a snapshot behind the purged log was
        // lost or replaced, and starting would silently skip entries.
        let purged = log.purged().map_err(data_err)?;
        if purged.is_some() && sm.restored_up_to() < purged {
            return Err(HostingError::SnapshotBehindLog {
                dir: self.dir_name.clone(),
                group: id,
                purged: format!("index {}", purged.map_or(0, |p| p.index)),
                snapshot: match sm.restored_up_to() {
                    Some(s) => format!("up to index {}", s.index),
                    None => "nothing (it is missing)".to_string(),
                },
            });
        }
        let state = sm.shared();
        let network = NetworkFactory::new(id, self.peers.clone());
        let raft = Raft::new(self.me, self.raft_config.clone(), network, log, sm)
            .await
            .map_err(|e| HostingError::Raft(e.to_string()))?;
        Ok(Group::new(id, self.me.node, raft, state))
    }

    /// Deletes this node's copy of group `id` (its log but the vote, and its snapshot); the
    /// group's Raft instance is already shut down.
    fn forget(&self, id: GroupId) -> std::io::Result<()> {
        LogStore::forget(&self.db, id)?;
        match std::fs::remove_file(snapshot_path(&self.snapshot_dir, id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Follows the cluster metadata for the node's life (see the module doc). `creation` is the
/// layout and agreement the cluster was created with: the first version the meta group's
/// leader writes when it has none.
pub async fn follow(
    registry: Arc<GroupRegistry>,
    opener: GroupOpener,
    records: NodeRecords,
    creation: Option<(Arc<Topology>, Incarnations)>,
) {
    let mut changes = registry.watch_metadata();
    let mut recorded = registry.metadata().map_or(0, |m| m.version);
    loop {
        tokio::select! {
            _ = changes.changed() => {}
            _ = tokio::time::sleep(EVERY) => {}
        }
        if registry.lifecycle() != Lifecycle::Serving {
            return;
        }
        read_meta_group(&registry, creation.as_ref()).await;
        let Some(meta) = registry.metadata() else {
            continue;
        };
        if meta.version > recorded {
            if let Err(e) = records.store_metadata(&meta) {
                tracing::error!(error = %e, "cannot record the cluster metadata; not acting on it");
                continue;
            }
            recorded = meta.version;
            update_standing(&registry, &meta);
        }
        // A refused or removed incarnation opens nothing, but still closes what it has left.
        let member = matches!(registry.standing(), Standing::Member(_));
        if let Err(e) = reconcile(&registry, &opener, &meta, member).await {
            tracing::error!(error = %e, "cannot host a slot group");
        }
    }
}

/// Adopts the meta group's applied metadata when this node hosts it; its leader writes the
/// first version if there is none.
async fn read_meta_group(
    registry: &GroupRegistry,
    creation: Option<&(Arc<Topology>, Incarnations)>,
) {
    let Some(group) = registry.meta_group() else {
        return;
    };
    match meta::read(&group) {
        Ok(Some((found, _))) => {
            let version = found.version;
            if registry.adopt(found) {
                tracing::info!(version, "adopted cluster metadata from the meta group");
            }
        }
        Ok(None) if group.is_leader() => {
            let Some((layout, agreed)) = creation else {
                return;
            };
            let first = layout.first_metadata(agreed);
            match meta::initialize(&group, &first, Duration::from_secs(2)).await {
                Ok(()) => tracing::info!("wrote the first cluster metadata"),
                Err(e) => tracing::debug!(error = %e, "first cluster metadata not written yet"),
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "cannot read the meta group"),
    }
    if group.is_leader() {
        finish_drains(registry, &group).await;
    }
}

/// On the meta group's leader: a draining node that no group's configuration holds any more
/// is recorded as removed.
async fn finish_drains(registry: &GroupRegistry, meta_group: &Group) {
    let Some(current) = registry.metadata() else {
        return;
    };
    if !current
        .nodes
        .values()
        .any(|r| r.state == NodeState::Draining)
    {
        return;
    }
    // What each group's configuration holds: this node's own view of the groups it leads,
    // the leaders' reports for the others (a group nobody reported on counts as holding
    // everyone: a node is never removed on missing news).
    let held = |node: NodeId| {
        current.group_ids().any(|g| {
            let members: Option<Vec<RaftId>> = match registry.group(g).filter(|g| g.is_leader()) {
                Some(led) => {
                    let config = configuration(&led);
                    (!config.joint && config.committed)
                        .then(|| config.voters.union(&config.learners).copied().collect())
                }
                None => registry.peer_view().committed_members(g),
            };
            members.is_none_or(|m| m.iter().any(|id| id.node == node))
        })
    };
    let result = meta::update(
        meta_group,
        |m| Ok(m.finish_drain(held)),
        Duration::from_secs(2),
    )
    .await;
    match result {
        Ok(next) if next.version > current.version => {
            tracing::info!(version = next.version, "drained node(s) removed");
            registry.adopt(next);
        }
        Ok(_) => {}
        Err(e) => tracing::debug!(error = %e, "finishing drains"),
    }
}

/// A newer version may readmit this incarnation, or say the node was removed.
fn update_standing(registry: &GroupRegistry, meta: &ClusterMetadata) {
    let me = registry.self_raft_id();
    let next = standing_of(meta, me);
    let before = registry.standing();
    if std::mem::discriminant(&before) != std::mem::discriminant(&next) {
        match &next {
            Standing::Member(_) => tracing::info!(
                incarnation = %me,
                version = meta.version,
                "this incarnation is now the cluster's member for its node"
            ),
            _ => tracing::error!("{}", next.describe()),
        }
    }
    registry.set_standing(next);
}

/// The standing of incarnation `me` by metadata `meta`: its member, refused (another
/// incarnation is), or removed.
pub fn standing_of(meta: &ClusterMetadata, me: RaftId) -> Standing {
    let removed = meta
        .nodes
        .get(&me.node)
        .is_some_and(|r| r.state == NodeState::Removed && r.incarnation == me.incarnation);
    if !removed {
        return standing_in(&meta.incarnations(), me);
    }
    Standing::Refused {
        incarnations: meta.incarnations(),
        reason: format!(
            "node {} was removed from the cluster (metadata version {}): it holds no data and \
             takes part in nothing; stop it",
            me.node, meta.version
        ),
    }
}

/// Opens the groups this node is meant to be in (if it is a `member`) and forgets those it has
/// left.
async fn reconcile(
    registry: &GroupRegistry,
    opener: &GroupOpener,
    meta: &ClusterMetadata,
    member: bool,
) -> Result<(), HostingError> {
    let me = registry.self_raft_id();
    let wanted = if member {
        meta.groups_of(me.node)
    } else {
        Vec::new()
    };
    for &id in &wanted {
        if registry.group(id).is_none() {
            tracing::info!(group = id, "now a member of this group: opening it");
            registry.insert(opener.open(id).await?);
        }
    }
    for group in registry.all_groups() {
        let id = group.id();
        if wanted.contains(&id) {
            continue;
        }
        let Some(members) = registry.peer_view().committed_members(id) else {
            continue;
        };
        if members.contains(&me) || group.is_leader() {
            continue;
        }
        tracing::info!(
            group = id,
            "the group committed a configuration without this node: closing and deleting it"
        );
        if let Some(group) = registry.remove(id) {
            if let Err(e) = group.raft().shutdown().await {
                tracing::warn!(group = id, error = %e, "raft shutdown");
            }
        }
        if let Err(e) = opener.forget(id) {
            tracing::error!(group = id, error = %e, "cannot delete the group's data");
        }
    }
    Ok(())
}
