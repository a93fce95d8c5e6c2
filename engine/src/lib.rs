//! The Ergo node: shards, io_uring driver, mailboxes, actors, supervision and networking.
//!
//! Nothing is implemented here yet; the engine issue builds it.
#![deny(unsafe_op_in_unsafe_fn)]

pub use ergo_proto as proto;
