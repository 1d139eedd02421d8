//! The one binary encoding used for Raft data at rest (sled, snapshots) and on the wire
//! (inside the protobuf envelopes): bincode over serde.

use std::io;

use serde::de::DeserializeOwned;
use serde::Serialize;

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

pub fn encode<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, config()).map_err(io::Error::other)
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> io::Result<T> {
    let (value, _) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(value)
}

/// Encodes `value` into `writer` as it goes (no buffer of the whole encoding).
pub fn encode_into<T: Serialize>(value: &T, writer: &mut impl io::Write) -> io::Result<()> {
    bincode::serde::encode_into_std_write(value, writer, config())
        .map(|_| ())
        .map_err(io::Error::other)
}

/// Decodes one value from `reader`, reading no more than it needs.
pub fn decode_from<T: DeserializeOwned>(reader: &mut impl io::Read) -> io::Result<T> {
    bincode::serde::decode_from_std_read(reader, config())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
