//! The nemesis: injects faults on a schedule while the clients run, and heals them.
//!
//! Each cycle waits a quiet period, takes the next of the enabled faults (each in turn, in a
//! random order per round, membership changes first), applies it, holds it, and undoes it; every
//! start and stop goes into the history (for the per-fault availability figures). Faults:
//!
//! | fault | what | undo |
//! |---|---|---|
//! | `kill-random` / `kill-leader` / `kill-majority` / `kill-all` | `kill -9` of a random node / the node leading most groups / a random majority / every node | restart |
//! | `pause-leader` | `SIGSTOP` of the node leading most groups | `SIGCONT` |
//! | `partition-halves` | a random minority cut off from the majority | heal |
//! | `partition-leader` | the node leading most groups cut off from all others | heal |
//! | `partition-ring` | non-transitive: every node sees only its ring neighbours (5+ nodes: a majority each, no two the same); with 3 nodes a bridge (one node sees both others, they do not see each other) | heal |
//! | `transfer-leader` | leadership transfers of random groups to random members, every 300 ms, while held | — |
//! | `snapshot` | snapshots (and log purges) on every node, every second, while held; combine with a small `--snapshot-logs` | — |
//! | `readmit` | node `W` (random) is `kill -9`ed, its data directory emptied and restarted; once it reports itself refused (a new incarnation of a known node), `replace-node W W` through another node readmits it; then, three times in four, up to a second into the change: `kill -9` of the leader of a group `W` belongs to or of a random node, or that leader cut off from all others | heal or restart, then wait (60 s at most) until every group has its intended members and no learners and `W` is a member again |
//! | `move-replica` | a random slot group (or, one time in four, the meta group, when some active node is not among its members) gets one replica moved from a random member to a random active non-member (`move-replica`), with the same interruptions (on the moved group's leader) | the same: heal or restart, then wait until settled |
//! | `wipe` | the interleaving in which a node that lost its disk would lose writes if it were counted as its old self: a minority `L` (one of three, two of five) is killed and falls behind; then node `W` is killed, its data directory emptied and restarted (always the same `W`: the cluster has lost one disk, which it must tolerate); then the nodes that hold the newest writes are killed and `L` restarted, so that `W` and `L` would be a quorum. `W` must be refused: the groups stay unavailable and nothing is lost | restart the killed nodes |
//!
//! Partitions cut node-to-node traffic only; clients keep reaching every node.
//!
//! `move-replica` needs a node outside each group, more nodes than `--replicas` (the runner
//! gives runs with membership faults `--replicas` + 1 nodes when `--nodes` is not more). Unlike
//! the other faults, `readmit` and `move-replica` are never skipped: a membership change that
//! cannot be made (refused, a wiped node that is not refused, or no meta leader within 30 s),
//! or that has not settled 60 s after the hold ended and its interruption was healed, is an
//! anomaly of the run. Their window in the history starts when the nemesis began making them.

use std::collections::BTreeSet;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::time::Instant;

use super::cluster::{self, Cluster, Metadata};
use super::history::Recorder;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    KillRandom,
    KillLeader,
    KillMajority,
    KillAll,
    PauseLeader,
    PartitionHalves,
    PartitionLeader,
    PartitionRing,
    TransferLeader,
    Snapshot,
    Wipe,
    Readmit,
    MoveReplica,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::KillRandom => "kill-random",
            Fault::KillLeader => "kill-leader",
            Fault::KillMajority => "kill-majority",
            Fault::KillAll => "kill-all",
            Fault::PauseLeader => "pause-leader",
            Fault::PartitionHalves => "partition-halves",
            Fault::PartitionLeader => "partition-leader",
            Fault::PartitionRing => "partition-ring",
            Fault::TransferLeader => "transfer-leader",
            Fault::Snapshot => "snapshot",
            Fault::Wipe => "wipe",
            Fault::Readmit => "readmit",
            Fault::MoveReplica => "move-replica",
        }
    }

    /// Changes the cluster's membership (and waits for it to settle).
    pub fn is_membership(self) -> bool {
        matches!(self, Fault::Readmit | Fault::MoveReplica)
    }

    pub fn is_partition(self) -> bool {
        matches!(
            self,
            Fault::PartitionHalves | Fault::PartitionLeader | Fault::PartitionRing
        )
    }
}

/// When faults happen.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Quiet time before each fault (randomized between half and all of it).
    pub quiet: Duration,
    /// How long each fault is held.
    pub hold: Duration,
}

