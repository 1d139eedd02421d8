//! Rust types generated from `proto/*.proto` by `build.rs`.

pub mod raft {
    tonic::include_proto!("slotraft.raft");
}

pub mod admin {
    tonic::include_proto!("slotraft.admin");
}
