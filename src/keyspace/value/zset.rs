//! `ZSet`: a sorted set — members with scores, ordered by (score, member) as Redis orders them.
//!
//! Two indexes over the same members: a map member → score for `ZSCORE` and updates, and an
//! ordered set of (score, member) for ranges. Ranks are found by walking the ordered set
//! (O(rank)); Redis' skiplist does that in O(log n). Good enough for tier 1; a rank-indexed
//! tree is the upgrade if profiles ask for it.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A score with a total order (scores are never NaN: every writer checks).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score(pub f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZSet {
    scores: HashMap<Bytes, f64>,
    order: BTreeSet<(Score, Bytes)>,
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }

    /// Sets `member`'s score; returns the previous one.
    pub fn insert(&mut self, member: Bytes, score: f64) -> Option<f64> {
        // -0.0 and 0.0 are the same score to Redis; keep one spelling so the order is total.
        let score = if score == 0.0 { 0.0 } else { score };
        let old = self.scores.insert(member.clone(), score);
        if let Some(old) = old {
            self.order.remove(&(Score(old), member.clone()));
        }
        self.order.insert((Score(score), member));
        old
    }

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (member, score) = self.scores.remove_entry(member)?;
        self.order.remove(&(Score(score), member));
        Some(score)
    }

    /// Members in ascending (score, member) order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Bytes, f64)> + '_ {
        self.order.iter().map(|(s, m)| (m, s.0))
    }

    /// 0-based ascending rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(
            self.order
                .range(..(Score(score), Bytes::copy_from_slice(member)))
                .count(),
        )
    }

    /// Members whose score is at least `min` (inclusive) in ascending order.
    pub fn from_score(&self, min: f64) -> impl DoubleEndedIterator<Item = (&Bytes, f64)> + '_ {
        self.order
            .range((Score(min), Bytes::new())..)
            .map(|(s, m)| (m, s.0))
    }

    pub fn pop_first(&mut self) -> Option<(Bytes, f64)> {
        let (score, member) = self.order.pop_first()?;
        self.scores.remove(&member);
        Some((member, score.0))
    }

    pub fn pop_last(&mut self) -> Option<(Bytes, f64)> {
        let (score, member) = self.order.pop_last()?;
        self.scores.remove(&member);
        Some((member, score.0))
    }
}

// Snapshots store the members once, in order; the map is rebuilt on load.
impl Serialize for ZSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.order.iter().map(|(score, m)| (score.0, m)))
    }
}

impl<'de> Deserialize<'de> for ZSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let members: Vec<(f64, Bytes)> = Vec::deserialize(d)?;
        let mut z = ZSet::default();
        for (score, member) in members {
            z.insert(member, score);
        }
        Ok(z)
    }
}