/// What must be done to undo an applied fault.
enum Undo {
    Restart(Vec<usize>),
    Resume(Vec<usize>),
    Heal,
    Nothing,
    /// Heal the network if `heal`, restart `restart`, then wait until the membership settled
    /// (and `member` is a member again).
    Settle {
        restart: Vec<usize>,
        heal: bool,
        member: Option<usize>,
    },
}

/// The meta group's id (`GroupPlan.group_id`).
const META_GROUP: u32 = u32::MAX;
/// Bound on each step of a membership fault before the change is made: a wiped node
/// reporting itself refused, a meta leader accepting the change.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on a membership change settling once its interruption is healed.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the schedule until `end`, then undoes the fault in progress and hands the cluster
/// back, with the anomalies it found. Faults that cannot be applied (no leader known, say) are
/// recorded and skipped, except membership changes: one that cannot be made, or does not
/// settle, is an anomaly.
pub async fn run(
    mut cluster: Cluster,
    faults: Vec<Fault>,
    schedule: Schedule,
    rec: Recorder,
    end: Instant,
    seed: u64,
) -> (Cluster, Vec<String>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut lost_disk = None;
    let mut anomalies = Vec::new();
    if faults.is_empty() {
        tokio::time::sleep_until(end).await;
        return (cluster, anomalies);
    }
    let mut round: Vec<Fault> = Vec::new();
    loop {
        let quiet = schedule.quiet.mul_f64(rng.gen_range(0.5..=1.0));
        if Instant::now() + quiet + schedule.hold > end {
            tokio::time::sleep_until(end).await;
            return (cluster, anomalies);
        }
        tokio::time::sleep(quiet).await;
        // Every enabled fault in turn, in a fresh random order each round, so that even a
        // short run exercises each of them.
        if round.is_empty() {
            round = next_round(&faults, &mut rng);
        }
        let fault = round.pop().expect("refilled above");
        let hold_until = Instant::now() + schedule.hold;
        let began = rec.now_ns();
        let applied = apply(&mut cluster, fault, &mut rng, &mut lost_disk, hold_until).await;
        let (undo, detail) = match applied {
            Ok(x) => x,
            Err(e) if fault.is_membership() => {
                rec.nemesis(fault.name(), "failed", format!("{e:#}"));
                eprintln!("nemesis: {} failed: {e:#}", fault.name());
                anomalies.push(format!("{} could not be made: {e:#}", fault.name()));
                // Whatever it had done so far (a node down, a partition) is undone.
                if let Err(e) = cluster.heal_all() {
                    anomalies.push(format!("healing after {} failed: {e:#}", fault.name()));
                }
                continue;
            }
            Err(e) => {
                rec.nemesis(fault.name(), "skipped", e.to_string());
                eprintln!("nemesis: {} skipped: {e}", fault.name());
                continue;
            }
        };
        if fault.is_membership() {
            // Making the change takes seconds (a node wiped and restarted, the change asked
            // for, waiting for a meta leader): its window starts when that began.
            rec.nemesis_at(began, fault.name(), "start", detail.clone());
        } else {
            rec.nemesis(fault.name(), "start", detail.clone());
        }
        eprintln!("nemesis: {} {detail}", fault.name());
        let mut actions = 0;
        // Repeated actions (transfers, snapshots) run throughout the hold.
        while Instant::now() < hold_until {
            match fault {
                Fault::TransferLeader => {
                    actions += transfer_one(&cluster, &mut rng).await as usize;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Fault::Snapshot => {
                    for i in 1..=cluster.nodes.len() {
                        actions += cluster.snapshot(i).await.is_ok() as usize;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                _ => tokio::time::sleep_until(hold_until).await,
            }
        }
        let healed = undo_fault(&mut cluster, undo).await;
        if let Err(e) = &healed {
            eprintln!("nemesis: {} heal failed: {e:#}", fault.name());
            if fault.is_membership() {
                anomalies.push(format!("{} ({detail}): {e:#}", fault.name()));
            }
        }
        let detail = match (&healed, actions) {
            (Err(e), _) => format!("heal failed: {e:#}"),
            (Ok(()), 0) => String::new(),
            (Ok(()), n) => format!("{n} actions"),
        };
        rec.nemesis(fault.name(), "stop", detail);
    }
}

/// One round: every enabled fault once, in a random order, except that membership changes come
/// first (`pop` takes from the back), so that even a run of a few faults makes them.
fn next_round(faults: &[Fault], rng: &mut StdRng) -> Vec<Fault> {
    let mut round = faults.to_vec();
    round.shuffle(rng);
    // Stable: the random order stays within each kind.
    round.sort_by_key(|f| f.is_membership());
    round
}

async fn undo_fault(cluster: &mut Cluster, undo: Undo) -> anyhow::Result<()> {
    match undo {
        Undo::Restart(ids) => {
            for i in ids {
                cluster.start_node(i)?;
            }
        }
        Undo::Resume(ids) => {
            for i in ids {
                cluster.resume(i);
            }
        }
        Undo::Heal => cluster.net().heal()?,
        Undo::Nothing => {}
        Undo::Settle {
            restart,
            heal,
            member,
        } => {
            if heal {
                cluster.net().heal()?;
            }
            for i in restart {
                cluster.start_node(i)?;
            }
            cluster.wait_settled(SETTLE_TIMEOUT, member).await?;
        }
    }
    Ok(())
}

async fn leader_or_random(cluster: &Cluster, rng: &mut StdRng) -> usize {
    match cluster.busiest_leader().await {
        Some(l) => l,
        None => rng.gen_range(1..=cluster.nodes.len()),
    }
}

fn ids(nodes: &[usize]) -> String {
    format!("nodes {nodes:?}")
}

/// Applies `fault`. `lost_disk` is the node whose directory `wipe` empties (chosen at the first
/// wipe, the same one after).
async fn apply(
    cluster: &mut Cluster,
    fault: Fault,
    rng: &mut StdRng,
    lost_disk: &mut Option<usize>,
    hold_until: Instant,
) -> anyhow::Result<(Undo, String)> {
    let n = cluster.nodes.len();
    let mut all: Vec<usize> = (1..=n).collect();
    let kill = |cluster: &mut Cluster, victims: Vec<usize>| {
        for &v in &victims {
            cluster.kill(v);
        }
        let d = ids(&victims);
        (Undo::Restart(victims), d)
    };
    Ok(match fault {
        Fault::KillRandom => {
            let v = rng.gen_range(1..=n);
            kill(cluster, vec![v])
        }
        Fault::KillLeader => {
            let v = leader_or_random(cluster, rng).await;
            kill(cluster, vec![v])
        }
        Fault::KillMajority => {
            all.shuffle(rng);
            all.truncate(n / 2 + 1);
            all.sort_unstable();
            kill(cluster, all)
        }
        Fault::KillAll => kill(cluster, all),
        Fault::PauseLeader => {
            let v = leader_or_random(cluster, rng).await;
            cluster.pause(v);
            (Undo::Resume(vec![v]), ids(&[v]))
        }
        Fault::PartitionHalves => {
            all.shuffle(rng);
            let (minority, majority) = all.split_at(n / 2);
            let cut = cross(minority, majority);
            cluster.net().partition(&cut)?;
            (Undo::Heal, format!("{minority:?} | {majority:?}"))
        }
        Fault::PartitionLeader => {
            let v = leader_or_random(cluster, rng).await;
            let others: Vec<usize> = all.iter().copied().filter(|&i| i != v).collect();
            cluster.net().partition(&cross(&[v], &others))?;
            (Undo::Heal, format!("[{v}] | {others:?}"))
        }
        Fault::PartitionRing => {
            all.shuffle(rng);
            let mut cut = BTreeSet::new();
            if n >= 4 {
                // Only ring neighbours stay connected.
                for a in 0..n {
                    for b in a + 1..n {
                        let d = b - a;
                        if d != 1 && d != n - 1 {
                            cut.insert(pair(all[a], all[b]));
                        }
                    }
                }
            } else if n == 3 {
                // all[0] bridges all[1] and all[2].
                cut.insert(pair(all[1], all[2]));
            }
            cluster.net().partition(&cut)?;
            (Undo::Heal, format!("ring {all:?}, cut {cut:?}"))
        }
        Fault::Wipe => {
            let w = *lost_disk.get_or_insert_with(|| rng.gen_range(1..=n));
            let mut others: Vec<usize> = all.iter().copied().filter(|&i| i != w).collect();
            others.shuffle(rng);
            // With `w` counted as a member, `w` plus `behind` would be a majority.
            let (behind, ahead) = others.split_at(n / 2);
            let (mut behind, mut ahead) = (behind.to_vec(), ahead.to_vec());
            behind.sort_unstable();
            ahead.sort_unstable();
            let stage = hold_until.saturating_duration_since(Instant::now()) / 3;
            for &i in &behind {
                cluster.kill(i);
            }
            tokio::time::sleep(stage).await;
            cluster.kill(w);
            cluster.wipe(w)?;
            cluster.start_node(w)?;
            for &i in &ahead {
                cluster.kill(i);
            }
            for &i in &behind {
                cluster.start_node(i)?;
            }
            let detail = format!("behind {behind:?}, wiped [{w}], then ahead {ahead:?} down");
            (Undo::Restart(ahead), detail)
        }
        Fault::Readmit => {
            let meta = newest_metadata(cluster).await?;
            let w = rng.gen_range(1..=n);
            let groups: Vec<u32> = meta
                .intended
                .iter()
                .filter(|(_, members)| members.contains(&(w as u64)))
                .map(|(&g, _)| g)
                .collect();
            cluster.kill(w);
            cluster.wipe(w)?;
            cluster.start_node(w)?;
            let incarnation = wait_refused(cluster, w).await?;
            let summary = request(cluster, rng, Change::Readmit(w)).await?;
            let target = match groups.choose(rng) {
                Some(&g) => g,
                None => *meta.intended.keys().next().expect("metadata has groups"),
            };
            let (restart, heal, what) = interrupt(cluster, rng, target).await?;
            let detail =
                format!("node {w} wiped, refused as {incarnation}, readmitted ({summary}); {what}");
            let undo = Undo::Settle {
                restart,
                heal,
                member: Some(w),
            };
            (undo, detail)
        }
        Fault::MoveReplica => {
            let meta = newest_metadata(cluster).await?;
            let (group, from, to) = pick_move(&meta, rng).ok_or_else(|| {
                anyhow::anyhow!(
                    "no group has an active node outside its members to move a replica to \
                     ({n} nodes; readmit and move-replica need more nodes than --replicas)"
                )
            })?;
            let summary = request(cluster, rng, Change::Move { group, from, to }).await?;
            let (restart, heal, what) = interrupt(cluster, rng, group).await?;
            let detail = format!(
                "{}: node {from} -> node {to} ({summary}); {what}",
                group_name(group)
            );
            let undo = Undo::Settle {
                restart,
                heal,
                member: None,
            };
            (undo, detail)
        }
        Fault::TransferLeader | Fault::Snapshot => (Undo::Nothing, String::new()),
    })
}

fn group_name(group: u32) -> String {
    if group == META_GROUP {
        "meta group".to_string()
    } else {
        format!("group {group}")
    }
}

/// The newest cluster metadata the nodes report (waiting for the first version at startup).
async fn newest_metadata(cluster: &Cluster) -> anyhow::Result<Metadata> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(m) = Metadata::newest(&cluster.statuses().await) {
            return Ok(m);
        }
        if Instant::now() > deadline {
            anyhow::bail!("no node reports cluster metadata within {STEP_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A replica to move: a random slot group (or, one time in four, the meta group) that has an
/// active node outside its members, a random member and a random such node.
fn pick_move(meta: &Metadata, rng: &mut StdRng) -> Option<(u32, usize, usize)> {
    let movable: Vec<u32> = meta
        .intended
        .keys()
        .copied()
        .filter(|&g| !meta.outsiders(g).is_empty() && !meta.intended[&g].is_empty())
        .collect();
    let slot: Vec<u32> = movable
        .iter()
        .copied()
        .filter(|&g| g != META_GROUP)
        .collect();
    let group = if movable.contains(&META_GROUP) && (slot.is_empty() || rng.gen_bool(0.25)) {
        META_GROUP
    } else {
        *slot.choose(rng)?
    };
    let from = *meta.intended[&group].choose(rng)?;
    let to = *meta.outsiders(group).choose(rng)?;
    Some((group, from as usize, to as usize))
}

/// Waits until node `w`, restarted with an empty directory, reports itself refused; answers
/// its new incarnation. Admitted on its own as a member would be a bug: an error.
async fn wait_refused(cluster: &Cluster, w: usize) -> anyhow::Result<String> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let last = match cluster.status(w).await {
            Ok(s) if s.standing.starts_with("refused:") => return Ok(s.incarnation),
            Ok(s) if s.standing == "member" => anyhow::bail!(
                "node {w} restarted with an empty data directory and reports itself a member \
                 (incarnation {}) before being readmitted",
                s.incarnation
            ),
            Ok(s) => s.standing,
            Err(e) => format!("{e:#}"),
        };
        if Instant::now() > deadline {
            anyhow::bail!(
                "node {w} not refused within {STEP_TIMEOUT:?} of restarting with an empty data \
                 directory (last: {last})"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A membership change to ask for.
enum Change {
    Readmit(usize),
    Move { group: u32, from: usize, to: usize },
}

/// Asks a random running node (never the one being readmitted) for `change`, again while
/// nothing decides it (no meta leader, a node unreachable, a commit timed out) for up to
/// [`STEP_TIMEOUT`]; a refusal is an error. Answers which node was asked and the reply.
async fn request(cluster: &Cluster, rng: &mut StdRng, change: Change) -> anyhow::Result<String> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    let mut retried = false;
    loop {
        let vias: Vec<usize> = cluster
            .nodes
            .iter()
            .filter(|n| n.running() && !matches!(change, Change::Readmit(w) if w == n.id))
            .map(|n| n.id)
            .collect();
        let via = *vias
            .choose(rng)
            .ok_or_else(|| anyhow::anyhow!("no running node to ask"))?;
        let reply = match change {
            Change::Readmit(w) => cluster.readmit(via, w).await,
            Change::Move { group, from, to } => cluster.move_replica(via, group, from, to).await,
        };
        let status = match reply {
            Ok(summary) => return Ok(format!("node {via}: {summary}")),
            Err(status) => status,
        };
        // An earlier attempt that timed out may have committed: readmitting that incarnation
        // again is refused as nothing to replace (a retried move is answered "nothing to do").
        if retried
            && matches!(change, Change::Readmit(_))
            && status.message().contains("nothing to replace")
        {
            return Ok(format!("node {via}: already done: {}", status.message()));
        }
        if matches!(
            status.code(),
            tonic::Code::FailedPrecondition | tonic::Code::InvalidArgument | tonic::Code::NotFound
        ) {
            anyhow::bail!("refused by node {via}: {}", status.message());
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "not accepted within {STEP_TIMEOUT:?}; last answer (node {via}): {:?}: {}",
                status.code(),
                status.message()
            );
        }
        retried = true;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Cuts into the membership change just asked for, three times in four, up to a second into
/// it: `kill -9` of `group`'s leader or of a random node, or (with partitions) `group`'s leader
/// cut off from all others. Answers the nodes to restart, whether to heal, and what was done.
async fn interrupt(
    cluster: &mut Cluster,
    rng: &mut StdRng,
    group: u32,
) -> anyhow::Result<(Vec<usize>, bool, String)> {
    let choice = rng.gen_range(0..4);
    if choice == 0 {
        return Ok((vec![], false, "not interrupted".to_string()));
    }
    tokio::time::sleep(Duration::from_millis(rng.gen_range(0..=1000))).await;
    let n = cluster.nodes.len();
    let leader = cluster::plan_leader(&cluster.statuses().await, group);
    let name = group_name(group);
    Ok(match (choice, leader) {
        (3, Some(l)) if cluster.net().can_partition() => {
            let others: Vec<usize> = (1..=n).filter(|&i| i != l).collect();
            cluster.net().partition(&cross(&[l], &others))?;
            (
                vec![],
                true,
                format!("then {name}'s leader cut off: [{l}] | {others:?}"),
            )
        }
        (1 | 3, Some(l)) => {
            cluster.kill(l);
            (vec![l], false, format!("then {name}'s leader {l} killed"))
        }
        _ => {
            let v = rng.gen_range(1..=n);
            cluster.kill(v);
            (vec![v], false, format!("then node {v} killed"))
        }
    })
}

fn pair(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

fn cross(a: &[usize], b: &[usize]) -> BTreeSet<(usize, usize)> {
    a.iter()
        .flat_map(|&x| b.iter().map(move |&y| pair(x, y)))
        .collect()
}

/// Hands one random group's leadership to a random other member; true if it was asked.
async fn transfer_one(cluster: &Cluster, rng: &mut StdRng) -> bool {
    let leaders: Vec<(u32, (usize, Vec<usize>))> = cluster.leaders().await.into_iter().collect();
    let Some((group, (leader, members))) = leaders.choose(rng) else {
        return false;
    };
    let others: Vec<usize> = members.iter().copied().filter(|m| m != leader).collect();
    let Some(&to) = others.choose(rng) else {
        return false;
    };
    cluster.transfer_leader(*leader, *group, to).await.is_ok()
}
