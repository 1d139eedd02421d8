//! Which node serves each hash slot, as a Redis Cluster client learns it: from `CLUSTER SLOTS`
//! (each range's first node is its master), corrected by `-MOVED slot host:port`.

use std::sync::Arc;

use crate::cluster::slot::SLOT_COUNT;
use crate::resp::Frame;

pub struct SlotMap {
    /// `owner[slot]`: the master's `host:port`.
    owner: Vec<Option<Arc<str>>>,
}

impl SlotMap {
    /// The map a `CLUSTER SLOTS` `reply` describes; `via` is the node that answered, whose host
    /// stands in for an empty or `?` host (as Redis allows). Every slot must have an owner.
    pub fn from_cluster_slots(reply: &Frame, via: &str) -> Result<SlotMap, String> {
        let Frame::Array(entries) = reply else {
            return Err(format!(
                "CLUSTER SLOTS from {via}: unexpected reply {reply:?}"
            ));
        };
        let via_host = via.rsplit_once(':').map(|(h, _)| h).unwrap_or(via);
        let mut owner: Vec<Option<Arc<str>>> = vec![None; usize::from(SLOT_COUNT)];
        for entry in entries {
            let Frame::Array(fields) = entry else {
                return Err(format!("CLUSTER SLOTS from {via}: entry is not an array"));
            };
            let (
                Some(Frame::Integer(start)),
                Some(Frame::Integer(end)),
                Some(Frame::Array(master)),
            ) = (fields.first(), fields.get(1), fields.get(2))
            else {
                return Err(format!(
                    "CLUSTER SLOTS from {via}: malformed entry {fields:?}"
                ));
            };
            let host = match master.first() {
                Some(Frame::Bulk(h)) => String::from_utf8_lossy(h).into_owned(),
                Some(Frame::Simple(h)) => h.clone(),
                _ => String::new(),
            };
            let host = if host.is_empty() || host == "?" {
                via_host.to_string()
            } else {
                host
            };
            let Some(Frame::Integer(port)) = master.get(1) else {
                return Err(format!("CLUSTER SLOTS from {via}: master without a port"));
            };
            if *start < 0 || *end >= i64::from(SLOT_COUNT) || start > end {
                return Err(format!("CLUSTER SLOTS from {via}: bad range {start}-{end}"));
            }
            let addr: Arc<str> = Arc::from(format!("{host}:{port}"));
            for slot in *start..=*end {
                owner[slot as usize] = Some(addr.clone());
            }
        }
        let missing = owner.iter().filter(|o| o.is_none()).count();
        if missing > 0 {
            return Err(format!(
                "CLUSTER SLOTS from {via}: {missing} slots have no owner"
            ));
        }
        Ok(SlotMap { owner })
    }

    /// The master of `slot`.
    pub fn owner(&self, slot: u16) -> Option<&Arc<str>> {
        self.owner.get(usize::from(slot)).and_then(Option::as_ref)
    }

    /// Records that `addr` serves `slot` (after `-MOVED`).
    pub fn set_owner(&mut self, slot: u16, addr: Arc<str>) {
        if let Some(o) = self.owner.get_mut(usize::from(slot)) {
            *o = Some(addr);
        }
    }

    /// Every master, each once, in slot order.
    pub fn addrs(&self) -> Vec<Arc<str>> {
        let mut seen: Vec<Arc<str>> = Vec::new();
        for a in self.owner.iter().flatten() {
            if !seen.iter().any(|s| s == a) {
                seen.push(a.clone());
            }
        }
        seen
    }
}

/// `MOVED <slot> <host:port>` (an error reply's text) as the slot and the address.
pub fn parse_moved(error: &str) -> Option<(u16, &str)> {
    let mut parts = error.split_whitespace();
    if parts.next()? != "MOVED" {
        return None;
    }
    let slot: u16 = parts.next()?.parse().ok()?;
    let addr = parts.next()?;
    (slot < SLOT_COUNT).then_some((slot, addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(host: &str, port: i64) -> Frame {
        Frame::Array(vec![Frame::bulk(host.to_string()), Frame::Integer(port)])
    }

    #[test]
    fn every_slot_gets_its_master_and_gaps_are_refused() {
        let reply = Frame::Array(vec![
            Frame::Array(vec![Frame::Integer(0), Frame::Integer(99), node("", 7001)]),
            Frame::Array(vec![
                Frame::Integer(100),
                Frame::Integer(16383),
                node("10.0.0.2", 7002),
            ]),
        ]);
        let mut map = SlotMap::from_cluster_slots(&reply, "127.0.0.1:7001").unwrap();
        assert_eq!(map.owner(5).map(|a| &**a), Some("127.0.0.1:7001"));
        assert_eq!(map.owner(16383).map(|a| &**a), Some("10.0.0.2:7002"));
        assert_eq!(map.addrs().len(), 2);
        map.set_owner(5, Arc::from("10.0.0.2:7002"));
        assert_eq!(map.owner(5).map(|a| &**a), Some("10.0.0.2:7002"));
        let gap = Frame::Array(vec![Frame::Array(vec![
            Frame::Integer(0),
            Frame::Integer(99),
            node("h", 1),
        ])]);
        let err = SlotMap::from_cluster_slots(&gap, "h:1").err().unwrap();
        assert!(err.contains("16284 slots have no owner"), "{err}");
    }

    #[test]
    fn moved_errors_name_a_slot_and_an_address() {
        assert_eq!(
            parse_moved("MOVED 12182 127.0.0.1:7002"),
            Some((12182, "127.0.0.1:7002"))
        );
        assert_eq!(parse_moved("MOVED 16384 h:1"), None);
        assert_eq!(parse_moved("ASK 1 h:1"), None);
        assert_eq!(parse_moved("MOVED x h:1"), None);
    }
}
