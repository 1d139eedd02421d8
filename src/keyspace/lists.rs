//! List commands (non-blocking): pushes and pops at both ends, ranges, `LPOS`, `LMOVE`,
//! `LMPOP`, `LINSERT`, `LREM`, `LTRIM`, `LSET`.

use std::collections::VecDeque;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::value::{Value, ValueType};
use super::{Keyspace, KeyspaceError};
use crate::reply::Reply;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum End {
    Left,
    Right,
}

/// `LINSERT … BEFORE|AFTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pivot {
    Before,
    After,
}

/// Redis' `LRANGE`/`LTRIM` index normalisation: the inclusive range `[start, stop]` of a list
/// of `len` elements, or `None` when it is empty.
fn normalize_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        len + stop
    } else {
        stop.min(len - 1)
    };
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, stop as usize))
}

fn pop(list: &mut VecDeque<Bytes>, end: End) -> Option<Bytes> {
    match end {
        End::Left => list.pop_front(),
        End::Right => list.pop_back(),
    }
}

fn push(list: &mut VecDeque<Bytes>, end: End, value: Bytes) {
    match end {
        End::Left => list.push_front(value),
        End::Right => list.push_back(value),
    }
}

impl Keyspace {
    fn list(&self, now: u64, key: &[u8]) -> Result<Option<&VecDeque<Bytes>>, KeyspaceError> {
        Ok(self.typed(now, key, ValueType::List)?.map(Value::as_list))
    }

    fn list_mut(
        &mut self,
        now: u64,
        key: &[u8],
    ) -> Result<Option<&mut VecDeque<Bytes>>, KeyspaceError> {
        Ok(self
            .typed_mut(now, key, ValueType::List)?
            .map(Value::as_list_mut))
    }

    pub(crate) fn apply_push(
        &mut self,
        now: u64,
        key: &Bytes,
        values: &[Bytes],
        end: End,
        only_if_exists: bool,
    ) -> Result<Reply, KeyspaceError> {
        if only_if_exists && self.list(now, key)?.is_none() {
            return Ok(Reply::Integer(0));
        }
        let list = self
            .typed_or_insert(now, key, ValueType::List, Value::empty_list)?
            .as_list_mut();
        for v in values {
            push(list, end, Bytes::copy_from_slice(v));
        }
        Ok(Reply::Integer(list.len() as i64))
    }

    pub(crate) fn apply_pop(
        &mut self,
        now: u64,
        key: &Bytes,
        end: End,
        count: Option<usize>,
    ) -> Result<Reply, KeyspaceError> {
        let Some(list) = self.list_mut(now, key)? else {
            // No key: nil, or a nil array when a count was given (RESP2 `*-1`).
            return Ok(if count.is_some() {
                Reply::NullArray
            } else {
                Reply::Nil
            });
        };
        let reply = match count {
            None => Reply::from_option(pop(list, end)),
            Some(n) => Reply::Array(
                (0..n)
                    .map_while(|_| pop(list, end))
                    .map(Reply::Bulk)
                    .collect(),
            ),
        };
        self.drop_if_empty(key);
        Ok(reply)
    }

    pub(crate) fn apply_lset(
        &mut self,
        now: u64,
        key: &Bytes,
        index: i64,
        value: &Bytes,
    ) -> Result<Reply, KeyspaceError> {
        let list = self.list_mut(now, key)?.ok_or(KeyspaceError::NoSuchKey)?;
        let len = list.len() as i64;
        let i = if index < 0 { len + index } else { index };
        if i < 0 || i >= len {
            return Err(KeyspaceError::IndexOutOfRange);
        }
        list[i as usize] = Bytes::copy_from_slice(value);
        Ok(Reply::Ok)
    }

    pub(crate) fn apply_linsert(
        &mut self,
        now: u64,
        key: &Bytes,
        pivot: Pivot,
        pivot_value: &Bytes,
        value: &Bytes,
    ) -> Result<Reply, KeyspaceError> {
        let Some(position) = self
            .list(now, key)?
            .map(|l| l.iter().position(|e| e == pivot_value))
        else {
            return Ok(Reply::Integer(0));
        };
        let Some(position) = position else {
            return Ok(Reply::Integer(-1));
        };
        let list = self.list_mut(now, key)?.expect("checked above");
        let at = match pivot {
            Pivot::Before => position,
            Pivot::After => position + 1,
        };
        list.insert(at, Bytes::copy_from_slice(value));
        Ok(Reply::Integer(list.len() as i64))
    }

