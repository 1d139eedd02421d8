//! The nemesis: injects faults on a schedule while the clients run, and heals them.
//!
//! Each cycle waits a quiet period, takes the next of the enabled faults (each in turn, in a
//! random order per round), applies it, holds it, and undoes it; every start and stop goes into
//! the history (for the per-fault availability figures). Faults:
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
//! | `wipe` | the interleaving in which a node that lost its disk would lose writes if it were counted as its old self: a minority `L` (one of three, two of five) is killed and falls behind; then node `W` is killed, its data directory emptied and restarted (always the same `W`: the cluster has lost one disk, which it must tolerate); then the nodes that hold the newest writes are killed and `L` restarted, so that `W` and `L` would be a quorum. `W` must be refused: the groups stay unavailable and nothing is lost | restart the killed nodes |
//!
//! Partitions cut node-to-node traffic only; clients keep reaching every node.

use std::collections::BTreeSet;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::time::Instant;

use super::cluster::Cluster;
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
        }
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
}

/// Runs the schedule until `end`, then undoes the fault in progress and hands the cluster
/// back. Faults that cannot be applied (no leader known, say) are recorded and skipped.
pub async fn run(
    mut cluster: Cluster,
    faults: Vec<Fault>,
    schedule: Schedule,
    rec: Recorder,
    end: Instant,
    seed: u64,
) -> Cluster {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut lost_disk = None;
    if faults.is_empty() {
        tokio::time::sleep_until(end).await;
        return cluster;
    }
    let mut round: Vec<Fault> = Vec::new();
    loop {
        let quiet = schedule.quiet.mul_f64(rng.gen_range(0.5..=1.0));
        if Instant::now() + quiet + schedule.hold > end {
            tokio::time::sleep_until(end).await;
            return cluster;
        }
        tokio::time::sleep(quiet).await;
        // Every enabled fault in turn, in a fresh random order each round, so that even a
        // short run exercises each of them.
        if round.is_empty() {
            round = faults.clone();
            round.shuffle(&mut rng);
        }
        let fault = round.pop().expect("refilled above");
        let hold_until = Instant::now() + schedule.hold;
        let applied = apply(&mut cluster, fault, &mut rng, &mut lost_disk, hold_until).await;
        let (undo, detail) = match applied {
            Ok(x) => x,
            Err(e) => {
                rec.nemesis(fault.name(), "skipped", e.to_string());
                eprintln!("nemesis: {} skipped: {e}", fault.name());
                continue;
            }
        };
        rec.nemesis(fault.name(), "start", detail.clone());
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
        let healed = undo_fault(&mut cluster, undo);
        let detail = match (&healed, actions) {
            (Err(e), _) => format!("heal failed: {e}"),
            (Ok(()), 0) => String::new(),
            (Ok(()), n) => format!("{n} actions"),
        };
        rec.nemesis(fault.name(), "stop", detail);
    }
}

fn undo_fault(cluster: &mut Cluster, undo: Undo) -> anyhow::Result<()> {
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
        Fault::TransferLeader | Fault::Snapshot => (Undo::Nothing, String::new()),
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
