//! # ergo-proto: the Ergo network protocol, sans-IO
//!
//! Byte-level protocol of Go Ergo 3.x (wire-spec §4–§7): the EHS handshake ([`handshake`]), ENP
//! frames ([`frame`]) and their compression ([`compression`]), the registrar packets
//! ([`registrar`]), and the framework types that travel in them ([`gen`], [`control`]).
//!
//! This crate never opens a socket, reads a clock or spawns a thread: bytes and messages in,
//! bytes and messages out. Randomness (salts, connection IDs) is passed in. That is what lets
//! the tests replay transcripts of real Go nodes byte for byte and run a dialer against an
//! acceptor in memory.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub use ergo_edf as edf;

pub mod compression;
pub mod connection;
pub mod control;
pub mod frame;
pub mod gen;
pub mod handshake;
pub mod registrar;

/// Registers every framework type (gen, handshake, control messages, registrar), nested types
/// first. Idempotent; call it once at start (a node does).
pub fn register_framework_types() -> Result<(), ergo_edf::RegisterError> {
    gen::register_gen_types()?;
    handshake::register_handshake_types()?;
    control::register_control_types()?;
    registrar::register_registrar_types()?;
    Ok(())
}
