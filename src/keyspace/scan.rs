//! The `SCAN` cursor scheme: keys are ordered by a fixed 64-bit hash (xxh3) of the key, and a
//! cursor is a position in that order. A cursor stays meaningful while keys are added and
//! removed — every key present for the whole iteration is returned at least once, as Redis
//! guarantees — and means the same on every replica, so a scan can continue on the new leader.

use std::cmp::Ordering;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::value::ValueType;

/// Options of `SCAN` / `HSCAN` / `SSCAN` / `ZSCAN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanArgs {
    pub cursor: u64,
    /// `MATCH pattern`.
    pub pattern: Option<Bytes>,
    /// `COUNT n`: how many entries to visit (a hint, as in Redis).
    pub count: usize,
    /// `TYPE name` (`SCAN` only).
    pub kind: Option<ValueType>,
}

pub fn key_hash(key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key)
}

/// A key with its hash, ordered by (hash, key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanKey {
    pub hash: u64,
    pub key: Bytes,
}

impl ScanKey {
    pub fn new(key: Bytes) -> Self {
        Self {
            hash: key_hash(&key),
            key,
        }
    }

    /// The smallest `ScanKey` with `key`'s hash: where a look-up for `key` starts.
    pub fn lower_bound(key: &[u8]) -> Self {
        Self {
            hash: key_hash(key),
            key: Bytes::new(),
        }
    }

    /// The smallest `ScanKey` at cursor position `hash`.
    pub fn at(hash: u64) -> Self {
        Self {
            hash,
            key: Bytes::new(),
        }
    }
}

impl PartialOrd for ScanKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ScanKey {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.hash, &self.key).cmp(&(other.hash, &other.key))
    }
}

impl Serialize for ScanKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.key.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ScanKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ScanKey::new(Bytes::deserialize(d)?))
    }
}

/// Redis' glob matching (`stringmatchlen`): `*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes.
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    fn inner(p: &[u8], t: &[u8], depth: usize) -> bool {
        if depth > 1000 {
            return false;
        }
        let (mut pi, mut ti) = (0, 0);
        while pi < p.len() {
            match p[pi] {
                b'*' => {
                    while pi + 1 < p.len() && p[pi + 1] == b'*' {
                        pi += 1;
                    }
                    if pi + 1 == p.len() {
                        return true;
                    }
                    for start in ti..=t.len() {
                        if inner(&p[pi + 1..], &t[start..], depth + 1) {
                            return true;
                        }
                    }
                    return false;
                }
                b'?' => {
                    if ti >= t.len() {
                        return false;
                    }
                    ti += 1;
                }
                b'[' => {
                    if ti >= t.len() {
                        return false;
                    }
                    pi += 1;
                    let negate = pi < p.len() && p[pi] == b'^';
                    if negate {
                        pi += 1;
                    }
                    let mut matched = false;
                    loop {
                        if pi >= p.len() {
                            // Unterminated class: Redis treats the end as closing it.
                            pi -= 1;
                            break;
                        }
                        if p[pi] == b'\\' && pi + 1 < p.len() {
                            pi += 1;
                            matched |= p[pi] == t[ti];
                        } else if p[pi] == b']' {
                            break;
                        } else if pi + 2 < p.len() && p[pi + 1] == b'-' {
                            let (mut lo, mut hi) = (p[pi], p[pi + 2]);
                            if lo > hi {
                                std::mem::swap(&mut lo, &mut hi);
                            }
                            pi += 2;
                            matched |= t[ti] >= lo && t[ti] <= hi;
                        } else {
                            matched |= p[pi] == t[ti];
                        }
                        pi += 1;
                    }
                    if matched == negate {
                        return false;
                    }
                    ti += 1;
                }
                b'\\' if pi + 1 < p.len() => {
                    pi += 1;
                    if ti >= t.len() || p[pi] != t[ti] {
                        return false;
                    }
                    ti += 1;
                }
                c => {
                    if ti >= t.len() || c != t[ti] {
                        return false;
                    }
                    ti += 1;
                }
            }
            pi += 1;
        }
        ti == t.len()
    }
    inner(pattern, text, 0)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn glob_matches_like_redis() {
        assert!(glob_match(b"*", b"anything"));
        assert!(glob_match(b"user:*", b"user:1"));
        assert!(!glob_match(b"user:*", b"use"));
        assert!(glob_match(b"h?llo", b"hello"));
        assert!(glob_match(b"h[ae]llo", b"hallo"));
        assert!(!glob_match(b"h[^e]llo", b"hello"));
        assert!(glob_match(b"h[a-b]llo", b"hbllo"));
        assert!(glob_match(b"h\\*llo", b"h*llo"));
        assert!(!glob_match(b"h\\*llo", b"hello"));
        assert!(glob_match(b"*a*b*", b"xxaxxbxx"));
        assert!(!glob_match(b"a", b"ab"));
    }
}