    pub(crate) fn apply_lrem(
        &mut self,
        now: u64,
        key: &Bytes,
        count: i64,
        value: &Bytes,
    ) -> Result<Reply, KeyspaceError> {
        let Some(list) = self.list_mut(now, key)? else {
            return Ok(Reply::Integer(0));
        };
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let mut removed = 0;
        if count >= 0 {
            let mut i = 0;
            while i < list.len() && removed < limit {
                if list[i] == value {
                    list.remove(i);
                    removed += 1;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = list.len();
            while i > 0 && removed < limit {
                i -= 1;
                if list[i] == value {
                    list.remove(i);
                    removed += 1;
                }
            }
        }
        self.drop_if_empty(key);
        Ok(Reply::Integer(removed as i64))
    }

    pub(crate) fn apply_ltrim(
        &mut self,
        now: u64,
        key: &Bytes,
        start: i64,
        stop: i64,
    ) -> Result<Reply, KeyspaceError> {
        let Some(list) = self.list_mut(now, key)? else {
            return Ok(Reply::Ok);
        };
        match normalize_range(start, stop, list.len()) {
            None => list.clear(),
            Some((from, to)) => {
                list.truncate(to + 1);
                list.drain(..from);
            }
        }
        self.drop_if_empty(key);
        Ok(Reply::Ok)
    }

    pub(crate) fn apply_lmove(
        &mut self,
        now: u64,
        src: &Bytes,
        dst: &Bytes,
        from: End,
        to: End,
    ) -> Result<Reply, KeyspaceError> {
        if self.list(now, src)?.is_none() {
            return Ok(Reply::Nil);
        }
        // The destination's type is checked before anything moves, as in Redis.
        self.list(now, dst)?;
        let value = pop(self.list_mut(now, src)?.expect("checked"), from).expect("non-empty");
        self.drop_if_empty(src);
        let list = self
            .typed_or_insert(now, dst, ValueType::List, Value::empty_list)?
            .as_list_mut();
        push(list, to, value.clone());
        Ok(Reply::Bulk(value))
    }

    pub(crate) fn apply_lmpop(
        &mut self,
        now: u64,
        keys: &[Bytes],
        end: End,
        count: usize,
    ) -> Result<Reply, KeyspaceError> {
        for key in keys {
            if self.list(now, key)?.is_some() {
                let popped = self.apply_pop(now, key, end, Some(count))?;
                return Ok(Reply::Array(vec![Reply::Bulk(key.clone()), popped]));
            }
        }
        Ok(Reply::NullArray)
    }

    // ---- reads ----

    pub(crate) fn read_lrange(
        &self,
        now: u64,
        key: &[u8],
        start: i64,
        stop: i64,
    ) -> Result<Reply, KeyspaceError> {
        let Some(list) = self.list(now, key)? else {
            return Ok(Reply::Array(vec![]));
        };
        Ok(Reply::Array(
            match normalize_range(start, stop, list.len()) {
                None => vec![],
                Some((from, to)) => list
                    .range(from..=to)
                    .map(|e| Reply::Bulk(e.clone()))
                    .collect(),
            },
        ))
    }

    pub(crate) fn read_lindex(
        &self,
        now: u64,
        key: &[u8],
        index: i64,
    ) -> Result<Reply, KeyspaceError> {
        let Some(list) = self.list(now, key)? else {
            return Ok(Reply::Nil);
        };
        let len = list.len() as i64;
        let i = if index < 0 { len + index } else { index };
        Ok(if i < 0 || i >= len {
            Reply::Nil
        } else {
            Reply::Bulk(list[i as usize].clone())
        })
    }

    pub(crate) fn read_llen(&self, now: u64, key: &[u8]) -> Result<Reply, KeyspaceError> {
        Ok(Reply::Integer(
            self.list(now, key)?.map_or(0, |l| l.len()) as i64
        ))
    }

    /// `LPOS key element [RANK r] [COUNT n] [MAXLEN m]`; `count` `None` means no COUNT (a
    /// single position or nil), `Some(0)` means all matches; `maxlen` 0 means no limit.
    pub(crate) fn read_lpos(
        &self,
        now: u64,
        key: &[u8],
        element: &[u8],
        rank: i64,
        count: Option<usize>,
        maxlen: usize,
    ) -> Result<Reply, KeyspaceError> {
        let list = self.list(now, key)?;
        let len = list.map_or(0, |l| l.len());
        let limit = if maxlen == 0 { len } else { maxlen.min(len) };
        let wanted = match count {
            None => 1,
            Some(0) => usize::MAX,
            Some(n) => n,
        };
        let mut skip = rank.unsigned_abs() as usize - 1;
        let mut found = Vec::new();
        if let Some(list) = list {
            let positions: Box<dyn Iterator<Item = usize>> = if rank > 0 {
                Box::new(0..limit)
            } else {
                Box::new((len - limit..len).rev())
            };
            for i in positions {
                if list[i] == element {
                    if skip > 0 {
                        skip -= 1;
                        continue;
                    }
                    found.push(Reply::Integer(i as i64));
                    if found.len() >= wanted {
                        break;
                    }
                }
            }
        }
        Ok(match count {
            None => found.pop().unwrap_or(Reply::Nil),
            Some(_) => Reply::Array(found),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_range;

    #[test]
    fn ranges_follow_redis() {
        assert_eq!(normalize_range(0, -1, 3), Some((0, 2)));
        assert_eq!(normalize_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(normalize_range(2, 1, 3), None);
        assert_eq!(normalize_range(5, 10, 3), None);
        assert_eq!(normalize_range(-2, -1, 3), Some((1, 2)));
        assert_eq!(normalize_range(0, -4, 3), None);
    }
}
