//! Sans-IO implementation of the Ergo network protocol (EHS handshake, ENP frames, ESRD registrar).
//!
//! This crate owns byte-level protocol state machines only: it never opens a socket, never reads a
//! clock and never spawns a thread. Its contents arrive with the network issue; for now it only
//! re-exports the codec it is built on.
#![deny(unsafe_op_in_unsafe_fn)]

pub use ergo_edf as edf;
