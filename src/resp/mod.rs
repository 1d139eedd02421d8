//! placeholder until the leaf module lands
#[derive(Debug, Clone, PartialEq)]
pub enum Frame { Simple(String), Error(String), Integer(i64), Bulk(bytes::Bytes), Null, Array(Vec<Frame>) }
#[derive(Debug, Clone)]
pub struct Limits { pub max_bulk_len: usize, pub max_array_len: usize, pub max_inline_len: usize }
impl Default for Limits { fn default() -> Self { Self { max_bulk_len: 512 << 20, max_array_len: 1 << 20, max_inline_len: 64 << 10 } } }
