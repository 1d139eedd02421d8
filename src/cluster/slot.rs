//! Key → hash slot, exactly as Redis Cluster computes it (`keyHashSlot` in Redis' `cluster.c`).
//!
//! Owns the slot arithmetic only: which group owns a slot, and where that group's leader is,
//! belong to the cluster metadata. Cluster clients compute the same function on their side to
//! pick a node, so any difference here would send every such client to the wrong node.

/// Number of hash slots in a Redis Cluster keyspace. Fixed by the protocol: clients assume it.
pub const SLOT_COUNT: u16 = 16384;

/// The hash slot of `key`: CRC16/XMODEM of the key, or of its hash tag, modulo 16384.
///
/// The hash tag is the part between the first `{` and the first `}` after it, when that part
/// is not empty; it lets applications force related keys (`{user1000}.following`,
/// `{user1000}.followers`) into one slot so that multi-key commands can work on them. An empty
/// tag (`foo{}{bar}`) means "no tag", and the whole key is hashed, as Redis does.
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = hash_tag(key).unwrap_or(key);
    // 16384 is a power of two, so the mask is the modulo Redis uses (`& 0x3FFF`).
    crc16::State::<crc16::XMODEM>::calculate(hashed) & (SLOT_COUNT - 1)
}

/// The non-empty `{tag}` content of `key`, if it has one.
fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&b| b == b'{')?;
    let rest = &key[open + 1..];
    let close = rest.iter().position(|&b| b == b'}')?;
    if close == 0 {
        None
    } else {
        Some(&rest[..close])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_reference_vectors() {
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"somekey"), 11058);
        assert_eq!(key_slot(b"foo{hash_tag}"), 2515);
    }

    #[test]
    fn keys_sharing_a_hash_tag_share_a_slot() {
        assert_eq!(
            key_slot(b"{user1000}.following"),
            key_slot(b"{user1000}.followers")
        );
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
    }

    #[test]
    fn empty_tag_hashes_the_whole_key() {
        let whole = crc16::State::<crc16::XMODEM>::calculate(b"foo{}{bar}") & 0x3FFF;
        assert_eq!(key_slot(b"foo{}{bar}"), whole);
    }

    #[test]
    fn tag_ends_at_the_first_closing_brace_after_the_first_opening_one() {
        assert_eq!(key_slot(b"foo{{bar}}"), key_slot(b"{bar"));
        assert_eq!(
            key_slot(b"foo{{bar}}"),
            crc16::State::<crc16::XMODEM>::calculate(b"{bar") & 0x3FFF
        );
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
    }

    #[test]
    fn unclosed_brace_hashes_the_whole_key() {
        let whole = crc16::State::<crc16::XMODEM>::calculate(b"foo{bar") & 0x3FFF;
        assert_eq!(key_slot(b"foo{bar"), whole);
        assert_eq!(
            key_slot(b"foo}bar{"),
            crc16::State::<crc16::XMODEM>::calculate(b"foo}bar{") & 0x3FFF
        );
    }

    #[test]
    fn every_slot_is_in_range() {
        assert_eq!(key_slot(b""), 0);
        for i in 0..2000u32 {
            assert!(key_slot(&i.to_le_bytes()) < SLOT_COUNT);
        }
    }
}
